//! The `POST /b` handler: one beacon or a batch of them per request.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::future::join_all;
use palaute::wire::Beacon;

use super::ua;
use super::validate::{self, Context};
use crate::app::AppState;
use crate::error::{AppError, Result};
use crate::model::now_ms;
use crate::store::Snapshot;

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
pub async fn ingest(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: std::result::Result<Bytes, BytesRejection>,
) -> Response {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()).map(str::to_ascii_lowercase);
    let beacons = match decode(body) {
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
    let stored = join_all(outcomes.into_iter().map(|outcome| store(&state, outcome))).await;
    let worst = stored.into_iter().filter_map(std::result::Result::err).max_by_key(severity);
    let mut response = worst.map_or_else(|| StatusCode::NO_CONTENT.into_response(), IntoResponse::into_response);
    if let Some(origin) = allowed_origin.and_then(|o| HeaderValue::from_str(&o).ok()) {
        response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    }
    response.headers_mut().insert(header::VARY, HeaderValue::from_static("Origin"));
    response
}

fn decode(body: std::result::Result<Bytes, BytesRejection>) -> Result<Vec<Beacon>> {
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => AppError::TooLarge,
        _ => AppError::Invalid(format!("body: {}", rejection.body_text())),
    })?;
    validate::decode_batch(&body)
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
    let snapshot = validate::to_snapshot(beacon, context)?;
    if state.config.drop_bots && context.ua.is_bot() {
        return Ok(Accepted::Bot);
    }
    Ok(Accepted::Store(Box::new(snapshot)))
}

/// Stores an accepted beacon and counts its outcome.
async fn store(state: &AppState, checked: Result<Accepted>) -> Result<()> {
    let result = match checked {
        Ok(Accepted::Store(snapshot)) => {
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
