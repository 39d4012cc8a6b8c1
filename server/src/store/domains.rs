//! An organization's e-mail domains: what each operation decides is
//! `onboarding_store::domains`, once for both engines; this calls it on the store's engine.

use super::{on_engine, Db, Store};
use onboarding_store::domains::{
    add, remove, set_mode, verify_ownership, Added, Domain, DomainMode, JoinOffer, ModeChange,
    Owned,
};
use onboarding_store::Backend;

impl Store {
    /// The organization's domains (members only: the caller checks, row-level security too).
    pub async fn domains(&self, user: &str, org: &str) -> Result<Vec<Domain>, sqlx::Error> {
        on_engine!(self, db => db.domains(user, org))
    }

    /// Adds a (normalized, claimable) domain; verified by affiliation when `affiliated`.
    pub async fn add_domain(
        &self,
        user: &str,
        org: &str,
        domain: &str,
        mode: DomainMode,
        affiliated: bool,
    ) -> Result<Added, sqlx::Error> {
        let now = self.clock.now_ms();
        on_engine!(self, db => add(db, user, org, domain, mode, affiliated, now))
    }

    /// Records the organization's proven ownership of a domain (the caller read its record).
    pub async fn verify_domain_ownership(
        &self,
        user: &str,
        org: &str,
        domain: &str,
    ) -> Result<Owned, sqlx::Error> {
        let now = self.clock.now_ms();
        on_engine!(self, db => verify_ownership(db, user, org, domain, now))
    }

    /// The organizations a newcomer may join by their verified address's domain.
    pub async fn organizations_to_join(
        &self,
        user: &str,
        domain: &str,
    ) -> Result<Vec<JoinOffer>, sqlx::Error> {
        on_engine!(self, db => db.organizations_to_join(user, domain))
    }

    /// Changes a domain's mode, when its verification allows it.
    pub async fn set_domain_mode(
        &self,
        user: &str,
        org: &str,
        domain: &str,
        mode: DomainMode,
    ) -> Result<ModeChange, sqlx::Error> {
        let now = self.clock.now_ms();
        on_engine!(self, db => set_mode(db, user, org, domain, mode, now))
    }

    /// Removes a domain; whether the organization had it.
    pub async fn remove_domain(
        &self,
        user: &str,
        org: &str,
        domain: &str,
    ) -> Result<bool, sqlx::Error> {
        on_engine!(self, db => remove(db, user, org, domain))
    }
}
