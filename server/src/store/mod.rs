//! All SQL of the server, through sqlx's `Any` driver for both engines, one module per domain
//! (`sessions`, `completion`, `invitations`, `organizations`, `outbox`, `insights`), each its own
//! `impl Store` block: the schema keeps to
//! types both share (text, bigint, double precision), so most statements are the same; where
//! the engines differ (migrations, row-level security, the one-statement PostgreSQL functions of
//! migration 0005, SQLite's statement lists) the code says so. Requests run on `pool.rs`'s
//! connections, the migrations and system work on sqlx's pool. Every multi-row write is one
//! transaction (or one statement).

mod completion;
mod insights;
mod invitations;
mod organizations;
mod outbox;
mod saves;
mod sessions;
mod status_cache;

use crate::clock::Clock;
pub use invitations::{
    new_invitation_token, token_hash, Acceptance, InvitationChange, Invited, MemberChange,
};
pub use onboarding_store::completion::suffixed;
use onboarding_store::pool::set_up;
pub use onboarding_store::{
    gate, Claimed, Delivery, DevMessage, Funnel, Invitation, InvitationState, KeyResult, Member,
    Objective, Organization, OutboxCounts, OutboxMessage, Role,
};
pub use onboarding_store::{Completion, InvitationCaps, Outgoing, Prepared};
pub use onboarding_store::{IfMatch, Session, SessionEnd, SessionStatus};
use onboarding_store_pg::PgStore;
use onboarding_store_sqlite::SqliteStore;
pub use outbox::Letter;
pub use sessions::SaveError;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyPool, Row};
pub use status_cache::{Latest, StatusCacheSettings};
use std::sync::Arc;
use std::time::Duration;

/// The `Any` driver's pool and transaction, for the operations not yet on the typed engines
/// (issue 33, `docs/store.md`).
pub type ConnPool = onboarding_store::ConnPool<Any>;
pub type Tx = onboarding_store::Tx<Any>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
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

/// The engine behind the store: one implementation of [`Backend`] each.
#[derive(Clone, Debug)]
enum Db {
    Postgres(PgStore),
    Sqlite(SqliteStore),
}

/// Calls the engine's implementation: `on_engine!(self, db => db.method(args))`.
macro_rules! on_engine {
    ($store:expr, $db:ident => $call:expr) => {
        match &$store.db {
            Db::Postgres($db) => $call.await,
            Db::Sqlite($db) => $call.await,
        }
    };
}
pub(crate) use on_engine;

#[derive(Clone, Debug)]
pub struct Store {
    /// The typed engine (`onboarding-store-pg`, `onboarding-store-sqlite`).
    db: Db,
    /// sqlx's pool, for the migrations and system work (expiry, insights, readiness), not for
    /// requests; small, and it opens connections only when used.
    pub pool: AnyPool,
    /// Requests' reads (and, on PostgreSQL, everything requests do): see `pool.rs`.
    requests: ConnPool,
    /// Requests' write transactions. On SQLite one connection, so writers queue in order inside
    /// the process instead of polling SQLite's lock (its busy handler sleeps up to 100 ms a turn,
    /// which made the write tail latency); on PostgreSQL the same pool as reads.
    writer: ConnPool,
    /// The step saves, group-committed (`saves.rs`).
    saves: saves::SaveQueue,
    /// The status read's cache (`status_cache.rs`; PostgreSQL, when started).
    status: Option<Arc<status_cache::StatusCache>>,
    pub engine: Engine,
    /// Every timestamp the store writes comes from here (tests move it forward).
    pub clock: Arc<Clock>,
}

pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
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
            .after_connect(move |conn, _| Box::pin(set_up::<Any>(conn, setup)))
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
        let db = match engine {
            Engine::Postgres => Db::Postgres(PgStore::connect(
                url.parse()
                    .map_err(|e| format!("invalid database URL {:?}: {e}", redact_url(url)))?,
                acquire_timeout,
            )),
            Engine::Sqlite => Db::Sqlite(SqliteStore::connect(
                url.parse()
                    .map_err(|e| format!("invalid database URL {:?}: {e}", redact_url(url)))?,
                acquire_timeout,
            )),
        };
        let saves = sessions::save_queue(&db);
        Ok(Store {
            db,
            pool,
            requests,
            writer,
            saves,
            status: None,
            engine,
            clock: Arc::default(),
        })
    }

    /// The engine's migrations, embedded: each `NNNN_name.up.sql` with its `.down.sql`.
    fn migrator(&self) -> sqlx::migrate::Migrator {
        match self.engine {
            Engine::Sqlite => sqlx::migrate!("../migrations/sqlite"),
            Engine::Postgres => sqlx::migrate!("../migrations/postgres"),
        }
    }

    /// The highest migration applied (0 when none).
    pub async fn schema_version(&self) -> Result<i64, String> {
        let exists = match self.engine {
            Engine::Sqlite => "select count(*) as n from sqlite_master where name = '_sqlx_migrations'",
            Engine::Postgres => "select count(*) as n from pg_tables where tablename = '_sqlx_migrations' and schemaname = current_schema()",
        };
        let read = async {
            let n: i64 = sqlx::query(exists)
                .fetch_one(&self.pool)
                .await?
                .try_get("n")?;
            if n == 0 {
                return Ok(0);
            }
            sqlx::query("select coalesce(max(version), 0) as v from _sqlx_migrations where success")
                .fetch_one(&self.pool)
                .await?
                .try_get::<i64, _>("v")
        };
        read.await
            .map_err(|e: sqlx::Error| format!("cannot read the schema version: {e}"))
    }

    /// Reverts the migrations applied after `target`, newest first, each with its down script in
    /// its own transaction; returns the versions reverted. A database migrated by a newer server
    /// is refused (its down scripts are not known here: revert with that server).
    pub async fn revert_to(&self, target: i64) -> Result<Vec<i64>, String> {
        if target < 0 {
            return Err(format!("cannot revert to {target}: versions start at 0"));
        }
        let before = self.schema_version().await?;
        let migrator = self.migrator();
        migrator
            .undo(&self.pool, target)
            .await
            .map_err(|e| match e {
                sqlx::migrate::MigrateError::VersionMissing(version) => format!(
                    "the database has migration {version}, which this server does not know: \
                     revert it with the server that applied it"
                ),
                e => format!("reverting failed: {e}"),
            })?;
        let after = self.schema_version().await?;
        Ok(migrator
            .iter()
            .filter(|m| m.migration_type.is_down_migration())
            .map(|m| m.version)
            .filter(|v| *v > after && *v <= before)
            .rev()
            .collect())
    }

    pub async fn migrate(&self) -> Result<(), String> {
        let result = match self.engine {
            Engine::Sqlite => self.migrator().run(&self.pool).await,
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
                self.migrator().run(&self.pool).await
            }
        };
        result.map_err(|e| match e {
            // A newer server migrated this database (a rollback of the binary without one of the
            // schema): refuse to serve rather than run against tables it does not know.
            sqlx::migrate::MigrateError::VersionMissing(version) => format!(
                "the database has migration {version}, which this server does not know: it was \
                 migrated by a newer version; run that version, or revert the database with it \
                 before starting this one"
            ),
            e => format!("migrations failed: {e}"),
        })
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
        // BEGIN, then the role and the user id as bound parameters of one statement
        // (`set_config('role', …, true)` is `SET LOCAL ROLE`): nothing user-supplied reaches
        // SQL text (issue 33; the second round trip is measured in BENCHMARKS.md).
        //
        // A write transaction also reads by index (`enable_seqscan` off, local to it): its
        // statements, the foreign-key checks of the rows it inserts and the policies' lookups
        // all find rows by key. Otherwise a connection keeps the generic plan it made for each
        // of them after five runs, from the statistics: for a table analyzed while empty and
        // still small, a sequential scan, then kept while the table grows (decision 100). Step
        // saves, the hot write, do not come here (`saves.rs`).
        let mut tx = pool.begin(None).await?;
        let context = if write {
            "select set_config('role', 'onboarding_app', true), set_config('app.user_id', $1, true), \
             set_config('enable_seqscan', 'off', true)"
        } else {
            "select set_config('role', 'onboarding_app', true), set_config('app.user_id', $1, true)"
        };
        sqlx::query(context).bind(user).execute(&mut *tx).await?;
        Ok(tx)
    }

    /// One read statement on behalf of `user`: on PostgreSQL inside a transaction under the
    /// app role (RLS needs it); on SQLite straight on the pool, since a transaction there only
    /// adds two hops to the connection's worker thread and protects nothing for one statement.
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
}
