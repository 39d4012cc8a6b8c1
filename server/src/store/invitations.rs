//! Invitations and members' changes: what each decides is `onboarding_store::invitations`,
//! once for both engines (see there for the lifecycle); this calls it on the store's engine.

use super::{on_engine, Db, Store};
use onboarding_store::invitations::{accept, change_member, create, resend, revoke};
use onboarding_store::{
    Acceptance, Backend, Invitation, InvitationCaps, InvitationChange, InvitationPreview, Invited,
    Letter, MemberChange, Outgoing, Role,
};

impl Store {
    /// The organization's invitations, newest first, with their state as of now.
    pub async fn invitations(&self, user: &str, org: &str) -> Result<Vec<Invitation>, sqlx::Error> {
        let now = self.clock.now_ms();
        on_engine!(self, db => db.invitations(user, org, now))
    }

    /// Invites `emails` (normalized, distinct, validated by the caller) as `role`, each with a
    /// token that only its e-mail carries, valid for `ttl_ms`: all, or none (an address with a
    /// pending invitation, a daily cap).
    #[allow(clippy::too_many_arguments)]
    pub async fn create_invitations(
        &self,
        user: &str,
        org: &str,
        emails: &[String],
        role: Role,
        ttl_ms: i64,
        caps: InvitationCaps,
        compose: impl Fn(&Letter) -> Outgoing,
    ) -> Result<Invited, sqlx::Error> {
        let now = self.clock.now_ms();
        on_engine!(self, db => create(db, user, org, emails, role, ttl_ms, caps, now, compose))
    }

    /// Revokes a pending invitation: its token stops working and its unsent e-mail is cancelled.
    pub async fn revoke_invitation(
        &self,
        user: &str,
        org: &str,
        invitation: &str,
    ) -> Result<InvitationChange, sqlx::Error> {
        let now = self.clock.now_ms();
        on_engine!(self, db => revoke(db, user, org, invitation, now))
    }

    /// Gives a pending (or expired) invitation a fresh token and expiry, cancels its unsent
    /// e-mail and queues a new one: only the new link works.
    pub async fn resend_invitation(
        &self,
        user: &str,
        org: &str,
        invitation: &str,
        ttl_ms: i64,
        caps: InvitationCaps,
        compose: impl Fn(&Letter) -> Outgoing,
    ) -> Result<InvitationChange, sqlx::Error> {
        let now = self.clock.now_ms();
        on_engine!(self, db => resend(db, user, org, invitation, ttl_ms, caps, now, compose))
    }

    /// What the landing page shows the holder of a token before sign-in (`None`: unknown token).
    pub async fn invitation_preview(
        &self,
        token_hash: &str,
    ) -> Result<Option<InvitationPreview>, sqlx::Error> {
        let now = self.clock.now_ms();
        on_engine!(self, db => db.invitation_preview(token_hash, now))
    }

    /// Accepts an invitation for `user` (whose address must be the invited one): pending and
    /// unexpired, once; creates the membership in the same transaction.
    pub async fn accept_invitation(
        &self,
        user: &str,
        email: &str,
        token_hash: &str,
    ) -> Result<Acceptance, sqlx::Error> {
        let now = self.clock.now_ms();
        on_engine!(self, db => accept(db, user, email, token_hash, now))
    }

    /// Changes a member's role (owners only, checked by the caller and, on PostgreSQL, by
    /// row-level security), keeping at least one owner.
    pub async fn set_member_role(
        &self,
        user: &str,
        org: &str,
        member: &str,
        role: Role,
    ) -> Result<MemberChange, sqlx::Error> {
        let now = self.clock.now_ms();
        on_engine!(self, db => change_member(db, user, org, member, Some(role), now))
    }

    /// Removes a member (owners only), keeping at least one owner.
    pub async fn remove_member(
        &self,
        user: &str,
        org: &str,
        member: &str,
    ) -> Result<MemberChange, sqlx::Error> {
        let now = self.clock.now_ms();
        on_engine!(self, db => change_member(db, user, org, member, None, now))
    }
}
