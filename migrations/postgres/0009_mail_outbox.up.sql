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

-- The delivery worker runs as the owner (system work); owners and admins write their
-- organization's messages in request transactions and see their delivery state.
alter table mail_outbox enable row level security;
alter table mail_outbox force row level security;
do $$
begin
    execute format('create policy system_work on mail_outbox to %I using (true) with check (true)',
        current_user);
end
$$;
grant select, insert, update on mail_outbox to onboarding_app;
create policy managers_read on mail_outbox for select
    using (onboarding_role_in(organization_id) in ('owner', 'admin'));
create policy managers_insert on mail_outbox for insert
    with check (onboarding_role_in(organization_id) in ('owner', 'admin'));
create policy managers_update on mail_outbox for update
    using (onboarding_role_in(organization_id) in ('owner', 'admin'))
    with check (onboarding_role_in(organization_id) in ('owner', 'admin'));
