-- Back to 0002.
drop function onboarding_claim_invitation(text, text, bigint);
