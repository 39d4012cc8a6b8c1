-- The completion in fewer round trips (issue 18 (c), decision 99): the lock and the read of the
-- open session in one statement, and the new organization with its owner in another.

-- The user's open session, locked, with its draft: waits for the session row's lock, then reads
-- the latest session with a snapshot taken after the wait (a function's statements each take
-- their own, in read committed), so the draft holds whatever the save that held the lock
-- wrote. (In one plain statement the subqueries would keep the statement's older snapshot of
-- the step rows.) As the caller: the request's role and user.
create function onboarding_lock_open_session(for_user text)
returns table (id text, user_id text, status text, version bigint, draft text,
               completed_steps text, organization_id text, last_activity_at bigint,
               created_at bigint)
language plpgsql volatile set search_path = public as
$$
begin
    perform 1 from onboarding_sessions s
        where s.user_id = for_user and s.status = 'in_progress' for update;
    return query select * from onboarding_latest_session(for_user);
end
$$;

-- A new organization (`org`: its columns as a JSON object) and its creator's membership, or
-- false and nothing written when its slug is taken. The insert runs in a subtransaction (the
-- exception block), so a taken slug rolls back only the attempt — what the savepoint the
-- server sent around it did, in one round trip instead of four. As the caller: row-level
-- security checks both rows as before.
create function onboarding_found_organization(org json, membership_id text, member text,
                                              member_role text)
returns boolean
language plpgsql volatile set search_path = public as
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
