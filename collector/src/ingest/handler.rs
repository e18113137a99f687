//! The `POST /b` handler: one beacon or a batch of them per request.

use std::net::SocketAddr;
use std::sync::Arc;

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::future::join_all;
use http_body_util::BodyExt;
use palaute::wire::Beacon;
use palaute::wire::MAX_BEACON_BYTES;

use super::ua;
use super::validate::{self, Context};
use crate::app::AppState;
use crate::error::{AppError, Result};
use crate::model::now_ms;
use crate::store::Snapshot;

/// The peer's address, when the server gave it ([`super::rate_limit::peer`]).
pub struct Peer(Option<SocketAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> std::result::Result<Self, Self::Rejection> {
        Ok(Peer(super::rate_limit::peer(&parts.extensions)))
    }
}

/// What became of one beacon that passed validation.
enum Accepted {
    /// To be stored.
    Store(Box<Snapshot>),
    /// From a crawler or headless browser: answered 204 (so it is not
    /// retried) and dropped.
    Bot,
}

/// Validates each beacon of the body, checks its site and origin, and
/// answers `204` once every one is durable. A batch is answered by its worst
/// outcome: `503` if any could not be stored (the client re-sends the batch;
/// what was stored counts once), else `400` if any was invalid (the valid
/// ones are kept). Each beacon is counted by outcome. The answer carries
/// `Access-Control-Allow-Origin` for an origin the site allows, so the
/// client can read the status and retry.
pub async fn ingest(State(state): State<Arc<AppState>>, Peer(peer): Peer, headers: HeaderMap, body: Body) -> Response {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()).map(str::to_ascii_lowercase);
    let limit = |beacons: Vec<Beacon>| match &state.beacon_limit {
        Some(limit) => limit.charge(&headers, peer, beacons.len()).map(|()| beacons),
        None => Ok(beacons),
    };
    let body = read_body(&state, body).await;
    let beacons = match body.and_then(|body| validate::decode_batch(&body)).and_then(limit) {
        Ok(beacons) => beacons,
        Err(error) => {
            state.metrics.ingest.with_label_values(&[error.outcome()]).inc();
            return error.into_response();
        }
    };
    let user_agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let context =
        Context { received_at: now_ms(), ua: ua::classify(user_agent), dwell_ms: state.config.slow_bounce_dwell_ms };
    let mut allowed_origin = None;
    let mut outcomes = Vec::with_capacity(beacons.len());
    for beacon in beacons {
        outcomes.push(check(&state, origin.as_deref(), &context, beacon, &mut allowed_origin).await);
    }
    let client =
        super::rate_limit::ClientKey { trust_forwarded_for: state.config.trust_forwarded_for }.of(&headers, peer);
    let stored = join_all(outcomes.into_iter().map(|outcome| store(&state, client, outcome))).await;
    let worst = stored.into_iter().filter_map(std::result::Result::err).max_by_key(severity);
    let mut response = worst.map_or_else(|| StatusCode::NO_CONTENT.into_response(), IntoResponse::into_response);
    if let Some(origin) = allowed_origin.and_then(|o| HeaderValue::from_str(&o).ok()) {
        response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    }
    response.headers_mut().insert(header::VARY, HeaderValue::from_static("Origin"));
    response
}

/// How much of an oversized body is read and thrown away before its `413`
/// is answered, as nginx's lingering close does: a client that is still
/// sending when the connection closes would see it reset instead of the
/// answer. A body past this is answered at once and its connection closed.
pub const MAX_DRAINED_BYTES: usize = 16 << 20;

/// The whole body, at most [`MAX_BEACON_BYTES`], arrived within
/// `ingest_body_timeout_ms` of the handler's start: a deadline for the body
/// as a whole, not for each of its chunks (a client trickling a body in
/// pieces does not hold a connection longer). A body past it is counted as
/// `body_timeout` in `palaute_connections_closed_total`. An oversized body
/// is read to its end (up to [`MAX_DRAINED_BYTES`], in the same deadline)
/// and then refused, so that its `413` arrives and the connection can be
/// used again.
async fn read_body(state: &AppState, body: Body) -> Result<Bytes> {
    let deadline = Duration::from_millis(state.config.ingest_body_timeout_ms);
    match tokio::time::timeout(deadline, read_or_drain(body)).await {
        Err(_) => {
            state.metrics.connections_closed.with_label_values(&["body_timeout"]).inc();
            Err(AppError::Invalid(format!("body: not complete within {} ms", deadline.as_millis())))
        }
        Ok(read) => read,
    }
}

async fn read_or_drain(mut body: Body) -> Result<Bytes> {
    let mut kept = Vec::new();
    let mut seen = 0;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|error| AppError::Invalid(format!("body: {error}")))?;
        let Ok(data) = frame.into_data() else { continue };
        seen += data.len();
        if seen > MAX_DRAINED_BYTES {
            break;
        }
        if seen <= MAX_BEACON_BYTES {
            kept.extend_from_slice(&data);
        }
    }
    if seen > MAX_BEACON_BYTES {
        return Err(AppError::TooLarge);
    }
    Ok(kept.into())
}

/// Validates one beacon against its site, the request's origin and the
/// rules; remembers the origin once a site has allowed it.
async fn check(
    state: &AppState,
    origin: Option<&str>,
    context: &Context,
    beacon: Beacon,
    allowed_origin: &mut Option<String>,
) -> Result<Accepted> {
    let site = state
        .sites
        .get(&beacon.site)
        .await?
        .ok_or_else(|| AppError::Invalid(format!("site: {:?} is not registered", beacon.site)))?;
    // Browsers send Origin with every beacon; other clients may omit it.
    if let Some(origin) = origin {
        if !site.origins.iter().any(|allowed| allowed == origin) {
            return Err(AppError::Invalid(format!("origin: {origin:?} may not send beacons for {}", site.id)));
        }
        *allowed_origin = Some(origin.to_string());
    }
    let mut snapshot = validate::to_snapshot(beacon, context)?;
    if snapshot.view.route.is_empty() {
        let view = &mut snapshot.view;
        view.route = state.routes.route(&view.site, view.path(), context.received_at);
    }
    if state.config.drop_bots && context.ua.is_bot() {
        return Ok(Accepted::Bot);
    }
    Ok(Accepted::Store(Box::new(snapshot)))
}

/// Stores an accepted beacon and counts its outcome; notes its `client`
/// among those reporting an outage's signals.
async fn store(state: &AppState, client: Option<std::net::IpAddr>, checked: Result<Accepted>) -> Result<()> {
    let result = match checked {
        Ok(Accepted::Store(snapshot)) => {
            if let (Some(reporters), Some(client)) = (&state.reporters, client) {
                reporters.record(&snapshot.view.site, client, &snapshot.view, now_ms());
            }
            let announce = crate::alert::feedback::wants_alert(&snapshot.view).then(|| snapshot.view.clone());
            let stored = state.store.ingest(*snapshot).await.map(|()| "stored");
            if let (Ok(_), Some(view)) = (&stored, announce) {
                state.alerts.notify(view);
            }
            stored
        }
        Ok(Accepted::Bot) => Ok("bot"),
        Err(error) => Err(error),
    };
    let outcome = match &result {
        Ok(outcome) => outcome,
        Err(error) => error.outcome(),
    };
    state.metrics.ingest.with_label_values(&[outcome]).inc();
    result.map(drop)
}

/// Which error answers a batch: "store again later" beats "invalid".
fn severity(error: &AppError) -> u8 {
    match error {
        AppError::Invalid(_) => 1,
        AppError::Unavailable(_) | AppError::Internal(_) => 2,
        _ => 0,
    }
}
