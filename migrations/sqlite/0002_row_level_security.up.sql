-- SQLite has no row-level security: tenancy is enforced by the application (every query is
-- scoped to the authenticated user). This migration keeps the two histories in step.
select 1;
