//! `AppError`: the one error type at the HTTP edge. Every error answers with
//! `{"error": {"code", "message", "field"?}}` and the status of SPEC section 7.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mighty_core::protocol::{ErrorBody, ErrorDetail};

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400: the body is not JSON, or not readable.
    #[error("{0}")]
    Malformed(String),
    /// 401: missing or bad token.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: the resource is not yours.
    #[error("{0}")]
    Forbidden(String),
    /// 403 `origin_not_allowed`.
    #[error("{0}")]
    OriginNotAllowed(String),
    /// 403 `cross_site_request`: a form post from another site's page.
    #[error("{0}")]
    CrossSiteRequest(String),
    #[error("{0}")]
    NotFound(String),
    /// 405: the path exists, not with this method.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// 409 with a specific code: `sold_out`, `drop_closed`, `idempotency_conflict`, `conflict`.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// 413.
    #[error("{0}")]
    TooLarge(String),
    /// 422 `invalid_request`, naming the field.
    #[error("{message}")]
    Invalid {
        message: String,
        field: Option<String>,
    },
    /// 429 with `Retry-After`.
    #[error("{message}")]
    RateLimited {
        message: String,
        retry_after_seconds: u64,
    },
    /// 503 (sandbox faults).
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> AppError {
        let field = field.into();
        AppError::Invalid {
            message: message.into(),
            field: (!field.is_empty()).then_some(field),
        }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> AppError {
        AppError::Conflict {
            code,
            message: message.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Malformed(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_)
            | AppError::OriginNotAllowed(_)
            | AppError::CrossSiteRequest(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::Malformed(_) => "malformed_body",
            AppError::Unauthorized(_) => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::OriginNotAllowed(_) => "origin_not_allowed",
            AppError::CrossSiteRequest(_) => "cross_site_request",
            AppError::NotFound(_) => "not_found",
            AppError::MethodNotAllowed(_) => "method_not_allowed",
            AppError::Conflict { code, .. } => code,
            AppError::TooLarge(_) => "too_large",
            AppError::Invalid { .. } => "invalid_request",
            AppError::RateLimited { .. } => "rate_limited",
            AppError::Unavailable(_) => "unavailable",
            AppError::Internal(_) => "internal",
        }
    }

    /// The `{"error": ...}` body.
    pub fn body(&self) -> ErrorBody {
        let field = match self {
            AppError::Invalid { field, .. } => field.clone(),
            _ => None,
        };
        let message = match self {
            // Internals stay in the log.
            AppError::Internal(_) => "the server failed; try again".to_string(),
            other => other.to_string(),
        };
        ErrorBody {
            error: ErrorDetail {
                code: self.code().to_string(),
                message,
                field,
            },
        }
    }
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> AppError {
        match error {
            StoreError::Backend(detail) => AppError::Internal(detail),
            StoreError::Unavailable(detail) => {
                tracing::warn!(%detail, "storage unavailable");
                AppError::Unavailable(
                    "the database cannot be reached just now; try again in a few seconds".into(),
                )
            }
            StoreError::Conflict(message) => AppError::conflict("conflict", message),
            StoreError::NotFound(message) => AppError::NotFound(message),
            StoreError::Forbidden(message) => AppError::Forbidden(message),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(detail) = &self {
            tracing::error!(%detail, "internal error");
        }
        let mut response = (self.status(), Json(self.body())).into_response();
        if let AppError::RateLimited {
            retry_after_seconds,
            ..
        } = &self
            && let Ok(value) = HeaderValue::from_str(&retry_after_seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}
