-- PostgreSQL adds a function for accepting invitations under row-level security; SQLite needs
-- nothing (the application claims the invitation itself). Keeps the two histories in step.
select 1;
