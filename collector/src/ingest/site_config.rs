//! `GET /s/{site}`: what the browser client needs to know of a site's
//! settings on the collector (today its default feedback scale), public,
//! cacheable for 5 minutes, readable from any origin. Nothing secret is in it.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::app::AppState;
use crate::error::{AppError, Result};

/// How long browsers may keep a site's settings.
pub const CACHE: &str = "public, max-age=300";

/// The site's client settings.
pub async fn site_config(State(state): State<Arc<AppState>>, Path(site): Path<String>) -> Result<Response> {
    let site = state.sites.get(&site).await?.ok_or_else(|| AppError::NotFound(format!("site {site}")))?;
    let mut response = Json(json!({ "feedback_scale": site.feedback_scale })).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(CACHE));
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    Ok(response)
}
