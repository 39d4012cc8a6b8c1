//! Invitations and their lifecycle: pending → accepted, revoked or expired; at most one pending
//! invitation per address per organization (a unique index). Every change that gives out a
//! token writes the e-mail that carries it to the outbox in the same transaction
//! (`outbox::enqueue`), so there is never an invitation without its message or the reverse.
//! Tokens are stored only as their SHA-256.

use super::outbox::{enqueue, Letter};
use super::{new_id, Engine, Store, Tx};
use onboarding_store::{Delivery, Invitation, InvitationState, Role};
use onboarding_store::{InvitationCaps, Outgoing};
use sqlx::any::AnyRow;
use sqlx::Row;

/// An invitation row read by the `Any` driver.
fn invitation_from_row(row: &AnyRow) -> Result<Invitation, sqlx::Error> {
    let decode = |e: String| sqlx::Error::Decode(e.into());
    Ok(Invitation {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        role: Role::try_from(row.try_get::<String, _>("role")?).map_err(decode)?,
        state: InvitationState::try_from(row.try_get::<String, _>("state")?).map_err(decode)?,
        invited_by: row.try_get("invited_by")?,
        expires_at: row.try_get("expires_at")?,
        created_at: row.try_get("created_at")?,
        accepted_at: row.try_get("accepted_at")?,
        revoked_at: row.try_get("revoked_at")?,
        delivery: row
            .try_get::<Option<String>, _>("delivery")?
            .map(Delivery::try_from)
            .transpose()
            .map_err(decode)?,
    })
}

/// The columns of [`Invitation`], its state as of `$now` (the statement's first parameter).
const INVITATION_COLUMNS: &str = "i.id, i.email, i.role, \
    case when i.state = 'pending' and i.expires_at <= $1 then 'expired' else i.state end as state, \
    i.invited_by, i.expires_at, i.created_at, i.accepted_at, i.revoked_at, \
    (select o.state from mail_outbox o where o.invitation_id = i.id order by o.created_at desc, o.id limit 1) as delivery";

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

/// What the message of an invitation needs besides its address and token.
struct Sender {
    organization: String,
    language: String,
    inviter: Option<String>,
}

impl Sender {
    /// The letter inviting `to` with `token`.
    fn letter<'a>(&'a self, to: &'a str, token: &'a str) -> Letter<'a> {
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

/// Locks the organization's row (PostgreSQL; on SQLite the one writer already excludes every
/// other write), so changes that check the organization's state queue behind each other.
async fn lock_organization(tx: &mut Tx, engine: Engine, org: &str) -> Result<(), sqlx::Error> {
    if engine == Engine::Postgres {
        sqlx::query("select id from organizations where id = $1 for update")
            .bind(org)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// A day, in ms: the window of the daily caps on invitation e-mails.
const DAY_MS: i64 = 86_400_000;

/// `None` when `adding` more e-mails from `user` for `org` (`None`: an organization being
/// founded, which has sent none) fit both caps of the last 24 hours; else the seconds until
/// enough of them leave the window. The organization's row and the user's lock are taken first
/// (PostgreSQL; SQLite has the one writer), so concurrent requests count in turn.
/// (On the `Any` driver until the invitations move to the typed engines, issue 33; the
/// completion uses `onboarding_store::completion::over_daily_cap`.)
async fn over_daily_cap(
    tx: &mut Tx,
    engine: Engine,
    org: Option<&str>,
    user: &str,
    now: i64,
    adding: usize,
    caps: InvitationCaps,
) -> Result<Option<u64>, sqlx::Error> {
    let adding = i64::try_from(adding).unwrap_or(i64::MAX);
    let mut wait_ms: Option<i64> = None;
    if caps.per_organization > 0 {
        let (sent, oldest) = match org {
            Some(org) => {
                lock_organization(tx, engine, org).await?;
                sent_since(tx, "organization_id", org, now - DAY_MS).await?
            }
            None => (0, now),
        };
        if sent.saturating_add(adding) > i64::from(caps.per_organization) {
            wait_ms = Some(oldest + DAY_MS - now);
        }
    }
    if caps.per_user > 0 {
        if engine == Engine::Postgres {
            sqlx::query("select pg_advisory_xact_lock(hashtextextended('onboarding.invitations:' || $1, 0))")
                .bind(user)
                .execute(&mut **tx)
                .await?;
        }
        let (sent, oldest) = sent_since(tx, "sent_by", user, now - DAY_MS).await?;
        if sent.saturating_add(adding) > i64::from(caps.per_user) {
            wait_ms = Some(wait_ms.unwrap_or(0).max(oldest + DAY_MS - now));
        }
    }
    Ok(wait_ms.map(|ms| u64::try_from(ms.max(1000)).unwrap_or(0).div_ceil(1000)))
}

/// The e-mails whose `column` (`organization_id` or `sent_by`) is `value`, written after
/// `since`, and the oldest one's time.
async fn sent_since(
    tx: &mut Tx,
    column: &str,
    value: &str,
    since: i64,
) -> Result<(i64, i64), sqlx::Error> {
    let sql = format!("select count(*) as n, coalesce(min(created_at), 0) as oldest from mail_outbox where {column} = $1 and created_at > $2");
    let row = sqlx::query(&sql)
        .bind(value)
        .bind(since)
        .fetch_one(&mut **tx)
        .await?;
    Ok((row.try_get("n")?, row.try_get("oldest")?))
}

impl Store {
    /// The organization's invitations, newest first, with their state as of now.
    pub async fn invitations(&self, user: &str, org: &str) -> Result<Vec<Invitation>, sqlx::Error> {
        let sql = format!("select {INVITATION_COLUMNS} from invitations i where i.organization_id = $2 order by i.created_at desc, i.email");
        let rows = self
            .read_all(user, sqlx::query(&sql).bind(self.clock.now_ms()).bind(org))
            .await?;
        rows.iter().map(invitation_from_row).collect()
    }

    async fn invitation_on(
        tx: &mut Tx,
        now: i64,
        org: &str,
        id: &str,
    ) -> Result<Option<Invitation>, sqlx::Error> {
        let sql = format!("select {INVITATION_COLUMNS} from invitations i where i.organization_id = $2 and i.id = $3");
        let row = sqlx::query(&sql)
            .bind(now)
            .bind(org)
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
        row.as_ref().map(invitation_from_row).transpose()
    }

    /// The organization's name and language and the inviter's name, for the message.
    async fn sender(tx: &mut Tx, user: &str, org: &str) -> Result<Sender, sqlx::Error> {
        let row = sqlx::query("select name, language from organizations where id = $1")
            .bind(org)
            .fetch_one(&mut **tx)
            .await?;
        let inviter = sqlx::query("select full_name from profiles where user_id = $1")
            .bind(user)
            .fetch_optional(&mut **tx)
            .await?
            .map(|r| r.try_get("full_name"))
            .transpose()?;
        Ok(Sender {
            organization: row.try_get("name")?,
            language: row.try_get("language")?,
            inviter,
        })
    }

    /// Invites `emails` (normalized, distinct, validated by the caller) as `role`, each with a
    /// token that only its e-mail carries, valid for `ttl_ms`. One transaction: the invitations
    /// and their outbox messages, or nothing (when an address already has a pending one, or the
    /// organization's e-mails of the last 24 hours would pass `daily_cap`).
    #[allow(clippy::too_many_arguments)]
    pub async fn create_invitations(
        &self,
        user: &str,
        org: &str,
        emails: &[String],
        role: Role,
        ttl_ms: i64,
        caps: InvitationCaps,
        compose: impl Fn(&Letter) -> Outgoing,
    ) -> Result<Invited, sqlx::Error> {
        let now = self.clock.now_ms();
        let mut tx = self.begin_write(user).await?;
        if let Some(retry_after_secs) = over_daily_cap(
            &mut tx,
            self.engine,
            Some(org),
            user,
            now,
            emails.len(),
            caps,
        )
        .await?
        {
            tx.rollback().await?;
            return Ok(Invited::OverDailyCap { retry_after_secs });
        }
        // A pending invitation past its expiry gives way to a new one.
        sqlx::query("update invitations set state = 'expired', updated_at = $1 where organization_id = $2 and state = 'pending' and expires_at <= $1")
            .bind(now)
            .bind(org)
            .execute(&mut *tx)
            .await?;
        let pending: Vec<String> = sqlx::query(
            "select email from invitations where organization_id = $1 and state = 'pending'",
        )
        .bind(org)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| r.try_get("email"))
        .collect::<Result<_, _>>()?;
        let taken: Vec<String> = emails
            .iter()
            .filter(|e| pending.contains(e))
            .cloned()
            .collect();
        if !taken.is_empty() {
            tx.rollback().await?;
            return Ok(Invited::AlreadyPending(taken));
        }
        let sender = Self::sender(&mut tx, user, org).await?;
        let mut ids = Vec::with_capacity(emails.len());
        for email in emails {
            let id = new_id();
            let (token, hash) = new_invitation_token();
            let inserted = sqlx::query("insert into invitations (id, organization_id, email, role, token_hash, expires_at, state, invited_by, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $8)")
                .bind(&id)
                .bind(org)
                .bind(email)
                .bind(role.as_str())
                .bind(&hash)
                .bind(now.saturating_add(ttl_ms))
                .bind(user)
                .bind(now)
                .execute(&mut *tx)
                .await;
            match inserted {
                Ok(_) => {}
                // Invited at the same moment by another request.
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                    tx.rollback().await?;
                    return Ok(Invited::AlreadyPending(vec![email.clone()]));
                }
                Err(e) => return Err(e),
            }
            let mail = compose(&sender.letter(email, &token));
            enqueue(&mut tx, org, Some(&id), user, &mail, now).await?;
            ids.push(id);
        }
        let mut created = Vec::with_capacity(ids.len());
        for id in &ids {
            if let Some(invitation) = Self::invitation_on(&mut tx, now, org, id).await? {
                created.push(invitation);
            }
        }
        tx.commit().await?;
        Ok(Invited::Created(created))
    }

    /// Revokes a pending invitation: its token stops working and its e-mail, if not yet sent,
    /// is cancelled.
    pub async fn revoke_invitation(
        &self,
        user: &str,
        org: &str,
        invitation: &str,
    ) -> Result<InvitationChange, sqlx::Error> {
        let now = self.clock.now_ms();
        let mut tx = self.begin_write(user).await?;
        let revoked = sqlx::query("update invitations set state = 'revoked', revoked_at = $1, updated_at = $1 where id = $2 and organization_id = $3 and state = 'pending' returning id")
            .bind(now)
            .bind(invitation)
            .bind(org)
            .fetch_optional(&mut *tx)
            .await?;
        if revoked.is_none() {
            let change = Self::refusal(&mut tx, now, org, invitation).await?;
            tx.rollback().await?;
            return Ok(change);
        }
        cancel_mail(&mut tx, invitation, now).await?;
        let invitation = Self::invitation_on(&mut tx, now, org, invitation).await?;
        tx.commit().await?;
        Ok(invitation.map_or(InvitationChange::NotFound, InvitationChange::Done))
    }

    /// Gives a pending (or expired) invitation a fresh token and expiry, cancels its unsent
    /// e-mail and queues a new one: only the new link works.
    pub async fn resend_invitation(
        &self,
        user: &str,
        org: &str,
        invitation: &str,
        ttl_ms: i64,
        caps: InvitationCaps,
        compose: impl Fn(&Letter) -> Outgoing,
    ) -> Result<InvitationChange, sqlx::Error> {
        let now = self.clock.now_ms();
        let (token, hash) = new_invitation_token();
        let mut tx = self.begin_write(user).await?;
        if let Some(retry_after_secs) =
            over_daily_cap(&mut tx, self.engine, Some(org), user, now, 1, caps).await?
        {
            tx.rollback().await?;
            return Ok(InvitationChange::OverDailyCap { retry_after_secs });
        }
        let updated = sqlx::query("update invitations set token_hash = $1, expires_at = $2, state = 'pending', updated_at = $3 where id = $4 and organization_id = $5 and state in ('pending', 'expired') returning email")
            .bind(&hash)
            .bind(now.saturating_add(ttl_ms))
            .bind(now)
            .bind(invitation)
            .bind(org)
            .fetch_optional(&mut *tx)
            .await;
        let email: String = match updated {
            Ok(Some(row)) => row.try_get("email")?,
            Ok(None) => {
                let change = Self::refusal(&mut tx, now, org, invitation).await?;
                tx.rollback().await?;
                return Ok(change);
            }
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                tx.rollback().await?;
                return Ok(InvitationChange::AlreadyPending);
            }
            Err(e) => return Err(e),
        };
        cancel_mail(&mut tx, invitation, now).await?;
        let sender = Self::sender(&mut tx, user, org).await?;
        let mail = compose(&sender.letter(&email, &token));
        enqueue(&mut tx, org, Some(invitation), user, &mail, now).await?;
        let invitation = Self::invitation_on(&mut tx, now, org, invitation).await?;
        tx.commit().await?;
        Ok(invitation.map_or(InvitationChange::NotFound, InvitationChange::Done))
    }

    /// Why an invitation of `org` could not be changed: unknown, or its state.
    async fn refusal(
        tx: &mut Tx,
        now: i64,
        org: &str,
        invitation: &str,
    ) -> Result<InvitationChange, sqlx::Error> {
        Ok(match Self::invitation_on(tx, now, org, invitation).await? {
            Some(i) => InvitationChange::NotAllowed(i.state),
            None => InvitationChange::NotFound,
        })
    }

    /// Accepts an invitation for `user` (whose address must be the invited one): pending and
    /// unexpired, once; creates the membership in the same transaction.
    pub async fn accept_invitation(
        &self,
        user: &str,
        email: &str,
        token_hash: &str,
    ) -> Result<Acceptance, sqlx::Error> {
        let now = self.clock.now_ms();
        let mut tx = self.begin_write(user).await?;
        let claim = match self.engine {
            // (The function records the user from the transaction's `app.user_id`.)
            Engine::Postgres => sqlx::query("select organization_id, role from onboarding_claim_invitation($1, $2, $3)"),
            Engine::Sqlite => sqlx::query("update invitations set state = 'accepted', accepted_at = $3, accepted_by = $4, updated_at = $3 where token_hash = $1 and state = 'pending' and expires_at > $3 and email = $2 returning organization_id, role"),
        }
        .bind(token_hash)
        .bind(email)
        .bind(now);
        let claim = match self.engine {
            Engine::Postgres => claim,
            Engine::Sqlite => claim.bind(user),
        };
        let Some(row) = claim.fetch_optional(&mut *tx).await? else {
            let why = match self.engine {
                // Row-level security hides the invitation from a non-member: a security-definer
                // function reads it (migration 0008).
                Engine::Postgres => sqlx::query("select state, email from onboarding_invitation_by_token($1, $2, $3)")
                    .bind(token_hash)
                    .bind(email)
                    .bind(now),
                Engine::Sqlite => sqlx::query("select case when state = 'pending' and expires_at <= $2 then 'expired' else state end as state, email from invitations where token_hash = $1")
                    .bind(token_hash)
                    .bind(now),
            };
            let row = why.fetch_optional(&mut *tx).await?;
            tx.rollback().await?;
            let Some(row) = row else {
                return Ok(Acceptance::Unknown);
            };
            let (state, invited): (String, String) = (row.try_get("state")?, row.try_get("email")?);
            // Both addresses are as the rules normalize them (the caller's, and every stored
            // one): compared exactly, on both engines.
            if invited != email {
                return Ok(Acceptance::ForAnotherAddress);
            }
            return Ok(match InvitationState::try_from(state) {
                Ok(InvitationState::Accepted) => Acceptance::Used,
                Ok(InvitationState::Revoked) => Acceptance::Revoked,
                // Pending again cannot be (the claim would have taken it): treat as expired.
                Ok(InvitationState::Expired | InvitationState::Pending) => Acceptance::Expired,
                Err(e) => return Err(sqlx::Error::Decode(e.into())),
            });
        };
        let (org, role): (String, String) = (row.try_get("organization_id")?, row.try_get("role")?);
        let role = Role::try_from(role).map_err(|e| sqlx::Error::Decode(e.into()))?;
        let mut attempt = sqlx::Connection::begin(&mut *tx).await?;
        let joined = sqlx::query("insert into memberships (id, organization_id, user_id, role, created_at, updated_at) values ($1, $2, $3, $4, $5, $5)")
            .bind(new_id())
            .bind(&org)
            .bind(user)
            .bind(role.as_str())
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
        Ok(Acceptance::Joined {
            organization_id: org,
            role,
        })
    }

    /// Changes a member's role (owners only, checked by the caller and, on PostgreSQL, by
    /// row-level security), keeping at least one owner.
    pub async fn set_member_role(
        &self,
        user: &str,
        org: &str,
        member: &str,
        role: Role,
    ) -> Result<MemberChange, sqlx::Error> {
        self.change_member(user, org, member, Some(role)).await
    }

    /// Removes a member (owners only), keeping at least one owner.
    pub async fn remove_member(
        &self,
        user: &str,
        org: &str,
        member: &str,
    ) -> Result<MemberChange, sqlx::Error> {
        self.change_member(user, org, member, None).await
    }

    async fn change_member(
        &self,
        user: &str,
        org: &str,
        member: &str,
        role: Option<Role>,
    ) -> Result<MemberChange, sqlx::Error> {
        let now = self.clock.now_ms();
        let mut tx = self.begin_write(user).await?;
        // Membership changes of one organization queue on its row, so two owners demoting each
        // other at once cannot both pass the last-owner check.
        lock_organization(&mut tx, self.engine, org).await?;
        let current =
            sqlx::query("select role from memberships where organization_id = $1 and user_id = $2")
                .bind(org)
                .bind(member)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(current) = current else {
            tx.rollback().await?;
            return Ok(MemberChange::NotFound);
        };
        let current = Role::try_from(current.try_get::<String, _>("role")?)
            .map_err(|e| sqlx::Error::Decode(e.into()))?;
        if current == Role::Owner && role != Some(Role::Owner) {
            let owners: i64 = sqlx::query("select count(*) as n from memberships where organization_id = $1 and role = 'owner'")
                .bind(org)
                .fetch_one(&mut *tx)
                .await?
                .try_get("n")?;
            if owners <= 1 {
                tx.rollback().await?;
                return Ok(MemberChange::LastOwner);
            }
        }
        match role {
            Some(role) => sqlx::query("update memberships set role = $1, updated_at = $2 where organization_id = $3 and user_id = $4")
                .bind(role.as_str())
                .bind(now)
                .bind(org)
                .bind(member),
            None => sqlx::query("delete from memberships where organization_id = $1 and user_id = $2")
                .bind(org)
                .bind(member),
        }
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(MemberChange::Done)
    }
}

/// Cancels the invitation's unsent messages (their bodies hold a token that no longer works).
async fn cancel_mail(tx: &mut Tx, invitation: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("update mail_outbox set state = 'cancelled', body = null, lease_until = null, updated_at = $1 where invitation_id = $2 and state = 'pending'")
        .bind(now)
        .bind(invitation)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
