//! The completion, once for both engines: in one transaction, the user's open session locked
//! and read after the lock, its draft validated (the caller's `prepare`), the invitation e-mails'
//! daily caps checked, the organization founded under a free slug with its owner, and
//! everything else written at once. The engines lock, read and write; this module decides.

use crate::outbox::Outgoing;
use crate::{new_id, Backend, Result, Session, Tx};
use onboarding_core::Records;

/// What a completion writes, prepared from the session's draft under the lock.
#[derive(Debug)]
pub struct Prepared {
    pub records: Records,
    /// One per invitation of `records`, in order: the SHA-256 of its token and the e-mail that
    /// carries the token (the only place the token is kept, until it is sent).
    pub invitations: Vec<(String, Outgoing)>,
    /// How long the invitations are valid.
    pub invitation_ttl_ms: i64,
    /// The caps the invitations' e-mails must fit.
    pub invitation_caps: InvitationCaps,
}

/// The outcome of a completion.
#[derive(Debug)]
pub enum Completion<E> {
    /// Created now: the response body `respond` rendered (and, with a key, stored).
    Created(String),
    /// The user has no open session (completed, abandoned, expired, or never started).
    NoSession,
    /// `prepare` refused the draft (invalid, stale `If-Match`, expired): nothing was written.
    Refused(E),
    /// The invitations' e-mails would pass a daily cap: nothing was written.
    OverDailyCap { retry_after_secs: u64 },
}

/// A day, in ms: the window of the daily caps on invitation e-mails.
const DAY_MS: i64 = 86_400_000;

/// The caps on invitation e-mails (new and resent) per 24 hours: per organization
/// (`INVITATIONS_PER_DAY`) and per inviting user across all their organizations
/// (`INVITATIONS_PER_USER_PER_DAY`); 0 is no cap. The completion's invitations count.
#[derive(Clone, Copy, Debug)]
pub struct InvitationCaps {
    pub per_organization: u32,
    pub per_user: u32,
}

/// Whose e-mails a cap counts.
#[derive(Clone, Copy, Debug)]
pub enum SentBy<'a> {
    Organization(&'a str),
    User(&'a str),
}

/// `None` when `adding` more e-mails from `user` for `org` (`None`: an organization being
/// founded, which has sent none) fit both caps of the last 24 hours; else the seconds until
/// enough of them leave the window. The organization and the user's sends are locked first
/// (PostgreSQL; SQLite's one writer already excludes other writes), so concurrent requests
/// count in turn.
pub async fn over_daily_cap<B: Backend>(
    db: &B,
    tx: &mut Tx<B::Db>,
    org: Option<&str>,
    user: &str,
    now: i64,
    adding: usize,
    caps: InvitationCaps,
) -> Result<Option<u64>> {
    let adding = i64::try_from(adding).unwrap_or(i64::MAX);
    let mut wait_ms: Option<i64> = None;
    if caps.per_organization > 0 {
        let (sent, oldest) = match org {
            Some(org) => {
                db.lock_organization(tx, org).await?;
                db.mail_sent_since(tx, SentBy::Organization(org), now - DAY_MS)
                    .await?
            }
            None => (0, now),
        };
        if sent.saturating_add(adding) > i64::from(caps.per_organization) {
            wait_ms = Some(oldest + DAY_MS - now);
        }
    }
    if caps.per_user > 0 {
        db.lock_user_sends(tx, user).await?;
        let (sent, oldest) = db
            .mail_sent_since(tx, SentBy::User(user), now - DAY_MS)
            .await?;
        if sent.saturating_add(adding) > i64::from(caps.per_user) {
            wait_ms = Some(wait_ms.unwrap_or(0).max(oldest + DAY_MS - now));
        }
    }
    Ok(wait_ms.map(|ms| u64::try_from(ms.max(1000)).unwrap_or(0).div_ceil(1000)))
}

/// How many slugs a completion tries: the slug, the next numbered one, then random ones.
const SLUG_ATTEMPTS: usize = 5;

/// `slug-2`, `slug-3`…, kept within the slug's 60 characters.
pub fn suffixed(slug: &str, n: u32) -> String {
    let suffix = format!("-{n}");
    let keep = onboarding_core::slug::MAX_LEN
        .saturating_sub(suffix.len())
        .min(slug.len());
    format!("{}{suffix}", slug[..keep].trim_end_matches('-'))
}

/// A new organization's row — the records' organization, with its id, the attempt's slug and
/// its challenges and goals as JSON texts — and its owner's membership.
#[derive(Clone, Debug)]
pub struct NewOrganization<'a> {
    pub id: String,
    /// The attempt's slug (the next one when it is taken).
    pub slug: String,
    pub organization: &'a onboarding_core::transform::Organization,
    pub challenges: String,
    pub goals: String,
    pub created_at: i64,
    pub membership_id: String,
    pub owner: &'a str,
    pub owner_role: &'static str,
}

/// Everything else a completion writes, after the organization and its owner: the session
/// completed, the profile, objectives and key results, invitations and their e-mails, the
/// event and (with a key) the stored response.
#[derive(Clone, Debug)]
pub struct CompletionWrites<'a> {
    pub records: &'a Records,
    pub session_id: &'a str,
    pub organization_id: &'a str,
    pub user: &'a str,
    pub at: i64,
    /// The profile's preferences as JSON text.
    pub preferences: String,
    /// One id per objective, and per key result of each, in order.
    pub objective_ids: Vec<String>,
    pub key_result_ids: Vec<Vec<String>>,
    pub invitations: Vec<NewInvitation<'a>>,
    pub invitations_expire_at: i64,
    pub event_id: String,
    /// The idempotency key and the response stored with it.
    pub idempotency: Option<(&'a str, &'a str)>,
}

/// An invitation the completion writes, with its e-mail.
#[derive(Clone, Debug)]
pub struct NewInvitation<'a> {
    pub id: String,
    pub email: &'a str,
    pub role: &'static str,
    /// The SHA-256 of its token (which only the e-mail carries).
    pub token_hash: &'a str,
    pub mail_id: String,
    pub mail: &'a Outgoing,
}

/// The completion (see the module's doc). `respond` renders the response body from the new
/// organization's id and slug; with an idempotency key it is stored in the same transaction.
/// The draft is read under the session's lock, so the organization is built from exactly the
/// version `prepare` saw: a concurrent save waits, then finds the session completed.
pub async fn complete<B: Backend, E>(
    db: &B,
    user: &str,
    now: i64,
    idempotency_key: Option<&str>,
    prepare: impl FnOnce(&Session) -> std::result::Result<Prepared, E>,
    respond: impl FnOnce(&Prepared, &Session, &str, &str) -> String,
) -> Result<Completion<E>> {
    let mut tx = db.begin_write(user).await?;
    let Some(session) = db.lock_open_session(&mut tx, user).await? else {
        tx.rollback().await?;
        return Ok(Completion::NoSession);
    };
    let session = Session::try_from(session)?;
    let prepared = match prepare(&session) {
        Ok(p) => p,
        Err(e) => {
            tx.rollback().await?;
            return Ok(Completion::Refused(e));
        }
    };
    if !prepared.invitations.is_empty() {
        let caps = prepared.invitation_caps;
        let adding = prepared.invitations.len();
        if let Some(retry_after_secs) =
            over_daily_cap(db, &mut tx, None, user, now, adding, caps).await?
        {
            tx.rollback().await?;
            return Ok(Completion::OverDailyCap { retry_after_secs });
        }
    }
    let records = &prepared.records;
    let o = &records.organization;
    let mut org = NewOrganization {
        id: new_id(),
        slug: o.slug.clone(),
        organization: o,
        challenges: serde_json::to_string(&o.challenges).unwrap_or_default(),
        goals: serde_json::to_string(&o.goals).unwrap_or_default(),
        created_at: now,
        membership_id: new_id(),
        owner: user,
        owner_role: records.membership.role,
    };
    // The slug, then (if taken) the one after the highest numbered suffix in use, then random
    // suffixes: a bounded number of round trips however many slugs are taken.
    for attempt in 0..SLUG_ATTEMPTS {
        if db.found_organization(&mut tx, &org).await? {
            break;
        }
        if attempt + 1 == SLUG_ATTEMPTS {
            // All but impossible (the last attempts' suffixes are random); a 503: a retry
            // draws new ones.
            return Err(sqlx::Error::Protocol(format!(
                "no free slug for {:?} after {SLUG_ATTEMPTS} attempts",
                o.slug
            )));
        }
        org.slug = if attempt == 0 {
            let highest = db.highest_slug_suffix(&mut tx, &o.slug).await?;
            suffixed(&o.slug, highest.saturating_add(1))
        } else {
            // Taken meanwhile, or a 60-character slug whose suffixed form cuts into it.
            suffixed(&o.slug, rand_suffix())
        };
    }
    let body = respond(&prepared, &session, &org.id, &org.slug);
    let writes = CompletionWrites {
        records,
        session_id: &session.id,
        organization_id: &org.id,
        user,
        at: now,
        preferences: serde_json::to_string(&records.profile.preferences).unwrap_or_default(),
        objective_ids: records.objectives.iter().map(|_| new_id()).collect(),
        key_result_ids: records
            .objectives
            .iter()
            .map(|o| o.key_results.iter().map(|_| new_id()).collect())
            .collect(),
        invitations: records
            .invitations
            .iter()
            .zip(&prepared.invitations)
            .map(|(invitation, (hash, mail))| NewInvitation {
                id: new_id(),
                email: &invitation.email,
                role: invitation.role,
                token_hash: hash,
                mail_id: new_id(),
                mail,
            })
            .collect(),
        invitations_expire_at: now.saturating_add(prepared.invitation_ttl_ms),
        event_id: new_id(),
        idempotency: idempotency_key.map(|key| (key, body.as_str())),
    };
    db.write_completion(&mut tx, &writes).await?;
    tx.commit().await?;
    Ok(Completion::Created(body))
}

/// A random six-digit suffix (a fresh UUID's low bits: no other source of randomness needed).
fn rand_suffix() -> u32 {
    (uuid::Uuid::new_v4().as_u128() % 900_000) as u32 + 100_000
}

#[cfg(test)]
mod tests {
    #[test]
    fn suffixes_stay_within_sixty() {
        assert_eq!(super::suffixed("acme", 2), "acme-2");
        let long = "a".repeat(60);
        assert_eq!(super::suffixed(&long, 12).len(), 60);
        assert!(super::suffixed(&format!("{}-b", "a".repeat(57)), 10).ends_with("a-10"));
    }
}
