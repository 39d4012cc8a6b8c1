drop function onboarding_organizations_to_join(text);
