-- Back to 0009: saves go one statement each again (0007's `onboarding_save_step`, kept).
drop function onboarding_save_steps(json);
