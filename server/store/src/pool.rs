//! The connection pool requests run on (decisions 60 and 105), for either engine's typed
//! connection. sqlx 0.8's `Pool` pings every connection when it comes back (a round trip on
//! PostgreSQL, a hop to the worker thread on SQLite; not configurable), and gives back a
//! connection whose statements began a transaction still inside it. Here a connection goes
//! straight back to the pool when its work finished — a read that returned, a transaction
//! committed or rolled back. Any other drop (an error, a cancelled request future, a transaction
//! left open) leaves it in an unknown state: a background task rolls back whatever may be open
//! and gives it back only if that round trip succeeds, else closes it; its permit is held until
//! then, so the next request never gets it half-repaired. sqlx's own pools serve the migrations
//! and the system work.

use futures_core::future::BoxFuture;
use sqlx::{ConnectOptions, Connection, Database, Executor, TransactionManager};
use std::borrow::Cow;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub struct ConnPool<DB: Database> {
    inner: Arc<Inner<DB>>,
}

impl<DB: Database> Clone for ConnPool<DB> {
    fn clone(&self) -> Self {
        ConnPool {
            inner: Arc::clone(&self.inner),
        }
    }
}

struct Inner<DB: Database> {
    options: <DB::Connection as Connection>::Options,
    idle: Mutex<Vec<DB::Connection>>,
    /// One permit per connection, idle or in use.
    permits: Arc<Semaphore>,
    permits_total: usize,
    acquire_timeout: Duration,
    /// [`reset`] for this engine, made in [`ConnPool::new`] where its connection is known to
    /// run statements, so that the pool's other methods need no such bound (a higher-ranked one
    /// makes their futures' `Send` unprovable to the compiler).
    reset: for<'c> fn(&'c mut DB::Connection) -> BoxFuture<'c, Result<(), sqlx::Error>>,
}

impl<DB: Database> std::fmt::Debug for ConnPool<DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnPool")
            .field("available", &self.inner.permits.available_permits())
            .finish_non_exhaustive()
    }
}

impl<DB: Database> ConnPool<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    pub fn new(
        options: <DB::Connection as Connection>::Options,
        max: usize,
        acquire_timeout: Duration,
    ) -> ConnPool<DB> {
        ConnPool {
            inner: Arc::new(Inner {
                options,
                idle: Mutex::new(Vec::with_capacity(max)),
                permits: Arc::new(Semaphore::new(max)),
                permits_total: max,
                acquire_timeout,
                reset: |raw| Box::pin(reset::<DB>(raw)),
            }),
        }
    }
}

impl<DB: Database> ConnPool<DB> {
    /// An idle connection, or a new one; waits (in order) while all are in use, up to the
    /// acquire timeout (then `PoolTimedOut`, which answers 503).
    pub async fn acquire(&self) -> Result<Conn<DB>, sqlx::Error> {
        let inner = &self.inner;
        let permit = tokio::time::timeout(inner.acquire_timeout, async {
            let permit = inner
                .permits
                .clone()
                .acquire_owned()
                .await
                .map_err(|_| sqlx::Error::PoolClosed)?;
            let idle = inner.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
            let raw = match idle {
                Some(raw) => raw,
                None => inner.open().await?,
            };
            Ok::<_, sqlx::Error>((permit, raw))
        })
        .await
        .map_err(|_| sqlx::Error::PoolTimedOut)??;
        let (permit, raw) = permit;
        Ok(Conn {
            raw: Some(raw),
            pool: self.inner.clone(),
            finished: false,
            permit: Some(permit),
        })
    }

    /// A transaction on a pooled connection; `statement` replaces the plain `BEGIN`.
    ///
    /// An idle connection can have died meanwhile (the database restarted, or an operator
    /// terminated its backend); that shows only when it is used. Nothing has been done when its
    /// `BEGIN` fails, so the transaction is begun again on another connection (the dead one is
    /// closed when dropped), up to one more time than the pool has connections, as Go's
    /// `database/sql` does with a bad connection.
    pub async fn begin(&self, statement: Option<Cow<'static, str>>) -> Result<Tx<DB>, sqlx::Error> {
        let mut attempts = self.inner.permits_total;
        loop {
            let mut conn = self.acquire().await?;
            match DB::TransactionManager::begin(&mut conn, statement.clone()).await {
                Ok(()) => return Ok(Tx { conn }),
                Err(e) if attempts > 0 && is_dead_connection(&e) => attempts -= 1,
                Err(e) => return Err(e),
            }
        }
    }
}

impl<DB: Database> Inner<DB> {
    async fn open(&self) -> Result<DB::Connection, sqlx::Error> {
        self.options.connect().await
    }

    fn put_back(&self, raw: DB::Connection) {
        self.idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(raw);
    }
}

/// An error that says the connection is gone: its socket (`Io`), or the server ended its
/// session (PostgreSQL's connection exceptions, 08…, and operator intervention, 57P…).
fn is_dead_connection(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) => true,
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
        _ => false,
    }
}

/// A connection out of the pool. [`Conn::release`] gives it back; dropped otherwise, it is
/// repaired or closed in the background.
pub struct Conn<DB: Database> {
    raw: Option<DB::Connection>,
    pool: Arc<Inner<DB>>,
    finished: bool,
    /// Released after the connection is back (or closed), so a waiter finds it idle.
    permit: Option<OwnedSemaphorePermit>,
}

impl<DB: Database> Conn<DB> {
    /// Its work finished: back to the pool.
    pub fn release(mut self) {
        self.finished = true;
    }
}

impl<DB: Database> std::fmt::Debug for Conn<DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn").finish_non_exhaustive()
    }
}

impl<DB: Database> Deref for Conn<DB> {
    type Target = DB::Connection;
    fn deref(&self) -> &DB::Connection {
        self.raw.as_ref().expect("a connection until dropped")
    }
}

impl<DB: Database> DerefMut for Conn<DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        self.raw.as_mut().expect("a connection until dropped")
    }
}

impl<DB: Database> Drop for Conn<DB> {
    fn drop(&mut self) {
        let Some(mut raw) = self.raw.take() else {
            return;
        };
        let permit = self.permit.take();
        if self.finished && DB::TransactionManager::get_transaction_depth(&raw) == 0 {
            self.pool.put_back(raw);
            drop(permit);
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return; // No runtime left to repair it: dropping it closes it.
        };
        let pool = self.pool.clone();
        runtime.spawn(async move {
            match tokio::time::timeout(Duration::from_secs(5), (pool.reset)(&mut raw)).await {
                Ok(Ok(())) => pool.put_back(raw),
                _ => {
                    let _ = tokio::time::timeout(Duration::from_secs(5), raw.close()).await;
                }
            }
            drop(permit);
        });
    }
}

/// Ends whatever transaction a connection dropped mid-work may hold: sqlx's (tracked, so its
/// depth is reset too), or one a statement began itself (none of the server's do since the
/// group writer went, decision 70; kept for safety), which a plain `rollback` ends; with none
/// open, that `rollback` is refused by the database
/// (SQLite) or only warned about (PostgreSQL), which still proves the connection answers. sqlx
/// drains what a cancelled statement left unread before it sends the next one.
async fn reset<DB: Database>(raw: &mut DB::Connection) -> Result<(), sqlx::Error>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    if DB::TransactionManager::get_transaction_depth(raw) > 0 {
        while DB::TransactionManager::get_transaction_depth(raw) > 0 {
            DB::TransactionManager::rollback(raw).await?;
        }
        return Ok(());
    }
    match raw.execute(sqlx::raw_sql("rollback")).await {
        Ok(_) | Err(sqlx::Error::Database(_)) => Ok(()),
        Err(e) => Err(e),
    }
}

/// A transaction on a pooled connection. `commit` or `rollback` ends it and gives the connection
/// back; dropped without either, it is rolled back in the background (see [`Conn`]).
pub struct Tx<DB: Database> {
    conn: Conn<DB>,
}

impl<DB: Database> Tx<DB> {
    /// Commits, unless the request it belongs to has timed out (`gate.rs`): then it rolls back
    /// and fails, so a request answered 503 has written nothing.
    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        if let Err(e) = crate::gate::pass() {
            self.rollback().await?;
            return Err(e);
        }
        DB::TransactionManager::commit(&mut self.conn).await?;
        self.conn.finished = true;
        Ok(())
    }

    pub async fn rollback(mut self) -> Result<(), sqlx::Error> {
        DB::TransactionManager::rollback(&mut self.conn).await?;
        self.conn.finished = true;
        Ok(())
    }
}

impl<DB: Database> std::fmt::Debug for Tx<DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tx").finish_non_exhaustive()
    }
}

impl<DB: Database> Deref for Tx<DB> {
    type Target = DB::Connection;
    fn deref(&self) -> &DB::Connection {
        &self.conn
    }
}

impl<DB: Database> DerefMut for Tx<DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        &mut self.conn
    }
}
