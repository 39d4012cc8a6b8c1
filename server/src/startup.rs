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

#[derive(Clone, Debug)]
pub struct Settings {
    pub bind: SocketAddr,
    pub database_url: String,
    pub keys: Arc<Keys>,
    pub session_ttl: Duration,
    /// How often expired drafts are purged.
    pub purge_interval: Duration,
    /// Longest a request may take before it is answered 503 `timeout`.
    pub request_timeout: Duration,
    pub dev: bool,
    /// Where the npm package (`make pkg`) is, for the wizard page at `/`.
    pub pkg_dir: Option<std::path::PathBuf>,
    /// An OpenAI-compatible provider for suggestions (the catalog answers without one).
    pub ai: Option<AiSettings>,
    /// Suggestion requests a user may make per minute (per instance).
    pub suggestions_per_minute: u32,
    /// Writes per minute per user and per client address (per instance); 0 = no limit.
    pub writes_per_user_per_minute: u32,
    pub writes_per_ip_per_minute: u32,
}

#[derive(Clone, Debug)]
pub struct AiSettings {
    pub base_url: String,
    pub api_key: Option<String>,
    pub model: String,
    /// Capped at 3 s.
    pub timeout: Duration,
}

#[derive(Debug)]
pub struct Application {
    listener: tokio::net::TcpListener,
    router: axum::Router,
    pub store: Store,
    pub clock: Arc<Clock>,
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Application, String> {
        let store = Store::connect(&settings.database_url).await?;
        store.migrate().await?;
        let listener = tokio::net::TcpListener::bind(settings.bind)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", settings.bind))?;
        let clock = store.clock.clone();
        let ai = settings
            .ai
            .map(|ai| OpenAi::new(&ai.base_url, ai.api_key, ai.model, ai.timeout))
            .transpose()?;
        let state = AppState::from(http::Shared {
            store: store.clone(),
            keys: settings.keys,
            session_ttl: settings.session_ttl,
            dev: settings.dev,
            metrics: Default::default(),
            page: Arc::new(http::page::Page::load(
                settings.pkg_dir.as_deref(),
                settings.dev,
            )),
            clock: clock.clone(),
            suggestions: Arc::new(Suggestions::new(ai, settings.suggestions_per_minute)),
            write_limits: Arc::new(WriteLimits::per_minute(
                settings.writes_per_user_per_minute,
                settings.writes_per_ip_per_minute,
            )),
        });
        spawn_purge(
            store.clone(),
            clock.clone(),
            settings.session_ttl,
            settings.purge_interval,
        );
        let request_id = HeaderName::from_static("x-request-id");
        let timeout = settings.request_timeout;
        let router = http::router(state)
            .layer(
                tower::ServiceBuilder::new()
                    .layer(axum::error_handling::HandleErrorLayer::new(|_: tower::BoxError| async {
                        crate::error::ApiError::Timeout
                    }))
                    .timeout(timeout),
            )
            .layer(PropagateRequestIdLayer::new(request_id.clone()))
            .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
                tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path())
            }))
            .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid));
        Ok(Application {
            listener,
            router,
            store,
            clock,
        })
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
        let service = self.service();
        let stopping = Arc::new(tokio::sync::Notify::new());
        let signalled = stopping.clone();
        let server = axum::serve(self.listener, service).with_graceful_shutdown(async move {
            shutdown_signal().await;
            signalled.notify_one();
        });
        tokio::select! {
            result = server => result,
            () = async {
                stopping.notified().await;
                tokio::time::sleep(SHUTDOWN_GRACE).await;
            } => {
                tracing::warn!(grace = ?SHUTDOWN_GRACE, "requests still open after the grace period; exiting");
                Ok(())
            }
        }
    }

    /// Serves until the process ends (tests).
    pub async fn run(self) -> std::io::Result<()> {
        let service = self.service();
        axum::serve(self.listener, service).await
    }

    /// The router, with each request knowing its client's address (for the per-address limit).
    fn service(
        &self,
    ) -> axum::extract::connect_info::IntoMakeServiceWithConnectInfo<axum::Router, SocketAddr> {
        self.router
            .clone()
            .into_make_service_with_connect_info::<SocketAddr>()
    }
}

/// The background task that expires inactive sessions and purges their drafts.
fn spawn_purge(store: Store, clock: Arc<Clock>, ttl: Duration, every: Duration) {
    let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every.max(Duration::from_secs(1)));
        loop {
            tick.tick().await;
            match store.expire_sessions(clock.now_ms(), ttl_ms).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(sessions = n, "expired inactive onboarding sessions"),
                Err(e) => tracing::warn!(error = %e, "expiry purge failed; will retry"),
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
