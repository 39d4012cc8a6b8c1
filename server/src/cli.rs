//! The command line: `serve` (default), `migrate`, `validate`, `token`. Flags fall back to
//! environment variables (shown in `--help`). The argument types have no `Debug`: they hold
//! secrets (`Settings` has a redacting one).

use crate::auth::Keys;
use crate::startup::{AiSettings, Application, Settings};
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "onboarding-server",
    version,
    about = "The onboarding API server"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve(Box<ServeArgs>),
    /// Run the database migrations and exit.
    Migrate {
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DB)]
        database_url: String,
        /// Instead: revert the migrations after VERSION with their down scripts (0 reverts
        /// everything), for running an older server. Data the older schema cannot hold is lost.
        #[arg(long, value_name = "VERSION")]
        revert_to: Option<i64>,
    },
    /// Validate a wizard (JSON from FILE or stdin) and print the report, like `onboarding-rules validate`.
    Validate {
        file: Option<String>,
        #[arg(long, default_value = "es")]
        locale: String,
    },
    /// Print a JWT signed with AUTH_JWT_SECRET, for scripts and tests.
    Token {
        #[arg(long)]
        sub: String,
        #[arg(long)]
        email: String,
        /// Lifetime: seconds, or with a unit: 90s, 30m, 1h, 7d.
        #[arg(long, default_value = "1h")]
        ttl: String,
        /// Adds the claim `platform_admin: true` (reads `/api/admin/…` where the server runs with
        /// AUTH_ADMIN_CLAIM=platform_admin=true).
        #[arg(long)]
        platform_admin: bool,
        #[command(flatten)]
        auth: Box<AuthArgs>,
    },
    /// Print the API's OpenAPI document (what `GET /api/openapi.json` serves), e.g. for a
    /// client generator.
    Openapi,
}

const DEFAULT_DB: &str = "sqlite://./data/onboarding.db?mode=rwc";

#[derive(Args, Clone)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "BIND", default_value = "127.0.0.1:3000")]
    bind: SocketAddr,
    /// A second listener (e.g. 127.0.0.1:9090) for `/metrics`, which the API listener then no
    /// longer serves; unset: `/metrics` on the API listener.
    #[arg(long, env = "METRICS_BIND")]
    metrics_bind: Option<SocketAddr>,
    /// `sqlite://…` (default) or `postgres://…`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DB)]
    database_url: String,
    /// Development mode: generated secret when none is configured, `POST /api/dev/token`,
    /// loopback addresses only.
    #[arg(long, env = "ONBOARDING_DEV")]
    dev: bool,
    /// Days of inactivity after which an onboarding session expires.
    #[arg(long, env = "SESSION_TTL_DAYS", default_value_t = 7)]
    session_ttl_days: u64,
    /// Hours an Idempotency-Key replays its first response; older keys are purged.
    #[arg(long, env = "IDEMPOTENCY_KEY_TTL_HOURS", default_value_t = 24)]
    idempotency_key_ttl_hours: u64,
    /// Seconds between runs of the expiry purge.
    #[arg(long, env = "PURGE_INTERVAL_SECS", default_value_t = 3600)]
    purge_interval_secs: u64,
    /// Megabytes of sessions the status read's cache keeps (PostgreSQL; 0: no cache, every
    /// status read goes to the database).
    #[arg(long, env = "STATUS_CACHE_MB", default_value_t = crate::store::StatusCacheSettings::DEFAULT_MB)]
    status_cache_mb: u64,
    /// Seconds a cached status may be served at most (the bound on a stale status when a
    /// replica's change notification is lost).
    #[arg(long, env = "STATUS_CACHE_TTL_SECS", default_value_t = crate::store::StatusCacheSettings::DEFAULT_TTL_SECS)]
    status_cache_ttl_secs: u64,
    /// Where the status cache's listener connects (`LISTEN`), when DATABASE_URL goes through a
    /// pooler in transaction mode: a direct URL of the same database.
    #[arg(long, env = "STATUS_CACHE_LISTEN_URL", hide_env_values = true)]
    status_cache_listen_url: Option<String>,
    /// Seconds a request may take before it is answered 503.
    #[arg(long, env = "REQUEST_TIMEOUT_SECS", default_value_t = 10)]
    request_timeout_secs: u64,
    /// An OpenAI-compatible API (e.g. https://api.openai.com/v1) for objective suggestions;
    /// without it the built-in catalog answers.
    #[arg(long, env = "AI_BASE_URL")]
    ai_base_url: Option<String>,
    #[arg(long, env = "AI_API_KEY", hide_env_values = true)]
    ai_api_key: Option<String>,
    #[arg(long, env = "AI_MODEL", default_value = "gpt-4o-mini")]
    ai_model: String,
    /// Milliseconds to wait for the AI provider before the catalog answers (at most 3000).
    #[arg(long, env = "AI_TIMEOUT_MS", default_value_t = 3000)]
    ai_timeout_ms: u64,
    /// Suggestion requests per user and minute (each instance counts its own).
    #[arg(long, env = "SUGGESTIONS_PER_MINUTE", default_value_t = 30)]
    suggestions_per_minute: u32,
    /// Writes (POST, PUT…) per user and minute; 0 = no limit. Each instance counts its own.
    #[arg(long, env = "RATE_LIMIT_USER_PER_MIN", default_value_t = 600)]
    rate_limit_user_per_min: u32,
    /// Writes per client address and minute; 0 = no limit. Each instance counts its own.
    #[arg(long, env = "RATE_LIMIT_IP_PER_MIN", default_value_t = 6000)]
    rate_limit_ip_per_min: u32,
    /// Reverse proxies (CIDR blocks or addresses, comma-separated) whose `X-Forwarded-For` names
    /// the client for the per-address limit; none by default (the TCP peer is the client).
    #[arg(long, env = "TRUSTED_PROXIES", default_value = "")]
    trusted_proxies: String,
    /// Seconds a connection may take to send a request's head (or idle between requests)
    /// before it is closed.
    #[arg(long, env = "HEADER_READ_TIMEOUT_SECS", default_value_t = 10)]
    header_read_timeout_secs: u64,
    /// Connections served at once; more wait in the listen backlog.
    #[arg(long, env = "MAX_CONNECTIONS", default_value_t = 10_000)]
    max_connections: usize,
    /// Origins (e.g. https://app.example.com, comma-separated) a browser may call the API from;
    /// none by default (the server's own page needs none).
    #[arg(long, env = "CORS_ALLOWED_ORIGINS", default_value = "")]
    cors_allowed_origins: String,
    /// The npm package `make pkg` builds, served to the wizard page at `/`.
    #[arg(long, env = "WEB_PKG_DIR", default_value = "pkg")]
    pkg_dir: std::path::PathBuf,
    /// Days an invitation link stays valid (1-30).
    #[arg(long, env = "INVITATION_TTL_DAYS", default_value_t = 7)]
    invitation_ttl_days: u32,
    /// Invitation e-mails (new and resent) an organization may send per 24 hours; 0 = no cap.
    #[arg(long, env = "INVITATIONS_PER_DAY", default_value_t = 200)]
    invitations_per_day: u32,
    /// Invitation e-mails (new, resent, and the completion's) a user may send per 24 hours,
    /// across every organization they manage or found; 0 = no cap.
    #[arg(long, env = "INVITATIONS_PER_USER_PER_DAY", default_value_t = 200)]
    invitations_per_user_per_day: u32,
    /// The nameserver (ip:port) that domain ownership records are looked up at; default: the
    /// system's (/etc/resolv.conf).
    #[arg(long, env = "DNS_RESOLVER")]
    dns_resolver: Option<std::net::SocketAddr>,
    /// How long one lookup of a domain's ownership record may take.
    #[arg(long, env = "DNS_TIMEOUT_SECS", default_value_t = 5)]
    dns_timeout_secs: u64,
    /// Where users reach this server (e.g. https://okr.example.com), for the links in
    /// invitation e-mails; required with SMTP_URL.
    #[arg(long, env = "PUBLIC_BASE_URL")]
    public_base_url: Option<String>,
    /// The terms the review step asks users to accept: the wizard page links to them.
    #[arg(long, env = "TERMS_URL")]
    terms_url: Option<String>,
    /// The product, where the done screen's main button leads: `{slug}` in it becomes the new
    /// organization's slug (e.g. https://app.example.com/{slug}); without it the done screen
    /// shows the organization's address and invitations only.
    #[arg(long, env = "APP_URL")]
    app_url: Option<String>,
    /// Redis (redis:// or rediss://) for the write limits, the suggestion quota and the
    /// suggestion cache, shared by every replica; without it each instance keeps its own.
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    redis_url: Option<String>,
    /// Prefix of every Redis key (several deployments can share one Redis).
    #[arg(long, env = "REDIS_KEY_PREFIX", default_value = "onboarding:")]
    redis_key_prefix: String,
    #[command(flatten)]
    mail: MailArgs,
    #[command(flatten)]
    auth: AuthArgs,
}

#[derive(Args, Clone)]
struct MailArgs {
    /// The SMTP server for invitation e-mails: smtp://host[:587] (STARTTLS, see SMTP_TLS) or
    /// smtps://host[:465], optionally with user:password@ (percent-encoded). Without it the
    /// messages wait in the outbox.
    #[arg(long, env = "SMTP_URL", hide_env_values = true)]
    smtp_url: Option<String>,
    /// `required` (STARTTLS always) or `opportunistic` (only when the server offers it, which a
    /// man in the middle can strip). Unset: required for every host but loopback ones.
    #[arg(long, env = "SMTP_TLS")]
    smtp_tls: Option<String>,
    /// The sender, e.g. "Equipo OKR <no-reply@okr.example.com>"; required with SMTP_URL.
    #[arg(long, env = "MAIL_FROM")]
    mail_from: Option<String>,
    /// Attempts before a message is given up (dead).
    #[arg(long, env = "MAIL_MAX_ATTEMPTS", default_value_t = 8)]
    mail_max_attempts: u32,
    /// Milliseconds before the first retry; each further retry waits twice as long (at most an
    /// hour), with jitter.
    #[arg(long, env = "MAIL_RETRY_BASE_MS", default_value_t = 30_000)]
    mail_retry_base_ms: u64,
    /// Days sent, dead and cancelled outbox messages are kept (their bodies are already empty).
    #[arg(long, env = "MAIL_RETENTION_DAYS", default_value_t = 30)]
    mail_retention_days: u64,
    /// Milliseconds between the delivery worker's looks at the outbox.
    #[arg(long, env = "MAIL_POLL_MS", default_value_t = 1000)]
    mail_poll_ms: u64,
}

impl MailArgs {
    fn settings(&self) -> Result<Option<crate::mail::SmtpSettings>, String> {
        let Some(url) = &self.smtp_url else {
            return Ok(None);
        };
        let from = self
            .mail_from
            .clone()
            .ok_or("MAIL_FROM is required with SMTP_URL (the invitations' sender)")?;
        Ok(Some(crate::mail::SmtpSettings {
            url: url.clone(),
            from,
            max_attempts: self.mail_max_attempts.max(1),
            retry_base: Duration::from_millis(self.mail_retry_base_ms.max(1)),
            poll_interval: Duration::from_millis(self.mail_poll_ms.max(10)),
            tls: crate::mail::SmtpTls::parse(self.smtp_tls.as_deref())?,
        }))
    }
}

#[derive(Args, Clone)]
struct AuthArgs {
    /// HS256 secret.
    #[arg(long, env = "AUTH_JWT_SECRET", hide_env_values = true)]
    jwt_secret: Option<String>,
    /// RS256/ES256 public key, PEM.
    #[arg(long, env = "AUTH_JWT_PUBLIC_KEY", hide_env_values = true)]
    jwt_public_key: Option<String>,
    /// An identity provider's JWKS document (https; http only for loopback), instead of a
    /// secret or a public key: RS256, ES256 and EdDSA keys by `kid`, rotation followed.
    #[arg(long, env = "AUTH_JWKS_URL")]
    jwks_url: Option<String>,
    /// The claim holding the user's e-mail address (tokens without it may still sign in; they
    /// cannot accept invitations, and the self-invitation check is skipped).
    #[arg(long, env = "AUTH_EMAIL_CLAIM", default_value = "email")]
    email_claim: String,
    /// The claim saying whether that address is verified; when the token carries it and it is
    /// not true, the address is not trusted (no invitation can be accepted with it).
    #[arg(
        long,
        env = "AUTH_EMAIL_VERIFIED_CLAIM",
        default_value = "email_verified"
    )]
    email_verified_claim: String,
    /// The tokens' issuer (`iss`); required with AUTH_JWKS_URL.
    #[arg(long, env = "AUTH_JWT_ISSUER")]
    jwt_issuer: Option<String>,
    /// The tokens' audience (`aud`), this API's identifier at the provider; required with
    /// AUTH_JWKS_URL.
    #[arg(long, env = "AUTH_JWT_AUDIENCE")]
    jwt_audience: Option<String>,
    /// Development only: accept any issuer and audience of the AUTH_JWKS_URL provider (tokens
    /// minted for any of its applications or tenants sign in). Logged loudly at start-up.
    #[arg(long, env = "AUTH_JWT_INSECURE_ANY_AUDIENCE")]
    jwt_insecure_any_audience: bool,
    /// Seconds the JWKS keys stay usable past their max-age while the provider cannot be
    /// reached; then every token is refused until a fetch succeeds.
    #[arg(long, env = "AUTH_JWKS_MAX_STALE_SECS", default_value_t = crate::jwks::DEFAULT_MAX_STALE.as_secs())]
    jwks_max_stale_secs: u64,
    /// Platform admins (the `/api/admin/…` routes): tokens whose claim NAME holds VALUE
    /// (`NAME=VALUE`, e.g. `roles=okr-admin`; an array claim may hold it among others). Nobody
    /// without this or AUTH_ADMIN_SUBJECTS.
    #[arg(long, env = "AUTH_ADMIN_CLAIM")]
    admin_claim: Option<String>,
    /// Platform admins by subject (`sub`), comma-separated.
    #[arg(long, env = "AUTH_ADMIN_SUBJECTS", default_value = "")]
    admin_subjects: String,
}

impl AuthArgs {
    fn keys(&self) -> Result<Option<Keys>, String> {
        let (iss, aud) = (self.jwt_issuer.as_deref(), self.jwt_audience.as_deref());
        let keys = match (&self.jwt_secret, &self.jwt_public_key, &self.jwks_url) {
            (None, None, None) => return Ok(None),
            (Some(s), None, None) if s.len() < 32 => {
                return Err("AUTH_JWT_SECRET must be at least 32 characters".into())
            }
            (Some(s), None, None) => Keys::hs256(s.as_bytes(), iss, aud),
            (None, Some(pem), None) => Keys::public_pem(pem, iss, aud)?,
            (None, None, Some(url)) => {
                let settings = crate::jwks::JwksSettings {
                    max_stale: Duration::from_secs(self.jwks_max_stale_secs),
                    ..Default::default()
                };
                match (iss, aud, self.jwt_insecure_any_audience) {
                    (Some(iss), Some(aud), _) => {
                        Keys::jwks(url, iss, aud, settings)?
                    }
                    (_, _, true) => {
                        tracing::warn!("AUTH_JWT_INSECURE_ANY_AUDIENCE: tokens the identity provider signed for ANY of its applications or tenants sign in here; never in production");
                        eprintln!("\n  ************************************************************\n  *  AUTH_JWT_INSECURE_ANY_AUDIENCE: any token of the         *\n  *  identity provider signs in, whatever it was minted for.  *\n  *  Development only.                                        *\n  ************************************************************\n");
                        Keys::jwks_unchecked(url, iss, aud, settings)?
                    }
                    _ => return Err("AUTH_JWKS_URL requires AUTH_JWT_ISSUER and AUTH_JWT_AUDIENCE (the provider signs tokens for all its applications and tenants: these say which are for this API); AUTH_JWT_INSECURE_ANY_AUDIENCE=true skips them in development".into()),
                }
            }
            _ => return Err(
                "set one of AUTH_JWT_SECRET, AUTH_JWT_PUBLIC_KEY and AUTH_JWKS_URL, not several"
                    .into(),
            ),
        };
        let admin =
            crate::auth::AdminRule::parse(self.admin_claim.as_deref(), &self.admin_subjects)?;
        Ok(Some(
            keys.with_email_claim(&self.email_claim)
                .with_email_verified_claim(&self.email_verified_claim)
                .with_admin(admin),
        ))
    }
}

fn parse_ttl(s: &str) -> Result<u64, String> {
    let (num, unit) = s.trim().split_at(
        s.trim()
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(s.trim().len()),
    );
    let n: u64 = num
        .parse()
        .map_err(|_| format!("invalid --ttl {s:?}: expected e.g. 3600, 30m, 1h, 7d"))?;
    let factor = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => {
            return Err(format!(
                "invalid --ttl unit {unit:?}: expected s, m, h or d"
            ))
        }
    };
    Ok(n * factor)
}

/// The OpenAPI document on stdout (written, not printed: a closed pipe is an error, not a panic).
fn openapi() -> Result<(), String> {
    use std::io::Write;
    let (_, api) = crate::http::routes(false);
    let json = api.to_pretty_json().map_err(|e| e.to_string())?;
    writeln!(std::io::stdout().lock(), "{json}").map_err(|e| e.to_string())
}

pub async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => serve(cli.serve).await,
        Some(Command::Serve(args)) => serve(*args).await,
        Some(Command::Migrate {
            database_url,
            revert_to,
        }) => migrate(&database_url, revert_to).await,
        Some(Command::Validate { file, locale }) => return validate(file.as_deref(), &locale),
        Some(Command::Token {
            sub,
            email,
            ttl,
            platform_admin,
            auth,
        }) => token(&sub, &email, &ttl, platform_admin, &auth),
        Some(Command::Openapi) => openapi(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("onboarding-server: {message}");
            ExitCode::from(2)
        }
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).try_init();
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    init_tracing();
    let keys = match (args.auth.keys()?, args.dev) {
        (Some(_), true) => {
            eprintln!("onboarding-server: --dev ignores the configured token key and signs with a fresh secret of its own");
            Keys::dev()
        }
        (None, true) => Keys::dev(),
        (Some(k), false) => k,
        (None, false) => {
            return Err("no token key configured: set AUTH_JWT_SECRET (HS256), AUTH_JWT_PUBLIC_KEY (RS256/ES256) or AUTH_JWKS_URL (an identity provider's keys), or run with --dev for local development".into())
        }
    };
    if args.dev {
        if !args.bind.ip().is_loopback() {
            return Err(format!(
                "--dev refuses to listen on {}: development mode serves loopback addresses only",
                args.bind
            ));
        }
        eprintln!("\n  ************************************************************\n  *  DEVELOPMENT MODE: POST /api/dev/token hands out tokens   *\n  *  to anyone who asks. Never expose this server.            *\n  ************************************************************\n");
    }
    let settings = Settings {
        bind: args.bind,
        metrics_bind: args.metrics_bind,
        database_url: args.database_url,
        keys: Arc::new(keys),
        session_ttl: Duration::from_secs(args.session_ttl_days * 86_400),
        idempotency_ttl: Duration::from_secs(args.idempotency_key_ttl_hours.max(1) * 3600),
        purge_interval: Duration::from_secs(args.purge_interval_secs),
        mail_retention: Duration::from_secs(args.mail.mail_retention_days.max(1) * 86_400),
        request_timeout: Duration::from_secs(args.request_timeout_secs.max(1)),
        dev: args.dev,
        pkg_dir: Some(args.pkg_dir),
        page_links: crate::http::page::Links {
            terms_url: args.terms_url,
            app_url: args.app_url,
        },
        ai: args.ai_base_url.map(|base_url| AiSettings {
            base_url,
            api_key: args.ai_api_key,
            model: args.ai_model,
            timeout: Duration::from_millis(args.ai_timeout_ms.min(3000)),
        }),
        suggestions_per_minute: args.suggestions_per_minute.max(1),
        writes_per_user_per_minute: args.rate_limit_user_per_min,
        writes_per_ip_per_minute: args.rate_limit_ip_per_min,
        trusted_proxies: crate::ratelimit::parse_trusted_proxies(&args.trusted_proxies)?,
        header_read_timeout: Duration::from_secs(args.header_read_timeout_secs.max(1)),
        max_connections: args.max_connections.max(1),
        cors_allowed_origins: crate::http::cors::parse_origins(&args.cors_allowed_origins)?,
        invitation_ttl_days: args.invitation_ttl_days,
        invitations_per_day: args.invitations_per_day,
        invitations_per_user_per_day: args.invitations_per_user_per_day,
        dns: crate::dns::DnsSettings {
            resolver: args.dns_resolver,
            timeout: Duration::from_secs(args.dns_timeout_secs.max(1)),
        },
        public_base_url: args.public_base_url,
        smtp: args.mail.settings()?,
        redis_url: args.redis_url,
        redis_key_prefix: args.redis_key_prefix,
        status_cache: crate::store::StatusCacheSettings {
            max_bytes: args.status_cache_mb.saturating_mul(1 << 20),
            ttl: Duration::from_secs(args.status_cache_ttl_secs.max(1)),
            listen_url: args.status_cache_listen_url,
        },
    };
    let app = Application::build(settings).await?;
    tracing::info!(address = %app.local_addr(), engine = ?app.store.engine(), "listening");
    println!("onboarding-server listening on http://{}", app.local_addr());
    app.run_until_stopped().await.map_err(|e| e.to_string())
}

async fn migrate(url: &str, revert_to: Option<i64>) -> Result<(), String> {
    let store = crate::store::Store::connect(url).await?;
    match revert_to {
        None => {
            store.migrate().await?;
            println!("migrations applied ({:?})", store.engine());
        }
        Some(target) => {
            let reverted = store.revert_to(target).await?;
            println!(
                "reverted {} migration(s) ({:?}); the database is at version {}",
                reverted.len(),
                store.engine(),
                store.schema_version().await?
            );
        }
    }
    Ok(())
}

fn validate(file: Option<&str>, locale: &str) -> ExitCode {
    let text = match file {
        None | Some("-") => {
            let mut s = String::new();
            match std::io::Read::read_to_string(&mut std::io::stdin(), &mut s) {
                Ok(_) => Ok(s),
                Err(e) => Err(format!("cannot read stdin: {e}")),
            }
        }
        Some(path) => std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}")),
    };
    let outcome = text
        .and_then(|t| onboarding_core::json::parse(&t).map_err(|e| format!("invalid JSON: {e}")))
        .and_then(|v| {
            let locale = onboarding_core::Locale::parse(locale)
                .ok_or_else(|| format!("unsupported locale {locale:?}"))?;
            Ok(onboarding_core::validate_wizard(
                &v,
                &onboarding_core::Context::new(locale, crate::today(), None),
            ))
        });
    match outcome {
        Ok(report) => {
            println!("{}", onboarding_core::to_json(&report));
            if report.valid {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(message) => {
            eprintln!("onboarding-server: {message}");
            ExitCode::from(2)
        }
    }
}

fn token(
    sub: &str,
    email: &str,
    ttl: &str,
    platform_admin: bool,
    auth: &AuthArgs,
) -> Result<(), String> {
    let keys = auth.keys()?.ok_or("set AUTH_JWT_SECRET to mint tokens")?;
    println!(
        "{}",
        keys.mint_with(sub, email, parse_ttl(ttl)?, platform_admin)?
    );
    Ok(())
}
