//! Hostile clients (issue 17, RELIABILITY.md "Hostile clients"): each attack of the security
//! review reproduced against the real server, and the limit that stops it.

use crate::helpers::{
    assert_problem, reply, spawn_app_with, valid_wizard, Engine, ServerProcess, TestApp, SECRET,
};
use futures::future::join_all;
use serde_json::{json, Value};
use std::io::{Read, Write};

crate::both_engines!(
    deep_step_bodies_are_refused_and_every_other_step_survives,
    an_unreadable_stored_draft_is_an_error_not_an_empty_draft,
    if_match_follows_rfc_9110,
    complete_honours_if_match,
    complete_persists_exactly_the_version_it_validated,
    idempotency_keys_belong_to_their_session_and_are_purged,
);

crate::each_engine!(
    issuer_and_audience_are_required_when_configured,
    a_503_means_nothing_was_written,
    slug_collisions_cost_the_same_however_many_slugs_are_taken,
);

/// 1,000 requests with random 10 KB method names: the metrics keep a fixed set of series, so
/// `/metrics` stays small and the process does not grow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invented_methods_do_not_grow_the_metrics() {
    let server = ServerProcess::start(&[], &[]);
    let addr = server.base.trim_start_matches("http://").to_owned();
    let send_invented = |n: usize, seed: u64| {
        let addr = addr.clone();
        tokio::task::spawn_blocking(move || {
            let mut x = seed;
            for _ in 0..n {
                let method: String = (0..10_000)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        char::from(b'A' + (x % 26) as u8)
                    })
                    .collect();
                let mut s = std::net::TcpStream::connect(&addr).unwrap();
                write!(s, "{method} /api/onboarding/status HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n").unwrap();
                let mut answer = Vec::new();
                let _ = s.read_to_end(&mut answer);
                assert!(answer.starts_with(b"HTTP/1.1 "), "{answer:?}");
            }
        })
    };
    send_invented(50, 1).await.unwrap();
    let before = server.resident_bytes();
    join_all((0..4).map(|i| send_invented(250, 100 + i)))
        .await
        .into_iter()
        .for_each(Result::unwrap);
    let after = server.resident_bytes();
    let metrics = reqwest::get(format!("{}/metrics", server.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.len() < 64 * 1024,
        "/metrics is {} bytes",
        metrics.len()
    );
    assert!(
        metrics.contains(r#"method="other""#),
        "the invented methods are counted as `other`: {metrics}"
    );
    assert!(
        after.saturating_sub(before) < 5 * 1024 * 1024,
        "resident memory grew from {before} to {after} bytes"
    );
}

fn signed(claims: Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

async fn status_with(app: &TestApp, authorization: &str) -> crate::helpers::Reply {
    reply(
        app.http
            .get(format!("{}/api/onboarding/status", app.base))
            .header("authorization", authorization)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn issuer_and_audience_are_required_when_configured(engine: Engine) {
    let keys = std::sync::Arc::new(onboarding_server::auth::Keys::hs256(
        SECRET.as_bytes(),
        Some("https://id.example.com"),
        Some("onboarding-api"),
    ));
    let app = spawn_app_with(engine, |s| s.keys = keys.clone())
        .await
        .unwrap();
    let exp = onboarding_server::now_ms() / 1000 + 600;
    let base = json!({"sub": "u", "email": "u@x.com", "exp": exp});
    let with = |extra: Value| {
        let mut c = base.clone();
        c.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        signed(c)
    };
    let refused = [
        ("neither claim", signed(base.clone())),
        (
            "no audience",
            with(json!({"iss": "https://id.example.com"})),
        ),
        ("no issuer", with(json!({"aud": "onboarding-api"}))),
        (
            "wrong issuer",
            with(json!({"iss": "https://evil.example.com", "aud": "onboarding-api"})),
        ),
        (
            "wrong audience",
            with(json!({"iss": "https://id.example.com", "aud": ["other-api"]})),
        ),
        (
            "not yet valid",
            with(json!({"iss": "https://id.example.com", "aud": "onboarding-api", "nbf": exp})),
        ),
    ];
    for (why, token) in refused {
        let r = status_with(&app, &format!("Bearer {token}")).await;
        assert_eq!(r.status, 401, "{why}: {}", r.body);
    }
    let accepted = [
        with(json!({"iss": "https://id.example.com", "aud": "onboarding-api"})),
        with(json!({"iss": "https://id.example.com", "aud": ["x", "onboarding-api"]})),
    ];
    for token in accepted {
        for scheme in ["Bearer", "bearer", "BEARER"] {
            let r = status_with(&app, &format!("{scheme} {token}")).await;
            assert_eq!(r.status, 200, "{scheme}: {}", r.body);
        }
    }
    // The server's own minting (the `token` command) carries the configured claims.
    let minted = keys.mint("u", "u@x.com", 60).unwrap();
    assert_eq!(
        status_with(&app, &format!("Bearer {minted}")).await.status,
        200
    );
}

/// `{"x": [[[…]]]}` nested 126 levels, saved as a step: refused with 400 before anything is
/// written; the draft keeps every step (it used to be read back as empty).
async fn deep_step_bodies_are_refused_and_every_other_step_survives(app: TestApp) {
    app.fill_wizard("ana", "Acme").await;
    let before = app.get("/api/onboarding/status", "ana").await;
    let mut deep = json!(1);
    for _ in 0..126 {
        deep = json!([deep]);
    }
    for (step, body) in [
        ("organization", json!({ "x": deep })),
        (
            "objectives",
            json!({ "objectives": [[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]] }),
        ),
    ] {
        let r = app.put_step("ana", step, &body, None).await;
        assert_problem(&r, 400, "bad_request");
    }
    let after = app.get("/api/onboarding/status", "ana").await;
    assert_eq!(after.status, 200, "{}", after.body);
    assert_eq!(after.body["draft"], before.body["draft"]);
    assert_eq!(after.body["version"], before.body["version"]);
    assert_eq!(after.body["completed_steps"].as_array().unwrap().len(), 6);
    // The deepest valid shape still saves.
    let r = app
        .put_step("ana", "objectives", &valid_wizard()["objectives"], None)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

async fn an_unreadable_stored_draft_is_an_error_not_an_empty_draft(app: TestApp) {
    app.fill_wizard("ana", "Acme").await;
    sqlx::query("update onboarding_steps set data = '{\"full_name\": [' where user_id = 'ana' and step = 'welcome'")
        .execute(&app.pool)
        .await
        .unwrap();
    assert_problem(
        &app.get("/api/onboarding/status", "ana").await,
        500,
        "internal",
    );
    // A save writes only its own step's row: the others are never rewritten from a read.
    let r = app
        .put_step("ana", "company", &valid_wizard()["company"], None)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    use sqlx::Row;
    let stored: String =
        sqlx::query("select data from onboarding_steps where user_id = 'ana' and step = 'welcome'")
            .fetch_one(&app.pool)
            .await
            .unwrap()
            .get("data");
    assert_eq!(stored, "{\"full_name\": [", "nothing overwrote it");
}

async fn save_with(app: &TestApp, user: &str, if_match: &str) -> crate::helpers::Reply {
    app.send(
        reqwest::Method::PUT,
        "/api/onboarding/steps/welcome",
        Some(user),
        Some(&valid_wizard()["welcome"]),
        &[("if-match", if_match)],
    )
    .await
}

async fn if_match_follows_rfc_9110(app: TestApp) {
    // No session at all: even `*` does not match.
    assert_problem(&save_with(&app, "ana", "*").await, 412, "stale_version");
    assert_eq!(
        app.post("/api/onboarding/start", "ana", None).await.status,
        201
    );
    for stale in [
        "\"stale-version-0\"",
        "\"0\"",
        "W/\"1\"",
        "\"2\", \"3\"",
        "\"\"",
    ] {
        let r = save_with(&app, "ana", stale).await;
        assert_problem(&r, 412, "stale_version");
        assert_eq!(r.body["current_version"], 1, "{stale}");
    }
    // An empty header names nothing to match: malformed, not stale.
    for malformed in ["1", "\"1", "W/1", "\"a b\"", "*x", "\"1\" \"2\"", "", " , "] {
        assert_problem(&save_with(&app, "ana", malformed).await, 400, "bad_request");
    }
    let r = save_with(&app, "ana", "*").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = save_with(&app, "ana", "\"x\", \"2\"").await;
    assert_eq!(
        r.status, 200,
        "a list holding the current version: {}",
        r.body
    );
    assert_eq!(r.headers["etag"], "\"3\"");
    let status = app.get("/api/onboarding/status", "ana").await;
    assert_eq!(status.body["version"], 3);
}

async fn complete_honours_if_match(app: TestApp) {
    app.fill_wizard("ana", "Acme").await;
    let r = app.complete("ana", &[("if-match", "\"6\"")]).await;
    assert_problem(&r, 412, "stale_version");
    assert_eq!(r.body["current_version"], 7);
    assert_eq!(app.count("organizations").await, 0);
    assert_eq!(
        app.complete("ana", &[("if-match", "\"7\"")]).await.status,
        201
    );
    assert_eq!(app.count("organizations").await, 1);
}

/// Saves racing a completion: the organization is built from exactly the draft at the version
/// the completion claimed, whichever saves landed before it.
async fn complete_persists_exactly_the_version_it_validated(app: TestApp) {
    for round in 0..6 {
        let user = format!("racer{round}");
        app.fill_wizard(&user, "Name 0").await;
        let saves = (1..=12).map(|i| {
            let (app, user) = (&app, &user);
            async move {
                let mut company = valid_wizard()["company"].clone();
                company["company_name"] = json!(format!("Name {i}"));
                let r = app.put_step(user, "company", &company, None).await;
                (i, r.status, r.body["version"].as_i64())
            }
        });
        let completion = async { app.post("/api/onboarding/complete", &user, None).await };
        let (saves, done) = tokio::join!(join_all(saves), completion);
        assert_eq!(done.status, 201, "{}", done.body);
        let org = done.body["organization"]["id"].as_str().unwrap().to_owned();
        let status = app.get("/api/onboarding/status", &user).await;
        let claimed = status.body["version"].as_i64().unwrap() - 1;
        let expected = saves
            .iter()
            .filter(|(_, s, _)| *s == 200)
            .find(|(_, _, v)| *v == Some(claimed))
            .map_or("Name 0".to_owned(), |(i, _, _)| format!("Name {i}"));
        for (_, s, _) in &saves {
            assert!(matches!(s, 200 | 409), "a save answered {s}");
        }
        let stored = app.get(&format!("/api/organizations/{org}"), &user).await;
        assert_eq!(stored.body["name"], expected, "round {round}: {saves:?}");
    }
}

/// Development mode signs with a secret of its own (never the configured one), under its own
/// issuer, and answers only requests addressed to a loopback host.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_mode_mints_with_its_own_secret_for_loopback_hosts_only() {
    let server = ServerProcess::start(&["--dev"], &[]);
    let http = reqwest::Client::new();
    let token = http
        .post(format!("{}/api/dev/token", server.base))
        .json(&json!({"email": "ana@acme.com"}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let configured = onboarding_server::auth::Keys::hs256(SECRET.as_bytes(), None, None);
    assert!(
        configured.verify(&token).await.is_err(),
        "a dev token must not be valid under AUTH_JWT_SECRET"
    );
    let status = |token: String, host: Option<&'static str>| {
        let mut req = http
            .get(format!("{}/api/onboarding/status", server.base))
            .bearer_auth(token);
        if let Some(h) = host {
            req = req.header("host", h);
        }
        async move { reply(req.send().await.unwrap()).await }
    };
    assert_eq!(status(token.clone(), None).await.status, 200);
    assert_eq!(
        status(token.clone(), Some("localhost:3000")).await.status,
        200
    );
    let outside = configured.mint("ana", "ana@acme.com", 60).unwrap();
    assert_problem(&status(outside, None).await, 401, "unauthorized");
    for host in [
        "evil.example.com",
        "evil.example.com:3000",
        "localhost.evil.com",
    ] {
        assert_problem(&status(token.clone(), Some(host)).await, 403, "forbidden");
    }
    let r = reply(
        http.post(format!("{}/api/dev/token", server.base))
            .header("host", "rebound.example.com")
            .json(&json!({"email": "ana@acme.com"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_problem(&r, 403, "forbidden");
}

/// 500 connections that send half a request line and stop: a normal request is still answered
/// at once, and the stalled ones are closed after the header-read timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_dropped_and_do_not_block_others() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app_with(Engine::Sqlite, |s| {
        s.header_read_timeout = std::time::Duration::from_secs(2)
    })
    .await
    .unwrap();
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut stalled = Vec::new();
    for _ in 0..500 {
        let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
        s.write_all(b"GET /api/onboard").await.unwrap();
        stalled.push(s);
    }
    let started = std::time::Instant::now();
    let r = app.get("/api/onboarding/status", "ana").await;
    assert_eq!(r.status, 200);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(1),
        "answered in {:?} beside 500 stalled connections",
        started.elapsed()
    );
    // Each stalled connection is closed by the server (EOF or reset) well within 6 s.
    let closed = join_all(stalled.into_iter().map(|mut s| async move {
        let mut buf = [0u8; 512];
        let outcome =
            tokio::time::timeout(std::time::Duration::from_secs(6), s.read(&mut buf)).await;
        matches!(outcome, Ok(Ok(_)) | Ok(Err(_)))
    }))
    .await;
    assert!(
        closed.iter().all(|c| *c),
        "{} stayed open",
        closed.iter().filter(|c| !**c).count()
    );
}

/// Behind a trusted proxy each forwarded client has its own allowance; from an untrusted peer
/// the header is ignored, so forging it buys nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_clients_are_limited_apart_only_behind_trusted_proxies() {
    for (trusted, expect_second_client) in [(true, 201), (false, 429)] {
        let app = spawn_app_with(Engine::Sqlite, |s| {
            s.writes_per_ip_per_minute = 1;
            s.writes_per_user_per_minute = 0;
            if trusted {
                s.trusted_proxies =
                    onboarding_server::ratelimit::parse_trusted_proxies("127.0.0.0/8").unwrap();
            }
        })
        .await
        .unwrap();
        let start = |user: &'static str, client: &'static str| {
            let app = &app;
            async move {
                app.send(
                    reqwest::Method::POST,
                    "/api/onboarding/start",
                    Some(user),
                    None,
                    &[("x-forwarded-for", client)],
                )
                .await
            }
        };
        assert_eq!(start("ana", "203.0.113.1").await.status, 201);
        assert_eq!(
            start("bea", "203.0.113.2").await.status,
            expect_second_client,
            "trusted: {trusted}"
        );
        assert_problem(&start("cai", "203.0.113.1").await, 429, "rate_limited");
        // Hardening II, item 13: an entry that is not an address where the client should be
        // is refused (400) behind a trusted proxy, not keyed by the proxy's address (which
        // every such client would share, each escaping its own bucket); garbage the client
        // wrote to the left of its real address is ignored, and that address stays limited.
        if trusted {
            for garbage in ["not-an-ip", "203.0.113.9, unknown", "203.0.113.9,"] {
                let r = start("dan", garbage).await;
                assert_problem(&r, 400, "bad_request");
                assert!(
                    r.body["detail"]
                        .as_str()
                        .unwrap()
                        .contains("X-Forwarded-For"),
                    "{}",
                    r.body
                );
            }
            assert_problem(
                &start("eli", "forged, 203.0.113.1").await,
                429,
                "rate_limited",
            );
        } else {
            // Untrusted peers' headers are not read at all.
            assert_problem(&start("dan", "not-an-ip").await, 429, "rate_limited");
        }
    }
}

/// A save stuck behind another writer past the request timeout: whatever the answer, it is the
/// truth — 503 and nothing written (even after the other writer lets go), or 200 and written.
async fn a_503_means_nothing_was_written(engine: Engine) {
    use sqlx::Row;
    let app = crate::helpers::spawn_app_with_timeout(engine, std::time::Duration::from_millis(300))
        .await
        .unwrap();
    app.post("/api/onboarding/start", "slow", None).await;
    let mut blocker = app.pool.begin().await.unwrap();
    match engine {
        // SQLite: another writer holds the write lock.
        Engine::Sqlite => sqlx::query("update onboarding_sessions set updated_at = updated_at")
            .execute(&mut *blocker)
            .await
            .unwrap(),
        // PostgreSQL: another transaction holds the session's row lock.
        Engine::Postgres => {
            sqlx::query("select id from onboarding_sessions where user_id = 'slow' for update")
                .execute(&mut *blocker)
                .await
                .unwrap()
        }
    };
    let release = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
        blocker.commit().await.unwrap();
    });
    let r = app
        .put_step("slow", "welcome", &valid_wizard()["welcome"], None)
        .await;
    release.await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let version: i64 =
        sqlx::query("select version from onboarding_sessions where user_id = 'slow'")
            .fetch_one(&app.pool)
            .await
            .unwrap()
            .get("version");
    let saved: i64 =
        sqlx::query("select count(*) as n from onboarding_events where kind = 'step_saved'")
            .fetch_one(&app.pool)
            .await
            .unwrap()
            .get("n");
    match r.status {
        503 => assert_eq!((version, saved), (1, 0), "answered 503 but written"),
        200 => assert_eq!((version, saved), (2, 1)),
        other => panic!("answered {other}: {}", r.body),
    }
    if matches!(engine, Engine::Sqlite) {
        assert_problem(&r, 503, "timeout");
    }
}

/// 5,000 taken `acme*` slugs: the next completion finds `acme-5001` in a bounded number of
/// round trips, about as fast as a completion with no collision at all.
async fn slug_collisions_cost_the_same_however_many_slugs_are_taken(engine: Engine) {
    let app = crate::helpers::spawn_app(engine).await.unwrap();
    let series = match engine {
        Engine::Sqlite => "with recursive n(i) as (select 1 union all select i + 1 from n where i < 5000) select i from n",
        Engine::Postgres => "select generate_series(1, 5000) as i",
    };
    sqlx::query(&format!(
        "insert into organizations (id, slug, name, industry, size, country, description, okr_maturity, challenges, goals, timezone, okr_cycle, language, created_at, updated_at) \
         select 'seed-' || i, case when i = 1 then 'acme' else 'acme-' || i end, 'Acme', 'other', 'small', 'ES', 'A seeded organization.', 'beginner', '[]', '[]', 'Europe/Madrid', 'quarterly', 'es', 0, 0 from ({series}) s"
    ))
    .execute(&app.pool)
    .await
    .unwrap();
    assert_eq!(app.count("organizations").await, 5000);
    let timed = |user: &'static str, name: &'static str| {
        let app = &app;
        async move {
            app.fill_wizard(user, name).await;
            let started = std::time::Instant::now();
            let r = app.post("/api/onboarding/complete", user, None).await;
            assert_eq!(r.status, 201, "{}", r.body);
            (
                started.elapsed(),
                r.body["organization"]["slug"].as_str().unwrap().to_owned(),
            )
        }
    };
    let (free, slug) = timed("fresh", "Brand New Co").await;
    assert_eq!(slug, "brand-new-co");
    let (taken, slug) = timed("late", "ACME").await;
    assert_eq!(slug, "acme-5001");
    assert!(
        taken < free * 3 + std::time::Duration::from_millis(150),
        "with 5,000 taken slugs {taken:?}, with none {free:?}"
    );
}

async fn idempotency_keys_belong_to_their_session_and_are_purged(app: TestApp) {
    app.fill_wizard("ana", "First Co").await;
    let first = app.complete("ana", &[("idempotency-key", "k1")]).await;
    assert_eq!(first.status, 201);
    assert_eq!(
        app.complete("ana", &[("idempotency-key", "k1")]).await.body,
        first.body,
        "replayed in its session"
    );
    // A new session: the old key no longer replays the old organization.
    app.fill_wizard("ana", "Second Co").await;
    let second = app.complete("ana", &[("idempotency-key", "k1")]).await;
    assert_eq!(second.status, 201, "{}", second.body);
    assert_eq!(second.body["organization"]["name"], "Second Co");
    assert_eq!(
        app.complete("ana", &[("idempotency-key", "k1")]).await.body,
        second.body
    );
    // Keys older than the configured time are purged.
    let now = onboarding_server::now_ms();
    assert_eq!(
        app.store
            .purge_idempotency_keys(now, 3_600_000)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        app.store
            .purge_idempotency_keys(now + 7_200_000, 3_600_000)
            .await
            .unwrap(),
        1
    );
    assert_eq!(app.count("idempotency_keys").await, 0);
}

/// Row-level security as the request role: forced on every table; a user cannot make
/// themselves a member (or owner) of someone else's organization, and a plain member cannot
/// change its invitations.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_policies_allow_only_what_the_application_does() {
    use sqlx::Row;
    let Some(app) = crate::helpers::spawn_app(Engine::Postgres).await else {
        eprintln!("skipped: TEST_DATABASE_URL is not set");
        return;
    };
    let unforced: i64 = sqlx::query("select count(*) as n from pg_class where relname in ('onboarding_sessions', 'onboarding_events', 'organizations', 'memberships', 'profiles', 'objectives', 'key_results', 'invitations', 'idempotency_keys', 'suggestion_feedback') and relkind = 'r' and not (relrowsecurity and relforcerowsecurity)")
        .fetch_one(&app.pool)
        .await
        .unwrap()
        .get("n");
    assert_eq!(unforced, 0, "every tenant table forces row-level security");
    app.fill_wizard("alice", "Alice Co").await;
    let created = app.post("/api/onboarding/complete", "alice", None).await;
    assert_eq!(created.status, 201);
    let org = created.body["organization"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    sqlx::query("insert into memberships (id, organization_id, user_id, role, created_at, updated_at) values ('m-carol', $1, 'carol', 'member', 0, 0)")
        .bind(&org)
        .execute(&app.pool)
        .await
        .unwrap();
    for role in ["owner", "admin", "member"] {
        let mut tx = app.pg().begin("mallory").await.unwrap();
        let joined = sqlx::query("insert into memberships (id, organization_id, user_id, role, created_at, updated_at) values ($1, $2, 'mallory', $3, 0, 0)")
            .bind(format!("m-{role}"))
            .bind(&org)
            .bind(role)
            .execute(&mut *tx)
            .await;
        assert!(joined.is_err(), "mallory joined as {role}");
        tx.rollback().await.unwrap();
    }
    let rotate = |user: &'static str| {
        let (app, org) = (&app, org.clone());
        async move {
            let mut tx = app.pg().begin(user).await.unwrap();
            let n = sqlx::query(
                "update invitations set token_hash = token_hash || 'x' where organization_id = $1",
            )
            .bind(&org)
            .execute(&mut *tx)
            .await
            .unwrap()
            .rows_affected();
            tx.rollback().await.unwrap();
            n
        }
    };
    assert_eq!(
        rotate("carol").await,
        0,
        "a plain member changes no invitation"
    );
    assert_eq!(rotate("alice").await, 2, "the owner does");
    // Only owners change or remove memberships; only managers queue e-mails.
    let change_members = |user: &'static str, sql: &'static str| {
        let (app, org) = (&app, org.clone());
        async move {
            let mut tx = app.pg().begin(user).await.unwrap();
            let n = sqlx::query(sql)
                .bind(&org)
                .execute(&mut *tx)
                .await
                .map(|r| r.rows_affected())
                .unwrap_or(0);
            tx.rollback().await.unwrap();
            n
        }
    };
    let promote = "update memberships set role = 'owner' where organization_id = $1";
    let remove = "delete from memberships where organization_id = $1 and user_id = 'alice'";
    assert_eq!(change_members("carol", promote).await, 0);
    assert_eq!(change_members("carol", remove).await, 0);
    assert_eq!(change_members("alice", promote).await, 2);
    assert_eq!(change_members("alice", remove).await, 1);
    let queue = "insert into mail_outbox (id, organization_id, recipient, subject, body, next_attempt_at, created_at, updated_at) values ('o-x', $1, 'x@x.com', 's', 'b', 0, 0, 0)";
    assert_eq!(change_members("carol", queue).await, 0);
    assert_eq!(change_members("alice", queue).await, 1);
    // And over HTTP: 403 for the member, a fresh e-mail for the owner.
    let invitation = app
        .get(&format!("/api/organizations/{org}/invitations"), "alice")
        .await;
    let id = invitation.body["invitations"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/organizations/{org}/invitations/{id}/resend");
    assert_problem(&app.post(&path, "carol", None).await, 403, "forbidden");
    assert_eq!(app.post(&path, "alice", None).await.status, 200);
}

/// Small ones: a bad query or path parameter is a problem+json 400; the page may not be framed;
/// an unsupported database URL does not print its password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_ones() {
    let app = crate::helpers::spawn_app(Engine::Sqlite).await.unwrap();
    // A query the extractor refuses (a field given twice): problem+json, not plain text.
    for path in [
        "/api/onboarding/steps?locale=es&locale=en",
        "/api/onboarding/suggestions?step=objectives&step=objectives",
    ] {
        assert_problem(&app.get(path, "ana").await, 400, "bad_request");
    }
    let page = app.http.get(format!("{}/", app.base)).send().await.unwrap();
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let refused = onboarding_server::store::Store::connect("mysql://root:hunter2@db/x")
        .await
        .unwrap_err();
    assert!(
        !refused.contains("hunter2") && refused.contains("root:***@db"),
        "{refused}"
    );
}

/// Hardening II, item 14: with `METRICS_BIND` the metrics are served on that listener only;
/// the API listener answers 404 for `/metrics`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_move_to_their_own_listener() {
    let app = spawn_app_with(Engine::Sqlite, |s| {
        s.metrics_bind = Some("127.0.0.1:0".parse().unwrap());
    })
    .await
    .unwrap();
    let api = app
        .http
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 404);
    let own = app
        .http
        .get(format!("{}/metrics", app.metrics_base.as_ref().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 200);
    assert!(own.text().await.unwrap().contains("http_requests"));
    // Without it, the API listener serves them (the default).
    let plain = spawn_app_with(Engine::Sqlite, |_| {}).await.unwrap();
    assert!(plain.metrics_base.is_none());
    assert!(plain.text("/metrics").await.contains("# EOF"));
}
