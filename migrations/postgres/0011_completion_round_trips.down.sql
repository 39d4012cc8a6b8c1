-- Back to 0010: the server locks, reads and inserts the organization statement by statement.
drop function onboarding_found_organization(json, text, text, text);
drop function onboarding_lock_open_session(text);
