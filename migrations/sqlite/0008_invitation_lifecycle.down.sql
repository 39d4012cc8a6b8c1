-- Back to 0007: the older schema has no invitation state. A revoked invitation stays unusable
-- there by expiring when it was revoked; an `expired` one is already past its expiry.
update invitations set expires_at = min(expires_at, revoked_at) where state = 'revoked';
drop index invitations_one_pending;
alter table invitations drop column state;
alter table invitations drop column invited_by;
alter table invitations drop column revoked_at;
