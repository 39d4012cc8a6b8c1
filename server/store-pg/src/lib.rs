//! The store on PostgreSQL: each [`Backend`] method as typed statements (`query!`, checked at
//! compile time against the schema of `migrations/postgres`, offline data in `.sqlx/`). What a
//! user's request reads or writes runs in a transaction as the row-level-security role
//! `onboarding_app` with `app.user_id` set, both bound parameters local to the transaction
//! ([`PgStore::begin`]); system work (the outbox's delivery, the funnel) runs as the connecting
//! role on sqlx's pool.

use onboarding_store::insights::Durations;
use onboarding_store::organizations::JsonList;
use onboarding_store::pool::ConnPool;
use onboarding_store::{
    Backend, Claimed, DevMessage, FunnelFigures, KeyResult, Locked, Member, Objective, OpenSession,
    Organization, OutboxCounts, OutboxMessage, Result, Role, SaveWrites, SessionEnd, SessionRow,
    SessionStatus, Tx,
};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::Postgres;
use std::time::Duration;

/// Connections for requests at most (idle ones are kept; opened when needed).
const REQUEST_CONNECTIONS: usize = 16;
/// Connections of sqlx's pool for system work.
const SYSTEM_CONNECTIONS: u32 = 4;

#[derive(Clone, Debug)]
pub struct PgStore {
    requests: ConnPool<Postgres>,
    system: PgPool,
}

impl PgStore {
    /// Connects lazily: no connection is opened until one is used.
    pub fn connect(options: PgConnectOptions, acquire_timeout: Duration) -> PgStore {
        PgStore {
            requests: ConnPool::new(options.clone(), REQUEST_CONNECTIONS, &[], acquire_timeout),
            system: PgPoolOptions::new()
                .max_connections(SYSTEM_CONNECTIONS)
                .min_connections(0)
                .acquire_timeout(acquire_timeout)
                .connect_lazy_with(options),
        }
    }

    /// A transaction on behalf of `user`: `BEGIN`, then the row-level-security role and the
    /// user's id as bound parameters of one statement (`set_config(…, true)` is `SET LOCAL`),
    /// so nothing user-supplied reaches SQL text and nothing is left on the pooled connection.
    pub async fn begin(&self, user: &str) -> Result<Tx<Postgres>> {
        let mut tx = self.requests.begin(None).await?;
        sqlx::query!(
            "select set_config('role', 'onboarding_app', true) as role, set_config('app.user_id', $1, true) as user_id",
            user
        )
        .fetch_one(&mut *tx)
        .await?;
        Ok(tx)
    }

    /// [`PgStore::begin`] for a write: it also reads by index (`enable_seqscan` off, local to
    /// it; decision 100): its statements, the foreign-key checks of the rows it inserts and
    /// the policies' lookups all find rows by key, but a connection keeps the generic plan it
    /// made for each after five runs, from statistics taken while a table was empty.
    pub async fn begin_write(&self, user: &str) -> Result<Tx<Postgres>> {
        let mut tx = self.requests.begin(None).await?;
        sqlx::query!(
            "select set_config('role', 'onboarding_app', true) as role, \
             set_config('app.user_id', $1, true) as user_id, \
             set_config('enable_seqscan', 'off', true) as seqscan",
            user
        )
        .fetch_one(&mut *tx)
        .await?;
        Ok(tx)
    }
}

impl Backend for PgStore {
    type Db = Postgres;

    async fn latest_session(&self, user: &str) -> Result<Option<SessionRow>> {
        // One statement: `onboarding_latest_session` (migration 0007) sets the user's id and
        // runs as the row-level-security role itself, so the status read needs no transaction.
        let mut conn = self.requests.acquire().await?;
        let row = sqlx::query_as!(
            SessionRow,
            r#"select id as "id!", user_id as "user_id!", status as "status!: SessionStatus",
                 version as "version!", draft as "draft!", completed_steps as "completed_steps!",
                 organization_id, last_activity_at as "last_activity_at!", created_at as "created_at!"
               from onboarding_latest_session($1)"#,
            user
        )
        .fetch_optional(&mut *conn)
        .await?;
        conn.release();
        Ok(row)
    }

    async fn create_session(
        &self,
        user: &str,
        id: &str,
        started_event: &str,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.begin_write(user).await?;
        sqlx::query!(
            "insert into onboarding_sessions (id, user_id, status, version, organization_id, \
             last_activity_at, created_at, updated_at) values ($1, $2, 'in_progress', 1, null, $3, $3, $3)",
            id,
            user,
            now
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query!(
            "insert into onboarding_events (id, session_id, user_id, kind, step, created_at, updated_at) \
             values ($1, $2, $3, 'started', null, $4, $4)",
            started_event,
            id,
            user,
            now
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }

    async fn end_session(
        &self,
        user: &str,
        id: &str,
        end: SessionEnd,
        event_id: &str,
        now: i64,
    ) -> Result<()> {
        let status = end.status().as_str();
        let mut tx = self.begin_write(user).await?;
        let ended = sqlx::query!(
            "update onboarding_sessions set status = $1, version = version + 1, updated_at = $2 \
             where id = $3 and status = 'in_progress'",
            status,
            now,
            id
        )
        .execute(&mut *tx)
        .await?;
        if ended.rows_affected() == 1 {
            sqlx::query!("delete from onboarding_steps where session_id = $1", id)
                .execute(&mut *tx)
                .await?;
            sqlx::query!(
                "insert into onboarding_events (id, session_id, user_id, kind, step, created_at, updated_at) \
                 values ($1, $2, $3, $4, null, $5, $5)",
                event_id,
                id,
                user,
                status,
                now
            )
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }

    async fn expire_sessions(&self, now: i64, before: i64) -> Result<Vec<String>> {
        // One statement: the sessions, their drafts and their events.
        sqlx::query_scalar!(
            r#"with expired as (
                 update onboarding_sessions set status = 'expired', version = version + 1, updated_at = $1
                 where status = 'in_progress' and last_activity_at < $2 returning id, user_id),
               drafts as (
                 delete from onboarding_steps where session_id in (select id from expired)),
               events as (
                 insert into onboarding_events (id, session_id, user_id, kind, step, created_at, updated_at)
                 select gen_random_uuid()::text, id, user_id, 'expired', null, $1, $1 from expired)
               select user_id as "user_id!" from expired"#,
            now,
            before
        )
        .fetch_all(&self.system)
        .await
    }

    async fn idempotent_response(&self, user: &str, key: &str) -> Result<Option<(i64, String)>> {
        let mut tx = self.begin(user).await?;
        // Only a key used in the user's latest session replays.
        let row = sqlx::query!(
            "select k.status, k.body from idempotency_keys k where k.user_id = $1 and k.key = $2 \
             and k.session_id = (select s.id from onboarding_sessions s where s.user_id = $1 \
             order by s.created_at desc, s.id desc limit 1)",
            user,
            key
        )
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(row.map(|r| (r.status, r.body)))
    }

    async fn purge_idempotency_keys(&self, before: i64) -> Result<u64> {
        let done = sqlx::query!("delete from idempotency_keys where created_at < $1", before)
            .execute(&self.system)
            .await?;
        Ok(done.rows_affected())
    }

    async fn begin_saves(&self) -> Result<Tx<Postgres>> {
        self.requests.begin(None).await
    }

    async fn lock_open_sessions(&self, tx: &mut Tx<Postgres>, users: &[String]) -> Result<Locked> {
        let open = sqlx::query_as!(
            OpenSession,
            "select id, user_id, version, last_activity_at from onboarding_sessions \
             where user_id = any($1) and status = 'in_progress' order by user_id for update",
            users
        )
        .fetch_all(&mut **tx)
        .await?;
        // A statement of its own: it reads with a snapshot taken after the locks' waits.
        let ids: Vec<String> = open.iter().map(|s| s.id.clone()).collect();
        let completed = sqlx::query!(
            "select session_id, step from onboarding_steps where session_id = any($1) and completed = 1",
            &ids
        )
        .fetch_all(&mut **tx)
        .await?
        .into_iter()
        .map(|r| (r.session_id, r.step))
        .collect();
        Ok((open, completed))
    }

    async fn write_saves(&self, tx: &mut Tx<Postgres>, writes: &SaveWrites) -> Result<()> {
        let sessions = &writes.sessions;
        let steps = &writes.steps;
        let events = &writes.events;
        sqlx::query!(
            r#"with bumped as (
                 update onboarding_sessions s set version = b.version, last_activity_at = b.at, updated_at = b.at
                 from unnest($1::text[], $2::bigint[], $3::bigint[]) as b(id, version, at)
                 where s.id = b.id),
               steps as (
                 insert into onboarding_steps (session_id, user_id, step, data, completed, created_at, updated_at)
                 select * from unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::bigint[], $10::bigint[])
                 on conflict (session_id, step) do update
                   set data = excluded.data, completed = excluded.completed, updated_at = excluded.updated_at)
               insert into onboarding_events (id, session_id, user_id, kind, step, created_at, updated_at)
               select e.id, e.session_id, e.user_id, e.kind, nullif(e.step, ''), e.at, e.at
               from unnest($11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::bigint[])
                 as e(id, session_id, user_id, kind, step, at)"#,
            &sessions.iter().map(|s| s.id.clone()).collect::<Vec<_>>(),
            &sessions.iter().map(|s| s.version).collect::<Vec<_>>(),
            &sessions.iter().map(|s| s.at).collect::<Vec<_>>(),
            &steps.iter().map(|r| r.session_id.clone()).collect::<Vec<_>>(),
            &steps.iter().map(|r| r.user_id.clone()).collect::<Vec<_>>(),
            &steps.iter().map(|r| r.step.clone()).collect::<Vec<_>>(),
            &steps.iter().map(|r| r.data.clone()).collect::<Vec<_>>(),
            &steps.iter().map(|r| i64::from(r.completed)).collect::<Vec<_>>(),
            &steps.iter().map(|r| r.created_at).collect::<Vec<_>>(),
            &steps.iter().map(|r| r.updated_at).collect::<Vec<_>>(),
            &events.iter().map(|e| e.id.clone()).collect::<Vec<_>>(),
            &events.iter().map(|e| e.session_id.clone()).collect::<Vec<_>>(),
            &events.iter().map(|e| e.user_id.clone()).collect::<Vec<_>>(),
            &events.iter().map(|e| e.kind.to_owned()).collect::<Vec<_>>(),
            &events.iter().map(|e| e.step.clone().unwrap_or_default()).collect::<Vec<_>>(),
            &events.iter().map(|e| e.at).collect::<Vec<_>>(),
        )
        .execute(&mut **tx)
        .await
        .map(|_| ())
    }

    async fn organization(&self, user: &str, id: &str) -> Result<Option<Organization>> {
        let mut tx = self.begin(user).await?;
        let organization = sqlx::query_as!(
            Organization,
            r#"select id, slug, name, industry, size, employee_count, country, website,
                 description, founded_year, okr_maturity, challenges as "challenges: JsonList",
                 goals as "goals: JsonList", timezone, okr_cycle, language, created_at
               from organizations where id = $1"#,
            id
        )
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(organization)
    }

    async fn role_in(&self, user: &str, org: &str) -> Result<Option<Role>> {
        let mut tx = self.begin(user).await?;
        let role = sqlx::query_scalar!(
            r#"select role as "role: Role" from memberships
               where organization_id = $1 and user_id = $2"#,
            org,
            user
        )
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(role)
    }

    async fn members(&self, user: &str, org: &str) -> Result<Vec<Member>> {
        let mut tx = self.begin(user).await?;
        let members = sqlx::query_as!(
            Member,
            r#"select user_id, role as "role: Role", created_at as joined_at from memberships
               where organization_id = $1 order by created_at, user_id"#,
            org
        )
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(members)
    }

    async fn objectives(&self, user: &str, org: &str) -> Result<(Vec<Objective>, Vec<KeyResult>)> {
        let mut tx = self.begin(user).await?;
        let objectives = sqlx::query!(
            "select id, position, title, description from objectives where organization_id = $1 \
             order by position",
            org
        )
        .fetch_all(&mut *tx)
        .await?;
        let key_results = sqlx::query_as!(
            KeyResult,
            "select objective_id, position, title, metric_type, baseline, target, unit \
             from key_results where organization_id = $1 order by objective_id, position",
            org
        )
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let objectives = objectives
            .into_iter()
            .map(|r| Objective {
                id: r.id,
                position: r.position,
                title: r.title,
                description: r.description,
                key_results: Vec::new(),
            })
            .collect();
        Ok((objectives, key_results))
    }

    async fn record_feedback(
        &self,
        user: &str,
        suggestion: &str,
        action: &str,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.begin(user).await?;
        sqlx::query!(
            "insert into suggestion_feedback (user_id, suggestion_id, action, created_at, updated_at) \
             values ($1, $2, $3, $4, $4) on conflict (user_id, suggestion_id) \
             do update set action = excluded.action, updated_at = excluded.updated_at",
            user,
            suggestion,
            action,
            now
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }

    async fn dismissed_suggestions(&self, user: &str) -> Result<Vec<String>> {
        let mut tx = self.begin(user).await?;
        let ids = sqlx::query_scalar!(
            "select suggestion_id from suggestion_feedback where user_id = $1 and action = 'dismissed'",
            user
        )
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(ids)
    }

    async fn funnel_figures(&self, from: i64, to: i64) -> Result<FunnelFigures> {
        let mut tx = self.system.begin().await?;
        let sessions_by_kind = sqlx::query!(
            r#"select kind, count(*) as "n!" from onboarding_events
               where created_at >= $1 and created_at < $2
                 and kind in ('started', 'completed', 'abandoned', 'expired')
               group by kind"#,
            from,
            to
        )
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|r| (r.kind, r.n))
        .collect();
        let cohort = sqlx::query_scalar!(
            r#"select count(*) as "n!" from onboarding_events
               where kind = 'started' and created_at >= $1 and created_at < $2"#,
            from,
            to
        )
        .fetch_one(&mut *tx)
        .await?;
        let reach = sqlx::query!(
            r#"select coalesce(step, '') as "step!", kind, count(distinct session_id) as "n!"
               from onboarding_events
               where kind in ('step_saved', 'step_completed') and session_id in
                 (select session_id from onboarding_events
                  where kind = 'started' and created_at >= $1 and created_at < $2)
               group by step, kind"#,
            from,
            to
        )
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|r| (r.step, r.kind, r.n))
        .collect();
        let completed = sqlx::query_scalar!(
            r#"select count(*) as "n!" from onboarding_events c
               join onboarding_events s on s.session_id = c.session_id and s.kind = 'started'
               where c.kind = 'completed' and c.created_at >= $1 and c.created_at < $2"#,
            from,
            to
        )
        .fetch_one(&mut *tx)
        .await?;
        let mut durations_at_ranks = Vec::new();
        for rank in Durations::ranks(completed) {
            durations_at_ranks.push(
                sqlx::query_scalar!(
                    r#"select c.created_at - s.created_at as "d!" from onboarding_events c
                       join onboarding_events s on s.session_id = c.session_id and s.kind = 'started'
                       where c.kind = 'completed' and c.created_at >= $1 and c.created_at < $2
                       order by 1 limit 1 offset $3"#,
                    from,
                    to,
                    rank
                )
                .fetch_one(&mut *tx)
                .await?,
            );
        }
        let feedback_by_action = sqlx::query!(
            r#"select action, count(*) as "n!" from suggestion_feedback
               where updated_at >= $1 and updated_at < $2 group by action"#,
            from,
            to
        )
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|r| (r.action, r.n))
        .collect();
        tx.commit().await?;
        Ok(FunnelFigures {
            sessions_by_kind,
            cohort,
            reach,
            completed,
            durations_at_ranks,
            feedback_by_action,
        })
    }

    async fn claim_mail(&self, now: i64, lease_until: i64, limit: i64) -> Result<Vec<Claimed>> {
        // `skip locked`: replicas' workers claim different messages at once.
        sqlx::query_as!(
            Claimed,
            r#"update mail_outbox set lease_until = $1, attempts = attempts + 1, updated_at = $2
               where id in (select id from mail_outbox
                            where state = 'pending' and next_attempt_at <= $2
                              and (lease_until is null or lease_until <= $2)
                            order by next_attempt_at, id limit $3 for update skip locked)
               returning id, recipient, subject, body as "body!", attempts"#,
            lease_until,
            now,
            limit
        )
        .fetch_all(&self.system)
        .await
    }

    async fn mail_sent(&self, id: &str, now: i64) -> Result<()> {
        sqlx::query!(
            "update mail_outbox set state = 'sent', body = null, lease_until = null, last_error = null, \
             sent_at = $1, updated_at = $1 where id = $2 and state = 'pending'",
            now,
            id
        )
        .execute(&self.system)
        .await
        .map(|_| ())
    }

    async fn mail_retry(&self, id: &str, error: &str, at: i64, now: i64) -> Result<()> {
        sqlx::query!(
            "update mail_outbox set next_attempt_at = $1, lease_until = null, last_error = $2, \
             updated_at = $3 where id = $4 and state = 'pending'",
            at,
            error,
            now,
            id
        )
        .execute(&self.system)
        .await
        .map(|_| ())
    }

    async fn mail_dead(&self, id: &str, error: &str, now: i64) -> Result<()> {
        sqlx::query!(
            "update mail_outbox set state = 'dead', body = null, lease_until = null, last_error = $1, \
             updated_at = $2 where id = $3 and state = 'pending'",
            error,
            now,
            id
        )
        .execute(&self.system)
        .await
        .map(|_| ())
    }

    async fn outbox(&self, state: Option<&str>, limit: i64) -> Result<Vec<OutboxMessage>> {
        sqlx::query_as!(
            OutboxMessage,
            "select id, organization_id, invitation_id, recipient, subject, state, attempts, \
             last_error, created_at, updated_at, sent_at from mail_outbox \
             where ($1::text is null or state = $1) order by updated_at desc, id limit $2",
            state,
            limit
        )
        .fetch_all(&self.system)
        .await
    }

    async fn pending_mail(&self, limit: i64) -> Result<Vec<DevMessage>> {
        sqlx::query_as!(
            DevMessage,
            r#"select id, recipient, subject, body as "body!", created_at from mail_outbox
               where state = 'pending' order by created_at desc, id limit $1"#,
            limit
        )
        .fetch_all(&self.system)
        .await
    }

    async fn purge_outbox(&self, before: i64) -> Result<u64> {
        let done = sqlx::query!(
            "delete from mail_outbox where state in ('sent', 'dead', 'cancelled') and updated_at < $1",
            before
        )
        .execute(&self.system)
        .await?;
        Ok(done.rows_affected())
    }

    async fn outbox_counts(&self) -> Result<OutboxCounts> {
        let row = sqlx::query!(
            r#"select count(*) filter (where state = 'pending') as "pending!",
                      count(*) filter (where state = 'dead') as "dead!"
               from mail_outbox where state in ('pending', 'dead')"#
        )
        .fetch_one(&self.system)
        .await?;
        Ok(OutboxCounts {
            pending: row.pending,
            dead: row.dead,
        })
    }
}
