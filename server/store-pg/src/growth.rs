//! Statistics that follow young tables (decision 109).
//!
//! PostgreSQL keeps, per connection, the plan it made for each prepared statement and for each
//! foreign-key check after five runs, and makes it again only when something invalidates it,
//! such as an `ANALYZE` of a table it reads. Plans made while the tables a completion grows
//! (organizations, their members, objectives, key results, invitations, e-mails) were empty read
//! a one-page table whole, which is right then and wrong a few hundred rows later. Autovacuum
//! analyzes such a table once it has grown by a tenth, but only when it next visits the database
//! (`autovacuum_naptime`, a minute by default, set for the whole server): a fresh or restored
//! deployment analyzed while empty would check every completion's foreign keys by sequential
//! scans for that minute. So each instance analyzes those tables itself at its 16th, 32nd, …
//! 4,096th completion, when the statistics still know of fewer organizations than it has made:
//! new statistics, and plans made again from the table's size then. A table past that size is
//! read by key whatever plan it was given last.

use onboarding_store::Result;
use sqlx::PgPool;
use std::sync::atomic::{AtomicU64, Ordering};

/// The completions at which the tables are analyzed: each power of two from `FIRST` to `LAST`.
const FIRST: u64 = 16;
const LAST: u64 = 4096;

/// This instance's completions.
#[derive(Debug, Default)]
pub(crate) struct Growth {
    completions: AtomicU64,
}

impl Growth {
    /// Counts a completion; its number when the tables are due an analyze.
    pub(crate) fn count(&self) -> Option<u64> {
        let n = self.completions.fetch_add(1, Ordering::Relaxed) + 1;
        (FIRST..=LAST)
            .contains(&n)
            .then_some(n)
            .filter(|n| n.is_power_of_two())
    }
}

/// Analyzes the tables a completion grows when the statistics know of fewer than `made`
/// organizations (they were taken while the table was younger than this instance's own
/// completions).
pub(crate) async fn analyze_if_young(system: &PgPool, made: u64) -> Result<()> {
    let known = sqlx::query_scalar!(
        r#"select reltuples::float8 as "n!" from pg_class where oid = 'organizations'::regclass"#
    )
    .fetch_one(system)
    .await?;
    if known >= made as f64 {
        return Ok(());
    }
    sqlx::raw_sql(
        "analyze organizations, memberships, objectives, key_results, invitations, mail_outbox",
    )
    .execute(system)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tables_are_due_at_each_doubling_from_16_to_4096() {
        let growth = Growth::default();
        let due: Vec<u64> = (0..10_000).filter_map(|_| growth.count()).collect();
        assert_eq!(due, [16, 32, 64, 128, 256, 512, 1024, 2048, 4096]);
    }
}
