//! `AppError`: the one error type at the HTTP edge. Every error answers with
//! `{"error": {"code", "message", "field"?}}` (SPEC section 7).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mighty_core::protocol::{ErrorBody, ErrorDetail};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    OriginNotAllowed(String),
    #[error("{message}")]
    Invalid {
        message: String,
        field: Option<String>,
    },
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::OriginNotAllowed(_) => StatusCode::FORBIDDEN,
            AppError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::NotFound(_) => "not_found",
            AppError::OriginNotAllowed(_) => "origin_not_allowed",
            AppError::Invalid { .. } => "invalid_request",
            AppError::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let field = match &self {
            AppError::Invalid { field, .. } => field.clone(),
            _ => None,
        };
        if let AppError::Internal(detail) = &self {
            tracing::error!(%detail, "internal error");
        }
        let message = match &self {
            // Internals stay in the log.
            AppError::Internal(_) => "the server failed; try again".to_string(),
            other => other.to_string(),
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code().to_string(),
                message,
                field,
            },
        };
        (self.status(), Json(body)).into_response()
    }
}
