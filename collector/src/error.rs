//! The collector's one error type and how each error becomes an HTTP answer:
//! input errors keep their 4xx, "cannot store now" is a 503 the client
//! retries, and internal errors become a plain 500 that is logged.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Everything that can go wrong while serving a request or running a command.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request is malformed or fails validation (400).
    #[error("invalid request: {0}")]
    Invalid(String),
    /// No or wrong analyst token (401).
    #[error("missing or wrong token")]
    Unauthorized,
    /// No such site or resource (404).
    #[error("not found: {0}")]
    NotFound(String),
    /// The body is larger than allowed (413).
    #[error("request body too large")]
    TooLarge,
    /// The client sends too fast (429).
    #[error("rate limited")]
    RateLimited,
    /// The store cannot accept data right now; retry later (503).
    #[error("cannot store now: {0}")]
    Unavailable(String),
    /// A bug or an unexpected failure (500).
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    /// A short name for metrics labels.
    pub fn outcome(&self) -> &'static str {
        match self {
            AppError::Invalid(_) => "invalid",
            AppError::Unauthorized => "unauthorized",
            AppError::NotFound(_) => "not_found",
            AppError::TooLarge => "too_large",
            AppError::RateLimited => "rate_limited",
            AppError::Unavailable(_) => "unavailable",
            AppError::Internal(_) => "internal",
        }
    }

    /// The HTTP status for this error.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Invalid(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            AppError::Internal(detail) => {
                tracing::error!(message = "internal error", %detail);
                "internal error".to_string()
            }
            AppError::Unavailable(detail) => {
                tracing::warn!(message = "store unavailable", %detail);
                self.to_string()
            }
            _ => self.to_string(),
        };
        let mut response = (status, message).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert("www-authenticate", axum::http::HeaderValue::from_static("Bearer"));
        }
        if matches!(status, StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS) {
            response.headers_mut().insert("retry-after", axum::http::HeaderValue::from_static("5"));
        }
        response
    }
}

impl From<rusqlite::Error> for AppError {
    fn from(error: rusqlite::Error) -> Self {
        AppError::Internal(error.to_string())
    }
}

/// Shorthand for results whose error is [`AppError`].
pub type Result<T, E = AppError> = std::result::Result<T, E>;
