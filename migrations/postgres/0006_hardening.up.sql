-- Hardening (issue 17): row-level security forced on every tenant table, memberships and
-- invitation changes narrowed to what the application does, the slug lookup, who accepted an
-- invitation, and idempotency keys tied to their session.
alter table invitations add column accepted_by text;
alter table idempotency_keys add column session_id text;
create index idempotency_keys_created on idempotency_keys (created_at);
-- Byte-wise range reads of slugs (`~>=~`, `~<~`), whatever the database's collation.
create index organizations_slug_pattern on organizations (slug text_pattern_ops);

-- FORCE: the tables' owner (the role in DATABASE_URL, which runs the migrations and the system
-- work: expiry, the purge, analytics, and the security-definer functions) is bound by the
-- policies too; its access is this explicit policy, not an implicit exemption. Request
-- transactions run as onboarding_app, to which it does not apply.
do $$
declare t text;
begin
    foreach t in array array['onboarding_sessions', 'onboarding_events', 'organizations',
        'memberships', 'profiles', 'objectives', 'key_results', 'invitations',
        'idempotency_keys', 'suggestion_feedback']
    loop
        execute format('alter table %I force row level security', t);
        execute format('create policy system_work on %I to %I using (true) with check (true)',
            t, current_user);
    end loop;
end
$$;

create function onboarding_role_in(org text) returns text language sql stable security definer
set search_path = public as
$$ select m.role from memberships m where m.organization_id = org and m.user_id = onboarding_user_id() $$;

create function onboarding_org_has_members(org text) returns boolean language sql stable
security definer set search_path = public as
$$ select exists (select 1 from memberships m where m.organization_id = org) $$;

create function onboarding_invited_as(org text, invited_role text) returns boolean language sql
stable security definer set search_path = public as
$$ select exists (select 1 from invitations i where i.organization_id = org and i.role = invited_role
                  and i.accepted_by = onboarding_user_id()) $$;

revoke all on function onboarding_role_in(text), onboarding_org_has_members(text),
    onboarding_invited_as(text, text) from public;
grant execute on function onboarding_role_in(text), onboarding_org_has_members(text),
    onboarding_invited_as(text, text) to onboarding_app;

-- A user joins an organization only as the owner of a new one (the completion, before anyone
-- else is a member) or in the role of an invitation they accepted; not anywhere, as anything.
drop policy join_self on memberships;
create policy join_as_owner_or_invitee on memberships for insert with check (
    user_id = onboarding_user_id() and (
        (role = 'owner' and not onboarding_org_has_members(organization_id))
        or onboarding_invited_as(organization_id, role)));

-- Members read invitations; only owners and admins create or change them (a plain member could
-- otherwise rotate a token and cancel the one the owner sent).
drop policy members_only on invitations;
create policy members_read on invitations for select using (onboarding_is_member(organization_id));
create policy managers_insert on invitations for insert
    with check (onboarding_role_in(organization_id) in ('owner', 'admin'));
create policy managers_update on invitations for update
    using (onboarding_role_in(organization_id) in ('owner', 'admin'))
    with check (onboarding_role_in(organization_id) in ('owner', 'admin'));

-- The claim now records who accepted (the membership policy above reads it).
create or replace function onboarding_claim_invitation(hash text, invitee_email text, claimed_at bigint)
returns table (organization_id text, role text) language sql volatile security definer
set search_path = public as
$$
    update invitations i set accepted_at = claimed_at, accepted_by = onboarding_user_id(),
        updated_at = claimed_at
    where i.token_hash = hash and i.accepted_at is null and i.expires_at > claimed_at
      and lower(i.email) = lower(invitee_email)
    returning i.organization_id, i.role
$$;

-- The highest n of the taken slugs `base-n` (1 when none): row-level security hides other
-- tenants' organizations from the request role, so this runs as the owner and returns a number.
create function onboarding_highest_slug_suffix(base text) returns bigint language sql stable
security definer set search_path = public as
$$
    select coalesce(max(substr(slug, length(base) + 2)::bigint), 1) from organizations
    where slug ~>=~ (base || '-') and slug ~<~ (base || '.')
      and substr(slug, length(base) + 2) ~ '^[1-9][0-9]{0,8}$'
$$;
revoke all on function onboarding_highest_slug_suffix(text) from public;
grant execute on function onboarding_highest_slug_suffix(text) to onboarding_app;
