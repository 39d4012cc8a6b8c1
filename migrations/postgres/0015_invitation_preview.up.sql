-- What the invitation's landing page shows before sign-in (issue 35): the organization's name,
-- who invited, and the invitation's state as of `at`, for the holder of the token. Row-level
-- security hides these rows from a visitor (not signed in, not a member): a definer function
-- reads them, by the token's hash only.
create function onboarding_invitation_preview(hash text, at bigint)
returns table (organization text, inviter text, state text, expires_at bigint)
language sql stable security definer set search_path = pg_catalog, public, pg_temp as
$$
    select o.name, p.full_name,
           case when i.state = 'pending' and i.expires_at <= at then 'expired' else i.state end,
           i.expires_at
    from invitations i
    join organizations o on o.id = i.organization_id
    left join profiles p on p.user_id = i.invited_by
    where i.token_hash = hash
$$;

revoke all on function onboarding_invitation_preview(text, bigint) from public;
grant execute on function onboarding_invitation_preview(text, bigint) to onboarding_app;
