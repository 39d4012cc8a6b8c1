-- Back to the previous version: the functions as 0007, 0008, 0010, 0011 and 0013 left them.
drop function onboarding_accept_invitation(text, bigint);
drop function onboarding_invitation_by_token(text);

create function onboarding_save_step(
    for_user text, step_name text, step_data text, step_completed boolean, at bigint,
    ttl_ms bigint, expected text, saved_event text, completed_event text)
returns table (outcome text, version bigint, completed_steps text)
language plpgsql volatile set role = 'onboarding_app' set search_path = pg_catalog, public, pg_temp as
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

create function onboarding_save_steps(batch json)
returns table (n bigint, outcome text, version bigint, completed_steps text)
language plpgsql volatile set search_path = pg_catalog, public, pg_temp as
$$
declare
    x record;
begin
    for x in select * from json_to_recordset(batch) as t(n bigint, u text, s text, d text,
                 v boolean, a bigint, t bigint, e text, i text, c text) loop
        return query select x.n, r.outcome, r.version, r.completed_steps
            from onboarding_save_step(x.u, x.s, x.d, x.v, x.a, x.t, x.e, x.i, x.c) r;
    end loop;
end
$$;

create function onboarding_lock_open_session(for_user text)
returns table (id text, user_id text, status text, version bigint, draft text,
               completed_steps text, organization_id text, last_activity_at bigint,
               created_at bigint)
language plpgsql volatile set search_path = pg_catalog, public, pg_temp as
$$
begin
    perform 1 from onboarding_sessions s
        where s.user_id = for_user and s.status = 'in_progress' for update;
    return query select * from onboarding_latest_session(for_user);
end
$$;

create function onboarding_found_organization(org json, membership_id text, member text,
                                              member_role text)
returns boolean
language plpgsql volatile set search_path = pg_catalog, public, pg_temp as
$$
begin
    begin
        insert into organizations (id, slug, name, industry, size, employee_count, country,
                website, description, founded_year, okr_maturity, challenges, goals, timezone,
                okr_cycle, language, created_at, updated_at)
            select id, slug, name, industry, size, employee_count, country, website,
                description, founded_year, okr_maturity, challenges, goals, timezone, okr_cycle,
                language, created_at, updated_at
            from json_populate_record(null::organizations, org);
    exception when unique_violation then
        return false;
    end;
    insert into memberships (id, organization_id, user_id, role, created_at, updated_at)
        values (membership_id, org->>'id', member, member_role, (org->>'created_at')::bigint,
                (org->>'created_at')::bigint);
    return true;
end
$$;

create function onboarding_claim_invitation(hash text, invitee_email text, claimed_at bigint)
returns table (organization_id text, role text) language sql volatile security definer
set search_path = pg_catalog, public, pg_temp as
$$
    update invitations i set state = 'accepted', accepted_at = claimed_at,
        accepted_by = onboarding_user_id(), updated_at = claimed_at
    where i.token_hash = hash and i.state = 'pending' and i.expires_at > claimed_at
      and i.email = invitee_email
    returning i.organization_id, i.role
$$;

create function onboarding_invitation_by_token(hash text, invitee_email text, at bigint)
returns table (state text, email text) language sql stable security definer
set search_path = pg_catalog, public, pg_temp as
$$
    select case when i.state = 'pending' and i.expires_at <= at then 'expired' else i.state end,
           i.email
    from invitations i where i.token_hash = hash
$$;

revoke all on function onboarding_claim_invitation(text, text, bigint) from public;
grant execute on function onboarding_claim_invitation(text, text, bigint) to onboarding_app;
revoke all on function onboarding_invitation_by_token(text, text, bigint) from public;
grant execute on function onboarding_invitation_by_token(text, text, bigint) to onboarding_app;
