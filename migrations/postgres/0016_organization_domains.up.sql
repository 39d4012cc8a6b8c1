-- Verified domains (issue 36): the e-mail domains an organization claims. A claim is verified
-- by affiliation (the adder's verified address is at the domain) or, later, by ownership (a DNS
-- TXT record with `ownership_token`); a domain verified by one organization cannot be verified
-- by another (the partial unique index).
create table organization_domains (
    id text primary key,
    organization_id text not null references organizations (id),
    domain text not null,
    mode text not null,
    ownership_token text not null,
    affiliation_verified_at bigint,
    affiliation_verified_by text,
    ownership_verified_at bigint,
    created_by text not null,
    created_at bigint not null,
    updated_at bigint not null,
    unique (organization_id, domain)
);
create unique index organization_domains_verified on organization_domains (domain)
    where affiliation_verified_at is not null or ownership_verified_at is not null;

grant select, insert, update, delete on organization_domains to onboarding_app;
alter table organization_domains enable row level security;
alter table organization_domains force row level security;
-- Members read their organization's domains; owners and admins add, change and remove them.
create policy members_read on organization_domains for select
    using (onboarding_is_member(organization_id));
create policy managers_write on organization_domains for all
    using (onboarding_role_in(organization_id) in ('owner', 'admin'))
    with check (onboarding_role_in(organization_id) in ('owner', 'admin'));

-- Whether another organization verified `d` (row-level security hides its rows).
create function onboarding_domain_verified_elsewhere(d text, org text) returns boolean
language sql stable security definer set search_path = pg_catalog, public, pg_temp as
$$
    select exists (select 1 from organization_domains o where o.domain = d and o.organization_id <> org
                   and (o.affiliation_verified_at is not null or o.ownership_verified_at is not null))
$$;
revoke all on function onboarding_domain_verified_elsewhere(text, text) from public;
grant execute on function onboarding_domain_verified_elsewhere(text, text) to onboarding_app;
