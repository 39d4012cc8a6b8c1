-- Back to the previous version.
drop policy senders_read on mail_outbox;
drop index mail_outbox_sender;
alter table mail_outbox drop column sent_by;
revoke select on mail_outbox from onboarding_app;
grant select on mail_outbox to onboarding_app;

create or replace function onboarding_claim_invitation(hash text, invitee_email text, claimed_at bigint)
returns table (organization_id text, role text) language sql volatile security definer
set search_path = public as
$$
    update invitations i set state = 'accepted', accepted_at = claimed_at,
        accepted_by = onboarding_user_id(), updated_at = claimed_at
    where i.token_hash = hash and i.state = 'pending' and i.expires_at > claimed_at
      and lower(i.email) = lower(invitee_email)
    returning i.organization_id, i.role
$$;

do $$
declare f regprocedure;
begin
    for f in select p.oid::regprocedure from pg_proc p
             where p.pronamespace = 'public'::regnamespace
               and exists (select 1 from unnest(p.proconfig) c
                           where c = 'search_path=pg_catalog, public, pg_temp')
    loop
        execute format('alter function %s set search_path = public', f);
    end loop;
end
$$;
