//! An identity provider's signing keys, from its JWKS document (`AUTH_JWKS_URL`): fetched at
//! start-up (retried every few seconds until it succeeds; until then every token is refused),
//! cached for the document's `Cache-Control: max-age` (10 min without one, kept within 1 min
//! and 24 h), and fetched again when a token names a `kid` the cache does not hold — at most
//! once per [`MIN_REFRESH`], so a flood of invented `kid`s cannot hammer the provider. A key
//! that disappears from the document stops verifying at the next fetch.
//!
//! Each key is held with the one algorithm it verifies (its `alg`, or RS256 / ES256 / EdDSA from
//! its type and curve); `auth` refuses a token whose header names another (no algorithm
//! confusion: `none`, or HS256 keyed with a public key, never verify).

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// At most one fetch prompted by an unknown `kid` per this long.
pub const MIN_REFRESH: Duration = Duration::from_secs(30);
/// How long a document without `max-age` is kept, and the bounds of `max-age`.
const DEFAULT_TTL: Duration = Duration::from_secs(600);
const TTL_BOUNDS: (Duration, Duration) = (Duration::from_secs(60), Duration::from_secs(86_400));
/// How often start-up retries a document it could not fetch.
const STARTUP_RETRY: Duration = Duration::from_secs(3);

pub type Key = (Arc<DecodingKey>, Algorithm);

pub struct Jwks {
    url: String,
    client: reqwest::Client,
    cache: RwLock<Cache>,
    /// When a fetch was last attempted (serializes fetches, too).
    last_fetch: tokio::sync::Mutex<Option<Instant>>,
    min_refresh: Duration,
}

#[derive(Default)]
struct Cache {
    keys: HashMap<String, Key>,
    fresh_until: Option<Instant>,
}

impl std::fmt::Debug for Jwks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jwks")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Jwks {
    /// `url` must be https, or http to a loopback address (a provider on the same machine, tests).
    pub fn new(url: &str, min_refresh: Duration) -> Result<Jwks, String> {
        let parsed = reqwest::Url::parse(url).map_err(|e| format!("AUTH_JWKS_URL {url:?}: {e}"))?;
        let host = parsed.host_str().unwrap_or_default();
        let loopback = host == "localhost"
            || host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        match parsed.scheme() {
            "https" => {}
            "http" if loopback => {}
            _ => {
                return Err(format!(
                    "AUTH_JWKS_URL {url:?} must be https (http only for a loopback address)"
                ))
            }
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| format!("cannot build the JWKS client: {e}"))?;
        Ok(Jwks {
            url: url.to_owned(),
            client,
            cache: RwLock::default(),
            last_fetch: tokio::sync::Mutex::new(None),
            min_refresh,
        })
    }

    /// Fetches the document until it succeeds (in the background, from start-up).
    pub fn start(self: &Arc<Self>) {
        let jwks = self.clone();
        tokio::spawn(async move {
            loop {
                match jwks.fetch().await {
                    Ok(n) => {
                        tracing::info!(keys = n, url = %jwks.url, "signing keys fetched");
                        return;
                    }
                    Err(e) => tracing::error!(
                        url = %jwks.url, error = %e,
                        "cannot fetch the identity provider's signing keys; every token is refused until they are fetched; retrying"
                    ),
                }
                tokio::time::sleep(STARTUP_RETRY).await;
            }
        });
    }

    /// The key named `kid`: from the cache while it is fresh, else after one fetch (if none was
    /// attempted within the minimum interval). A stale key still verifies when a fetch fails:
    /// a provider's outage does not lock every user out.
    pub async fn key(&self, kid: &str) -> Option<Key> {
        let (found, fresh) = self.cached(kid);
        if found.is_some() && fresh {
            return found;
        }
        {
            let mut last = self.last_fetch.lock().await;
            // Another request may have fetched while this one waited.
            let (found, fresh) = self.cached(kid);
            if found.is_some() && fresh {
                return found;
            }
            if last.is_none_or(|t| t.elapsed() >= self.min_refresh) {
                *last = Some(Instant::now());
                if let Err(e) = self.fetch_locked().await {
                    tracing::warn!(url = %self.url, error = %e, "cannot fetch the signing keys");
                }
            }
        }
        self.cached(kid).0
    }

    fn cached(&self, kid: &str) -> (Option<Key>, bool) {
        let cache = self.cache.read().unwrap_or_else(|e| e.into_inner());
        let fresh = cache.fresh_until.is_some_and(|t| Instant::now() < t);
        (cache.keys.get(kid).cloned(), fresh)
    }

    async fn fetch(&self) -> Result<usize, String> {
        let mut last = self.last_fetch.lock().await;
        *last = Some(Instant::now());
        self.fetch_locked().await
    }

    /// One fetch (the caller holds `last_fetch`): replaces the cache with the document's keys.
    async fn fetch_locked(&self) -> Result<usize, String> {
        let response = self
            .client
            .get(&self.url)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("status {}", response.status()));
        }
        let ttl = response
            .headers()
            .get(reqwest::header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .and_then(max_age)
            .map_or(DEFAULT_TTL, |t| t.clamp(TTL_BOUNDS.0, TTL_BOUNDS.1));
        let document: Value = response.json().await.map_err(|e| e.to_string())?;
        let keys: HashMap<String, Key> = document
            .get("keys")
            .and_then(Value::as_array)
            .ok_or("no `keys` array")?
            .iter()
            .filter_map(|k| serde_json::from_value::<Jwk>(k.clone()).ok())
            .filter_map(|jwk| Some((jwk.common.key_id.clone()?, usable(&jwk)?)))
            .collect();
        if keys.is_empty() {
            return Err("no usable signing key (RS256, ES256 or EdDSA, with a kid)".into());
        }
        let n = keys.len();
        *self.cache.write().unwrap_or_else(|e| e.into_inner()) = Cache {
            keys,
            fresh_until: Some(Instant::now() + ttl),
        };
        Ok(n)
    }
}

/// A signing key this server verifies with, and its one algorithm.
fn usable(jwk: &Jwk) -> Option<Key> {
    if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
        return None;
    }
    let by_type = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => Algorithm::ES256,
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
            Algorithm::EdDSA
        }
        _ => return None,
    };
    let declared = match jwk.common.key_algorithm {
        None => None,
        Some(KeyAlgorithm::RS256) => Some(Algorithm::RS256),
        Some(KeyAlgorithm::ES256) => Some(Algorithm::ES256),
        Some(KeyAlgorithm::EdDSA) => Some(Algorithm::EdDSA),
        Some(_) => return None,
    };
    if declared.is_some_and(|alg| alg != by_type) {
        return None;
    }
    let key = DecodingKey::from_jwk(jwk).ok()?;
    Some((Arc::new(key), by_type))
}

/// `max-age` of a `Cache-Control` value.
fn max_age(cache_control: &str) -> Option<Duration> {
    cache_control.split(',').find_map(|directive| {
        let (name, value) = directive.trim().split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("max-age")
            .then(|| value.trim().trim_matches('"').parse().ok())
            .flatten()
            .map(Duration::from_secs)
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn max_age_is_read_from_cache_control() {
        use std::time::Duration;
        assert_eq!(
            super::max_age("public, max-age=3600"),
            Some(Duration::from_secs(3600))
        );
        assert_eq!(super::max_age("no-store"), None);
        assert_eq!(super::max_age("max-age=abc"), None);
    }

    #[test]
    fn only_https_or_loopback_http() {
        let new = |u: &str| super::Jwks::new(u, super::MIN_REFRESH).map(|_| ());
        assert!(new("https://id.example.com/.well-known/jwks.json").is_ok());
        assert!(new("http://127.0.0.1:8080/jwks").is_ok());
        assert!(new("http://localhost/jwks").is_ok());
        assert!(new("http://id.example.com/jwks").is_err());
        assert!(new("ftp://id.example.com/jwks").is_err());
    }
}
