//! The connection pool requests run on (decision 60). sqlx 0.8's `Pool` pings every connection
//! when it comes back (a round trip on PostgreSQL, a hop to the worker thread on SQLite; not
//! configurable), which kept SQLite's one writer connection busy for a fifth of every save. Here
//! a connection goes straight back to the pool when its work finished — a read that returned, a
//! transaction committed or rolled back. Any other drop (an error, a cancelled request future, a
//! transaction left open) leaves it in an unknown state: a background task rolls back whatever
//! may be open and gives it back only if that round trip succeeds, else closes it; its permit is
//! held until then, so the next request never gets it half-repaired. sqlx's own pool stays for
//! the migrations and the system work (`Store::pool`).

use sqlx::{any::AnyConnectOptions, AnyConnection};
use sqlx::{Any, ConnectOptions, Connection, Database, TransactionManager};
use std::borrow::Cow;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

type Manager = <Any as Database>::TransactionManager;

#[derive(Clone)]
pub struct ConnPool {
    inner: Arc<Inner>,
}

struct Inner {
    options: AnyConnectOptions,
    /// Statements run on every new connection (SQLite's pragmas).
    setup: &'static [&'static str],
    idle: Mutex<Vec<AnyConnection>>,
    /// One permit per connection, idle or in use.
    permits: Arc<Semaphore>,
    acquire_timeout: Duration,
}

impl std::fmt::Debug for ConnPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnPool")
            .field("available", &self.inner.permits.available_permits())
            .finish_non_exhaustive()
    }
}

impl ConnPool {
    pub fn new(
        options: AnyConnectOptions,
        max: usize,
        setup: &'static [&'static str],
        acquire_timeout: Duration,
    ) -> ConnPool {
        ConnPool {
            inner: Arc::new(Inner {
                options,
                setup,
                idle: Mutex::new(Vec::with_capacity(max)),
                permits: Arc::new(Semaphore::new(max)),
                acquire_timeout,
            }),
        }
    }

    /// An idle connection, or a new one; waits (in order) while all are in use, up to the
    /// acquire timeout (then `PoolTimedOut`, which answers 503).
    pub async fn acquire(&self) -> Result<Conn, sqlx::Error> {
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
    pub async fn begin(&self, statement: Option<Cow<'static, str>>) -> Result<Tx, sqlx::Error> {
        let mut conn = self.acquire().await?;
        Manager::begin(&mut conn, statement).await?;
        Ok(Tx { conn })
    }
}

impl Inner {
    async fn open(&self) -> Result<AnyConnection, sqlx::Error> {
        let mut raw = self.options.connect().await?;
        set_up(&mut raw, self.setup).await?;
        Ok(raw)
    }

    fn put_back(&self, raw: AnyConnection) {
        self.idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(raw);
    }
}

/// Runs a new connection's setup statements (SQLite's pragmas), for this pool and sqlx's.
pub async fn set_up(conn: &mut AnyConnection, statements: &[&str]) -> Result<(), sqlx::Error> {
    for statement in statements {
        sqlx::query(statement).execute(&mut *conn).await?;
    }
    Ok(())
}

/// A connection out of the pool. [`Conn::release`] gives it back; dropped otherwise, it is
/// repaired or closed in the background.
pub struct Conn {
    raw: Option<AnyConnection>,
    pool: Arc<Inner>,
    finished: bool,
    /// Released after the connection is back (or closed), so a waiter finds it idle.
    permit: Option<OwnedSemaphorePermit>,
}

impl Conn {
    /// Its work finished: back to the pool.
    pub fn release(mut self) {
        self.finished = true;
    }
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn").finish_non_exhaustive()
    }
}

impl Deref for Conn {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        self.raw.as_ref().expect("a connection until dropped")
    }
}

impl DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        self.raw.as_mut().expect("a connection until dropped")
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        let Some(mut raw) = self.raw.take() else {
            return;
        };
        let permit = self.permit.take();
        if self.finished && Manager::get_transaction_depth(&raw) == 0 {
            self.pool.put_back(raw);
            drop(permit);
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return; // No runtime left to repair it: dropping it closes it.
        };
        let pool = self.pool.clone();
        runtime.spawn(async move {
            match tokio::time::timeout(Duration::from_secs(5), reset(&mut raw)).await {
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
fn reset(
    raw: &mut AnyConnection,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), sqlx::Error>> + Send + '_>> {
    Box::pin(async move {
        if Manager::get_transaction_depth(raw) > 0 {
            while Manager::get_transaction_depth(raw) > 0 {
                Manager::rollback(raw).await?;
            }
            return Ok(());
        }
        match sqlx::query("rollback").execute(&mut *raw).await {
            Ok(_) | Err(sqlx::Error::Database(_)) => Ok(()),
            Err(e) => Err(e),
        }
    })
}

/// A transaction on a pooled connection. `commit` or `rollback` ends it and gives the connection
/// back; dropped without either, it is rolled back in the background (see [`Conn`]).
pub struct Tx {
    conn: Conn,
}

impl Tx {
    /// Commits, unless the request it belongs to has timed out (`gate.rs`): then it rolls back
    /// and fails, so a request answered 503 has written nothing.
    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        if let Err(e) = super::gate::pass() {
            self.rollback().await?;
            return Err(e);
        }
        Manager::commit(&mut self.conn).await?;
        self.conn.finished = true;
        Ok(())
    }

    pub async fn rollback(mut self) -> Result<(), sqlx::Error> {
        Manager::rollback(&mut self.conn).await?;
        self.conn.finished = true;
        Ok(())
    }
}

impl std::fmt::Debug for Tx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tx").finish_non_exhaustive()
    }
}

impl Deref for Tx {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.conn
    }
}

impl DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.conn
    }
}
