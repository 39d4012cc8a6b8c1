-- The draft one row per step (issue 18): a save writes only its step, and waits for the
-- session's row lock once instead of retrying a compare-and-swap. Existing drafts of open
-- sessions move into the new table with each step's JSON text unchanged (`json` keeps its
-- input text); the drafts of ended sessions were discarded already.
create table onboarding_steps (
    session_id text not null references onboarding_sessions (id),
    user_id text not null,
    step text not null,
    data text not null,
    completed bigint not null check (completed in (0, 1)),
    created_at bigint not null,
    updated_at bigint not null,
    primary key (session_id, step)
);

insert into onboarding_steps (session_id, user_id, step, data, completed, created_at, updated_at)
select s.id, s.user_id, d.key, d.value::text,
       case when s.completed_steps::jsonb ? d.key then 1 else 0 end,
       s.updated_at, s.updated_at
from onboarding_sessions s, json_each(s.draft::json) d
where s.status in ('in_progress', 'completed');

drop function onboarding_latest_session(text);
drop function onboarding_write_step(text, text, bigint, text, text, bigint, text, text, text);
alter table onboarding_sessions drop column draft, drop column completed_steps;

grant select, insert, update, delete on onboarding_steps to onboarding_app;
alter table onboarding_steps enable row level security;
alter table onboarding_steps force row level security;
create policy own_rows on onboarding_steps
    using (user_id = onboarding_user_id()) with check (user_id = onboarding_user_id());
do $$ begin
    execute format('create policy system_work on onboarding_steps to %I using (true) with check (true)', current_user);
end $$;

-- The status read: the user's most recent session with its draft (`{step: data, …}`, the
-- steps' stored JSON texts joined as they are, not parsed again here) and its completed steps,
-- in one statement, as the app role (see 0005 for the `set role` pattern).
create function onboarding_latest_session(for_user text)
returns table (id text, user_id text, status text, version bigint, draft text,
               completed_steps text, organization_id text, last_activity_at bigint,
               created_at bigint)
language plpgsql volatile set role = 'onboarding_app' set search_path = public as
$$
begin
    perform set_config('app.user_id', for_user, true);
    return query
        select s.id, s.user_id, s.status, s.version,
            '{' || coalesce(d.fields, '') || '}', '[' || coalesce(d.done, '') || ']',
            s.organization_id, s.last_activity_at, s.created_at
        from onboarding_sessions s
        left join lateral (
            select string_agg(to_json(x.step)::text || ':' || x.data, ',') as fields,
                   string_agg(to_json(x.step)::text, ',') filter (where x.completed = 1) as done
            from onboarding_steps x where x.session_id = s.id) d on true
        where s.user_id = for_user
        order by s.created_at desc, s.id desc limit 1;
end
$$;

-- A step save, in one statement: waits for the open session's row lock once, checks expiry
-- (`ttl_ms`) and `If-Match` (`expected`: null = none, '*' = any open session, else the
-- comma-separated versions that match), then bumps the version, writes the step's row and
-- the events. `outcome` is 'saved' (with the new version and the completed steps),
-- 'no_session', 'expired' or 'stale' (with the current version); only 'saved' writes.
create function onboarding_save_step(
    for_user text, step_name text, step_data text, step_completed boolean, at bigint,
    ttl_ms bigint, expected text, saved_event text, completed_event text)
returns table (outcome text, version bigint, completed_steps text)
language plpgsql volatile set role = 'onboarding_app' set search_path = public as
$$
declare
    s record;
begin
    perform set_config('app.user_id', for_user, true);
    select o.id, o.version, o.last_activity_at into s from onboarding_sessions o
    where o.user_id = for_user and o.status = 'in_progress' for update;
    if not found then
        return query select 'no_session'::text, null::bigint, null::text;
        return;
    end if;
    if at - s.last_activity_at > ttl_ms then
        return query select 'expired'::text, s.version, null::text;
        return;
    end if;
    if expected is not null and expected <> '*'
       and not (s.version = any (string_to_array(expected, ',')::bigint[])) then
        return query select 'stale'::text, s.version, null::text;
        return;
    end if;
    update onboarding_sessions o set version = s.version + 1, last_activity_at = at, updated_at = at
    where o.id = s.id;
    insert into onboarding_steps as d (session_id, user_id, step, data, completed, created_at, updated_at)
    values (s.id, for_user, step_name, step_data, case when step_completed then 1 else 0 end, at, at)
    on conflict (session_id, step) do update
        set data = excluded.data, completed = excluded.completed, updated_at = excluded.updated_at;
    insert into onboarding_events (id, session_id, user_id, kind, step, created_at, updated_at)
    values (saved_event, s.id, for_user, 'step_saved', step_name, at, at);
    if completed_event is not null then
        insert into onboarding_events (id, session_id, user_id, kind, step, created_at, updated_at)
        values (completed_event, s.id, for_user, 'step_completed', step_name, at, at);
    end if;
    return query select 'saved'::text, s.version + 1,
        (select '[' || coalesce(string_agg(to_json(d.step)::text, ','), '') || ']'
           from onboarding_steps d where d.session_id = s.id and d.completed = 1);
end
$$;
