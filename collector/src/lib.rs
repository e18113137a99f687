//! The palaute collector: ingests beacons durably, stores page views (SQLite
//! embedded, or ClickHouse with a local spool), and serves the client, the
//! analyst API, the dashboard and the demo pages.
//!
//! # Layout
//!
//! - [`cli`]: command-line parsing, one function per command, [`cli::CliError`].
//! - [`config`]: the one `Config` (flags > `PALAUTE_*` > TOML file > defaults).
//! - [`app`]: shared state and the router.
//! - [`serve`]: the HTTP server: timeouts, the connection cap, a bounded shutdown.
//! - [`workers`]: the background work, owned and stopped at shutdown.
//! - [`ingest`]: `POST /b`: decode, validate, classify the user agent, store;
//!   the rate limit and `GET /s/{site}`.
//! - [`api`]: `/api/v1`: bearer auth, periods and filters, the raw export,
//!   the aggregates, feedback, the OpenAPI document.
//! - [`grouping`]: the grouping vocabulary: selections, filters, dimensions.
//! - [`rollup`]: hourly and daily rollups and the query planner over them.
//! - [`stats`]: the mergeable statistics every aggregate is read off.
//! - [`compare`]: B against A, measure by measure: intervals and verdicts.
//! - [`release`]: deploy markers and which page views a release is.
//! - [`alert`]: feedback and outage alerts, their durable delivery.
//! - [`assets`]: the client files, the dashboard and demo pages.
//! - [`store`]: the `Store` trait, the embedded SQLite store, ClickHouse.
//! - [`model`]: the stored / exported page view, declared once.
//! - [`routes`]: every page view's route: declared patterns, derived and learned ones.
//! - [`report`]: the terminal report.
//! - [`generate`]: synthetic page views for demos and benchmarks.
//! - [`transfer`]: export to and import from NDJSON.
//! - [`metrics`]: Prometheus metrics for `/metrics`.
//! - [`sites`]: analyst tokens and the cached site list.
//! - [`error`]: `AppError` and its HTTP answers.
#![deny(missing_docs)]

pub mod alert;
pub mod api;
pub mod app;
pub mod assets;
pub mod cli;
pub mod compare;
pub mod config;
pub mod error;
pub mod generate;
pub mod grouping;
pub mod ingest;
pub mod metrics;
pub mod model;
pub mod release;
pub mod report;
pub mod rollup;
pub mod routes;
pub mod serve;
pub mod sites;
pub mod stats;
pub mod store;
pub mod transfer;
pub mod workers;

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;

use config::{Config, StoreKind};
use error::Result;
use metrics::Metrics;
use store::clickhouse::{ClickhouseOptions, ClickhouseStore};
use store::sqlite::{SqliteOptions, SqliteStore};
use store::Store;

/// Opens the configured store; it reports commit latency to `metrics`.
pub async fn open_store(config: &Config, metrics: &Metrics) -> Result<Arc<dyn Store>> {
    let options = SqliteOptions {
        queue_capacity: config.ingest_queue,
        max_batch: config.ingest_batch,
        commit_seconds: Some(metrics.commit_seconds.clone()),
        max_bytes: (config.max_store_mb > 0).then(|| config.max_store_mb * 1024 * 1024),
    };
    Ok(match config.store {
        StoreKind::Sqlite => Arc::new(SqliteStore::open(&config.data, options)?),
        StoreKind::Clickhouse => {
            let clickhouse =
                ClickhouseOptions { url: config.clickhouse_url.clone(), database: config.clickhouse_database.clone() };
            Arc::new(ClickhouseStore::open(&clickhouse, &config.data, options).await?)
        }
    })
}

/// Serves the collector on `listener` until `shutdown` completes, then
/// finishes the requests in flight (every acknowledged beacon is durable).
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let metrics = Arc::new(Metrics::new());
    let store = open_store(&config, &metrics).await?;
    let mut workers = workers::Workers::new();
    if config.rollup_interval_ms > 0 {
        let every = std::time::Duration::from_millis(config.rollup_interval_ms);
        let gap = std::time::Duration::from_millis(config.rollup_rebuild_gap_ms);
        rollup::build::spawn(&mut workers, store.clone(), every, gap, metrics.clone());
    }
    let bounds = serve::Bounds::of(&config);
    let grace = bounds.shutdown_grace;
    let state = app::AppState::new(config, store.clone(), metrics.clone(), &mut workers)?;
    // Ingest drains first; then the workers stop between two rounds of
    // their work, and the store last (the ClickHouse shipper).
    serve::serve(listener, app::app(state), bounds, metrics, shutdown).await;
    workers.stop(grace).await;
    store.close().await;
    Ok(())
}
