//! The onboarding session: status, start, step saves (draft kept even when invalid, optimistic
//! concurrency with `If-Match`/`ETag`), and completion (one transaction, idempotent).

use super::meta::{locale, LocaleQuery};
use super::{AppState, Json};
use super::{Path, Query};
use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::store::{Completion, IfMatch, Prepared, SaveError, Session, SessionEnd, SessionStatus};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use onboarding_core::{Context, Locale, StepId};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(status))
        .routes(routes!(start))
        .routes(routes!(save_step))
        .routes(routes!(complete))
}

fn ttl_ms(state: &AppState) -> i64 {
    i64::try_from(state.session_ttl.as_millis()).unwrap_or(i64::MAX)
}

fn is_expired(state: &AppState, session: &Session) -> bool {
    state
        .clock
        .now_ms()
        .saturating_sub(session.last_activity_at)
        > ttl_ms(state)
}

/// The first step not yet completed, in wizard order (`None` when all are).
fn current_step(completed: &[String]) -> Option<StepId> {
    StepId::ALL
        .into_iter()
        .find(|s| !completed.iter().any(|c| c == s.name()))
}

/// Where the user stands, as the client reads it: an abandoned session reads as not started, an
/// open one past the TTL as expired.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum Stage {
    NotStarted,
    InProgress,
    Completed,
    Expired,
}

/// The onboarding as `status` and `start` show it.
#[derive(Debug, Serialize, ToSchema)]
struct StatusBody<'a> {
    status: Stage,
    /// Absent before the first session.
    #[serde(skip_serializing_if = "Option::is_none")]
    session_id: Option<&'a str>,
    /// The session's version (also its ETag); absent before the first session.
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<i64>,
    /// The first step not yet completed, in wizard order.
    current_step: Option<StepId>,
    completed_steps: &'a [String],
    completion_percent: usize,
    /// `start`, `step:<name>`, `complete` or `done`.
    next: String,
    /// Set once completed.
    organization_id: Option<&'a str>,
    /// `{step: data}` as saved, while the session is open.
    #[schema(value_type = Option<std::collections::HashMap<String, Value>>)]
    draft: Option<&'a Value>,
    rules_version: &'static str,
}

/// The session as the API shows it, with its status as the client should read it.
fn session_view(session: &Session, status: SessionStatus) -> StatusBody<'_> {
    let current = current_step(&session.completed_steps);
    let open = status == SessionStatus::InProgress;
    StatusBody {
        status: match status {
            SessionStatus::Abandoned => Stage::NotStarted,
            SessionStatus::InProgress => Stage::InProgress,
            SessionStatus::Completed => Stage::Completed,
            SessionStatus::Expired => Stage::Expired,
        },
        session_id: Some(&session.id),
        version: Some(session.version),
        current_step: current,
        completion_percent: session.completed_steps.len() * 100 / StepId::ALL.len(),
        completed_steps: &session.completed_steps,
        next: match (status, current) {
            (SessionStatus::Completed, _) => "done".to_owned(),
            (SessionStatus::InProgress, Some(step)) => format!("step:{}", step.name()),
            (SessionStatus::InProgress, None) => "complete".to_owned(),
            _ => "start".to_owned(),
        },
        organization_id: session.organization_id.as_deref(),
        draft: open.then_some(&session.draft),
        rules_version: onboarding_core::RULES_VERSION,
    }
}

fn with_etag(status: StatusCode, body: impl Serialize, version: i64) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("\"{version}\"")) {
        response.headers_mut().insert(header::ETAG, v);
    }
    response
}

#[utoipa::path(
    get,
    path = "/api/onboarding/status",
    tag = "onboarding",
    summary = "Where the user is in the onboarding",
    responses(
        (status = 200, description = "The status; ETag when there is a session", body = StatusBody,
            headers(("ETag" = String, description = "The session's version, e.g. \"3\""))),
    ),
    security(("bearer" = [])),
)]
async fn status(State(state): State<AppState>, user: AuthUser) -> Result<Response, ApiError> {
    let Some(session) = state.store.status_session(&user.id).await? else {
        return Ok(axum::Json(StatusBody {
            status: Stage::NotStarted,
            session_id: None,
            version: None,
            current_step: None,
            completed_steps: &[],
            completion_percent: 0,
            next: "start".to_owned(),
            organization_id: None,
            draft: None,
            rules_version: onboarding_core::RULES_VERSION,
        })
        .into_response());
    };
    let status = match session.status {
        SessionStatus::InProgress if is_expired(&state, &session) => SessionStatus::Expired,
        other => other,
    };
    let version = session.version;
    Ok(with_etag(
        StatusCode::OK,
        session_view(&session, status),
        version,
    ))
}

/// The body of `start` (optional: no body resumes).
#[derive(Deserialize, Default, ToSchema)]
struct StartRequest {
    /// Abandon the open session and start a new one.
    #[serde(default)]
    restart: bool,
}

/// Resumes the open session (200) or creates one (201); `restart` abandons the open one first.
#[utoipa::path(
    post,
    path = "/api/onboarding/start",
    tag = "onboarding",
    summary = "Resume or create the session; {\"restart\": true} abandons the open one",
    responses(
        (status = 200, description = "Resumed", body = StatusBody,
            headers(("ETag" = String, description = "The session's version"))),
        (status = 201, description = "Created", body = StatusBody,
            headers(("ETag" = String, description = "The session's version"))),
        (status = 400, description = "Malformed body"),
        (status = 409, description = "The session changed concurrently; retry"),
    ),
    request_body(content = Option<StartRequest>, description = "Optional: `{\"restart\": true}` abandons the open session", content_type = "application/json"),
    security(("bearer" = [])),
)]
async fn start(
    State(state): State<AppState>,
    user: AuthUser,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let restart = if body.iter().all(u8::is_ascii_whitespace) {
        false
    } else {
        serde_json::from_slice::<Option<StartRequest>>(&body)
            .map_err(|e| {
                ApiError::BadRequest(format!(
                    "invalid body: {e}; expected {{\"restart\": true|false}}, null or nothing"
                ))
            })?
            .is_some_and(|r| r.restart)
    };
    if let Some(open) = state.store.open_session(&user.id).await? {
        if is_expired(&state, &open) {
            state.store.end_session(&open, SessionEnd::Expired).await?;
        } else if restart {
            state
                .store
                .end_session(&open, SessionEnd::Abandoned)
                .await?;
        } else {
            let version = open.version;
            return Ok(with_etag(
                StatusCode::OK,
                session_view(&open, SessionStatus::InProgress),
                version,
            ));
        }
    }
    let session = match state.store.create_session(&user.id).await {
        Ok(s) => {
            state.metrics.sessions_started.inc();
            s
        }
        // A concurrent start created it first (one open session per user): resume that one.
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            state.store.open_session(&user.id).await?.ok_or_else(|| {
                ApiError::Conflict("the session changed concurrently; retry".into())
            })?
        }
        Err(e) => return Err(e.into()),
    };
    let version = session.version;
    Ok(with_etag(
        StatusCode::CREATED,
        session_view(&session, SessionStatus::InProgress),
        version,
    ))
}

/// `If-Match` (RFC 9110 §13.1.1): absent, `*`, or a list of entity-tags. The session's ETag is
/// its version as a strong tag (`"7"`); comparison is strong, so a weak tag (`W/"7"`) or any
/// other well-formed tag is simply not a match (412). Only a header that is not an entity-tag
/// list (an empty one included) is 400.
fn if_match(headers: &HeaderMap) -> Result<Option<IfMatch>, ApiError> {
    let mut values = headers.get_all(header::IF_MATCH).iter().peekable();
    if values.peek().is_none() {
        return Ok(None);
    }
    let malformed = || {
        ApiError::BadRequest(
            "If-Match must be * or a list of entity-tags such as \"3\" (the ETag of GET /api/onboarding/status)".into(),
        )
    };
    let mut versions = Vec::new();
    let mut any = false;
    let mut items = 0;
    for value in values {
        let text = value.to_str().map_err(|_| malformed())?;
        for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            items += 1;
            if item == "*" {
                any = true;
                continue;
            }
            let (weak, tag) = match item.strip_prefix("W/") {
                Some(rest) => (true, rest),
                None => (false, item),
            };
            let opaque = tag
                .strip_prefix('"')
                .and_then(|t| t.strip_suffix('"'))
                .filter(|t| {
                    t.bytes()
                        .all(|b| b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80)
                })
                .ok_or_else(malformed)?;
            if !weak {
                if let Ok(v) = opaque.parse::<i64>() {
                    versions.push(v);
                }
            }
        }
    }
    // An empty header names nothing to match against: malformed rather than stale.
    if items == 0 {
        return Err(malformed());
    }
    Ok(Some(if any {
        IfMatch::Any
    } else {
        IfMatch::Versions(versions)
    }))
}

/// The deepest nesting a step body may have. The rules' deepest value nests five containers
/// (the objectives step's object → `objectives` → an objective → `key_results` → a key result);
/// a body deeper than this cannot be valid, and stored inside the draft it would come close to
/// the JSON readers' nesting limits, so it is refused before anything is written.
pub const MAX_STEP_DEPTH: usize = 16;

/// How many arrays and objects nest in `value` (a scalar: 0). Iterative: a hostile body cannot
/// exhaust the stack here.
fn nesting_depth(value: &Value) -> usize {
    let mut deepest = 0;
    let mut pending = vec![(value, 1)];
    while let Some((v, depth)) = pending.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match v {
            Value::Array(items) => Box::new(items.iter()),
            Value::Object(fields) => Box::new(fields.values()),
            _ => continue,
        };
        deepest = deepest.max(depth);
        pending.extend(children.map(|c| (c, depth + 1)));
    }
    deepest
}

const EXPIRED: &str = "the onboarding session expired; POST /api/onboarding/start";
const NO_SESSION: &str = "no onboarding session in progress; POST /api/onboarding/start";

pub(super) async fn open_session(state: &AppState, user: &AuthUser) -> Result<Session, ApiError> {
    match state.store.open_session(&user.id).await? {
        Some(s) if !is_expired(state, &s) => Ok(s),
        Some(_) => Err(ApiError::Conflict(EXPIRED.into())),
        None => Err(ApiError::Conflict(NO_SESSION.into())),
    }
}

/// Saves the step's data as the draft, valid or not, and returns its report; the step counts
/// as completed only when valid.
#[utoipa::path(
    put,
    path = "/api/onboarding/steps/{step}",
    tag = "onboarding",
    summary = "Save a step as the draft and return its report",
    params(
        ("step" = StepId, Path, description = "The step"),
        ("locale" = Option<Locale>, Query, description = "The report's language (default: Accept-Language, then es)"),
        ("If-Match" = Option<String>, Header, description = "The ETag of the version this save is based on, or *", pattern = r#"^(\*|(W/)?"[!#-~]*"( *, *(W/)?"[!#-~]*")*)$"#),
    ),
    request_body(content = Value, description = "The step's data, valid or not (any JSON value; the report says what is wrong)", content_type = "application/json"),
    responses(
        (status = 200, description = "Saved: the step's report, the new version and the progress", body = Saved,
            headers(("ETag" = String, description = "The new version"))),
        (status = 400, description = "Malformed JSON, If-Match or locale, or data nested too deep"),
        (status = 404, description = "Unknown step"),
        (status = 409, description = "No open session, or it expired"),
        (status = 412, description = "If-Match names another version (`stale_version`, with `current_version`)"),
    ),
    security(("bearer" = [])),
)]
async fn save_step(
    State(state): State<AppState>,
    user: AuthUser,
    Path(step): Path<String>,
    Query(q): Query<LocaleQuery>,
    headers: HeaderMap,
    Json(data): Json<Value>,
) -> Result<Response, ApiError> {
    let step = StepId::parse(&step)
        .ok_or_else(|| ApiError::NotFound(format!("unknown step \"{step}\"")))?;
    let expected = if_match(&headers)?;
    if nesting_depth(&data) > MAX_STEP_DEPTH {
        return Err(ApiError::BadRequest(format!(
            "the step's data nests deeper than {MAX_STEP_DEPTH} levels; no step of the wizard does"
        )));
    }
    let ctx = Context::new(
        locale(q.locale.as_deref(), &headers)?,
        crate::today(),
        user.email.as_deref(),
    );
    let report = onboarding_core::validate_step(step, &data, &ctx);
    let saved = state
        .store
        .save_step(
            &user.id,
            ttl_ms(&state),
            expected.as_ref(),
            step.name(),
            &data,
            report.valid,
        )
        .await;
    let (version, completed) = match saved {
        Ok(saved) => saved,
        Err(SaveError::Stale(current)) => return Err(ApiError::PreconditionFailed { current }),
        Err(SaveError::NoSession) if expected.is_some() => {
            return Err(ApiError::PreconditionFailed { current: None })
        }
        Err(SaveError::NoSession) => return Err(ApiError::Conflict(NO_SESSION.into())),
        Err(SaveError::Expired) => return Err(ApiError::Conflict(EXPIRED.into())),
        Err(SaveError::Db(e)) => return Err(e.into()),
    };
    state.metrics.steps_saved.inc();
    let body = Saved {
        report,
        version,
        current_step: current_step(&completed),
        completion_percent: completed.len() * 100 / StepId::ALL.len(),
        completed_steps: completed,
    };
    Ok(with_etag(StatusCode::OK, body, version))
}

/// A saved step.
#[derive(Debug, Serialize, ToSchema)]
struct Saved {
    /// The step's report (the draft is kept even when it has errors).
    report: onboarding_core::Report,
    version: i64,
    completed_steps: Vec<String>,
    current_step: Option<StepId>,
    completion_percent: usize,
}

/// The organization a completion created: the transform's record with its id and unique slug.
#[derive(Debug, Serialize, ToSchema)]
struct CreatedOrganization {
    id: String,
    #[serde(flatten)]
    organization: onboarding_core::transform::Organization,
}

/// What a completion created.
#[derive(Debug, Serialize, ToSchema)]
struct Completed {
    organization: CreatedOrganization,
    membership: onboarding_core::transform::Membership,
    session_id: String,
    /// How many objectives, key results and invitations were created.
    objectives: usize,
    key_results: usize,
    invitations: usize,
}

/// A completion asked for again after another request completed the session.
#[derive(Debug, Serialize, ToSchema)]
struct AlreadyCompleted {
    organization: Option<crate::store::Organization>,
    session_id: String,
    already_completed: bool,
}

/// The response body of a completion, rendered inside the transaction (so an idempotent replay
/// returns exactly it).
fn completion_body(
    records: &onboarding_core::Records,
    session_id: &str,
    org_id: &str,
    slug: &str,
) -> String {
    let mut organization = records.organization.clone();
    organization.slug = slug.to_owned();
    let body = Completed {
        organization: CreatedOrganization {
            id: org_id.to_owned(),
            organization,
        },
        membership: records.membership.clone(),
        session_id: session_id.to_owned(),
        objectives: records.objectives.len(),
        key_results: records.objectives.iter().map(|o| o.key_results.len()).sum(),
        invitations: records.invitations.len(),
    };
    serde_json::to_string(&body).unwrap_or_default()
}

fn replay(status: u16, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Re-validates the whole draft and, in one transaction, creates everything. `Idempotency-Key`
/// replays the first response; a session that is already completed answers 200 with its
/// organization.
#[utoipa::path(
    post,
    path = "/api/onboarding/complete",
    tag = "onboarding",
    summary = "Re-validate and create the organization in one transaction (Idempotency-Key replays)",
    params(
        ("locale" = Option<Locale>, Query, description = "The report's language (default: Accept-Language, then es)"),
        ("If-Match" = Option<String>, Header, description = "Complete only this version of the draft", pattern = r#"^(\*|(W/)?"[!#-~]*"( *, *(W/)?"[!#-~]*")*)$"#),
        ("Idempotency-Key" = Option<String>, Header, description = "1 to 200 visible ASCII characters: a retry with the same key replays the first response", pattern = "^[!-~]([ -~]{0,198}[!-~])?$"),
    ),
    responses(
        (status = 201, description = "Created", body = Completed),
        (status = 200, description = "Already completed", body = AlreadyCompleted),
        (status = 400, description = "Malformed Idempotency-Key, If-Match or locale"),
        (status = 409, description = "No open session, or it expired"),
        (status = 412, description = "If-Match names another version (or there is no open session)"),
        (status = 422, description = "Invalid draft, with the report"),
    ),
    security(("bearer" = [])),
)]
async fn complete(
    State(state): State<AppState>,
    user: AuthUser,
    Query(q): Query<LocaleQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => match v.to_str() {
            Ok(k) if !k.is_empty() && k.len() <= 200 => Some(k.to_owned()),
            _ => {
                return Err(ApiError::BadRequest(
                    "Idempotency-Key must be 1 to 200 visible ASCII characters".into(),
                ))
            }
        },
    };
    // A key replays only the response stored with the user's latest session, and only a
    // completion stores one, with the session it completed: while a session is open there is
    // nothing to replay. So the stored response is looked up only when the completion finds
    // no open session (below; a retry waits there for the first request's lock), or before a
    // malformed header's 400, which a replay answers first.
    let headers_read = if_match(&headers)
        .and_then(|expected| Ok((expected, locale(q.locale.as_deref(), &headers)?)));
    let (expected, locale) = match headers_read {
        Ok(read) => read,
        Err(e) => {
            return match already_replied(&state, &user, key.as_deref()).await? {
                Some(replayed) => Ok(replayed),
                None => Err(e),
            }
        }
    };
    let ctx = Context::new(locale, crate::today(), user.email.as_deref());
    // Validated under the session's lock (see `Store::complete`): the organization is built
    // from exactly the draft checked here.
    let prepare = |session: &Session| -> Result<Prepared, ApiError> {
        if is_expired(&state, session) {
            return Err(ApiError::Conflict(EXPIRED.into()));
        }
        if expected
            .as_ref()
            .is_some_and(|e| !e.matches(session.version))
        {
            return Err(ApiError::PreconditionFailed {
                current: Some(session.version),
            });
        }
        let preview = onboarding_core::preview(&session.draft, &ctx);
        let records = preview.records.ok_or(ApiError::Invalid(preview.report))?;
        // Each invitee's token goes only into their e-mail (the outbox); the database keeps
        // its hash.
        let o = &records.organization;
        let invitations = records
            .invitations
            .iter()
            .map(|invitation| {
                let (token, hash) = crate::store::new_invitation_token();
                let mail = state.composer.invitation(&crate::store::Letter {
                    to: &invitation.email,
                    token: &token,
                    organization: &o.name,
                    language: o.language,
                    inviter: Some(&records.profile.full_name),
                    inviter_email: user.email.as_deref(),
                });
                (hash, mail)
            })
            .collect();
        Ok(Prepared {
            invitations,
            records,
            invitation_ttl_ms: state.invitation_ttl_ms,
            invitation_caps: state.invitation_caps,
        })
    };
    let outcome = state
        .store
        .complete(
            &user.id,
            key.as_deref(),
            prepare,
            |prepared, session, org, slug| {
                completion_body(&prepared.records, &session.id, org, slug)
            },
        )
        .await?;
    match outcome {
        Completion::Created(body) => {
            state.metrics.completions.inc();
            Ok(replay(201, body))
        }
        Completion::Refused(e) => Err(e),
        Completion::OverDailyCap { retry_after_secs } => {
            Err(super::organizations::over_cap(retry_after_secs))
        }
        Completion::NoSession => {
            if let Some(done) = already_completed(&state, &user, key.as_deref()).await? {
                return Ok(done);
            }
            Err(match expected {
                Some(_) => ApiError::PreconditionFailed { current: None },
                None => ApiError::Conflict(NO_SESSION.into()),
            })
        }
    }
}

/// The response stored under `key` with the user's latest session, replayed.
async fn already_replied(
    state: &AppState,
    user: &AuthUser,
    key: Option<&str>,
) -> Result<Option<Response>, ApiError> {
    let Some(k) = key else {
        return Ok(None);
    };
    let stored = state.store.idempotent_response(&user.id, k).await?;
    Ok(stored.map(|(status, body)| replay(status, body)))
}

/// The answer for a session that another request completed: the stored idempotent response, or
/// the organization.
async fn already_completed(
    state: &AppState,
    user: &AuthUser,
    key: Option<&str>,
) -> Result<Option<Response>, ApiError> {
    if let Some(replayed) = already_replied(state, user, key).await? {
        return Ok(Some(replayed));
    }
    let Some(session) = state.store.latest_session(&user.id).await? else {
        return Ok(None);
    };
    let (Some(org_id), SessionStatus::Completed) =
        (session.organization_id.as_deref(), session.status)
    else {
        return Ok(None);
    };
    let organization = state.store.organization(&user.id, org_id).await?;
    Ok(Some(
        axum::Json(AlreadyCompleted {
            organization,
            session_id: session.id,
            already_completed: true,
        })
        .into_response(),
    ))
}
