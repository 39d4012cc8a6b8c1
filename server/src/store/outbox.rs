//! The mail outbox: messages written in the transaction that needs them sent (`enqueue`), then
//! claimed by a delivery worker under a lease, sent, and marked sent, retried or dead. The
//! claim takes due messages no other worker holds (PostgreSQL: `for update skip locked`; SQLite:
//! the one writer), so replicas share one outbox; a worker that dies mid-send leaves its lease to
//! run out and the message is sent again (at least once; the stable `Message-ID` shows the
//! duplicate). The body, which carries a token, is cleared once the message is sent, dead or
//! cancelled.

use super::{new_id, Engine, Store, Tx};
use serde::Serialize;
use sqlx::{FromRow, Row};

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

/// A rendered message, ready for the outbox.
#[derive(Clone, Debug)]
pub struct Outgoing {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// A message claimed for delivery.
#[derive(Clone, Debug, FromRow)]
pub struct Claimed {
    pub id: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    /// Attempts so far, this one included.
    pub attempts: i64,
}

/// A message as platform admins see it (never its body).
#[derive(Clone, Debug, Serialize, FromRow, utoipa::ToSchema)]
pub struct OutboxMessage {
    pub id: String,
    pub organization_id: String,
    pub invitation_id: Option<String>,
    pub recipient: String,
    pub subject: String,
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub sent_at: Option<i64>,
}

/// A pending message in development mode: its address and the link it carries.
#[derive(Clone, Debug, Serialize, FromRow, utoipa::ToSchema)]
pub struct DevMessage {
    pub id: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub created_at: i64,
}

/// Messages per state, for `/metrics`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    pub pending: i64,
    pub dead: i64,
}

/// Writes a message to the outbox inside the caller's transaction, due now.
pub async fn enqueue(
    tx: &mut Tx,
    org: &str,
    invitation: Option<&str>,
    sent_by: &str,
    mail: &Outgoing,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("insert into mail_outbox (id, organization_id, invitation_id, recipient, subject, body, state, attempts, next_attempt_at, created_at, updated_at, sent_by) values ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $7, $7, $8)")
        .bind(new_id())
        .bind(org)
        .bind(invitation)
        .bind(&mail.to)
        .bind(&mail.subject)
        .bind(&mail.body)
        .bind(now)
        .bind(sent_by)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

impl Store {
    /// Claims up to `limit` due messages for `lease_ms`: no other worker takes them until the
    /// lease runs out. Counts the attempt.
    pub async fn claim_mail(&self, limit: i64, lease_ms: i64) -> Result<Vec<Claimed>, sqlx::Error> {
        let now = self.clock.now_ms();
        let lock = match self.engine {
            Engine::Postgres => " for update skip locked",
            Engine::Sqlite => "",
        };
        let sql = format!(
            "update mail_outbox set lease_until = $1, attempts = attempts + 1, updated_at = $2 \
             where id in (select id from mail_outbox where state = 'pending' and next_attempt_at <= $2 \
             and (lease_until is null or lease_until <= $2) order by next_attempt_at, id limit $3{lock}) \
             returning id, recipient, subject, body, attempts"
        );
        let mut tx = self.writer.begin(None).await?;
        let rows = sqlx::query(&sql)
            .bind(now.saturating_add(lease_ms))
            .bind(now)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        rows.iter().map(Claimed::from_row).collect()
    }

    /// Marks a claimed message sent and clears its body.
    pub async fn mail_sent(&self, id: &str) -> Result<(), sqlx::Error> {
        let now = self.clock.now_ms();
        let mut tx = self.writer.begin(None).await?;
        sqlx::query("update mail_outbox set state = 'sent', body = null, lease_until = null, last_error = null, sent_at = $1, updated_at = $1 where id = $2 and state = 'pending'")
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
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
        let mut tx = self.writer.begin(None).await?;
        match retry_at {
            Some(at) => sqlx::query("update mail_outbox set next_attempt_at = $1, lease_until = null, last_error = $2, updated_at = $3 where id = $4 and state = 'pending'")
                .bind(at)
                .bind(error)
                .bind(now)
                .bind(id),
            None => sqlx::query("update mail_outbox set state = 'dead', body = null, lease_until = null, last_error = $1, updated_at = $2 where id = $3 and state = 'pending'")
                .bind(error)
                .bind(now)
                .bind(id),
        }
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }

    /// Outbox messages in a state (all when `None`), newest first, at most `limit`.
    pub async fn outbox(
        &self,
        state: Option<&str>,
        limit: i64,
    ) -> Result<Vec<OutboxMessage>, sqlx::Error> {
        let rows = sqlx::query("select id, organization_id, invitation_id, recipient, subject, state, attempts, last_error, created_at, updated_at, sent_at from mail_outbox where ($1 = '' or state = $1) order by updated_at desc, id limit $2")
            .bind(state.unwrap_or(""))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(OutboxMessage::from_row).collect()
    }

    /// The messages not yet sent, with their bodies (development mode only: they hold tokens).
    pub async fn pending_mail(&self, limit: i64) -> Result<Vec<DevMessage>, sqlx::Error> {
        let rows = sqlx::query("select id, recipient, subject, body, created_at from mail_outbox where state = 'pending' order by created_at desc, id limit $1")
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(DevMessage::from_row).collect()
    }

    /// Deletes the messages that are done (sent, dead or cancelled; their bodies are already
    /// empty) and last changed before `now - keep_ms`; pending ones are never deleted.
    pub async fn purge_outbox(&self, now: i64, keep_ms: i64) -> Result<u64, sqlx::Error> {
        let mut tx = self.writer.begin(None).await?;
        let done = sqlx::query("delete from mail_outbox where state in ('sent', 'dead', 'cancelled') and updated_at < $1")
            .bind(now.saturating_sub(keep_ms))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    /// How many messages wait and how many are dead.
    pub async fn outbox_counts(&self) -> Result<OutboxCounts, sqlx::Error> {
        let row = sqlx::query("select coalesce(sum(case when state = 'pending' then 1 else 0 end), 0) as pending, coalesce(sum(case when state = 'dead' then 1 else 0 end), 0) as dead from mail_outbox where state in ('pending', 'dead')")
            .fetch_one(&self.pool)
            .await?;
        Ok(OutboxCounts {
            pending: row.try_get("pending")?,
            dead: row.try_get("dead")?,
        })
    }
}
