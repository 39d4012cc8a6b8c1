//! The store: one interface for the HTTP layer (`Store`'s methods), over one typed engine per
//! database (`onboarding-store-pg`, `onboarding-store-sqlite`, each implementing
//! `onboarding_store::Backend` with SQL checked at compile time), picked by the URL. What each
//! operation decides is written once in `onboarding-store`; the modules here (one per domain)
//! call it on the engine through `on_engine!`, the one place that picks an engine, and keep
//! what belongs to this process: the step saves' group commit (`saves.rs`) and the status
//! read's cache (`status_cache.rs`).

mod completion;
mod domains;
mod insights;
mod invitations;
mod organizations;
mod outbox;
mod saves;
mod sessions;
mod status_cache;

use crate::clock::Clock;
pub use onboarding_store::completion::suffixed;
pub use onboarding_store::domains::{
    Added as DomainAdded, Domain, DomainMode, JoinOffer, ModeChange as DomainModeChange,
    Owned as DomainOwned,
};
pub use onboarding_store::invitations::{new_invitation_token, token_hash};
use onboarding_store::Backend;
pub use onboarding_store::{
    gate, Acceptance, Claimed, Delivery, DevMessage, Funnel, Invitation, InvitationChange,
    InvitationPreview, InvitationState, Invited, KeyResult, Letter, Member, MemberChange,
    Objective, Organization, OutboxCounts, OutboxMessage, Role,
};
pub use onboarding_store::{Completion, InvitationCaps, Outgoing, Prepared};
pub use onboarding_store::{IfMatch, Session, SessionEnd, SessionStatus};
pub use onboarding_store_pg::PgStore;
use onboarding_store_sqlite::SqliteStore;
pub use sessions::SaveError;
pub use status_cache::{Latest, StatusCacheSettings};
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

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
    /// The step saves, group-committed (`saves.rs`).
    saves: saves::SaveQueue,
    /// The status read's cache (`status_cache.rs`; PostgreSQL, when started).
    status: Option<Arc<status_cache::StatusCache>>,
    /// Every timestamp the store writes comes from here (tests move it forward).
    pub clock: Arc<Clock>,
}

pub use onboarding_store::new_id;

impl Store {
    pub async fn connect(url: &str) -> Result<Store, String> {
        let invalid = |e: sqlx::Error| format!("invalid database URL {:?}: {e}", redact_url(url));
        let unreachable = |e: sqlx::Error| format!("cannot connect to the database: {e}");
        let acquire_timeout = Duration::from_secs(3);
        let db = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = url.parse().map_err(invalid)?;
            let db = PgStore::connect(options, acquire_timeout)
                .await
                .map_err(unreachable)?;
            Db::Postgres(db)
        } else if url.starts_with("sqlite:") {
            create_sqlite_parent_dir(url)?;
            let options = url.parse().map_err(invalid)?;
            let db = SqliteStore::connect(options, acquire_timeout)
                .await
                .map_err(unreachable)?;
            Db::Sqlite(db)
        } else {
            return Err(format!(
                "unsupported database URL {:?}: expected sqlite:… or postgres://…",
                redact_url(url)
            ));
        };
        let saves = sessions::save_queue(&db);
        Ok(Store {
            db,
            saves,
            status: None,
            clock: Arc::default(),
        })
    }

    /// The highest migration applied (0 when none).
    pub async fn schema_version(&self) -> Result<i64, String> {
        on_engine!(self, db => db.schema_version())
            .map_err(|e| format!("cannot read the schema version: {e}"))
    }

    /// Reverts the migrations applied after `target`, newest first, each with its down script in
    /// its own transaction; returns the versions reverted. A database migrated by a newer server
    /// is refused (its down scripts are not known here: revert with that server).
    pub async fn revert_to(&self, target: i64) -> Result<Vec<i64>, String> {
        if target < 0 {
            return Err(format!("cannot revert to {target}: versions start at 0"));
        }
        let before = self.schema_version().await?;
        on_engine!(self, db => db.undo(target)).map_err(|e| match e {
            sqlx::migrate::MigrateError::VersionMissing(version) => format!(
                "the database has migration {version}, which this server does not know: \
                 revert it with the server that applied it"
            ),
            e => format!("reverting failed: {e}"),
        })?;
        let after = self.schema_version().await?;
        let versions = match &self.db {
            Db::Postgres(db) => db.migration_versions(),
            Db::Sqlite(db) => db.migration_versions(),
        };
        Ok(versions
            .into_iter()
            .filter(|v| *v > after && *v <= before)
            .rev()
            .collect())
    }

    pub async fn migrate(&self) -> Result<(), String> {
        on_engine!(self, db => db.migrate()).map_err(|e| match e {
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

    /// The engine the URL picked.
    pub fn engine(&self) -> Engine {
        match self.db {
            Db::Postgres(_) => Engine::Postgres,
            Db::Sqlite(_) => Engine::Sqlite,
        }
    }

    /// The PostgreSQL engine, when the store is on PostgreSQL (the tenancy tests run statements
    /// in its request transactions, as the app role).
    pub fn postgres(&self) -> Option<&PgStore> {
        match &self.db {
            Db::Postgres(db) => Some(db),
            Db::Sqlite(_) => None,
        }
    }

    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        on_engine!(self, db => db.ping())
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
