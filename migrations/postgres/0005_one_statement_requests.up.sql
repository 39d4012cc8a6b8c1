-- The hot requests in one statement each, so one round trip instead of three or four (BEGIN
-- with the role and the user id, the statements, COMMIT). Each function's `set role` clause runs
-- its body as the RLS-bound app role and restores the caller's role on exit; the user id is set
-- `local` to the statement's own transaction. Nothing is left on the connection either way.

-- The status read: the user's most recent session.
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

-- A step save's write, compare-and-swap: the session is updated only if it is still open at the
-- version the server read, and then its events are recorded (`step_saved`, and `step_completed`
-- when `completed_event` is not null), atomically (one statement). Returns the events written:
-- 0 when the session moved on (nothing is written; the server reads it again).
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
