//! Prometheus metrics, served at `GET /metrics`: ingest answers by outcome,
//! the ingest queue's depth, commit latency and the store's size on disk.
//! Counts only: nothing about visitors or sites' data.

use prometheus::{Encoder, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry, TextEncoder};

/// The collector's metrics and the registry that exports them.
pub struct Metrics {
    registry: Registry,
    /// `POST /b` answers by outcome (`stored`, `invalid`, `too_large`, ...).
    pub ingest: IntCounterVec,
    /// Beacons waiting to be committed.
    pub queue_depth: IntGauge,
    /// Duration of each group commit, seconds.
    pub commit_seconds: Histogram,
    /// Bytes the store takes on disk, where known.
    pub store_bytes: IntGauge,
    /// Hours that aggregate queries read from rollups.
    pub query_rollup_hours: IntCounter,
    /// Raw page-view rows that aggregate queries folded.
    pub query_raw_rows: IntCounter,
    /// Rolled-up days and hours a query for one value could not take whole,
    /// because the value may be among their folded other values (a day is
    /// then read from its hours, an hour from raw rows).
    pub query_partial_spans: IntCounter,
    /// Hours the background rollup built (again, for a changed hour).
    pub rollup_hours_built: IntCounter,
    /// Alerts by kind and outcome (`noticed`, `dropped`, `queued`,
    /// `delivered`, `failed`).
    pub alerts: IntCounterVec,
    /// Connections and requests the server cut short, by why:
    /// `refused_at_cap`, `evicted_at_cap` (idle, to make room),
    /// `header_timeout` (also a connection idle, of either protocol, or
    /// silent), `send_timeout` (a response the client took nothing of),
    /// `body_timeout`, `shutdown`.
    pub connections_closed: IntCounterVec,
    /// Analyst API requests answered 503 past `max_api_requests`.
    pub api_busy: IntCounter,
    /// Exports that failed after their answer began (their body aborted).
    pub exports_failed: IntCounter,
}

impl Metrics {
    /// Creates and registers every metric.
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let ingest = IntCounterVec::new(Opts::new("palaute_ingest_total", "POST /b answers by outcome"), &["outcome"])
            .expect("valid metric definition");
        let queue_depth =
            IntGauge::new("palaute_ingest_queue_depth", "beacons waiting to be committed").expect("valid metric");
        let commit_seconds = Histogram::with_opts(
            HistogramOpts::new("palaute_commit_seconds", "duration of one group commit")
                .buckets(vec![0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0]),
        )
        .expect("valid metric");
        let store_bytes = IntGauge::new("palaute_store_bytes", "bytes the store takes on disk").expect("valid metric");
        let query_rollup_hours =
            IntCounter::new("palaute_query_rollup_hours_total", "hours aggregate queries read from rollups")
                .expect("valid metric");
        let query_raw_rows = IntCounter::new("palaute_query_raw_rows_total", "raw page views aggregate queries folded")
            .expect("valid metric");
        let query_partial_spans = IntCounter::new(
            "palaute_query_partial_spans_total",
            "rolled-up days and hours not taken whole because the value asked for may be among their other values",
        )
        .expect("valid metric");
        let rollup_hours_built =
            IntCounter::new("palaute_rollup_hours_built_total", "hours the background rollup built")
                .expect("valid metric");
        let alerts =
            IntCounterVec::new(Opts::new("palaute_alerts_total", "alerts by kind and outcome"), &["kind", "outcome"])
                .expect("valid metric definition");
        let connections_closed = IntCounterVec::new(
            Opts::new("palaute_connections_closed_total", "connections and requests cut short, by reason"),
            &["reason"],
        )
        .expect("valid metric definition");
        let api_busy =
            IntCounter::new("palaute_api_busy_total", "analyst API requests answered 503 past max_api_requests")
                .expect("valid metric");
        let exports_failed =
            IntCounter::new("palaute_exports_failed_total", "exports that failed after their answer began, aborted")
                .expect("valid metric");
        // Registering distinct names in a fresh registry cannot fail.
        for collector in [
            Box::new(ingest.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(queue_depth.clone()),
            Box::new(commit_seconds.clone()),
            Box::new(store_bytes.clone()),
            Box::new(query_rollup_hours.clone()),
            Box::new(query_raw_rows.clone()),
            Box::new(query_partial_spans.clone()),
            Box::new(rollup_hours_built.clone()),
            Box::new(alerts.clone()),
            Box::new(connections_closed.clone()),
            Box::new(api_busy.clone()),
            Box::new(exports_failed.clone()),
        ] {
            registry.register(collector).expect("distinct metric names");
        }
        Metrics {
            registry,
            ingest,
            queue_depth,
            commit_seconds,
            store_bytes,
            query_rollup_hours,
            query_raw_rows,
            query_partial_spans,
            rollup_hours_built,
            alerts,
            connections_closed,
            api_busy,
            exports_failed,
        }
    }

    /// The metrics in Prometheus' text format.
    pub fn render(&self) -> String {
        let mut text = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut text);
        String::from_utf8(text).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
