-- The invitation lifecycle (issue 21): a state (pending, accepted, revoked; `expired` is written
-- when a pending invitation past its expiry is replaced, and reported for any pending one past
-- it), the inviter, when it was revoked; at most one pending invitation per address per
-- organization; owners change roles and remove members (the application keeps one owner).
alter table invitations add column state text not null default 'pending'
    check (state in ('pending', 'accepted', 'revoked', 'expired'));
alter table invitations add column invited_by text;
alter table invitations add column revoked_at bigint;
update invitations set state = 'accepted' where accepted_at is not null;
update invitations i set invited_by = (
    select m.user_id from memberships m where m.organization_id = i.organization_id
    and m.role = 'owner' order by m.created_at limit 1);
create unique index invitations_one_pending on invitations (organization_id, email)
    where state = 'pending';

-- Owners and admins invite in their own name.
drop policy managers_insert on invitations;
create policy managers_insert on invitations for insert
    with check (onboarding_role_in(organization_id) in ('owner', 'admin')
                and invited_by = onboarding_user_id());

-- Owners change members' roles and remove members.
create policy owners_update on memberships for update
    using (onboarding_role_in(organization_id) = 'owner')
    with check (onboarding_role_in(organization_id) = 'owner');
create policy owners_delete on memberships for delete
    using (onboarding_role_in(organization_id) = 'owner');

-- The claim takes only a pending, unexpired invitation for the address.
create or replace function onboarding_claim_invitation(hash text, invitee_email text, claimed_at bigint)
returns table (organization_id text, role text) language sql volatile security definer
set search_path = public as
$$
    update invitations i set state = 'accepted', accepted_at = claimed_at,
        accepted_by = onboarding_user_id(), updated_at = claimed_at
    where i.token_hash = hash and i.state = 'pending' and i.expires_at > claimed_at
      and lower(i.email) = lower(invitee_email)
    returning i.organization_id, i.role
$$;

-- Why a token was not claimed (the invitee is not a member, so row-level security hides the row):
-- its state as of `at` and its address, for the holder of the token. No row: the token is unknown.
create function onboarding_invitation_by_token(hash text, invitee_email text, at bigint)
returns table (state text, email text) language sql stable security definer
set search_path = public as
$$
    select case when i.state = 'pending' and i.expires_at <= at then 'expired' else i.state end,
           i.email
    from invitations i where i.token_hash = hash
$$;
revoke all on function onboarding_invitation_by_token(text, text, bigint) from public;
grant execute on function onboarding_invitation_by_token(text, text, bigint) to onboarding_app;
