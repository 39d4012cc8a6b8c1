drop function onboarding_domain_verified_elsewhere(text, text);
drop table organization_domains;
