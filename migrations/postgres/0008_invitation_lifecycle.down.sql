-- Back to 0007: the older schema has no invitation state. A revoked invitation stays unusable
-- there by expiring when it was revoked; an `expired` one is already past its expiry.
drop function onboarding_invitation_by_token(text, text, bigint);
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
drop policy owners_update on memberships;
drop policy owners_delete on memberships;
drop policy managers_insert on invitations;
create policy managers_insert on invitations for insert
    with check (onboarding_role_in(organization_id) in ('owner', 'admin'));
update invitations set expires_at = least(expires_at, revoked_at) where state = 'revoked';
drop index invitations_one_pending;
alter table invitations drop column state, drop column invited_by, drop column revoked_at;
