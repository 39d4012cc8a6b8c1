-- Back to 0008: the outbox goes. Messages not yet sent are lost with it: resend their
-- invitations after upgrading again.
drop table mail_outbox;
