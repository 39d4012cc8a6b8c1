//! Several multi-row inserts sent as one: on PostgreSQL one statement of data-modifying CTEs
//! (one round trip), on SQLite one statement list (one hop to the connection's thread). Used
//! inside a transaction, so it commits or rolls back with it. The SQL text and its arguments
//! are built in one pass, `$n` by `$n`, so they cannot drift apart.

use super::Engine;
use sqlx::any::AnyArguments;
use sqlx::{Any, Arguments, Encode, Type};

pub struct Batch<'q> {
    engine: Engine,
    sql: String,
    args: AnyArguments<'q>,
    params: usize,
    statements: usize,
    /// Inside a row's parentheses, and whether an argument has been written in it.
    row: Option<bool>,
    error: Option<sqlx::Error>,
}

impl<'q> Batch<'q> {
    pub fn new(engine: Engine) -> Batch<'q> {
        Batch {
            engine,
            sql: String::with_capacity(1024),
            args: AnyArguments::default(),
            params: 0,
            statements: 0,
            row: None,
            error: None,
        }
    }

    /// Starts an insert: `head` is `insert into t (columns) values`.
    pub fn insert(&mut self, head: &str) -> &mut Self {
        match (self.engine, self.statements) {
            (Engine::Postgres, 0) => self.sql.push_str("with s0 as ("),
            (Engine::Postgres, n) => {
                self.sql.push_str(", s");
                self.sql.push_str(&n.to_string());
                self.sql.push_str(" as (");
            }
            (Engine::Sqlite, 0) => {}
            (Engine::Sqlite, _) => self.sql.push_str("; "),
        }
        self.sql.push_str(head);
        self.sql.push(' ');
        self
    }

    /// A whole statement (e.g. an update), its arguments already [`Batch::param`]s.
    pub fn statement(&mut self, sql: &str) -> &mut Self {
        self.insert(sql).end("")
    }

    /// Starts the next row of values.
    pub fn row(&mut self) -> &mut Self {
        self.sql
            .push_str(if self.row.is_some() { "), (" } else { "(" });
        self.row = Some(false);
        self
    }

    /// The next value of the row, as an argument.
    pub fn arg<T: 'q + Encode<'q, Any> + Type<Any>>(&mut self, value: T) -> &mut Self {
        let placeholder = self.param(value);
        self.value(&placeholder)
    }

    /// An argument to use in several places: its `$n`, for [`Batch::value`].
    pub fn param<T: 'q + Encode<'q, Any> + Type<Any>>(&mut self, value: T) -> String {
        self.params += 1;
        if let Err(e) = self.args.add(value) {
            self.error.get_or_insert(sqlx::Error::Encode(e));
        }
        format!("${}", self.params)
    }

    /// The next value of the row, as SQL (a constant, or a [`Batch::param`]).
    pub fn value(&mut self, sql: &str) -> &mut Self {
        if self.row == Some(true) {
            self.sql.push_str(", ");
        }
        self.sql.push_str(sql);
        self.row = Some(true);
        self
    }

    /// Ends the insert, after its rows and `tail` (e.g. an `on conflict` clause).
    pub fn end(&mut self, tail: &str) -> &mut Self {
        if self.row.take().is_some() {
            self.sql.push(')');
        }
        self.sql.push_str(tail);
        if self.engine == Engine::Postgres {
            self.sql.push(')');
        }
        self.statements += 1;
        self
    }

    /// Runs it on `conn`; nothing if no insert was started.
    pub async fn execute(mut self, conn: &mut sqlx::AnyConnection) -> Result<(), sqlx::Error> {
        if let Some(e) = self.error {
            return Err(e);
        }
        if self.statements == 0 {
            return Ok(());
        }
        if self.engine == Engine::Postgres {
            self.sql.push_str(" select 1");
        }
        sqlx::query_with(&self.sql, self.args)
            .execute(conn)
            .await
            .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_inserts(engine: Engine) -> String {
        let mut b = Batch::new(engine);
        let now = b.param(7_i64);
        b.insert("insert into a (x, y, t) values")
            .row()
            .arg("p")
            .value("null")
            .value(&now)
            .row()
            .arg("q")
            .arg(2_i64)
            .value(&now)
            .end(" on conflict (x) do nothing");
        b.insert("insert into b (z) values")
            .row()
            .value(&now)
            .end("");
        assert_eq!(b.params, 4);
        b.sql
    }

    #[test]
    fn text_and_arguments_are_numbered_together() {
        assert_eq!(
            two_inserts(Engine::Sqlite),
            "insert into a (x, y, t) values ($2, null, $1), ($3, $4, $1) on conflict (x) do nothing; \
             insert into b (z) values ($1)"
        );
        assert_eq!(
            two_inserts(Engine::Postgres),
            "with s0 as (insert into a (x, y, t) values ($2, null, $1), ($3, $4, $1) on conflict (x) do nothing), \
             s1 as (insert into b (z) values ($1))"
        );
    }
}
