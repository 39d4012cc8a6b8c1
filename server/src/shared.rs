//! State shared by every replica through Redis (`REDIS_URL`): the write limits, the suggestion
//! quota and the suggestion cache. Each limit check is one Lua script (GCRA, the same algorithm
//! as the in-process `governor` limiter: a burst of the limit, refilled evenly over the minute),
//! atomic in Redis and timed by Redis's own clock, so replicas with skewed clocks agree.
//!
//! Redis is an optimisation of correctness across replicas, never a dependency of serving: when
//! a call fails (or Redis is marked down), the caller falls back to its in-process limiter and
//! skips the cache. After a failure Redis is not asked again for [`RETRY_AFTER`], so a dead
//! Redis costs each request nothing; then the next call tries it, and its success brings it back
//! without a restart. The outage is logged at most once a minute and shown in `/metrics`
//! (`redis_up`) and in `/readyz`.

use crate::metrics::Metrics;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a failed Redis is left alone before the next call tries it again.
pub const RETRY_AFTER: Duration = Duration::from_secs(1);
/// The longest a Redis call may take before the caller falls back.
const TIMEOUT: Duration = Duration::from_millis(250);

/// GCRA in Redis over several keys at once (a write counts against its client address and its
/// user in one round trip): `KEYS[i]` holds key i's theoretical arrival time (ms, Redis's clock),
/// `ARGV[i]` its emission interval in ms (a minute / its limit); the burst window is a minute.
/// Either every key admits the request and each is counted, or none is counted. Returns
/// `{0, 0}` when admitted, else `{the refusing key's index (1-based), the ms to wait}`.
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local burst = 60000
local next_tats = {}
for i, key in ipairs(KEYS) do
  local tat = tonumber(redis.call('GET', key) or now)
  if tat < now then tat = now end
  local next_tat = tat + tonumber(ARGV[i])
  if next_tat - now > burst then
    return {i, math.ceil(next_tat - burst - now)}
  end
  next_tats[i] = next_tat
end
for i, key in ipairs(KEYS) do
  redis.call('SET', key, tostring(next_tats[i]), 'PX', math.ceil(next_tats[i] - now))
end
return {0, 0}
";

pub struct Redis {
    conn: ConnectionManager,
    prefix: String,
    gcra: redis::Script,
    /// Until when (ms on `epoch`) Redis is considered down.
    down_until: AtomicI64,
    /// When the outage was last logged (ms on `epoch`; `i64::MIN`: never).
    logged_at: AtomicI64,
    epoch: Instant,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redis")
            .field("prefix", &self.prefix)
            .field("up", &self.is_up())
            .finish_non_exhaustive()
    }
}

impl Redis {
    /// A client for `url` (`redis://` or `rediss://`), keys under `prefix`. Connects lazily: a
    /// Redis that is down at start-up is not an error.
    pub fn new(url: &str, prefix: &str, metrics: Arc<Metrics>) -> Result<Redis, String> {
        let client = redis::Client::open(url)
            .map_err(|e| format!("REDIS_URL {:?}: {e}", crate::store::redact_url(url)))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(RETRY_AFTER);
        let conn = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| format!("REDIS_URL: {e}"))?;
        metrics.redis_up.set(1);
        Ok(Redis {
            conn,
            prefix: prefix.to_owned(),
            gcra: redis::Script::new(GCRA),
            down_until: AtomicI64::new(i64::MIN),
            logged_at: AtomicI64::new(i64::MIN),
            epoch: Instant::now(),
            metrics,
        })
    }

    fn now_ms(&self) -> i64 {
        i64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(i64::MAX)
    }

    /// Whether the last call succeeded (or none has failed yet).
    pub fn is_up(&self) -> bool {
        self.down_until.load(Ordering::Relaxed) <= self.now_ms()
    }

    /// Runs `call` unless Redis is marked down; a failure marks it down. `None`: fall back.
    async fn call<T>(
        &self,
        call: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Option<T> {
        if !self.is_up() {
            return None;
        }
        let outcome = match tokio::time::timeout(TIMEOUT * 2, call).await {
            Ok(outcome) => outcome,
            Err(_) => Err(redis::RedisError::from(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "no answer",
            ))),
        };
        match outcome {
            Ok(value) => {
                self.metrics.redis_up.set(1);
                Some(value)
            }
            Err(e) => {
                let now = self.now_ms();
                self.down_until.store(
                    now + i64::try_from(RETRY_AFTER.as_millis()).unwrap_or(1000),
                    Ordering::Relaxed,
                );
                self.metrics.redis_up.set(0);
                self.metrics.redis_errors.inc();
                let last = self.logged_at.load(Ordering::Relaxed);
                if last == i64::MIN || now - last >= 60_000 {
                    self.logged_at.store(now, Ordering::Relaxed);
                    tracing::warn!(error = %e, "Redis unavailable: limits are per instance and the suggestion cache is skipped until it answers (logged once a minute)");
                }
                None
            }
        }
    }

    /// Counts one request of `key` against `limit` per minute in `bucket`, for every replica:
    /// `Some(Ok(()))` admitted, `Some(Err(seconds))` over the limit, `None` Redis unavailable.
    pub async fn admit(&self, bucket: &str, key: &str, limit: u32) -> Option<Result<(), u64>> {
        self.admit_all(&[(bucket, key, limit)])
            .await
            .map(|outcome| outcome.map_err(|(_, secs)| secs))
    }

    /// Counts one request against each `(bucket, key, limit per minute)` in one round trip, all
    /// or none: `Some(Ok(()))` admitted by every one, `Some(Err((index, seconds)))` refused by
    /// the one at `index`, `None` Redis unavailable.
    pub async fn admit_all(
        &self,
        limits: &[(&str, &str, u32)],
    ) -> Option<Result<(), (usize, u64)>> {
        let mut conn = self.conn.clone();
        let mut invocation = self.gcra.prepare_invoke();
        for (bucket, key, limit) in limits {
            invocation
                .key(format!("{}rl:{bucket}:{key}", self.prefix))
                .arg(60_000.0 / f64::from((*limit).max(1)));
        }
        let (index, wait_ms): (i64, i64) = self.call(invocation.invoke_async(&mut conn)).await?;
        Some(match usize::try_from(index) {
            Ok(i) if i > 0 => Err((
                i - 1,
                u64::try_from(wait_ms).unwrap_or(0).div_ceil(1000).max(1),
            )),
            _ => Ok(()),
        })
    }

    /// A cached value; `None` when absent or Redis is unavailable.
    pub async fn get(&self, key: &str) -> Option<String> {
        let mut conn = self.conn.clone();
        let key = format!("{}{key}", self.prefix);
        self.call(
            redis::cmd("GET")
                .arg(key)
                .query_async::<Option<String>>(&mut conn),
        )
        .await
        .flatten()
    }

    /// Caches a value for `ttl` (skipped when Redis is unavailable).
    pub async fn set(&self, key: &str, value: &str, ttl: Duration) {
        let mut conn = self.conn.clone();
        let key = format!("{}{key}", self.prefix);
        let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        self.call(
            redis::cmd("SET")
                .arg(key)
                .arg(value)
                .arg("PX")
                .arg(ms)
                .query_async::<()>(&mut conn),
        )
        .await;
    }
}
