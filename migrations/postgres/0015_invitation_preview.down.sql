drop function onboarding_invitation_preview(text, bigint);
