//! Suggestion feedback (the user's choice, kept on the server) and the onboarding funnel,
//! computed in SQL from the events table on both engines.

use super::Store;
use serde::Serialize;
use sqlx::Row;

/// The onboarding funnel of the sessions in a time range.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Funnel {
    pub from: String,
    pub to: String,
    /// Sessions started, completed, abandoned and expired in the range (by event time).
    pub sessions: SessionCounts,
    /// Of the sessions started in the range: how many saved and completed each step, and how
    /// many of those that reached the previous step did not reach this one.
    pub steps: Vec<StepReach>,
    /// Time from start to completion of the sessions completed in the range (nearest rank).
    pub time_to_complete: Durations,
    pub suggestions: SuggestionCounts,
}

#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct SessionCounts {
    pub started: i64,
    pub completed: i64,
    pub abandoned: i64,
    pub expired: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StepReach {
    pub step: &'static str,
    pub reached: i64,
    pub completed: i64,
    pub drop_off: i64,
    /// `drop_off` over the previous step's reach (the started sessions for the first step).
    pub drop_off_rate: Option<f64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Durations {
    pub count: i64,
    pub median_ms: Option<i64>,
    pub p90_ms: Option<i64>,
}

#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct SuggestionCounts {
    pub accepted: i64,
    pub edited: i64,
    pub dismissed: i64,
    /// (accepted + edited) / all choices: an edited suggestion was still taken.
    pub acceptance_rate: Option<f64>,
}

/// `(k, n)` rows of a grouped count over `[from, to)` (the statement binds `$1`, `$2`).
async fn counts(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    sql: &str,
    from: i64,
    to: i64,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let rows = sqlx::query(sql)
        .bind(from)
        .bind(to)
        .fetch_all(&mut **tx)
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("k")?, r.try_get("n")?)))
        .collect()
}

fn ratio(part: i64, whole: i64) -> Option<f64> {
    // Counts stay far below 2^53, where i64 → f64 is exact.
    #[allow(clippy::cast_precision_loss)]
    (whole > 0).then(|| part as f64 / whole as f64)
}

impl Store {
    /// Records the user's choice on a suggestion (the latest one counts).
    pub async fn record_feedback(
        &self,
        user: &str,
        suggestion: &str,
        action: &str,
    ) -> Result<(), sqlx::Error> {
        let now = self.clock.now_ms();
        let mut tx = self.begin_write(user).await?;
        sqlx::query("insert into suggestion_feedback (user_id, suggestion_id, action, created_at, updated_at) values ($1, $2, $3, $4, $4) on conflict (user_id, suggestion_id) do update set action = excluded.action, updated_at = excluded.updated_at")
            .bind(user)
            .bind(suggestion)
            .bind(action)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    /// The ids of the suggestions the user dismissed.
    pub async fn dismissed_suggestions(&self, user: &str) -> Result<Vec<String>, sqlx::Error> {
        let rows = self
            .read_all(
                user,
                sqlx::query("select suggestion_id from suggestion_feedback where user_id = $1 and action = 'dismissed'")
                    .bind(user),
            )
            .await?;
        rows.iter().map(|r| r.try_get("suggestion_id")).collect()
    }

    /// The funnel over `[from_ms, to_ms)`. Platform-wide: it reads every tenant's events, so it
    /// runs as the connecting role (like the expiry purge), never on behalf of a user.
    pub async fn funnel(&self, from_ms: i64, to_ms: i64) -> Result<Funnel, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let mut sessions = SessionCounts::default();
        let by_kind = "select kind as k, count(*) as n from onboarding_events where created_at >= $1 and created_at < $2 and kind in ('started', 'completed', 'abandoned', 'expired') group by kind";
        for (kind, n) in counts(&mut tx, by_kind, from_ms, to_ms).await? {
            match kind.as_str() {
                "started" => sessions.started = n,
                "completed" => sessions.completed = n,
                "abandoned" => sessions.abandoned = n,
                _ => sessions.expired = n,
            }
        }

        // Reach per step, for the cohort of sessions started in the range.
        let cohort = "select session_id from onboarding_events where kind = 'started' and created_at >= $1 and created_at < $2";
        let reach = format!("select step, kind, count(distinct session_id) as n from onboarding_events where kind in ('step_saved', 'step_completed') and session_id in ({cohort}) group by step, kind");
        let rows = sqlx::query(&reach)
            .bind(from_ms)
            .bind(to_ms)
            .fetch_all(&mut *tx)
            .await?;
        let count = |step: &str, kind: &str| -> Result<i64, sqlx::Error> {
            for r in &rows {
                if r.try_get::<Option<String>, _>("step")?.as_deref() == Some(step)
                    && r.try_get::<String, _>("kind")? == kind
                {
                    return r.try_get("n");
                }
            }
            Ok(0)
        };
        let cohort_size: i64 = sqlx::query(&format!("select count(*) as n from ({cohort}) c"))
            .bind(from_ms)
            .bind(to_ms)
            .fetch_one(&mut *tx)
            .await?
            .try_get("n")?;
        let mut steps = Vec::new();
        let mut previous = cohort_size;
        for id in onboarding_core::StepId::ALL {
            let reached = count(id.name(), "step_saved")?;
            let drop_off = (previous - reached).max(0);
            steps.push(StepReach {
                step: id.name(),
                reached,
                completed: count(id.name(), "step_completed")?,
                drop_off,
                drop_off_rate: ratio(drop_off, previous),
            });
            previous = reached;
        }

        // Durations: completion time minus start time, per session completed in the range.
        let durations = "select c.created_at - s.created_at as d from onboarding_events c join onboarding_events s on s.session_id = c.session_id and s.kind = 'started' where c.kind = 'completed' and c.created_at >= $1 and c.created_at < $2";
        let n: i64 = sqlx::query(&format!("select count(*) as n from ({durations}) t"))
            .bind(from_ms)
            .bind(to_ms)
            .fetch_one(&mut *tx)
            .await?
            .try_get("n")?;
        // Nearest rank: the ceil(p% · n)-th smallest.
        let nth = format!("select d from ({durations}) t order by d limit 1 offset $3");
        let mut at_rank = [None, None];
        for (slot, p) in at_rank.iter_mut().zip([50, 90]) {
            if n > 0 {
                let row = sqlx::query(&nth)
                    .bind(from_ms)
                    .bind(to_ms)
                    .bind((p * n + 99) / 100 - 1)
                    .fetch_one(&mut *tx)
                    .await?;
                *slot = Some(row.try_get::<i64, _>("d")?);
            }
        }
        let [median_ms, p90_ms] = at_rank;

        let mut suggestions = SuggestionCounts::default();
        let by_action = "select action as k, count(*) as n from suggestion_feedback where updated_at >= $1 and updated_at < $2 group by action";
        for (action, n) in counts(&mut tx, by_action, from_ms, to_ms).await? {
            match action.as_str() {
                "accepted" => suggestions.accepted = n,
                "edited" => suggestions.edited = n,
                _ => suggestions.dismissed = n,
            }
        }
        let all = suggestions.accepted + suggestions.edited + suggestions.dismissed;
        suggestions.acceptance_rate = ratio(suggestions.accepted + suggestions.edited, all);
        tx.commit().await?;
        Ok(Funnel {
            from: String::new(),
            to: String::new(),
            sessions,
            steps,
            time_to_complete: Durations {
                count: n,
                median_ms,
                p90_ms,
            },
            suggestions,
        })
    }
}
