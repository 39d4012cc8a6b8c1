-- Back to 0001: no row-level security. The role onboarding_app is cluster-wide (other databases
-- may use it), so it stays; this database's grants to it go.
drop policy own_rows on onboarding_sessions;
drop policy own_rows on onboarding_events;
drop policy own_rows on profiles;
drop policy own_rows on idempotency_keys;
drop policy create_any on organizations;
drop policy members_read on organizations;
drop policy members_update on organizations;
drop policy members_read on memberships;
drop policy join_self on memberships;
drop policy members_only on objectives;
drop policy members_only on key_results;
drop policy members_only on invitations;
alter table onboarding_sessions disable row level security;
alter table onboarding_events disable row level security;
alter table organizations disable row level security;
alter table memberships disable row level security;
alter table profiles disable row level security;
alter table objectives disable row level security;
alter table key_results disable row level security;
alter table invitations disable row level security;
alter table idempotency_keys disable row level security;
drop function onboarding_is_member(text);
drop function onboarding_user_id();
revoke select, insert, update, delete on onboarding_sessions, onboarding_events, organizations,
    memberships, profiles, objectives, key_results, invitations, idempotency_keys from onboarding_app;
revoke usage on schema public from onboarding_app;
