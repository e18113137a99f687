//! `GET` and `POST /api/v1/sites/{site}/releases`: deploy markers, for CI
//! to record a deploy and for the dashboard to mark it on every chart.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::period::parse_time;
use super::Authorized;
use crate::app::AppState;
use crate::error::Result;
use crate::model::{format_time, now_ms};
use crate::store::Release;

/// A deploy marker, as the API shows it.
#[derive(Serialize, Debug, Clone, PartialEq, ToSchema)]
pub struct Marker {
    /// The release's name.
    pub name: String,
    /// When it went out, ISO-8601.
    pub at: String,
    /// The same, ms since the Unix epoch.
    pub at_ms: i64,
}

impl From<Release> for Marker {
    fn from(release: Release) -> Marker {
        Marker { at: format_time(release.at_ms), name: release.name, at_ms: release.at_ms }
    }
}

/// `POST .../releases`'s body.
#[derive(Deserialize, Debug, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRelease {
    /// The release's name (a version, a git tag): 1-200 characters.
    pub name: String,
    /// When it went out: ISO-8601 or relative (`10m`); default now.
    pub at: Option<String>,
}

/// `GET /api/v1/sites/{site}/releases`: the site's deploy markers, oldest first.
#[utoipa::path(get, path = "/api/v1/sites/{site}/releases", tag = "releases",
    params(("site" = String, Path, description = "Site id")),
    responses((status = 200, body = Vec<Marker>), (status = 401, description = "Missing or wrong token")),
    security(("bearer" = [])))]
pub async fn list(Authorized(site): Authorized, State(state): State<Arc<AppState>>) -> Result<Json<Vec<Marker>>> {
    Ok(Json(state.store.releases(&site.id).await?.into_iter().map(Marker::from).collect()))
}

/// `POST /api/v1/sites/{site}/releases`: records a deploy (a release of the
/// same name moves to the new time).
#[utoipa::path(post, path = "/api/v1/sites/{site}/releases", tag = "releases",
    params(("site" = String, Path, description = "Site id")),
    request_body = NewRelease,
    responses((status = 201, body = Marker), (status = 400, description = "Invalid name or time"),
        (status = 401, description = "Missing or wrong token")),
    security(("bearer" = [])))]
pub async fn add(
    Authorized(site): Authorized,
    State(state): State<Arc<AppState>>,
    body: std::result::Result<Json<NewRelease>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<Marker>)> {
    let Json(body) = body.map_err(|e| crate::error::AppError::Invalid(e.body_text()))?;
    let now = now_ms();
    let at = match &body.at {
        Some(at) => parse_time(at, now)?,
        None => now,
    };
    let release = crate::release::record(&state.store, &site.id, &body.name, at).await?;
    Ok((StatusCode::CREATED, Json(Marker::from(release))))
}
