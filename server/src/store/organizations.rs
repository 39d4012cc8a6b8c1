//! Organizations as their members see them: the organization, its members, its objectives
//! (the engines read them; `onboarding-store` holds the rows).

use super::{on_engine, Db, Store};
use onboarding_store::{Backend, Member, Objective, Organization, Role};

impl Store {
    /// The user's role in the organization, if a member.
    pub async fn role_in(&self, user: &str, org: &str) -> Result<Option<Role>, sqlx::Error> {
        on_engine!(self, db => db.role_in(user, org))
    }

    /// The members of an organization (checked by the caller; RLS checks again on PostgreSQL).
    pub async fn members(&self, user: &str, org: &str) -> Result<Vec<Member>, sqlx::Error> {
        on_engine!(self, db => db.members(user, org))
    }

    /// The objectives of an organization with their key results, in order.
    pub async fn objectives(&self, user: &str, org: &str) -> Result<Vec<Objective>, sqlx::Error> {
        let (objectives, key_results) = on_engine!(self, db => db.objectives(user, org))?;
        Ok(Objective::with_key_results(objectives, key_results))
    }

    /// The organization as the API shows it.
    pub async fn organization(
        &self,
        user: &str,
        id: &str,
    ) -> Result<Option<Organization>, sqlx::Error> {
        on_engine!(self, db => db.organization(user, id))
    }
}
