//! Onboarding sessions: the status reads, start and end, step saves (the draft one row per
//! step, migration 0007), expiry, and the idempotency keys' purge.

use super::saves::{Outcome, StepSave};
use super::status_cache::{Changed, Latest, StatusCache, StatusCacheSettings};
use super::{event, new_id, Engine, Store};
use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use std::sync::Arc;

/// Where a session stands (the `status` column; the SQL text keeps its literal spellings).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionStatus {
    InProgress,
    Completed,
    /// Left by `start` with `restart` (its draft discarded).
    Abandoned,
    /// Inactive past the TTL, flipped by `start` or the purge (its draft discarded).
    Expired,
}

impl SessionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::InProgress => "in_progress",
            SessionStatus::Completed => "completed",
            SessionStatus::Abandoned => "abandoned",
            SessionStatus::Expired => "expired",
        }
    }

    fn parse(text: &str) -> Option<SessionStatus> {
        [
            SessionStatus::InProgress,
            SessionStatus::Completed,
            SessionStatus::Abandoned,
            SessionStatus::Expired,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// How an open session ends without completing (its status, and the kind of its event).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionEnd {
    Abandoned,
    Expired,
}

impl SessionEnd {
    pub fn status(self) -> SessionStatus {
        match self {
            SessionEnd::Abandoned => SessionStatus::Abandoned,
            SessionEnd::Expired => SessionStatus::Expired,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Session {
    pub id: String,
    pub user_id: String,
    pub status: SessionStatus,
    pub version: i64,
    pub draft: Value,
    pub completed_steps: Vec<String>,
    pub organization_id: Option<String>,
    pub last_activity_at: i64,
    pub created_at: i64,
}

/// The user's most recent session with its draft (`{step: data, …}`: the steps' stored JSON
/// texts joined as they are, parsed once, by the server) and its completed steps, read on `conn`
/// (a request's connection or transaction). On PostgreSQL through `onboarding_latest_session`
/// (migration 0007), the one place that says how a draft is assembled there; on SQLite the same
/// in one select.
pub(super) async fn latest_on(
    engine: Engine,
    conn: &mut AnyConnection,
    user: &str,
) -> Result<Option<Session>, sqlx::Error> {
    let sql = match engine {
        Engine::Postgres => "select * from onboarding_latest_session($1)",
        Engine::Sqlite => "select s.id, s.user_id, s.status, s.version, \
            '{' || coalesce((select group_concat(json_quote(x.step) || ':' || x.data, ',') from onboarding_steps x where x.session_id = s.id), '') || '}' as draft, \
            '[' || coalesce((select group_concat(json_quote(x.step), ',') from onboarding_steps x where x.session_id = s.id and x.completed = 1), '') || ']' as completed_steps, \
            s.organization_id, s.last_activity_at, s.created_at from onboarding_sessions s \
            where s.user_id = $1 order by s.created_at desc, s.id desc limit 1",
    };
    let row = sqlx::query(sql).bind(user).fetch_optional(conn).await?;
    row.as_ref().map(session).transpose()
}

/// The user's open session, its row locked for the rest of the transaction on `conn`, read after
/// the lock: on PostgreSQL through `onboarding_lock_open_session` (migration 0011), which reads
/// the draft with a snapshot taken after the wait for the lock; on SQLite the write transaction
/// (`begin immediate`) already excludes every other writer.
pub(super) async fn locked_open_on(
    engine: Engine,
    conn: &mut AnyConnection,
    user: &str,
) -> Result<Option<Session>, sqlx::Error> {
    if engine == Engine::Sqlite {
        return Ok(open(latest_on(engine, conn, user).await?));
    }
    let row = sqlx::query("select * from onboarding_lock_open_session($1)")
        .bind(user)
        .fetch_optional(conn)
        .await?;
    Ok(open(row.as_ref().map(session).transpose()?))
}

/// The open session is always the latest: a new one starts only when none is open.
pub(super) fn open(latest: Option<Session>) -> Option<Session> {
    latest.filter(|s| s.status == SessionStatus::InProgress)
}

/// A JSON column: one that cannot be read is an error (a 500, logged), never an empty value
/// (an empty draft shown to the user would be a lie, and saved back, a loss).
fn json_column<T: serde::de::DeserializeOwned>(row: &AnyRow, name: &str) -> Result<T, sqlx::Error> {
    parse_json_column(name, &row.try_get::<String, _>(name)?)
}

/// The text of JSON column `name`, parsed (an unreadable one is an error, as above).
fn parse_json_column<T: serde::de::DeserializeOwned>(
    name: &str,
    text: &str,
) -> Result<T, sqlx::Error> {
    serde_json::from_str(text).map_err(|e| sqlx::Error::ColumnDecode {
        index: name.to_owned(),
        source: Box::new(e),
    })
}

/// Completed steps in wizard order.
fn in_wizard_order(mut steps: Vec<String>) -> Vec<String> {
    steps.sort_by_key(|s| onboarding_core::StepId::parse(s).map(onboarding_core::StepId::index));
    steps
}

fn session(row: &AnyRow) -> Result<Session, sqlx::Error> {
    Ok(Session {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        status: {
            let text: String = row.try_get("status")?;
            SessionStatus::parse(&text).ok_or_else(|| sqlx::Error::ColumnDecode {
                index: "status".into(),
                source: format!("unknown session status {text:?}").into(),
            })?
        },
        version: row.try_get("version")?,
        draft: json_column(row, "draft")?,
        completed_steps: in_wizard_order(json_column(row, "completed_steps")?),
        organization_id: row.try_get("organization_id")?,
        last_activity_at: row.try_get("last_activity_at")?,
        created_at: row.try_get("created_at")?,
    })
}

/// A parsed `If-Match`: any open session (`*`), or one of these versions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IfMatch {
    Any,
    Versions(Vec<i64>),
}

impl IfMatch {
    pub fn matches(&self, version: i64) -> bool {
        match self {
            IfMatch::Any => true,
            IfMatch::Versions(v) => v.contains(&version),
        }
    }
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

/// Deletes a session's draft (its step rows): an abandoned or expired draft is not kept.
async fn discard_draft(conn: &mut AnyConnection, session: &str) -> Result<(), sqlx::Error> {
    sqlx::query("delete from onboarding_steps where session_id = $1")
        .bind(session)
        .execute(&mut *conn)
        .await
        .map(|_| ())
}

impl Store {
    /// The user's most recent session, whatever its status (the status read: one statement).
    pub async fn latest_session(&self, user: &str) -> Result<Option<Session>, sqlx::Error> {
        let mut conn = self.requests.acquire().await?;
        let latest = latest_on(self.engine, &mut conn, user).await?;
        conn.release();
        Ok(latest)
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
        if self.engine == Engine::Postgres && settings.max_bytes > 0 {
            self.status = Some(StatusCache::start(
                url,
                self.pool.clone(),
                settings,
                metrics,
            ));
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
        let status = end.status().as_str();
        let now = self.clock.now_ms();
        let _changing = self.changing(&session.user_id);
        let mut tx = self.begin_write(&session.user_id).await?;
        let done = sqlx::query("update onboarding_sessions set status = $1, version = version + 1, updated_at = $2 where id = $3 and status = 'in_progress'")
            .bind(status)
            .bind(now)
            .bind(&session.id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 1 {
            discard_draft(&mut tx, &session.id).await?;
            event(&mut tx, &session.id, &session.user_id, status, None, now).await?;
        }
        tx.commit().await
    }

    /// Creates a session (the user has none open), with its `started` event.
    pub async fn create_session(&self, user: &str) -> Result<Session, sqlx::Error> {
        let now = self.clock.now_ms();
        let id = new_id();
        let _changing = self.changing(user);
        let mut tx = self.begin_write(user).await?;
        sqlx::query("insert into onboarding_sessions (id, user_id, status, version, organization_id, last_activity_at, created_at, updated_at) values ($1, $2, 'in_progress', 1, null, $3, $3, $3)")
            .bind(&id)
            .bind(user)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        event(&mut tx, &id, user, "started", None, now).await?;
        tx.commit().await?;
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
    /// other saves waiting in this process (`saves.rs`): on PostgreSQL each is one
    /// `onboarding_save_step` (migration 0007) that locks the session row, checks and writes; on
    /// SQLite the same statements in the writer's transaction, which holds the write lock from
    /// its start. Either way concurrent saves of one user queue on the session and each lands
    /// exactly once.
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
        let save = StepSave::new(
            user,
            step,
            data.to_string(),
            step_valid,
            self.clock.now_ms(),
            ttl_ms,
            expected.cloned(),
            new_id(),
            step_valid.then(new_id),
        );
        match self.saves.save(save, changed).await? {
            Outcome::Saved {
                version,
                completed_steps,
            } => {
                let completed = parse_json_column("completed_steps", &completed_steps)?;
                Ok((version, in_wizard_order(completed)))
            }
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
        let row = self
            .read_optional(
                user,
                // Only a key used in the user's latest session replays.
                sqlx::query(
                    "select k.status, k.body from idempotency_keys k where k.user_id = $1 and k.key = $2 \
                     and k.session_id = (select s.id from onboarding_sessions s where s.user_id = $1 order by s.created_at desc, s.id desc limit 1)",
                )
                .bind(user)
                .bind(key),
            )
            .await?;
        row.map(|r| {
            Ok((
                u16::try_from(r.try_get::<i64, _>("status")?).unwrap_or(200),
                r.try_get("body")?,
            ))
        })
        .transpose()
    }

    /// Deletes the idempotency keys older than `keep_ms` (system work, as the expiry).
    pub async fn purge_idempotency_keys(&self, now: i64, keep_ms: i64) -> Result<u64, sqlx::Error> {
        let mut tx = self.writer.begin(None).await?;
        let done = sqlx::query("delete from idempotency_keys where created_at < $1")
            .bind(now.saturating_sub(keep_ms))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    /// Expires every session inactive since before `now - ttl`: its status becomes `expired`, its
    /// draft is purged, and an `expired` event is recorded — in one transaction. Safe to run on
    /// several servers at once: each session changes state once (the `where status` guard), the
    /// others' updates skip it. Runs as the connecting role (system work, not a tenant's).
    pub async fn expire_sessions(&self, now: i64, ttl_ms: i64) -> Result<u64, sqlx::Error> {
        let mut tx = self.writer.begin(None).await?;
        let rows = sqlx::query("update onboarding_sessions set status = 'expired', version = version + 1, updated_at = $1 where status = 'in_progress' and last_activity_at < $2 returning id, user_id")
            .bind(now)
            .bind(now.saturating_sub(ttl_ms))
            .fetch_all(&mut *tx)
            .await?;
        let mut users = Vec::with_capacity(rows.len());
        for row in &rows {
            let (id, user): (String, String) = (row.try_get("id")?, row.try_get("user_id")?);
            discard_draft(&mut tx, &id).await?;
            let expired = SessionStatus::Expired.as_str();
            event(&mut tx, &id, &user, expired, None, now).await?;
            users.push(user);
        }
        tx.commit().await?;
        // (Had the commit failed after all, a cached status would still read as expired: the
        // status read ends a session past the TTL by its last activity, as this did.)
        if let Some(cache) = &self.status {
            users.iter().for_each(|user| cache.changed(user));
        }
        Ok(rows.len() as u64)
    }
}
