//! Builds the application: connects and migrates the database, binds the listener (port 0 works,
//! for tests), and serves until shut down.

use crate::auth::Keys;
use crate::clock::Clock;
use crate::http::{self, AppState};
use crate::ratelimit::WriteLimits;
use crate::store::Store;
use crate::suggestions::{openai::OpenAi, Suggestions};
use axum::http::{HeaderName, Request};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

/// How long a stopping server waits for the requests in flight.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(8);

#[derive(Clone)]
pub struct Settings {
    pub bind: SocketAddr,
    /// A listener of its own for `/metrics` (which the API listener then does not serve).
    pub metrics_bind: Option<SocketAddr>,
    pub database_url: String,
    pub keys: Arc<Keys>,
    pub session_ttl: Duration,
    /// How long an `Idempotency-Key` replays (`IDEMPOTENCY_KEY_TTL_HOURS`); older ones are purged.
    pub idempotency_ttl: Duration,
    /// How often expired drafts are purged.
    pub purge_interval: Duration,
    /// How long sent, dead and cancelled outbox messages are kept (`MAIL_RETENTION_DAYS`).
    pub mail_retention: Duration,
    /// Longest a request may take before it is answered 503 `timeout`.
    pub request_timeout: Duration,
    pub dev: bool,
    /// Where the npm package (`make pkg`) is, for the wizard page at `/`.
    pub pkg_dir: Option<std::path::PathBuf>,
    /// The wizard page's links out: the terms (`TERMS_URL`) and the product (`APP_URL`).
    pub page_links: crate::http::page::Links,
    /// An OpenAI-compatible provider for suggestions (the catalog answers without one).
    pub ai: Option<AiSettings>,
    /// Suggestion requests a user may make per minute (per instance).
    pub suggestions_per_minute: u32,
    /// Writes per minute per user and per client address (per instance); 0 = no limit.
    pub writes_per_user_per_minute: u32,
    pub writes_per_ip_per_minute: u32,
    /// Peers whose `X-Forwarded-For` names the client (`TRUSTED_PROXIES`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// How long a connection may take to send a request's head, and may sit idle between
    /// requests, before it is closed (`HEADER_READ_TIMEOUT_SECS`).
    pub header_read_timeout: Duration,
    /// Connections served at once; further ones wait in the listen backlog (`MAX_CONNECTIONS`).
    pub max_connections: usize,
    /// Origins a browser may call the API from (`CORS_ALLOWED_ORIGINS`; none: same origin only).
    pub cors_allowed_origins: Vec<axum::http::HeaderValue>,
    /// How long invitation links last, in days (`INVITATION_TTL_DAYS`, 1–30).
    pub invitation_ttl_days: u32,
    /// Invitation e-mails (new and resent) an organization may send per 24 hours
    /// (`INVITATIONS_PER_DAY`; 0: no cap).
    pub invitations_per_day: u32,
    /// Invitation e-mails a user may send per 24 hours, across organizations (0: no cap).
    pub invitations_per_user_per_day: u32,
    /// Where domain ownership records are looked up (`DNS_RESOLVER`, `DNS_TIMEOUT_SECS`).
    pub dns: crate::dns::DnsSettings,
    /// Where users reach the server (`PUBLIC_BASE_URL`), for the links in e-mails; required with
    /// `smtp`. Without it, the server's own address.
    pub public_base_url: Option<String>,
    /// Invitation e-mail delivery (`SMTP_URL`…); without it the outbox fills and nothing is sent.
    pub smtp: Option<crate::mail::SmtpSettings>,
    /// Redis for limits and the suggestion cache shared by every replica (`REDIS_URL`), and the
    /// prefix of its keys (`REDIS_KEY_PREFIX`).
    pub redis_url: Option<String>,
    pub redis_key_prefix: String,
    /// The status read's cache on PostgreSQL (`STATUS_CACHE_MB`, 0: off;
    /// `STATUS_CACHE_TTL_SECS`).
    pub status_cache: crate::store::StatusCacheSettings,
}

/// Without secrets: the database password and the AI key are redacted.
impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("bind", &self.bind)
            .field(
                "database_url",
                &crate::store::redact_url(&self.database_url),
            )
            .field("keys", &self.keys)
            .field("session_ttl", &self.session_ttl)
            .field("status_cache_mb", &(self.status_cache.max_bytes >> 20))
            .field("status_cache_ttl", &self.status_cache.ttl)
            .field("request_timeout", &self.request_timeout)
            .field("dev", &self.dev)
            .field("ai", &self.ai)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("public_base_url", &self.public_base_url)
            .field("smtp", &self.smtp)
            .field(
                "redis_url",
                &self.redis_url.as_deref().map(crate::store::redact_url),
            )
            .finish_non_exhaustive()
    }
}

#[derive(Clone)]
pub struct AiSettings {
    pub base_url: String,
    pub api_key: Option<String>,
    pub model: String,
    /// Capped at 3 s.
    pub timeout: Duration,
}

impl std::fmt::Debug for AiSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AiSettings")
            .field("base_url", &crate::store::redact_url(&self.base_url))
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .field("model", &self.model)
            .field("timeout", &self.timeout)
            .finish()
    }
}

#[derive(Debug)]
pub struct Application {
    listener: tokio::net::TcpListener,
    /// `METRICS_BIND`'s listener and its one route, when configured.
    metrics_server: Option<(tokio::net::TcpListener, axum::Router)>,
    router: axum::Router,
    header_read_timeout: Duration,
    max_connections: usize,
    metrics: Arc<crate::metrics::Metrics>,
    pub store: Store,
    pub clock: Arc<Clock>,
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Application, String> {
        let metrics = Arc::new(crate::metrics::Metrics::default());
        let mut store = Store::connect(&settings.database_url).await?;
        store.cache_status(
            &settings.database_url,
            &settings.status_cache,
            metrics.clone(),
        );
        store.migrate().await?;
        let listener = tokio::net::TcpListener::bind(settings.bind)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", settings.bind))?;
        let metrics_listener = match settings.metrics_bind {
            None => None,
            Some(addr) => Some(
                tokio::net::TcpListener::bind(addr)
                    .await
                    .map_err(|e| format!("cannot listen on METRICS_BIND {addr}: {e}"))?,
            ),
        };
        let clock = store.clock.clone();
        if !(1..=30).contains(&settings.invitation_ttl_days) {
            return Err(format!(
                "INVITATION_TTL_DAYS must be 1 to 30, not {}",
                settings.invitation_ttl_days
            ));
        }
        let composer = crate::mail::Composer {
            base_url: public_base_url(
                settings.public_base_url.as_deref(),
                settings.smtp.is_some(),
                listener
                    .local_addr()
                    .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0))),
            )?,
            ttl_days: settings.invitation_ttl_days,
        };
        let sender = settings
            .smtp
            .as_ref()
            .map(crate::mail::Sender::new)
            .transpose()?;
        settings.keys.start();
        let ai = settings
            .ai
            .map(|ai| OpenAi::new(&ai.base_url, ai.api_key, ai.model, ai.timeout))
            .transpose()?;
        let redis = settings
            .redis_url
            .as_deref()
            .map(|url| crate::shared::Redis::new(url, &settings.redis_key_prefix, metrics.clone()))
            .transpose()?
            .map(Arc::new);
        let state = AppState::from(http::Shared {
            store: store.clone(),
            keys: settings.keys,
            session_ttl: settings.session_ttl,
            dev: settings.dev,
            metrics: metrics.clone(),
            page: Arc::new(http::page::Page::load(
                settings.pkg_dir.as_deref(),
                settings.dev,
                &settings.page_links,
            )),
            clock: clock.clone(),
            suggestions: Arc::new(Suggestions::new(
                ai,
                settings.suggestions_per_minute,
                redis.clone(),
            )),
            write_limits: Arc::new(
                WriteLimits::per_minute(
                    settings.writes_per_user_per_minute,
                    settings.writes_per_ip_per_minute,
                    settings.trusted_proxies,
                )
                .shared(redis.clone()),
            ),
            composer,
            invitation_ttl_ms: i64::from(settings.invitation_ttl_days) * 86_400_000,
            invitation_caps: crate::store::InvitationCaps {
                per_organization: settings.invitations_per_day,
                per_user: settings.invitations_per_user_per_day,
            },
            redis,
            metrics_on_api: metrics_listener.is_none(),
            dns: crate::dns::Dns::new(&settings.dns)?,
        });
        let metrics_server = metrics_listener.map(|listener| {
            let router = axum::Router::new()
                .route(
                    "/metrics",
                    axum::routing::get(
                        |axum::extract::State(state): axum::extract::State<AppState>| async move {
                            http::health::render_metrics(&state)
                        },
                    ),
                )
                .with_state(state.clone());
            (listener, router)
        });
        if let (Some(sender), Some(smtp)) = (sender, settings.smtp) {
            crate::mail::spawn_delivery(
                store.clone(),
                clock.clone(),
                sender,
                smtp,
                metrics.clone(),
            );
        }
        spawn_limit_cleanup(state.clone());
        spawn_purge(
            store.clone(),
            clock.clone(),
            Retention {
                sessions: settings.session_ttl,
                idempotency_keys: settings.idempotency_ttl,
                mail: settings.mail_retention,
            },
            settings.purge_interval,
        );
        let request_id = HeaderName::from_static("x-request-id");
        let timeout = settings.request_timeout;
        let mut router = http::router(state).layer(axum::middleware::from_fn(move |req, next| {
            deadline(timeout, req, next)
        }));
        if let Some(cors) = http::cors::layer(&settings.cors_allowed_origins) {
            let allowed = Arc::new(settings.cors_allowed_origins.clone());
            router = router
                .layer(cors)
                .layer(axum::middleware::from_fn(move |req, next| {
                    http::cors::refuse_other_origins(allowed.clone(), req, next)
                }));
        }
        let router = router
            .layer(PropagateRequestIdLayer::new(request_id.clone()))
            .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
                tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path())
            }))
            .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid));
        Ok(Application {
            listener,
            metrics_server,
            router,
            header_read_timeout: settings.header_read_timeout,
            max_connections: settings.max_connections.max(1),
            metrics,
            store,
            clock,
        })
    }

    /// Where `/metrics` is served when `METRICS_BIND` is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_server
            .as_ref()
            .and_then(|(l, _)| l.local_addr().ok())
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// Serves until Ctrl-C or SIGTERM, then stops accepting, finishes the requests in flight
    /// and returns; requests still open after [`SHUTDOWN_GRACE`] are dropped (their
    /// transactions roll back, so nothing is half-written).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let stopping = Arc::new(tokio::sync::Notify::new());
        let signalled = stopping.clone();
        let store = self.store.clone();
        let server = self.serve(async move {
            shutdown_signal().await;
            signalled.notify_one();
        });
        let result = tokio::select! {
            result = server => result,
            () = async {
                stopping.notified().await;
                tokio::time::sleep(SHUTDOWN_GRACE).await;
            } => {
                tracing::warn!(grace = ?SHUTDOWN_GRACE, "requests still open after the grace period; exiting");
                Ok(())
            }
        };
        // The other replicas forget the users whose sessions were written last (status cache).
        store.flush_status_changes(Duration::from_secs(1)).await;
        result
    }

    /// Serves until the process ends (tests).
    pub async fn run(self) -> std::io::Result<()> {
        self.serve(std::future::pending()).await
    }

    /// The accept loop, until `shutdown` completes; then it waits for the open connections to
    /// finish their requests. At most `max_connections` are served at once (the next waits in
    /// the listen backlog), and a connection that takes longer than `header_read_timeout` to
    /// send a request head, or idles that long between requests, is closed: a slow or idle
    /// client holds a connection slot for a bounded time. Each request knows its peer's address
    /// (`ConnectInfo`, for the per-client limit).
    async fn serve(
        mut self,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> std::io::Result<()> {
        use hyper_util::rt::{TokioIo, TokioTimer};
        use tower::ServiceExt;
        if let Some((listener, router)) = self.metrics_server.take() {
            tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, router).await {
                    tracing::error!(error = %e, "the metrics listener stopped");
                }
            });
        }
        let permits = Arc::new(tokio::sync::Semaphore::new(self.max_connections));
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        let mut http1 = hyper::server::conn::http1::Builder::new();
        http1
            .timer(TokioTimer::new())
            .header_read_timeout(self.header_read_timeout);
        tokio::pin!(shutdown);
        loop {
            let permit = tokio::select! {
                permit = permits.clone().acquire_owned() => permit.map_err(std::io::Error::other)?,
                () = &mut shutdown => break,
            };
            let (stream, peer) = tokio::select! {
                accepted = self.listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Out of file descriptors and the like: pause instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let _ = stream.set_nodelay(true);
            let router = self.router.clone();
            let service = hyper::service::service_fn(move |mut req: hyper::Request<_>| {
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                router.clone().oneshot(req)
            });
            let connection = graceful.watch(http1.serve_connection(TokioIo::new(stream), service));
            let metrics = self.metrics.clone();
            metrics.connections.inc();
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    tracing::debug!(error = %e, "connection ended");
                }
                metrics.connections.dec();
                drop(permit);
            });
        }
        drop(self.listener);
        graceful.shutdown().await;
        Ok(())
    }
}

/// The base of the links in e-mails: `PUBLIC_BASE_URL` (http or https, no query or fragment),
/// required when mail is sent; otherwise this server's own address (`localhost` for a wildcard
/// one).
fn public_base_url(
    configured: Option<&str>,
    sending: bool,
    local: SocketAddr,
) -> Result<String, String> {
    match configured {
        Some(url) => {
            let parsed = url::Url::parse(url)
                .map_err(|e| format!("PUBLIC_BASE_URL {url:?} is not a URL: {e}"))?;
            if !matches!(parsed.scheme(), "http" | "https")
                || parsed.host_str().is_none()
                || parsed.query().is_some()
                || parsed.fragment().is_some()
            {
                return Err(format!(
                    "PUBLIC_BASE_URL {url:?} must be an http(s) URL without query or fragment"
                ));
            }
            Ok(url.trim_end_matches('/').to_owned())
        }
        None if sending => Err(
            "PUBLIC_BASE_URL is required with SMTP_URL: the invitation e-mails link to it".into(),
        ),
        None if local.ip().is_unspecified() => Ok(format!("http://localhost:{}", local.port())),
        None => Ok(format!("http://{local}")),
    }
}

/// The request timeout: a request still running after `timeout` is answered 503 `timeout` and
/// dropped (rolling back what it had open), unless one of its commits has begun: then it is
/// answered with its real outcome (`store::gate`), so a 503 always means nothing was written.
async fn deadline(
    timeout: Duration,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let gate = Arc::new(crate::store::gate::CommitGate::default());
    let request = crate::store::gate::scope(gate.clone(), next.run(req));
    tokio::pin!(request);
    tokio::select! {
        response = &mut request => response,
        () = tokio::time::sleep(timeout) => {
            if gate.close() {
                crate::error::ApiError::Timeout.into_response()
            } else {
                request.await
            }
        }
    }
}

/// Once a minute, the rate limiters forget the keys whose allowance is whole again.
fn spawn_limit_cleanup(state: AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            state.write_limits.retain_recent();
            state.suggestions.retain_recent();
        }
    });
}

/// How long the purge keeps each kind of row.
struct Retention {
    sessions: Duration,
    idempotency_keys: Duration,
    mail: Duration,
}

/// The background task that expires inactive sessions, purges their drafts, and deletes old
/// idempotency keys and finished outbox messages.
fn spawn_purge(store: Store, clock: Arc<Clock>, keep: Retention, every: Duration) {
    let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
    let (ttl_ms, keys_ms, mail_ms) = (ms(keep.sessions), ms(keep.idempotency_keys), ms(keep.mail));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every.max(Duration::from_secs(1)));
        loop {
            tick.tick().await;
            match store.expire_sessions(clock.now_ms(), ttl_ms).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(sessions = n, "expired inactive onboarding sessions"),
                Err(e) => tracing::warn!(error = %e, "expiry purge failed; will retry"),
            }
            match store.purge_idempotency_keys(clock.now_ms(), keys_ms).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(keys = n, "purged old idempotency keys"),
                Err(e) => tracing::warn!(error = %e, "idempotency key purge failed; will retry"),
            }
            match store.purge_outbox(clock.now_ms(), mail_ms).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(messages = n, "purged finished outbox messages"),
                Err(e) => tracing::warn!(error = %e, "outbox purge failed; will retry"),
            }
        }
    });
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
