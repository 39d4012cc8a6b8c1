-- Back to 0003.
drop index onboarding_events_kind_time;
drop table suggestion_feedback;
