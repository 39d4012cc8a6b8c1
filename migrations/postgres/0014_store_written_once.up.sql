-- The store written once (issue 33): what a step save, a completion and an invitation's
-- acceptance decide moved to Rust (`onboarding-store`), once for both engines; the functions
-- that held those rules go. Two small security-definer functions take the place of the claim:
-- the invitee is not a member yet, so row-level security hides the invitation from them; one
-- reads it by its token (locked), the other marks it accepted. The rules (pending, unexpired,
-- the invited address) are decided between the two, in Rust.
drop function onboarding_save_steps(json);
drop function onboarding_save_step(text, text, text, boolean, bigint, bigint, text, text, text);
drop function onboarding_lock_open_session(text);
drop function onboarding_found_organization(json, text, text, text);
drop function onboarding_claim_invitation(text, text, bigint);
drop function onboarding_invitation_by_token(text, text, bigint);

create function onboarding_invitation_by_token(hash text)
returns table (id text, organization_id text, role text, state text, email text, expires_at bigint)
language sql volatile security definer set search_path = pg_catalog, public, pg_temp as
$$
    select i.id, i.organization_id, i.role, i.state, i.email, i.expires_at
    from invitations i where i.token_hash = hash for update
$$;

create function onboarding_accept_invitation(invitation text, accepted bigint)
returns void language sql volatile security definer
set search_path = pg_catalog, public, pg_temp as
$$
    update invitations set state = 'accepted', accepted_at = accepted,
        accepted_by = onboarding_user_id(), updated_at = accepted
    where id = invitation and state = 'pending'
$$;

revoke all on function onboarding_invitation_by_token(text), onboarding_accept_invitation(text, bigint) from public;
grant execute on function onboarding_invitation_by_token(text), onboarding_accept_invitation(text, bigint) to onboarding_app;
