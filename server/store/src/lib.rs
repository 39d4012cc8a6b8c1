//! The store's interface, written once for both engines (issue 33, `docs/store.md`): the rows
//! the API shows, the [`Backend`] trait each engine implements with typed, compile-time-checked
//! SQL (`onboarding-store-pg`, `onboarding-store-sqlite`), and what an operation decides from
//! the rows it read (the rules), as plain functions that know nothing of SQL. The server's
//! `store` module picks the engine by URL and calls through this interface. Also here: the
//! requests' connection pool (`pool`) and the commit gate (`gate`), which both engines use.

pub mod completion;
pub mod domains;
pub mod gate;
pub mod insights;
pub mod invitations;
pub mod organizations;
pub mod outbox;
pub mod pool;
pub mod sessions;

pub use completion::{
    Completion, CompletionWrites, InvitationCaps, NewInvitation, NewOrganization, Prepared, SentBy,
};
pub use insights::{Funnel, FunnelFigures};
pub use invitations::{
    Acceptance, Delivery, Invitation, InvitationChange, InvitationPreview, InvitationState,
    Invited, Letter, MemberChange, NewInvitationRow, NewMail, Role, Sender, TokenInvitation,
};
pub use organizations::{KeyResult, Member, Objective, Organization};
pub use outbox::{Claimed, DevMessage, OutboxCounts, OutboxMessage, Outgoing};
pub use pool::{Conn, ConnPool, Tx};
pub use sessions::{
    decide_saves, IfMatch, OpenSession, Outcome, SaveWrites, Session, SessionEnd, SessionRow,
    SessionStatus, StepSave,
};
pub use sqlx::Database;

use sqlx::migrate::MigrateError;
use std::future::Future;

pub type Result<T> = std::result::Result<T, sqlx::Error>;

/// The open sessions a batch of saves locked, and their completed steps as
/// `(session id, step)`.
pub type Locked = (Vec<OpenSession>, Vec<(String, String)>);

/// A new row id (a random UUID, as text on both engines).
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// What each engine implements: reads, locks and writes of typed rows, nothing decided. Every
/// method that acts for a user runs as that user (on PostgreSQL: the row-level-security role
/// with the user's id, both bound parameters local to the transaction).
pub trait Backend: Clone + Send + Sync + 'static {
    /// The engine's database: its transactions ([`Tx`]) carry the batches of step saves.
    type Db: sqlx::Database;

    // The schema (system work, as the connecting role).
    /// Applies the engine's migrations that are missing (`migrations/<engine>`, embedded).
    fn migrate(&self) -> impl Future<Output = std::result::Result<(), MigrateError>> + Send;
    /// Reverts the migrations applied after `target`, newest first, each with its down script.
    fn undo(
        &self,
        target: i64,
    ) -> impl Future<Output = std::result::Result<(), MigrateError>> + Send;
    /// The versions of the engine's migrations this build has (with down scripts).
    fn migration_versions(&self) -> Vec<i64>;
    /// The highest migration applied (0 when none).
    fn schema_version(&self) -> impl Future<Output = Result<i64>> + Send;
    fn ping(&self) -> impl Future<Output = Result<()>> + Send;

    // Sessions.
    /// The user's most recent session, whatever its status (the status read: one statement).
    fn latest_session(&self, user: &str)
        -> impl Future<Output = Result<Option<SessionRow>>> + Send;
    /// Creates an open session `id` with its `started` event.
    fn create_session(
        &self,
        user: &str,
        id: &str,
        started_event: &str,
        now: i64,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Ends the user's session `id` if it is still open: its status, version + 1, its draft
    /// deleted, the event. Nothing when it is not open any more.
    fn end_session(
        &self,
        user: &str,
        id: &str,
        end: SessionEnd,
        event_id: &str,
        now: i64,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Expires every open session last active before `before`, each as `end_session` does
    /// (system work, on every user's sessions); returns their users.
    fn expire_sessions(
        &self,
        now: i64,
        before: i64,
    ) -> impl Future<Output = Result<Vec<String>>> + Send;
    /// The stored response (status, body) of the user's idempotency key, if it was used in the
    /// user's latest session.
    fn idempotent_response(
        &self,
        user: &str,
        key: &str,
    ) -> impl Future<Output = Result<Option<(i64, String)>>> + Send;
    fn purge_idempotency_keys(&self, before: i64) -> impl Future<Output = Result<u64>> + Send;

    // Write transactions and the completion (`completion::complete` decides).
    /// A write transaction on behalf of `user`.
    fn begin_write(&self, user: &str) -> impl Future<Output = Result<Tx<Self::Db>>> + Send;
    /// The user's open session, its row locked for the rest of `tx`, read after the lock.
    fn lock_open_session(
        &self,
        tx: &mut Tx<Self::Db>,
        user: &str,
    ) -> impl Future<Output = Result<Option<SessionRow>>> + Send;
    /// Locks the organization's row for the rest of `tx` (changes that check its state queue).
    fn lock_organization(
        &self,
        tx: &mut Tx<Self::Db>,
        org: &str,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Locks the user's invitation e-mails for the rest of `tx` (their count queues).
    fn lock_user_sends(
        &self,
        tx: &mut Tx<Self::Db>,
        user: &str,
    ) -> impl Future<Output = Result<()>> + Send;
    /// How many e-mails the organization or the user sent after `since`, and the oldest one's
    /// time (0 when none).
    fn mail_sent_since(
        &self,
        tx: &mut Tx<Self::Db>,
        by: SentBy<'_>,
        since: i64,
    ) -> impl Future<Output = Result<(i64, i64)>> + Send;
    /// Inserts the organization and its owner's membership; `false`, with nothing written,
    /// when its slug is taken.
    fn found_organization(
        &self,
        tx: &mut Tx<Self::Db>,
        org: &NewOrganization<'_>,
    ) -> impl Future<Output = Result<bool>> + Send;
    /// The highest `n` of the taken slugs `base-n` (1 when there is none), across tenants.
    fn highest_slug_suffix(
        &self,
        tx: &mut Tx<Self::Db>,
        base: &str,
    ) -> impl Future<Output = Result<u32>> + Send;
    fn write_completion(
        &self,
        tx: &mut Tx<Self::Db>,
        writes: &CompletionWrites<'_>,
    ) -> impl Future<Output = Result<()>> + Send;

    // Invitations and members (`invitations` decides).
    /// The organization's invitations, newest first, with their state as of `now`.
    fn invitations(
        &self,
        user: &str,
        org: &str,
        now: i64,
    ) -> impl Future<Output = Result<Vec<Invitation>>> + Send;
    /// One invitation of the organization, with its state as of `now`.
    fn invitation(
        &self,
        tx: &mut Tx<Self::Db>,
        org: &str,
        id: &str,
        now: i64,
    ) -> impl Future<Output = Result<Option<Invitation>>> + Send;
    /// Marks the organization's pending invitations past their expiry expired.
    fn expire_pending_invitations(
        &self,
        tx: &mut Tx<Self::Db>,
        org: &str,
        now: i64,
    ) -> impl Future<Output = Result<()>> + Send;
    fn pending_invitation_emails(
        &self,
        tx: &mut Tx<Self::Db>,
        org: &str,
    ) -> impl Future<Output = Result<Vec<String>>> + Send;
    /// Inserts a pending invitation (a unique violation when its address has one already).
    fn insert_invitation(
        &self,
        tx: &mut Tx<Self::Db>,
        row: &NewInvitationRow<'_>,
    ) -> impl Future<Output = Result<()>> + Send;
    /// The organization's name and language and the inviter's name, for the message.
    fn sender(
        &self,
        tx: &mut Tx<Self::Db>,
        user: &str,
        org: &str,
    ) -> impl Future<Output = Result<Sender>> + Send;
    fn enqueue_mail(
        &self,
        tx: &mut Tx<Self::Db>,
        mail: &NewMail<'_>,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Revokes the invitation if it is pending; `false` when it is not (or unknown).
    fn revoke_invitation(
        &self,
        tx: &mut Tx<Self::Db>,
        org: &str,
        id: &str,
        now: i64,
    ) -> impl Future<Output = Result<bool>> + Send;
    /// Cancels the invitation's unsent messages (their bodies hold a token that no longer works).
    fn cancel_mail(
        &self,
        tx: &mut Tx<Self::Db>,
        invitation: &str,
        now: i64,
    ) -> impl Future<Output = Result<()>> + Send;
    /// A pending or expired invitation made pending again with a new token and expiry: its
    /// address; `None` when it is neither (or unknown). A unique violation when its address has
    /// been invited again meanwhile.
    fn renew_invitation(
        &self,
        tx: &mut Tx<Self::Db>,
        org: &str,
        id: &str,
        token_hash: &str,
        expires_at: i64,
        now: i64,
    ) -> impl Future<Output = Result<Option<String>>> + Send;
    /// The organization's domains, as its members see them (a read, as `user`).
    fn domains(
        &self,
        user: &str,
        org: &str,
    ) -> impl Future<Output = Result<Vec<domains::Domain>>> + Send;
    /// One domain of the organization, in `tx`.
    fn domain_of(
        &self,
        tx: &mut Tx<Self::Db>,
        org: &str,
        domain: &str,
    ) -> impl Future<Output = Result<Option<domains::Domain>>> + Send;
    /// Whether an organization other than `org` verified `domain`.
    fn domain_verified_elsewhere(
        &self,
        tx: &mut Tx<Self::Db>,
        org: &str,
        domain: &str,
    ) -> impl Future<Output = Result<bool>> + Send;
    fn insert_domain(
        &self,
        tx: &mut Tx<Self::Db>,
        row: &domains::NewDomainRow<'_>,
    ) -> impl Future<Output = Result<()>> + Send;
    /// The organizations `user` may join or ask to join by their verified address's `domain`
    /// (verified domains not in `manual` mode, organizations they are not a member of).
    fn organizations_to_join(
        &self,
        user: &str,
        domain: &str,
    ) -> impl Future<Output = Result<Vec<domains::JoinOffer>>> + Send;
    /// Sets the mode of the organization's `domain`.
    fn set_domain_mode(
        &self,
        tx: &mut Tx<Self::Db>,
        org: &str,
        domain: &str,
        mode: domains::DomainMode,
        now: i64,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Records the organization's ownership of `domain` as of `now`.
    fn set_ownership_verified(
        &self,
        tx: &mut Tx<Self::Db>,
        org: &str,
        domain: &str,
        now: i64,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Deletes the organization's `domain`; whether it was there.
    fn delete_domain(
        &self,
        tx: &mut Tx<Self::Db>,
        org: &str,
        domain: &str,
    ) -> impl Future<Output = Result<bool>> + Send;
    /// What the landing page shows the holder of the token with this hash (no user: the page
    /// asks before sign-in), its state as of `now`.
    fn invitation_preview(
        &self,
        token_hash: &str,
        now: i64,
    ) -> impl Future<Output = Result<Option<invitations::InvitationPreview>>> + Send;
    /// The invitation with this token's hash, whatever its organization, its row locked.
    fn invitation_by_token(
        &self,
        tx: &mut Tx<Self::Db>,
        token_hash: &str,
    ) -> impl Future<Output = Result<Option<TokenInvitation>>> + Send;
    /// Marks the (locked, pending) invitation accepted by `user` (the transaction's).
    fn accept_invitation(
        &self,
        tx: &mut Tx<Self::Db>,
        id: &str,
        user: &str,
        now: i64,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Makes the user a member as `role`; nothing when already a member.
    fn join_organization(
        &self,
        tx: &mut Tx<Self::Db>,
        org: &str,
        user: &str,
        role: Role,
        now: i64,
    ) -> impl Future<Output = Result<()>> + Send;
    fn member_role(
        &self,
        tx: &mut Tx<Self::Db>,
        org: &str,
        member: &str,
    ) -> impl Future<Output = Result<Option<Role>>> + Send;
    fn count_owners(
        &self,
        tx: &mut Tx<Self::Db>,
        org: &str,
    ) -> impl Future<Output = Result<i64>> + Send;
    fn set_member_role(
        &self,
        tx: &mut Tx<Self::Db>,
        org: &str,
        member: &str,
        role: Role,
        now: i64,
    ) -> impl Future<Output = Result<()>> + Send;
    fn remove_member(
        &self,
        tx: &mut Tx<Self::Db>,
        org: &str,
        member: &str,
    ) -> impl Future<Output = Result<()>> + Send;

    // Step saves, in batches (the server's group commit; `decide_saves` decides).
    /// The transaction of one batch (system work: it writes several users' rows; on SQLite on
    /// the writer, holding the write lock from its start).
    fn begin_saves(&self) -> impl Future<Output = Result<Tx<Self::Db>>> + Send;
    /// The open sessions of `users` (sorted, distinct), their rows locked in that order, and
    /// their completed steps as `(session id, step)`, read after the locks.
    fn lock_open_sessions(
        &self,
        tx: &mut Tx<Self::Db>,
        users: &[String],
    ) -> impl Future<Output = Result<Locked>> + Send;
    fn write_saves(
        &self,
        tx: &mut Tx<Self::Db>,
        writes: &SaveWrites,
    ) -> impl Future<Output = Result<()>> + Send;

    // Organizations as their members see them.
    fn organization(
        &self,
        user: &str,
        id: &str,
    ) -> impl Future<Output = Result<Option<Organization>>> + Send;
    fn role_in(&self, user: &str, org: &str) -> impl Future<Output = Result<Option<Role>>> + Send;
    fn members(&self, user: &str, org: &str) -> impl Future<Output = Result<Vec<Member>>> + Send;
    /// The objectives in order, and every key result of the organization (by objective, in
    /// order): [`Objective::with_key_results`] puts them together.
    fn objectives(
        &self,
        user: &str,
        org: &str,
    ) -> impl Future<Output = Result<(Vec<Objective>, Vec<KeyResult>)>> + Send;

    // Suggestion feedback and the funnel.
    fn record_feedback(
        &self,
        user: &str,
        suggestion: &str,
        action: &str,
        now: i64,
    ) -> impl Future<Output = Result<()>> + Send;
    fn dismissed_suggestions(&self, user: &str)
        -> impl Future<Output = Result<Vec<String>>> + Send;
    /// The funnel's counts over `[from, to)`, platform-wide (as the connecting role).
    fn funnel_figures(
        &self,
        from: i64,
        to: i64,
    ) -> impl Future<Output = Result<FunnelFigures>> + Send;

    // The mail outbox's delivery side (system work, as the connecting role).
    /// Claims up to `limit` messages due at `now` that no lease holds, leased until
    /// `lease_until`; counts the attempt.
    fn claim_mail(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<Claimed>>> + Send;
    fn mail_sent(&self, id: &str, now: i64) -> impl Future<Output = Result<()>> + Send;
    fn mail_retry(
        &self,
        id: &str,
        error: &str,
        at: i64,
        now: i64,
    ) -> impl Future<Output = Result<()>> + Send;
    fn mail_dead(&self, id: &str, error: &str, now: i64)
        -> impl Future<Output = Result<()>> + Send;
    /// Messages in `state` (all for `None`), newest first.
    fn outbox(
        &self,
        state: Option<&str>,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<OutboxMessage>>> + Send;
    fn pending_mail(&self, limit: i64) -> impl Future<Output = Result<Vec<DevMessage>>> + Send;
    /// Deletes the messages done (sent, dead, cancelled) and last changed before `before`.
    fn purge_outbox(&self, before: i64) -> impl Future<Output = Result<u64>> + Send;
    fn outbox_counts(&self) -> impl Future<Output = Result<OutboxCounts>> + Send;
}

/// Lets a type stored as text be read straight from its column (`query_as!`'s
/// `col as "col: Type"`) on either engine, by its `TryFrom<String>`: an unknown spelling is a
/// decode error (a 500, logged), never a default.
macro_rules! decoded_from_text {
    ($($t:ty),*) => {$(
        impl<DB: sqlx::Database> sqlx::Type<DB> for $t
        where
            String: sqlx::Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <String as sqlx::Type<DB>>::type_info()
            }
            fn compatible(ty: &DB::TypeInfo) -> bool {
                <String as sqlx::Type<DB>>::compatible(ty)
            }
        }

        impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for $t
        where
            String: sqlx::Decode<'r, DB>,
        {
            fn decode(
                value: <DB as sqlx::Database>::ValueRef<'r>,
            ) -> std::result::Result<$t, sqlx::error::BoxDynError> {
                let text = <String as sqlx::Decode<'r, DB>>::decode(value)?;
                Ok(<$t>::try_from(text)?)
            }
        }
    )*};
}

decoded_from_text!(
    Role,
    domains::DomainMode,
    InvitationState,
    Delivery,
    SessionStatus,
    organizations::JsonList
);
