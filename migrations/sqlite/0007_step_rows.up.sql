-- The draft one row per step (issue 18): a save writes only its step. Existing drafts of open
-- (and completed) sessions move into the new table, each step's JSON as SQLite's `json_each`
-- gives it (minified, as serde_json wrote it).
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
select s.id, s.user_id, d.key,
       case d.type when 'object' then d.value when 'array' then d.value when 'true' then 'true'
           when 'false' then 'false' when 'null' then 'null' else json_quote(d.value) end,
       exists (select 1 from json_each(s.completed_steps) c where c.value = d.key),
       s.updated_at, s.updated_at
from onboarding_sessions s, json_each(s.draft) d
where s.status in ('in_progress', 'completed');

alter table onboarding_sessions drop column draft;
alter table onboarding_sessions drop column completed_steps;
