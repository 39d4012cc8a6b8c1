-- The newcomer's offer (issue 36): organizations with a verified domain (not `manual`) equal to
-- the newcomer's verified address's domain, that the newcomer is not a member of, with their
-- name, mode and member count only. Row-level security hides these rows from a non-member: a
-- definer function reads them, for the signed-in user (`onboarding_user_id()`).
create function onboarding_organizations_to_join(d text)
returns table (id text, name text, mode text, members bigint)
language sql stable security definer set search_path = pg_catalog, public, pg_temp as
$$
    select o.id, o.name, od.mode,
           (select count(*) from memberships m where m.organization_id = o.id)
    from organization_domains od
    join organizations o on o.id = od.organization_id
    where od.domain = d and od.mode <> 'manual'
      and (od.affiliation_verified_at is not null or od.ownership_verified_at is not null)
      and not exists (select 1 from memberships m where m.organization_id = o.id
                      and m.user_id = onboarding_user_id())
    order by o.name, o.id
$$;
revoke all on function onboarding_organizations_to_join(text) from public;
grant execute on function onboarding_organizations_to_join(text) to onboarding_app;
