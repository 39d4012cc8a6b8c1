//! Organizations, for their members only: a non-member gets 404 (the id's existence is not
//! disclosed).

use super::AppState;
use super::Path;
use crate::auth::AuthUser;
use crate::error::ApiError;
use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(organization))
        .routes(routes!(objectives))
        .routes(routes!(members))
        .routes(routes!(invitations))
        .routes(routes!(invitation_token))
        .routes(routes!(accept))
}

/// A new invitation token: 32 random bytes, given out as hex and stored as the SHA-256 of the
/// bytes, so the database never holds a usable token.
pub fn new_invitation_token() -> (String, String) {
    let token: [u8; 32] = rand::random();
    (hex::encode(token), token_hash(&token))
}

fn token_hash(token: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(token))
}

#[utoipa::path(
    get,
    path = "/api/organizations/{id}/invitations",
    tag = "organizations",
    summary = "Invitations (members only)",
    params(
        ("id" = String, Path, description = "Organization id"),
    ),
    responses(
        (status = 200, description = "Invitations"),
        (status = 404, description = "Not found or not a member"),
    ),
    security(("bearer" = [])),
)]
async fn invitations(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    member_of(&state, &user, &id).await?;
    Ok(Json(
        json!({ "invitations": state.store.invitations(&user.id, &id).await? }),
    ))
}

/// Issues a fresh token for a pending invitation (the previous one stops working) and returns
/// it once, for the owner or admin to send to the invitee.
#[utoipa::path(
    post,
    path = "/api/organizations/{id}/invitations/{invitation}/token",
    tag = "organizations",
    summary = "Issue a fresh single-use token for a pending invitation",
    params(
        ("id" = String, Path, description = "Organization id"),
        ("invitation" = String, Path, description = "Invitation id"),
    ),
    responses(
        (status = 200, description = "Token, shown once"),
        (status = 403, description = "A member who is not an owner or admin"),
        (status = 404, description = "No such pending invitation"),
    ),
    security(("bearer" = [])),
)]
async fn invitation_token(
    State(state): State<AppState>,
    user: AuthUser,
    Path((id, invitation)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    manager_of(&state, &user, &id).await?;
    let (token, hash) = new_invitation_token();
    let email = state
        .store
        .rotate_invitation_token(&user.id, &id, &invitation, &hash)
        .await?
        .ok_or_else(|| ApiError::NotFound("no such pending invitation".into()))?;
    Ok(Json(
        json!({ "invitation_id": invitation, "email": email, "token": token }),
    ))
}

#[derive(serde::Deserialize)]
struct AcceptRequest {
    token: String,
}

/// Joins the organization: the token must be current, unused, unexpired, and for the signed-in
/// user's e-mail address. Single use.
#[utoipa::path(
    post,
    path = "/api/invitations/accept",
    tag = "organizations",
    summary = "Accept an invitation (the invited address only, once, unexpired)",
    responses(
        (status = 200, description = "Joined"),
        (status = 400, description = "Malformed token"),
        (status = 403, description = "The token carries no e-mail address"),
        (status = 404, description = "Unknown, used or expired"),
    ),
    security(("bearer" = [])),
)]
async fn accept(
    State(state): State<AppState>,
    user: AuthUser,
    super::Json(req): super::Json<AcceptRequest>,
) -> Result<Json<Value>, ApiError> {
    let bytes = hex::decode(req.token.trim())
        .ok()
        .filter(|b| b.len() == 32)
        .ok_or_else(|| ApiError::BadRequest("token must be 64 hexadecimal characters".into()))?;
    // The invitation is for an address: a token without one cannot show it is the invitee's.
    let Some(email) = user.email.as_deref() else {
        return Err(ApiError::Forbidden(
            "your token carries no e-mail address, so the invitation cannot be matched to you; sign in with an identity that has one".into(),
        ));
    };
    let email = onboarding_core::email::normalize(email);
    let org = state
        .store
        .accept_invitation(&user.id, &email, &token_hash(&bytes))
        .await?
        .ok_or_else(|| ApiError::NotFound("no pending invitation for this token and your e-mail address (it may be used or expired)".into()))?;
    Ok(Json(json!({ "organization_id": org, "role": "member" })))
}

/// Owners and admins manage invitations: other members get 403, non-members 404.
async fn manager_of(state: &AppState, user: &AuthUser, id: &str) -> Result<(), ApiError> {
    match state.store.role_in(&user.id, id).await?.as_deref() {
        Some("owner" | "admin") => Ok(()),
        Some(_) => Err(ApiError::Forbidden(
            "only the organization's owners and admins manage its invitations".into(),
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
        (status = 200, description = "Organization"),
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
        (status = 200, description = "Objectives"),
        (status = 404, description = "Not found or not a member"),
    ),
    security(("bearer" = [])),
)]
async fn objectives(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    member_of(&state, &user, &id).await?;
    Ok(Json(
        json!({ "objectives": state.store.objectives(&user.id, &id).await? }),
    ))
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
        (status = 200, description = "Members"),
        (status = 404, description = "Not found or not a member"),
    ),
    security(("bearer" = [])),
)]
async fn members(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    member_of(&state, &user, &id).await?;
    Ok(Json(
        json!({ "members": state.store.members(&user.id, &id).await? }),
    ))
}
