-- The user's choice on each suggestion (latest wins); dismissed ones are not offered again.
create table suggestion_feedback (
    user_id text not null,
    suggestion_id text not null,
    action text not null check (action in ('accepted', 'edited', 'dismissed')),
    created_at bigint not null,
    updated_at bigint not null,
    primary key (user_id, suggestion_id)
);
create index suggestion_feedback_updated on suggestion_feedback (updated_at);
create index onboarding_events_kind_time on onboarding_events (kind, created_at);

grant select, insert, update, delete on suggestion_feedback to onboarding_app;
alter table suggestion_feedback enable row level security;
create policy own_rows on suggestion_feedback using (user_id = onboarding_user_id()) with check (user_id = onboarding_user_id());
