-- Hardening II (issue 32): who sent each e-mail, for the per-user cap on invitation e-mails.
alter table mail_outbox add column sent_by text;
create index mail_outbox_sender on mail_outbox (sent_by, created_at);
