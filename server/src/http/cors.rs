//! Calls from a frontend on another origin (`CORS_ALLOWED_ORIGINS`, exact origins; none by
//! default, when only the server's own page calls the API). tower-http's `CorsLayer` answers
//! preflights and adds the headers for the listed origins: the API's methods, the request
//! headers it reads (`Authorization`, `Content-Type`, `If-Match`, `Idempotency-Key`,
//! `Accept-Language`), the response headers a client needs (`ETag`, `Retry-After`), and a
//! cached preflight. A preflight from any other origin is refused with a 403 problem that says
//! why, instead of a bare answer the browser would turn into an opaque network error.

use crate::error::ApiError;
use axum::extract::Request;
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::Duration;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// How long a browser may cache a preflight.
pub const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(600);

/// Parses `CORS_ALLOWED_ORIGINS`: comma-separated origins, each `scheme://host[:port]`
/// (http or https, no path, no trailing slash).
pub fn parse_origins(text: &str) -> Result<Vec<HeaderValue>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|origin| {
            let rest = origin
                .strip_prefix("https://")
                .or_else(|| origin.strip_prefix("http://"));
            match rest {
                Some(host) if !host.is_empty() && !host.contains(['/', '?', '#', '@', ' ']) => {
                    HeaderValue::from_str(origin).map_err(|e| e.to_string())
                }
                _ => Err(format!(
                    "CORS_ALLOWED_ORIGINS: {origin:?} is not an origin such as https://app.example.com"
                )),
            }
        })
        .collect()
}

/// The layer for `origins` (empty: `None`, no CORS headers at all).
pub fn layer(origins: &[HeaderValue]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins.iter().cloned()))
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::IF_MATCH,
                HeaderName::from_static("idempotency-key"),
                header::ACCEPT_LANGUAGE,
            ])
            .expose_headers([header::ETAG, header::RETRY_AFTER])
            .max_age(PREFLIGHT_MAX_AGE),
    )
}

/// Middleware (outside the CORS layer): a preflight from an origin not listed gets 403.
pub async fn refuse_other_origins(
    allowed: Arc<Vec<HeaderValue>>,
    req: Request,
    next: Next,
) -> Response {
    let preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    match req.headers().get(header::ORIGIN) {
        Some(origin) if preflight && !allowed.contains(origin) => ApiError::Forbidden(format!(
            "the origin {} may not call this API (CORS_ALLOWED_ORIGINS)",
            origin.to_str().unwrap_or("?")
        ))
        .into_response(),
        _ => next.run(req).await,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn origins_are_parsed_strictly() {
        let ok = super::parse_origins("https://app.example.com, http://localhost:5173").unwrap();
        assert_eq!(ok, ["https://app.example.com", "http://localhost:5173"]);
        assert!(super::parse_origins("").unwrap().is_empty());
        for bad in [
            "app.example.com",
            "https://app.example.com/",
            "ftp://x",
            "https://",
            "*",
        ] {
            assert!(super::parse_origins(bad).is_err(), "{bad}");
        }
    }
}
