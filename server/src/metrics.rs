//! Prometheus metrics, kept by `prometheus-client` in a registry of the app's own (no global
//! recorder, so two apps in one test process count apart): requests and their durations per
//! route, and the onboarding counters, rendered in the OpenMetrics text format at `GET /metrics`.
//!
//! Every label comes from a fixed set, so no request can add series: the route is the matched
//! route template (or `unmatched`), the method one of the seven the API knows or `other`, the
//! status its class (`2xx`…). An invented method or path costs nothing to keep.

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::time::Instant;

/// The method label: the ones the API answers, anything else `other`.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(clippy::upper_case_acronyms, non_camel_case_types)]
enum MethodLabel {
    GET,
    POST,
    PUT,
    DELETE,
    PATCH,
    HEAD,
    OPTIONS,
    other,
}

impl From<&Method> for MethodLabel {
    fn from(m: &Method) -> MethodLabel {
        match *m {
            Method::GET => MethodLabel::GET,
            Method::POST => MethodLabel::POST,
            Method::PUT => MethodLabel::PUT,
            Method::DELETE => MethodLabel::DELETE,
            Method::PATCH => MethodLabel::PATCH,
            Method::HEAD => MethodLabel::HEAD,
            Method::OPTIONS => MethodLabel::OPTIONS,
            _ => MethodLabel::other,
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: MethodLabel,
    /// A route template of the router (finite), or `unmatched`.
    route: Arc<str>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: MethodLabel,
    route: Arc<str>,
    /// `1xx` … `5xx`.
    status: &'static str,
}

fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// Request-duration buckets, in seconds (0.5 ms to 10 s: the request timeout's range).
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

fn duration_histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: Family<RouteLabels, Histogram, fn() -> Histogram>,
    pub sessions_started: Counter,
    pub steps_saved: Counter,
    pub completions: Counter,
    /// Connections open now (the server's accept loop counts them).
    pub connections: Gauge,
    /// The mail outbox: messages sent, attempts that failed and will be retried, messages given
    /// up; and (refreshed by the delivery worker) how many wait and how many are dead.
    pub mail_sent: Counter,
    pub mail_retried: Counter,
    pub mail_dead: Counter,
    pub outbox_pending: Gauge,
    pub outbox_dead: Gauge,
    /// Redis (`REDIS_URL`): 1 while it answers, 0 while the server falls back to in-process
    /// limits (and when no Redis is configured); calls that failed.
    pub redis_up: Gauge,
    pub redis_errors: Counter,
    /// The status read's cache (PostgreSQL): reads it answered, reads that went to the database
    /// while it was on, and 1 while it is subscribed to the other replicas' changes.
    pub status_cache_hits: Counter,
    pub status_cache_misses: Counter,
    pub status_cache_live: Gauge,
}

impl Default for Metrics {
    fn default() -> Metrics {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let durations: Family<RouteLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(duration_histogram);
        let (sessions_started, steps_saved, completions) = Default::default();
        let connections = Gauge::default();
        let (mail_sent, mail_retried, mail_dead) = Default::default();
        let (outbox_pending, outbox_dead, redis_up) = Default::default();
        let redis_errors = Counter::default();
        let (status_cache_hits, status_cache_misses) = Default::default();
        let status_cache_live = Gauge::default();
        registry.register(
            "http_requests",
            "HTTP requests by method, route template and status class",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Request latency by method and route template",
            durations.clone(),
        );
        registry.register(
            "onboarding_sessions_started",
            "Onboarding sessions created",
            Counter::clone(&sessions_started),
        );
        registry.register(
            "onboarding_steps_saved",
            "Wizard steps saved",
            Counter::clone(&steps_saved),
        );
        registry.register(
            "onboarding_completions",
            "Onboardings completed (organizations created)",
            Counter::clone(&completions),
        );
        registry.register(
            "http_open_connections",
            "TCP connections open now",
            connections.clone(),
        );
        registry.register(
            "mail_sent",
            "Outbox messages delivered to the SMTP server",
            Counter::clone(&mail_sent),
        );
        registry.register(
            "mail_retried",
            "Delivery attempts that failed and will be retried",
            Counter::clone(&mail_retried),
        );
        registry.register(
            "mail_dead",
            "Outbox messages given up (permanent refusal or MAIL_MAX_ATTEMPTS reached)",
            Counter::clone(&mail_dead),
        );
        registry.register(
            "mail_outbox_pending",
            "Outbox messages waiting to be sent",
            Gauge::clone(&outbox_pending),
        );
        registry.register(
            "mail_outbox_dead",
            "Outbox messages given up, in the database",
            Gauge::clone(&outbox_dead),
        );
        registry.register(
            "redis_up",
            "1 while Redis answers; 0 while limits fall back to this instance (or no REDIS_URL)",
            Gauge::clone(&redis_up),
        );
        registry.register(
            "redis_errors",
            "Redis calls that failed (the server fell back to in-process state)",
            Counter::clone(&redis_errors),
        );
        registry.register(
            "status_cache_hits",
            "Status reads answered by this instance's cache (PostgreSQL)",
            Counter::clone(&status_cache_hits),
        );
        registry.register(
            "status_cache_misses",
            "Status reads that went to the database while the cache was on",
            Counter::clone(&status_cache_misses),
        );
        registry.register(
            "status_cache_live",
            "1 while the status cache hears other replicas' changes (LISTEN); 0: not in use",
            Gauge::clone(&status_cache_live),
        );
        Metrics {
            registry,
            requests,
            durations,
            sessions_started,
            steps_saved,
            completions,
            connections,
            mail_sent,
            mail_retried,
            mail_dead,
            outbox_pending,
            outbox_dead,
            redis_up,
            redis_errors,
            status_cache_hits,
            status_cache_misses,
            status_cache_live,
        }
    }
}

impl Metrics {
    fn observe(&self, method: &Method, route: Arc<str>, status: u16, seconds: f64) {
        let method = MethodLabel::from(method);
        self.durations
            .get_or_create(&RouteLabels {
                method,
                route: route.clone(),
            })
            .observe(seconds);
        self.requests
            .get_or_create(&RequestLabels {
                method,
                route,
                status: status_class(status),
            })
            .inc();
    }

    /// The OpenMetrics text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "cannot encode the metrics");
        }
        out
    }
}

/// Middleware: times every request and counts it under its route template.
pub async fn track(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let route: Arc<str> = match req.extensions().get::<MatchedPath>() {
        Some(p) => Arc::from(p.as_str()),
        None => Arc::from("unmatched"),
    };
    let method = req.method().clone();
    let start = Instant::now();
    let response = next.run(req).await;
    metrics.observe(
        &method,
        route,
        response.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invented_methods_share_one_series() {
        let m = Metrics::default();
        for i in 0..100 {
            let method = Method::from_bytes(format!("X{i:0>200}").as_bytes()).unwrap();
            m.observe(&method, Arc::from("unmatched"), 405, 0.001);
        }
        m.observe(&Method::GET, Arc::from("/healthz"), 200, 0.001);
        let text = m.render();
        assert!(
            text.contains(
                r#"http_requests_total{method="other",route="unmatched",status="4xx"} 100"#
            ),
            "{text}"
        );
        assert!(!text.contains("X000"), "{text}");
        assert!(text.len() < 8_000, "{}", text.len());
    }
}
