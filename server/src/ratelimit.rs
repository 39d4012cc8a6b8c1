//! Request limits: fixed one-minute windows per key, in memory (each server instance counts its
//! own requests). Used for suggestions (per user) and for every write (per user and per client
//! address), answering 429 problem+json with `Retry-After`.

use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::http::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Fixed-window request counter per key (here: per user), in memory: each server instance
/// counts its own requests.
#[derive(Debug)]
pub struct RateLimiter {
    limit: u32,
    window: Duration,
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
    pub fn new(limit: u32, window: Duration) -> RateLimiter {
        RateLimiter {
            limit,
            window,
            windows: Mutex::default(),
        }
    }

    /// Counts a request at `now`; `Err(seconds to wait)` when the key is over its limit.
    pub fn admit(&self, key: &str, now: Instant) -> Result<(), u64> {
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if windows.len() > 10_000 {
            windows.retain(|_, (start, _)| now.duration_since(*start) < self.window);
        }
        let entry = windows.entry(key.to_owned()).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        if entry.1 >= self.limit {
            let left = self.window.saturating_sub(now.duration_since(entry.0));
            return Err(left.as_secs().max(1));
        }
        entry.1 += 1;
        Ok(())
    }
}

/// The limits on writes (every method but GET/HEAD/OPTIONS); `None` = off.
#[derive(Debug)]
pub struct WriteLimits {
    pub per_user: Option<RateLimiter>,
    pub per_ip: Option<RateLimiter>,
}

impl WriteLimits {
    /// Per-minute limits; 0 turns one off.
    pub fn per_minute(per_user: u32, per_ip: u32) -> WriteLimits {
        let limiter = |n: u32| (n > 0).then(|| RateLimiter::new(n, Duration::from_secs(60)));
        WriteLimits {
            per_user: limiter(per_user),
            per_ip: limiter(per_ip),
        }
    }
}

/// Middleware: counts each write against its client address and, when it carries a valid
/// token, against its user.
pub async fn limit_writes(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(next.run(req).await);
    }
    let limits = &state.write_limits;
    let refuse = |secs: u64, whom: &str| ApiError::TooManyRequests {
        retry_after_secs: secs,
        detail: format!("too many write requests from this {whom}; retry in {secs} s"),
    };
    if let (Some(limiter), Some(ConnectInfo(addr))) = (
        &limits.per_ip,
        req.extensions().get::<ConnectInfo<SocketAddr>>(),
    ) {
        limiter
            .admit(&addr.ip().to_string(), Instant::now())
            .map_err(|secs| refuse(secs, "address"))?;
    }
    if let Some(limiter) = &limits.per_user {
        // Checked once: the handler's `AuthUser` extractor takes the user from the extensions.
        if let Ok(user) = AuthUser::from_headers(req.headers(), &state.keys) {
            limiter
                .admit(&user.id, Instant::now())
                .map_err(|secs| refuse(secs, "user"))?;
            req.extensions_mut().insert(user);
        }
    }
    Ok(next.run(req).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limiter_counts_per_key_and_window() {
        let limiter = RateLimiter::new(2, Duration::from_secs(60));
        let t0 = Instant::now();
        assert!(limiter.admit("a", t0).is_ok());
        assert!(limiter.admit("a", t0).is_ok());
        assert_eq!(limiter.admit("a", t0 + Duration::from_secs(15)), Err(45));
        assert!(limiter.admit("b", t0).is_ok());
        assert!(limiter.admit("a", t0 + Duration::from_secs(60)).is_ok());
    }
}
