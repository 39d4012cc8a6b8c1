//! Suggestion feedback (the user's choice, kept on the server) and the onboarding funnel,
//! counted by the engine from the events table and put together by `onboarding-store`.

use super::{on_engine, Db, Store};
use onboarding_store::{Backend, Funnel};

impl Store {
    /// Records the user's choice on a suggestion (the latest one counts).
    pub async fn record_feedback(
        &self,
        user: &str,
        suggestion: &str,
        action: &str,
    ) -> Result<(), sqlx::Error> {
        let now = self.clock.now_ms();
        on_engine!(self, db => db.record_feedback(user, suggestion, action, now))
    }

    /// The ids of the suggestions the user dismissed.
    pub async fn dismissed_suggestions(&self, user: &str) -> Result<Vec<String>, sqlx::Error> {
        on_engine!(self, db => db.dismissed_suggestions(user))
    }

    /// The funnel over `[from_ms, to_ms)`. Platform-wide: it reads every tenant's events, so it
    /// runs as the connecting role (like the expiry purge), never on behalf of a user.
    pub async fn funnel(&self, from_ms: i64, to_ms: i64) -> Result<Funnel, sqlx::Error> {
        let figures = on_engine!(self, db => db.funnel_figures(from_ms, to_ms))?;
        Ok(Funnel::from_figures(figures))
    }
}
