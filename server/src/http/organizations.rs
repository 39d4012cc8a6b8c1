//! Organizations, for their members only: a non-member gets 404 (the id's existence is not
//! disclosed).

use super::AppState;
use crate::auth::AuthUser;
use crate::error::ApiError;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/organizations/{id}", get(organization))
        .route("/api/organizations/{id}/objectives", get(objectives))
        .route("/api/organizations/{id}/members", get(members))
}

async fn member_of(state: &AppState, user: &AuthUser, id: &str) -> Result<(), ApiError> {
    if state.store.role_in(&user.id, id).await?.is_some() {
        Ok(())
    } else {
        Err(ApiError::NotFound("no such organization".into()))
    }
}

async fn organization(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    member_of(&state, &user, &id).await?;
    let org = state
        .store
        .organization(&user.id, &id)
        .await?
        .ok_or_else(|| ApiError::NotFound("no such organization".into()))?;
    Ok(Json(org))
}

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
