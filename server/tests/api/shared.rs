//! Two server instances on one database and one Redis (`REDIS_URL`): the write limit holds
//! across them, the suggestion cache filled through one is hit through the other, and Redis
//! stopped mid-run costs no request (limits fall back to each instance) and is used again once
//! it is back. The machine's Redis (127.0.0.1:6379, started by `.ci/run`) serves the first two,
//! each test under keys of its own; the third runs a `redis-server` of its own, to stop it.

use crate::helpers::{spawn_app_with, Engine, TestApp};
use crate::insights::{draft, fake_provider};
use onboarding_server::startup::{AiSettings, Settings};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

crate::each_engine!(
    two_instances_share_the_write_limit,
    the_suggestion_cache_filled_through_one_is_hit_through_the_other,
    redis_stopped_mid_run_then_started,
);

const MACHINE_REDIS: &str = "redis://127.0.0.1:6379";

/// The machine's Redis, or `None` (skip) when it is not running — except under CI.
fn machine_redis() -> Option<&'static str> {
    if std::net::TcpStream::connect("127.0.0.1:6379").is_ok() {
        return Some(MACHINE_REDIS);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "Redis is not running at 127.0.0.1:6379 (.ci/run starts it)"
    );
    eprintln!("skipped: no Redis at 127.0.0.1:6379");
    None
}

fn with_redis(url: &str, prefix: &str, per_minute: u32) -> impl Fn(&mut Settings) + Clone {
    let (url, prefix) = (url.to_owned(), prefix.to_owned());
    move |s: &mut Settings| {
        s.redis_url = Some(url.clone());
        s.redis_key_prefix = prefix.clone();
        s.writes_per_user_per_minute = per_minute;
    }
}

fn unique_prefix() -> String {
    format!("test-{}:", uuid::Uuid::new_v4().simple())
}

/// `n` writes of `user`, alternating between the two instances: (2xx, 429, other statuses, and
/// how many writes a 20-a-minute limit refilled meanwhile).
async fn alternate(
    a: &TestApp,
    b: &TestApp,
    user: &str,
    n: usize,
) -> (usize, usize, Vec<u16>, usize) {
    let started = Instant::now();
    let (mut ok, mut limited, mut other) = (0, 0, Vec::new());
    for i in 0..n {
        let app = if i % 2 == 0 { a } else { b };
        let r = app.post("/api/onboarding/start", user, None).await;
        match r.status {
            200..=299 => ok += 1,
            429 => limited += 1,
            s => other.push(s),
        }
    }
    (ok, limited, other, refills(started))
}

/// 30 writes against a shared limit of 20: 20 pass and 10 are refused (a run slower than 3 s
/// may pass one more per 3 s).
fn assert_shared_limit((ok, limited, other, refills): (usize, usize, Vec<u16>, usize)) {
    assert_eq!(other, Vec::<u16>::new());
    assert_eq!(ok + limited, 30);
    assert!(
        ok >= 20 && ok <= 20 + refills,
        "{ok} passed, {limited} refused"
    );
}

/// Writes a 20-a-minute limit may have refilled since `started` (one every 3 s).
fn refills(started: Instant) -> usize {
    (started.elapsed().as_secs_f64() / 3.0).floor() as usize
}

async fn two_instances_share_the_write_limit(engine: Engine) {
    let Some(url) = machine_redis() else {
        return;
    };
    let config = with_redis(url, &unique_prefix(), 20);
    let Some(a) = spawn_app_with(engine, config.clone()).await else {
        return;
    };
    let b = a.another_instance_with(config).await;
    // Each instance alone would allow 20, so 15 each would all pass: shared, 20 pass in all.
    assert_shared_limit(alternate(&a, &b, "uno", 30).await);
    // Another user has an allowance of their own.
    let (ok, limited, _, _) = alternate(&a, &b, "dos", 4).await;
    assert_eq!((ok, limited), (4, 0));
    assert!(a.text("/readyz").await.contains("redis: up"));
}

async fn the_suggestion_cache_filled_through_one_is_hit_through_the_other(engine: Engine) {
    let Some(url) = machine_redis() else {
        return;
    };
    let (provider, calls, _) = fake_provider(Duration::ZERO).await;
    let redis = with_redis(url, &unique_prefix(), 600);
    let config = move |s: &mut Settings| {
        redis(s);
        s.ai = Some(AiSettings {
            base_url: provider.clone(),
            api_key: None,
            model: "fake".into(),
            timeout: Duration::from_secs(3),
        });
    };
    let Some(a) = spawn_app_with(engine, config.clone()).await else {
        return;
    };
    let b = a.another_instance_with(config.clone()).await;
    draft(&a, "ana", Some("extensive")).await;
    const SUGGESTIONS: &str = "/api/onboarding/suggestions?step=objectives";
    let first = a.get(SUGGESTIONS, "ana").await;
    assert_eq!(first.body["source"], "ai", "{}", first.body);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let second = b.get(SUGGESTIONS, "ana").await;
    assert_eq!(second.body["source"], "ai", "{}", second.body);
    assert_eq!(second.body["suggestions"], first.body["suggestions"]);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "the other instance hit the cache"
    );
    // An instance without Redis has only its own (empty) cache: the provider is asked again.
    let alone = a
        .another_instance_with(move |s| {
            config(s);
            s.redis_url = None;
        })
        .await;
    alone.get(SUGGESTIONS, "ana").await;
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

/// The same with two server processes (the real binary) on one PostgreSQL database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_server_processes_share_the_write_limit() {
    let Some(url) = machine_redis() else {
        return;
    };
    let Some(db) = crate::helpers::fresh_postgres_database().await else {
        eprintln!("skipped: TEST_DATABASE_URL is not set");
        return;
    };
    let prefix = unique_prefix();
    let env = [
        ("REDIS_URL", url),
        ("REDIS_KEY_PREFIX", prefix.as_str()),
        ("RATE_LIMIT_USER_PER_MIN", "20"),
    ];
    // The first migrates the database before the second starts.
    let first = crate::helpers::ServerProcess::start_on(Some(&db), &[], &env);
    let second = crate::helpers::ServerProcess::start_on(Some(&db), &[], &env);
    let keys = onboarding_server::auth::Keys::hs256(crate::helpers::SECRET.as_bytes(), None, None);
    let token = keys.mint("uno", "uno@example.com", 600).unwrap();
    let http = reqwest::Client::new();
    let mut statuses = Vec::new();
    let started = Instant::now();
    for i in 0..30 {
        let base = if i % 2 == 0 {
            &first.base
        } else {
            &second.base
        };
        let r = http
            .post(format!("{base}/api/onboarding/start"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    let ok = statuses.iter().filter(|s| (200..300).contains(*s)).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(ok + limited, 30, "{statuses:?}");
    // (A run slower than 3 s may see the limit refilled once per 3 s.)
    assert!(ok >= 20 && ok <= 20 + refills(started), "{statuses:?}");
}

/// Whether `/metrics` has this sample line.
async fn metric(app: &TestApp, line: &str) -> bool {
    app.text("/metrics").await.lines().any(|l| l == line)
}

/// A `redis-server` of the test's own on `port` (nothing kept on disk); killed on drop.
struct OwnRedis {
    child: Child,
}

impl OwnRedis {
    fn start(port: u16) -> OwnRedis {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--dir"])
            .arg(std::env::temp_dir())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts (Debian's redis-server package)");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server does not listen"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        OwnRedis { child }
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn redis_stopped_mid_run_then_started(engine: Engine) {
    if machine_redis().is_none() {
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let redis = OwnRedis::start(port);
    let config = with_redis(&format!("redis://127.0.0.1:{port}"), "t:", 20);
    let Some(a) = spawn_app_with(engine, config.clone()).await else {
        return;
    };
    let b = a.another_instance_with(config).await;
    assert_shared_limit(alternate(&a, &b, "before", 30).await);

    // Redis stops: every request is still answered (no 5xx), limits fall back to each instance,
    // and the outage shows in /readyz and /metrics.
    drop(redis);
    let (ok, limited, other, _) = alternate(&a, &b, "during", 30).await;
    assert_eq!(other, Vec::<u16>::new());
    assert_eq!(
        (ok, limited),
        (30, 0),
        "each instance counts 15 of its own 20"
    );
    assert!(a.text("/readyz").await.contains("redis: unavailable"));
    assert!(metric(&a, "redis_up 0").await);
    assert!(!metric(&b, "redis_errors_total 0").await);

    // Redis is back (empty): once each instance has reached it again, the shared limit holds.
    let _redis = OwnRedis::start(port);
    let started = Instant::now();
    loop {
        a.post("/api/onboarding/start", "warm-up", None).await;
        b.post("/api/onboarding/start", "warm-up", None).await;
        if metric(&a, "redis_up 1").await && metric(&b, "redis_up 1").await {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "Redis not used again"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_shared_limit(alternate(&a, &b, "after", 30).await);
    assert!(b.text("/readyz").await.contains("redis: up"));
}

/// A TCP proxy in front of the machine's Redis that holds each chunk the server sends for a
/// configurable delay, and counts them (one chunk per command the server waits on).
struct SlowProxy {
    url: String,
    delay_ms: std::sync::Arc<std::sync::atomic::AtomicU64>,
    chunks: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl SlowProxy {
    async fn start() -> SlowProxy {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("redis://{}", listener.local_addr().unwrap());
        let delay_ms = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let chunks = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (delay, count) = (delay_ms.clone(), chunks.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let upstream = tokio::net::TcpStream::connect("127.0.0.1:6379")
                    .await
                    .unwrap();
                let (mut from_client, mut to_client) = client.into_split();
                let (mut from_redis, mut to_redis) = upstream.into_split();
                let (delay, count) = (delay.clone(), count.clone());
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 64 * 1024];
                    while let Ok(n) = from_client.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                        count.fetch_add(1, Ordering::SeqCst);
                        let ms = delay.load(Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(ms)).await;
                        if to_redis.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                });
                tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut from_redis, &mut to_client).await;
                });
            }
        });
        SlowProxy {
            url,
            delay_ms,
            chunks,
        }
    }
}

/// Hardening II, item 12: a write costs one Redis round trip for both its limits (the client's
/// address and the user), however slow Redis is; and when Redis stops answering in time, the
/// in-process limiter goes on from the writes it counted all along instead of a fresh allowance.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_redis_costs_one_round_trip_and_its_fallback_keeps_counting() {
    if machine_redis().is_none() {
        return;
    }
    let proxy = SlowProxy::start().await;
    let prefix = unique_prefix();
    let url = proxy.url.clone();
    let app = spawn_app_with(Engine::Sqlite, move |s| {
        s.redis_url = Some(url);
        s.redis_key_prefix = prefix;
        s.writes_per_user_per_minute = 6;
        s.writes_per_ip_per_minute = 1000;
    })
    .await
    .unwrap();
    // The first write loads the script (and connects); later ones run it by its hash.
    assert!(app.post("/api/onboarding/start", "ana", None).await.status < 300);
    proxy.delay_ms.store(150, Ordering::SeqCst);
    for _ in 0..2 {
        let before = proxy.chunks.load(Ordering::SeqCst);
        let r = app.post("/api/onboarding/start", "ana", None).await;
        assert!(r.status < 300, "{}", r.body);
        let sent = proxy.chunks.load(Ordering::SeqCst) - before;
        assert_eq!(sent, 1, "Redis commands for one write");
    }
    // Three writes counted (in Redis and here). Redis now answers too late: the fallback
    // admits the three left of the six, not six more.
    proxy.delay_ms.store(1500, Ordering::SeqCst);
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(app.post("/api/onboarding/start", "ana", None).await.status);
    }
    let passed = statuses.iter().filter(|s| **s < 300).count();
    assert_eq!(passed, 3, "{statuses:?}");
    assert!(statuses[3..].iter().all(|s| *s == 429), "{statuses:?}");
}
