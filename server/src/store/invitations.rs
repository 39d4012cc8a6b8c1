//! Invitations: listing, a fresh token, acceptance (single use, for the invited address).

use super::{new_id, Engine, Store};
use serde::Serialize;
use sqlx::{FromRow, Row};

/// An invitation as its organization's members see it (never its token).
#[derive(Clone, Debug, Serialize, FromRow)]
pub struct Invitation {
    pub id: String,
    pub email: String,
    pub role: String,
    pub expires_at: i64,
    pub accepted_at: Option<i64>,
}

/// Invitations are valid for 7 days.
pub const INVITATION_TTL_MS: i64 = 7 * 24 * 3600 * 1000;

impl Store {
    /// Gives the invitation a new token (returned once, stored hashed) and a fresh 7-day expiry;
    /// `None` when there is no such pending invitation in the organization.
    pub async fn rotate_invitation_token(
        &self,
        user: &str,
        org: &str,
        invitation: &str,
        token_hash: &str,
    ) -> Result<Option<String>, sqlx::Error> {
        let now = self.clock.now_ms();
        let mut tx = self.begin_write(user).await?;
        let row = sqlx::query("update invitations set token_hash = $1, expires_at = $2, updated_at = $3 where id = $4 and organization_id = $5 and accepted_at is null returning email")
            .bind(token_hash)
            .bind(now + INVITATION_TTL_MS)
            .bind(now)
            .bind(invitation)
            .bind(org)
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        row.map(|r| r.try_get("email")).transpose()
    }

    pub async fn invitations(&self, user: &str, org: &str) -> Result<Vec<Invitation>, sqlx::Error> {
        let rows = self
            .read_all(
                user,
                sqlx::query("select id, email, role, expires_at, accepted_at from invitations where organization_id = $1 order by created_at, email")
                    .bind(org),
            )
            .await?;
        rows.iter().map(Invitation::from_row).collect()
    }

    /// Accepts an invitation for `user` (whose address must be the invited one): single use,
    /// unexpired; creates the membership in the same transaction. Returns the organization id,
    /// or `None` when the token is unknown, used, expired or for another address.
    pub async fn accept_invitation(
        &self,
        user: &str,
        email: &str,
        token_hash: &str,
    ) -> Result<Option<String>, sqlx::Error> {
        let now = self.clock.now_ms();
        let mut tx = self.begin_write(user).await?;
        let claim = match self.engine {
            // (The function records the user from the transaction's `app.user_id`.)
            Engine::Postgres => sqlx::query("select organization_id, role from onboarding_claim_invitation($1, $2, $3)"),
            Engine::Sqlite => sqlx::query("update invitations set accepted_at = $3, accepted_by = $4, updated_at = $3 where token_hash = $1 and accepted_at is null and expires_at > $3 and lower(email) = lower($2) returning organization_id, role"),
        }
        .bind(token_hash)
        .bind(email)
        .bind(now);
        let claim = match self.engine {
            Engine::Postgres => claim,
            Engine::Sqlite => claim.bind(user),
        };
        let claimed = claim.fetch_optional(&mut *tx).await?;
        let Some(row) = claimed else {
            tx.rollback().await?;
            return Ok(None);
        };
        let (org, role): (String, String) = (row.try_get("organization_id")?, row.try_get("role")?);
        let mut attempt = sqlx::Connection::begin(&mut *tx).await?;
        let joined = sqlx::query("insert into memberships (id, organization_id, user_id, role, created_at, updated_at) values ($1, $2, $3, $4, $5, $5)")
            .bind(new_id())
            .bind(&org)
            .bind(user)
            .bind(&role)
            .bind(now)
            .execute(&mut *attempt)
            .await;
        match joined {
            Ok(_) => attempt.commit().await?,
            // Already a member: the invitation is used up all the same.
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => attempt.rollback().await?,
            Err(e) => return Err(e),
        }
        tx.commit().await?;
        Ok(Some(org))
    }
}
