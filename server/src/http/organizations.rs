//! Organizations, for their members only: a non-member gets 404 (the id's existence is not
//! disclosed). Owners and admins manage invitations (pending → accepted, revoked or expired,
//! each e-mailed through the outbox); owners change roles and remove members, and an
//! organization always keeps one owner.

use super::meta::{locale, LocaleQuery};
use super::AppState;
use super::{Path, Query};
use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::store::{token_hash, Acceptance, InvitationChange, Invited, MemberChange, Role};
use crate::store::{Invitation, InvitationPreview, Member, Objective};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use onboarding_core::Locale;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(organization))
        .routes(routes!(objectives))
        .routes(routes!(members))
        .routes(routes!(set_member_role, remove_member))
        .routes(routes!(invitations, invite))
        .routes(routes!(revoke))
        .routes(routes!(resend))
        .routes(routes!(accept))
        .routes(routes!(preview_invitation))
}

/// An organization's invitations.
#[derive(Debug, Serialize, ToSchema)]
struct Invitations {
    invitations: Vec<Invitation>,
}

/// One invitation after a change.
#[derive(Debug, Serialize, ToSchema)]
struct InvitationBody {
    invitation: Invitation,
}

/// An organization's members.
#[derive(Debug, Serialize, ToSchema)]
struct Members {
    members: Vec<Member>,
}

/// An organization's objectives with their key results.
#[derive(Debug, Serialize, ToSchema)]
struct Objectives {
    objectives: Vec<Objective>,
}

/// The organization and role an accepted invitation joined.
#[derive(Debug, Serialize, ToSchema)]
struct Joined {
    organization_id: String,
    role: Role,
}

pub(super) fn problem(
    status: StatusCode,
    code: &'static str,
    title: &'static str,
    detail: &str,
) -> ApiError {
    ApiError::Problem {
        status,
        code,
        title,
        detail: detail.to_owned(),
    }
}

#[utoipa::path(
    get,
    path = "/api/organizations/{id}/invitations",
    tag = "organizations",
    summary = "Invitations with their state, expiry and delivery (owners and admins)",
    params(
        ("id" = String, Path, description = "Organization id"),
    ),
    responses(
        (status = 200, description = "Invitations, newest first", body = Invitations),
        (status = 403, description = "A member who is not an owner or admin"),
        (status = 404, description = "Not found or not a member"),
    ),
    security(("bearer" = [])),
)]
async fn invitations(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<Invitations>, ApiError> {
    manager_of(&state, &user, &id).await?;
    Ok(Json(Invitations {
        invitations: state.store.invitations(&user.id, &id).await?,
    }))
}

/// Whom to invite, and as what (owners are made by changing a member's role).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct InviteRequest {
    /// 1 to 50 addresses, checked by the wizard's own e-mail rules.
    #[schema(value_type = Vec<String>, min_items = 1, max_items = 50)]
    emails: Value,
    #[serde(default)]
    role: InviteRole,
}

/// The role an invitation gives.
#[derive(Clone, Copy, Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
enum InviteRole {
    Admin,
    #[default]
    Member,
}

/// Invites up to 50 addresses, checked by the wizard's own e-mail rules (valid, distinct, not
/// the caller's); each gets an e-mail with its own link, through the outbox. All or nothing: an
/// address with a pending invitation fails the request with 409 `already_invited`.
#[utoipa::path(
    post,
    path = "/api/organizations/{id}/invitations",
    tag = "organizations",
    summary = "Invite people by e-mail (owners and admins)",
    params(
        ("id" = String, Path, description = "Organization id"),
        ("locale" = Option<Locale>, Query, description = "es or en, for the report (default: Accept-Language, then es)"),
    ),
    request_body(content = InviteRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "The new invitations", body = Invitations),
        (status = 400, description = "Malformed body or no addresses"),
        (status = 403, description = "A member who is not an owner or admin"),
        (status = 404, description = "Not found or not a member"),
        (status = 409, description = "An address already has a pending invitation"),
        (status = 422, description = "The addresses break the rules; see `report`"),
        (status = 429, description = "The organization's invitation e-mails of the last 24 hours are at INVITATIONS_PER_DAY"),
    ),
    security(("bearer" = [])),
)]
async fn invite(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    Query(q): Query<LocaleQuery>,
    headers: HeaderMap,
    super::Json(req): super::Json<InviteRequest>,
) -> Result<(StatusCode, Json<Invitations>), ApiError> {
    let locale = locale(q.locale.as_deref(), &headers)?;
    manager_of(&state, &user, &id).await?;
    let role = match req.role {
        InviteRole::Admin => Role::Admin,
        InviteRole::Member => Role::Member,
    };
    let emails = invitation_emails(req.emails, &user, locale)?;
    let composer = &state.composer;
    let invited = state
        .store
        .create_invitations(
            &user.id,
            &id,
            &emails,
            role,
            state.invitation_ttl_ms,
            state.invitation_caps,
            compose_as(composer, &user),
        )
        .await?;
    match invited {
        Invited::Created(invitations) => {
            Ok((StatusCode::CREATED, Json(Invitations { invitations })))
        }
        Invited::AlreadyPending(emails) => Err(problem(
            StatusCode::CONFLICT,
            "already_invited",
            "Already invited",
            &format!(
                "these addresses already have a pending invitation (resend it instead): {}",
                emails.join(", ")
            ),
        )),
        Invited::OverDailyCap { retry_after_secs } => Err(over_cap(retry_after_secs)),
    }
}

/// The invitation messages `user` sends: the composer's, signed with the user's verified address.
fn compose_as<'a>(
    composer: &'a crate::mail::Composer,
    user: &'a AuthUser,
) -> impl Fn(&crate::store::Letter) -> crate::store::Outgoing + 'a {
    move |letter| {
        composer.invitation(&crate::store::Letter {
            inviter_email: user.email.as_deref(),
            ..*letter
        })
    }
}

/// 429: the invitation e-mails of the last 24 hours, of the organization or of the inviting
/// user, are at the cap.
pub(super) fn over_cap(retry_after_secs: u64) -> ApiError {
    ApiError::TooManyRequests {
        retry_after_secs,
        detail: format!("as many invitation e-mails have been sent as may be in 24 hours (INVITATIONS_PER_DAY per organization, INVITATIONS_PER_USER_PER_DAY per user); nothing was sent; retry in {retry_after_secs} s"),
    }
}

/// The addresses of an invite request, normalized and checked by the wizard's rules for its
/// `review.invite_emails` field (1–50, valid, distinct, not the caller's own); the report's
/// paths name `emails`.
fn invitation_emails(
    emails: Value,
    user: &AuthUser,
    locale: onboarding_core::Locale,
) -> Result<Vec<String>, ApiError> {
    use onboarding_core::validate::FieldValue;
    use onboarding_core::StepId;
    if emails.as_array().is_none_or(|a| a.is_empty()) {
        return Err(ApiError::BadRequest(
            "`emails` must be a list of 1 to 50 e-mail addresses".into(),
        ));
    }
    let step = onboarding_core::normalize_step(StepId::Review, json!({ "invite_emails": emails }));
    let ctx = onboarding_core::Context::new(locale, crate::today(), user.email.as_deref());
    let outcome = onboarding_core::validate::step(StepId::Review, &step, &ctx);
    let value = outcome
        .get(onboarding_core::rules::field::INVITE_EMAILS)
        .cloned();
    let mut report = outcome.report(locale);
    // The review step's other fields (e.g. the required terms) are not part of this request.
    report
        .issues
        .retain(|i| i.path.starts_with("review.invite_emails"));
    if report.errors().next().is_some() {
        for issue in &mut report.issues {
            issue.path = issue.path.replacen("review.invite_emails", "emails", 1);
        }
        report.valid = false;
        return Err(ApiError::Invalid(report));
    }
    match value {
        Some(FieldValue::Emails(list)) => Ok(list),
        _ => Err(ApiError::BadRequest(
            "`emails` must be a list of 1 to 50 e-mail addresses".into(),
        )),
    }
}

fn changed(change: InvitationChange, verb: &str) -> Result<Json<InvitationBody>, ApiError> {
    match change {
        InvitationChange::Done(invitation) => Ok(Json(InvitationBody { invitation })),
        InvitationChange::NotFound => Err(ApiError::NotFound("no such invitation".into())),
        InvitationChange::NotAllowed(s) => Err(problem(
            StatusCode::CONFLICT,
            "invitation_not_pending",
            "Invitation not pending",
            &format!("the invitation is {}: it cannot be {verb}", s.as_str()),
        )),
        InvitationChange::OverDailyCap { retry_after_secs } => Err(over_cap(retry_after_secs)),
        InvitationChange::AlreadyPending => Err(problem(
            StatusCode::CONFLICT,
            "already_invited",
            "Already invited",
            "the address has a newer pending invitation; resend that one",
        )),
    }
}

/// Revokes a pending invitation: its link stops working at once, and its e-mail is not sent if
/// it has not gone out yet.
#[utoipa::path(
    delete,
    path = "/api/organizations/{id}/invitations/{invitation}",
    tag = "organizations",
    summary = "Revoke a pending invitation (owners and admins)",
    params(
        ("id" = String, Path, description = "Organization id"),
        ("invitation" = String, Path, description = "Invitation id"),
    ),
    responses(
        (status = 200, description = "The revoked invitation", body = InvitationBody),
        (status = 403, description = "A member who is not an owner or admin"),
        (status = 404, description = "No such invitation"),
        (status = 409, description = "Not pending (accepted, revoked or expired)"),
    ),
    security(("bearer" = [])),
)]
async fn revoke(
    State(state): State<AppState>,
    user: AuthUser,
    Path((id, invitation)): Path<(String, String)>,
) -> Result<Json<InvitationBody>, ApiError> {
    manager_of(&state, &user, &id).await?;
    let change = state
        .store
        .revoke_invitation(&user.id, &id, &invitation)
        .await?;
    changed(change, "revoked")
}

/// Sends a pending or expired invitation again with a fresh link and expiry: the old link stops
/// working, and its e-mail is cancelled if it has not gone out yet.
#[utoipa::path(
    post,
    path = "/api/organizations/{id}/invitations/{invitation}/resend",
    tag = "organizations",
    summary = "Resend an invitation with a fresh link (owners and admins)",
    params(
        ("id" = String, Path, description = "Organization id"),
        ("invitation" = String, Path, description = "Invitation id"),
    ),
    responses(
        (status = 200, description = "The invitation, pending again", body = InvitationBody),
        (status = 403, description = "A member who is not an owner or admin"),
        (status = 404, description = "No such invitation"),
        (status = 409, description = "Accepted or revoked, or the address was invited again since"),
        (status = 429, description = "The organization's invitation e-mails of the last 24 hours are at INVITATIONS_PER_DAY"),
    ),
    security(("bearer" = [])),
)]
async fn resend(
    State(state): State<AppState>,
    user: AuthUser,
    Path((id, invitation)): Path<(String, String)>,
) -> Result<Json<InvitationBody>, ApiError> {
    manager_of(&state, &user, &id).await?;
    let composer = &state.composer;
    let change = state
        .store
        .resend_invitation(
            &user.id,
            &id,
            &invitation,
            state.invitation_ttl_ms,
            state.invitation_caps,
            compose_as(composer, &user),
        )
        .await?;
    changed(change, "resent")
}

#[derive(Deserialize, ToSchema)]
struct AcceptRequest {
    /// The 64 hexadecimal characters after `#token=` in the e-mail's link.
    #[schema(pattern = "^[0-9a-fA-F]{64}$")]
    token: String,
}

/// The bytes of an invitation token as the e-mail's link carries it (64 hexadecimal characters).
fn token_bytes(token: &str) -> Result<Vec<u8>, ApiError> {
    hex::decode(token.trim())
        .ok()
        .filter(|b| b.len() == 32)
        .ok_or_else(|| ApiError::BadRequest("token must be 64 hexadecimal characters".into()))
}

/// What the invitation's landing page shows before sign-in: the organization, who invited, and
/// whether the invitation can still be accepted. Only the holder of the token learns this (the
/// token is 256 random bits, sent in the body, never in a URL the server logs).
#[utoipa::path(
    post,
    path = "/api/invitations/preview",
    tag = "organizations",
    summary = "What an invitation is for, before sign-in (the token's holder)",
    request_body(content = AcceptRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The organization, the inviter and the invitation's state", body = InvitationPreview),
        (status = 400, description = "Malformed token"),
        (status = 404, description = "Unknown token (never issued, or replaced by a resend)"),
    ),
)]
async fn preview_invitation(
    State(state): State<AppState>,
    super::Json(req): super::Json<AcceptRequest>,
) -> Result<Json<InvitationPreview>, ApiError> {
    let bytes = token_bytes(&req.token)?;
    state
        .store
        .invitation_preview(&token_hash(&bytes))
        .await?
        .map(Json)
        .ok_or_else(|| {
            ApiError::NotFound(
                "no invitation has this link: it may have been replaced by a newer one".into(),
            )
        })
}

/// Joins the organization in the invitation's role: the token must be the current one of a
/// pending, unexpired invitation for the signed-in user's e-mail address. Single use.
#[utoipa::path(
    post,
    path = "/api/invitations/accept",
    tag = "organizations",
    summary = "Accept an invitation (the invited address only, once, unexpired)",
    request_body(content = AcceptRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Joined: the organization and the role", body = Joined),
        (status = 400, description = "Malformed token"),
        (status = 403, description = "The token carries no e-mail address (`email_unknown`), one it says is not verified (`email_unverified`), or the invitation is for another address (`invitation_for_another_address`)"),
        (status = 404, description = "Unknown token (never issued, or replaced by a resend)"),
        (status = 409, description = "Already accepted (`invitation_used`)"),
        (status = 410, description = "Revoked (`invitation_revoked`) or expired (`invitation_expired`)"),
    ),
    security(("bearer" = [])),
)]
async fn accept(
    State(state): State<AppState>,
    user: AuthUser,
    super::Json(req): super::Json<AcceptRequest>,
) -> Result<Json<Joined>, ApiError> {
    let bytes = token_bytes(&req.token)?;
    // The invitation is for an address: a token without one cannot show it is the invitee's.
    if user.unverified_email {
        return Err(problem(
            StatusCode::FORBIDDEN,
            "email_unverified",
            "E-mail address not verified",
            "your identity provider says your e-mail address is not verified, so the invitation cannot be matched to you; verify the address with your provider and sign in again",
        ));
    }
    let Some(email) = user.email.as_deref() else {
        return Err(problem(
            StatusCode::FORBIDDEN,
            "email_unknown",
            "E-mail address unknown",
            "your sign-in token carries no e-mail address, so the invitation cannot be matched to you; sign in with an identity that has one",
        ));
    };
    let email = onboarding_core::email::normalize(email);
    let outcome = state
        .store
        .accept_invitation(&user.id, &email, &token_hash(&bytes))
        .await?;
    match outcome {
        Acceptance::Joined {
            organization_id,
            role,
        } => Ok(Json(Joined {
            organization_id,
            role,
        })),
        Acceptance::Unknown => Err(ApiError::NotFound(
            "no invitation has this link: it may have been replaced by a newer one".into(),
        )),
        Acceptance::ForAnotherAddress => Err(problem(
            StatusCode::FORBIDDEN,
            "invitation_for_another_address",
            "Invitation for another address",
            "this invitation was sent to another e-mail address; sign in with that address",
        )),
        Acceptance::Used => Err(problem(
            StatusCode::CONFLICT,
            "invitation_used",
            "Invitation already used",
            "this invitation has already been accepted",
        )),
        Acceptance::Revoked => Err(problem(
            StatusCode::GONE,
            "invitation_revoked",
            "Invitation revoked",
            "this invitation was revoked; ask the organization for a new one",
        )),
        Acceptance::Expired => Err(problem(
            StatusCode::GONE,
            "invitation_expired",
            "Invitation expired",
            "this invitation has expired; ask the organization to send it again",
        )),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RoleRequest {
    role: Role,
}

/// Changes a member's role (owners only); the organization keeps at least one owner.
#[utoipa::path(
    patch,
    path = "/api/organizations/{id}/members/{user}",
    tag = "organizations",
    summary = "Change a member's role (owners)",
    params(
        ("id" = String, Path, description = "Organization id"),
        ("user" = String, Path, description = "The member's user id"),
    ),
    request_body(content = RoleRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The members after the change", body = Members),
        (status = 400, description = "Malformed body"),
        (status = 403, description = "Not an owner"),
        (status = 404, description = "No such organization or member"),
        (status = 409, description = "It would leave no owner (`last_owner`)"),
    ),
    security(("bearer" = [])),
)]
async fn set_member_role(
    State(state): State<AppState>,
    user: AuthUser,
    Path((id, member)): Path<(String, String)>,
    super::Json(req): super::Json<RoleRequest>,
) -> Result<Json<Members>, ApiError> {
    owner_of(&state, &user, &id).await?;
    let change = state
        .store
        .set_member_role(&user.id, &id, &member, req.role)
        .await?;
    member_changed(change)?;
    Ok(Json(Members {
        members: state.store.members(&user.id, &id).await?,
    }))
}

/// Removes a member (owners only); the organization keeps at least one owner.
#[utoipa::path(
    delete,
    path = "/api/organizations/{id}/members/{user}",
    tag = "organizations",
    summary = "Remove a member (owners)",
    params(
        ("id" = String, Path, description = "Organization id"),
        ("user" = String, Path, description = "The member's user id"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Not an owner"),
        (status = 404, description = "No such organization or member"),
        (status = 409, description = "It would leave no owner (`last_owner`)"),
    ),
    security(("bearer" = [])),
)]
async fn remove_member(
    State(state): State<AppState>,
    user: AuthUser,
    Path((id, member)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    owner_of(&state, &user, &id).await?;
    let change = state.store.remove_member(&user.id, &id, &member).await?;
    member_changed(change)?;
    Ok(StatusCode::NO_CONTENT)
}

fn member_changed(change: MemberChange) -> Result<(), ApiError> {
    match change {
        MemberChange::Done => Ok(()),
        MemberChange::NotFound => Err(ApiError::NotFound("no such member".into())),
        MemberChange::LastOwner => Err(problem(
            StatusCode::CONFLICT,
            "last_owner",
            "Last owner",
            "an organization keeps at least one owner: make another member an owner first",
        )),
    }
}

/// Owners and admins manage invitations: other members get 403, non-members 404.
async fn manager_of(state: &AppState, user: &AuthUser, id: &str) -> Result<Role, ApiError> {
    match state.store.role_in(&user.id, id).await? {
        Some(role) if role.manages_invitations() => Ok(role),
        Some(_) => Err(ApiError::Forbidden(
            "only the organization's owners and admins manage its invitations".into(),
        )),
        None => Err(ApiError::NotFound("no such organization".into())),
    }
}

/// Only owners change memberships.
async fn owner_of(state: &AppState, user: &AuthUser, id: &str) -> Result<(), ApiError> {
    match state.store.role_in(&user.id, id).await? {
        Some(Role::Owner) => Ok(()),
        Some(_) => Err(ApiError::Forbidden(
            "only the organization's owners change its members".into(),
        )),
        None => Err(ApiError::NotFound("no such organization".into())),
    }
}

async fn member_of(state: &AppState, user: &AuthUser, id: &str) -> Result<(), ApiError> {
    if state.store.role_in(&user.id, id).await?.is_some() {
        Ok(())
    } else {
        Err(ApiError::NotFound("no such organization".into()))
    }
}

#[utoipa::path(
    get,
    path = "/api/organizations/{id}",
    tag = "organizations",
    summary = "An organization (members only)",
    params(
        ("id" = String, Path, description = "Organization id"),
    ),
    responses(
        (status = 200, description = "Organization", body = crate::store::Organization),
        (status = 404, description = "Not found or not a member"),
    ),
    security(("bearer" = [])),
)]
async fn organization(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<crate::store::Organization>, ApiError> {
    member_of(&state, &user, &id).await?;
    let org = state
        .store
        .organization(&user.id, &id)
        .await?
        .ok_or_else(|| ApiError::NotFound("no such organization".into()))?;
    Ok(Json(org))
}

#[utoipa::path(
    get,
    path = "/api/organizations/{id}/objectives",
    tag = "organizations",
    summary = "Objectives with key results (members only)",
    params(
        ("id" = String, Path, description = "Organization id"),
    ),
    responses(
        (status = 200, description = "Objectives", body = Objectives),
        (status = 404, description = "Not found or not a member"),
    ),
    security(("bearer" = [])),
)]
async fn objectives(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<Objectives>, ApiError> {
    member_of(&state, &user, &id).await?;
    Ok(Json(Objectives {
        objectives: state.store.objectives(&user.id, &id).await?,
    }))
}

#[utoipa::path(
    get,
    path = "/api/organizations/{id}/members",
    tag = "organizations",
    summary = "Members (members only)",
    params(
        ("id" = String, Path, description = "Organization id"),
    ),
    responses(
        (status = 200, description = "Members", body = Members),
        (status = 404, description = "Not found or not a member"),
    ),
    security(("bearer" = [])),
)]
async fn members(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<Members>, ApiError> {
    member_of(&state, &user, &id).await?;
    Ok(Json(Members {
        members: state.store.members(&user.id, &id).await?,
    }))
}
