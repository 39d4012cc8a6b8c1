//! Group commit of step saves (issue 18, decision 97). A save waits for its session and then
//! for its commit; one at a time, a user's concurrent saves (two tabs autosaving) could go no
//! faster than one commit each, and many users' saves paid one commit each. Here the saves
//! waiting in this process are taken together by a worker and written in one transaction:
//! the engine locks the batch's open sessions (in user order) and reads their completed steps,
//! `onboarding_store::decide_saves` runs each save's rules in turn against the version the
//! saves before it left (its own checks and outcome), and the engine writes what they decided
//! (on PostgreSQL one statement of typed arrays; on SQLite the rows in turn on the writer).
//!
//! What a request sees does not change: its save lands exactly once or not at all, and a 503
//! still means nothing was written — the worker passes each save's commit gate before it sends
//! the batch, and leaves out the saves whose requests timed out while they waited. The saves of
//! a batch lock their sessions in user order, so batches running side by side (here or in
//! another replica) cannot deadlock each other. A batch writes several users' rows, so on
//! PostgreSQL it runs as the connecting role, like the expiry sweep (decision 106). When the database refuses a batch (an error
//! that rolled it back), each of its saves is sent again alone, so one save's failure is never
//! another's.

use super::gate::{self, CommitGate};
use super::status_cache::Changed;
use super::SaveError;
use onboarding_store::{decide_saves, Backend, Outcome, StepSave, Tx};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Mutex};

/// Batches in flight at once on PostgreSQL. Two measured best (BENCHMARKS.md, session 13: one
/// user's saves 1 worker 6.1k/s, 2 5.3k, 4 4.9k, 8 3.7k; a thousand users' 5.5k, 5.9k, 5.6k,
/// 5.3k); more than one, so that a batch waiting for a session another transaction holds (a
/// completion) does not hold up every save.
pub(super) const WORKERS: usize = 2;
/// SQLite has one writer connection: one batch at a time.
pub(super) const SQLITE_WORKERS: usize = 1;
/// Saves in one batch at most.
const MAX_BATCH: usize = 64;
/// Saves queued before `save` waits for room.
const QUEUE: usize = 1024;

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

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending").field("save", &self.save).finish()
    }
}

/// The queue the workers take batches from.
#[derive(Clone, Debug)]
pub(super) struct SaveQueue {
    sender: mpsc::Sender<Pending>,
}

impl SaveQueue {
    /// Starts `workers` workers on `db`: batches in flight at once, so that while one waits
    /// for its commit the next fills, and a batch waiting for a session another transaction
    /// holds (a completion) does not hold up every save. They stop when the last clone of the
    /// queue is dropped.
    pub(super) fn start<B: Backend>(db: B, workers: usize) -> SaveQueue {
        let (sender, receiver) = mpsc::channel(QUEUE);
        let receiver = Arc::new(Mutex::new(receiver));
        for _ in 0..workers {
            tokio::spawn(work(db.clone(), Arc::clone(&receiver)));
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

async fn work<B: Backend>(db: B, queue: Arc<Mutex<mpsc::Receiver<Pending>>>) {
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
        // The transaction first (on SQLite it takes the write lock), so that a save whose
        // request times out while another writer holds the lock is answered 503 and left out,
        // as a lone save would be.
        let tx = match db.begin_saves().await {
            Ok(tx) => tx,
            Err(e) => {
                fail_all(batch, e);
                continue;
            }
        };
        // A request that timed out while its save waited was answered 503: it writes nothing.
        let (mut batch, timed_out): (Vec<_>, Vec<_>) = batch
            .into_iter()
            .partition(|p| p.gate.as_ref().is_none_or(|g| g.pass()));
        for p in timed_out {
            p.answer(Err(SaveError::Db(gate::timed_out())));
        }
        if batch.is_empty() {
            let _ = tx.rollback().await;
            continue;
        }
        // Sessions locked in user order (stable: one user's saves keep their queue order).
        batch.sort_by(|a, b| a.save.user.cmp(&b.save.user));
        match send(&db, tx, &batch).await {
            Ok(outcomes) => {
                for (p, outcome) in batch.into_iter().zip(outcomes) {
                    p.answer(Ok(outcome));
                }
            }
            // Rolled back by the database: each save again, alone.
            Err(sqlx::Error::Database(_)) if batch.len() > 1 => {
                for p in batch {
                    let outcome = match db.begin_saves().await {
                        Ok(tx) => send(&db, tx, std::slice::from_ref(&p)).await,
                        Err(e) => Err(e),
                    };
                    let outcome =
                        outcome.and_then(|o| o.into_iter().next().ok_or(sqlx::Error::RowNotFound));
                    p.answer(outcome.map_err(SaveError::Db));
                }
            }
            Err(e) => fail_all(batch, e),
        }
    }
}

/// Answers every save of `batch` with `e`: a lone save with the error as it is (a transient one
/// is a 503, as before the batch); several with a copy, 503 for a lost connection, a pool or a
/// terminated backend, 500 for anything else (a row unreadable after the commit).
fn fail_all(mut batch: Vec<Pending>, e: sqlx::Error) {
    if batch.len() == 1 {
        if let Some(p) = batch.pop() {
            p.answer(Err(SaveError::Db(e)));
        }
        return;
    }
    let unavailable = crate::error::is_unavailable(&e);
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

/// Writes `batch` (sorted by user) in `tx` and commits: the outcomes in the batch's order.
async fn send<B: Backend>(
    db: &B,
    mut tx: Tx<B::Db>,
    batch: &[Pending],
) -> Result<Vec<Outcome>, sqlx::Error> {
    let mut users: Vec<String> = batch.iter().map(|p| p.save.user.clone()).collect();
    users.dedup();
    let (open, completed) = db.lock_open_sessions(&mut tx, &users).await?;
    let saves: Vec<&StepSave> = batch.iter().map(|p| &p.save).collect();
    let (outcomes, writes) = decide_saves(&saves, open, completed);
    if !writes.is_empty() {
        db.write_saves(&mut tx, &writes).await?;
    }
    tx.commit().await?;
    Ok(outcomes)
}
