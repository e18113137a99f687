//! Bearer-token access to one site's data.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Path};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use crate::app::AppState;
use crate::error::AppError;
use crate::store::Site;

/// The site named in the path, reached with its analyst token.
pub struct Authorized(pub Site);

impl FromRequestParts<Arc<AppState>> for Authorized {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Self::Rejection> {
        let Path(site) =
            Path::<String>::from_request_parts(parts, state).await.map_err(|e| AppError::Invalid(e.body_text()))?;
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(AppError::Unauthorized)?;
        Ok(Authorized(state.sites.authorize(&site, token.trim()).await?))
    }
}
