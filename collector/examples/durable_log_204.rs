//! The ingest benchmark's durability baseline: the least a collector that
//! acknowledges only durable beacons must do for each one, and nothing else.
//! `POST /b` decodes and validates the body as the collector does
//! (`validate::decode_batch`, `validate::to_snapshot`, user-agent classes),
//! appends each snapshot as a JSON line to one log file, and answers 204 once
//! an `fdatasync` covers it. The writer thread commits in groups, as the
//! collector's SQLite writer does: one sync for every beacon queued while the
//! previous one ran. No database, no index, no site or origin check, no rate
//! limiter, no metrics, no way to read anything back.
//!
//! `scripts/bench-ingest.sh` runs it beside nginx, the empty handler and the
//! collector: it bounds from above what any durable design of the collector
//! can reach on the machine.
//!
//!   cargo run --release -p palaute-collector --example durable_log_204 -- 127.0.0.1:18093 /tmp/beacons.log

use std::fs::File;
use std::io::Write;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::{routing::post, Router};
use palaute_collector::ingest::{ua, validate};
use palaute_collector::model::now_ms;
use palaute_collector::store::sqlite::next_group;
use tokio::sync::{mpsc, oneshot};

/// One snapshot's log line and where to say that it is durable.
type Append = (Vec<u8>, oneshot::Sender<std::io::Result<()>>);

/// Most lines in one group commit (the collector's `max_batch`).
const MAX_GROUP: usize = 2_000;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let address = args.next().unwrap_or_else(|| "127.0.0.1:18093".to_string());
    let path = args.next().unwrap_or_else(|| "durable_log_204.log".to_string());
    let log = File::options().create(true).append(true).open(&path)?;
    let (appends, queue) = mpsc::channel::<Append>(20_000);
    std::thread::Builder::new().name("log-writer".into()).spawn(move || write_loop(log, queue))?;
    let app = Router::new().route("/b", post(ingest)).with_state(Arc::new(appends));
    let listener = tokio::net::TcpListener::bind(&address).await?;
    // The collector's own server (timeouts, connection cap), as `serve` runs it.
    let bounds = palaute_collector::serve::Bounds::of(&palaute_collector::config::Config::default());
    let metrics = std::sync::Arc::new(palaute_collector::metrics::Metrics::new());
    palaute_collector::serve::serve(listener, app, bounds, metrics, std::future::pending()).await;
    Ok(())
}

/// Validates every beacon of the body, then waits until each is durable.
async fn ingest(State(appends): State<Arc<mpsc::Sender<Append>>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let Ok(beacons) = validate::decode_batch(&body) else { return StatusCode::BAD_REQUEST };
    let user_agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let context = validate::Context { received_at: now_ms(), ua: ua::classify(user_agent), dwell_ms: 10_000.0 };
    let mut pending = Vec::with_capacity(beacons.len());
    for beacon in beacons {
        let Ok(snapshot) = validate::to_snapshot(beacon, &context) else { return StatusCode::BAD_REQUEST };
        let mut line = serde_json::to_vec(&snapshot.view).unwrap_or_default();
        line.push(b'\n');
        let (done, durable) = oneshot::channel();
        if appends.try_send((line, done)).is_err() {
            return StatusCode::SERVICE_UNAVAILABLE;
        }
        pending.push(durable);
    }
    for durable in pending {
        if !matches!(durable.await, Ok(Ok(()))) {
            return StatusCode::SERVICE_UNAVAILABLE;
        }
    }
    StatusCode::NO_CONTENT
}

/// Appends each group of queued lines (formed as the collector's SQLite
/// writer forms its commits) with one write and one `fdatasync`, then
/// answers every line of the group.
fn write_loop(mut log: File, mut queue: mpsc::Receiver<Append>) {
    while let Some(group) = next_group(&mut queue, MAX_GROUP) {
        let bytes = group.iter().map(|(line, _)| line.as_slice()).collect::<Vec<_>>().concat();
        let outcome = log.write_all(&bytes).and_then(|()| log.sync_data());
        for (_, done) in group {
            let _ = done.send(outcome.as_ref().map(drop).map_err(|e| std::io::Error::new(e.kind(), e.to_string())));
        }
    }
}
