//! The analyst API under `/api/v1`. Every route but `openapi.json` needs the
//! site's analyst token as `Authorization: Bearer TOKEN`.

pub mod aggregate;
mod auth;
mod compare;
mod export;
mod feedback;
pub mod openapi;
pub mod period;
mod releases;
mod reports;

use std::sync::Arc;

use axum::routing::get;
use axum::Router;

use crate::app::AppState;

pub use auth::Authorized;

/// The `/api/v1` routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/openapi.json", get(openapi::openapi))
        .route("/sites/{site}/pageviews", get(export::pageviews))
        .route("/sites/{site}/summary", get(reports::summary))
        .route("/sites/{site}/abandonment", get(reports::abandonment))
        .route("/sites/{site}/breakdown", get(reports::breakdown))
        .route("/sites/{site}/dimensions", get(reports::dimensions))
        .route("/sites/{site}/feedback", get(feedback::feedback))
        .route("/sites/{site}/timeseries", get(reports::timeseries))
        .route("/sites/{site}/compare", get(compare::compare_sides))
        .route("/sites/{site}/releases", get(releases::list).post(releases::add))
}
