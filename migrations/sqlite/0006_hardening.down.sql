-- Back to 0004: who accepted an invitation and the idempotency keys' session go.
drop index idempotency_keys_created;
alter table idempotency_keys drop column session_id;
alter table invitations drop column accepted_by;
