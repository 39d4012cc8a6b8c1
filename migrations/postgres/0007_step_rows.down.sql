-- Back to 0006: the draft as one JSON text per session again, assembled from the step rows
-- (each step's stored text as it is), and the functions of 0005.
alter table onboarding_sessions add column draft text not null default '{}',
    add column completed_steps text not null default '[]';
update onboarding_sessions s set
    draft = '{' || coalesce(d.fields, '') || '}',
    completed_steps = '[' || coalesce(d.done, '') || ']'
from (select x.session_id,
             string_agg(to_json(x.step)::text || ':' || x.data, ',' order by x.step) as fields,
             string_agg(to_json(x.step)::text, ',' order by x.step) filter (where x.completed = 1) as done
      from onboarding_steps x group by x.session_id) d
where d.session_id = s.id;
alter table onboarding_sessions alter column draft drop default,
    alter column completed_steps drop default;
drop function onboarding_save_step(text, text, text, boolean, bigint, bigint, text, text, text);
drop function onboarding_latest_session(text);
drop table onboarding_steps;

create function onboarding_latest_session(for_user text)
returns setof onboarding_sessions language plpgsql volatile
set role = 'onboarding_app' set search_path = public as
$$
begin
    perform set_config('app.user_id', for_user, true);
    return query
        select * from onboarding_sessions s where s.user_id = for_user
        order by s.created_at desc, s.id desc limit 1;
end
$$;

create function onboarding_write_step(
    for_user text, session text, read_version bigint, new_draft text, new_completed text,
    at bigint, step_name text, saved_event text, completed_event text)
returns bigint language plpgsql volatile
set role = 'onboarding_app' set search_path = public as
$$
begin
    perform set_config('app.user_id', for_user, true);
    update onboarding_sessions set draft = new_draft, completed_steps = new_completed,
        version = version + 1, last_activity_at = at, updated_at = at
    where id = session and user_id = for_user and version = read_version and status = 'in_progress';
    if not found then
        return 0;
    end if;
    insert into onboarding_events (id, session_id, user_id, kind, step, created_at, updated_at)
    values (saved_event, session, for_user, 'step_saved', step_name, at, at);
    if completed_event is null then
        return 1;
    end if;
    insert into onboarding_events (id, session_id, user_id, kind, step, created_at, updated_at)
    values (completed_event, session, for_user, 'step_completed', step_name, at, at);
    return 2;
end
$$;
