//! The analyst API under `/api/v1`. Every route needs the site's analyst
//! token as `Authorization: Bearer TOKEN`.

mod auth;
mod export;
pub mod period;

use std::sync::Arc;

use axum::routing::get;
use axum::Router;

use crate::app::AppState;

pub use auth::Authorized;

/// The `/api/v1` routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/sites/{site}/pageviews", get(export::pageviews))
}
