//! The HTTP API: one module per resource, each with its own `router()`, over one `AppState`.

mod admin;
pub mod cors;
mod domains;
pub(crate) mod health;
mod meta;
mod onboarding;
mod organizations;
pub mod page;
mod suggestions;

use crate::auth::{HasKeys, Keys};
use crate::error::ApiError;
use crate::store::Store;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::Router;
use std::sync::Arc;
use std::time::Duration;

/// What every handler shares, behind one `Arc`: axum clones the state for each request (and
/// each `from_fn_with_state` layer), so a clone is one reference count, not one per field
/// (measured: the per-field clones and drops were ~5 % of a status read's CPU).
#[derive(Clone, Debug)]
pub struct AppState(Arc<Shared>);

impl From<Shared> for AppState {
    fn from(shared: Shared) -> AppState {
        AppState(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

#[derive(Debug)]
pub struct Shared {
    pub store: Store,
    pub keys: Arc<Keys>,
    pub session_ttl: Duration,
    /// Development mode: `POST /api/dev/token` mints tokens for the demo page.
    pub dev: bool,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// The wizard page and the npm package it loads.
    pub page: Arc<page::Page>,
    /// Expiry and analytics read time here (tests move it).
    pub clock: Arc<crate::clock::Clock>,
    pub suggestions: Arc<crate::suggestions::Suggestions>,
    pub write_limits: Arc<crate::ratelimit::WriteLimits>,
    /// Invitation e-mails: the accept link's base and how long links last.
    pub composer: crate::mail::Composer,
    pub invitation_ttl_ms: i64,
    /// The daily caps on invitation e-mails.
    pub invitation_caps: crate::store::InvitationCaps,
    /// Shared limits and cache across replicas (`REDIS_URL`), when configured.
    pub redis: Option<Arc<crate::shared::Redis>>,
    /// Whether `/metrics` is served here (not when `METRICS_BIND` gives it a listener of its own).
    pub metrics_on_api: bool,
    /// Domain ownership lookups.
    pub dns: crate::dns::Dns,
}

impl HasKeys for AppState {
    fn keys(&self) -> &Arc<Keys> {
        &self.keys
    }
}

/// Largest accepted request body.
pub const BODY_LIMIT: usize = 256 * 1024;

#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "Onboarding API", description = "Re-validates the onboarding wizard with the shared rules and persists it."),
    modifiers(&BearerAuth),
    // Schemas that only parameters name (utoipa-axum collects those of bodies itself).
    components(schemas(crate::error::Problem, onboarding_core::Locale, onboarding_core::StepId, admin::OutboxState)),
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The routes and the OpenAPI document, built together: a route cannot be served without
/// being documented. `dev`: development mode's loopback check (403) is documented too.
pub fn routes(dev: bool) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    use utoipa::OpenApi;
    let (router, mut api) = utoipa_axum::router::OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(health::router())
        .merge(meta::router())
        .merge(onboarding::router())
        .merge(organizations::router())
        .merge(domains::router())
        .merge(suggestions::router())
        .merge(admin::router())
        .split_for_parts();
    api.info.version = env!("CARGO_PKG_VERSION").to_owned();
    document_common_responses(&mut api, dev);
    (router, api)
}

/// The answers a route gives because of the layers and extractors around its handler rather
/// than its own logic, documented once here: 401 for a bearer route (the token), 400 for a
/// route with parameters or a body (malformed), 413 and 415 for a body (too large, not JSON),
/// 429 for a write (the write limits), 503 for every route but the liveness and metrics ones
/// (the request timeout and the database), 403 everywhere in development mode (a host that is
/// not a loopback name). Every 4xx and 5xx answer, the handlers' own included, carries the
/// problem+json body (`Problem`), with `Retry-After` on 429 and 503.
fn document_common_responses(api: &mut utoipa::openapi::OpenApi, dev: bool) {
    use utoipa::openapi::{
        path::HttpMethod,
        schema::{SchemaType, Type},
        ContentBuilder, HeaderBuilder, Ref, RefOr, ResponseBuilder, Schema,
    };
    for (path, item) in api.paths.paths.iter_mut() {
        let operations = [
            (HttpMethod::Get, &mut item.get),
            (HttpMethod::Put, &mut item.put),
            (HttpMethod::Post, &mut item.post),
            (HttpMethod::Delete, &mut item.delete),
            (HttpMethod::Patch, &mut item.patch),
        ];
        for (method, operation) in operations {
            let Some(op) = operation.as_mut() else {
                continue;
            };
            // An optional parameter is absent, never `null` (a header or query string has no
            // null): `Option<T>` documents it as not required, of type T.
            for param in op.parameters.iter_mut().flatten() {
                if let Some(RefOr::T(Schema::Object(object))) = param.schema.as_mut() {
                    if let SchemaType::Array(types) = &object.schema_type {
                        let types: Vec<Type> = types
                            .iter()
                            .filter(|t| **t != Type::Null)
                            .cloned()
                            .collect();
                        if let [one] = types.as_slice() {
                            object.schema_type = SchemaType::Type(one.clone());
                        }
                    }
                }
            }
            let mut common: Vec<(&str, &str)> = Vec::new();
            if op.security.is_some() {
                common.push(("401", "Missing, malformed or expired bearer token"));
            }
            let has_body = op.request_body.is_some();
            if has_body || op.parameters.as_ref().is_some_and(|p| !p.is_empty()) {
                common.push(("400", "Malformed request"));
            }
            if has_body {
                common.push(("413", "Body larger than the limit"));
                common.push(("415", "Body not sent as application/json"));
            }
            if !matches!(method, HttpMethod::Get) {
                common.push((
                    "429",
                    "Too many writes from this address or user (Retry-After)",
                ));
            }
            if path != "/healthz" && path != "/metrics" {
                common.push((
                    "503",
                    "Timed out, or the database is unavailable (Retry-After)",
                ));
            }
            if dev {
                common.push((
                    "403",
                    "Development mode: the Host is not a loopback name or address",
                ));
            }
            for (status, description) in common {
                op.responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert_with(|| {
                        ResponseBuilder::new()
                            .description(description)
                            .build()
                            .into()
                    });
            }
            for (status, response) in op.responses.responses.iter_mut() {
                let RefOr::T(response) = response else {
                    continue;
                };
                if !(status.starts_with('4') || status.starts_with('5')) {
                    continue;
                }
                if response.content.is_empty() {
                    response.content.insert(
                        "application/problem+json".to_owned(),
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("Problem")))
                            .build(),
                    );
                }
                if status == "429" || status == "503" {
                    response
                        .headers
                        .entry("Retry-After".to_owned())
                        .or_insert_with(|| {
                            HeaderBuilder::new()
                                .schema(
                                    utoipa::openapi::ObjectBuilder::new()
                                        .schema_type(Type::Integer),
                                )
                                .description(Some("Seconds to wait before retrying"))
                                .build()
                        });
                }
            }
        }
    }
}

pub fn router(state: AppState) -> Router {
    let metrics = state.metrics.clone();
    let page = state.page.clone();
    let limits =
        axum::middleware::from_fn_with_state(state.clone(), crate::ratelimit::limit_writes);
    let (routes, api) = routes(state.dev);
    let spec = Arc::new(api.to_json().unwrap_or_default());
    let mut router = routes
        .route(
            "/api/openapi.json",
            axum::routing::get(move || {
                let spec = spec.clone();
                async move {
                    (
                        [(axum::http::header::CONTENT_TYPE, "application/json")],
                        (*spec).clone(),
                    )
                }
            }),
        )
        .merge(page::router(page))
        .fallback(|| async { ApiError::NotFound("no such route".into()) })
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .route_layer(limits);
    if state.dev {
        router = router.route_layer(axum::middleware::from_fn(dev_loopback_only));
    }
    router
        .route_layer(axum::middleware::from_fn_with_state(
            metrics,
            crate::metrics::track,
        ))
        .with_state(state)
}

/// Development mode (only there: the layer is not added otherwise) answers only requests
/// addressed to a loopback name or address: a page on another site that rebinds its DNS name to
/// 127.0.0.1, or a local reverse proxy forwarding its own host, gets 403 and never a token.
async fn dev_loopback_only(
    req: Request,
    next: axum::middleware::Next,
) -> Result<axum::response::Response, ApiError> {
    let host = req
        .headers()
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok());
    if !host.is_some_and(is_loopback_host) {
        return Err(ApiError::Forbidden(
            "development mode answers only requests addressed to localhost or a loopback address"
                .into(),
        ));
    }
    Ok(next.run(req).await)
}

/// `localhost`, `*.localhost`, `127.x.y.z` or `[::1]`, with or without a port.
pub fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((addr, rest)) if rest.is_empty() || rest.starts_with(':') => addr,
            _ => return false,
        },
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `axum::extract::Query` whose rejections are problem+json (400) like every other error.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequestParts<S>
    for Query<T>
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| Query(v))
            .map_err(|rejection| ApiError::BadRequest(rejection.body_text()))
    }
}

/// `axum::extract::Path` whose rejections are problem+json (400) like every other error.
#[derive(Debug)]
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned + Send> axum::extract::FromRequestParts<S>
    for Path<T>
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| Path(v))
            .map_err(|rejection| ApiError::BadRequest(rejection.body_text()))
    }
}

/// `axum::Json` whose rejections are problem+json like every other error.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(rejection) => Err(match rejection {
                JsonRejection::MissingJsonContentType(_) => {
                    ApiError::UnsupportedMediaType("expected Content-Type: application/json".into())
                }
                JsonRejection::BytesRejection(e)
                    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE =>
                {
                    ApiError::PayloadTooLarge(format!("the body is larger than {BODY_LIMIT} bytes"))
                }
                other => ApiError::BadRequest(other.body_text()),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn loopback_hosts() {
        for host in [
            "localhost",
            "localhost:3000",
            "app.localhost",
            "127.0.0.1:3000",
            "127.9.9.9",
            "[::1]:3000",
            "[::1]",
            "LOCALHOST.",
        ] {
            assert!(super::is_loopback_host(host), "{host}");
        }
        for host in [
            "evil.com",
            "localhost.evil.com",
            "127.0.0.1.nip.io",
            "10.0.0.1:3000",
            "[::2]",
            "[::1]x",
            "",
        ] {
            assert!(!super::is_loopback_host(host), "{host}");
        }
    }
}
