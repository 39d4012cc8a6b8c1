//! The store on SQLite, the embedded default: each [`Backend`] method as typed statements
//! (`query!`, checked at compile time against the schema of `migrations/sqlite`, offline data
//! in `.sqlx/`). Reads run on a pool of connections beside one writer connection: writes
//! queue in order inside the process instead of polling SQLite's lock (its busy handler sleeps
//! up to 100 ms a turn), and each takes the write lock at its start (`begin immediate`; a read
//! lock upgraded later can fail with "database is locked" whatever the busy timeout). There is
//! no row-level security: the operations' own checks are the tenancy.

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
use serde_json::{json, Value};
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, SqliteConnection};
use std::time::Duration;

/// Read connections at most (idle ones are kept; opened when needed).
const READ_CONNECTIONS: usize = 8;

/// The migrations, embedded: each `NNNN_name.up.sql` with its `.down.sql`.
static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/sqlite");

#[derive(Clone, Debug)]
pub struct SqliteStore {
    reads: ConnPool<Sqlite>,
    writer: ConnPool<Sqlite>,
    /// sqlx's pool, for the migrations (which take their own connection and lock).
    system: SqlitePool,
}

impl SqliteStore {
    /// Connects (one connection, to fail early when the file cannot be opened; the rest are
    /// opened when needed). WAL lets readers run beside the one writer; the busy timeout covers
    /// other processes (the migrations, an operator's sqlite3 shell).
    pub async fn connect(
        options: SqliteConnectOptions,
        acquire_timeout: Duration,
    ) -> Result<SqliteStore> {
        let options = options
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            .synchronous(SqliteSynchronous::Normal);
        let system = SqlitePoolOptions::new()
            .max_connections(2)
            .min_connections(0)
            .acquire_timeout(acquire_timeout)
            .connect_with(options.clone())
            .await?;
        Ok(SqliteStore {
            reads: ConnPool::new(options.clone(), READ_CONNECTIONS, acquire_timeout),
            writer: ConnPool::new(options, 1, acquire_timeout),
            system,
        })
    }

    /// A write transaction on the writer, holding the write lock from its start.
    pub async fn begin_write(&self) -> Result<Tx<Sqlite>> {
        self.writer.begin(Some("begin immediate".into())).await
    }
}

/// Records an event of session `session` (`started`, `abandoned`, …).
async fn event(
    conn: &mut SqliteConnection,
    id: &str,
    session: &str,
    user: &str,
    kind: &str,
    now: i64,
) -> Result<()> {
    sqlx::query!(
        "insert into onboarding_events (id, session_id, user_id, kind, step, created_at, updated_at)
         values ($1, $2, $3, $4, null, $5, $5)",
        id,
        session,
        user,
        kind,
        now
    )
    .execute(conn)
    .await
    .map(|_| ())
}

/// Deletes a session's draft (its step rows): an abandoned or expired draft is not kept.
async fn discard_draft(conn: &mut SqliteConnection, session: &str) -> Result<()> {
    sqlx::query!(
        "delete from onboarding_steps where session_id = $1",
        session
    )
    .execute(conn)
    .await
    .map(|_| ())
}

/// A position in a list, as stored.
fn position(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Backend for SqliteStore {
    type Db = Sqlite;

    async fn migrate(&self) -> std::result::Result<(), MigrateError> {
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
            r#"select count(*) as "n!: i64" from sqlite_master where name = '_sqlx_migrations'"#
        )
        .fetch_one(&self.system)
        .await?;
        if tables == 0 {
            return Ok(0);
        }
        sqlx::query_scalar!(
            r#"select coalesce(max(version), 0) as "v!: i64" from _sqlx_migrations where success"#
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
        let mut conn = self.reads.acquire().await?;
        let row = sqlx::query_as!(
            SessionRow,
            r#"select s.id as "id!", s.user_id, s.status as "status: SessionStatus", s.version,
                 '{' || coalesce((select group_concat(json_quote(x.step) || ':' || x.data, ',')
                                  from onboarding_steps x where x.session_id = s.id), '') || '}' as "draft!: String",
                 '[' || coalesce((select group_concat(json_quote(x.step), ',')
                                  from onboarding_steps x where x.session_id = s.id and x.completed = 1), '') || ']'
                   as "completed_steps!: String",
                 s.organization_id, s.last_activity_at, s.created_at
               from onboarding_sessions s where s.user_id = $1
               order by s.created_at desc, s.id desc limit 1"#,
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
        let mut tx = self.begin_write().await?;
        sqlx::query!(
            "insert into onboarding_sessions (id, user_id, status, version, organization_id,
               last_activity_at, created_at, updated_at) values ($1, $2, 'in_progress', 1, null, $3, $3, $3)",
            id,
            user,
            now
        )
        .execute(&mut *tx)
        .await?;
        event(&mut tx, started_event, id, user, "started", now).await?;
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
        let mut tx = self.begin_write().await?;
        let ended = sqlx::query!(
            "update onboarding_sessions set status = $1, version = version + 1, updated_at = $2
             where id = $3 and status = 'in_progress'",
            status,
            now,
            id
        )
        .execute(&mut *tx)
        .await?;
        if ended.rows_affected() == 1 {
            discard_draft(&mut tx, id).await?;
            event(&mut tx, event_id, id, user, status, now).await?;
        }
        tx.commit().await
    }

    async fn expire_sessions(&self, now: i64, before: i64) -> Result<Vec<String>> {
        let mut tx = self.begin_write().await?;
        let expired = sqlx::query!(
            r#"update onboarding_sessions set status = 'expired', version = version + 1, updated_at = $1
               where status = 'in_progress' and last_activity_at < $2 returning id as "id!", user_id"#,
            now,
            before
        )
        .fetch_all(&mut *tx)
        .await?;
        let mut users = Vec::with_capacity(expired.len());
        for session in expired {
            discard_draft(&mut tx, &session.id).await?;
            event(
                &mut tx,
                &new_id(),
                &session.id,
                &session.user_id,
                "expired",
                now,
            )
            .await?;
            users.push(session.user_id);
        }
        tx.commit().await?;
        Ok(users)
    }

    async fn idempotent_response(&self, user: &str, key: &str) -> Result<Option<(i64, String)>> {
        let mut conn = self.reads.acquire().await?;
        // Only a key used in the user's latest session replays.
        let row = sqlx::query!(
            "select k.status, k.body from idempotency_keys k where k.user_id = $1 and k.key = $2
             and k.session_id = (select s.id from onboarding_sessions s where s.user_id = $1
             order by s.created_at desc, s.id desc limit 1)",
            user,
            key
        )
        .fetch_optional(&mut *conn)
        .await?;
        conn.release();
        Ok(row.map(|r| (r.status, r.body)))
    }

    async fn purge_idempotency_keys(&self, before: i64) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query!("delete from idempotency_keys where created_at < $1", before)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    async fn begin_write(&self, _user: &str) -> Result<Tx<Sqlite>> {
        SqliteStore::begin_write(self).await
    }

    async fn lock_open_session(
        &self,
        tx: &mut Tx<Sqlite>,
        user: &str,
    ) -> Result<Option<SessionRow>> {
        // The write transaction (`begin immediate`) already excludes every other writer.
        sqlx::query_as!(
            SessionRow,
            r#"select s.id as "id!", s.user_id, s.status as "status: SessionStatus", s.version,
                 '{' || coalesce((select group_concat(json_quote(x.step) || ':' || x.data, ',')
                                  from onboarding_steps x where x.session_id = s.id), '') || '}' as "draft!: String",
                 '[' || coalesce((select group_concat(json_quote(x.step), ',')
                                  from onboarding_steps x where x.session_id = s.id and x.completed = 1), '') || ']'
                   as "completed_steps!: String",
                 s.organization_id, s.last_activity_at, s.created_at
               from onboarding_sessions s where s.user_id = $1 and s.status = 'in_progress'"#,
            user
        )
        .fetch_optional(&mut **tx)
        .await
    }

    async fn lock_organization(&self, _tx: &mut Tx<Sqlite>, _org: &str) -> Result<()> {
        Ok(()) // The one writer holds SQLite's write lock already.
    }

    async fn lock_user_sends(&self, _tx: &mut Tx<Sqlite>, _user: &str) -> Result<()> {
        Ok(()) // As above.
    }

    async fn mail_sent_since(
        &self,
        tx: &mut Tx<Sqlite>,
        by: SentBy<'_>,
        since: i64,
    ) -> Result<(i64, i64)> {
        let row = match by {
            SentBy::Organization(org) => sqlx::query!(
                r#"select count(*) as "n!: i64", coalesce(min(created_at), 0) as "oldest!: i64"
                   from mail_outbox where organization_id = $1 and created_at > $2"#,
                org,
                since
            )
            .fetch_one(&mut **tx)
            .await
            .map(|r| (r.n, r.oldest))?,
            SentBy::User(user) => sqlx::query!(
                r#"select count(*) as "n!: i64", coalesce(min(created_at), 0) as "oldest!: i64"
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
        tx: &mut Tx<Sqlite>,
        org: &NewOrganization<'_>,
    ) -> Result<bool> {
        // One statement list (one hop to the connection's thread): the membership only when the
        // organization was inserted (`changes()`: the rows of the statement before).
        let founded = sqlx::query!(
            "insert into organizations (id, slug, name, industry, size, employee_count, country, website,
               description, founded_year, okr_maturity, challenges, goals, timezone, okr_cycle, language,
               created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
               $15, $16, $17, $17) on conflict (slug) do nothing;
             insert into memberships (id, organization_id, user_id, role, created_at, updated_at)
             select $18, $19, $20, $21, $22, $22 where changes() = 1",
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
            org.created_at,
            org.membership_id,
            org.id,
            org.owner,
            org.owner_role,
            org.created_at
        )
        .execute(&mut **tx)
        .await?;
        Ok(founded.rows_affected() > 0)
    }

    async fn highest_slug_suffix(&self, tx: &mut Tx<Sqlite>, base: &str) -> Result<u32> {
        let n = sqlx::query_scalar!(
            r#"select coalesce(max(cast(substr(slug, length($1) + 2) as integer)), 1) as "n!: i64"
               from organizations where slug > $1 || '-' and slug < $1 || '.'
                 and length(slug) - length($1) between 2 and 10
                 and substr(slug, length($1) + 2) not glob '*[^0-9]*'
                 and substr(slug, length($1) + 2) not like '0%'"#,
            base
        )
        .fetch_one(&mut **tx)
        .await?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX - 1))
    }

    async fn write_completion(&self, tx: &mut Tx<Sqlite>, w: &CompletionWrites<'_>) -> Result<()> {
        let r = w.records;
        let p = &r.profile;
        // SQLite has no arrays: each table's rows travel as one JSON array, taken apart by
        // `json_each`. And one statement list: every statement is a hop to the connection's
        // thread, which a completion of a statement per row paid 13-17 % of its rate for
        // (BENCHMARKS.md, session 17); sqlx checks each statement of the list.
        let objectives: Vec<Value> = r
            .objectives
            .iter()
            .zip(&w.objective_ids)
            .map(|(o, id)| {
                json!({"id": id, "position": position(o.position), "title": o.title,
                       "description": o.description})
            })
            .collect();
        let key_results: Vec<Value> = r
            .objectives
            .iter()
            .zip(&w.objective_ids)
            .zip(&w.key_result_ids)
            .flat_map(|((o, objective), ids)| {
                o.key_results.iter().zip(ids).map(move |(k, id)| {
                    json!({"id": id, "objective_id": objective, "position": position(k.position),
                           "title": k.title, "metric_type": k.metric_type, "baseline": k.baseline,
                           "target": k.target, "unit": k.unit})
                })
            })
            .collect();
        let invitations: Vec<Value> = w
            .invitations
            .iter()
            .map(|i| {
                json!({"id": i.id, "email": i.email, "role": i.role, "token_hash": i.token_hash,
                       "mail_id": i.mail_id, "to": i.mail.to, "subject": i.mail.subject,
                       "body": i.mail.body})
            })
            .collect();
        let (objectives, key_results, invitations) = (
            Value::from(objectives).to_string(),
            Value::from(key_results).to_string(),
            Value::from(invitations).to_string(),
        );
        let (key, body) = w.idempotency.unzip();
        // (Each statement numbers its own parameters: sqlx checks a statement list's
        // parameters statement by statement.)
        sqlx::query!(
            "update onboarding_sessions set status = 'completed', organization_id = $1,
               version = version + 1, last_activity_at = $2, updated_at = $2 where id = $3;
             insert into profiles (user_id, full_name, job_title, department, team_size,
               experience_with_okr, primary_goal, urgency_level, preferences, setup_demo,
               additional_notes, created_at, updated_at)
             values ($4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15)
             on conflict (user_id) do update set full_name = excluded.full_name,
               job_title = excluded.job_title, department = excluded.department,
               team_size = excluded.team_size, experience_with_okr = excluded.experience_with_okr,
               primary_goal = excluded.primary_goal, urgency_level = excluded.urgency_level,
               preferences = excluded.preferences, setup_demo = excluded.setup_demo,
               additional_notes = excluded.additional_notes, updated_at = excluded.updated_at;
             insert into objectives (id, organization_id, position, title, description, created_at, updated_at)
             select json_extract(o.value, '$.id'), $16, json_extract(o.value, '$.position'),
                    json_extract(o.value, '$.title'), json_extract(o.value, '$.description'), $17, $17
             from json_each($18) o;
             insert into key_results (id, objective_id, organization_id, position, title, metric_type,
               baseline, target, unit, created_at, updated_at)
             select json_extract(k.value, '$.id'), json_extract(k.value, '$.objective_id'), $19,
                    json_extract(k.value, '$.position'), json_extract(k.value, '$.title'),
                    json_extract(k.value, '$.metric_type'), json_extract(k.value, '$.baseline'),
                    json_extract(k.value, '$.target'), json_extract(k.value, '$.unit'), $20, $20
             from json_each($21) k;
             insert into invitations (id, organization_id, email, role, token_hash, expires_at, state,
               invited_by, created_at, updated_at)
             select json_extract(i.value, '$.id'), $22, json_extract(i.value, '$.email'),
                    json_extract(i.value, '$.role'), json_extract(i.value, '$.token_hash'), $23,
                    'pending', $24, $25, $25
             from json_each($26) i;
             insert into mail_outbox (id, organization_id, invitation_id, recipient, subject, body, state,
               attempts, next_attempt_at, created_at, updated_at, sent_by)
             select json_extract(i.value, '$.mail_id'), $27, json_extract(i.value, '$.id'),
                    json_extract(i.value, '$.to'), json_extract(i.value, '$.subject'),
                    json_extract(i.value, '$.body'), 'pending', 0, $28, $28, $28, $29
             from json_each($30) i;
             insert into onboarding_events (id, session_id, user_id, kind, step, created_at, updated_at)
             values ($31, $32, $33, 'completed', null, $34, $34);
             insert into idempotency_keys (user_id, key, session_id, status, body, created_at, updated_at)
             select $35, $36, $37, 201, $38, $39, $39 where $36 is not null
             on conflict (user_id, key) do update set session_id = excluded.session_id,
               status = excluded.status, body = excluded.body, created_at = excluded.created_at,
               updated_at = excluded.updated_at",
            w.organization_id,
            w.at,
            w.session_id,
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
            w.at,
            w.organization_id,
            w.at,
            objectives,
            w.organization_id,
            w.at,
            key_results,
            w.organization_id,
            w.invitations_expire_at,
            w.user,
            w.at,
            invitations,
            w.organization_id,
            w.at,
            w.user,
            invitations,
            w.event_id,
            w.session_id,
            w.user,
            w.at,
            w.user,
            key,
            w.session_id,
            body,
            w.at,
        )
        .execute(&mut **tx)
        .await
        .map(|_| ())
    }

    async fn invitations(&self, _user: &str, org: &str, now: i64) -> Result<Vec<Invitation>> {
        let mut conn = self.reads.acquire().await?;
        let invitations = sqlx::query_as!(
            Invitation,
            r#"select i.id as "id!", i.email, i.role as "role: Role",
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
        .fetch_all(&mut *conn)
        .await?;
        conn.release();
        Ok(invitations)
    }

    async fn invitation(
        &self,
        tx: &mut Tx<Sqlite>,
        org: &str,
        id: &str,
        now: i64,
    ) -> Result<Option<Invitation>> {
        sqlx::query_as!(
            Invitation,
            r#"select i.id as "id!", i.email, i.role as "role: Role",
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
        tx: &mut Tx<Sqlite>,
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
        tx: &mut Tx<Sqlite>,
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
        tx: &mut Tx<Sqlite>,
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

    async fn sender(&self, tx: &mut Tx<Sqlite>, user: &str, org: &str) -> Result<Sender> {
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

    async fn enqueue_mail(&self, tx: &mut Tx<Sqlite>, m: &NewMail<'_>) -> Result<()> {
        let id = new_id();
        sqlx::query!(
            "insert into mail_outbox (id, organization_id, invitation_id, recipient, subject, body, state,
               attempts, next_attempt_at, created_at, updated_at, sent_by)
             values ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $7, $7, $8)",
            id,
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
        tx: &mut Tx<Sqlite>,
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

    async fn cancel_mail(&self, tx: &mut Tx<Sqlite>, invitation: &str, now: i64) -> Result<()> {
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
        tx: &mut Tx<Sqlite>,
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

    async fn domains(&self, _user: &str, org: &str) -> Result<Vec<Domain>> {
        let mut conn = self.reads.acquire().await?;
        sqlx::query_as!(
            Domain,
            r#"select domain, mode as "mode: DomainMode", affiliation_verified_at, ownership_verified_at,
                 ownership_token, created_at
               from organization_domains where organization_id = $1 order by domain"#,
            org
        )
        .fetch_all(&mut *conn)
        .await
    }

    async fn domain_of(
        &self,
        tx: &mut Tx<Sqlite>,
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
        tx: &mut Tx<Sqlite>,
        org: &str,
        domain: &str,
    ) -> Result<bool> {
        let found = sqlx::query_scalar!(
            r#"select exists (select 1 from organization_domains where domain = $1 and organization_id <> $2
                 and (affiliation_verified_at is not null or ownership_verified_at is not null)) as "found!: bool""#,
            domain,
            org
        )
        .fetch_one(&mut **tx)
        .await?;
        Ok(found)
    }

    async fn insert_domain(&self, tx: &mut Tx<Sqlite>, row: &NewDomainRow<'_>) -> Result<()> {
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
        let mut conn = self.reads.acquire().await?;
        sqlx::query_as!(
            JoinOffer,
            r#"select o.id as "id!", o.name, od.mode as "mode: DomainMode",
                 (select count(*) from memberships m where m.organization_id = o.id) as "members!: i64"
               from organization_domains od
               join organizations o on o.id = od.organization_id
               where od.domain = $1 and od.mode <> 'manual'
                 and (od.affiliation_verified_at is not null or od.ownership_verified_at is not null)
                 and not exists (select 1 from memberships m where m.organization_id = o.id
                                 and m.user_id = $2)
               order by o.name, o.id"#,
            domain,
            user
        )
        .fetch_all(&mut *conn)
        .await
    }

    async fn set_domain_mode(
        &self,
        tx: &mut Tx<Sqlite>,
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
        tx: &mut Tx<Sqlite>,
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

    async fn delete_domain(&self, tx: &mut Tx<Sqlite>, org: &str, domain: &str) -> Result<bool> {
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
        sqlx::query_as!(
            InvitationPreview,
            r#"select o.name as organization, p.full_name as inviter,
                 case when i.state = 'pending' and i.expires_at <= $2 then 'expired' else i.state end
                   as "state!: InvitationState",
                 i.expires_at
               from invitations i
               join organizations o on o.id = i.organization_id
               left join profiles p on p.user_id = i.invited_by
               where i.token_hash = $1"#,
            token_hash,
            now
        )
        .fetch_optional(&mut *self.reads.acquire().await?)
        .await
    }

    async fn invitation_by_token(
        &self,
        tx: &mut Tx<Sqlite>,
        token_hash: &str,
    ) -> Result<Option<TokenInvitation>> {
        sqlx::query_as!(
            TokenInvitation,
            r#"select id as "id!", organization_id, role as "role: Role", state as "state: InvitationState",
                 email, expires_at
               from invitations where token_hash = $1"#,
            token_hash
        )
        .fetch_optional(&mut **tx)
        .await
    }

    async fn accept_invitation(
        &self,
        tx: &mut Tx<Sqlite>,
        id: &str,
        user: &str,
        now: i64,
    ) -> Result<()> {
        sqlx::query!(
            "update invitations set state = 'accepted', accepted_at = $1, accepted_by = $2, updated_at = $1
             where id = $3 and state = 'pending'",
            now,
            user,
            id
        )
        .execute(&mut **tx)
        .await
        .map(|_| ())
    }

    async fn join_organization(
        &self,
        tx: &mut Tx<Sqlite>,
        org: &str,
        user: &str,
        role: Role,
        now: i64,
    ) -> Result<()> {
        let id = new_id();
        let role = role.as_str();
        sqlx::query!(
            "insert into memberships (id, organization_id, user_id, role, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $5) on conflict (organization_id, user_id) do nothing",
            id,
            org,
            user,
            role,
            now
        )
        .execute(&mut **tx)
        .await
        .map(|_| ())
    }

    async fn member_role(
        &self,
        tx: &mut Tx<Sqlite>,
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

    async fn count_owners(&self, tx: &mut Tx<Sqlite>, org: &str) -> Result<i64> {
        sqlx::query_scalar!(
            r#"select count(*) as "n!: i64" from memberships where organization_id = $1 and role = 'owner'"#,
            org
        )
        .fetch_one(&mut **tx)
        .await
    }

    async fn set_member_role(
        &self,
        tx: &mut Tx<Sqlite>,
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

    async fn remove_member(&self, tx: &mut Tx<Sqlite>, org: &str, member: &str) -> Result<()> {
        sqlx::query!(
            "delete from memberships where organization_id = $1 and user_id = $2",
            org,
            member
        )
        .execute(&mut **tx)
        .await
        .map(|_| ())
    }

    async fn begin_saves(&self) -> Result<Tx<Sqlite>> {
        self.begin_write().await
    }

    async fn lock_open_sessions(&self, tx: &mut Tx<Sqlite>, users: &[String]) -> Result<Locked> {
        // The write transaction already excludes every other writer: reading is locking.
        let mut open = Vec::with_capacity(users.len());
        let mut completed = Vec::new();
        for user in users {
            let Some(session) = sqlx::query_as!(
                OpenSession,
                r#"select id as "id!", user_id, version, last_activity_at from onboarding_sessions
                   where user_id = $1 and status = 'in_progress'"#,
                user
            )
            .fetch_optional(&mut **tx)
            .await?
            else {
                continue;
            };
            let steps = sqlx::query_scalar!(
                "select step from onboarding_steps where session_id = $1 and completed = 1",
                session.id
            )
            .fetch_all(&mut **tx)
            .await?;
            completed.extend(steps.into_iter().map(|step| (session.id.clone(), step)));
            open.push(session);
        }
        Ok((open, completed))
    }

    async fn write_saves(&self, tx: &mut Tx<Sqlite>, writes: &SaveWrites) -> Result<()> {
        for session in &writes.sessions {
            sqlx::query!(
                "update onboarding_sessions set version = $1, last_activity_at = $2, updated_at = $2 where id = $3",
                session.version,
                session.at,
                session.id
            )
            .execute(&mut **tx)
            .await?;
        }
        for row in &writes.steps {
            let completed = i64::from(row.completed);
            sqlx::query!(
                "insert into onboarding_steps (session_id, user_id, step, data, completed, created_at, updated_at)
                 values ($1, $2, $3, $4, $5, $6, $7) on conflict (session_id, step) do update
                 set data = excluded.data, completed = excluded.completed, updated_at = excluded.updated_at",
                row.session_id,
                row.user_id,
                row.step,
                row.data,
                completed,
                row.created_at,
                row.updated_at
            )
            .execute(&mut **tx)
            .await?;
        }
        for e in &writes.events {
            sqlx::query!(
                "insert into onboarding_events (id, session_id, user_id, kind, step, created_at, updated_at)
                 values ($1, $2, $3, $4, $5, $6, $6)",
                e.id,
                e.session_id,
                e.user_id,
                e.kind,
                e.step,
                e.at
            )
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }

    async fn organization(&self, _user: &str, id: &str) -> Result<Option<Organization>> {
        let mut conn = self.reads.acquire().await?;
        let organization = sqlx::query_as!(
            Organization,
            r#"select id as "id!", slug, name, industry, size, employee_count, country, website,
                 description, founded_year, okr_maturity, challenges as "challenges: JsonList",
                 goals as "goals: JsonList", timezone, okr_cycle, language, created_at
               from organizations where id = $1"#,
            id
        )
        .fetch_optional(&mut *conn)
        .await?;
        conn.release();
        Ok(organization)
    }

    async fn role_in(&self, user: &str, org: &str) -> Result<Option<Role>> {
        let mut conn = self.reads.acquire().await?;
        let role = sqlx::query_scalar!(
            r#"select role as "role: Role" from memberships
               where organization_id = $1 and user_id = $2"#,
            org,
            user
        )
        .fetch_optional(&mut *conn)
        .await?;
        conn.release();
        Ok(role)
    }

    async fn members(&self, _user: &str, org: &str) -> Result<Vec<Member>> {
        let mut conn = self.reads.acquire().await?;
        let members = sqlx::query_as!(
            Member,
            r#"select user_id, role as "role: Role", created_at as joined_at from memberships
               where organization_id = $1 order by created_at, user_id"#,
            org
        )
        .fetch_all(&mut *conn)
        .await?;
        conn.release();
        Ok(members)
    }

    async fn objectives(&self, _user: &str, org: &str) -> Result<(Vec<Objective>, Vec<KeyResult>)> {
        let mut tx = self.reads.begin(None).await?;
        let objectives = sqlx::query!(
            r#"select id as "id!", position, title, description from objectives where organization_id = $1 
             order by position"#,
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
        let mut tx = self.begin_write().await?;
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
        let mut conn = self.reads.acquire().await?;
        let ids = sqlx::query_scalar!(
            "select suggestion_id from suggestion_feedback where user_id = $1 and action = 'dismissed'",
            user
        )
        .fetch_all(&mut *conn)
        .await?;
        conn.release();
        Ok(ids)
    }

    async fn funnel_figures(&self, from: i64, to: i64) -> Result<FunnelFigures> {
        let mut tx = self.reads.begin(None).await?;
        let sessions_by_kind = sqlx::query!(
            r#"select kind, count(*) as "n!: i64" from onboarding_events
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
            r#"select count(*) as "n!: i64" from onboarding_events
               where kind = 'started' and created_at >= $1 and created_at < $2"#,
            from,
            to
        )
        .fetch_one(&mut *tx)
        .await?;
        let reach = sqlx::query!(
            r#"select coalesce(step, '') as "step!", kind, count(distinct session_id) as "n!: i64"
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
            r#"select count(*) as "n!: i64" from onboarding_events c
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
                    r#"select c.created_at - s.created_at as "d!: i64" from onboarding_events c
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
            r#"select action, count(*) as "n!: i64" from suggestion_feedback
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
        let mut tx = self.begin_write().await?;
        let claimed = sqlx::query_as!(
            Claimed,
            r#"update mail_outbox set lease_until = $1, attempts = attempts + 1, updated_at = $2
               where id in (select id from mail_outbox
                            where state = 'pending' and next_attempt_at <= $2
                              and (lease_until is null or lease_until <= $2)
                            order by next_attempt_at, id limit $3)
               returning id as "id!", recipient, subject, body as "body!", attempts"#,
            lease_until,
            now,
            limit
        )
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(claimed)
    }

    async fn mail_sent(&self, id: &str, now: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query!(
            "update mail_outbox set state = 'sent', body = null, lease_until = null, last_error = null, \
             sent_at = $1, updated_at = $1 where id = $2 and state = 'pending'",
            now,
            id
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }

    async fn mail_retry(&self, id: &str, error: &str, at: i64, now: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query!(
            "update mail_outbox set next_attempt_at = $1, lease_until = null, last_error = $2, \
             updated_at = $3 where id = $4 and state = 'pending'",
            at,
            error,
            now,
            id
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }

    async fn mail_dead(&self, id: &str, error: &str, now: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query!(
            "update mail_outbox set state = 'dead', body = null, lease_until = null, last_error = $1, \
             updated_at = $2 where id = $3 and state = 'pending'",
            error,
            now,
            id
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }

    async fn outbox(&self, state: Option<&str>, limit: i64) -> Result<Vec<OutboxMessage>> {
        let mut conn = self.reads.acquire().await?;
        let messages = sqlx::query_as!(
            OutboxMessage,
            r#"select id as "id!", organization_id, invitation_id, recipient, subject, state, attempts,
               last_error, created_at, updated_at, sent_at from mail_outbox
               where ($1 is null or state = $1) order by updated_at desc, id limit $2"#,
            state,
            limit
        )
        .fetch_all(&mut *conn)
        .await?;
        conn.release();
        Ok(messages)
    }

    async fn pending_mail(&self, limit: i64) -> Result<Vec<DevMessage>> {
        let mut conn = self.reads.acquire().await?;
        let messages = sqlx::query_as!(
            DevMessage,
            r#"select id as "id!", recipient, subject, body as "body!", created_at from mail_outbox
               where state = 'pending' order by created_at desc, id limit $1"#,
            limit
        )
        .fetch_all(&mut *conn)
        .await?;
        conn.release();
        Ok(messages)
    }

    async fn purge_outbox(&self, before: i64) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query!(
            "delete from mail_outbox where state in ('sent', 'dead', 'cancelled') and updated_at < $1",
            before
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    async fn outbox_counts(&self) -> Result<OutboxCounts> {
        let mut conn = self.reads.acquire().await?;
        let row = sqlx::query!(
            r#"select coalesce(sum(state = 'pending'), 0) as "pending!: i64",
                      coalesce(sum(state = 'dead'), 0) as "dead!: i64"
               from mail_outbox where state in ('pending', 'dead')"#
        )
        .fetch_one(&mut *conn)
        .await?;
        conn.release();
        Ok(OutboxCounts {
            pending: row.pending,
            dead: row.dead,
        })
    }
}
