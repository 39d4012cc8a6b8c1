//! Invitations and members' roles as the API shows them: an invitation's state, its e-mail's
//! delivery, and the roles a member can hold.

use serde::Serialize;

/// Where an invitation stands. `Expired` is reported for a pending invitation past its expiry
/// (and written when a new one replaces it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum InvitationState {
    Pending,
    Accepted,
    Revoked,
    Expired,
}

impl InvitationState {
    pub fn as_str(self) -> &'static str {
        match self {
            InvitationState::Pending => "pending",
            InvitationState::Accepted => "accepted",
            InvitationState::Revoked => "revoked",
            InvitationState::Expired => "expired",
        }
    }
}

impl TryFrom<String> for InvitationState {
    type Error = String;
    fn try_from(s: String) -> Result<InvitationState, String> {
        Ok(match s.as_str() {
            "pending" => InvitationState::Pending,
            "accepted" => InvitationState::Accepted,
            "revoked" => InvitationState::Revoked,
            "expired" => InvitationState::Expired,
            _ => return Err(format!("unknown invitation state {s:?}")),
        })
    }
}

/// A member's role. The creator of an organization is its `owner`; invitations are for `admin`
/// or `member`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Admin,
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    /// Owners and admins manage invitations.
    pub fn manages_invitations(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}

impl TryFrom<String> for Role {
    type Error = String;
    fn try_from(s: String) -> Result<Role, String> {
        Ok(match s.as_str() {
            "owner" => Role::Owner,
            "admin" => Role::Admin,
            "member" => Role::Member,
            _ => return Err(format!("unknown role {s:?}")),
        })
    }
}

/// Where an invitation's e-mail stands (its latest outbox message).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Delivery {
    /// Waiting for the delivery worker (or for `SMTP_URL` to be configured).
    Queued,
    Sent,
    /// Given up after `MAIL_MAX_ATTEMPTS`.
    Failed,
    /// Replaced by a resend, or the invitation was revoked before it went out.
    Cancelled,
}

impl TryFrom<String> for Delivery {
    type Error = String;
    fn try_from(s: String) -> Result<Delivery, String> {
        Ok(match s.as_str() {
            "pending" => Delivery::Queued,
            "sent" => Delivery::Sent,
            "dead" => Delivery::Failed,
            "cancelled" => Delivery::Cancelled,
            _ => return Err(format!("unknown outbox state {s:?}")),
        })
    }
}

/// An invitation as its organization's owners and admins see it (never its token).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Invitation {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub state: InvitationState,
    pub invited_by: Option<String>,
    pub expires_at: i64,
    pub created_at: i64,
    pub accepted_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// Where its latest e-mail stands; `None` for invitations made before the outbox existed.
    pub delivery: Option<Delivery>,
}
