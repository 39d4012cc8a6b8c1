-- Group commit of step saves (issue 18, decision 97): the saves waiting in one server process
-- go to the database together as one statement, so one transaction and one commit (one WAL
-- flush) for all of them. Each element is one `onboarding_save_step` (0007), unchanged and in
-- the batch's order: its lock, its expiry and If-Match checks against the version the saves
-- before it left, its writes and its own outcome, returned with the element's `n`.
create function onboarding_save_steps(batch json)
returns table (n bigint, outcome text, version bigint, completed_steps text)
language plpgsql volatile set search_path = public as
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
