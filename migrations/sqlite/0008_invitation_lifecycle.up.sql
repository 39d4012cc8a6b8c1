-- The invitation lifecycle (issue 21): a state (pending, accepted, revoked; `expired` is written
-- when a pending invitation past its expiry is replaced, and reported for any pending one past
-- it), the inviter, when it was revoked; at most one pending invitation per address per
-- organization. (PostgreSQL also adds the row-level security policies for these changes.)
alter table invitations add column state text not null default 'pending'
    check (state in ('pending', 'accepted', 'revoked', 'expired'));
alter table invitations add column invited_by text;
alter table invitations add column revoked_at bigint;
update invitations set state = 'accepted' where accepted_at is not null;
update invitations set invited_by = (
    select m.user_id from memberships m where m.organization_id = invitations.organization_id
    and m.role = 'owner' order by m.created_at limit 1);
create unique index invitations_one_pending on invitations (organization_id, email)
    where state = 'pending';
