//! Invitations and their lifecycle, once for both engines: pending → accepted, revoked or
//! expired; at most one pending invitation per address per organization (a unique index). Every
//! change that gives out a token writes the e-mail that carries it to the outbox in the same
//! transaction, so there is never an invitation without its message or the reverse. Tokens are
//! stored only as their SHA-256. Also members' roles, and the changes that keep an owner. The
//! engines lock, read and write; the functions here decide.

use crate::completion::{over_daily_cap, InvitationCaps};
use crate::outbox::Outgoing;
use crate::{new_id, Backend};
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

/// What an invitation's landing page shows its token's holder before sign-in.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct InvitationPreview {
    /// The organization's name.
    pub organization: String,
    /// The inviter's full name, when they gave one.
    pub inviter: Option<String>,
    /// As of now: a pending invitation past its expiry is `expired`.
    pub state: InvitationState,
    pub expires_at: i64,
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

/// A new invitation token: 32 random bytes, given out as hex (in the e-mail only) and stored as
/// the SHA-256 of the bytes, so the database never holds a usable token.
pub fn new_invitation_token() -> (String, String) {
    let token: [u8; 32] = rand::random();
    (hex::encode(token), token_hash(&token))
}

/// The stored form of a token's bytes.
pub fn token_hash(token: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(token))
}

/// The outcome of creating invitations.
#[derive(Debug)]
pub enum Invited {
    Created(Vec<Invitation>),
    /// These addresses already have a pending invitation: nothing was created.
    AlreadyPending(Vec<String>),
    /// The organization's e-mails of the last 24 hours would pass the daily cap: nothing was
    /// created; one can be sent again after that many seconds.
    OverDailyCap {
        retry_after_secs: u64,
    },
}

/// The outcome of revoking or resending one invitation.
#[derive(Debug)]
pub enum InvitationChange {
    Done(Invitation),
    NotFound,
    /// The invitation is not in a state that allows it (e.g. already accepted).
    NotAllowed(InvitationState),
    /// Resending an expired invitation whose address has since been invited again.
    AlreadyPending,
    /// See [`Invited::OverDailyCap`].
    OverDailyCap {
        retry_after_secs: u64,
    },
}

/// The outcome of accepting a token.
#[derive(Debug, PartialEq, Eq)]
pub enum Acceptance {
    Joined {
        organization_id: String,
        role: Role,
    },
    /// No invitation has this token (never issued, or replaced by a resend).
    Unknown,
    /// The invitation is for another address.
    ForAnotherAddress,
    Used,
    Revoked,
    Expired,
}

/// The outcome of changing or removing a membership.
#[derive(Debug, PartialEq, Eq)]
pub enum MemberChange {
    Done,
    NotFound,
    /// The change would leave the organization without an owner.
    LastOwner,
}

/// What an invitation's message is made from.
#[derive(Clone, Copy, Debug)]
pub struct Letter<'a> {
    pub to: &'a str,
    pub token: &'a str,
    pub organization: &'a str,
    /// The organization's language (`es` or `en`).
    pub language: &'a str,
    /// The inviter's full name, when they have a profile.
    pub inviter: Option<&'a str>,
    /// The inviter's verified e-mail address, when their token carries one.
    pub inviter_email: Option<&'a str>,
}

/// What the message of an invitation needs besides its address and token.
#[derive(Clone, Debug)]
pub struct Sender {
    pub organization: String,
    pub language: String,
    /// The inviter's full name, when they have a profile.
    pub inviter: Option<String>,
}

impl Sender {
    /// The letter inviting `to` with `token`.
    pub fn letter<'a>(&'a self, to: &'a str, token: &'a str) -> Letter<'a> {
        Letter {
            to,
            token,
            organization: &self.organization,
            language: &self.language,
            inviter: self.inviter.as_deref(),
            // (The caller's `compose` adds the address, from the request's token.)
            inviter_email: None,
        }
    }
}

/// A new invitation's row.
#[derive(Clone, Debug)]
pub struct NewInvitationRow<'a> {
    pub id: &'a str,
    pub organization_id: &'a str,
    pub email: &'a str,
    pub role: Role,
    pub token_hash: &'a str,
    pub expires_at: i64,
    pub invited_by: &'a str,
    pub at: i64,
}

/// A message for the outbox, due at once.
#[derive(Clone, Debug)]
pub struct NewMail<'a> {
    pub organization_id: &'a str,
    pub invitation_id: Option<&'a str>,
    pub sent_by: &'a str,
    pub mail: &'a Outgoing,
    pub at: i64,
}

/// An invitation as its token finds it (across tenants: the invitee is not a member yet), its
/// row locked for the rest of the transaction.
#[derive(Clone, Debug)]
pub struct TokenInvitation {
    pub id: String,
    pub organization_id: String,
    pub role: Role,
    pub state: InvitationState,
    pub email: String,
    pub expires_at: i64,
}

/// Invites `emails` (normalized, distinct, validated by the caller) to `org` as `role`, each
/// with a token that only its e-mail carries, valid for `ttl_ms`. One transaction: the
/// invitations and their outbox messages, or nothing (when an address already has a pending
/// one, or the e-mails would pass a daily cap).
#[allow(clippy::too_many_arguments)]
pub async fn create<B: Backend>(
    db: &B,
    user: &str,
    org: &str,
    emails: &[String],
    role: Role,
    ttl_ms: i64,
    caps: InvitationCaps,
    now: i64,
    compose: impl Fn(&Letter) -> Outgoing,
) -> crate::Result<Invited> {
    let mut tx = db.begin_write(user).await?;
    if let Some(retry_after_secs) =
        over_daily_cap(db, &mut tx, Some(org), user, now, emails.len(), caps).await?
    {
        tx.rollback().await?;
        return Ok(Invited::OverDailyCap { retry_after_secs });
    }
    // A pending invitation past its expiry gives way to a new one.
    db.expire_pending_invitations(&mut tx, org, now).await?;
    let pending = db.pending_invitation_emails(&mut tx, org).await?;
    let taken: Vec<String> = emails
        .iter()
        .filter(|e| pending.contains(e))
        .cloned()
        .collect();
    if !taken.is_empty() {
        tx.rollback().await?;
        return Ok(Invited::AlreadyPending(taken));
    }
    let sender = db.sender(&mut tx, user, org).await?;
    let mut ids = Vec::with_capacity(emails.len());
    for email in emails {
        let id = new_id();
        let (token, hash) = new_invitation_token();
        let row = NewInvitationRow {
            id: &id,
            organization_id: org,
            email,
            role,
            token_hash: &hash,
            expires_at: now.saturating_add(ttl_ms),
            invited_by: user,
            at: now,
        };
        match db.insert_invitation(&mut tx, &row).await {
            Ok(()) => {}
            // Invited at the same moment by another request.
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                tx.rollback().await?;
                return Ok(Invited::AlreadyPending(vec![email.clone()]));
            }
            Err(e) => return Err(e),
        }
        let mail = compose(&sender.letter(email, &token));
        let message = NewMail {
            organization_id: org,
            invitation_id: Some(&id),
            sent_by: user,
            mail: &mail,
            at: now,
        };
        db.enqueue_mail(&mut tx, &message).await?;
        ids.push(id);
    }
    let mut created = Vec::with_capacity(ids.len());
    for id in &ids {
        if let Some(invitation) = db.invitation(&mut tx, org, id, now).await? {
            created.push(invitation);
        }
    }
    tx.commit().await?;
    Ok(Invited::Created(created))
}

/// Revokes a pending invitation: its token stops working and its e-mail, if not yet sent, is
/// cancelled.
pub async fn revoke<B: Backend>(
    db: &B,
    user: &str,
    org: &str,
    invitation: &str,
    now: i64,
) -> crate::Result<InvitationChange> {
    let mut tx = db.begin_write(user).await?;
    if !db.revoke_invitation(&mut tx, org, invitation, now).await? {
        let change = refusal(db, &mut tx, org, invitation, now).await?;
        tx.rollback().await?;
        return Ok(change);
    }
    db.cancel_mail(&mut tx, invitation, now).await?;
    let invitation = db.invitation(&mut tx, org, invitation, now).await?;
    tx.commit().await?;
    Ok(invitation.map_or(InvitationChange::NotFound, InvitationChange::Done))
}

/// Gives a pending (or expired) invitation a fresh token and expiry, cancels its unsent e-mail
/// and queues a new one: only the new link works.
#[allow(clippy::too_many_arguments)]
pub async fn resend<B: Backend>(
    db: &B,
    user: &str,
    org: &str,
    invitation: &str,
    ttl_ms: i64,
    caps: InvitationCaps,
    now: i64,
    compose: impl Fn(&Letter) -> Outgoing,
) -> crate::Result<InvitationChange> {
    let (token, hash) = new_invitation_token();
    let mut tx = db.begin_write(user).await?;
    if let Some(retry_after_secs) =
        over_daily_cap(db, &mut tx, Some(org), user, now, 1, caps).await?
    {
        tx.rollback().await?;
        return Ok(InvitationChange::OverDailyCap { retry_after_secs });
    }
    let expires_at = now.saturating_add(ttl_ms);
    let email = match db
        .renew_invitation(&mut tx, org, invitation, &hash, expires_at, now)
        .await
    {
        Ok(Some(email)) => email,
        Ok(None) => {
            let change = refusal(db, &mut tx, org, invitation, now).await?;
            tx.rollback().await?;
            return Ok(change);
        }
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            tx.rollback().await?;
            return Ok(InvitationChange::AlreadyPending);
        }
        Err(e) => return Err(e),
    };
    db.cancel_mail(&mut tx, invitation, now).await?;
    let sender = db.sender(&mut tx, user, org).await?;
    let mail = compose(&sender.letter(&email, &token));
    let message = NewMail {
        organization_id: org,
        invitation_id: Some(invitation),
        sent_by: user,
        mail: &mail,
        at: now,
    };
    db.enqueue_mail(&mut tx, &message).await?;
    let invitation = db.invitation(&mut tx, org, invitation, now).await?;
    tx.commit().await?;
    Ok(invitation.map_or(InvitationChange::NotFound, InvitationChange::Done))
}

/// Why an invitation of `org` could not be changed: unknown, or its state.
async fn refusal<B: Backend>(
    db: &B,
    tx: &mut crate::Tx<B::Db>,
    org: &str,
    invitation: &str,
    now: i64,
) -> crate::Result<InvitationChange> {
    Ok(match db.invitation(tx, org, invitation, now).await? {
        Some(i) => InvitationChange::NotAllowed(i.state),
        None => InvitationChange::NotFound,
    })
}

/// Accepts the invitation whose token has `token_hash` for `user`, whose address (`email`, as
/// the rules normalize it, like every stored one: compared exactly) must be the invited one:
/// pending and unexpired, once; the membership in the same transaction.
pub async fn accept<B: Backend>(
    db: &B,
    user: &str,
    email: &str,
    token_hash: &str,
    now: i64,
) -> crate::Result<Acceptance> {
    let mut tx = db.begin_write(user).await?;
    let Some(invitation) = db.invitation_by_token(&mut tx, token_hash).await? else {
        tx.rollback().await?;
        return Ok(Acceptance::Unknown);
    };
    let refused = if invitation.email != email {
        Some(Acceptance::ForAnotherAddress)
    } else {
        match invitation.state {
            InvitationState::Pending if invitation.expires_at > now => None,
            InvitationState::Pending | InvitationState::Expired => Some(Acceptance::Expired),
            InvitationState::Accepted => Some(Acceptance::Used),
            InvitationState::Revoked => Some(Acceptance::Revoked),
        }
    };
    if let Some(refused) = refused {
        tx.rollback().await?;
        return Ok(refused);
    }
    db.accept_invitation(&mut tx, &invitation.id, user, now)
        .await?;
    // Already a member: the invitation is used up all the same.
    db.join_organization(
        &mut tx,
        &invitation.organization_id,
        user,
        invitation.role,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Acceptance::Joined {
        organization_id: invitation.organization_id,
        role: invitation.role,
    })
}

/// Changes a member's role (`Some`) or removes the member (`None`), keeping at least one owner.
/// The organization's row is locked first, so two owners demoting each other at once cannot
/// both pass the last-owner check.
pub async fn change_member<B: Backend>(
    db: &B,
    user: &str,
    org: &str,
    member: &str,
    role: Option<Role>,
    now: i64,
) -> crate::Result<MemberChange> {
    let mut tx = db.begin_write(user).await?;
    db.lock_organization(&mut tx, org).await?;
    let Some(current) = db.member_role(&mut tx, org, member).await? else {
        tx.rollback().await?;
        return Ok(MemberChange::NotFound);
    };
    if current == Role::Owner
        && role != Some(Role::Owner)
        && db.count_owners(&mut tx, org).await? <= 1
    {
        tx.rollback().await?;
        return Ok(MemberChange::LastOwner);
    }
    match role {
        Some(role) => db.set_member_role(&mut tx, org, member, role, now).await?,
        None => db.remove_member(&mut tx, org, member).await?,
    }
    tx.commit().await?;
    Ok(MemberChange::Done)
}
