-- Back to an empty database.
drop table idempotency_keys;
drop table invitations;
drop table key_results;
drop table objectives;
drop table profiles;
drop table memberships;
drop table organizations;
drop table onboarding_events;
drop table onboarding_sessions;
