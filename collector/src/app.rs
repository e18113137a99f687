//! The HTTP application: shared state and the router, apart from any socket
//! so tests can drive it directly.

use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;

use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;

use crate::config::Config;
use crate::error::{AppError, Result};
use crate::metrics::Metrics;
use crate::sites::SiteRegistry;
use crate::store::Store;
use crate::workers::Workers;
use crate::{api, assets, ingest};

/// What every handler can reach.
pub struct AppState {
    /// Effective configuration.
    pub config: Config,
    /// Page views and sites.
    pub store: Arc<dyn Store>,
    /// Cached site list.
    pub sites: SiteRegistry,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// Where stored unhappy answers are announced.
    pub alerts: crate::alert::FeedbackAlerts,
    /// The per-client beacon rate limit (`None`: off).
    pub beacon_limit: Option<ingest::rate_limit::BeaconLimit>,
    /// Every site's declared route patterns and route learning.
    pub routes: Arc<crate::routes::Routes>,
    /// One permit per analyst API request answered at once
    /// (`max_api_requests`).
    pub api_permits: Arc<tokio::sync::Semaphore>,
    /// The clients that report an outage's signals (checked only when
    /// `outage_check_ms` is set).
    pub reporters: Option<Arc<crate::alert::outage::Reporters>>,
}

impl AppState {
    /// State over `store` with `config`, reporting to `metrics`; starts the
    /// alert workers and the rate limiter's among `workers` (it needs a
    /// Tokio runtime).
    pub fn new(
        config: Config,
        store: Arc<dyn Store>,
        metrics: Arc<Metrics>,
        workers: &mut Workers,
    ) -> Result<Arc<AppState>> {
        let routes = Arc::new(crate::routes::Routes::new(&config.routes).map_err(AppError::Invalid)?);
        crate::routes::spawn_warm(workers, store.clone(), routes.clone());
        let reporters = Arc::new(crate::alert::outage::Reporters::default());
        let alerts = crate::alert::spawn(workers, store.clone(), &config, reporters.clone(), metrics.clone());
        let reporters = (config.outage_check_ms > 0).then_some(reporters);
        let beacon_limit = ingest::rate_limit::layer(&config, metrics.clone(), workers);
        let api_permits = Arc::new(tokio::sync::Semaphore::new(config.max_api_requests.max(1)));
        Ok(Arc::new(AppState {
            config,
            sites: SiteRegistry::new(store.clone()),
            store,
            metrics,
            alerts,
            beacon_limit,
            api_permits,
            reporters,
            routes,
        }))
    }
}

/// The collector's router. Serve it with
/// `into_make_service_with_connect_info::<SocketAddr>()`: the rate limiter
/// needs the peer address.
pub fn app(state: Arc<AppState>) -> Router {
    let www = state.config.www_dir();
    // The handler reads the body itself: at most MAX_BEACON_BYTES, whole
    // within `ingest_body_timeout_ms`.
    let mut beacon_route = post(ingest::ingest);
    if let Some(limit) = &state.beacon_limit {
        beacon_route = beacon_route.layer(limit.layer.clone());
    }
    Router::new()
        .route("/b", beacon_route)
        .route("/s/{site}", get(ingest::site_config::site_config))
        .nest(
            "/api/v1",
            api::routes()
                .layer(CompressionLayer::new())
                .layer(axum::middleware::from_fn_with_state(state.clone(), api::admit)),
        )
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/metrics", get(metrics_text))
        .merge(assets::routes(&www, state.config.demo))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// `GET /metrics`: the Prometheus text format, with the store's gauges read now.
async fn metrics_text(
    axum::extract::State(state): axum::extract::State<Arc<AppState>>,
) -> impl axum::response::IntoResponse {
    let metrics = &state.metrics;
    metrics.queue_depth.set(state.store.queue_depth() as i64);
    if let Some(bytes) = state.store.size_bytes() {
        metrics.store_bytes.set(bytes as i64);
    }
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], metrics.render())
}
