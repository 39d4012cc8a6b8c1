//! The mail outbox: messages written in the transaction that needs them sent (`enqueue`), then
//! claimed by a delivery worker under a lease, sent, and marked sent, retried or dead. The
//! claim takes due messages no other worker holds (PostgreSQL: `for update skip locked`; SQLite:
//! the one writer), so replicas share one outbox; a worker that dies mid-send leaves its lease to
//! run out and the message is sent again (at least once; the stable `Message-ID` shows the
//! duplicate). The body, which carries a token, is cleared once the message is sent, dead or
//! cancelled.

use super::{on_engine, Db, Store};
use onboarding_store::{Backend, Claimed, DevMessage, OutboxCounts, OutboxMessage};

impl Store {
    /// Claims up to `limit` due messages for `lease_ms`: no other worker takes them until the
    /// lease runs out (PostgreSQL: `for update skip locked`; SQLite: the one writer). Counts
    /// the attempt.
    pub async fn claim_mail(&self, limit: i64, lease_ms: i64) -> Result<Vec<Claimed>, sqlx::Error> {
        let now = self.clock.now_ms();
        on_engine!(self, db => db.claim_mail(now, now.saturating_add(lease_ms), limit))
    }

    /// Marks a claimed message sent and clears its body.
    pub async fn mail_sent(&self, id: &str) -> Result<(), sqlx::Error> {
        let now = self.clock.now_ms();
        on_engine!(self, db => db.mail_sent(id, now))
    }

    /// Records a failed attempt: due again at `retry_at`, or dead (body cleared) when `retry_at`
    /// is `None`.
    pub async fn mail_failed(
        &self,
        id: &str,
        error: &str,
        retry_at: Option<i64>,
    ) -> Result<(), sqlx::Error> {
        let now = self.clock.now_ms();
        match retry_at {
            Some(at) => on_engine!(self, db => db.mail_retry(id, error, at, now)),
            None => on_engine!(self, db => db.mail_dead(id, error, now)),
        }
    }

    /// Outbox messages in a state (all when `None`), newest first, at most `limit`.
    pub async fn outbox(
        &self,
        state: Option<&str>,
        limit: i64,
    ) -> Result<Vec<OutboxMessage>, sqlx::Error> {
        on_engine!(self, db => db.outbox(state, limit))
    }

    /// The messages not yet sent, with their bodies (development mode only: they hold tokens).
    pub async fn pending_mail(&self, limit: i64) -> Result<Vec<DevMessage>, sqlx::Error> {
        on_engine!(self, db => db.pending_mail(limit))
    }

    /// Deletes the messages that are done (sent, dead or cancelled; their bodies are already
    /// empty) and last changed before `now - keep_ms`; pending ones are never deleted.
    pub async fn purge_outbox(&self, now: i64, keep_ms: i64) -> Result<u64, sqlx::Error> {
        on_engine!(self, db => db.purge_outbox(now.saturating_sub(keep_ms)))
    }

    /// How many messages wait and how many are dead.
    pub async fn outbox_counts(&self) -> Result<OutboxCounts, sqlx::Error> {
        on_engine!(self, db => db.outbox_counts())
    }
}
