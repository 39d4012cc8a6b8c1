//! The status read's cache, on PostgreSQL (issue 18, decision 98). `GET /api/onboarding/status`
//! is the wizard's most frequent request and, on PostgreSQL, one database round trip each time;
//! here each process keeps the users' latest sessions as it read them, and every change to a
//! session — by this process or by any other replica — removes that user's entry.
//!
//! How a change reaches every replica: the store calls [`StatusCache::changed`] when a write to a
//! user's session ends (committed, refused or failed alike: a commit whose answer was lost may
//! still have happened). That removes the local entry at once — a user's next read in this process
//! sees their write — and queues the user id for the notifier task. The notifier gathers ids for
//! 5 ms and sends them as one `pg_notify('onboarding_status', …)`: a first line naming this
//! process, then the ids, one per line (user ids hold no control characters), committed with
//! `synchronous_commit` off, so no WAL flush is waited for. Every replica's listener task
//! (`LISTEN onboarding_status` on a connection of its own) removes the entries it is told about,
//! except in its own process's notifications (those users were forgotten when written). A
//! stopping server flushes the notifier last. The notification is sent after the write's own
//! commit, not inside it: a `NOTIFY` in the write's transaction would serialize every commit
//! that carries one on PostgreSQL's notify queue lock, held through the WAL flush (pgbench on
//! this machine: saves 5.3k/s without, 1.9k/s with one in each transaction).
//!
//! What that allows: another replica may serve the old status for the moment between the write's
//! commit and the notification's arrival (5 to 10 ms on one network), and — if a server
//! dies between its commit and its notification, or an operator edits rows by hand — until the
//! entry's time to live ends (`STATUS_CACHE_TTL_SECS`). A stale status never loses a write: saves
//! and completions read and lock the session in the database, and a save sent with the old ETag
//! is refused 412. Reads in the process that wrote are never stale.
//!
//! Races: a read that missed takes a ticket (its user's slot counter) before it reads the
//! database and stores what it read only if no change to that slot arrived meanwhile (it stores,
//! then checks again and removes its own entry if one did; every removal bumps the slot first).
//! While the listener is not subscribed (starting, or reconnecting after the connection was
//! lost, when notifications may have been missed) every read goes to the database, and the
//! cache is emptied when the subscription is back.

use crate::metrics::Metrics;
use onboarding_store::Session;
use sqlx::postgres::PgListener;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};

/// The channel every replica listens on.
const CHANNEL: &str = "onboarding_status";
/// Slots of user ids, each with its counter of changes.
const SLOTS: usize = 1024;
/// Bytes of user ids in one notification (PostgreSQL's limit is 8,000).
const PAYLOAD: usize = 7_500;
/// How long the notifier gathers ids before it sends them (what it adds to the delay before
/// other replicas forget an entry).
const LINGER: Duration = Duration::from_millis(5);

/// `STATUS_CACHE_MB` (0: off), `STATUS_CACHE_TTL_SECS`, `STATUS_CACHE_LISTEN_URL`.
#[derive(Clone, Debug)]
pub struct StatusCacheSettings {
    /// Bytes of sessions kept at most (their drafts as JSON text, roughly).
    pub max_bytes: u64,
    /// How long an entry may be served at most.
    pub ttl: Duration,
    /// Where the listener connects, when not the database URL: `LISTEN` needs a session of its
    /// own, which a pooler in transaction mode (PgBouncer) does not give.
    pub listen_url: Option<String>,
}

impl StatusCacheSettings {
    /// `STATUS_CACHE_MB`'s and `STATUS_CACHE_TTL_SECS`'s defaults.
    pub const DEFAULT_MB: u64 = 32;
    pub const DEFAULT_TTL_SECS: u64 = 30;
}

impl Default for StatusCacheSettings {
    fn default() -> StatusCacheSettings {
        StatusCacheSettings {
            max_bytes: StatusCacheSettings::DEFAULT_MB << 20,
            ttl: Duration::from_secs(StatusCacheSettings::DEFAULT_TTL_SECS),
            listen_url: None,
        }
    }
}

/// A user's latest session as read (`None`: the user never started).
pub type Latest = Option<Arc<Session>>;

/// What the notifier is asked: to tell the other replicas about a user, or to send what it
/// holds now and say when it has (at shutdown).
enum Note {
    Changed(String),
    Flush(oneshot::Sender<()>),
}

/// Taken before a read that missed: the user's slot and its counter then.
pub(super) struct Ticket {
    slot: usize,
    seen: u64,
}

pub(super) struct StatusCache {
    entries: moka::sync::Cache<String, Latest>,
    /// Changes seen per slot of user ids (`slot`).
    changes: Box<[AtomicU64]>,
    hasher: RandomState,
    /// The listener is subscribed: notifications are arriving, the cache may be used.
    live: AtomicBool,
    /// This process's name in its notifications (their first line), so that its listener skips
    /// them: it forgot those users when it wrote.
    origin: String,
    /// User ids changed by this process (and flush requests), for the notifier.
    outgoing: mpsc::UnboundedSender<Note>,
    metrics: Arc<Metrics>,
    /// Dropped with the cache: the listener stops.
    _stop: watch::Sender<()>,
}

impl std::fmt::Debug for StatusCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatusCache")
            .field("entries", &self.entries.entry_count())
            .field("live", &self.live)
            .finish_non_exhaustive()
    }
}

impl StatusCache {
    /// Starts the notifier (on `pool`) and the listener (its own connection to `url`, or to
    /// `settings.listen_url`); both stop when the cache is dropped (the last clone of the store).
    pub(super) fn start(
        url: &str,
        pool: onboarding_store_pg::PgStore,
        settings: &StatusCacheSettings,
        metrics: Arc<Metrics>,
    ) -> Arc<StatusCache> {
        let (outgoing, queued) = mpsc::unbounded_channel();
        let (stop, stopped) = watch::channel(());
        let origin = super::new_id();
        let cache = Arc::new(StatusCache {
            entries: moka::sync::Cache::builder()
                .max_capacity(settings.max_bytes)
                .weigher(|user: &String, latest: &Latest| weight(user, latest))
                .time_to_live(settings.ttl)
                .build(),
            changes: (0..SLOTS).map(|_| AtomicU64::new(0)).collect(),
            hasher: RandomState::new(),
            live: AtomicBool::new(false),
            origin: origin.clone(),
            outgoing,
            metrics,
            _stop: stop,
        });
        tokio::spawn(notify(pool, origin, queued));
        let listen_url = settings.listen_url.as_deref().unwrap_or(url).to_owned();
        tokio::spawn(listen(listen_url, Arc::downgrade(&cache), stopped));
        cache
    }

    fn slot(&self, user: &str) -> usize {
        (self.hasher.hash_one(user) % SLOTS as u64) as usize
    }

    /// The cached session, when the cache may be used and holds one.
    pub(super) fn get(&self, user: &str) -> Option<Latest> {
        let hit = match self.live.load(Ordering::SeqCst) {
            true => self.entries.get(user),
            false => None,
        };
        match hit {
            Some(_) => self.metrics.status_cache_hits.inc(),
            None => self.metrics.status_cache_misses.inc(),
        };
        hit
    }

    /// Taken before reading the database for `user` (see the module's note on races).
    pub(super) fn ticket(&self, user: &str) -> Ticket {
        let slot = self.slot(user);
        Ticket {
            slot,
            seen: self.changes[slot].load(Ordering::SeqCst),
        }
    }

    /// Keeps what a read found, unless a change of its slot arrived since its ticket.
    pub(super) fn put(&self, user: &str, ticket: Ticket, latest: Latest) {
        if !self.live.load(Ordering::SeqCst)
            || self.changes[ticket.slot].load(Ordering::SeqCst) != ticket.seen
        {
            return;
        }
        self.entries.insert(user.to_owned(), latest);
        if self.changes[ticket.slot].load(Ordering::SeqCst) != ticket.seen {
            self.entries.invalidate(user);
        }
    }

    /// This process wrote (or tried to write) `user`'s session: forget it here, now, and tell
    /// the other replicas.
    pub(super) fn changed(&self, user: &str) {
        self.forget(user);
        // Only fails when the notifier has stopped, with the store.
        let _ = self.outgoing.send(Note::Changed(user.to_owned()));
    }

    /// Waits (at most `limit`) until the changes queued so far have been sent: a stopping server
    /// calls it last, so that the other replicas do not keep its last writes' entries until
    /// their time to live ends.
    pub(super) async fn flush(&self, limit: Duration) {
        let (done, sent) = oneshot::channel();
        if self.outgoing.send(Note::Flush(done)).is_ok() {
            let _ = tokio::time::timeout(limit, sent).await;
        }
    }

    /// Forgets `user`'s entry (the slot's counter first, so that a read in flight does not keep
    /// what it read).
    fn forget(&self, user: &str) {
        self.changes[self.slot(user)].fetch_add(1, Ordering::SeqCst);
        self.entries.invalidate(user);
    }

    /// Forgets every entry.
    fn forget_all(&self) {
        for counter in &self.changes {
            counter.fetch_add(1, Ordering::SeqCst);
        }
        self.entries.invalidate_all();
    }
}

/// Forgets a user's cached status everywhere when dropped ([`StatusCache::changed`]): held by
/// each write to the user's session, so that the entry goes whichever way the write ends.
pub(super) struct Changed(Option<(Arc<StatusCache>, String)>);

impl Changed {
    pub(super) fn new(cache: Option<&Arc<StatusCache>>, user: &str) -> Changed {
        Changed(cache.map(|c| (Arc::clone(c), user.to_owned())))
    }
}

impl Drop for Changed {
    fn drop(&mut self) {
        if let Some((cache, user)) = &self.0 {
            cache.changed(user);
        }
    }
}

/// An entry's weight: its bytes, roughly (the draft's JSON text and the ids).
fn weight(user: &str, latest: &Latest) -> u32 {
    let session = latest.as_deref().map_or(0, |s| {
        s.draft.to_string().len()
            + s.id.len()
            + s.completed_steps.iter().map(String::len).sum::<usize>()
            + 128
    });
    u32::try_from(user.len() + 64 + session).unwrap_or(u32::MAX)
}

/// Sends the user ids this process changed, as few notifications as they fit in: after the
/// first id it waits `LINGER` for more, so that a busy server sends at most one notification per
/// `LINGER` (each is a transaction, and wakes every listener), not one per write. Answers each
/// flush once what was queued before it has been sent.
async fn notify(
    pool: onboarding_store_pg::PgStore,
    origin: String,
    mut queued: mpsc::UnboundedReceiver<Note>,
) {
    while let Some(first) = queued.recv().await {
        // The first id: gather more for a while (a flush is sent at once).
        if matches!(first, Note::Changed(_)) {
            tokio::time::sleep(LINGER).await;
        }
        let (mut users, mut flushes) = (Vec::new(), Vec::new());
        let mut bytes = origin.len();
        let mut next = Some(first);
        while let Some(note) = next {
            match note {
                Note::Changed(user) => {
                    bytes += user.len() + 1;
                    users.push(user);
                }
                Note::Flush(done) => flushes.push(done),
            }
            next = if bytes < PAYLOAD {
                queued.try_recv().ok()
            } else {
                None
            };
        }
        users.sort_unstable();
        users.dedup();
        if !users.is_empty() {
            send(&pool, &format!("{origin}\n{}", users.join("\n"))).await;
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
}

/// One notification, tried three times (a lost one leaves the other replicas' entries of these
/// users to their time to live).
async fn send(pool: &onboarding_store_pg::PgStore, payload: &str) {
    for attempt in 1..=3 {
        let sent = pool.notify(CHANNEL, payload).await;
        match sent {
            Ok(_) => break,
            Err(e) if attempt == 3 => {
                // The other replicas keep these entries until their time to live ends.
                tracing::warn!(error = %e, "status cache: a change notification was not sent");
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100 * attempt)).await,
        }
    }
}

/// Subscribes to the channel and forgets the users it names; on a lost connection, stops the
/// cache's use until subscribed again.
async fn listen(url: String, cache: Weak<StatusCache>, mut stop: watch::Receiver<()>) {
    let mut retry = Duration::from_millis(100);
    let mut logged = false;
    loop {
        let subscribed = tokio::select! {
            s = subscribe(&url) => s,
            _ = stop.changed() => return,
        };
        let mut listener = match subscribed {
            Ok(listener) => listener,
            Err(e) => {
                if !logged {
                    tracing::warn!(error = %e, "status cache: cannot listen for changes; status is read from the database until it can");
                    logged = true;
                }
                tokio::select! {
                    _ = tokio::time::sleep(retry) => {}
                    _ = stop.changed() => return,
                }
                retry = (retry * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        retry = Duration::from_millis(100);
        logged = false;
        {
            let Some(cache) = cache.upgrade() else { return };
            cache.forget_all();
            cache.live.store(true, Ordering::SeqCst);
            cache.metrics.status_cache_live.set(1);
        }
        loop {
            let received = tokio::select! {
                r = listener.try_recv() => r,
                _ = stop.changed() => return,
            };
            let Some(cache) = cache.upgrade() else { return };
            match received {
                Ok(Some(notification)) => {
                    let mut lines = notification.payload().split('\n');
                    if lines.next() != Some(cache.origin.as_str()) {
                        lines.for_each(|user| cache.forget(user));
                    }
                }
                // The connection was lost: notifications may be missed until subscribed again.
                Ok(None) | Err(_) => {
                    cache.live.store(false, Ordering::SeqCst);
                    cache.metrics.status_cache_live.set(0);
                    cache.forget_all();
                    break;
                }
            }
        }
    }
}

async fn subscribe(url: &str) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}
