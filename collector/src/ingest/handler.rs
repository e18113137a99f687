//! The `POST /b` handler.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use palaute::wire::Beacon;

use super::ua;
use super::validate::{self, Context};
use crate::app::AppState;
use crate::error::{AppError, Result};
use crate::model::now_ms;

/// What became of an accepted beacon.
enum Accepted {
    /// Durable in the store.
    Stored,
    /// From a crawler or headless browser: answered 204 (so it is not
    /// retried) and dropped.
    Bot,
}

/// Validates a beacon, checks its site and origin, and answers `204` once it
/// is durable. Every answer is counted by outcome.
pub async fn ingest(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: std::result::Result<Bytes, BytesRejection>,
) -> Response {
    let result = accept(&state, &headers, body).await;
    let outcome = match &result {
        Ok(Accepted::Stored) => "stored",
        Ok(Accepted::Bot) => "bot",
        Err(error) => error.outcome(),
    };
    state.metrics.ingest.with_label_values(&[outcome]).inc();
    result.map(|_| StatusCode::NO_CONTENT).into_response()
}

async fn accept(
    state: &AppState,
    headers: &HeaderMap,
    body: std::result::Result<Bytes, BytesRejection>,
) -> Result<Accepted> {
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => AppError::TooLarge,
        _ => AppError::Invalid(format!("body: {}", rejection.body_text())),
    })?;
    let beacon: Beacon = serde_json::from_slice(&body).map_err(|e| AppError::Invalid(format!("body: {e}")))?;
    let site = state
        .sites
        .get(&beacon.site)
        .await?
        .ok_or_else(|| AppError::Invalid(format!("site: {:?} is not registered", beacon.site)))?;
    // Browsers send Origin with every beacon; other clients may omit it.
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or_default().to_ascii_lowercase();
        if !site.origins.contains(&origin) {
            return Err(AppError::Invalid(format!("origin: {origin:?} may not send beacons for {}", site.id)));
        }
    }
    let user_agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let context =
        Context { received_at: now_ms(), ua: ua::classify(user_agent), dwell_ms: state.config.slow_bounce_dwell_ms };
    let snapshot = validate::to_snapshot(beacon, &context)?;
    if state.config.drop_bots && context.ua.is_bot() {
        return Ok(Accepted::Bot);
    }
    state.store.ingest(snapshot).await?;
    Ok(Accepted::Stored)
}
