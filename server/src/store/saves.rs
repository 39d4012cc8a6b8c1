//! Group commit of step saves (issue 18, decision 97). A save waits for its session and then
//! for its commit; one at a time, a user's concurrent saves (two tabs autosaving) could go no
//! faster than one commit each, and many users' saves paid one commit each. Here the saves
//! waiting in this process are taken together by a worker and written in one transaction: on
//! PostgreSQL as one statement (`onboarding_save_steps`, migration 0010, which runs 0007's
//! `onboarding_save_step` for each), on SQLite as each save's statements in turn on the one
//! writer connection. Each save in a batch still has its own lock, its checks against the
//! version the saves before it left, its writes and its outcome.
//!
//! What a request sees does not change: its save lands exactly once or not at all, and a 503
//! still means nothing was written — the worker passes each save's commit gate before it sends
//! the batch, and leaves out the saves whose requests timed out while they waited. The saves of
//! a batch lock their sessions in user order, so batches running side by side (here or in
//! another replica) cannot deadlock each other. When the database refuses a batch (an error
//! that rolled it back), each of its saves is sent again alone, so one save's failure is never
//! another's.

use super::gate::{self, CommitGate};
use super::sessions::{IfMatch, SaveError};
use super::status_cache::Changed;
use super::{event, Engine};
use super::{ConnPool, Tx};
use serde::Serialize;
use sqlx::{AnyConnection, Row};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Mutex};

/// Batches in flight at once: while one waits for its commit, the next fills. Two measured best
/// (BENCHMARKS.md, session 13: one user's saves 1 worker 6.1k/s, 2 5.3k, 4 4.9k, 8 3.7k; a
/// thousand users' 5.5k, 5.9k, 5.6k, 5.3k); more than one, so that a batch waiting for a
/// session another transaction holds (a completion) does not hold up every save.
const WORKERS: usize = 2;
/// SQLite has one writer connection: one batch at a time.
const SQLITE_WORKERS: usize = 1;
/// Saves in one batch at most (one statement's JSON argument).
const MAX_BATCH: usize = 64;
/// Saves queued before `save` waits for room.
const QUEUE: usize = 1024;

/// One save as `onboarding_save_step` takes it; the field names are the batch's JSON keys.
#[derive(Debug, Serialize)]
pub(super) struct StepSave {
    /// Its place in the batch, returned with its outcome.
    n: usize,
    /// The user.
    u: String,
    /// The step, its data (the stored JSON text) and whether it is valid (completed).
    s: String,
    d: String,
    v: bool,
    /// When (ms), the session TTL (ms), and `If-Match` (`*` or comma-separated versions in
    /// the batch's JSON).
    a: i64,
    t: i64,
    #[serde(serialize_with = "if_match_text")]
    e: Option<IfMatch>,
    /// The ids of the `step_saved` and (when valid) `step_completed` events.
    i: String,
    c: Option<String>,
}

impl StepSave {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        user: &str,
        step: &str,
        data: String,
        valid: bool,
        at: i64,
        ttl_ms: i64,
        expected: Option<IfMatch>,
        saved_event: String,
        completed_event: Option<String>,
    ) -> StepSave {
        StepSave {
            n: 0,
            u: user.to_owned(),
            s: step.to_owned(),
            d: data,
            v: valid,
            a: at,
            t: ttl_ms,
            e: expected,
            i: saved_event,
            c: completed_event,
        }
    }
}

/// `If-Match` as `onboarding_save_step` takes it: `*`, or the versions separated by commas.
fn if_match_text<S: serde::Serializer>(e: &Option<IfMatch>, s: S) -> Result<S::Ok, S::Error> {
    match e {
        None => s.serialize_none(),
        Some(IfMatch::Any) => s.serialize_str("*"),
        Some(IfMatch::Versions(v)) => {
            s.serialize_str(&v.iter().map(i64::to_string).collect::<Vec<_>>().join(","))
        }
    }
}

/// What became of one save.
#[derive(Debug)]
pub(super) enum Outcome {
    /// Written: the session's new version and its completed steps (a JSON array of names).
    Saved {
        version: i64,
        completed_steps: String,
    },
    NoSession,
    Expired,
    /// `If-Match` did not match the session's current version.
    Stale(Option<i64>),
}

impl Outcome {
    /// `onboarding_save_step`'s answer (`outcome`, `version`, `completed_steps`).
    fn from_row(row: &sqlx::any::AnyRow) -> Result<Outcome, sqlx::Error> {
        let outcome: String = row.try_get("outcome")?;
        let version: Option<i64> = row.try_get("version")?;
        let completed_steps: Option<String> = row.try_get("completed_steps")?;
        match (outcome.as_str(), version) {
            ("saved", Some(version)) => Ok(Outcome::Saved {
                version,
                completed_steps: completed_steps.unwrap_or_default(),
            }),
            ("no_session", _) => Ok(Outcome::NoSession),
            ("expired", _) => Ok(Outcome::Expired),
            ("stale", current) => Ok(Outcome::Stale(current)),
            _ => Err(sqlx::Error::RowNotFound),
        }
    }
}

type Reply = oneshot::Sender<Result<Outcome, SaveError>>;

struct Pending {
    save: StepSave,
    gate: Option<Arc<CommitGate>>,
    reply: Reply,
    /// Forgets the user's cached status when the save is answered (after its commit, even when
    /// its request has gone).
    changed: Changed,
}

impl Pending {
    fn answer(self, outcome: Result<Outcome, SaveError>) {
        drop(self.changed);
        let _ = self.reply.send(outcome);
    }
}

/// The queue the workers take batches from.
#[derive(Clone, Debug)]
pub(super) struct SaveQueue {
    sender: mpsc::Sender<Pending>,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending").field("save", &self.save).finish()
    }
}

impl SaveQueue {
    /// Starts the workers on `pool` (the writer's); they stop when the last clone of the queue
    /// is dropped.
    pub(super) fn start(engine: Engine, pool: ConnPool) -> SaveQueue {
        let (sender, receiver) = mpsc::channel(QUEUE);
        let receiver = Arc::new(Mutex::new(receiver));
        let workers = match engine {
            Engine::Postgres => WORKERS,
            Engine::Sqlite => SQLITE_WORKERS,
        };
        for _ in 0..workers {
            tokio::spawn(work(engine, pool.clone(), Arc::clone(&receiver)));
        }
        SaveQueue { sender }
    }

    /// Queues a save and waits for its outcome (the current request's gate goes with it;
    /// `changed` is dropped once the save is answered).
    pub(super) async fn save(
        &self,
        save: StepSave,
        changed: Changed,
    ) -> Result<Outcome, SaveError> {
        let (reply, outcome) = oneshot::channel();
        let pending = Pending {
            save,
            gate: gate::current(),
            reply,
            changed,
        };
        if self.sender.send(pending).await.is_err() {
            return Err(SaveError::Db(sqlx::Error::PoolClosed));
        }
        outcome
            .await
            .unwrap_or(Err(SaveError::Db(sqlx::Error::PoolClosed)))
    }
}

async fn work(engine: Engine, pool: ConnPool, queue: Arc<Mutex<mpsc::Receiver<Pending>>>) {
    loop {
        let mut batch = Vec::new();
        {
            let mut receiver = queue.lock().await;
            match receiver.recv().await {
                Some(first) => batch.push(first),
                None => return,
            }
            while batch.len() < MAX_BATCH {
                match receiver.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
        }
        // On SQLite the write lock first (`begin immediate`), so that a save whose request
        // times out while another writer holds the lock is answered 503 and left out, as a
        // lone save would be. On PostgreSQL the locks are taken inside the batch's statement.
        let tx = match engine {
            Engine::Sqlite => match pool.begin(Some("begin immediate".into())).await {
                Ok(tx) => Some(tx),
                Err(e) => {
                    fail_all(batch, e);
                    continue;
                }
            },
            Engine::Postgres => None,
        };
        // A request that timed out while its save waited was answered 503: it writes nothing.
        let (mut batch, timed_out): (Vec<_>, Vec<_>) = batch
            .into_iter()
            .partition(|p| p.gate.as_ref().is_none_or(|g| g.pass()));
        for p in timed_out {
            p.answer(Err(SaveError::Db(gate::timed_out())));
        }
        if batch.is_empty() {
            if let Some(tx) = tx {
                let _ = tx.rollback().await;
            }
            continue;
        }
        // Sessions locked in user order (stable: one user's saves keep their queue order).
        batch.sort_by(|a, b| a.save.u.cmp(&b.save.u));
        match send(engine, &pool, tx, &mut batch).await {
            Ok(mut outcomes) => {
                for (n, p) in batch.into_iter().enumerate() {
                    let outcome = outcomes[n].take().ok_or(sqlx::Error::RowNotFound);
                    p.answer(outcome.map_err(SaveError::Db));
                }
            }
            // Rolled back by the database: each save again, alone.
            Err(sqlx::Error::Database(_)) if batch.len() > 1 => {
                for mut p in batch {
                    let outcome = send(engine, &pool, None, std::slice::from_mut(&mut p))
                        .await
                        .and_then(|o| {
                            o.into_iter()
                                .flatten()
                                .next()
                                .ok_or(sqlx::Error::RowNotFound)
                        });
                    p.answer(outcome.map_err(SaveError::Db));
                }
            }
            Err(e) => fail_all(batch, e),
        }
    }
}

/// Answers every save of `batch` with `e`: a lone save with the error as it is (a transient one
/// is a 503, as before the batch); several with a copy, 503 for a lost connection or pool, 500
/// for anything else (a row unreadable after the commit).
fn fail_all(mut batch: Vec<Pending>, e: sqlx::Error) {
    if batch.len() == 1 {
        if let Some(p) = batch.pop() {
            p.answer(Err(SaveError::Db(e)));
        }
        return;
    }
    let unavailable = matches!(
        e,
        sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
    );
    let message = e.to_string();
    for p in batch {
        let error = if unavailable {
            sqlx::Error::Protocol(message.clone())
        } else {
            sqlx::Error::Decode(message.clone().into())
        };
        p.answer(Err(SaveError::Db(error)));
    }
}

/// Writes `batch` in one transaction; the outcomes in the batch's order.
async fn send(
    engine: Engine,
    pool: &ConnPool,
    tx: Option<Tx>,
    batch: &mut [Pending],
) -> Result<Vec<Option<Outcome>>, sqlx::Error> {
    for (n, p) in batch.iter_mut().enumerate() {
        p.save.n = n;
    }
    match engine {
        Engine::Postgres => send_postgres(pool, batch).await,
        Engine::Sqlite => {
            // The write lock from the start (`begin immediate`), each save in turn, one commit.
            let mut tx = match tx {
                Some(tx) => tx,
                None => pool.begin(Some("begin immediate".into())).await?,
            };
            let mut outcomes = Vec::with_capacity(batch.len());
            for p in batch.iter() {
                outcomes.push(Some(save_on_sqlite(&mut tx, &p.save).await?));
            }
            tx.commit().await?;
            Ok(outcomes)
        }
    }
}

/// One statement, `onboarding_save_steps`, for the whole batch.
async fn send_postgres(
    pool: &ConnPool,
    batch: &[Pending],
) -> Result<Vec<Option<Outcome>>, sqlx::Error> {
    let saves: Vec<&StepSave> = batch.iter().map(|p| &p.save).collect();
    let json = serde_json::to_string(&saves).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let mut conn = pool.acquire().await?;
    let rows = sqlx::query(
        "select n, outcome, version, completed_steps from onboarding_save_steps($1::json)",
    )
    .bind(json)
    .fetch_all(&mut *conn)
    .await?;
    conn.release();
    let mut outcomes: Vec<Option<Outcome>> = batch.iter().map(|_| None).collect();
    for row in rows {
        let n: i64 = row.try_get("n")?;
        let slot = usize::try_from(n)
            .ok()
            .and_then(|n| outcomes.get_mut(n))
            .ok_or(sqlx::Error::RowNotFound)?;
        *slot = Some(Outcome::from_row(&row)?);
    }
    Ok(outcomes)
}

/// One save on SQLite inside the writer's transaction, as `onboarding_save_step` does it on
/// PostgreSQL: the open session, the expiry and If-Match checks (nothing written when one
/// refuses), version + 1, the step's row, the events, and the completed steps.
async fn save_on_sqlite(conn: &mut AnyConnection, save: &StepSave) -> Result<Outcome, sqlx::Error> {
    let open = sqlx::query("select id, version, last_activity_at from onboarding_sessions where user_id = $1 and status = 'in_progress'")
        .bind(&save.u)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(open) = open else {
        return Ok(Outcome::NoSession);
    };
    let (id, version): (String, i64) = (open.try_get("id")?, open.try_get("version")?);
    if save.a.saturating_sub(open.try_get("last_activity_at")?) > save.t {
        return Ok(Outcome::Expired);
    }
    if save.e.as_ref().is_some_and(|e| !e.matches(version)) {
        return Ok(Outcome::Stale(Some(version)));
    }
    sqlx::query("update onboarding_sessions set version = version + 1, last_activity_at = $1, updated_at = $1 where id = $2")
        .bind(save.a)
        .bind(&id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("insert into onboarding_steps (session_id, user_id, step, data, completed, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $6) on conflict (session_id, step) do update set data = excluded.data, completed = excluded.completed, updated_at = excluded.updated_at")
        .bind(&id)
        .bind(&save.u)
        .bind(&save.s)
        .bind(&save.d)
        .bind(i64::from(save.v))
        .bind(save.a)
        .execute(&mut *conn)
        .await?;
    event(conn, &id, &save.u, "step_saved", Some(&save.s), save.a).await?;
    if save.v {
        event(conn, &id, &save.u, "step_completed", Some(&save.s), save.a).await?;
    }
    let completed = sqlx::query("select json_group_array(step) as steps from onboarding_steps where session_id = $1 and completed = 1")
        .bind(&id)
        .fetch_one(&mut *conn)
        .await?;
    Ok(Outcome::Saved {
        version: version + 1,
        completed_steps: completed.try_get("steps")?,
    })
}
