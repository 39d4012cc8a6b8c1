//! The completion: one transaction that locks the session, validates its draft (the caller's
//! `prepare`), claims it and creates the organization with everything in it. What it decides
//! is `onboarding_store::completion::complete`, once for both engines.

use super::{on_engine, Db, Session, Store};
use onboarding_store::completion::complete;
use onboarding_store::{Completion, Prepared};

impl Store {
    /// The completion (see `onboarding_store::completion::complete`): `prepare` validates the
    /// draft read under the session's lock and builds the records; `respond` renders the
    /// response body from the new organization's id and slug (stored with an idempotency key
    /// in the same transaction).
    pub async fn complete<E>(
        &self,
        user: &str,
        idempotency_key: Option<&str>,
        prepare: impl FnOnce(&Session) -> Result<Prepared, E>,
        respond: impl FnOnce(&Prepared, &Session, &str, &str) -> String,
    ) -> Result<Completion<E>, sqlx::Error> {
        let now = self.clock.now_ms();
        let _changing = self.changing(user);
        on_engine!(self, db => complete(db, user, now, idempotency_key, prepare, respond))
    }
}
