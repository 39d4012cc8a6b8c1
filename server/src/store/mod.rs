//! All SQL of the server, through sqlx's `Any` driver for both engines: the schema keeps to
//! types both share (text, bigint, double precision), so most statements are the same; where
//! the engines differ (migrations, row-level security, the one-statement PostgreSQL functions of
//! migration 0005, SQLite's statement lists) the code says so. Requests run on `pool.rs`'s
//! connections, the migrations and system work on sqlx's pool. Every multi-row write is one
//! transaction (or one statement).

mod batch;
pub mod gate;
mod insights;
mod pool;

use crate::clock::Clock;
pub use insights::Funnel;
use onboarding_core::Records;
pub use pool::{Conn, ConnPool, Tx};
use serde_json::Value;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::AnyConnection;
use sqlx::{AnyPool, Row};
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// `s` as a PostgreSQL escape-string literal: inside `E'…'` only `\` and `'` are special, whatever
/// `standard_conforming_strings` says. (User ids cannot hold NUL or other control characters:
/// the token check refuses them.)
fn pg_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    out.push_str("E'");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("''"),
            _ => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// Creates the RLS-bound request role if it is missing and lets the connecting role use it; a
/// concurrent creator in another database of the same cluster is not an error.
pub const ENSURE_APP_ROLE: &str = "do $$ begin
    if not exists (select 1 from pg_roles where rolname = 'onboarding_app') then
        create role onboarding_app nologin noinherit nobypassrls;
    end if;
exception when duplicate_object or unique_violation then null;
end $$;
do $$ begin
    -- Not pg_has_role: it is true for a superuser without the membership row 0002 inserts.
    if not exists (select 1 from pg_auth_members m
                   where m.roleid = 'onboarding_app'::regrole and m.member = current_user::regrole) then
        grant onboarding_app to current_user;
    end if;
exception when unique_violation or duplicate_object then null;
end $$;";

#[derive(Clone, Debug)]
pub struct Store {
    /// sqlx's pool, for the migrations and system work (expiry, insights, readiness), not for
    /// requests; small, and it opens connections only when used.
    pub pool: AnyPool,
    /// Requests' reads (and, on PostgreSQL, everything requests do): see `pool.rs`.
    requests: ConnPool,
    /// Requests' write transactions. On SQLite one connection, so writers queue in order inside
    /// the process instead of polling SQLite's lock (its busy handler sleeps up to 100 ms a turn,
    /// which made the write tail latency); on PostgreSQL the same pool as reads.
    writer: ConnPool,
    pub engine: Engine,
    /// Every timestamp the store writes comes from here (tests move it forward).
    pub clock: Arc<Clock>,
}

#[derive(Clone, Debug)]
pub struct Session {
    pub id: String,
    pub user_id: String,
    pub status: String,
    pub version: i64,
    pub draft: Value,
    pub completed_steps: Vec<String>,
    pub organization_id: Option<String>,
    pub last_activity_at: i64,
    pub created_at: i64,
}

/// The session columns with its draft (`{step: data}`, from the step rows) and completed steps
/// (a JSON list, in no particular order), from `onboarding_sessions s`.
fn session_select(engine: Engine) -> &'static str {
    match engine {
        Engine::Sqlite => "select s.id, s.user_id, s.status, s.version, \
            (select json_group_object(d.step, json(d.data)) from onboarding_steps d where d.session_id = s.id) as draft, \
            (select json_group_array(d.step) from onboarding_steps d where d.session_id = s.id and d.completed = 1) as completed_steps, \
            s.organization_id, s.last_activity_at, s.created_at from onboarding_sessions s",
        Engine::Postgres => "select s.id, s.user_id, s.status, s.version, \
            (select coalesce(json_object_agg(d.step, d.data::json), '{}'::json)::text from onboarding_steps d where d.session_id = s.id) as draft, \
            (select coalesce(json_agg(d.step), '[]'::json)::text from onboarding_steps d where d.session_id = s.id and d.completed = 1) as completed_steps, \
            s.organization_id, s.last_activity_at, s.created_at from onboarding_sessions s",
    }
}

/// Completed steps (a JSON list) in wizard order.
fn completed_steps(text: &str) -> Result<Vec<String>, sqlx::Error> {
    let mut steps: Vec<String> =
        serde_json::from_str(text).map_err(|e| sqlx::Error::ColumnDecode {
            index: "completed_steps".into(),
            source: Box::new(e),
        })?;
    steps.sort_by_key(|s| onboarding_core::StepId::parse(s).map(onboarding_core::StepId::index));
    Ok(steps)
}

fn session(row: &AnyRow) -> Result<Session, sqlx::Error> {
    let text = |name: &str| -> Result<String, sqlx::Error> { row.try_get::<String, _>(name) };
    // A stored draft that cannot be read is an error, never an empty draft: reading it as empty
    // would let the next save overwrite every other step.
    let decode = |name: &str, e: serde_json::Error| sqlx::Error::ColumnDecode {
        index: name.to_owned(),
        source: Box::new(e),
    };
    Ok(Session {
        id: text("id")?,
        user_id: text("user_id")?,
        status: text("status")?,
        version: row.try_get("version")?,
        draft: serde_json::from_str(&text("draft")?).map_err(|e| decode("draft", e))?,
        completed_steps: completed_steps(&text("completed_steps")?)?,
        organization_id: row.try_get("organization_id")?,
        last_activity_at: row.try_get("last_activity_at")?,
        created_at: row.try_get("created_at")?,
    })
}

/// Invitations are valid for 7 days.
pub const INVITATION_TTL_MS: i64 = 7 * 24 * 3600 * 1000;

pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
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

/// What a completion writes, prepared from the session's draft under the lock.
#[derive(Debug)]
pub struct Prepared {
    pub records: Records,
    /// One per invitation, in order: the SHA-256 of its token (the token is never stored).
    pub token_hashes: Vec<String>,
}

/// The outcome of `complete`.
#[derive(Debug)]
pub enum Completion<E> {
    /// Created now: the response body `respond` rendered (and, with a key, stored).
    Created(String),
    /// The user has no open session (completed, abandoned, expired, or never started).
    NoSession,
    /// `prepare` refused the draft (invalid, stale `If-Match`, expired): nothing was written.
    Refused(E),
}

impl Store {
    pub async fn connect(url: &str) -> Result<Store, String> {
        sqlx::any::install_default_drivers();
        let engine = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Engine::Postgres
        } else if url.starts_with("sqlite:") {
            Engine::Sqlite
        } else {
            return Err(format!(
                "unsupported database URL {:?}: expected sqlite:… or postgres://…",
                redact_url(url)
            ));
        };
        if engine == Engine::Sqlite {
            create_sqlite_parent_dir(url)?;
        }
        let setup: &'static [&'static str] = match engine {
            // WAL lets readers run beside the one writer; busy_timeout covers other processes
            // (the migrations, an operator's sqlite3 shell).
            Engine::Sqlite => &[
                "pragma journal_mode = wal",
                "pragma busy_timeout = 10000",
                "pragma foreign_keys = on",
                "pragma synchronous = normal",
            ],
            Engine::Postgres => &[],
        };
        let acquire_timeout = Duration::from_secs(3);
        let pool = AnyPoolOptions::new()
            .max_connections(4)
            .min_connections(0)
            .acquire_timeout(acquire_timeout)
            .after_connect(move |conn, _| Box::pin(pool::set_up(conn, setup)))
            .connect(url)
            .await
            .map_err(|e| format!("cannot connect to the database: {e}"))?;
        let options: AnyConnectOptions = url
            .parse()
            .map_err(|e| format!("invalid database URL {:?}: {e}", redact_url(url)))?;
        let (requests, writer) = match engine {
            Engine::Postgres => {
                let requests = ConnPool::new(options, 16, setup, acquire_timeout);
                (requests.clone(), requests)
            }
            Engine::Sqlite => (
                ConnPool::new(options.clone(), 8, setup, acquire_timeout),
                ConnPool::new(options, 1, setup, acquire_timeout),
            ),
        };
        Ok(Store {
            pool,
            requests,
            writer,
            engine,
            clock: Arc::default(),
        })
    }

    pub async fn migrate(&self) -> Result<(), String> {
        let result = match self.engine {
            Engine::Sqlite => sqlx::migrate!("../migrations/sqlite").run(&self.pool).await,
            Engine::Postgres => {
                // The app role is cluster-wide, but sqlx's migration lock is per database: two
                // databases of one cluster migrating at once (two test databases, two tenants'
                // deployments) can both find the role missing in 0002 and one then fails on
                // the unique index. Create it here first, tolerating the race; 0002 then finds
                // it. (0002 itself is left unchanged: an applied migration's checksum is fixed.)
                sqlx::raw_sql(ENSURE_APP_ROLE)
                    .execute(&self.pool)
                    .await
                    .map_err(|e| format!("migrations failed: creating role onboarding_app: {e}"))?;
                sqlx::migrate!("../migrations/postgres")
                    .run(&self.pool)
                    .await
            }
        };
        result.map_err(|e| format!("migrations failed: {e}"))
    }

    /// The requests' pool: its connections carry request transactions (the tenancy tests check
    /// what those leave behind).
    pub fn requests(&self) -> &ConnPool {
        &self.requests
    }

    /// A read transaction on behalf of `user`. On PostgreSQL it runs as the RLS-bound role with
    /// the user id set, both `local` to the transaction, never left on a pooled connection.
    pub async fn begin(&self, user: &str) -> Result<Tx, sqlx::Error> {
        self.begin_on(&self.requests, user, false).await
    }

    /// A write transaction on behalf of `user` (on SQLite, on the one writer connection, holding
    /// the write lock from its start).
    pub async fn begin_write(&self, user: &str) -> Result<Tx, sqlx::Error> {
        self.begin_on(&self.writer, user, true).await
    }

    async fn begin_on(&self, pool: &ConnPool, user: &str, write: bool) -> Result<Tx, sqlx::Error> {
        if self.engine == Engine::Sqlite {
            // A write transaction takes SQLite's write lock at once: a read lock upgraded later
            // can fail with "database is locked" whatever the busy timeout.
            return pool.begin(write.then_some("begin immediate".into())).await;
        }
        // One round trip for BEGIN, the role and the user id: a custom BEGIN goes out as a simple
        // query, which may hold several statements (`set_config('role', …, true)` is `SET LOCAL
        // ROLE`). Simple queries take no parameters, so the user id is an E'' literal.
        pool.begin(Some(
            format!(
                "begin; select set_config('role', 'onboarding_app', true), \
                 set_config('app.user_id', {}, true)",
                pg_literal(user)
            )
            .into(),
        ))
        .await
    }

    /// One read statement on behalf of `user`: on PostgreSQL inside a transaction under the
    /// app role (RLS needs it); on SQLite straight on the pool, since a transaction there only
    /// adds two hops to the connection's worker thread and protects nothing for one statement.
    async fn read_optional<'q>(
        &self,
        user: &str,
        query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> Result<Option<AnyRow>, sqlx::Error> {
        if self.engine == Engine::Sqlite {
            let mut conn = self.requests.acquire().await?;
            let row = query.fetch_optional(&mut *conn).await?;
            conn.release();
            return Ok(row);
        }
        let mut tx = self.begin(user).await?;
        let row = query.fetch_optional(&mut *tx).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// [`Store::read_optional`] for a statement returning many rows.
    async fn read_all<'q>(
        &self,
        user: &str,
        query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> Result<Vec<AnyRow>, sqlx::Error> {
        if self.engine == Engine::Sqlite {
            let mut conn = self.requests.acquire().await?;
            let rows = query.fetch_all(&mut *conn).await?;
            conn.release();
            return Ok(rows);
        }
        let mut tx = self.begin(user).await?;
        let rows = query.fetch_all(&mut *tx).await?;
        tx.commit().await?;
        Ok(rows)
    }

    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("select 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
    }

    /// The user's most recent session, whatever its status.
    /// (The status read: on PostgreSQL one statement, through a function that runs as the app
    /// role with the user id set, `migrations/postgres/0005_one_statement_requests.sql`.)
    pub async fn latest_session(&self, user: &str) -> Result<Option<Session>, sqlx::Error> {
        let row = match self.engine {
            Engine::Sqlite => {
                let sql = format!(
                    "{} where s.user_id = $1 order by s.created_at desc, s.id desc limit 1",
                    session_select(self.engine)
                );
                self.read_optional(user, sqlx::query(&sql).bind(user))
                    .await?
            }
            Engine::Postgres => {
                let sql = "select * from onboarding_latest_session($1)";
                let mut conn = self.requests.acquire().await?;
                let row = sqlx::query(sql)
                    .bind(user)
                    .fetch_optional(&mut *conn)
                    .await?;
                conn.release();
                row
            }
        };
        row.as_ref().map(session).transpose()
    }

    /// The user's session in progress. (On PostgreSQL the latest session in one statement: the
    /// open one is always the latest, since a new one starts only when none is open.)
    pub async fn open_session(&self, user: &str) -> Result<Option<Session>, sqlx::Error> {
        if self.engine == Engine::Postgres {
            let latest = self.latest_session(user).await?;
            return Ok(latest.filter(|s| s.status == "in_progress"));
        }
        let sql = format!(
            "{} where s.user_id = $1 and s.status = 'in_progress'",
            session_select(self.engine)
        );
        let row = self
            .read_optional(user, sqlx::query(&sql).bind(user))
            .await?;
        row.as_ref().map(session).transpose()
    }

    /// Ends the user's open session (`abandoned` or `expired`), discards its draft (the user
    /// left it or let it lapse; nothing of it is kept), and records the event.
    pub async fn end_session(&self, session: &Session, status: &str) -> Result<(), sqlx::Error> {
        let now = self.clock.now_ms();
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
            status: "in_progress".into(),
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
    /// A save waits for the session once and never retries: on PostgreSQL one statement
    /// (`onboarding_save_step`, migration 0007) that locks the session row, checks and writes;
    /// on SQLite one write transaction on the writer connection, which holds the write lock from
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
        let data = data.to_string();
        let now = self.clock.now_ms();
        match self.engine {
            Engine::Postgres => {
                let expected = expected.map(|e| match e {
                    IfMatch::Any => "*".to_owned(),
                    IfMatch::Versions(v) => {
                        v.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
                    }
                });
                let mut conn = self.writer.acquire().await?;
                // One statement commits by itself: it passes the request's gate first.
                gate::pass()?;
                let row = sqlx::query("select outcome, version, completed_steps from onboarding_save_step($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                    .bind(user)
                    .bind(step)
                    .bind(data)
                    .bind(step_valid)
                    .bind(now)
                    .bind(ttl_ms)
                    .bind(expected)
                    .bind(new_id())
                    .bind(step_valid.then(new_id))
                    .fetch_one(&mut *conn)
                    .await?;
                conn.release();
                let outcome: String = row.try_get("outcome")?;
                let version: Option<i64> = row.try_get("version")?;
                match (outcome.as_str(), version) {
                    ("saved", Some(v)) => Ok((
                        v,
                        completed_steps(&row.try_get::<String, _>("completed_steps")?)?,
                    )),
                    ("no_session", _) => Err(SaveError::NoSession),
                    ("expired", _) => Err(SaveError::Expired),
                    ("stale", current) => Err(SaveError::Stale(current)),
                    _ => Err(SaveError::Db(sqlx::Error::RowNotFound)),
                }
            }
            Engine::Sqlite => {
                let mut tx = self.begin_write(user).await?;
                let open = sqlx::query("select id, version, last_activity_at from onboarding_sessions where user_id = $1 and status = 'in_progress'")
                    .bind(user)
                    .fetch_optional(&mut *tx)
                    .await?;
                let refused = match &open {
                    None => Some(SaveError::NoSession),
                    Some(s) if now.saturating_sub(s.try_get("last_activity_at")?) > ttl_ms => {
                        Some(SaveError::Expired)
                    }
                    Some(s) => {
                        let version: i64 = s.try_get("version")?;
                        expected
                            .is_some_and(|e| !e.matches(version))
                            .then_some(SaveError::Stale(Some(version)))
                    }
                };
                let open = match (open, refused) {
                    (Some(open), None) => open,
                    (_, refused) => {
                        tx.rollback().await?;
                        return Err(refused.unwrap_or(SaveError::NoSession));
                    }
                };
                let (id, version): (String, i64) = (open.try_get("id")?, open.try_get("version")?);
                sqlx::query("update onboarding_sessions set version = version + 1, last_activity_at = $1, updated_at = $1 where id = $2")
                    .bind(now)
                    .bind(&id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("insert into onboarding_steps (session_id, user_id, step, data, completed, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $6) on conflict (session_id, step) do update set data = excluded.data, completed = excluded.completed, updated_at = excluded.updated_at")
                    .bind(&id)
                    .bind(user)
                    .bind(step)
                    .bind(data)
                    .bind(i64::from(step_valid))
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                event(&mut tx, &id, user, "step_saved", Some(step), now).await?;
                if step_valid {
                    event(&mut tx, &id, user, "step_completed", Some(step), now).await?;
                }
                let completed: String = sqlx::query("select json_group_array(step) as steps from onboarding_steps where session_id = $1 and completed = 1")
                    .bind(&id)
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get("steps")?;
                tx.commit().await?;
                Ok((version + 1, completed_steps(&completed)?))
            }
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

    /// In one transaction: locks the user's open session, lets `prepare` validate its draft and
    /// build the records from it, claims it (only one request can), creates the organization
    /// under a unique slug, the owner membership, the profile, objectives, key results and
    /// invitations, and records the event. Because the draft is read under the lock, the
    /// organization is built from exactly the version `prepare` saw: a concurrent save waits
    /// for this transaction, and then finds the session completed. `respond` renders the response
    /// body from the new organization's id and slug; with an idempotency key it is stored in the
    /// same transaction.
    pub async fn complete<E>(
        &self,
        user: &str,
        idempotency_key: Option<&str>,
        prepare: impl FnOnce(&Session) -> Result<Prepared, E>,
        respond: impl FnOnce(&Prepared, &Session, &str, &str) -> String,
    ) -> Result<Completion<E>, sqlx::Error> {
        let now = self.clock.now_ms();
        let org_id = new_id();
        let mut tx = self.begin_write(user).await?;
        // On PostgreSQL the session row is locked first, so concurrent saves and completes queue
        // behind this one; the draft is read by the next statement, whose snapshot (read
        // committed) includes whatever the save that held the lock wrote. (One statement would
        // not do: `for update` re-reads the locked row after the wait, but its subqueries keep
        // the statement's older snapshot of the step rows.) On SQLite the write transaction
        // (`begin immediate`) already excludes every writer.
        if self.engine == Engine::Postgres {
            sqlx::query("select id from onboarding_sessions where user_id = $1 and status = 'in_progress' for update")
                .bind(user)
                .execute(&mut *tx)
                .await?;
        }
        let sql = format!(
            "{} where s.user_id = $1 and s.status = 'in_progress'",
            session_select(self.engine)
        );
        let row = sqlx::query(&sql)
            .bind(user)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(session) = row.as_ref().map(session).transpose()? else {
            tx.rollback().await?;
            return Ok(Completion::NoSession);
        };
        let prepared = match prepare(&session) {
            Ok(p) => p,
            Err(e) => {
                tx.rollback().await?;
                return Ok(Completion::Refused(e));
            }
        };
        let records = &prepared.records;
        sqlx::query("update onboarding_sessions set status = 'completed', organization_id = $1, version = version + 1, last_activity_at = $2, updated_at = $2 where id = $3")
            .bind(&org_id)
            .bind(now)
            .bind(&session.id)
            .execute(&mut *tx)
            .await?;
        let o = &records.organization;
        // The slug, then (if taken) the one after the highest numbered suffix in use, found by
        // one query, then random suffixes: a bounded number of round trips however many slugs
        // are taken. Each attempt in a savepoint: a taken slug is a unique violation that rolls
        // back only the attempt. (Not `on conflict do nothing`: under PostgreSQL's row-level
        // security that also checks the read policy on the new row, which its owner's
        // membership does not yet pass.)
        let mut slug = o.slug.clone();
        for attempt_no in 0..SLUG_ATTEMPTS {
            let mut attempt = sqlx::Connection::begin(&mut *tx).await?;
            let inserted = sqlx::query("insert into organizations (id, slug, name, industry, size, employee_count, country, website, description, founded_year, okr_maturity, challenges, goals, timezone, okr_cycle, language, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17)")
                .bind(&org_id)
                .bind(&slug)
                .bind(&o.name)
                .bind(o.industry)
                .bind(o.size)
                .bind(o.employee_count)
                .bind(&o.country)
                .bind(o.website.as_deref())
                .bind(&o.description)
                .bind(o.founded_year)
                .bind(o.okr_maturity)
                .bind(serde_json::to_string(&o.challenges).unwrap_or_default())
                .bind(serde_json::to_string(&o.goals).unwrap_or_default())
                .bind(&o.timezone)
                .bind(o.okr_cycle)
                .bind(o.language)
                .bind(now)
                .execute(&mut *attempt)
                .await;
            match inserted {
                Ok(_) => {
                    attempt.commit().await?;
                    break;
                }
                Err(sqlx::Error::Database(e))
                    if e.is_unique_violation() && attempt_no + 1 < SLUG_ATTEMPTS =>
                {
                    attempt.rollback().await?;
                    slug = if attempt_no == 0 {
                        let highest = self.highest_slug_suffix(&mut tx, &o.slug).await?;
                        suffixed(&o.slug, highest.saturating_add(1))
                    } else {
                        // Taken meanwhile, or a 60-character slug whose suffixed form cuts
                        // into it: a random suffix, which is free all but surely.
                        suffixed(&o.slug, rand::random::<u32>() % 900_000 + 100_000)
                    };
                }
                Err(e) => return Err(e),
            }
        }
        sqlx::query("insert into memberships (id, organization_id, user_id, role, created_at, updated_at) values ($1, $2, $3, $4, $5, $5)")
            .bind(new_id())
            .bind(&org_id)
            .bind(user)
            .bind(records.membership.role)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        // The rest in one statement (one round trip): it comes after the membership because
        // PostgreSQL's policies on the organization's rows look the membership up, and a
        // statement does not see its own writes.
        let mut rows = batch::Batch::new(self.engine);
        let now_param = rows.param(now);
        let org_param = rows.param(org_id.as_str());
        let p = &records.profile;
        rows.insert("insert into profiles (user_id, full_name, job_title, department, team_size, experience_with_okr, primary_goal, urgency_level, preferences, setup_demo, additional_notes, created_at, updated_at) values")
            .row()
            .arg(user)
            .arg(p.full_name.as_str())
            .arg(p.job_title.as_str())
            .arg(p.department.as_deref())
            .arg(p.team_size)
            .arg(p.experience_with_okr)
            .arg(p.primary_goal.as_str())
            .arg(p.urgency_level)
            .arg(serde_json::to_string(&p.preferences).unwrap_or_default())
            .arg(p.setup_demo)
            .arg(p.additional_notes.as_deref())
            .value(&now_param)
            .value(&now_param)
            .end(" on conflict (user_id) do update set full_name = excluded.full_name, job_title = excluded.job_title, department = excluded.department, team_size = excluded.team_size, experience_with_okr = excluded.experience_with_okr, primary_goal = excluded.primary_goal, urgency_level = excluded.urgency_level, preferences = excluded.preferences, setup_demo = excluded.setup_demo, additional_notes = excluded.additional_notes, updated_at = excluded.updated_at");
        let objective_ids: Vec<String> = records.objectives.iter().map(|_| new_id()).collect();
        if !records.objectives.is_empty() {
            rows.insert("insert into objectives (id, organization_id, position, title, description, created_at, updated_at) values");
            for (objective, id) in records.objectives.iter().zip(&objective_ids) {
                rows.row()
                    .arg(id.as_str())
                    .value(&org_param)
                    .arg(i64::try_from(objective.position).unwrap_or(0))
                    .arg(objective.title.as_str())
                    .arg(objective.description.as_deref())
                    .value(&now_param)
                    .value(&now_param);
            }
            rows.end("");
        }
        if records.objectives.iter().any(|o| !o.key_results.is_empty()) {
            rows.insert("insert into key_results (id, objective_id, organization_id, position, title, metric_type, baseline, target, unit, created_at, updated_at) values");
            for (objective, id) in records.objectives.iter().zip(&objective_ids) {
                for kr in &objective.key_results {
                    rows.row()
                        .arg(new_id())
                        .arg(id.as_str())
                        .value(&org_param)
                        .arg(i64::try_from(kr.position).unwrap_or(0))
                        .arg(kr.title.as_str())
                        .arg(kr.metric_type)
                        .arg(kr.baseline)
                        .arg(kr.target)
                        .arg(kr.unit.as_deref())
                        .value(&now_param)
                        .value(&now_param);
                }
            }
            rows.end("");
        }
        if !records.invitations.is_empty() {
            rows.insert("insert into invitations (id, organization_id, email, role, token_hash, expires_at, accepted_at, created_at, updated_at) values");
            for (invitation, token_hash) in records.invitations.iter().zip(&prepared.token_hashes) {
                rows.row()
                    .arg(new_id())
                    .value(&org_param)
                    .arg(invitation.email.as_str())
                    .arg(invitation.role)
                    .arg(token_hash.as_str())
                    .arg(now + INVITATION_TTL_MS)
                    .value("null")
                    .value(&now_param)
                    .value(&now_param);
            }
            rows.end("");
        }
        rows.insert("insert into onboarding_events (id, session_id, user_id, kind, step, created_at, updated_at) values")
            .row()
            .arg(new_id())
            .arg(session.id.as_str())
            .arg(user)
            .value("'completed'")
            .value("null")
            .value(&now_param)
            .value(&now_param)
            .end("");
        let body = respond(&prepared, &session, &org_id, &slug);
        if let Some(key) = idempotency_key {
            // A key is tied to its session: one last used in an earlier session is taken over.
            rows.insert("insert into idempotency_keys (user_id, key, session_id, status, body, created_at, updated_at) values")
                .row()
                .arg(user)
                .arg(key)
                .arg(session.id.as_str())
                .value("201")
                .arg(body.as_str())
                .value(&now_param)
                .value(&now_param)
                .end(" on conflict (user_id, key) do update set session_id = excluded.session_id, status = excluded.status, body = excluded.body, created_at = excluded.created_at, updated_at = excluded.updated_at");
        }
        rows.execute(&mut tx).await?;
        tx.commit().await?;
        Ok(Completion::Created(body))
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

    /// The highest `n` of the taken slugs `base-n` (1 when there is none): one indexed range
    /// read. On PostgreSQL through `onboarding_highest_slug_suffix` (migration 0006), since
    /// row-level security hides other tenants' organizations from the request's role.
    async fn highest_slug_suffix(
        &self,
        conn: &mut AnyConnection,
        base: &str,
    ) -> Result<u32, sqlx::Error> {
        let sql = match self.engine {
            Engine::Postgres => "select onboarding_highest_slug_suffix($1) as n",
            Engine::Sqlite => "select coalesce(max(cast(substr(slug, length($1) + 2) as integer)), 1) as n from organizations where slug > $1 || '-' and slug < $1 || '.' and length(slug) - length($1) between 2 and 10 and substr(slug, length($1) + 2) not glob '*[^0-9]*' and substr(slug, length($1) + 2) not like '0%'",
        };
        let n: i64 = sqlx::query(sql)
            .bind(base)
            .fetch_one(conn)
            .await?
            .try_get("n")?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX - 1))
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
        for row in &rows {
            let (id, user): (String, String) = (row.try_get("id")?, row.try_get("user_id")?);
            discard_draft(&mut tx, &id).await?;
            event(&mut tx, &id, &user, "expired", None, now).await?;
        }
        tx.commit().await?;
        Ok(rows.len() as u64)
    }

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

    pub async fn invitations(&self, user: &str, org: &str) -> Result<Vec<Value>, sqlx::Error> {
        let rows = self
            .read_all(
                user,
                sqlx::query("select id, email, role, expires_at, accepted_at from invitations where organization_id = $1 order by created_at, email")
            .bind(org),
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(serde_json::json!({
                    "id": r.try_get::<String, _>("id")?,
                    "email": r.try_get::<String, _>("email")?,
                    "role": r.try_get::<String, _>("role")?,
                    "expires_at": r.try_get::<i64, _>("expires_at")?,
                    "accepted_at": r.try_get::<Option<i64>, _>("accepted_at")?,
                }))
            })
            .collect()
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

    /// The user's role in the organization, if a member.
    pub async fn role_in(&self, user: &str, org: &str) -> Result<Option<String>, sqlx::Error> {
        let row = self
            .read_optional(
                user,
                sqlx::query(
                    "select role from memberships where organization_id = $1 and user_id = $2",
                )
                .bind(org)
                .bind(user),
            )
            .await?;
        row.map(|r| r.try_get("role")).transpose()
    }

    /// The members of an organization (checked by the caller; RLS checks again on PostgreSQL).
    pub async fn members(&self, user: &str, org: &str) -> Result<Vec<Value>, sqlx::Error> {
        let rows = self
            .read_all(
                user,
                sqlx::query("select user_id, role, created_at from memberships where organization_id = $1 order by created_at, user_id")
            .bind(org),
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(serde_json::json!({
                    "user_id": r.try_get::<String, _>("user_id")?,
                    "role": r.try_get::<String, _>("role")?,
                    "joined_at": r.try_get::<i64, _>("created_at")?,
                }))
            })
            .collect()
    }

    /// The objectives of an organization with their key results, in order.
    pub async fn objectives(&self, user: &str, org: &str) -> Result<Vec<Value>, sqlx::Error> {
        let mut tx = self.begin(user).await?;
        let objectives = sqlx::query("select id, position, title, description from objectives where organization_id = $1 order by position")
            .bind(org)
            .fetch_all(&mut *tx)
            .await?;
        let key_results = sqlx::query("select objective_id, position, title, metric_type, baseline, target, unit from key_results where organization_id = $1 order by objective_id, position")
            .bind(org)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        objectives
            .iter()
            .map(|o| {
                let id: String = o.try_get("id")?;
                let krs = key_results
                    .iter()
                    .filter(|k| {
                        k.try_get::<String, _>("objective_id")
                            .is_ok_and(|oid| oid == id)
                    })
                    .map(|k| {
                        Ok(serde_json::json!({
                            "position": k.try_get::<i64, _>("position")?,
                            "title": k.try_get::<String, _>("title")?,
                            "metric_type": k.try_get::<String, _>("metric_type")?,
                            "baseline": k.try_get::<f64, _>("baseline")?,
                            "target": k.try_get::<f64, _>("target")?,
                            "unit": k.try_get::<Option<String>, _>("unit")?,
                        }))
                    })
                    .collect::<Result<Vec<_>, sqlx::Error>>()?;
                Ok(serde_json::json!({
                    "id": id,
                    "position": o.try_get::<i64, _>("position")?,
                    "title": o.try_get::<String, _>("title")?,
                    "description": o.try_get::<Option<String>, _>("description")?,
                    "key_results": krs,
                }))
            })
            .collect()
    }

    /// The organization as the API shows it.
    pub async fn organization(&self, user: &str, id: &str) -> Result<Option<Value>, sqlx::Error> {
        let row = self
            .read_optional(
                user,
                sqlx::query("select id, slug, name, industry, size, employee_count, country, website, description, founded_year, okr_maturity, challenges, goals, timezone, okr_cycle, language, created_at from organizations where id = $1")
            .bind(id),
            )
            .await?;
        row.map(|r| {
            let json = |name: &str| -> Result<Value, sqlx::Error> {
                Ok(serde_json::from_str(&r.try_get::<String, _>(name)?).unwrap_or(Value::Null))
            };
            Ok(serde_json::json!({
                "id": r.try_get::<String, _>("id")?,
                "slug": r.try_get::<String, _>("slug")?,
                "name": r.try_get::<String, _>("name")?,
                "industry": r.try_get::<String, _>("industry")?,
                "size": r.try_get::<String, _>("size")?,
                "employee_count": r.try_get::<Option<i64>, _>("employee_count")?,
                "country": r.try_get::<String, _>("country")?,
                "website": r.try_get::<Option<String>, _>("website")?,
                "description": r.try_get::<String, _>("description")?,
                "founded_year": r.try_get::<Option<i64>, _>("founded_year")?,
                "okr_maturity": r.try_get::<String, _>("okr_maturity")?,
                "challenges": json("challenges")?,
                "goals": json("goals")?,
                "timezone": r.try_get::<String, _>("timezone")?,
                "okr_cycle": r.try_get::<String, _>("okr_cycle")?,
                "language": r.try_get::<String, _>("language")?,
                "created_at": r.try_get::<i64, _>("created_at")?,
            }))
        })
        .transpose()
    }
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

/// Deletes a session's draft (its step rows): an abandoned or expired draft is not kept.
async fn discard_draft(conn: &mut AnyConnection, session: &str) -> Result<(), sqlx::Error> {
    sqlx::query("delete from onboarding_steps where session_id = $1")
        .bind(session)
        .execute(&mut *conn)
        .await
        .map(|_| ())
}

async fn event(
    conn: &mut AnyConnection,
    session: &str,
    user: &str,
    kind: &str,
    step: Option<&str>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("insert into onboarding_events (id, session_id, user_id, kind, step, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $6)")
        .bind(new_id())
        .bind(session)
        .bind(user)
        .bind(kind)
        .bind(step)
        .bind(now)
        .execute(&mut *conn)
        .await
        .map(|_| ())
}

/// `url` with the password of its user-info (`scheme://user:password@host…`) replaced by `***`,
/// for messages and logs.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((user_info, host)) => {
            let user = user_info
                .split_once(':')
                .map_or(user_info, |(user, _)| user);
            let hidden = if user_info.contains(':') { ":***" } else { "" };
            format!("{scheme}://{user}{hidden}@{host}{tail}")
        }
        None => url.to_owned(),
    }
}

fn create_sqlite_parent_dir(url: &str) -> Result<(), String> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or("");
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    match std::path::Path::new(path).parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display())),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            super::redact_url("postgres://app:s3cr%40t@db.example.com:5432/onb?sslmode=require"),
            "postgres://app:***@db.example.com:5432/onb?sslmode=require"
        );
        assert_eq!(
            super::redact_url("mysql://root:pw@h/x"),
            "mysql://root:***@h/x"
        );
        assert_eq!(
            super::redact_url("postgres://app@h/x"),
            "postgres://app@h/x"
        );
        assert_eq!(
            super::redact_url("sqlite://./data/a.db?mode=rwc"),
            "sqlite://./data/a.db?mode=rwc"
        );
    }

    #[test]
    fn suffixes_stay_within_sixty() {
        assert_eq!(super::suffixed("acme", 2), "acme-2");
        let long = "a".repeat(60);
        assert_eq!(super::suffixed(&long, 12).len(), 60);
        assert!(super::suffixed(&format!("{}-b", "a".repeat(57)), 10).ends_with("a-10"));
    }
}
