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
        let header = parts.headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
        let token = header.and_then(bearer_token).ok_or(AppError::Unauthorized)?;
        Ok(Authorized(state.sites.authorize(&site, token).await?))
    }
}

/// The token of an `Authorization: Bearer <token>` header. The scheme is
/// case-insensitive (RFC 9110 §11.1), and any run of spaces may follow it.
pub fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim_start().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::bearer_token;

    #[test]
    fn the_scheme_is_case_insensitive() {
        for header in ["Bearer abc", "bearer abc", "BEARER  abc ", " BeArEr abc"] {
            assert_eq!(bearer_token(header), Some("abc"), "{header:?}");
        }
        for header in ["Basic abc", "Bearer", "Bearer   ", "Bearerabc", ""] {
            assert_eq!(bearer_token(header), None, "{header:?}");
        }
    }
}
