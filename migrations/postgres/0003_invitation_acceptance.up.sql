-- Accepting an invitation: the invitee is not yet a member, so row-level security hides the
-- invitation from them. This function (running as the table owner) claims it by token hash,
-- for the invited address only, once, before it expires, and returns its organization and role.
create function onboarding_claim_invitation(hash text, invitee_email text, claimed_at bigint)
returns table (organization_id text, role text) language sql volatile security definer
set search_path = public as
$$
    update invitations i set accepted_at = claimed_at, updated_at = claimed_at
    where i.token_hash = hash and i.accepted_at is null and i.expires_at > claimed_at
      and lower(i.email) = lower(invitee_email)
    returning i.organization_id, i.role
$$;
revoke all on function onboarding_claim_invitation(text, text, bigint) from public;
grant execute on function onboarding_claim_invitation(text, text, bigint) to onboarding_app;
