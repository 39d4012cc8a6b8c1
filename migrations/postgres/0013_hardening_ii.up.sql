-- Hardening II (issue 32).
--
-- Every function that pins its search_path puts pg_catalog first and pg_temp last: with
-- `search_path = public` alone, pg_temp came first, and a temporary table the app role created
-- (say `memberships`) shadowed the real one inside SECURITY DEFINER functions.
do $$
declare f regprocedure;
begin
    for f in select p.oid::regprocedure from pg_proc p
             where p.pronamespace = 'public'::regnamespace
               and exists (select 1 from unnest(p.proconfig) c where c like 'search_path=%')
    loop
        execute format('alter function %s set search_path = pg_catalog, public, pg_temp', f);
    end loop;
end
$$;

-- An invitation is claimed by the address it was sent to, compared as the rules normalize it
-- (the application passes the token's address normalized; the stored one already is): no
-- Unicode `lower()`, which folded `İvan@…` into `ivan@…`.
create or replace function onboarding_claim_invitation(hash text, invitee_email text, claimed_at bigint)
returns table (organization_id text, role text) language sql volatile security definer
set search_path = pg_catalog, public, pg_temp as
$$
    update invitations i set state = 'accepted', accepted_at = claimed_at,
        accepted_by = onboarding_user_id(), updated_at = claimed_at
    where i.token_hash = hash and i.state = 'pending' and i.expires_at > claimed_at
      and i.email = invitee_email
    returning i.organization_id, i.role
$$;

-- Only the delivery worker (the owner, system work) reads bodies, which carry raw tokens: the
-- request role may read every column but the body (owners and admins see delivery state).
revoke select on mail_outbox from onboarding_app;
grant select (id, organization_id, invitation_id, recipient, subject, state, attempts,
    next_attempt_at, lease_until, last_error, created_at, updated_at, sent_at)
    on mail_outbox to onboarding_app;

-- Who sent each e-mail, for the per-user cap on invitation e-mails (across every organization
-- the user founds); a user sees the rows they sent (their state, never a body).
alter table mail_outbox add column sent_by text;
grant select (sent_by) on mail_outbox to onboarding_app;
create index mail_outbox_sender on mail_outbox (sent_by, created_at);
create policy senders_read on mail_outbox for select using (sent_by = onboarding_user_id());
