//! The ingest benchmark's framework baseline: the collector's HTTP stack
//! (axum in the collector's own hyper server, `serve.rs`, on tokio's
//! multi-threaded runtime) with `POST /b` reading the body
//! and answering 204, doing nothing else. `scripts/bench-ingest.sh` runs it
//! beside nginx and the collector, so the gap between it and the collector
//! is the collector's own work per beacon.
//!
//!   cargo run --release -p palaute-collector --example empty_204 -- 127.0.0.1:18092

use axum::{body::Bytes, http::StatusCode, routing::post, Router};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let address = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:18092".to_string());
    let app = Router::new().route("/b", post(|_body: Bytes| async { StatusCode::NO_CONTENT }));
    let listener = tokio::net::TcpListener::bind(&address).await?;
    // The collector's own server (timeouts, connection cap), as `serve` runs it.
    let bounds = palaute_collector::serve::Bounds::of(&palaute_collector::config::Config::default());
    let metrics = std::sync::Arc::new(palaute_collector::metrics::Metrics::new());
    palaute_collector::serve::serve(listener, app, bounds, metrics, std::future::pending()).await;
    Ok(())
}
