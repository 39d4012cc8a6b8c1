-- An organization's rows found by its id: its objectives and key results (the organization's
-- read), its invitations (the list) and its e-mails of the last day (the daily cap), which each
-- read every tenant's rows before (the foreign keys' columns had no index of their own).
create index objectives_organization on objectives (organization_id, position);
create index key_results_organization on key_results (organization_id, objective_id, position);
create index invitations_organization on invitations (organization_id, created_at);
create index mail_outbox_organization on mail_outbox (organization_id, created_at);
