-- Onboarding sessions, their events, and the records a completed onboarding creates.
create table onboarding_sessions (
    id text primary key,
    user_id text not null,
    status text not null check (status in ('in_progress', 'completed', 'abandoned', 'expired')),
    version bigint not null,
    draft text not null,
    completed_steps text not null,
    organization_id text,
    last_activity_at bigint not null,
    created_at bigint not null,
    updated_at bigint not null
);
create unique index onboarding_sessions_one_open on onboarding_sessions (user_id) where status = 'in_progress';
create index onboarding_sessions_user on onboarding_sessions (user_id, created_at);

create table onboarding_events (
    id text primary key,
    session_id text not null references onboarding_sessions (id),
    user_id text not null,
    kind text not null,
    step text,
    created_at bigint not null,
    updated_at bigint not null
);
create index onboarding_events_session on onboarding_events (session_id);

create table organizations (
    id text primary key,
    slug text not null unique,
    name text not null,
    industry text not null,
    size text not null,
    employee_count bigint,
    country text not null,
    website text,
    description text not null,
    founded_year bigint,
    okr_maturity text not null,
    challenges text not null,
    goals text not null,
    timezone text not null,
    okr_cycle text not null,
    language text not null,
    created_at bigint not null,
    updated_at bigint not null
);

create table memberships (
    id text primary key,
    organization_id text not null references organizations (id),
    user_id text not null,
    role text not null,
    created_at bigint not null,
    updated_at bigint not null,
    unique (organization_id, user_id)
);

create table profiles (
    user_id text primary key,
    full_name text not null,
    job_title text not null,
    department text,
    team_size bigint,
    experience_with_okr text not null,
    primary_goal text not null,
    urgency_level text not null,
    preferences text not null,
    setup_demo text,
    additional_notes text,
    created_at bigint not null,
    updated_at bigint not null
);

create table objectives (
    id text primary key,
    organization_id text not null references organizations (id),
    position bigint not null,
    title text not null,
    description text,
    created_at bigint not null,
    updated_at bigint not null
);

create table key_results (
    id text primary key,
    objective_id text not null references objectives (id),
    organization_id text not null references organizations (id),
    position bigint not null,
    title text not null,
    metric_type text not null,
    baseline double precision not null,
    target double precision not null,
    unit text,
    created_at bigint not null,
    updated_at bigint not null
);

create table invitations (
    id text primary key,
    organization_id text not null references organizations (id),
    email text not null,
    role text not null,
    token_hash text not null unique,
    expires_at bigint not null,
    accepted_at bigint,
    created_at bigint not null,
    updated_at bigint not null
);

create table idempotency_keys (
    user_id text not null,
    key text not null,
    status bigint not null,
    body text not null,
    created_at bigint not null,
    updated_at bigint not null,
    primary key (user_id, key)
);
