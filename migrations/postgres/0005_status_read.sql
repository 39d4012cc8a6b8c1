-- The status read in one statement, so one round trip instead of three (BEGIN with the role and
-- the user id, the select, COMMIT). The function's `set role` clause runs its body as the
-- RLS-bound app role and restores the caller's role on exit; the user id is set `local` to the
-- statement's own transaction. Nothing is left on the connection either way.
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
