//! The store on PostgreSQL: each [`Backend`] method as typed statements (`query!`, checked at
//! compile time against the schema of `migrations/postgres`, offline data in `.sqlx/`). What a
//! user's request reads or writes runs in a transaction as the row-level-security role
//! `onboarding_app` with `app.user_id` set, both bound parameters local to the transaction
//! ([`PgStore::begin`]); system work (the outbox's delivery, the funnel) runs as the connecting
//! role on sqlx's pool.

use onboarding_store::domains::{Domain, DomainMode, JoinOffer, NewDomainRow};
use onboarding_store::insights::Durations;
use onboarding_store::organizations::JsonList;
use onboarding_store::pool::ConnPool;
use onboarding_store::{
    new_id, Backend, Claimed, CompletionWrites, Delivery, DevMessage, FunnelFigures, Invitation,
    InvitationPreview, InvitationState, KeyResult, Locked, Member, NewInvitationRow, NewMail,
    NewOrganization, Objective, OpenSession, Organization, OutboxCounts, OutboxMessage, Result,
    Role, SaveWrites, Sender, SentBy, SessionEnd, SessionRow, SessionStatus, TokenInvitation, Tx,
};
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::Postgres;
use std::sync::Arc;
use std::time::Duration;

mod growth;

/// Connections for requests at most (idle ones are kept; opened when needed).
const REQUEST_CONNECTIONS: usize = 16;
/// Connections of sqlx's pool for system work.
const SYSTEM_CONNECTIONS: u32 = 4;

#[derive(Clone, Debug)]
pub struct PgStore {
    requests: ConnPool<Postgres>,
    system: PgPool,
    growth: Arc<growth::Growth>,
}

/// The migrations, embedded: each `NNNN_name.up.sql` with its `.down.sql`.
static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/postgres");

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

impl PgStore {
    /// Connects (one connection, to fail early when the database cannot be reached; the rest
    /// are opened when needed).
    pub async fn connect(options: PgConnectOptions, acquire_timeout: Duration) -> Result<PgStore> {
        let system = PgPoolOptions::new()
            .max_connections(SYSTEM_CONNECTIONS)
            .min_connections(0)
            .acquire_timeout(acquire_timeout)
            .connect_with(options.clone())
            .await?;
        Ok(PgStore {
            requests: ConnPool::new(options, REQUEST_CONNECTIONS, acquire_timeout),
            system,
            growth: Arc::default(),
        })
    }

    /// Sends `payload` on `channel` (`NOTIFY`), without waiting for its commit to be flushed
    /// (`synchronous_commit` off for it alone: a lost notification costs a cache entry its
    /// freshness until its time to live, never a write).
    pub async fn notify(&self, channel: &str, payload: &str) -> Result<()> {
        sqlx::query!(
            "select set_config('synchronous_commit', 'off', true) as sync from (select pg_notify($1, $2)) as sent",
            channel,
            payload
        )
        .fetch_one(&self.system)
        .await
        .map(|_| ())
    }

    /// The requests' connections.
    pub fn requests(&self) -> &ConnPool<Postgres> {
        &self.requests
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

    /// Counts a completion, and analyzes the tables completions grow when they are young
    /// (`growth`, decision 109), in the background on the system pool.
    fn grown(&self) {
        let Some(made) = self.growth.count() else {
            return;
        };
        let system = self.system.clone();
        tokio::spawn(async move {
            if let Err(e) = growth::analyze_if_young(&system, made).await {
                tracing::warn!(error = %e, "analyzing the tables completions grow failed");
            }
        });
    }
}

/// A position in a list, as stored.
fn position(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Backend for PgStore {
    type Db = Postgres;

    async fn migrate(&self) -> std::result::Result<(), MigrateError> {
        // The app role is cluster-wide, but sqlx's migration lock is per database: two
        // databases of one cluster migrating at once (two test databases, two tenants'
        // deployments) can both find the role missing in 0002 and one then fails on the unique
        // index. Create it here first, tolerating the race; 0002 then finds it. (0002 itself is
        // left unchanged: an applied migration's checksum is fixed.)
        sqlx::raw_sql(ENSURE_APP_ROLE)
            .execute(&self.system)
            .await
            .map_err(MigrateError::Execute)?;
        MIGRATOR.run(&self.system).await
    }

    async fn undo(&self, target: i64) -> std::result::Result<(), MigrateError> {
        MIGRATOR.undo(&self.system, target).await
    }

    fn migration_versions(&self) -> Vec<i64> {
        MIGRATOR
            .iter()
            .filter(|m| m.migration_type.is_down_migration())
            .map(|m| m.version)
            .collect()
    }

    async fn schema_version(&self) -> Result<i64> {
        let tables = sqlx::query_scalar!(
            r#"select count(*) as "n!" from pg_tables
               where tablename = '_sqlx_migrations' and schemaname = current_schema()"#
        )
        .fetch_one(&self.system)
        .await?;
        if tables == 0 {
            return Ok(0);
        }
        sqlx::query_scalar!(
            r#"select coalesce(max(version), 0) as "v!" from _sqlx_migrations where success"#
        )
        .fetch_one(&self.system)
        .await
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query!("select 1 as one")
            .fetch_one(&self.system)
            .await
            .map(|_| ())
    }

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

    /// An ordinary transaction on PostgreSQL: what a young database's plans need is done by
    /// analyzes as its tables grow (`growth`, decision 109), not per transaction.
    async fn begin_write(&self, user: &str) -> Result<Tx<Postgres>> {
        self.begin(user).await
    }

    async fn lock_open_session(
        &self,
        tx: &mut Tx<Postgres>,
        user: &str,
    ) -> Result<Option<SessionRow>> {
        let locked = sqlx::query_scalar!(
            "select id from onboarding_sessions where user_id = $1 and status = 'in_progress' for update",
            user
        )
        .fetch_optional(&mut **tx)
        .await?;
        let Some(id) = locked else {
            return Ok(None);
        };
        // A statement of its own: it reads the draft with a snapshot taken after the lock's
        // wait, so a save that held the lock is in it.
        sqlx::query_as!(
            SessionRow,
            r#"select s.id, s.user_id, s.status as "status: SessionStatus", s.version,
                 '{' || coalesce(d.fields, '') || '}' as "draft!", '[' || coalesce(d.done, '') || ']' as "completed_steps!",
                 s.organization_id, s.last_activity_at, s.created_at
               from onboarding_sessions s
               left join lateral (
                 select string_agg(to_json(x.step)::text || ':' || x.data, ',') as fields,
                        string_agg(to_json(x.step)::text, ',') filter (where x.completed = 1) as done
                 from onboarding_steps x where x.session_id = s.id) d on true
               where s.id = $1"#,
            id
        )
        .fetch_optional(&mut **tx)
        .await
    }

    async fn lock_organization(&self, tx: &mut Tx<Postgres>, org: &str) -> Result<()> {
        sqlx::query_scalar!("select id from organizations where id = $1 for update", org)
            .fetch_optional(&mut **tx)
            .await
            .map(|_| ())
    }

    async fn lock_user_sends(&self, tx: &mut Tx<Postgres>, user: &str) -> Result<()> {
        sqlx::query!(
            "select pg_advisory_xact_lock(hashtextextended('onboarding.invitations:' || $1, 0)) as locked",
            user
        )
        .fetch_one(&mut **tx)
        .await
        .map(|_| ())
    }

    async fn mail_sent_since(
        &self,
        tx: &mut Tx<Postgres>,
        by: SentBy<'_>,
        since: i64,
    ) -> Result<(i64, i64)> {
        let row = match by {
            SentBy::Organization(org) => sqlx::query!(
                r#"select count(*) as "n!", coalesce(min(created_at), 0) as "oldest!"
                   from mail_outbox where organization_id = $1 and created_at > $2"#,
                org,
                since
            )
            .fetch_one(&mut **tx)
            .await
            .map(|r| (r.n, r.oldest))?,
            SentBy::User(user) => sqlx::query!(
                r#"select count(*) as "n!", coalesce(min(created_at), 0) as "oldest!"
                   from mail_outbox where sent_by = $1 and created_at > $2"#,
                user,
                since
            )
            .fetch_one(&mut **tx)
            .await
            .map(|r| (r.n, r.oldest))?,
        };
        Ok(row)
    }

    async fn found_organization(
        &self,
        tx: &mut Tx<Postgres>,
        org: &NewOrganization<'_>,
    ) -> Result<bool> {
        // In a savepoint of its own, which a taken slug rolls back: `on conflict do nothing`
        // would have row-level security check the new row against the members-only read
        // policy, and it has no member yet.
        let mut attempt = sqlx::Connection::begin(&mut **tx).await?;
        let inserted = sqlx::query!(
            "insert into organizations (id, slug, name, industry, size, employee_count, country, website, \
             description, founded_year, okr_maturity, challenges, goals, timezone, okr_cycle, language, \
             created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
             $15, $16, $17, $17)",
            org.id,
            org.slug,
            org.organization.name,
            org.organization.industry,
            org.organization.size,
            org.organization.employee_count,
            org.organization.country,
            org.organization.website,
            org.organization.description,
            org.organization.founded_year,
            org.organization.okr_maturity,
            org.challenges,
            org.goals,
            org.organization.timezone,
            org.organization.okr_cycle,
            org.organization.language,
            org.created_at
        )
        .execute(&mut *attempt)
        .await;
        match inserted {
            Ok(_) => attempt.commit().await?,
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                attempt.rollback().await?;
                return Ok(false);
            }
            Err(e) => return Err(e),
        }
        sqlx::query!(
            "insert into memberships (id, organization_id, user_id, role, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $5)",
            org.membership_id,
            org.id,
            org.owner,
            org.owner_role,
            org.created_at
        )
        .execute(&mut **tx)
        .await?;
        Ok(true)
    }

    async fn highest_slug_suffix(&self, tx: &mut Tx<Postgres>, base: &str) -> Result<u32> {
        // Row-level security hides other tenants' organizations: a security-definer function
        // (migration 0006) reads the one number across them.
        let n = sqlx::query_scalar!(r#"select onboarding_highest_slug_suffix($1) as "n!""#, base)
            .fetch_one(&mut **tx)
            .await?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX - 1))
    }

    async fn write_completion(
        &self,
        tx: &mut Tx<Postgres>,
        w: &CompletionWrites<'_>,
    ) -> Result<()> {
        let r = w.records;
        let p = &r.profile;
        let key_results: Vec<(&String, &String, &onboarding_core::transform::KeyResult)> = r
            .objectives
            .iter()
            .zip(&w.objective_ids)
            .zip(&w.key_result_ids)
            .flat_map(|((o, objective), ids)| {
                o.key_results
                    .iter()
                    .zip(ids)
                    .map(move |(kr, id)| (id, objective, kr))
            })
            .collect();
        let invitations = &w.invitations;
        let (key, body) = w.idempotency.unzip();
        // One statement: it comes after the membership because the policies on the
        // organization's rows look the membership up, and a statement does not see its own
        // writes.
        sqlx::query!(
            r#"with session as (
                 update onboarding_sessions set status = 'completed', organization_id = $2,
                   version = version + 1, last_activity_at = $3, updated_at = $3 where id = $1),
               profile as (
                 insert into profiles (user_id, full_name, job_title, department, team_size,
                   experience_with_okr, primary_goal, urgency_level, preferences, setup_demo,
                   additional_notes, created_at, updated_at)
                 values ($4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $3, $3)
                 on conflict (user_id) do update set full_name = excluded.full_name,
                   job_title = excluded.job_title, department = excluded.department,
                   team_size = excluded.team_size, experience_with_okr = excluded.experience_with_okr,
                   primary_goal = excluded.primary_goal, urgency_level = excluded.urgency_level,
                   preferences = excluded.preferences, setup_demo = excluded.setup_demo,
                   additional_notes = excluded.additional_notes, updated_at = excluded.updated_at),
               objectives as (
                 insert into objectives (id, organization_id, position, title, description, created_at, updated_at)
                 select o.id, $2, o.position, o.title, o.description, $3, $3
                 from unnest($15::text[], $16::bigint[], $17::text[], $18::text[]) as o(id, position, title, description)),
               key_results as (
                 insert into key_results (id, objective_id, organization_id, position, title, metric_type,
                   baseline, target, unit, created_at, updated_at)
                 select k.id, k.objective_id, $2, k.position, k.title, k.metric_type, k.baseline, k.target, k.unit, $3, $3
                 from unnest($19::text[], $20::text[], $21::bigint[], $22::text[], $23::text[],
                             $24::float8[], $25::float8[], $26::text[])
                   as k(id, objective_id, position, title, metric_type, baseline, target, unit)),
               invitations as (
                 insert into invitations (id, organization_id, email, role, token_hash, expires_at, state,
                   invited_by, created_at, updated_at)
                 select i.id, $2, i.email, i.role, i.token_hash, $30, 'pending', $4, $3, $3
                 from unnest($27::text[], $28::text[], $29::text[], $31::text[]) as i(id, email, role, token_hash)),
               mails as (
                 insert into mail_outbox (id, organization_id, invitation_id, recipient, subject, body, state,
                   attempts, next_attempt_at, created_at, updated_at, sent_by)
                 select m.id, $2, m.invitation_id, m.recipient, m.subject, m.body, 'pending', 0, $3, $3, $3, $4
                 from unnest($32::text[], $33::text[], $34::text[], $35::text[], $36::text[])
                   as m(id, invitation_id, recipient, subject, body)),
               keys as (
                 insert into idempotency_keys (user_id, key, session_id, status, body, created_at, updated_at)
                 select $4, $38, $1, 201, $39, $3, $3 where $38::text is not null
                 on conflict (user_id, key) do update set session_id = excluded.session_id,
                   status = excluded.status, body = excluded.body, created_at = excluded.created_at,
                   updated_at = excluded.updated_at)
               insert into onboarding_events (id, session_id, user_id, kind, step, created_at, updated_at)
               values ($37, $1, $4, 'completed', null, $3, $3)"#,
            w.session_id,
            w.organization_id,
            w.at,
            w.user,
            p.full_name,
            p.job_title,
            p.department,
            p.team_size,
            p.experience_with_okr,
            p.primary_goal,
            p.urgency_level,
            w.preferences,
            p.setup_demo,
            p.additional_notes,
            &w.objective_ids,
            &r.objectives.iter().map(|o| position(o.position)).collect::<Vec<_>>(),
            &r.objectives.iter().map(|o| o.title.clone()).collect::<Vec<_>>(),
            &r.objectives.iter().map(|o| o.description.clone()).collect::<Vec<_>>() as _,
            &key_results.iter().map(|(id, _, _)| (*id).clone()).collect::<Vec<_>>(),
            &key_results.iter().map(|(_, o, _)| (*o).clone()).collect::<Vec<_>>(),
            &key_results.iter().map(|(_, _, k)| position(k.position)).collect::<Vec<_>>(),
            &key_results.iter().map(|(_, _, k)| k.title.clone()).collect::<Vec<_>>(),
            &key_results.iter().map(|(_, _, k)| k.metric_type.to_owned()).collect::<Vec<_>>(),
            &key_results.iter().map(|(_, _, k)| k.baseline).collect::<Vec<_>>(),
            &key_results.iter().map(|(_, _, k)| k.target).collect::<Vec<_>>(),
            &key_results.iter().map(|(_, _, k)| k.unit.clone()).collect::<Vec<_>>() as _,
            &invitations.iter().map(|i| i.id.clone()).collect::<Vec<_>>(),
            &invitations.iter().map(|i| i.email.to_owned()).collect::<Vec<_>>(),
            &invitations.iter().map(|i| i.role.to_owned()).collect::<Vec<_>>(),
            w.invitations_expire_at,
            &invitations.iter().map(|i| i.token_hash.to_owned()).collect::<Vec<_>>(),
            &invitations.iter().map(|i| i.mail_id.clone()).collect::<Vec<_>>(),
            &invitations.iter().map(|i| i.id.clone()).collect::<Vec<_>>(),
            &invitations.iter().map(|i| i.mail.to.clone()).collect::<Vec<_>>(),
            &invitations.iter().map(|i| i.mail.subject.clone()).collect::<Vec<_>>(),
            &invitations.iter().map(|i| i.mail.body.clone()).collect::<Vec<_>>(),
            w.event_id,
            key,
            body,
        )
        .execute(&mut **tx)
        .await?;
        self.grown();
        Ok(())
    }

    async fn invitations(&self, user: &str, org: &str, now: i64) -> Result<Vec<Invitation>> {
        let mut tx = self.begin(user).await?;
        let invitations = sqlx::query_as!(
            Invitation,
            r#"select i.id, i.email, i.role as "role: Role",
                 case when i.state = 'pending' and i.expires_at <= $1 then 'expired' else i.state end
                   as "state!: InvitationState",
                 i.invited_by, i.expires_at, i.created_at, i.accepted_at, i.revoked_at,
                 (select o.state from mail_outbox o where o.invitation_id = i.id
                  order by o.created_at desc, o.id limit 1) as "delivery: Delivery"
               from invitations i where i.organization_id = $2
               order by i.created_at desc, i.email"#,
            now,
            org
        )
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(invitations)
    }

    async fn invitation(
        &self,
        tx: &mut Tx<Postgres>,
        org: &str,
        id: &str,
        now: i64,
    ) -> Result<Option<Invitation>> {
        sqlx::query_as!(
            Invitation,
            r#"select i.id, i.email, i.role as "role: Role",
                 case when i.state = 'pending' and i.expires_at <= $1 then 'expired' else i.state end
                   as "state!: InvitationState",
                 i.invited_by, i.expires_at, i.created_at, i.accepted_at, i.revoked_at,
                 (select o.state from mail_outbox o where o.invitation_id = i.id
                  order by o.created_at desc, o.id limit 1) as "delivery: Delivery"
               from invitations i where i.organization_id = $2 and i.id = $3"#,
            now,
            org,
            id
        )
        .fetch_optional(&mut **tx)
        .await
    }

    async fn expire_pending_invitations(
        &self,
        tx: &mut Tx<Postgres>,
        org: &str,
        now: i64,
    ) -> Result<()> {
        sqlx::query!(
            "update invitations set state = 'expired', updated_at = $1
             where organization_id = $2 and state = 'pending' and expires_at <= $1",
            now,
            org
        )
        .execute(&mut **tx)
        .await
        .map(|_| ())
    }

    async fn pending_invitation_emails(
        &self,
        tx: &mut Tx<Postgres>,
        org: &str,
    ) -> Result<Vec<String>> {
        sqlx::query_scalar!(
            "select email from invitations where organization_id = $1 and state = 'pending'",
            org
        )
        .fetch_all(&mut **tx)
        .await
    }

    async fn insert_invitation(
        &self,
        tx: &mut Tx<Postgres>,
        row: &NewInvitationRow<'_>,
    ) -> Result<()> {
        let role = row.role.as_str();
        sqlx::query!(
            "insert into invitations (id, organization_id, email, role, token_hash, expires_at, state,
               invited_by, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $8)",
            row.id,
            row.organization_id,
            row.email,
            role,
            row.token_hash,
            row.expires_at,
            row.invited_by,
            row.at
        )
        .execute(&mut **tx)
        .await
        .map(|_| ())
    }

    async fn sender(&self, tx: &mut Tx<Postgres>, user: &str, org: &str) -> Result<Sender> {
        let organization = sqlx::query!(
            "select name, language from organizations where id = $1",
            org
        )
        .fetch_one(&mut **tx)
        .await?;
        let inviter =
            sqlx::query_scalar!("select full_name from profiles where user_id = $1", user)
                .fetch_optional(&mut **tx)
                .await?;
        Ok(Sender {
            organization: organization.name,
            language: organization.language,
            inviter,
        })
    }

    async fn enqueue_mail(&self, tx: &mut Tx<Postgres>, m: &NewMail<'_>) -> Result<()> {
        sqlx::query!(
            "insert into mail_outbox (id, organization_id, invitation_id, recipient, subject, body, state,
               attempts, next_attempt_at, created_at, updated_at, sent_by)
             values ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $7, $7, $8)",
            new_id(),
            m.organization_id,
            m.invitation_id,
            m.mail.to,
            m.mail.subject,
            m.mail.body,
            m.at,
            m.sent_by
        )
        .execute(&mut **tx)
        .await
        .map(|_| ())
    }

    async fn revoke_invitation(
        &self,
        tx: &mut Tx<Postgres>,
        org: &str,
        id: &str,
        now: i64,
    ) -> Result<bool> {
        let done = sqlx::query!(
            "update invitations set state = 'revoked', revoked_at = $1, updated_at = $1
             where id = $2 and organization_id = $3 and state = 'pending'",
            now,
            id,
            org
        )
        .execute(&mut **tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn cancel_mail(&self, tx: &mut Tx<Postgres>, invitation: &str, now: i64) -> Result<()> {
        sqlx::query!(
            "update mail_outbox set state = 'cancelled', body = null, lease_until = null, updated_at = $1
             where invitation_id = $2 and state = 'pending'",
            now,
            invitation
        )
        .execute(&mut **tx)
        .await
        .map(|_| ())
    }

    async fn renew_invitation(
        &self,
        tx: &mut Tx<Postgres>,
        org: &str,
        id: &str,
        token_hash: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<Option<String>> {
        sqlx::query_scalar!(
            "update invitations set token_hash = $1, expires_at = $2, state = 'pending', updated_at = $3
             where id = $4 and organization_id = $5 and state in ('pending', 'expired') returning email",
            token_hash,
            expires_at,
            now,
            id,
            org
        )
        .fetch_optional(&mut **tx)
        .await
    }

    async fn domains(&self, user: &str, org: &str) -> Result<Vec<Domain>> {
        let mut tx = self.begin(user).await?;
        let domains = sqlx::query_as!(
            Domain,
            r#"select domain, mode as "mode: DomainMode", affiliation_verified_at, ownership_verified_at,
                 ownership_token, created_at
               from organization_domains where organization_id = $1 order by domain"#,
            org
        )
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(domains)
    }

    async fn domain_of(
        &self,
        tx: &mut Tx<Postgres>,
        org: &str,
        domain: &str,
    ) -> Result<Option<Domain>> {
        sqlx::query_as!(
            Domain,
            r#"select domain, mode as "mode: DomainMode", affiliation_verified_at, ownership_verified_at,
                 ownership_token, created_at
               from organization_domains where organization_id = $1 and domain = $2"#,
            org,
            domain
        )
        .fetch_optional(&mut **tx)
        .await
    }

    async fn domain_verified_elsewhere(
        &self,
        tx: &mut Tx<Postgres>,
        org: &str,
        domain: &str,
    ) -> Result<bool> {
        // Row-level security hides other organizations' rows: a definer function (0016).
        let found = sqlx::query_scalar!(
            r#"select onboarding_domain_verified_elsewhere($1, $2) as "found!""#,
            domain,
            org
        )
        .fetch_one(&mut **tx)
        .await?;
        Ok(found)
    }

    async fn insert_domain(&self, tx: &mut Tx<Postgres>, row: &NewDomainRow<'_>) -> Result<()> {
        let mode = row.mode.as_str();
        sqlx::query!(
            "insert into organization_domains (id, organization_id, domain, mode, ownership_token,
               affiliation_verified_at, affiliation_verified_by, created_by, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
            row.id,
            row.organization_id,
            row.domain,
            mode,
            row.ownership_token,
            row.affiliation_verified_at,
            row.affiliation_verified_by,
            row.created_by,
            row.at
        )
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    async fn organizations_to_join(&self, user: &str, domain: &str) -> Result<Vec<JoinOffer>> {
        // Other organizations' rows are hidden by row-level security: a definer function for
        // the transaction's user (migration 0017).
        let mut tx = self.begin(user).await?;
        let offers = sqlx::query_as!(
            JoinOffer,
            r#"select id as "id!", name as "name!", mode as "mode!: DomainMode", members as "members!"
               from onboarding_organizations_to_join($1)"#,
            domain
        )
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(offers)
    }

    async fn set_domain_mode(
        &self,
        tx: &mut Tx<Postgres>,
        org: &str,
        domain: &str,
        mode: DomainMode,
        now: i64,
    ) -> Result<()> {
        let mode = mode.as_str();
        sqlx::query!(
            "update organization_domains set mode = $1, updated_at = $2
             where organization_id = $3 and domain = $4",
            mode,
            now,
            org,
            domain
        )
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    async fn set_ownership_verified(
        &self,
        tx: &mut Tx<Postgres>,
        org: &str,
        domain: &str,
        now: i64,
    ) -> Result<()> {
        sqlx::query!(
            "update organization_domains set ownership_verified_at = $1, updated_at = $1
             where organization_id = $2 and domain = $3",
            now,
            org,
            domain
        )
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    async fn delete_domain(&self, tx: &mut Tx<Postgres>, org: &str, domain: &str) -> Result<bool> {
        let done = sqlx::query!(
            "delete from organization_domains where organization_id = $1 and domain = $2",
            org,
            domain
        )
        .execute(&mut **tx)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn invitation_preview(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<InvitationPreview>> {
        // No user: row-level security shows nothing, so a definer function reads the rows by
        // the token's hash (migration 0015).
        let mut tx = self.begin("").await?;
        let preview = sqlx::query_as!(
            InvitationPreview,
            r#"select organization as "organization!", inviter, state as "state!: InvitationState",
                 expires_at as "expires_at!"
               from onboarding_invitation_preview($1, $2)"#,
            token_hash,
            now
        )
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(preview)
    }

    async fn invitation_by_token(
        &self,
        tx: &mut Tx<Postgres>,
        token_hash: &str,
    ) -> Result<Option<TokenInvitation>> {
        // Row-level security hides an invitation from its invitee (not a member yet): a
        // security-definer function reads it, locked (migration 0014).
        sqlx::query_as!(
            TokenInvitation,
            r#"select id as "id!", organization_id as "organization_id!", role as "role!: Role",
                 state as "state!: InvitationState", email as "email!", expires_at as "expires_at!"
               from onboarding_invitation_by_token($1)"#,
            token_hash
        )
        .fetch_optional(&mut **tx)
        .await
    }

    async fn accept_invitation(
        &self,
        tx: &mut Tx<Postgres>,
        id: &str,
        _user: &str,
        now: i64,
    ) -> Result<()> {
        // As above; the function records the user from the transaction's `app.user_id`.
        sqlx::query!(
            "select onboarding_accept_invitation($1, $2) as accepted",
            id,
            now
        )
        .fetch_one(&mut **tx)
        .await
        .map(|_| ())
    }

    async fn join_organization(
        &self,
        tx: &mut Tx<Postgres>,
        org: &str,
        user: &str,
        role: Role,
        now: i64,
    ) -> Result<()> {
        // In a savepoint, which an existing membership's unique violation rolls back
        // (`on conflict` would need the members-only read policy on the new row).
        let mut attempt = sqlx::Connection::begin(&mut **tx).await?;
        let joined = sqlx::query!(
            "insert into memberships (id, organization_id, user_id, role, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $5)",
            new_id(),
            org,
            user,
            role.as_str(),
            now
        )
        .execute(&mut *attempt)
        .await;
        match joined {
            Ok(_) => attempt.commit().await,
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => attempt.rollback().await,
            Err(e) => Err(e),
        }
    }

    async fn member_role(
        &self,
        tx: &mut Tx<Postgres>,
        org: &str,
        member: &str,
    ) -> Result<Option<Role>> {
        sqlx::query_scalar!(
            r#"select role as "role: Role" from memberships where organization_id = $1 and user_id = $2"#,
            org,
            member
        )
        .fetch_optional(&mut **tx)
        .await
    }

    async fn count_owners(&self, tx: &mut Tx<Postgres>, org: &str) -> Result<i64> {
        sqlx::query_scalar!(
            r#"select count(*) as "n!" from memberships where organization_id = $1 and role = 'owner'"#,
            org
        )
        .fetch_one(&mut **tx)
        .await
    }

    async fn set_member_role(
        &self,
        tx: &mut Tx<Postgres>,
        org: &str,
        member: &str,
        role: Role,
        now: i64,
    ) -> Result<()> {
        let role = role.as_str();
        sqlx::query!(
            "update memberships set role = $1, updated_at = $2 where organization_id = $3 and user_id = $4",
            role,
            now,
            org,
            member
        )
        .execute(&mut **tx)
        .await
        .map(|_| ())
    }

    async fn remove_member(&self, tx: &mut Tx<Postgres>, org: &str, member: &str) -> Result<()> {
        sqlx::query!(
            "delete from memberships where organization_id = $1 and user_id = $2",
            org,
            member
        )
        .execute(&mut **tx)
        .await
        .map(|_| ())
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
