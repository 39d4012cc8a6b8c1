-- Row-level security: requests run under the role onboarding_app (set per transaction with
-- `set local role`), which owns nothing and cannot bypass RLS; the user id comes from
-- `set_config('app.user_id', …, true)`, also per transaction. The connecting role (the one in
-- DATABASE_URL) owns the tables and runs the migrations; it needs CREATEROLE once.
do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'onboarding_app') then
        create role onboarding_app nologin noinherit nobypassrls;
    end if;
end
$$;
grant onboarding_app to current_user;
grant usage on schema public to onboarding_app;
grant select, insert, update, delete on onboarding_sessions, onboarding_events, organizations, memberships,
    profiles, objectives, key_results, invitations, idempotency_keys to onboarding_app;

create function onboarding_user_id() returns text language sql stable as
$$ select nullif(current_setting('app.user_id', true), '') $$;

-- Membership check that does not recurse into the memberships policy (runs as the table owner).
create function onboarding_is_member(org text) returns boolean language sql stable security definer
set search_path = public as
$$ select exists (select 1 from memberships m where m.organization_id = org and m.user_id = onboarding_user_id()) $$;
revoke all on function onboarding_is_member(text) from public;
grant execute on function onboarding_user_id(), onboarding_is_member(text) to onboarding_app;

alter table onboarding_sessions enable row level security;
alter table onboarding_events enable row level security;
alter table organizations enable row level security;
alter table memberships enable row level security;
alter table profiles enable row level security;
alter table objectives enable row level security;
alter table key_results enable row level security;
alter table invitations enable row level security;
alter table idempotency_keys enable row level security;

create policy own_rows on onboarding_sessions using (user_id = onboarding_user_id()) with check (user_id = onboarding_user_id());
create policy own_rows on onboarding_events using (user_id = onboarding_user_id()) with check (user_id = onboarding_user_id());
create policy own_rows on profiles using (user_id = onboarding_user_id()) with check (user_id = onboarding_user_id());
create policy own_rows on idempotency_keys using (user_id = onboarding_user_id()) with check (user_id = onboarding_user_id());

-- Anyone signed in may create an organization; only members see or change it; nobody deletes.
create policy create_any on organizations for insert with check (onboarding_user_id() is not null);
create policy members_read on organizations for select using (onboarding_is_member(id));
create policy members_update on organizations for update using (onboarding_is_member(id)) with check (onboarding_is_member(id));

-- Members see the memberships of their organizations; a user may add only themself.
create policy members_read on memberships for select using (onboarding_is_member(organization_id));
create policy join_self on memberships for insert with check (user_id = onboarding_user_id());

create policy members_only on objectives using (onboarding_is_member(organization_id)) with check (onboarding_is_member(organization_id));
create policy members_only on key_results using (onboarding_is_member(organization_id)) with check (onboarding_is_member(organization_id));
create policy members_only on invitations using (onboarding_is_member(organization_id)) with check (onboarding_is_member(organization_id));
