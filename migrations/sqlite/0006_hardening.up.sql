-- Hardening (issue 17): who accepted an invitation, and idempotency keys tied to their session
-- (and purged by age).
alter table invitations add column accepted_by text;
alter table idempotency_keys add column session_id text;
create index idempotency_keys_created on idempotency_keys (created_at);
