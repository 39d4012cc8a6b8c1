use onboarding_server::auth::Keys;
use onboarding_server::startup::{Application, Settings};
use onboarding_server::store::Store;
use reqwest::{Client, Method, Response};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

pub const SECRET: &str = "test-secret-test-secret-test-secret-0123";

#[derive(Clone, Copy, Debug)]
pub enum Engine {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub base: String,
    /// The `METRICS_BIND` listener's base URL, when the settings gave one.
    pub metrics_base: Option<String>,
    /// The database URL (a second instance can share it).
    pub url: String,
    pub store: Store,
    /// A pool of the test's own on the same database, for checks in SQL (both engines).
    pub pool: sqlx::AnyPool,
    pub clock: std::sync::Arc<onboarding_server::clock::Clock>,
    pub keys: Arc<Keys>,
    pub http: Client,
    _dir: Option<tempdir::TempDir>,
}

/// A temporary directory removed on drop (enough for a SQLite file; no extra dependency).
pub mod tempdir {
    pub struct TempDir(pub std::path::PathBuf);
    impl TempDir {
        pub fn new() -> TempDir {
            let p = std::env::temp_dir().join(format!("onboarding-test-{}", uuid::Uuid::new_v4()));
            std::fs::create_dir_all(&p).unwrap();
            TempDir(p)
        }
    }
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// The PostgreSQL admin URL, or `None` to skip (never under CI).
fn postgres_admin_url() -> Option<String> {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => panic!("TEST_DATABASE_URL must be set under CI"),
        _ => None,
    }
}

pub async fn fresh_postgres_database() -> Option<String> {
    let admin = postgres_admin_url()?;
    sqlx::any::install_default_drivers();
    let name = format!("onboarding_test_{}", uuid::Uuid::new_v4().simple());
    let pool = sqlx::AnyPool::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at TEST_DATABASE_URL unreachable: {e}"));
    sqlx::query(&format!("create database {name}"))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let base = admin
        .rsplit_once('/')
        .map(|(b, _)| b.to_owned())
        .unwrap_or(admin);
    Some(format!("{base}/{name}"))
}

pub async fn spawn_app(engine: Engine) -> Option<TestApp> {
    spawn_app_with_timeout(engine, Duration::from_secs(10)).await
}

pub async fn spawn_app_with_timeout(engine: Engine, request_timeout: Duration) -> Option<TestApp> {
    spawn_app_with(engine, |s| s.request_timeout = request_timeout).await
}

/// An app whose settings `configure` adjusts (AI provider, rate limits, timeouts).
pub async fn spawn_app_with(
    engine: Engine,
    configure: impl FnOnce(&mut Settings),
) -> Option<TestApp> {
    // Server logs go to the test's captured output (shown for failing tests); TEST_LOG=debug for more.
    let filter = std::env::var("TEST_LOG").unwrap_or_else(|_| "warn".into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
    let (url, dir) = match engine {
        Engine::Sqlite => {
            let dir = tempdir::TempDir::new();
            (
                format!("sqlite://{}/test.db?mode=rwc", dir.0.display()),
                Some(dir),
            )
        }
        Engine::Postgres => (fresh_postgres_database().await?, None),
    };
    let keys = Arc::new(test_keys());
    let mut settings = settings(url.clone(), keys.clone());
    configure(&mut settings);
    Some(start(settings, keys, dir).await)
}

/// The tests' HS256 keys, with `platform_admin: true` configured as the admin claim (as
/// `AUTH_ADMIN_CLAIM=platform_admin=true` does).
pub fn test_keys() -> Keys {
    Keys::hs256(SECRET.as_bytes(), None, None).with_admin(onboarding_server::auth::AdminRule {
        claim: Some(("platform_admin".into(), "true".into())),
        subjects: Vec::new(),
    })
}

/// The settings every test app starts from.
fn settings(url: String, keys: Arc<Keys>) -> Settings {
    Settings {
        bind: "127.0.0.1:0".parse().unwrap(),
        metrics_bind: None,
        database_url: url,
        keys,
        session_ttl: Duration::from_secs(7 * 86_400),
        idempotency_ttl: Duration::from_secs(24 * 3600),
        purge_interval: Duration::from_secs(3600),
        mail_retention: Duration::from_secs(30 * 86_400),
        request_timeout: Duration::from_secs(10),
        dev: false,
        pkg_dir: None,
        page_links: Default::default(),
        ai: None,
        suggestions_per_minute: 30,
        writes_per_user_per_minute: 600,
        writes_per_ip_per_minute: 6000,
        trusted_proxies: Vec::new(),
        header_read_timeout: Duration::from_secs(10),
        max_connections: 10_000,
        cors_allowed_origins: Vec::new(),
        invitation_ttl_days: 7,
        invitations_per_day: 200,
        invitations_per_user_per_day: 200,
        dns: Default::default(),
        public_base_url: None,
        smtp: None,
        redis_url: None,
        redis_key_prefix: "onboarding:".into(),
        status_cache: Default::default(),
    }
}

async fn start(settings: Settings, keys: Arc<Keys>, dir: Option<tempdir::TempDir>) -> TestApp {
    let url = settings.database_url.clone();
    let app = Application::build(settings).await.expect("app builds");
    let base = format!("http://{}", app.local_addr());
    let metrics_base = app.metrics_addr().map(|a| format!("http://{a}"));
    let store = app.store.clone();
    let clock = app.clock.clone();
    tokio::spawn(app.run());
    let pool = any_pool(&url).await;
    TestApp {
        base,
        metrics_base,
        url,
        store,
        pool,
        clock,
        keys,
        http: Client::new(),
        _dir: dir,
    }
}

/// A pool of the test's own on `url` (the server has none on the `Any` driver): SQLite's
/// connections set up as the server's are (WAL, the busy timeout, foreign keys).
pub async fn any_pool(url: &str) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    let sqlite = url.starts_with("sqlite:");
    sqlx::any::AnyPoolOptions::new()
        .max_connections(4)
        .after_connect(move |conn, _| {
            Box::pin(async move {
                if sqlite {
                    use sqlx::Executor;
                    conn.execute(sqlx::raw_sql(
                        "pragma journal_mode = wal; pragma busy_timeout = 10000; \
                         pragma foreign_keys = on; pragma synchronous = normal",
                    ))
                    .await?;
                }
                Ok(())
            })
        })
        .connect(url)
        .await
        .expect("the test's pool connects")
}

/// The server binary started as a process (`serve` on 127.0.0.1:0 and a fresh SQLite file,
/// unless `args` say otherwise), with its base URL once it listens. Killed on drop.
pub struct ServerProcess {
    pub child: std::process::Child,
    pub base: String,
    pub dir: tempdir::TempDir,
}

impl ServerProcess {
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> ServerProcess {
        ServerProcess::start_on(None, args, env)
    }

    /// [`ServerProcess::start`] on the database `url` (a fresh SQLite file when `None`).
    pub fn start_on(url: Option<&str>, args: &[&str], env: &[(&str, &str)]) -> ServerProcess {
        use std::io::{BufRead, BufReader};
        let dir = tempdir::TempDir::new();
        let url = url.map_or_else(
            || format!("sqlite://{}/server.db?mode=rwc", dir.0.display()),
            str::to_owned,
        );
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_onboarding-server"))
            .args(["serve", "--bind", "127.0.0.1:0", "--database-url"])
            .arg(url)
            .args(args)
            .env("AUTH_JWT_SECRET", SECRET)
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        while !line.contains("listening on") {
            line.clear();
            assert!(
                out.read_line(&mut line).unwrap() > 0,
                "the server exited before listening"
            );
        }
        let base = line.trim().rsplit(' ').next().unwrap().to_owned();
        ServerProcess { child, base, dir }
    }

    /// Its SQLite file's URL.
    pub fn database_url(&self) -> String {
        format!("sqlite://{}/server.db", self.dir.0.display())
    }

    /// Resident memory, in bytes (Linux).
    pub fn resident_bytes(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap();
        kb * 1024
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl TestApp {
    /// The PostgreSQL engine of a PostgreSQL test (its request transactions run as the app
    /// role with a user's id).
    pub fn pg(&self) -> &onboarding_server::store::PgStore {
        self.store.postgres().expect("a PostgreSQL test")
    }

    /// A second server instance on the same database (its own pool, caches and limits).
    pub async fn another_instance(&self) -> TestApp {
        self.another_instance_with(|_| {}).await
    }

    /// [`TestApp::another_instance`] with its own settings.
    pub async fn another_instance_with(&self, configure: impl FnOnce(&mut Settings)) -> TestApp {
        let mut settings = settings(self.url.clone(), self.keys.clone());
        configure(&mut settings);
        start(settings, self.keys.clone(), None).await
    }

    pub fn token(&self, user: &str) -> String {
        self.keys
            .mint(user, &format!("{user}@example.com"), 3600)
            .unwrap()
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        user: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(u) = user {
            req = req.bearer_auth(self.token(u));
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        reply(req.send().await.unwrap()).await
    }

    /// The text a GET of `path` answers, without a token (`/metrics`, `/readyz`).
    pub async fn text(&self, path: &str) -> String {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str, user: &str) -> Reply {
        self.send(Method::GET, path, Some(user), None, &[]).await
    }

    /// `POST /api/onboarding/complete` as `user` with these headers.
    pub async fn complete(&self, user: &str, headers: &[(&str, &str)]) -> Reply {
        self.send(
            Method::POST,
            "/api/onboarding/complete",
            Some(user),
            None,
            headers,
        )
        .await
    }

    pub async fn post(&self, path: &str, user: &str, body: Option<&Value>) -> Reply {
        self.send(Method::POST, path, Some(user), body, &[]).await
    }

    pub async fn put_step(
        &self,
        user: &str,
        step: &str,
        data: &Value,
        if_match: Option<i64>,
    ) -> Reply {
        let tag = if_match.map(|v| format!("\"{v}\""));
        let headers: Vec<(&str, &str)> = tag.iter().map(|t| ("if-match", t.as_str())).collect();
        self.send(
            Method::PUT,
            &format!("/api/onboarding/steps/{step}"),
            Some(user),
            Some(data),
            &headers,
        )
        .await
    }

    /// Starts a session and saves every step of the valid fixture (company name replaced).
    pub async fn fill_wizard(&self, user: &str, company_name: &str) {
        let mut wizard = valid_wizard();
        wizard["company"]["company_name"] = Value::String(company_name.into());
        self.fill_wizard_with(user, &wizard).await;
    }

    /// Starts a session and saves every step of `wizard` (each valid).
    pub async fn fill_wizard_with(&self, user: &str, wizard: &Value) {
        assert!(matches!(
            self.post("/api/onboarding/start", user, None).await.status,
            200 | 201
        ));
        for step in onboarding_core::StepId::ALL.map(onboarding_core::StepId::name) {
            let r = self.put_step(user, step, &wizard[step], None).await;
            assert_eq!(r.status, 200, "{step}: {}", r.body);
            assert_eq!(r.body["report"]["valid"], true, "{step}: {}", r.body);
        }
    }

    pub async fn count(&self, table: &str) -> i64 {
        use sqlx::Row;
        sqlx::query(&format!("select count(*) as n from {table}"))
            .fetch_one(&self.pool)
            .await
            .unwrap()
            .get::<i64, _>("n")
    }
}

pub async fn reply(r: Response) -> Reply {
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Reply {
        status,
        headers,
        body,
    }
}

pub fn valid_wizard() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/valid_wizard.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A 429 `rate_limited` problem whose `Retry-After` asks for 1 to 60 seconds.
pub fn assert_rate_limited(r: &Reply) {
    assert_problem(r, 429, "rate_limited");
    let wait: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "Retry-After: {wait}");
}

/// Asserts an RFC 9457 problem with this status and code.
pub fn assert_problem(r: &Reply, status: u16, code: &str) {
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(
        r.headers.get("content-type").unwrap(),
        "application/problem+json",
        "{}",
        r.body
    );
    assert_eq!(r.body["code"], code, "{}", r.body);
    assert_eq!(r.body["type"], format!("/problems/{code}"));
    assert_eq!(r.body["status"], status);
}

/// Like `both_engines!`, for tests that build their own app: each gets the `Engine`.
#[macro_export]
macro_rules! each_engine {
    ($($name:ident),* $(,)?) => {
        mod own_app_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Engine::Sqlite).await;
                }
            )*
        }
        mod own_app_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Engine::Postgres).await;
                }
            )*
        }
    };
}

/// Runs a test against SQLite and against PostgreSQL.
#[macro_export]
macro_rules! both_engines {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = $crate::helpers::spawn_app($crate::helpers::Engine::Sqlite).await.unwrap();
                    super::$name(app).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    match $crate::helpers::spawn_app($crate::helpers::Engine::Postgres).await {
                        Some(app) => super::$name(app).await,
                        None => eprintln!("skipped: TEST_DATABASE_URL is not set"),
                    }
                }
            )*
        }
    };
}
