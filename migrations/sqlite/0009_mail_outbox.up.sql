-- The mail outbox (issue 21): invitation e-mails are written here in the transaction that
-- creates or resends the invitation, and a delivery worker sends them. The body holds the only
-- copy of the raw token; it is cleared once the message is sent, dead or cancelled.
create table mail_outbox (
    id text primary key,
    organization_id text not null references organizations (id),
    invitation_id text references invitations (id),
    recipient text not null,
    subject text not null,
    body text,
    state text not null default 'pending' check (state in ('pending', 'sent', 'dead', 'cancelled')),
    attempts bigint not null default 0,
    next_attempt_at bigint not null,
    lease_until bigint,
    last_error text,
    created_at bigint not null,
    updated_at bigint not null,
    sent_at bigint
);
create index mail_outbox_due on mail_outbox (next_attempt_at) where state = 'pending';
create index mail_outbox_invitation on mail_outbox (invitation_id);
create index mail_outbox_state on mail_outbox (state, updated_at);
