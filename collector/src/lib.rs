//! The palaute collector: ingests beacons durably, stores page views (SQLite
//! embedded), and serves the client, the analyst API and the demo pages.
//!
//! # Layout
//!
//! - [`cli`]: command-line parsing and the admin commands (`site`, `token`).
//! - [`config`]: the one `Config` (flags > `PALAUTE_*` > TOML file > defaults).
//! - [`app`]: shared state and the router.
//! - [`serve`]: the HTTP server: timeouts, the connection cap, a bounded shutdown.
//! - [`ingest`]: `POST /b`: decode, validate, classify the user agent, store.
//! - [`api`]: `/api/v1`: bearer auth, periods and filters, the raw export.
//! - [`assets`]: the client files and demo pages.
//! - [`store`]: the `Store` trait and the embedded SQLite store.
//! - [`metrics`]: Prometheus metrics for `/metrics`.
//! - [`sites`]: analyst tokens and the cached site list.
//! - [`model`]: the stored / exported page view.
//! - [`error`]: `AppError` and its HTTP answers.
#![deny(missing_docs)]

pub mod alert;
pub mod api;
pub mod app;
pub mod assets;
pub mod cli;
pub mod config;
pub mod error;
pub mod generate;
pub mod ingest;
pub mod metrics;
pub mod model;
pub mod report;
pub mod rollup;
pub mod serve;
pub mod sites;
pub mod stats;
pub mod store;
pub mod transfer;

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
    if config.rollup_interval_ms > 0 {
        rollup::build::spawn(store.clone(), std::time::Duration::from_millis(config.rollup_interval_ms));
    }
    let bounds = serve::Bounds::of(&config);
    let state = app::AppState::new(config, store, metrics.clone());
    serve::serve(listener, app::app(state), bounds, metrics, shutdown).await;
    Ok(())
}
