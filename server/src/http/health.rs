//! Liveness, readiness and metrics.

use super::AppState;
use crate::error::ApiError;
use axum::extract::State;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
}

#[utoipa::path(
    get,
    path = "/healthz",
    tag = "ops",
    summary = "Liveness",
    responses(
        (status = 200, description = "Alive", body = String, content_type = "text/plain"),
    ),
)]
async fn healthz() -> &'static str {
    "ok"
}

/// Ready when the database answers and, with `AUTH_JWKS_URL`, the identity provider's keys are
/// usable (a line says whether they are fresh or served stale while fetches fail). With
/// `REDIS_URL`, a line says whether Redis answers; the server stays ready without it (limits
/// then count per instance).
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "ops",
    summary = "Readiness: the database answers",
    responses(
        (status = 200, description = "Ready (`ready`, then `jwks: up` or `jwks: stale (…)` with AUTH_JWKS_URL, and `redis: up` or `redis: unavailable` when Redis is configured)", body = String, content_type = "text/plain"),
        (status = 503, description = "Database unreachable, or no usable signing key from the identity provider"),
    ),
)]
async fn readyz(
    State(state): State<AppState>,
) -> Result<(axum::http::StatusCode, String), ApiError> {
    state
        .store
        .ping()
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    let mut lines = vec!["ready".to_owned()];
    match state.keys.readiness() {
        None => {}
        Some(Ok(line)) => lines.push(line),
        Some(Err(line)) => {
            return Ok((axum::http::StatusCode::SERVICE_UNAVAILABLE, line));
        }
    }
    match &state.redis {
        None => {}
        Some(redis) if redis.is_up() => lines.push("redis: up".to_owned()),
        Some(_) => lines.push(
            "redis: unavailable (limits count per instance, the suggestion cache is skipped)"
                .to_owned(),
        ),
    }
    Ok((axum::http::StatusCode::OK, lines.join("\n")))
}

#[utoipa::path(
    get,
    path = "/metrics",
    tag = "ops",
    summary = "Prometheus metrics",
    responses(
        (status = 200, description = "OpenMetrics text exposition format", body = String, content_type = "application/openmetrics-text"),
        (status = 404, description = "Served on the METRICS_BIND listener instead"),
    ),
)]
async fn metrics(State(state): State<AppState>) -> axum::response::Response {
    use axum::response::IntoResponse;
    if !state.metrics_on_api {
        return ApiError::NotFound("no such route".into()).into_response();
    }
    render_metrics(&state).into_response()
}

/// The metrics in the OpenMetrics text format.
pub fn render_metrics(state: &AppState) -> impl axum::response::IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
}
