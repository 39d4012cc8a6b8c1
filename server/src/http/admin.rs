//! Platform administration, for tokens with the `platform_admin` claim: the onboarding funnel
//! and the mail outbox.

use super::AppState;
use super::Query;
use crate::auth::AuthUser;
use crate::error::ApiError;
use axum::extract::State;
use axum::response::IntoResponse;
use onboarding_core::Date;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(funnel))
        .routes(routes!(outbox))
}

#[derive(Deserialize)]
struct FunnelQuery {
    from: Option<String>,
    to: Option<String>,
}

const DAY_MS: i64 = 86_400_000;

fn date(param: &str, value: Option<&str>, default: Date) -> Result<Date, ApiError> {
    match value {
        None => Ok(default),
        Some(v) => Date::parse(v).ok_or_else(|| {
            ApiError::BadRequest(format!("`{param}` must be a date YYYY-MM-DD, not {v:?}"))
        }),
    }
}

/// Sessions started, completed, abandoned and expired; reach and drop-off per step; median and
/// p90 time to complete; suggestion acceptance — over `from`..`to` (UTC days, both included;
/// default: the last 30 days).
#[utoipa::path(
    get,
    path = "/api/admin/onboarding/funnel",
    tag = "admin",
    summary = "The onboarding funnel (platform admins)",
    params(
        ("from" = Option<String>, Query, format = Date, description = "First day, YYYY-MM-DD (default: 29 days before `to`)"),
        ("to" = Option<String>, Query, format = Date, description = "Last day, YYYY-MM-DD (default: today, UTC)"),
    ),
    responses(
        (status = 200, description = "The funnel", body = crate::store::Funnel),
        (status = 400, description = "Bad dates"),
        (status = 403, description = "Not a platform admin"),
    ),
    security(("bearer" = [])),
)]
async fn funnel(
    State(state): State<AppState>,
    user: AuthUser,
    Query(q): Query<FunnelQuery>,
) -> Result<impl IntoResponse, ApiError> {
    if !user.platform_admin {
        return Err(ApiError::Forbidden(
            "the funnel is for platform admins (a token with platform_admin: true)".into(),
        ));
    }
    let today = Date::from_unix_days(state.clock.now_ms().div_euclid(DAY_MS));
    let to = date("to", q.to.as_deref(), today)?;
    let from = date(
        "from",
        q.from.as_deref(),
        Date::from_unix_days(to.unix_days() - 29),
    )?;
    if from > to {
        return Err(ApiError::BadRequest("`from` is after `to`".into()));
    }
    let mut funnel = state
        .store
        .funnel(from.unix_days() * DAY_MS, (to.unix_days() + 1) * DAY_MS)
        .await?;
    funnel.from = from.to_string();
    funnel.to = to.to_string();
    Ok(axum::Json(funnel))
}

/// An outbox message's state.
#[derive(Clone, Copy, ToSchema)]
#[schema(rename_all = "lowercase")]
pub(super) enum OutboxState {
    Pending,
    Sent,
    Dead,
    Cancelled,
}

impl OutboxState {
    const ALL: [OutboxState; 4] = [
        OutboxState::Pending,
        OutboxState::Sent,
        OutboxState::Dead,
        OutboxState::Cancelled,
    ];

    fn as_str(self) -> &'static str {
        match self {
            OutboxState::Pending => "pending",
            OutboxState::Sent => "sent",
            OutboxState::Dead => "dead",
            OutboxState::Cancelled => "cancelled",
        }
    }
}

/// The outbox as platform admins see it (never a body).
#[derive(Serialize, ToSchema)]
struct AdminOutbox {
    messages: Vec<crate::store::OutboxMessage>,
}

#[derive(Deserialize)]
struct OutboxQuery {
    state: Option<String>,
    limit: Option<i64>,
}

/// The mail outbox (newest change first), e.g. `?state=dead` for the messages given up, with
/// their attempts and last error; never their bodies.
#[utoipa::path(
    get,
    path = "/api/admin/outbox",
    tag = "admin",
    summary = "The mail outbox (platform admins)",
    params(
        ("state" = Option<OutboxState>, Query, description = "Only messages in this state (default: all)"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 500, description = "At most this many (default 100)"),
    ),
    responses(
        (status = 200, description = "Messages, newest first", body = AdminOutbox),
        (status = 400, description = "Unknown state or bad limit"),
        (status = 403, description = "Not a platform admin"),
    ),
    security(("bearer" = [])),
)]
async fn outbox(
    State(state): State<AppState>,
    user: AuthUser,
    Query(q): Query<OutboxQuery>,
) -> Result<impl IntoResponse, ApiError> {
    if !user.platform_admin {
        return Err(ApiError::Forbidden(
            "the outbox is for platform admins (a token with platform_admin: true)".into(),
        ));
    }
    let filter = match q.state.as_deref() {
        None => None,
        Some(text) => Some(
            OutboxState::ALL
                .into_iter()
                .map(OutboxState::as_str)
                .find(|s| *s == text)
                .ok_or_else(|| {
                    ApiError::BadRequest(format!(
                        "`state` must be pending, sent, dead or cancelled, not {text:?}"
                    ))
                })?,
        ),
    };
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::BadRequest("`limit` must be 1 to 500".into()));
    }
    let messages = state.store.outbox(filter, limit).await?;
    Ok(axum::Json(AdminOutbox { messages }))
}
