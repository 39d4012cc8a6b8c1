//! The rules as the API serves them: wizard metadata, JSON Schema, and stateless validation
//! (the same report the npm package gives), plus the development token endpoint.

use super::Query;
use super::{AppState, Json};
use crate::auth::AuthUser;
use crate::error::ApiError;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::IntoResponse;
use onboarding_core::{Context, Locale, StepId};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(steps))
        .routes(routes!(schema))
        .routes(routes!(validate))
        .routes(routes!(dev_token))
        .routes(routes!(dev_outbox))
}

#[derive(Deserialize)]
pub struct LocaleQuery {
    pub locale: Option<String>,
}

/// `?locale=` wins, then `Accept-Language` (es or en), then Spanish.
pub fn locale(query: Option<&str>, headers: &HeaderMap) -> Result<Locale, ApiError> {
    if let Some(l) = query {
        return Locale::parse(l).ok_or_else(|| {
            ApiError::BadRequest(format!("unsupported locale \"{l}\": expected es or en"))
        });
    }
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    Ok(
        if accept.trim_start().to_ascii_lowercase().starts_with("en") {
            Locale::En
        } else {
            Locale::Es
        },
    )
}

fn json_response(body: String) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], body)
}

#[utoipa::path(
    get,
    path = "/api/onboarding/steps",
    tag = "rules",
    summary = "Wizard metadata in a locale",
    params(
        ("locale" = Option<Locale>, Query, description = "es or en (default: Accept-Language, then es)"),
    ),
    responses(
        (status = 200, description = "Steps and fields", body = Vec<onboarding_core::metadata::StepMeta>),
        (status = 400, description = "Unsupported locale"),
    ),
)]
async fn steps(
    Query(q): Query<LocaleQuery>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    let locale = locale(q.locale.as_deref(), &headers)?;
    Ok(json_response(onboarding_core::to_json(
        &onboarding_core::metadata::steps(locale),
    )))
}

#[utoipa::path(
    get,
    path = "/api/onboarding/schema",
    tag = "rules",
    summary = "JSON Schema of the wizard input",
    responses(
        (status = 200, description = "JSON Schema 2020-12", body = std::collections::HashMap<String, Value>),
    ),
)]
async fn schema() -> impl IntoResponse {
    json_response(onboarding_core::to_json(&onboarding_core::schema::schema()))
}

#[derive(Deserialize)]
pub struct ValidateQuery {
    locale: Option<String>,
    step: Option<String>,
}

/// The report for a wizard (or one step with `?step=`), byte for byte what the npm package's
/// `validateWizardJson` returns for the same input and date; the user's e-mail is the context's.
#[utoipa::path(
    post,
    path = "/api/onboarding/validate",
    tag = "rules",
    summary = "The rules report for a wizard or one step",
    params(
        ("step" = Option<StepId>, Query, description = "Validate only this step"),
        ("locale" = Option<Locale>, Query, description = "es or en"),
    ),
    request_body(content = Value, description = "A wizard `{step: data}`, or one step's data with `?step=` (any JSON value)", content_type = "application/json"),
    responses(
        (status = 200, description = "Report", body = onboarding_core::Report),
        (status = 400, description = "Malformed JSON or locale"),
        (status = 404, description = "Unknown step"),
    ),
    security(("bearer" = [])),
)]
async fn validate(
    user: AuthUser,
    Query(q): Query<ValidateQuery>,
    headers: HeaderMap,
    Json(input): Json<Value>,
) -> Result<impl IntoResponse, ApiError> {
    let ctx = Context::new(
        locale(q.locale.as_deref(), &headers)?,
        crate::today(),
        user.email.as_deref(),
    );
    let report = match q.step.as_deref() {
        Some(s) => {
            let step = StepId::parse(s)
                .ok_or_else(|| ApiError::NotFound(format!("unknown step \"{s}\"")))?;
            onboarding_core::validate_step(step, &input, &ctx)
        }
        None => onboarding_core::validate_wizard(&input, &ctx),
    };
    Ok(json_response(onboarding_core::to_json(&report)))
}

#[derive(Deserialize, ToSchema)]
struct DevTokenRequest {
    name: Option<String>,
    #[schema(format = Email)]
    email: String,
}

/// A development token and who it names.
#[derive(Serialize, ToSchema)]
struct DevToken {
    token: String,
    sub: String,
    email: String,
    name: Option<String>,
}

/// Development mode only: a token for the demo page. The user id is derived from the e-mail, so
/// the same person gets the same drafts back.
#[utoipa::path(
    post,
    path = "/api/dev/token",
    tag = "dev",
    summary = "Development mode only: a token for an e-mail address",
    request_body(content = DevTokenRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Token", body = DevToken),
        (status = 400, description = "Malformed body or e-mail address"),
        (status = 403, description = "Host is not a loopback name or address"),
        (status = 404, description = "Not in development mode"),
    ),
)]
async fn dev_token(
    State(state): State<AppState>,
    Json(req): Json<DevTokenRequest>,
) -> Result<impl IntoResponse, ApiError> {
    if !state.dev {
        return Err(ApiError::NotFound("no such route".into()));
    }
    let email = onboarding_core::email::normalize(&req.email);
    if !onboarding_core::email::is_valid(&email) {
        return Err(ApiError::BadRequest(
            "a valid e-mail address is required".into(),
        ));
    }
    let sub = format!("dev:{email}");
    let token = state
        .keys
        .mint(&sub, &email, 12 * 3600)
        .map_err(ApiError::internal)?;
    Ok(axum::Json(DevToken {
        token,
        sub,
        email,
        name: req.name,
    }))
}

/// Development mode only: the invitation e-mails not yet sent, with the links they carry, so the
/// whole invitation flow works without a mail server.
#[utoipa::path(
    get,
    path = "/api/dev/outbox",
    tag = "dev",
    summary = "Development mode only: pending invitation e-mails and their links",
    responses(
        (status = 200, description = "Pending messages, newest first", body = DevOutbox),
        (status = 403, description = "Host is not a loopback name or address"),
        (status = 404, description = "Not in development mode"),
    ),
)]
async fn dev_outbox(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    if !state.dev {
        return Err(ApiError::NotFound(
            "the outbox is shown in development mode only".into(),
        ));
    }
    let messages = state
        .store
        .pending_mail(100)
        .await?
        .into_iter()
        .map(|m| {
            let link = m
                .body
                .lines()
                .find(|l| l.contains("/invitations/accept#token="))
                .map(|l| l.trim().to_owned());
            DevOutboxMessage {
                id: m.id,
                to: m.recipient,
                subject: m.subject,
                link,
                body: m.body,
                created_at: m.created_at,
            }
        })
        .collect();
    Ok(axum::Json(DevOutbox { messages }))
}

/// The pending invitation e-mails in development mode.
#[derive(Serialize, ToSchema)]
struct DevOutbox {
    messages: Vec<DevOutboxMessage>,
}

#[derive(Serialize, ToSchema)]
struct DevOutboxMessage {
    id: String,
    to: String,
    subject: String,
    /// The accept link the body carries.
    link: Option<String>,
    body: String,
    created_at: i64,
}
