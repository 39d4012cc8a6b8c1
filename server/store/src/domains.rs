//! An organization's e-mail domains (issue 36): added by its owners and admins, verified by
//! affiliation (the adder's verified address is at the domain) when added, and never verified
//! by two organizations. What the rules decide is here, once for both engines; the engines
//! read and write the rows ([`Backend`]).

use crate::{new_id, Backend};
use serde::Serialize;

/// What a newcomer at a verified domain is offered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DomainMode {
    /// Nothing automatic.
    Manual,
    /// The newcomer sees the organization and may ask to join.
    AutomaticSuggestion,
    /// The newcomer may join at once (needs ownership: a DNS record).
    AutomaticInvitation,
}

impl DomainMode {
    pub fn as_str(self) -> &'static str {
        match self {
            DomainMode::Manual => "manual",
            DomainMode::AutomaticSuggestion => "automatic_suggestion",
            DomainMode::AutomaticInvitation => "automatic_invitation",
        }
    }
}

impl TryFrom<String> for DomainMode {
    type Error = String;
    fn try_from(s: String) -> Result<DomainMode, String> {
        Ok(match s.as_str() {
            "manual" => DomainMode::Manual,
            "automatic_suggestion" => DomainMode::AutomaticSuggestion,
            "automatic_invitation" => DomainMode::AutomaticInvitation,
            _ => return Err(format!("unknown domain mode {s:?}")),
        })
    }
}

/// A domain of an organization, as its members see it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Domain {
    pub domain: String,
    pub mode: DomainMode,
    /// When the adder's verified address showed the organization's affiliation with it.
    pub affiliation_verified_at: Option<i64>,
    /// When the DNS record proved ownership.
    pub ownership_verified_at: Option<i64>,
    /// The value of the TXT record at `_onboarding-challenge.<domain>` that proves ownership.
    pub ownership_token: String,
    pub created_at: i64,
}

/// An organization a newcomer may join (or ask to): no more than a non-member may see.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct JoinOffer {
    pub id: String,
    pub name: String,
    /// `automatic_suggestion` (ask to join) or `automatic_invitation` (join at once).
    pub mode: DomainMode,
    pub members: i64,
}

/// A domain row to insert.
#[derive(Debug)]
pub struct NewDomainRow<'a> {
    pub id: &'a str,
    pub organization_id: &'a str,
    pub domain: &'a str,
    pub mode: DomainMode,
    pub ownership_token: &'a str,
    pub affiliation_verified_at: Option<i64>,
    pub affiliation_verified_by: Option<&'a str>,
    pub created_by: &'a str,
    pub at: i64,
}

/// The outcome of adding a domain.
#[derive(Debug)]
pub enum Added {
    Added(Domain),
    /// The organization has it already.
    AlreadyAdded,
    /// Another organization verified it first.
    VerifiedElsewhere,
}

/// Adds `domain` (normalized and claimable, checked by the caller) to `org` for `user` (an
/// owner or admin, checked by the caller and, on PostgreSQL, by row-level security); verified
/// by affiliation when `affiliated` (the user's verified address is at the domain). One
/// transaction.
pub async fn add<B: Backend>(
    db: &B,
    user: &str,
    org: &str,
    domain: &str,
    mode: DomainMode,
    affiliated: bool,
    now: i64,
) -> crate::Result<Added> {
    let mut tx = db.begin_write(user).await?;
    if db.domain_of(&mut tx, org, domain).await?.is_some() {
        tx.rollback().await?;
        return Ok(Added::AlreadyAdded);
    }
    if affiliated && db.domain_verified_elsewhere(&mut tx, org, domain).await? {
        tx.rollback().await?;
        return Ok(Added::VerifiedElsewhere);
    }
    let token: [u8; 16] = rand::random();
    let id = new_id();
    let row = NewDomainRow {
        id: &id,
        organization_id: org,
        domain,
        mode,
        ownership_token: &hex::encode(token),
        affiliation_verified_at: affiliated.then_some(now),
        affiliation_verified_by: affiliated.then_some(user),
        created_by: user,
        at: now,
    };
    db.insert_domain(&mut tx, &row).await?;
    let added = db.domain_of(&mut tx, org, domain).await?;
    tx.commit().await?;
    Ok(added.map_or(Added::AlreadyAdded, Added::Added))
}

/// The outcome of recording a domain's ownership.
#[derive(Debug)]
pub enum Owned {
    Verified(Domain),
    /// The organization does not have the domain.
    NotFound,
    /// Another organization verified it first.
    VerifiedElsewhere,
}

/// Records that `org` proved it owns `domain` (its DNS record holds the token: the caller
/// looked). One transaction.
pub async fn verify_ownership<B: Backend>(
    db: &B,
    user: &str,
    org: &str,
    domain: &str,
    now: i64,
) -> crate::Result<Owned> {
    let mut tx = db.begin_write(user).await?;
    if db.domain_of(&mut tx, org, domain).await?.is_none() {
        tx.rollback().await?;
        return Ok(Owned::NotFound);
    }
    if db.domain_verified_elsewhere(&mut tx, org, domain).await? {
        tx.rollback().await?;
        return Ok(Owned::VerifiedElsewhere);
    }
    db.set_ownership_verified(&mut tx, org, domain, now).await?;
    let verified = db.domain_of(&mut tx, org, domain).await?;
    tx.commit().await?;
    Ok(verified.map_or(Owned::NotFound, Owned::Verified))
}

impl DomainMode {
    /// Whether a domain verified as `d` is may use this mode: suggestions need a verification
    /// (affiliation or ownership), automatic invitations ownership.
    pub fn allowed_for(self, d: &Domain) -> bool {
        self.allowed(
            d.affiliation_verified_at.is_some(),
            d.ownership_verified_at.is_some(),
        )
    }

    /// Whether a domain verified by affiliation (`affiliated`) or ownership (`owned`) may use
    /// this mode.
    pub fn allowed(self, affiliated: bool, owned: bool) -> bool {
        match self {
            DomainMode::Manual => true,
            DomainMode::AutomaticSuggestion => affiliated || owned,
            DomainMode::AutomaticInvitation => owned,
        }
    }
}

/// The outcome of changing a domain's mode.
#[derive(Debug)]
pub enum ModeChange {
    Changed(Domain),
    NotFound,
    /// The domain's verification does not allow the mode.
    NotVerified,
}

/// Sets the mode of `org`'s `domain`, when its verification allows it. One transaction.
pub async fn set_mode<B: Backend>(
    db: &B,
    user: &str,
    org: &str,
    domain: &str,
    mode: DomainMode,
    now: i64,
) -> crate::Result<ModeChange> {
    let mut tx = db.begin_write(user).await?;
    let Some(current) = db.domain_of(&mut tx, org, domain).await? else {
        tx.rollback().await?;
        return Ok(ModeChange::NotFound);
    };
    if !mode.allowed_for(&current) {
        tx.rollback().await?;
        return Ok(ModeChange::NotVerified);
    }
    db.set_domain_mode(&mut tx, org, domain, mode, now).await?;
    let changed = db.domain_of(&mut tx, org, domain).await?;
    tx.commit().await?;
    Ok(changed.map_or(ModeChange::NotFound, ModeChange::Changed))
}

/// Removes `domain` from `org`; whether it was there. One transaction.
pub async fn remove<B: Backend>(
    db: &B,
    user: &str,
    org: &str,
    domain: &str,
) -> crate::Result<bool> {
    let mut tx = db.begin_write(user).await?;
    let removed = db.delete_domain(&mut tx, org, domain).await?;
    tx.commit().await?;
    Ok(removed)
}
