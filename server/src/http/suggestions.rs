//! Objective suggestions for the wizard, and the user's choice on each (kept on the server, so
//! it follows the user across devices). `ai_assistance_level = none` means no suggestion at
//! all and no provider called; before the user has chosen a level, only the built-in catalog
//! answers (nothing leaves the server without their consent).

use super::meta::locale;
use super::{AppState, Json};
use super::{Path, Query};
use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::suggestions::{suggestion_id, SuggestionRequest};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use onboarding_core::Locale;
use onboarding_core::{Context, StepId};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(suggestions))
        .routes(routes!(feedback))
}

#[derive(Deserialize)]
struct SuggestionsQuery {
    step: Option<String>,
    locale: Option<String>,
}

/// How many objectives each assistance level asks for (unset: as `moderate`).
/// Objective suggestions for the draft.
#[derive(Debug, Serialize, ToSchema)]
struct Suggestions {
    step: StepId,
    /// The draft's `preferences.ai_assistance_level`, when set.
    ai_assistance_level: Option<String>,
    /// `catalog`, `ai`, or `none` when the user asked for no assistance.
    source: &'static str,
    /// Why the catalog answered although an external provider is configured and allowed.
    fallback: Option<&'static str>,
    suggestions: Vec<Suggestion>,
    /// Suggestions dropped because they failed the rules.
    dropped: usize,
}

#[derive(Debug, Serialize, ToSchema)]
struct Suggestion {
    /// Stable for the same title: the id feedback names.
    id: String,
    /// An objective as the objectives step takes it (title, description, key_results).
    #[schema(value_type = std::collections::HashMap<String, Value>)]
    objective: Value,
}

/// The user's choice on a suggestion.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
enum FeedbackAction {
    Accepted,
    Edited,
    Dismissed,
}

impl FeedbackAction {
    fn as_str(self) -> &'static str {
        match self {
            FeedbackAction::Accepted => "accepted",
            FeedbackAction::Edited => "edited",
            FeedbackAction::Dismissed => "dismissed",
        }
    }
}

/// The stored choice.
#[derive(Debug, Serialize, ToSchema)]
struct Feedback {
    id: String,
    action: FeedbackAction,
}

fn count_for(level: Option<&str>) -> usize {
    match level {
        Some("minimal") => 2,
        Some("extensive") => 5,
        _ => 3,
    }
}

fn text<'a>(draft: &'a Value, step: &str, field: &str) -> Option<&'a str> {
    draft.get(step)?.get(field)?.as_str()
}

/// Objectives with key results fitted to the user's draft; each one has passed the wizard's
/// rules. Dismissed ones, and ones already in the draft, are left out.
#[utoipa::path(
    get,
    path = "/api/onboarding/suggestions",
    tag = "suggestions",
    summary = "Objective suggestions fitted to the draft (none when ai_assistance_level = none)",
    params(
        ("step" = StepId, Query, description = "objectives (the one step with suggestions)"),
        ("locale" = Option<Locale>, Query, description = "es or en: the messages, and the suggestions' language until the draft has one"),
    ),
    responses(
        (status = 200, description = "Suggestions, their source, and the fallback reason if any", body = Suggestions),
        (status = 400, description = "Malformed locale"),
        (status = 404, description = "No suggestions for that step"),
        (status = 409, description = "No open session"),
        (status = 429, description = "Too many requests (Retry-After)"),
    ),
    security(("bearer" = [])),
)]
async fn suggestions(
    State(state): State<AppState>,
    user: AuthUser,
    Query(q): Query<SuggestionsQuery>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    if q.step.as_deref() != Some("objectives") {
        return Err(ApiError::NotFound(
            "suggestions exist for step=objectives".into(),
        ));
    }
    let ui_locale = locale(q.locale.as_deref(), &headers)?;
    state
        .suggestions
        .admit(&user.id)
        .await
        .map_err(|secs| ApiError::TooManyRequests {
            retry_after_secs: secs,
            detail: format!("too many suggestion requests; retry in {secs} s"),
        })?;
    let session = super::onboarding::open_session(&state, &user).await?;
    let draft = &session.draft;
    let level = text(draft, "preferences", "ai_assistance_level");
    if level == Some("none") {
        return Ok(axum::Json(Suggestions {
            step: StepId::Objectives,
            ai_assistance_level: level.map(str::to_owned),
            source: "none",
            fallback: None,
            suggestions: Vec::new(),
            dropped: 0,
        }));
    }
    let language = match text(draft, "preferences", "language") {
        Some(l @ ("es" | "en")) => l,
        _ if ui_locale == onboarding_core::Locale::En => "en",
        _ => "es",
    };
    // Only values the rules define reach a provider: each is one of its field's options (the
    // draft is unvalidated free text until completion, and up to the body limit per field), so
    // nothing the user typed, and nothing larger than the option tables, leaves the server.
    use onboarding_core::rules::{BUSINESS_GOALS, COMPANY_SIZE, INDUSTRY, MATURITY};
    let option = |step: &str, field: &str, options: &[&'static str], default: &'static str| {
        text(draft, step, field)
            .and_then(|v| options.iter().copied().find(|o| *o == v))
            .unwrap_or(default)
            .to_owned()
    };
    let chosen_goals = draft
        .get("organization")
        .and_then(|s| s.get("business_goals"))
        .and_then(Value::as_array);
    let business_goals: Vec<String> = BUSINESS_GOALS
        .iter()
        .copied()
        .filter(|goal| {
            chosen_goals.is_some_and(|chosen| chosen.iter().any(|c| c.as_str() == Some(goal)))
        })
        .map(str::to_owned)
        .collect();
    let req = SuggestionRequest {
        industry: option("company", "industry", INDUSTRY, "other"),
        business_goals,
        okr_maturity: option("organization", "okr_maturity", MATURITY, "beginner"),
        company_size: option("company", "company_size", COMPANY_SIZE, "small"),
        language: language.to_owned(),
        count: count_for(level),
    };
    let external = matches!(level, Some("minimal" | "moderate" | "extensive"));
    let answer = state.suggestions.objectives(&req, external).await;

    let dismissed = state.store.dismissed_suggestions(&user.id).await?;
    let taken: Vec<String> = draft
        .get("objectives")
        .and_then(|s| s.get("objectives"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|o| o.get("title")?.as_str())
                .map(suggestion_id)
                .collect()
        })
        .unwrap_or_default();
    let ctx = Context::new(ui_locale, crate::today(), user.email.as_deref());
    let mut dropped = 0;
    let mut out = Vec::new();
    for objective in answer.objectives {
        let report = onboarding_core::validate_step(
            StepId::Objectives,
            &json!({ "objectives": [objective] }),
            &ctx,
        );
        let title = objective.get("title").and_then(Value::as_str);
        let Some(title) = title.filter(|_| report.valid) else {
            dropped += 1;
            continue;
        };
        let id = suggestion_id(title);
        if dismissed.contains(&id) || taken.contains(&id) {
            continue;
        }
        out.push(Suggestion { id, objective });
    }
    if dropped > 0 {
        tracing::info!(
            dropped,
            source = answer.source,
            "suggestions failed the rules and were dropped"
        );
    }
    Ok(axum::Json(Suggestions {
        step: StepId::Objectives,
        ai_assistance_level: level.map(str::to_owned),
        source: answer.source,
        fallback: answer.fallback,
        suggestions: out,
        dropped,
    }))
}

#[derive(Deserialize, ToSchema)]
struct FeedbackRequest {
    action: FeedbackAction,
}

/// Stores the user's choice on a suggestion: `accepted`, `edited` or `dismissed` (not offered
/// again). The latest choice counts.
#[utoipa::path(
    post,
    path = "/api/onboarding/suggestions/{id}/feedback",
    tag = "suggestions",
    summary = "The user's choice on a suggestion: accepted, edited or dismissed",
    params(("id" = String, Path, description = "The suggestion's id (16 lower-case hex digits)", pattern = "^[0-9a-f]{16}$")),
    request_body(content = FeedbackRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Stored", body = Feedback),
        (status = 400, description = "Bad id or action"),
    ),
    security(("bearer" = [])),
)]
async fn feedback(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    Json(req): Json<FeedbackRequest>,
) -> Result<impl IntoResponse, ApiError> {
    if id.len() != 16
        || !id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(ApiError::BadRequest(
            "a suggestion id is 16 lower-case hex digits".into(),
        ));
    }
    state
        .store
        .record_feedback(&user.id, &id, req.action.as_str())
        .await?;
    Ok(axum::Json(Feedback {
        id,
        action: req.action,
    }))
}
