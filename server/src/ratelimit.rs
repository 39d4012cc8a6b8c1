//! Request limits, by `governor`'s keyed GCRA (O(1) per check, one small cell per live key;
//! keys idle for a full period are dropped by [`RateLimiter::retain_recent`], run every minute).
//! Used for suggestions (per user) and for every write (per user and per client address),
//! answering 429 problem+json with `Retry-After`. Each instance counts its own requests, unless
//! `REDIS_URL` is set: then the counts are shared by every replica (`crate::shared`), and these
//! in-process limiters answer only while Redis is unavailable.
//!
//! The client address is the TCP peer's, unless that peer is one of `TRUSTED_PROXIES`: then it
//! is the right-most `X-Forwarded-For` entry that is not itself a trusted proxy. An IPv6 client
//! is keyed by its /64, the block one subscriber gets, so rotating addresses within it does not
//! buy a fresh allowance.

use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::http::AppState;
use crate::shared::Redis;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::Response;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use ipnet::IpNet;
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

/// `limit` requests per minute per key, as a burst of `limit` refilled evenly over the minute.
pub struct RateLimiter<K: Hash + Eq + Clone> {
    inner: DefaultKeyedRateLimiter<K>,
    clock: DefaultClock,
}

impl<K: Hash + Eq + Clone> std::fmt::Debug for RateLimiter<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("keys", &self.inner.len())
            .finish_non_exhaustive()
    }
}

impl<K: Hash + Eq + Clone> RateLimiter<K> {
    pub fn per_minute(limit: NonZeroU32) -> RateLimiter<K> {
        RateLimiter {
            inner: DefaultKeyedRateLimiter::keyed(Quota::per_minute(limit)),
            clock: DefaultClock::default(),
        }
    }

    /// Counts a request of `key`; `Err(seconds to wait)` when it is over its limit.
    pub fn admit(&self, key: &K) -> Result<(), u64> {
        self.inner.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        })
    }

    /// Forgets the keys whose allowance is whole again (memory stays bounded by the keys seen
    /// within one period).
    pub fn retain_recent(&self) {
        self.inner.retain_recent();
        self.inner.shrink_to_fit();
    }

    /// Keys held now.
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }
}

/// Which limit refused a write, and the seconds to wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    Client(u64),
    User(u64),
}

/// The limits on writes (every method but GET/HEAD/OPTIONS); `None` = off.
#[derive(Debug)]
pub struct WriteLimits {
    pub per_user: Option<RateLimiter<String>>,
    pub per_client: Option<RateLimiter<IpAddr>>,
    user_limit: u32,
    client_limit: u32,
    /// Peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// Shared counts across replicas, when configured.
    pub redis: Option<Arc<Redis>>,
}

impl WriteLimits {
    /// Per-minute limits; 0 turns one off.
    pub fn per_minute(per_user: u32, per_client: u32, trusted_proxies: Vec<IpNet>) -> WriteLimits {
        WriteLimits {
            per_user: NonZeroU32::new(per_user).map(RateLimiter::per_minute),
            per_client: NonZeroU32::new(per_client).map(RateLimiter::per_minute),
            user_limit: per_user,
            client_limit: per_client,
            trusted_proxies,
            redis: None,
        }
    }

    /// The same limits, counted in Redis for every replica.
    pub fn shared(mut self, redis: Option<Arc<Redis>>) -> WriteLimits {
        self.redis = redis;
        self
    }

    /// Counts a write from `client` (its key, see [`client_key`]) and of `user` (when the
    /// request is signed in): in Redis when it answers, both in one round trip; else in this
    /// instance. The in-process limiters count every write all along, so when Redis stops
    /// answering they go on from this instance's real counts, not from a fresh allowance.
    pub async fn admit(&self, client: Option<IpAddr>, user: Option<&str>) -> Result<(), Refused> {
        let client = client.filter(|_| self.per_client.is_some());
        let user = user.filter(|_| self.per_user.is_some());
        let local_client = match (&self.per_client, client) {
            (Some(l), Some(c)) => l.admit(&c).map_err(Refused::Client),
            _ => Ok(()),
        };
        let local_user = match (&self.per_user, user) {
            (Some(l), Some(u)) => l.admit(&u.to_owned()).map_err(Refused::User),
            _ => Ok(()),
        };
        if let Some(redis) = &self.redis {
            let client_text = client.map(|c| c.to_string());
            // Each limit, and the refusal it gives.
            let mut limits = Vec::with_capacity(2);
            let mut refusals: Vec<fn(u64) -> Refused> = Vec::with_capacity(2);
            if let Some(c) = &client_text {
                limits.push(("client", c.as_str(), self.client_limit));
                refusals.push(Refused::Client);
            }
            if let Some(u) = user {
                limits.push(("user", u, self.user_limit));
                refusals.push(Refused::User);
            }
            if limits.is_empty() {
                return Ok(());
            }
            if let Some(outcome) = redis.admit_all(&limits).await {
                return outcome.map_err(|(index, secs)| refusals[index](secs));
            }
        }
        local_client.and(local_user)
    }

    pub fn retain_recent(&self) {
        if let Some(l) = &self.per_user {
            l.retain_recent();
        }
        if let Some(l) = &self.per_client {
            l.retain_recent();
        }
    }

    /// The client a request comes from, as keyed by the per-client limit; `Err` (a 400) when a
    /// trusted proxy names it by something that is not an address.
    pub fn client_key(&self, peer: IpAddr, headers: &HeaderMap) -> Result<IpAddr, String> {
        client_address(peer, headers, &self.trusted_proxies).map(client_key)
    }
}

/// The client's address: the peer's, or when the peer is a trusted proxy, the right-most
/// `X-Forwarded-For` entry that is not a trusted proxy (entries to its left are the client's
/// own say and can be forged; an address with a port is read without it). When that entry is
/// not an address, the request is refused (`Err`): keying it by the proxy would let the client
/// out of its bucket and into one every such client shares.
pub fn client_address(
    peer: IpAddr,
    headers: &HeaderMap,
    trusted: &[IpNet],
) -> Result<IpAddr, String> {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return Ok(peer);
    }
    let mut entries: Vec<&str> = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        let value = value
            .to_str()
            .map_err(|_| "X-Forwarded-For is not visible ASCII".to_owned())?;
        entries.extend(value.split(',').map(str::trim));
    }
    for entry in entries.into_iter().rev() {
        let ip = entry
            .parse::<IpAddr>()
            .or_else(|_| entry.parse::<SocketAddr>().map(|s| s.ip()))
            .map_err(|_| {
                format!("X-Forwarded-For names the client by {entry:?}, which is not an address")
            })?;
        if !is_trusted(&ip) {
            return Ok(ip);
        }
    }
    Ok(peer)
}

/// The key of a client address: IPv4 as is (and IPv4-mapped IPv6 as IPv4), IPv6 by its /64.
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(
                u128::from(v6) & 0xffff_ffff_ffff_ffff_0000_0000_0000_0000,
            )),
        },
    }
}

/// Parses `TRUSTED_PROXIES`: CIDR blocks or single addresses, comma-separated.
pub fn parse_trusted_proxies(text: &str) -> Result<Vec<IpNet>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("TRUSTED_PROXIES: {s:?} is not a CIDR block or an address"))
        })
        .collect()
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
    let client = match (
        &limits.per_client,
        req.extensions().get::<ConnectInfo<SocketAddr>>(),
    ) {
        (Some(_), Some(ConnectInfo(addr))) => Some(
            limits
                .client_key(addr.ip(), req.headers())
                .map_err(ApiError::BadRequest)?,
        ),
        _ => None,
    };
    // Checked once: the handler's `AuthUser` extractor takes the user from the extensions.
    let user = match limits.per_user {
        Some(_) => AuthUser::from_headers(req.headers(), &state.keys)
            .await
            .ok(),
        None => None,
    };
    let refuse = |secs: u64, whom: &str| ApiError::TooManyRequests {
        retry_after_secs: secs,
        detail: format!("too many write requests from this {whom}; retry in {secs} s"),
    };
    limits
        .admit(client, user.as_ref().map(|u| u.id.as_str()))
        .await
        .map_err(|refused| match refused {
            Refused::Client(secs) => refuse(secs, "address"),
            Refused::User(secs) => refuse(secs, "user"),
        })?;
    if let Some(user) = user {
        req.extensions_mut().insert(user);
    }
    Ok(next.run(req).await)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn a_burst_of_the_limit_then_a_wait() {
        let limiter = RateLimiter::per_minute(NonZeroU32::new(2).unwrap());
        assert!(limiter.admit(&"a").is_ok());
        assert!(limiter.admit(&"a").is_ok());
        let wait = limiter.admit(&"a").unwrap_err();
        assert!((1..=30).contains(&wait), "{wait}");
        assert!(limiter.admit(&"b").is_ok());
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff:ffff:ffff:ffff".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(other));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(client_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
        let limiter = RateLimiter::per_minute(NonZeroU32::new(1).unwrap());
        assert!(limiter.admit(&client_key(a)).is_ok());
        assert!(limiter.admit(&client_key(b)).is_err());
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted = parse_trusted_proxies("10.0.0.0/8, 192.0.2.1").unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "203.0.113.9, 198.51.100.4, 10.1.1.1".parse().unwrap(),
        );
        let proxy: IpAddr = "10.0.0.5".parse().unwrap();
        let stranger: IpAddr = "198.51.100.77".parse().unwrap();
        // Through the trusted proxies: the right-most untrusted entry (the forged left one is ignored).
        assert_eq!(
            client_address(proxy, &headers, &trusted),
            Ok("198.51.100.4".parse::<IpAddr>().unwrap())
        );
        // From anyone else the header is the client's own say: ignored.
        assert_eq!(client_address(stranger, &headers, &trusted), Ok(stranger));
        // A trusted peer without the header: the peer itself.
        assert_eq!(
            client_address(proxy, &HeaderMap::new(), &trusted),
            Ok(proxy)
        );
        // Garbage the client wrote to the left of what the proxy appended: ignored.
        headers.insert(
            "x-forwarded-for",
            "not an address, 203.0.113.9:4711".parse().unwrap(),
        );
        assert_eq!(
            client_address(proxy, &headers, &trusted),
            Ok("203.0.113.9".parse::<IpAddr>().unwrap())
        );
        // Garbage where the client should be: refused, never keyed by the proxy.
        for garbage in [
            "not an address",
            "203.0.113.9, unknown",
            "203.0.113.9, , 10.1.1.1",
        ] {
            headers.insert("x-forwarded-for", garbage.parse().unwrap());
            assert!(
                client_address(proxy, &headers, &trusted).is_err(),
                "{garbage}"
            );
        }
        assert!(parse_trusted_proxies("10.0.0.0/33").is_err());
    }

    /// The cost of a check does not grow with the number of live keys: 10,000 checks among
    /// 50,000 keys take about as long as among 100 (best of five, compared within this run).
    #[test]
    fn checks_stay_flat_from_100_to_50_000_keys() {
        fn best_of_five(keys: u32) -> std::time::Duration {
            let limiter = RateLimiter::per_minute(NonZeroU32::new(1_000_000).unwrap());
            for k in 0..keys {
                let _ = limiter.admit(&k);
            }
            assert_eq!(limiter.len(), keys as usize);
            (0..5)
                .map(|_| {
                    let start = Instant::now();
                    for i in 0..10_000u32 {
                        let _ = limiter.admit(&(i.wrapping_mul(2_654_435_761) % keys));
                    }
                    start.elapsed()
                })
                .min()
                .unwrap()
        }
        let few = best_of_five(100);
        let many = best_of_five(50_000);
        assert!(
            many < few * 5,
            "10,000 checks: {few:?} among 100 keys, {many:?} among 50,000"
        );
    }
}
