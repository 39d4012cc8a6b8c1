-- Back to the previous version: the indexes go (nothing else changes).
drop index mail_outbox_organization;
drop index invitations_organization;
drop index key_results_organization;
drop index objectives_organization;
