//! The mail outbox as its delivery worker and the platform's admins see it. (What a message
//! is made from, and its writing inside the transaction that needs it sent, stay with the
//! operations that send mail.)

use serde::Serialize;

/// A rendered message, ready for the outbox.
#[derive(Clone, Debug)]
pub struct Outgoing {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// A message claimed for delivery.
#[derive(Clone, Debug)]
pub struct Claimed {
    pub id: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    /// Attempts so far, this one included.
    pub attempts: i64,
}

/// A message as platform admins see it (never its body).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct OutboxMessage {
    pub id: String,
    pub organization_id: String,
    pub invitation_id: Option<String>,
    pub recipient: String,
    pub subject: String,
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub sent_at: Option<i64>,
}

/// A pending message in development mode: its address and the link it carries.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DevMessage {
    pub id: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub created_at: i64,
}

/// Messages per state, for `/metrics`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    pub pending: i64,
    pub dead: i64,
}
