//! Onboarding sessions: the status reads, start and end, step saves (group-committed by
//! `saves.rs`, decided by `onboarding_store::decide_saves`), expiry, and the idempotency keys'
//! purge. The rows and the rules are in `onboarding-store`; the engines read and write them.

use super::saves::SaveQueue;
use super::status_cache::{Changed, Latest, StatusCache, StatusCacheSettings};
use super::{new_id, on_engine, Db, Store};
use onboarding_store::{Backend, IfMatch, Outcome, Session, SessionEnd, SessionStatus, StepSave};
use serde_json::Value;
use std::sync::Arc;

/// The open session is always the latest: a new one starts only when none is open.
pub(super) fn open(latest: Option<Session>) -> Option<Session> {
    latest.filter(|s| s.status == SessionStatus::InProgress)
}

/// Why a save did not happen.
#[derive(Debug)]
pub enum SaveError {
    /// The session moved on: its current version.
    Stale(Option<i64>),
    /// The user has no session in progress.
    NoSession,
    /// The open session has been inactive longer than the TTL.
    Expired,
    Db(sqlx::Error),
}

impl From<sqlx::Error> for SaveError {
    fn from(e: sqlx::Error) -> SaveError {
        SaveError::Db(e)
    }
}

/// The step saves' group commit on `db`'s engine.
pub(super) fn save_queue(db: &Db) -> SaveQueue {
    match db {
        Db::Postgres(db) => SaveQueue::start(db.clone(), super::saves::WORKERS),
        Db::Sqlite(db) => SaveQueue::start(db.clone(), super::saves::SQLITE_WORKERS),
    }
}

impl Store {
    /// The user's most recent session, whatever its status (the status read: one statement).
    pub async fn latest_session(&self, user: &str) -> Result<Option<Session>, sqlx::Error> {
        let row = on_engine!(self, db => db.latest_session(user))?;
        row.map(Session::try_from).transpose()
    }

    /// The user's latest session for the status read: from the status cache when it is on and
    /// holds the user (`status_cache.rs`), else from the database (and then kept).
    pub async fn status_session(&self, user: &str) -> Result<Latest, sqlx::Error> {
        let Some(cache) = &self.status else {
            return Ok(self.latest_session(user).await?.map(Arc::new));
        };
        if let Some(hit) = cache.get(user) {
            return Ok(hit);
        }
        let ticket = cache.ticket(user);
        let latest = self.latest_session(user).await?.map(Arc::new);
        cache.put(user, ticket, latest.clone());
        Ok(latest)
    }

    /// Starts the status read's cache (PostgreSQL only; SQLite reads in the process already).
    /// `url` is the database's, for the listener's own connection.
    pub fn cache_status(
        &mut self,
        url: &str,
        settings: &StatusCacheSettings,
        metrics: Arc<crate::metrics::Metrics>,
    ) {
        if let (Db::Postgres(db), true) = (&self.db, settings.max_bytes > 0) {
            self.status = Some(StatusCache::start(url, db.clone(), settings, metrics));
        }
    }

    /// Sends the status cache's queued change notifications now (waiting at most `limit`): the
    /// last thing a stopping server does, so that other replicas forget its last writes' users.
    pub async fn flush_status_changes(&self, limit: std::time::Duration) {
        if let Some(cache) = &self.status {
            cache.flush(limit).await;
        }
    }

    /// Held while `user`'s session is written: when dropped — the write committed, failed or
    /// was abandoned with its request — the user's cached status is forgotten everywhere.
    pub(super) fn changing(&self, user: &str) -> Changed {
        Changed::new(self.status.as_ref(), user)
    }

    /// The user's session in progress.
    pub async fn open_session(&self, user: &str) -> Result<Option<Session>, sqlx::Error> {
        Ok(open(self.latest_session(user).await?))
    }

    /// Ends the user's open session (`abandoned` or `expired`), discards its draft (the user
    /// left it or let it lapse; nothing of it is kept), and records the event.
    pub async fn end_session(&self, session: &Session, end: SessionEnd) -> Result<(), sqlx::Error> {
        let now = self.clock.now_ms();
        let user = &session.user_id;
        let _changing = self.changing(user);
        on_engine!(self, db => db.end_session(user, &session.id, end, &new_id(), now))
    }

    /// Creates a session (the user has none open), with its `started` event.
    pub async fn create_session(&self, user: &str) -> Result<Session, sqlx::Error> {
        let now = self.clock.now_ms();
        let id = new_id();
        let _changing = self.changing(user);
        on_engine!(self, db => db.create_session(user, &id, &new_id(), now))?;
        Ok(Session {
            id,
            user_id: user.to_owned(),
            status: SessionStatus::InProgress,
            version: 1,
            draft: Value::Object(Default::default()),
            completed_steps: Vec::new(),
            organization_id: None,
            last_activity_at: now,
            created_at: now,
        })
    }

    /// Saves one step into the user's open session: its row of the draft, the session's next
    /// version, and the events. A session inactive for longer than `ttl_ms` (by the store's clock)
    /// is refused as expired; with `expected`, the session must match it. Returns the new
    /// version and the completed steps.
    ///
    /// A save waits for the session once and never retries, and is group-committed with the
    /// other saves waiting in this process (`saves.rs`): concurrent saves of one user queue on
    /// the session and each lands exactly once.
    pub async fn save_step(
        &self,
        user: &str,
        ttl_ms: i64,
        expected: Option<&IfMatch>,
        step: &str,
        data: &Value,
        step_valid: bool,
    ) -> Result<(i64, Vec<String>), SaveError> {
        let changed = self.changing(user);
        let save = StepSave {
            user: user.to_owned(),
            step: step.to_owned(),
            data: data.to_string(),
            valid: step_valid,
            at: self.clock.now_ms(),
            ttl_ms,
            expected: expected.cloned(),
            saved_event: new_id(),
            completed_event: step_valid.then(new_id),
        };
        match self.saves.save(save, changed).await? {
            Outcome::Saved {
                version,
                completed_steps,
            } => Ok((version, completed_steps)),
            Outcome::NoSession => Err(SaveError::NoSession),
            Outcome::Expired => Err(SaveError::Expired),
            Outcome::Stale(current) => Err(SaveError::Stale(current)),
        }
    }

    pub async fn idempotent_response(
        &self,
        user: &str,
        key: &str,
    ) -> Result<Option<(u16, String)>, sqlx::Error> {
        let stored = on_engine!(self, db => db.idempotent_response(user, key))?;
        Ok(stored.map(|(status, body)| (u16::try_from(status).unwrap_or(200), body)))
    }

    /// Deletes the idempotency keys older than `keep_ms` (system work, as the expiry).
    pub async fn purge_idempotency_keys(&self, now: i64, keep_ms: i64) -> Result<u64, sqlx::Error> {
        on_engine!(self, db => db.purge_idempotency_keys(now.saturating_sub(keep_ms)))
    }

    /// Expires every session inactive since before `now - ttl`: its status becomes `expired`, its
    /// draft is purged, and an `expired` event is recorded — in one transaction. Safe to run on
    /// several servers at once: each session changes state once (the `where status` guard), the
    /// others' updates skip it. Runs as the connecting role (system work, not a tenant's).
    pub async fn expire_sessions(&self, now: i64, ttl_ms: i64) -> Result<u64, sqlx::Error> {
        let users = on_engine!(self, db => db.expire_sessions(now, now.saturating_sub(ttl_ms)))?;
        // (Had the commit failed after all, a cached status would still read as expired: the
        // status read ends a session past the TTL by its last activity, as this did.)
        if let Some(cache) = &self.status {
            users.iter().for_each(|user| cache.changed(user));
        }
        Ok(users.len() as u64)
    }
}
