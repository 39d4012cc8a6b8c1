//! An identity provider's signing keys, from its JWKS document (`AUTH_JWKS_URL`).
//!
//! A task of its own fetches the document at start-up (every few seconds until it succeeds) and
//! again when the document's `Cache-Control: max-age` runs out (10 min without one, kept within
//! 1 min and 24 h). Requests never wait on that refresh: they verify with the cached keys while
//! it runs (stale-while-revalidate). While fetches fail, the keys stay usable for
//! `AUTH_JWKS_MAX_STALE_SECS` past their max-age, then every token is refused and `/readyz` says
//! why. A token naming a `kid` the cache does not hold prompts one fetch that the request waits
//! on — at most one per [`MIN_REFRESH`], so a flood of invented `kid`s cannot hammer the
//! provider. A key that disappears from the document stops verifying at the next fetch.
//!
//! The fetch follows no redirects and reads at most [`MAX_DOCUMENT_BYTES`] and [`MAX_KEYS`]
//! keys. Each key verifies the algorithms of its type (`auth::KeyType`), or only the one its
//! `alg` names; the RFC 9864 name `Ed25519` is read as EdDSA.

use crate::auth::KeyType;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, Instant};

/// At most one fetch prompted by an unknown `kid` per this long.
pub const MIN_REFRESH: Duration = Duration::from_secs(30);
/// How long keys stay usable past their max-age while fetches fail, unless configured.
pub const DEFAULT_MAX_STALE: Duration = Duration::from_secs(3600);
/// The largest document read, and the most keys it may hold.
pub const MAX_DOCUMENT_BYTES: usize = 1 << 20;
pub const MAX_KEYS: usize = 100;
/// A token without `kid` is tried against the keys of its type only when the document holds
/// at most this many keys.
pub const MAX_KEYS_WITHOUT_KID: usize = 5;
/// How long a document without `max-age` is kept, and the bounds of `max-age`.
const DEFAULT_TTL: Duration = Duration::from_secs(600);
const TTL_BOUNDS: (Duration, Duration) = (Duration::from_secs(60), Duration::from_secs(86_400));
/// The first retry after a failed fetch; each further one waits twice as long, up to a minute.
const RETRY: (Duration, Duration) = (Duration::from_secs(3), Duration::from_secs(60));

/// How often the keys may be fetched, and how long they are trusted.
#[derive(Clone, Copy, Debug)]
pub struct JwksSettings {
    /// At most one fetch prompted by an unknown `kid` per this long.
    pub min_refresh: Duration,
    /// How long keys stay usable past their max-age while fetches fail.
    pub max_stale: Duration,
    /// The shortest max-age honoured (a minute; tests shorten it).
    pub min_ttl: Duration,
}

impl Default for JwksSettings {
    fn default() -> JwksSettings {
        JwksSettings {
            min_refresh: MIN_REFRESH,
            max_stale: DEFAULT_MAX_STALE,
            min_ttl: TTL_BOUNDS.0,
        }
    }
}

/// One signing key of the document.
#[derive(Clone)]
pub struct Key {
    pub kid: Option<String>,
    pub decoding: Arc<DecodingKey>,
    pub key_type: KeyType,
    /// The one algorithm the document's `alg` allows, if it names one.
    pub alg: Option<Algorithm>,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key")
            .field("kid", &self.kid)
            .field("key_type", &self.key_type)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl Key {
    pub fn verifies(&self, alg: Algorithm) -> bool {
        self.alg.map_or(self.key_type.allows(alg), |a| a == alg)
    }
}

/// Why no key verifies a token (in the product's words, for the 401).
#[derive(Debug, PartialEq, Eq)]
pub enum NoKey {
    /// Never fetched, or stale past the bound.
    Unavailable,
    UnknownKid(String),
    /// No `kid`, and more keys than [`MAX_KEYS_WITHOUT_KID`] (or none of the token's type).
    KidRequired,
}

pub struct Jwks {
    url: String,
    client: reqwest::Client,
    cache: RwLock<Cache>,
    /// When a fetch was last attempted (serializes fetches, too).
    last_fetch: tokio::sync::Mutex<Option<Instant>>,
    settings: JwksSettings,
}

#[derive(Default)]
struct Cache {
    keys: Vec<Key>,
    fresh_until: Option<Instant>,
    /// The last fetch's error, until one succeeds.
    error: Option<String>,
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
    pub fn new(url: &str, settings: JwksSettings) -> Result<Jwks, String> {
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
            // A redirect could lead anywhere the URL rule above refuses.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("cannot build the JWKS client: {e}"))?;
        Ok(Jwks {
            url: url.to_owned(),
            client,
            cache: RwLock::default(),
            last_fetch: tokio::sync::Mutex::new(None),
            settings,
        })
    }

    /// Starts the refresh task: a fetch now, then one when the keys' max-age runs out (retried
    /// with backoff while it fails). It ends when the keys are dropped.
    pub fn start(self: &Arc<Self>) {
        let weak: Weak<Jwks> = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut retry = RETRY.0;
            loop {
                let Some(jwks) = weak.upgrade() else { return };
                let wait = match jwks.fetch().await {
                    Ok((n, ttl)) => {
                        tracing::info!(keys = n, url = %jwks.url, "signing keys fetched");
                        retry = RETRY.0;
                        ttl
                    }
                    Err(e) => {
                        tracing::error!(
                            url = %jwks.url, error = %e,
                            "cannot fetch the identity provider's signing keys; the cached ones serve until they are too stale; retrying"
                        );
                        let wait = retry;
                        retry = (retry * 2).min(RETRY.1);
                        wait
                    }
                };
                drop(jwks);
                tokio::time::sleep(wait).await;
            }
        });
    }

    /// The keys that may verify a token of `alg` naming `kid`. A known `kid` never waits on a
    /// fetch; an unknown one prompts one (if none was attempted within the minimum interval).
    pub async fn keys_for(&self, kid: Option<&str>, alg: Algorithm) -> Result<Vec<Key>, NoKey> {
        let Some(kid) = kid else {
            let matching = self
                .with_usable(|keys| {
                    (keys.len() <= MAX_KEYS_WITHOUT_KID).then(|| {
                        keys.iter()
                            .filter(|k| k.verifies(alg))
                            .cloned()
                            .collect::<Vec<Key>>()
                    })
                })
                .ok_or(NoKey::Unavailable)?;
            return matching.filter(|m| !m.is_empty()).ok_or(NoKey::KidRequired);
        };
        if let Some(key) = self.cached(kid) {
            return Ok(vec![key]);
        }
        {
            let mut last = self.last_fetch.lock().await;
            // Another request may have fetched while this one waited.
            if let Some(key) = self.cached(kid) {
                return Ok(vec![key]);
            }
            if last.is_none_or(|t| t.elapsed() >= self.settings.min_refresh) {
                *last = Some(Instant::now());
                if let Err(e) = self.fetch_locked().await {
                    tracing::warn!(url = %self.url, error = %e, "cannot fetch the signing keys");
                }
            }
        }
        match self.cached(kid) {
            Some(key) => Ok(vec![key]),
            None if self.with_usable(|_| ()).is_none() => Err(NoKey::Unavailable),
            None => Err(NoKey::UnknownKid(kid.to_owned())),
        }
    }

    /// `Ok` with a note when the keys are fresh or usable while stale; `Err` when no key is
    /// usable (never fetched, or stale past the bound), with the last fetch's error.
    pub fn readiness(&self) -> Result<String, String> {
        let cache = self.cache.read().unwrap_or_else(|e| e.into_inner());
        let error = cache.error.as_deref().unwrap_or("no answer yet");
        match cache.fresh_until {
            Some(t) if Instant::now() < t => Ok("jwks: up".into()),
            Some(t) if Instant::now() < t + self.settings.max_stale => Ok(format!(
                "jwks: stale (serving cached keys; the last fetch failed: {error})"
            )),
            Some(_) => Err(format!(
                "jwks: unavailable (keys stale past AUTH_JWKS_MAX_STALE_SECS; the last fetch failed: {error})"
            )),
            None => Err(format!("jwks: unavailable ({error})")),
        }
    }

    /// `f` of the cached keys (read in place, under the lock), unless they are stale past the
    /// bound.
    fn with_usable<T>(&self, f: impl FnOnce(&[Key]) -> T) -> Option<T> {
        let cache = self.cache.read().unwrap_or_else(|e| e.into_inner());
        let until = cache.fresh_until? + self.settings.max_stale;
        (Instant::now() < until).then(|| f(&cache.keys))
    }

    /// The usable key named `kid`.
    fn cached(&self, kid: &str) -> Option<Key> {
        self.with_usable(|keys| keys.iter().find(|k| k.kid.as_deref() == Some(kid)).cloned())
            .flatten()
    }

    async fn fetch(&self) -> Result<(usize, Duration), String> {
        let mut last = self.last_fetch.lock().await;
        *last = Some(Instant::now());
        self.fetch_locked().await
    }

    /// One fetch (the caller holds `last_fetch`): replaces the cache with the document's keys,
    /// or records the error (the keys kept).
    async fn fetch_locked(&self) -> Result<(usize, Duration), String> {
        let result = self.download().await;
        let mut cache = self.cache.write().unwrap_or_else(|e| e.into_inner());
        match result {
            Ok((keys, ttl)) => {
                let n = keys.len();
                *cache = Cache {
                    keys,
                    fresh_until: Some(Instant::now() + ttl),
                    error: None,
                };
                Ok((n, ttl))
            }
            Err(e) => {
                cache.error = Some(e.clone());
                Err(e)
            }
        }
    }

    async fn download(&self) -> Result<(Vec<Key>, Duration), String> {
        let mut response = self
            .client
            .get(&self.url)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        if status.is_redirection() {
            return Err(format!("status {status}: redirects are not followed"));
        }
        if !status.is_success() {
            return Err(format!("status {status}"));
        }
        let ttl = response
            .headers()
            .get(reqwest::header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .and_then(max_age)
            .map_or(DEFAULT_TTL, |t| {
                t.clamp(self.settings.min_ttl, TTL_BOUNDS.1)
            });
        let too_large = || format!("the document is larger than {MAX_DOCUMENT_BYTES} bytes");
        if response
            .content_length()
            .is_some_and(|n| n > MAX_DOCUMENT_BYTES as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
            if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        let document: Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
        let listed = document
            .get("keys")
            .and_then(Value::as_array)
            .ok_or("no `keys` array")?;
        if listed.len() > MAX_KEYS {
            return Err(format!("more than {MAX_KEYS} keys"));
        }
        let keys: Vec<Key> = listed.iter().filter_map(usable).collect();
        if keys.is_empty() {
            return Err("no usable signing key (RSA, EC P-256 or P-384, Ed25519)".into());
        }
        Ok((keys, ttl))
    }
}

/// A signing key this server verifies with (others, such as encryption keys, are skipped).
fn usable(jwk: &Value) -> Option<Key> {
    let mut jwk = jwk.clone();
    // RFC 9864's fully specified name for EdDSA over Ed25519.
    if jwk.get("alg").and_then(Value::as_str) == Some("Ed25519") {
        jwk["alg"] = Value::from("EdDSA");
    }
    let jwk: Jwk = serde_json::from_value(jwk).ok()?;
    if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
        return None;
    }
    let key_type = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => KeyType::Rsa,
        AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => KeyType::EcP256,
        AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P384 => KeyType::EcP384,
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
            KeyType::Ed25519
        }
        _ => return None,
    };
    let alg = match jwk.common.key_algorithm {
        None => None,
        Some(declared) => {
            let alg = signing_algorithm(declared)?;
            if !key_type.allows(alg) {
                return None;
            }
            Some(alg)
        }
    };
    let decoding = DecodingKey::from_jwk(&jwk).ok()?;
    Some(Key {
        kid: jwk.common.key_id,
        decoding: Arc::new(decoding),
        key_type,
        alg,
    })
}

fn signing_algorithm(alg: KeyAlgorithm) -> Option<Algorithm> {
    Some(match alg {
        KeyAlgorithm::RS256 => Algorithm::RS256,
        KeyAlgorithm::RS384 => Algorithm::RS384,
        KeyAlgorithm::RS512 => Algorithm::RS512,
        KeyAlgorithm::PS256 => Algorithm::PS256,
        KeyAlgorithm::PS384 => Algorithm::PS384,
        KeyAlgorithm::PS512 => Algorithm::PS512,
        KeyAlgorithm::ES256 => Algorithm::ES256,
        KeyAlgorithm::ES384 => Algorithm::ES384,
        KeyAlgorithm::EdDSA => Algorithm::EdDSA,
        _ => return None,
    })
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
        let new = |u: &str| super::Jwks::new(u, super::JwksSettings::default()).map(|_| ());
        assert!(new("https://id.example.com/.well-known/jwks.json").is_ok());
        assert!(new("http://127.0.0.1:8080/jwks").is_ok());
        assert!(new("http://localhost/jwks").is_ok());
        assert!(new("http://id.example.com/jwks").is_err());
        assert!(new("ftp://id.example.com/jwks").is_err());
    }
}
