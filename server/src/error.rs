//! The one error type of the HTTP boundary, rendered as RFC 9457 `application/problem+json` with
//! a stable `code` (and `type` = `/problems/<code>`). Internal errors are logged and never leaked.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use onboarding_core::Report;
use serde::Serialize;

#[derive(Debug)]
pub enum ApiError {
    /// 400: the request is malformed (bad JSON, bad query, bad header).
    BadRequest(String),
    /// 401: missing, malformed, unsigned or expired token.
    Unauthorized(String),
    /// 403: authenticated, but not allowed (e.g. not a platform admin).
    Forbidden(String),
    /// 404
    NotFound(String),
    /// 409: the state does not allow it (e.g. no open session).
    Conflict(String),
    /// 412: `If-Match` names a version that is no longer current.
    PreconditionFailed { current: Option<i64> },
    /// 413
    PayloadTooLarge(String),
    /// 415
    UnsupportedMediaType(String),
    /// 422: the rules refused the data; the report says why.
    Invalid(Report),
    /// 429: too many requests; retry after that many seconds.
    TooManyRequests {
        retry_after_secs: u64,
        detail: String,
    },
    /// 503: the database is unreachable.
    Unavailable(String),
    /// 503: the request took longer than the configured timeout.
    Timeout,
    /// 500: logged, never shown.
    Internal(String),
    /// A refusal with its own code, for clients that act on the reason (e.g. 410
    /// `invitation_expired` against 410 `invitation_revoked`).
    Problem {
        status: StatusCode,
        code: &'static str,
        title: &'static str,
        detail: String,
    },
}

impl ApiError {
    pub fn internal(e: impl std::fmt::Display) -> ApiError {
        ApiError::Internal(e.to_string())
    }

    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request", "Bad request"),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", "Forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found", "Not found"),
            ApiError::TooManyRequests { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "Too many requests",
            ),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict", "Conflict"),
            ApiError::PreconditionFailed { .. } => (
                StatusCode::PRECONDITION_FAILED,
                "stale_version",
                "Stale version",
            ),
            ApiError::PayloadTooLarge(_) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "Payload too large",
            ),
            ApiError::UnsupportedMediaType(_) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Unsupported media type",
            ),
            ApiError::Invalid(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                "Validation failed",
            ),
            ApiError::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Service unavailable",
            ),
            ApiError::Timeout => (
                StatusCode::SERVICE_UNAVAILABLE,
                "timeout",
                "Request timed out",
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
            ),
            ApiError::Problem {
                status,
                code,
                title,
                ..
            } => (*status, code, title),
        }
    }
}

/// Database errors that say "not now" rather than "wrong": PostgreSQL connection exceptions
/// (08…), operator intervention such as a terminated backend or a shutdown (57…), and SQLite's
/// busy/locked (5, 6). The client gets 503 with `Retry-After`; nothing was written.
fn is_transient(code: Option<&str>) -> bool {
    code.is_some_and(|c| c.starts_with("08") || c.starts_with("57") || c == "5" || c == "6")
}

/// Whether a database error means "not now" (a 503 with `Retry-After`) rather than a fault.
pub fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => is_transient(db.code().as_deref()),
        _ => false,
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> ApiError {
        if is_unavailable(&e) {
            ApiError::Unavailable(e.to_string())
        } else {
            ApiError::Internal(e.to_string())
        }
    }
}

/// The body of every refusal (RFC 9457 problem details), as the OpenAPI document describes it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// `/problems/<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: &'static str,
    pub status: u16,
    /// Stable: clients switch on it (e.g. `stale_version`, `invitation_expired`).
    pub code: &'static str,
    pub detail: String,
    /// With 422 `validation_failed`: the rules' report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<Report>,
    /// With 412 `stale_version`: the session's current version, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_version: Option<i64>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, title) = self.parts();
        let retry_after = match &self {
            ApiError::TooManyRequests {
                retry_after_secs, ..
            } => Some(HeaderValue::from(*retry_after_secs)),
            _ if status == StatusCode::SERVICE_UNAVAILABLE => Some(HeaderValue::from_static("2")),
            _ => None,
        };
        let mut report = None;
        let mut current_version = None;
        let detail = match self {
            ApiError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                "An unexpected error occurred; it has been logged.".to_owned()
            }
            ApiError::Timeout => {
                tracing::warn!("request timed out");
                "The request took too long and was abandoned; retry shortly.".to_owned()
            }
            ApiError::Unavailable(detail) => {
                tracing::warn!(%detail, "database unavailable");
                "The database is unavailable; retry shortly.".to_owned()
            }
            ApiError::Invalid(r) => {
                report = Some(r);
                "The onboarding data breaks the rules; see `report`.".to_owned()
            }
            ApiError::PreconditionFailed {
                current: Some(current),
            } => {
                current_version = Some(current);
                format!("The draft was changed elsewhere; its current version is {current}.")
            }
            ApiError::PreconditionFailed { current: None } => {
                "If-Match names a session, but none is in progress.".to_owned()
            }
            ApiError::TooManyRequests { detail, .. } => detail,
            ApiError::BadRequest(d)
            | ApiError::Unauthorized(d)
            | ApiError::Forbidden(d)
            | ApiError::NotFound(d)
            | ApiError::Conflict(d)
            | ApiError::PayloadTooLarge(d)
            | ApiError::UnsupportedMediaType(d)
            | ApiError::Problem { detail: d, .. } => d,
        };
        let body = Problem {
            kind: format!("/problems/{code}"),
            title,
            status: status.as_u16(),
            code,
            detail,
            report,
            current_version,
        };
        let mut response =
            (status, serde_json::to_string(&body).unwrap_or_default()).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(v) = retry_after {
            headers.insert(header::RETRY_AFTER, v);
        }
        response
    }
}
