//! "A 503 means nothing was written" (RELIABILITY.md). A request that runs out of time is
//! answered 503 `timeout` and its future dropped, which rolls back whatever it had open; but a
//! commit already sent cannot be taken back. So each request carries a gate: every commit of
//! the request first passes it (which the timeout can no longer close), and the timeout first
//! closes it (which no commit can pass afterwards). Whichever comes first wins: a request whose
//! commit began is answered with its real outcome, however late; one that timed out first
//! commits nothing.

use std::future::Future;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

const OPEN: u8 = 0;
const COMMITTING: u8 = 1;
const CLOSED: u8 = 2;

#[derive(Debug, Default)]
pub struct CommitGate(AtomicU8);

impl CommitGate {
    /// Called before a commit: `false` when the request already timed out (roll back instead).
    pub fn pass(&self) -> bool {
        match self
            .0
            .compare_exchange(OPEN, COMMITTING, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => true,
            Err(state) => state == COMMITTING,
        }
    }

    /// Called by the timeout: `true` when no commit has begun (none will now), `false` when one
    /// has (the request must be allowed to finish).
    pub fn close(&self) -> bool {
        self.0
            .compare_exchange(OPEN, CLOSED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }
}

tokio::task_local! {
    static GATE: Arc<CommitGate>;
}

/// Runs a request's future with `gate` as the gate of every commit it makes.
pub fn scope<F: Future>(gate: Arc<CommitGate>, request: F) -> impl Future<Output = F::Output> {
    GATE.scope(gate, request)
}

/// The current request's gate (`None` outside a request: background work always commits).
pub fn current() -> Option<Arc<CommitGate>> {
    GATE.try_with(Arc::clone).ok()
}

/// Passes the current request's gate, if any: `Err` when the request timed out.
pub fn pass() -> Result<(), sqlx::Error> {
    match current() {
        Some(gate) if !gate.pass() => Err(timed_out()),
        _ => Ok(()),
    }
}

/// The error a commit refused by the gate returns (the request has been answered 503 already).
pub fn timed_out() -> sqlx::Error {
    sqlx::Error::PoolTimedOut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_of_commit_and_timeout_wins() {
        let gate = CommitGate::default();
        assert!(gate.pass());
        assert!(gate.pass(), "a request may commit more than once");
        assert!(!gate.close());
        let gate = CommitGate::default();
        assert!(gate.close());
        assert!(!gate.pass());
    }
}
