//! Invitation e-mail through the outbox, against a real SMTP server process (aiosmtpd, from the
//! virtualenv `make test` creates; `tests/fixtures/smtp/smtp_sink.py` writes each message it
//! accepts to a JSON file): delivery after completion; the SMTP server down, then back; a crash
//! before the send; a worker that dies holding a message; two server instances on one database;
//! a permanent refusal and the attempts limit.

use crate::helpers::{
    fresh_postgres_database, spawn_app_with, tempdir::TempDir, Engine, ServerProcess, TestApp,
    SECRET,
};
use crate::invitations::token_in;
use onboarding_server::mail::SmtpSettings;
use onboarding_server::startup::Settings;
use serde_json::{json, Value};
use sqlx::Row;
use std::collections::HashSet;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

crate::each_engine!(
    invitations_are_delivered_after_completion,
    smtp_down_then_back_delivers_every_message_once,
    a_crash_before_the_send_still_delivers_after_restart,
    a_worker_that_dies_holding_a_message_is_relieved_after_its_lease,
    refused_and_exhausted_messages_are_dead_and_shown_to_platform_admins,
    two_instances_send_each_message_once,
);

/// The aiosmtpd interpreter: `AIOSMTPD_PYTHON`, else the virtualenv `make test` creates. Without
/// it the tests are skipped, except under CI, where that is a failure.
fn python() -> Option<PathBuf> {
    let path = std::env::var_os("AIOSMTPD_PYTHON").map_or_else(
        || {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../target/venv/bin/python"
            ))
        },
        PathBuf::from,
    );
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "no aiosmtpd interpreter at {} (make test creates it)",
        path.display()
    );
    eprintln!("skipped: no aiosmtpd at {} (run make test)", path.display());
    None
}

/// A port nothing listens on (yet).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A real SMTP server process; killed on drop.
struct SmtpSink {
    python: PathBuf,
    child: Option<Child>,
    host: String,
    port: u16,
    dir: TempDir,
}

impl SmtpSink {
    /// On a fresh port; `None` (skip) when aiosmtpd is not installed outside CI.
    fn start() -> Option<SmtpSink> {
        SmtpSink::start_at("127.0.0.1")
    }

    /// On a fresh port of `host` (an address of this machine).
    fn start_at(host: &str) -> Option<SmtpSink> {
        SmtpSink::on(free_port()).map(|mut s| {
            s.host = host.to_owned();
            s.up();
            s
        })
    }

    /// Not started yet: the port is reserved for it (nothing listens).
    fn on(port: u16) -> Option<SmtpSink> {
        Some(SmtpSink {
            python: python()?,
            child: None,
            host: "127.0.0.1".into(),
            port,
            dir: TempDir::new(),
        })
    }

    fn up(&mut self) {
        assert!(self.child.is_none());
        let child = Command::new(&self.python)
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("{}:{}", self.host, self.port))
            .args(["-c", "smtp_sink.Sink"])
            .arg(&self.dir.0)
            .env(
                "PYTHONPATH",
                concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/smtp"),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("aiosmtpd starts");
        self.child = Some(child);
        let started = Instant::now();
        while std::net::TcpStream::connect((self.host.as_str(), self.port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "aiosmtpd does not listen"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn down(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn url(&self) -> String {
        format!("smtp://{}:{}", self.host, self.port)
    }

    /// The messages accepted so far.
    fn messages(&self) -> Vec<Value> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&self.dir.0).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                out.push(serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap());
            }
        }
        out
    }

    /// Waits until at least `n` messages arrived, then a little longer (a late duplicate would
    /// show), and returns them.
    async fn wait_for(&self, n: usize) -> Vec<Value> {
        let started = Instant::now();
        while self.messages().len() < n {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{} of {n} messages after 30 s",
                self.messages().len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        self.messages()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.down();
    }
}

fn smtp(url: &str, max_attempts: u32) -> SmtpSettings {
    SmtpSettings {
        url: url.to_owned(),
        from: "Equipo OKR <no-reply@okr.example>".into(),
        max_attempts,
        retry_base: Duration::from_millis(100),
        poll_interval: Duration::from_millis(50),
        tls: onboarding_server::mail::SmtpTls::Default,
    }
}

fn mailing(url: String, max_attempts: u32) -> impl FnOnce(&mut Settings) {
    move |s: &mut Settings| {
        s.public_base_url = Some("https://okr.example/".into());
        s.smtp = Some(smtp(&url, max_attempts));
    }
}

async fn completed_org(app: &TestApp, user: &str) -> String {
    crate::invitations::completed_org(app, user, "Café Niño").await
}

async fn invite(app: &TestApp, user: &str, org: &str, emails: &[String]) {
    let r = app
        .post(
            &format!("/api/organizations/{org}/invitations"),
            user,
            Some(&json!({ "emails": emails })),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
}

/// Each message once: as many distinct Message-IDs as messages, and the expected recipients.
fn each_once(messages: &[Value], recipients: &[&str]) {
    let ids: HashSet<&str> = messages
        .iter()
        .map(|m| m["message_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), messages.len(), "a message was sent twice");
    let mut got: Vec<&str> = messages
        .iter()
        .map(|m| m["rcpt_tos"][0].as_str().unwrap())
        .collect();
    got.sort_unstable();
    let mut want = recipients.to_vec();
    want.sort_unstable();
    assert_eq!(got, want);
}

async fn outbox_states(app: &TestApp) -> Vec<(String, Option<String>)> {
    sqlx::query("select state, body from mail_outbox order by created_at, id")
        .fetch_all(&app.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get("state"), r.get("body")))
        .collect()
}

async fn invitations_are_delivered_after_completion(engine: Engine) {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let Some(app) = spawn_app_with(engine, mailing(sink.url(), 8)).await else {
        return;
    };
    let org = completed_org(&app, "ana").await;
    let messages = sink.wait_for(2).await;
    each_once(&messages, &["luis@cafenino.mx", "marta@cafenino.mx"]);
    let luis = messages
        .iter()
        .find(|m| m["rcpt_tos"][0] == "luis@cafenino.mx")
        .unwrap();
    assert_eq!(luis["mail_from"], "no-reply@okr.example");
    assert_eq!(
        luis["subject"],
        "ana@example.com te invita a la organización «Café Niño»"
    );
    let id = luis["message_id"].as_str().unwrap();
    assert!(id.starts_with('<') && id.ends_with("@okr.example>"), "{id}");
    let body = luis["body"].as_str().unwrap();
    assert!(
        body.contains("https://okr.example/invitations/accept#token="),
        "{body}"
    );
    // Sent: the bodies (with the tokens) are gone from the database; the list says so.
    assert!(outbox_states(&app)
        .await
        .iter()
        .all(|(state, body)| state == "sent" && body.is_none()));
    let list = app
        .get(&format!("/api/organizations/{org}/invitations"), "ana")
        .await;
    assert!(list.body["invitations"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["delivery"] == "sent"));
    // The link in the e-mail works.
    let token = token_in(body).unwrap();
    let jwt = app.keys.mint("luis", "luis@cafenino.mx", 600).unwrap();
    let r = app
        .http
        .post(format!("{}/api/invitations/accept", app.base))
        .bearer_auth(jwt)
        .json(&json!({ "token": token }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Finished messages are purged after the retention; pending ones never are.
    let now = app.clock.now_ms();
    assert_eq!(app.store.purge_outbox(now, 86_400_000).await.unwrap(), 0);
    assert_eq!(
        app.store
            .purge_outbox(now + 86_400_001, 86_400_000)
            .await
            .unwrap(),
        2
    );
    let metrics = app.text("/metrics").await;
    assert!(metrics.contains("mail_sent_total 2"), "{metrics}");
}

async fn smtp_down_then_back_delivers_every_message_once(engine: Engine) {
    let Some(mut sink) = SmtpSink::on(free_port()) else {
        return;
    };
    let Some(app) = spawn_app_with(engine, mailing(sink.url(), 100)).await else {
        return;
    };
    let org = completed_org(&app, "ana").await;
    let more: Vec<String> = (0..6).map(|i| format!("p{i}@x.com")).collect();
    invite(&app, "ana", &org, &more).await;
    // Every message has failed at least once against the closed port...
    let started = Instant::now();
    loop {
        let failed: i64 = sqlx::query("select count(*) as n from mail_outbox where attempts >= 1 and state = 'pending' and last_error is not null")
            .fetch_one(&app.pool)
            .await
            .unwrap()
            .get("n");
        if failed == 8 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{failed} of 8 failed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(sink.messages().is_empty());
    // ...and once the server is back, each is delivered, none lost, none twice.
    sink.up();
    let messages = sink.wait_for(8).await;
    let mut recipients = vec!["luis@cafenino.mx", "marta@cafenino.mx"];
    recipients.extend(more.iter().map(String::as_str));
    each_once(&messages, &recipients);
    assert!(outbox_states(&app)
        .await
        .iter()
        .all(|(state, body)| state == "sent" && body.is_none()));
}

async fn a_crash_before_the_send_still_delivers_after_restart(engine: Engine) {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let url = match engine {
        Engine::Sqlite => None,
        Engine::Postgres => match fresh_postgres_database().await {
            Some(url) => Some(url),
            None => return,
        },
    };
    // A server without mail delivery commits the completion, then is killed before any send.
    let mut first = ServerProcess::start_on(url.as_deref(), &[], &[]);
    let db = url.clone().unwrap_or_else(|| first.database_url());
    let keys = onboarding_server::auth::Keys::hs256(SECRET.as_bytes(), None, None);
    let http = reqwest::Client::new();
    let jwt = keys.mint("ana", "ana@example.com", 600).unwrap();
    let send = |method: reqwest::Method, path: &str, body: Option<Value>, base: &str| {
        let mut req = http
            .request(method, format!("{base}{path}"))
            .bearer_auth(&jwt);
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send()
    };
    let wizard = crate::helpers::valid_wizard();
    assert!(send(
        reqwest::Method::POST,
        "/api/onboarding/start",
        None,
        &first.base
    )
    .await
    .unwrap()
    .status()
    .is_success());
    for step in onboarding_core::StepId::ALL.map(onboarding_core::StepId::name) {
        let r = send(
            reqwest::Method::PUT,
            &format!("/api/onboarding/steps/{step}"),
            Some(wizard[step].clone()),
            &first.base,
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 200);
    }
    let r = send(
        reqwest::Method::POST,
        "/api/onboarding/complete",
        None,
        &first.base,
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    // Restarted with delivery, on the same database: the committed messages go out.
    let db_arg = if url.is_some() {
        db.clone()
    } else {
        format!("{db}?mode=rwc")
    };
    let _second = ServerProcess::start_on(
        Some(&db_arg),
        &[],
        &[
            ("SMTP_URL", sink.url().as_str()),
            ("MAIL_FROM", "no-reply@okr.example"),
            ("PUBLIC_BASE_URL", "https://okr.example"),
            ("MAIL_POLL_MS", "50"),
        ],
    );
    let messages = sink.wait_for(2).await;
    each_once(&messages, &["luis@cafenino.mx", "marta@cafenino.mx"]);
    drop(first);
}

async fn a_worker_that_dies_holding_a_message_is_relieved_after_its_lease(engine: Engine) {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    // No delivery here: this instance only writes the messages.
    let Some(app) = spawn_app_with(engine, |_| {}).await else {
        return;
    };
    completed_org(&app, "ana").await;
    // A worker claims both and dies before sending (its lease is held for a minute).
    let claimed = app.store.claim_mail(10, 60_000).await.unwrap();
    assert_eq!(claimed.len(), 2);
    let worker = app.another_instance_with(mailing(sink.url(), 8)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(sink.messages().is_empty(), "a held message was taken");
    // Once the lease has run out, the next worker sends them: at least once.
    worker.clock.advance(Duration::from_secs(61));
    let messages = sink.wait_for(2).await;
    each_once(&messages, &["luis@cafenino.mx", "marta@cafenino.mx"]);
}

async fn refused_and_exhausted_messages_are_dead_and_shown_to_platform_admins(engine: Engine) {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let Some(app) = spawn_app_with(engine, mailing(sink.url(), 8)).await else {
        return;
    };
    let org = completed_org(&app, "ana").await;
    // A permanent refusal (550) is not retried.
    invite(&app, "ana", &org, &["bounce@x.com".to_owned()]).await;
    sink.wait_for(2).await;
    let admin = app
        .keys
        .mint_with("root", "root@example.com", 600, true)
        .unwrap();
    let started = Instant::now();
    let dead = loop {
        let r = app
            .http
            .get(format!("{}/api/admin/outbox?state=dead", app.base))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.unwrap();
        if !body["messages"].as_array().unwrap().is_empty() {
            break body;
        }
        assert!(started.elapsed() < Duration::from_secs(30));
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let message = &dead["messages"][0];
    assert_eq!(message["recipient"], "bounce@x.com");
    assert_eq!(message["attempts"], 1);
    assert!(
        message["last_error"].as_str().unwrap().contains("550"),
        "{message}"
    );
    assert!(message.get("body").is_none());
    assert!(outbox_states(&app)
        .await
        .iter()
        .all(|(state, body)| state != "dead" || body.is_none()));
    let r = app.get("/api/admin/outbox?state=dead", "ana").await;
    assert_eq!(r.status, 403);
    // An empty state is not "all": it is no state the outbox has.
    let r = app
        .http
        .get(format!("{}/api/admin/outbox?state=", app.base))
        .bearer_auth(admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = app
        .send(
            reqwest::Method::GET,
            "/api/admin/outbox?state=lost",
            None,
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, 401);
    // A server that never answers: given up after MAIL_MAX_ATTEMPTS.
    let closed = format!("smtp://127.0.0.1:{}", free_port());
    let Some(other) = spawn_app_with(engine, mailing(closed, 2)).await else {
        return;
    };
    completed_org(&other, "bea").await;
    let started = Instant::now();
    loop {
        let rows = sqlx::query("select state, attempts, body from mail_outbox")
            .fetch_all(&other.pool)
            .await
            .unwrap();
        let given_up = rows
            .iter()
            .filter(|r| r.get::<String, _>("state") == "dead")
            .count();
        if given_up == 2 {
            for row in &rows {
                assert_eq!(row.get::<i64, _>("attempts"), 2);
                assert_eq!(row.get::<Option<String>, _>("body"), None);
            }
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{given_up} of 2 dead"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn two_instances_send_each_message_once(engine: Engine) {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let Some(app) = spawn_app_with(engine, mailing(sink.url(), 8)).await else {
        return;
    };
    let _second = app.another_instance_with(mailing(sink.url(), 8)).await;
    let org = completed_org(&app, "ana").await;
    let many: Vec<String> = (0..40).map(|i| format!("m{i}@x.com")).collect();
    invite(&app, "ana", &org, &many).await;
    let messages = sink.wait_for(42).await;
    let mut recipients = vec!["luis@cafenino.mx", "marta@cafenino.mx"];
    recipients.extend(many.iter().map(String::as_str));
    each_once(&messages, &recipients);
}

/// This machine's address on its network (not loopback), from the route a UDP socket would
/// take (nothing is sent).
fn network_address() -> String {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
    socket.connect("198.51.100.1:9").unwrap();
    let ip = socket.local_addr().unwrap().ip();
    assert!(!ip.is_loopback(), "no network address on this machine");
    ip.to_string()
}

/// Hardening II, item 9: a real SMTP server that offers no STARTTLS, on this machine's network
/// address (not loopback): by default nothing is sent to it in clear (the attempt fails and the
/// message stays undelivered); with SMTP_TLS=opportunistic, explicitly, it is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_starttls_nothing_goes_in_clear_off_loopback() {
    let Some(sink) = SmtpSink::start_at(&network_address()) else {
        return;
    };
    let app = spawn_app_with(Engine::Sqlite, mailing(sink.url(), 8))
        .await
        .unwrap();
    completed_org(&app, "ana").await;
    let started = Instant::now();
    loop {
        let failed: i64 = sqlx::query(
            "select count(*) as n from mail_outbox where attempts >= 1 and last_error is not null",
        )
        .fetch_one(&app.pool)
        .await
        .unwrap()
        .get("n");
        if failed == 2 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{failed} of 2 attempts failed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let error: String = sqlx::query("select last_error from mail_outbox limit 1")
        .fetch_one(&app.pool)
        .await
        .unwrap()
        .get("last_error");
    assert!(error.to_lowercase().contains("tls"), "{error}");
    assert_eq!(sink.messages().len(), 0, "sent in clear");

    let url = sink.url();
    let explicit = spawn_app_with(Engine::Sqlite, move |s| {
        s.public_base_url = Some("https://okr.example/".into());
        s.smtp = Some(SmtpSettings {
            tls: onboarding_server::mail::SmtpTls::Opportunistic,
            ..smtp(&url, 8)
        });
    })
    .await
    .unwrap();
    completed_org(&explicit, "bea").await;
    assert_eq!(sink.wait_for(2).await.len(), 2);
}
