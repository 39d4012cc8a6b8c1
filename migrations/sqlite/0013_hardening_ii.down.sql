-- Back to the previous version.
drop index mail_outbox_sender;
alter table mail_outbox drop column sent_by;
