-- Nothing to undo on SQLite (kept in step with PostgreSQL's history).
select 1;
