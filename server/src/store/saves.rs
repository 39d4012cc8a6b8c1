//! Group commit of step saves on PostgreSQL (issue 18, decision 97). A save waits for its
//! session's row lock and then for its commit's WAL flush; one at a time, a user's concurrent
//! saves (two tabs autosaving) could go no faster than one flush each, and many users' saves
//! paid one flush each. Here the saves waiting in this process are taken together by one of a
//! few workers and sent as one statement (`onboarding_save_steps`, migration 0010): one
//! transaction, one commit for all of them. Each save in it is still `onboarding_save_step`
//! with its own lock, checks against the version the saves before it left, writes and outcome.
//!
//! What a request sees does not change: its save lands exactly once or not at all, and a 503
//! still means nothing was written — the worker passes each save's commit gate before it sends
//! the batch, and leaves out the saves whose requests timed out while they waited. The saves of
//! a batch lock their sessions in user order, so batches running side by side (here or in
//! another replica) cannot deadlock each other. When the database refuses a batch (an error
//! that rolled it back), each of its saves is sent again alone, so one save's failure is never
//! another's.

use super::gate::{self, CommitGate};
use super::pool::ConnPool;
use super::sessions::SaveError;
use serde::Serialize;
use sqlx::Row;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Mutex};

/// Batches in flight at once: while one waits for its commit, the next fills. Two measured best
/// (BENCHMARKS.md, session 13: one user's saves 1 worker 6.1k/s, 2 5.3k, 4 4.9k, 8 3.7k; a
/// thousand users' 5.5k, 5.9k, 5.6k, 5.3k); more than one, so that a batch waiting for a
/// session another transaction holds (a completion) does not hold up every save.
const WORKERS: usize = 2;
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
    /// When (ms), the session TTL (ms), and `If-Match` (`*` or comma-separated versions).
    a: i64,
    t: i64,
    e: Option<String>,
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
        expected: Option<String>,
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

/// What `onboarding_save_step` answered for one save.
#[derive(Debug)]
pub(super) struct Outcome {
    pub outcome: String,
    pub version: Option<i64>,
    pub completed_steps: Option<String>,
}

type Reply = oneshot::Sender<Result<Outcome, SaveError>>;

struct Pending {
    save: StepSave,
    gate: Option<Arc<CommitGate>>,
    reply: Reply,
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
    /// Starts the workers on `pool`; they stop when the last clone of the queue is dropped.
    pub(super) fn start(pool: ConnPool) -> SaveQueue {
        let (sender, receiver) = mpsc::channel(QUEUE);
        let receiver = Arc::new(Mutex::new(receiver));
        for _ in 0..WORKERS {
            tokio::spawn(work(pool.clone(), Arc::clone(&receiver)));
        }
        SaveQueue { sender }
    }

    /// Queues a save and waits for its outcome (the current request's gate goes with it).
    pub(super) async fn save(&self, save: StepSave) -> Result<Outcome, SaveError> {
        let (reply, outcome) = oneshot::channel();
        let pending = Pending {
            save,
            gate: gate::current(),
            reply,
        };
        if self.sender.send(pending).await.is_err() {
            return Err(SaveError::Db(sqlx::Error::PoolClosed));
        }
        outcome
            .await
            .unwrap_or(Err(SaveError::Db(sqlx::Error::PoolClosed)))
    }
}

async fn work(pool: ConnPool, queue: Arc<Mutex<mpsc::Receiver<Pending>>>) {
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
        // A request that timed out while its save waited was answered 503: it writes nothing.
        let (mut batch, timed_out): (Vec<_>, Vec<_>) = batch
            .into_iter()
            .partition(|p| p.gate.as_ref().is_none_or(|g| g.pass()));
        for p in timed_out {
            let _ = p.reply.send(Err(SaveError::Db(gate::timed_out())));
        }
        if batch.is_empty() {
            continue;
        }
        // Sessions locked in user order (stable: one user's saves keep their queue order).
        batch.sort_by(|a, b| a.save.u.cmp(&b.save.u));
        match send(&pool, &mut batch).await {
            Ok(mut outcomes) => {
                for (n, p) in batch.into_iter().enumerate() {
                    let outcome = outcomes[n].take().ok_or(sqlx::Error::RowNotFound);
                    let _ = p.reply.send(outcome.map_err(SaveError::Db));
                }
            }
            // One save: its error as it is (a transient one is a 503, as before the batch).
            Err(e) if batch.len() == 1 => {
                if let Some(p) = batch.pop() {
                    let _ = p.reply.send(Err(SaveError::Db(e)));
                }
            }
            // Rolled back by the database: each save again, alone.
            Err(sqlx::Error::Database(_)) => {
                for mut p in batch {
                    let outcome = send(&pool, std::slice::from_mut(&mut p))
                        .await
                        .and_then(|o| {
                            o.into_iter()
                                .flatten()
                                .next()
                                .ok_or(sqlx::Error::RowNotFound)
                        });
                    let _ = p.reply.send(outcome.map_err(SaveError::Db));
                }
            }
            // The connection failed (each save answered 503, as a single save would be), or a
            // row could not be read after the batch committed (each answered 500).
            Err(e) => {
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
                    let _ = p.reply.send(Err(SaveError::Db(error)));
                }
            }
        }
    }
}

/// Sends `batch` as one statement; the outcomes in the batch's order.
async fn send(pool: &ConnPool, batch: &mut [Pending]) -> Result<Vec<Option<Outcome>>, sqlx::Error> {
    for (n, p) in batch.iter_mut().enumerate() {
        p.save.n = n;
    }
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
        *slot = Some(Outcome {
            outcome: row.try_get("outcome")?,
            version: row.try_get("version")?,
            completed_steps: row.try_get("completed_steps")?,
        });
    }
    Ok(outcomes)
}
