//! The completion: one transaction that locks the session, validates its draft (the caller's
//! `prepare`), claims it and creates the organization with everything in it.

use super::invitations::{over_daily_cap, InvitationCaps};
use super::outbox::Outgoing;
use super::sessions::open;
use super::{batch, new_id, Engine, Session, Store};
use onboarding_core::Records;
use onboarding_store::{SessionRow, SessionStatus};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

/// The user's open session, its row locked for the rest of the transaction on `conn`, read after
/// the lock: on PostgreSQL through `onboarding_lock_open_session` (migration 0011), which reads
/// the draft with a snapshot taken after the wait for the lock; on SQLite the write transaction
/// (`begin immediate`) already excludes every other writer. (On the `Any` driver until the
/// completion moves to the typed engines, issue 33.)
async fn locked_open_on(
    engine: Engine,
    conn: &mut AnyConnection,
    user: &str,
) -> Result<Option<Session>, sqlx::Error> {
    let sql = match engine {
        Engine::Postgres => "select * from onboarding_lock_open_session($1)",
        Engine::Sqlite => "select s.id, s.user_id, s.status, s.version, \
            '{' || coalesce((select group_concat(json_quote(x.step) || ':' || x.data, ',') from onboarding_steps x where x.session_id = s.id), '') || '}' as draft, \
            '[' || coalesce((select group_concat(json_quote(x.step), ',') from onboarding_steps x where x.session_id = s.id and x.completed = 1), '') || ']' as completed_steps, \
            s.organization_id, s.last_activity_at, s.created_at from onboarding_sessions s \
            where s.user_id = $1 order by s.created_at desc, s.id desc limit 1",
    };
    let row = sqlx::query(sql).bind(user).fetch_optional(conn).await?;
    Ok(open(row.as_ref().map(session).transpose()?))
}

fn session(row: &AnyRow) -> Result<Session, sqlx::Error> {
    let status: String = row.try_get("status")?;
    Session::try_from(SessionRow {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        status: SessionStatus::try_from(status).map_err(|e| sqlx::Error::Decode(e.into()))?,
        version: row.try_get("version")?,
        draft: row.try_get("draft")?,
        completed_steps: row.try_get("completed_steps")?,
        organization_id: row.try_get("organization_id")?,
        last_activity_at: row.try_get("last_activity_at")?,
        created_at: row.try_get("created_at")?,
    })
}

/// What a completion writes, prepared from the session's draft under the lock.
#[derive(Debug)]
pub struct Prepared {
    pub records: Records,
    /// One per invitation of `records`, in order: the SHA-256 of its token and the e-mail that
    /// carries the token (the only place the token is kept, until it is sent).
    pub invitations: Vec<(String, Outgoing)>,
    /// How long the invitations are valid.
    pub invitation_ttl_ms: i64,
    /// The caps the invitations' e-mails must fit.
    pub invitation_caps: InvitationCaps,
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
    /// The invitations' e-mails would pass a daily cap: nothing was written.
    OverDailyCap { retry_after_secs: u64 },
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

/// A new organization's row: its columns, and their names as the JSON keys
/// `onboarding_found_organization` reads.
#[derive(serde::Serialize)]
struct OrganizationRow<'a> {
    id: &'a str,
    /// The attempt's slug (the next one when it is taken).
    slug: String,
    name: &'a str,
    industry: &'a str,
    size: &'a str,
    employee_count: Option<i64>,
    country: &'a str,
    website: Option<&'a str>,
    description: &'a str,
    founded_year: Option<i64>,
    okr_maturity: &'a str,
    /// JSON texts (the columns are text on both engines).
    challenges: String,
    goals: String,
    timezone: &'a str,
    okr_cycle: &'a str,
    language: &'a str,
    created_at: i64,
    updated_at: i64,
}

impl Store {
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
        let _changing = self.changing(user);
        let mut tx = self.begin_write(user).await?;
        // The open session locked first, so concurrent saves and completes queue behind this
        // one, and its draft read after the lock (`locked_open_on`): the organization is built
        // from exactly what the save that held the lock wrote.
        let Some(session) = locked_open_on(self.engine, &mut tx, user).await? else {
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
        if !prepared.invitations.is_empty() {
            let over = over_daily_cap(
                &mut tx,
                self.engine,
                None,
                user,
                now,
                prepared.invitations.len(),
                prepared.invitation_caps,
            )
            .await?;
            if let Some(retry_after_secs) = over {
                tx.rollback().await?;
                return Ok(Completion::OverDailyCap { retry_after_secs });
            }
        }
        let records = &prepared.records;
        let o = &records.organization;
        // The slug, then (if taken) the one after the highest numbered suffix in use, found by
        // one query, then random suffixes: a bounded number of round trips however many slugs
        // are taken. Each attempt rolls back alone when its slug is taken (`found`).
        let mut row = OrganizationRow {
            id: &org_id,
            slug: o.slug.clone(),
            name: &o.name,
            industry: o.industry,
            size: o.size,
            employee_count: o.employee_count,
            country: &o.country,
            website: o.website.as_deref(),
            description: &o.description,
            founded_year: o.founded_year,
            okr_maturity: o.okr_maturity,
            challenges: serde_json::to_string(&o.challenges).unwrap_or_default(),
            goals: serde_json::to_string(&o.goals).unwrap_or_default(),
            timezone: &o.timezone,
            okr_cycle: o.okr_cycle,
            language: o.language,
            created_at: now,
            updated_at: now,
        };
        for attempt_no in 0..SLUG_ATTEMPTS {
            if self
                .found(&mut tx, &row, user, records.membership.role)
                .await?
            {
                break;
            }
            if attempt_no + 1 == SLUG_ATTEMPTS {
                // All but impossible (the last attempts' suffixes are random); a 503: a retry
                // draws new ones.
                return Err(sqlx::Error::Protocol(format!(
                    "no free slug for {:?} after {SLUG_ATTEMPTS} attempts",
                    o.slug
                )));
            }
            row.slug = if attempt_no == 0 {
                let highest = self.highest_slug_suffix(&mut tx, &o.slug).await?;
                suffixed(&o.slug, highest.saturating_add(1))
            } else {
                // Taken meanwhile, or a 60-character slug whose suffixed form cuts into it: a
                // random suffix, which is free all but surely.
                suffixed(&o.slug, rand::random::<u32>() % 900_000 + 100_000)
            };
        }
        // The rest in one statement (one round trip): it comes after the membership because
        // PostgreSQL's policies on the organization's rows look the membership up, and a
        // statement does not see its own writes.
        let mut rows = batch::Batch::new(self.engine);
        let now_param = rows.param(now);
        let org_param = rows.param(org_id.as_str());
        let session_param = rows.param(session.id.as_str());
        rows.statement(&format!("update onboarding_sessions set status = 'completed', organization_id = {org_param}, version = version + 1, last_activity_at = {now_param}, updated_at = {now_param} where id = {session_param}"));
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
        let invitation_ids: Vec<String> = records.invitations.iter().map(|_| new_id()).collect();
        if !records.invitations.is_empty() {
            let expires_at = now.saturating_add(prepared.invitation_ttl_ms);
            rows.insert("insert into invitations (id, organization_id, email, role, token_hash, expires_at, state, invited_by, created_at, updated_at) values");
            for ((invitation, (token_hash, _)), id) in records
                .invitations
                .iter()
                .zip(&prepared.invitations)
                .zip(&invitation_ids)
            {
                rows.row()
                    .arg(id.as_str())
                    .value(&org_param)
                    .arg(invitation.email.as_str())
                    .arg(invitation.role)
                    .arg(token_hash.as_str())
                    .arg(expires_at)
                    .value("'pending'")
                    .arg(user)
                    .value(&now_param)
                    .value(&now_param);
            }
            rows.end("");
            // Their e-mails, in the same transaction (the outbox; see `outbox.rs`).
            rows.insert("insert into mail_outbox (id, organization_id, invitation_id, recipient, subject, body, state, attempts, next_attempt_at, created_at, updated_at, sent_by) values");
            for ((_, mail), id) in prepared.invitations.iter().zip(&invitation_ids) {
                rows.row()
                    .arg(new_id())
                    .value(&org_param)
                    .arg(id.as_str())
                    .arg(mail.to.as_str())
                    .arg(mail.subject.as_str())
                    .arg(mail.body.as_str())
                    .value("'pending'")
                    .value("0")
                    .value(&now_param)
                    .value(&now_param)
                    .value(&now_param)
                    .arg(user);
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
        let body = respond(&prepared, &session, &org_id, &row.slug);
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

    /// Inserts the organization and its creator's membership, or returns `false` with nothing
    /// written when the slug is taken: on PostgreSQL one statement,
    /// `onboarding_found_organization` (migration 0011, whose exception block is the attempt's
    /// subtransaction); on SQLite the insert in a savepoint, then the membership.
    async fn found(
        &self,
        tx: &mut AnyConnection,
        org: &OrganizationRow<'_>,
        user: &str,
        role: &str,
    ) -> Result<bool, sqlx::Error> {
        if self.engine == Engine::Postgres {
            let org = serde_json::to_string(org).map_err(|e| sqlx::Error::Encode(e.into()))?;
            return sqlx::query(
                "select onboarding_found_organization($1::json, $2, $3, $4) as done",
            )
            .bind(org)
            .bind(new_id())
            .bind(user)
            .bind(role)
            .fetch_one(&mut *tx)
            .await?
            .try_get("done");
        }
        let mut attempt = sqlx::Connection::begin(&mut *tx).await?;
        let inserted = sqlx::query("insert into organizations (id, slug, name, industry, size, employee_count, country, website, description, founded_year, okr_maturity, challenges, goals, timezone, okr_cycle, language, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)")
            .bind(org.id)
            .bind(org.slug.as_str())
            .bind(org.name)
            .bind(org.industry)
            .bind(org.size)
            .bind(org.employee_count)
            .bind(org.country)
            .bind(org.website)
            .bind(org.description)
            .bind(org.founded_year)
            .bind(org.okr_maturity)
            .bind(&org.challenges)
            .bind(&org.goals)
            .bind(org.timezone)
            .bind(org.okr_cycle)
            .bind(org.language)
            .bind(org.created_at)
            .bind(org.updated_at)
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
        sqlx::query("insert into memberships (id, organization_id, user_id, role, created_at, updated_at) values ($1, $2, $3, $4, $5, $5)")
            .bind(new_id())
            .bind(org.id)
            .bind(user)
            .bind(role)
            .bind(org.created_at)
            .execute(&mut *tx)
            .await?;
        Ok(true)
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
}

#[cfg(test)]
mod tests {
    #[test]
    fn suffixes_stay_within_sixty() {
        assert_eq!(super::suffixed("acme", 2), "acme-2");
        let long = "a".repeat(60);
        assert_eq!(super::suffixed(&long, 12).len(), 60);
        assert!(super::suffixed(&format!("{}-b", "a".repeat(57)), 10).ends_with("a-10"));
    }
}
