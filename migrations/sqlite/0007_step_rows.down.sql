-- Back to 0006: the draft as one JSON text per session again, assembled from the step rows
-- (each step's stored text as it is).
alter table onboarding_sessions add column draft text not null default '{}';
alter table onboarding_sessions add column completed_steps text not null default '[]';
update onboarding_sessions set
    draft = '{' || coalesce((select group_concat(json_quote(x.step) || ':' || x.data, ',')
                             from (select step, data from onboarding_steps
                                   where session_id = onboarding_sessions.id order by step) x), '') || '}',
    completed_steps = '[' || coalesce((select group_concat(json_quote(x.step), ',')
                                       from (select step from onboarding_steps
                                             where session_id = onboarding_sessions.id and completed = 1
                                             order by step) x), '') || ']';
drop table onboarding_steps;
