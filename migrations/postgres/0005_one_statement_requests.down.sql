-- Back to 0004: the one-statement functions go.
drop function onboarding_write_step(text, text, bigint, text, text, bigint, text, text, text);
drop function onboarding_latest_session(text);
