//! Objective suggestions for the wizard's `objectives` step, fitted to the draft (industry,
//! business goals, OKR maturity, size, language).
//!
//! Two providers implement [`Provider`]: the built-in [`catalog::Catalog`] and, when
//! `AI_BASE_URL` is set, an OpenAI-compatible chat-completions client ([`openai::OpenAi`]) with a
//! timeout of at most 3 s; when it fails or times out the catalog answers and the response says
//! so. External answers are cached (bounded, with a TTL) by a hash of the request. Whatever the
//! source, the HTTP layer passes every suggestion through the same core rules as the wizard and
//! drops the ones that fail. The quota is per user; it and the cache are per instance, or shared
//! by every replica through Redis when `REDIS_URL` is set (`crate::shared`; while Redis is
//! unavailable, the in-process quota counts and the cache is skipped).

pub mod catalog;
pub mod openai;

use crate::ratelimit::RateLimiter;
use crate::shared::Redis;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What a provider is asked for.
#[derive(Clone, Debug, Serialize)]
pub struct SuggestionRequest {
    pub industry: String,
    pub business_goals: Vec<String>,
    pub okr_maturity: String,
    pub company_size: String,
    /// `es` or `en`: the language of the suggestions.
    pub language: String,
    /// How many objectives to suggest.
    pub count: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct ObjectiveSuggestion {
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub key_results: Vec<KeyResultSuggestion>,
}

#[derive(Clone, Debug, Serialize)]
pub struct KeyResultSuggestion {
    pub title: String,
    pub metric_type: String,
    pub baseline: f64,
    pub target: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

#[derive(Debug)]
pub enum ProviderError {
    Timeout,
    /// Transport failure or a non-2xx answer.
    Http(String),
    /// The answer was not the JSON asked for.
    BadAnswer(String),
}

impl ProviderError {
    /// The stable word the API reports as the fallback's reason.
    pub fn reason(&self) -> &'static str {
        match self {
            ProviderError::Timeout => "provider_timeout",
            ProviderError::Http(_) => "provider_error",
            ProviderError::BadAnswer(_) => "provider_bad_answer",
        }
    }
}

impl std::fmt::Display for ProviderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProviderError::Timeout => write!(f, "the provider did not answer in time"),
            ProviderError::Http(e) => write!(f, "provider request failed: {e}"),
            ProviderError::BadAnswer(e) => write!(f, "provider answer unusable: {e}"),
        }
    }
}

/// A source of objective suggestions. Answers are raw JSON objects (an objective with its key
/// results): a provider's output is untrusted until the rules have passed it.
pub trait Provider {
    fn name(&self) -> &'static str;
    fn objectives(
        &self,
        req: &SuggestionRequest,
    ) -> impl std::future::Future<Output = Result<Vec<Value>, ProviderError>> + Send;
}

/// The answer before the rules filter it.
#[derive(Debug)]
pub struct Answer {
    /// `catalog` or `ai`.
    pub source: &'static str,
    /// Why the catalog answered although an external provider is configured and allowed.
    pub fallback: Option<&'static str>,
    pub objectives: Vec<Value>,
}

/// Largest number of cached external answers, and how long one stays.
pub const CACHE_CAPACITY: usize = 1024;
pub const CACHE_TTL: Duration = Duration::from_secs(15 * 60);

/// External answers by the SHA-256 of their request, with when they were stored.
type Cache = HashMap<[u8; 32], (Instant, Vec<Value>)>;

#[derive(Debug)]
pub struct Suggestions {
    catalog: catalog::Catalog,
    ai: Option<openai::OpenAi>,
    cache: Mutex<Cache>,
    limiter: RateLimiter<String>,
    per_minute: u32,
    redis: Option<Arc<Redis>>,
}

impl Suggestions {
    pub fn new(
        ai: Option<openai::OpenAi>,
        per_minute: u32,
        redis: Option<Arc<Redis>>,
    ) -> Suggestions {
        let per_minute = per_minute.max(1);
        Suggestions {
            catalog: catalog::Catalog,
            ai,
            cache: Mutex::default(),
            limiter: RateLimiter::per_minute(
                std::num::NonZeroU32::new(per_minute).unwrap_or(std::num::NonZeroU32::MIN),
            ),
            per_minute,
            redis,
        }
    }

    /// Counts one request of `user`; `Err(seconds)` when over the limit.
    pub async fn admit(&self, user: &str) -> Result<(), u64> {
        if let Some(redis) = &self.redis {
            if let Some(outcome) = redis.admit("suggest", user, self.per_minute).await {
                return outcome;
            }
        }
        self.limiter.admit(&user.to_owned())
    }

    /// Forgets idle users' allowances (see [`RateLimiter::retain_recent`]).
    pub fn retain_recent(&self) {
        self.limiter.retain_recent();
    }

    /// Objectives for `req`. `external` says whether the user allows an external AI provider;
    /// without it (or without one configured) only the catalog answers.
    pub async fn objectives(&self, req: &SuggestionRequest, external: bool) -> Answer {
        let catalog = || self.catalog.suggest_json(req);
        let Some(ai) = self.ai.as_ref().filter(|_| external) else {
            return Answer {
                source: self.catalog.name(),
                fallback: None,
                objectives: catalog(),
            };
        };
        let key: [u8; 32] = Sha256::digest(serde_json::to_vec(req).unwrap_or_default()).into();
        if let Some(hit) = self.cached(&key).await {
            return Answer {
                source: ai.name(),
                fallback: None,
                objectives: hit,
            };
        }
        match ai.objectives(req).await {
            Ok(objectives) => {
                self.remember(key, &objectives).await;
                Answer {
                    source: ai.name(),
                    fallback: None,
                    objectives,
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "AI suggestions failed; the catalog answers");
                Answer {
                    source: self.catalog.name(),
                    fallback: Some(e.reason()),
                    objectives: catalog(),
                }
            }
        }
    }

    /// The cached answer: from Redis when configured (nothing while it is unavailable), else
    /// from this instance.
    async fn cached(&self, key: &[u8; 32]) -> Option<Vec<Value>> {
        if let Some(redis) = &self.redis {
            let text = redis.get(&format!("suggest:{}", hex::encode(key))).await?;
            return serde_json::from_str(&text).ok();
        }
        let cache = self
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        cache
            .get(key)
            .filter(|(at, _)| at.elapsed() < CACHE_TTL)
            .map(|(_, v)| v.clone())
    }

    async fn remember(&self, key: [u8; 32], objectives: &[Value]) {
        if let Some(redis) = &self.redis {
            let text = serde_json::to_string(objectives).unwrap_or_default();
            redis
                .set(&format!("suggest:{}", hex::encode(key)), &text, CACHE_TTL)
                .await;
            return;
        }
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if cache.len() >= CACHE_CAPACITY {
            cache.retain(|_, (at, _)| at.elapsed() < CACHE_TTL);
        }
        if cache.len() >= CACHE_CAPACITY {
            // Still full of live entries: drop the oldest.
            if let Some(oldest) = cache.iter().min_by_key(|(_, (at, _))| *at).map(|(k, _)| *k) {
                cache.remove(&oldest);
            }
        }
        cache.insert(key, (Instant::now(), objectives.to_vec()));
    }
}

/// A suggestion's stable id: the first 16 hex digits of SHA-256 of its lower-cased title, so a
/// dismissed suggestion stays dismissed whichever provider offers it again.
pub fn suggestion_id(title: &str) -> String {
    let digest = Sha256::digest(title.trim().to_lowercase().as_bytes());
    hex::encode(&digest[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_ignore_case_and_outer_spaces() {
        assert_eq!(suggestion_id(" Grow Sales "), suggestion_id("grow sales"));
        assert_eq!(suggestion_id("grow sales").len(), 16);
        assert_ne!(suggestion_id("grow sales"), suggestion_id("grow profit"));
    }
}
