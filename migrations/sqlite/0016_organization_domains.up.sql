-- Verified domains (issue 36); see the PostgreSQL migration of the same number.
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
