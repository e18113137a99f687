//! The analyst API under `/api/v1`. Every route but `openapi.json` needs the
//! site's analyst token as `Authorization: Bearer TOKEN`. Every answer, an
//! error's too, carries `Cache-Control: no-store` (a site's data stays out of
//! shared and browser caches) and `X-Content-Type-Options: nosniff`. At most
//! `max_api_requests` are answered at once ([`admit`]).

pub mod aggregate;
mod auth;
mod compare;
mod export;
mod feedback;
pub mod openapi;
pub mod period;
mod releases;
mod reports;

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;

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
        .layer(SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
}

/// Admits an API request while fewer than `max_api_requests` are being
/// answered, holding its permit until its answer's last byte is sent (an
/// export's too); past the bound answers `503` with `Retry-After: 1` at
/// once, counted in `palaute_api_busy_total`. Queries and exports read the
/// store on the blocking pool and hold memory: a few analysts' clients that
/// stall cannot take every thread, and the rest of the collector keeps
/// its share.
pub async fn admit(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let Ok(permit) = state.api_permits.clone().try_acquire_owned() else {
        state.metrics.api_busy.inc();
        let mut response =
            (StatusCode::SERVICE_UNAVAILABLE, "too many analyst requests at once: max_api_requests\n").into_response();
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return response;
    };
    next.run(request).await.map(|body| Body::new(Permitted { body, _permit: permit }))
}

/// A response body that holds its request's permit until it is dropped.
struct Permitted {
    body: Body,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl http_body::Body for Permitted {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}
