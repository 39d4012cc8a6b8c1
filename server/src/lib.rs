//! The onboarding API server: axum over `onboarding-core` (which re-validates every request) and
//! sqlx (SQLite by default, PostgreSQL by URL). `cli` parses the command line, `startup` builds
//! and binds the app, `http/` holds one module per resource, `store/` all SQL, `auth` the JWTs,
//! `error` the one error type of the HTTP boundary (RFC 9457 problem+json).

pub mod auth;
pub mod cli;
pub mod clock;
pub mod dns;
pub mod domains;
pub mod error;
pub mod http;
pub mod jwks;
pub mod mail;
pub mod metrics;
pub mod ratelimit;
pub mod shared;
pub mod startup;
pub mod store;
pub mod suggestions;

/// Milliseconds since the Unix epoch: every timestamp in the database.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Today's date (UTC): the reference date the server gives the rules.
pub fn today() -> onboarding_core::Date {
    onboarding_core::Date::from_unix_days(now_ms().div_euclid(86_400_000))
}
