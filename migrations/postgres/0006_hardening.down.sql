-- Back to 0005: row-level security no longer forced, the wider policies of 0002, the claim of
-- 0003; the columns and indexes 0006 added go (who accepted an invitation, the keys' session).
drop function onboarding_highest_slug_suffix(text);
create or replace function onboarding_claim_invitation(hash text, invitee_email text, claimed_at bigint)
returns table (organization_id text, role text) language sql volatile security definer
set search_path = public as
$$
    update invitations i set accepted_at = claimed_at, updated_at = claimed_at
    where i.token_hash = hash and i.accepted_at is null and i.expires_at > claimed_at
      and lower(i.email) = lower(invitee_email)
    returning i.organization_id, i.role
$$;
drop policy members_read on invitations;
drop policy managers_insert on invitations;
drop policy managers_update on invitations;
create policy members_only on invitations using (onboarding_is_member(organization_id)) with check (onboarding_is_member(organization_id));
drop policy join_as_owner_or_invitee on memberships;
create policy join_self on memberships for insert with check (user_id = onboarding_user_id());
drop function onboarding_role_in(text);
drop function onboarding_org_has_members(text);
drop function onboarding_invited_as(text, text);
do $$
declare t text;
begin
    foreach t in array array['onboarding_sessions', 'onboarding_events', 'organizations',
        'memberships', 'profiles', 'objectives', 'key_results', 'invitations',
        'idempotency_keys', 'suggestion_feedback']
    loop
        execute format('drop policy system_work on %I', t);
        execute format('alter table %I no force row level security', t);
    end loop;
end
$$;
drop index organizations_slug_pattern;
drop index idempotency_keys_created;
alter table idempotency_keys drop column session_id;
alter table invitations drop column accepted_by;
