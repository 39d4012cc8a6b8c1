//! Reliability: write rate limits, PostgreSQL backends killed under load, two instances on one
//! database, SQLite writers under contention, and a graceful stop of the real binary.

use crate::helpers::{
    assert_problem, assert_rate_limited, spawn_app, spawn_app_with, valid_wizard, Engine, TestApp,
};
use futures::future::join_all;
use reqwest::Method;
use sqlx::Row;
use std::time::{Duration, Instant};

crate::each_engine!(writes_are_rate_limited_per_user_and_address);
crate::both_engines!(the_request_pool_rolls_back_what_a_dropped_connection_left_open);

/// The request pool (`onboarding_store::pool`) has no ping on release: a connection whose work finished
/// goes straight back; one dropped mid-work is rolled back in the background before anyone gets
/// it again, and closed if that fails. A temp table marks a connection (it lives as long as the
/// connection, on both engines); `t` is a real table, to see what was rolled back.
async fn the_request_pool_rolls_back_what_a_dropped_connection_left_open(app: TestApp) {
    sqlx::any::install_default_drivers();
    let options: sqlx::any::AnyConnectOptions = app.url.parse().unwrap();
    let pool = onboarding_store::ConnPool::<sqlx::Any>::new(options, 1, Duration::from_millis(500));
    let run = |sql: &'static str| {
        let pool = pool.clone();
        async move {
            let mut conn = pool.acquire().await.unwrap();
            let result = sqlx::query(sql).fetch_all(&mut *conn).await;
            conn.release();
            result.map(|rows| rows.len())
        }
    };
    run("create table t (x bigint)").await.unwrap();
    run("create temp table marker (x bigint)").await.unwrap();
    // Released: the same connection comes back.
    assert!(run("select * from marker").await.is_ok());
    // While it is out, the next acquire waits, then times out (503 for a request).
    let held = pool.acquire().await.unwrap();
    assert!(matches!(
        pool.acquire().await,
        Err(sqlx::Error::PoolTimedOut)
    ));
    drop(held);
    // Dropped inside sqlx's transaction: rolled back, the depth reset (a new BEGIN is a BEGIN,
    // not a savepoint), and the same connection back.
    let mut tx = pool.begin(None).await.unwrap();
    sqlx::query("insert into t values (1)")
        .execute(&mut *tx)
        .await
        .unwrap();
    drop(tx);
    assert_eq!(run("select * from t").await.unwrap(), 0);
    assert!(run("select * from marker").await.is_ok());
    let mut tx = pool.begin(None).await.unwrap();
    sqlx::query("insert into t values (2)")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(run("select * from t").await.unwrap(), 1);
    // Dropped inside a transaction its own statements began (as the SQLite save's statement
    // list does): rolled back too, and the connection usable.
    let mut conn = pool.acquire().await.unwrap();
    sqlx::raw_sql("begin; insert into t values (3)")
        .execute(&mut *conn)
        .await
        .unwrap();
    drop(conn);
    assert_eq!(run("select * from t").await.unwrap(), 1);
    assert!(run("select * from marker").await.is_ok());
    pool.begin(None).await.unwrap().commit().await.unwrap();
    // A connection that no longer answers is closed, and a new one opened.
    if app.url.starts_with("postgres") {
        let mut conn = pool.acquire().await.unwrap();
        let _ = sqlx::query("select pg_terminate_backend(pg_backend_pid())")
            .execute(&mut *conn)
            .await;
        drop(conn);
        assert!(
            run("select * from marker").await.is_err(),
            "a dead connection came back"
        );
        assert_eq!(run("select * from t").await.unwrap(), 1);
    }
}

async fn writes_are_rate_limited_per_user_and_address(engine: Engine) {
    let Some(app) = spawn_app_with(engine, |s| {
        s.writes_per_user_per_minute = 3;
        s.writes_per_ip_per_minute = 5;
    })
    .await
    else {
        return;
    };
    let welcome = valid_wizard()["welcome"].clone();
    assert_eq!(
        app.post("/api/onboarding/start", "ana", None).await.status,
        201
    );
    assert_eq!(
        app.put_step("ana", "welcome", &welcome, None).await.status,
        200
    );
    assert_eq!(
        app.put_step("ana", "welcome", &welcome, None).await.status,
        200
    );
    let limited = app.put_step("ana", "welcome", &welcome, None).await;
    assert_rate_limited(&limited);
    assert!(limited.body["detail"].as_str().unwrap().contains("user"));
    // Reads are not limited; the refused write changed nothing.
    let status = app.get("/api/onboarding/status", "ana").await;
    assert_eq!(
        (status.status, status.body["version"].as_i64()),
        (200, Some(3))
    );
    // Another user from the same address: their own allowance, until the address's runs out.
    assert_eq!(
        app.post("/api/onboarding/start", "bea", None).await.status,
        201
    );
    let by_address = app.post("/api/onboarding/start", "bea", None).await;
    assert_problem(&by_address, 429, "rate_limited");
    assert!(by_address.body["detail"]
        .as_str()
        .unwrap()
        .contains("address"));
}

/// The PostgreSQL database behind `app` (its name is the last segment of the URL).
fn database_name(app: &TestApp) -> String {
    app.url.rsplit('/').next().unwrap().to_owned()
}

async fn admin_pool() -> Option<sqlx::AnyPool> {
    let url = std::env::var("TEST_DATABASE_URL").ok()?;
    sqlx::any::install_default_drivers();
    Some(sqlx::AnyPool::connect(&url).await.unwrap())
}

/// Checks the invariants every completed session must satisfy, in SQL.
async fn assert_completions_whole(app: &TestApp, expected: i64) {
    let wizard = valid_wizard();
    let objectives =
        i64::try_from(wizard["objectives"]["objectives"].as_array().unwrap().len()).unwrap();
    let key_results: i64 = wizard["objectives"]["objectives"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| i64::try_from(o["key_results"].as_array().unwrap().len()).unwrap())
        .sum();
    let invitations =
        i64::try_from(wizard["review"]["invite_emails"].as_array().unwrap().len()).unwrap();
    assert_eq!(
        app.count("onboarding_sessions where status = 'completed'")
            .await,
        expected
    );
    assert_eq!(app.count("organizations").await, expected);
    let per_org = sqlx::query(
        "select o.id, \
           (select count(*) from memberships m where m.organization_id = o.id and m.role = 'owner') as owners, \
           (select count(*) from objectives j where j.organization_id = o.id) as objectives, \
           (select count(*) from key_results k where k.organization_id = o.id) as key_results, \
           (select count(*) from invitations i where i.organization_id = o.id) as invitations, \
           (select count(*) from onboarding_sessions s where s.organization_id = o.id and s.status = 'completed') as sessions \
         from organizations o",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    for r in per_org {
        let counts: [i64; 5] = [
            "owners",
            "objectives",
            "key_results",
            "invitations",
            "sessions",
        ]
        .map(|c| r.get(c));
        assert_eq!(
            counts,
            [1, objectives, key_results, invitations, 1],
            "organization {}",
            r.get::<String, _>("id")
        );
    }
    for orphans in [
        "key_results k where not exists (select 1 from objectives j where j.id = k.objective_id)",
        "objectives j where not exists (select 1 from organizations o where o.id = j.organization_id)",
        "memberships m where not exists (select 1 from organizations o where o.id = m.organization_id)",
        "invitations i where not exists (select 1 from organizations o where o.id = i.organization_id)",
        "profiles p where not exists (select 1 from memberships m where m.user_id = p.user_id)",
    ] {
        assert_eq!(app.count(orphans).await, 0, "{orphans}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_backends_terminated_under_load_recover_by_themselves() {
    // No write limits: the writers save as fast as the server answers (group-committed saves
    // outrun the per-user allowance within the run), and what is tested is the recovery.
    let unlimited = spawn_app_with(Engine::Postgres, |s| {
        s.writes_per_user_per_minute = 0;
        s.writes_per_ip_per_minute = 0;
    });
    let (Some(app), Some(admin)) = (unlimited.await, admin_pool().await) else {
        eprintln!("skipped: TEST_DATABASE_URL is not set");
        return;
    };
    let finishers: Vec<String> = (0..12).map(|i| format!("finisher{i}")).collect();
    for u in &finishers {
        app.fill_wizard(u, &format!("Resiliente {u}")).await;
    }
    let writers: Vec<String> = (0..8).map(|i| format!("writer{i}")).collect();
    for u in &writers {
        app.post("/api/onboarding/start", u, None).await;
    }
    let company = valid_wizard()["company"].clone();
    let started = Instant::now();
    let load_until = started + Duration::from_secs(4);

    // Writers save until the load ends; finishers complete with a key, retrying on 503.
    let write_load = writers.iter().map(|u| {
        let (app, company) = (&app, &company);
        async move {
            let mut statuses = Vec::new();
            while Instant::now() < load_until {
                let t = Instant::now();
                let r = app.put_step(u, "company", company, None).await;
                assert!(
                    t.elapsed() < Duration::from_secs(5),
                    "a save hung for {:?}",
                    t.elapsed()
                );
                statuses.push((r.status, r.headers.contains_key("retry-after")));
            }
            statuses
        }
    });
    let completions = finishers.iter().map(|u| {
        let app = &app;
        async move {
            let key = format!("key-{u}");
            loop {
                let r = app
                    .send(
                        Method::POST,
                        "/api/onboarding/complete",
                        Some(u),
                        None,
                        &[("idempotency-key", &key)],
                    )
                    .await;
                match r.status {
                    201 | 200 => return r.body,
                    503 => {
                        assert!(r.headers.contains_key("retry-after"));
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    other => panic!("complete answered {other}: {}", r.body),
                }
                assert!(
                    started.elapsed() < Duration::from_secs(30),
                    "completion never recovered"
                );
            }
        }
    });
    let db = database_name(&app);
    let killer = async {
        let mut killed = 0;
        for _ in 0..4 {
            tokio::time::sleep(Duration::from_millis(400)).await;
            let n = sqlx::query("select count(pg_terminate_backend(pid)) as n from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()")
                .bind(&db)
                .fetch_one(&admin)
                .await
                .unwrap()
                .get::<i64, _>("n");
            killed += n;
        }
        killed
    };
    let (writes, bodies, killed) =
        tokio::join!(join_all(write_load), join_all(completions), killer);
    assert!(killed > 0, "no backend was terminated");
    let writes: Vec<(u16, bool)> = writes.into_iter().flatten().collect();
    assert!(
        writes
            .iter()
            .all(|(s, retry)| *s == 200 || (*s == 503 && *retry)),
        "{:?}",
        writes.iter().filter(|(s, _)| *s != 200).collect::<Vec<_>>()
    );
    assert!(writes.iter().filter(|(s, _)| *s == 200).count() > 0);

    // Recovery without help: the next request works.
    let after = Instant::now();
    loop {
        let r = app.put_step("writer0", "company", &company, None).await;
        if r.status == 200 {
            break;
        }
        assert!(
            after.elapsed() < Duration::from_secs(5),
            "no recovery: {}",
            r.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Every retried key returns the first answer; every completion is whole.
    for (u, first) in finishers.iter().zip(&bodies) {
        let again = app
            .send(
                Method::POST,
                "/api/onboarding/complete",
                Some(u),
                None,
                &[("idempotency-key", &format!("key-{u}"))],
            )
            .await;
        assert_eq!(&again.body["organization"], &first["organization"]);
    }
    assert_completions_whole(&app, 12).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_on_one_postgres_database_agree() {
    let Some(one) = spawn_app(Engine::Postgres).await else {
        eprintln!("skipped: TEST_DATABASE_URL is not set");
        return;
    };
    let two = one.another_instance().await;

    // The same Idempotency-Key sent to both at once: one organization, the same answer.
    one.fill_wizard("ana", "Dos Servidores").await;
    let headers = [("idempotency-key", "same")];
    let path = "/api/onboarding/complete";
    let (a, b) = tokio::join!(
        one.send(Method::POST, path, Some("ana"), None, &headers),
        two.send(Method::POST, path, Some("ana"), None, &headers)
    );
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(b.status, 201, "{}", b.body);
    assert_eq!(a.body, b.body);
    assert_eq!(one.count("organizations").await, 1);

    // Concurrent saves with the same If-Match, one to each: one wins, the other gets 412.
    one.post("/api/onboarding/start", "bea", None).await;
    let version = one.get("/api/onboarding/status", "bea").await.body["version"]
        .as_i64()
        .unwrap();
    let welcome = valid_wizard()["welcome"].clone();
    let (x, y) = tokio::join!(
        one.put_step("bea", "welcome", &welcome, Some(version)),
        two.put_step("bea", "welcome", &welcome, Some(version))
    );
    let mut statuses = [x.status, y.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 412]);

    // The expiry purge running on both at once processes each session once.
    for i in 0..10 {
        one.post("/api/onboarding/start", &format!("idle{i}"), None)
            .await;
    }
    let later = one.clock.now_ms() + 8 * 86_400_000;
    let ttl = 7 * 86_400_000;
    let (p, q) = tokio::join!(
        one.store.expire_sessions(later, ttl),
        two.store.expire_sessions(later, ttl)
    );
    assert_eq!(p.unwrap() + q.unwrap(), 11, "10 idle sessions and bea's");
    assert_eq!(
        one.count("onboarding_events where kind = 'expired'").await,
        11
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_writers_under_contention_never_see_a_lock_error() {
    let app = spawn_app(Engine::Sqlite).await.unwrap();
    let finishers: Vec<String> = (0..16).map(|i| format!("f{i}")).collect();
    for u in &finishers {
        app.fill_wizard(u, &format!("Concurrente {u}")).await;
    }
    let writers: Vec<String> = (0..32).map(|i| format!("w{i}")).collect();
    for u in &writers {
        app.post("/api/onboarding/start", u, None).await;
    }
    let company = valid_wizard()["company"].clone();
    let saves = writers
        .iter()
        .flat_map(|u| (0..5).map(move |_| u))
        .map(|u| app.put_step(u, "company", &company, None));
    let completes = finishers
        .iter()
        .map(|u| app.post("/api/onboarding/complete", u, None));
    let (saves, completes) = tokio::join!(join_all(saves), join_all(completes));
    for r in saves.iter().chain(&completes) {
        assert!(matches!(r.status, 200 | 201), "{}: {}", r.status, r.body);
    }
    assert_completions_whole(&app, 16).await;
}

/// SIGTERM under load: the requests in flight finish, nothing is half-written, the process
/// exits well within 10 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_under_load_finishes_in_flight_requests() {
    let mut server = crate::helpers::ServerProcess::start(&[], &[]);
    let base = server.base.clone();
    let keys = onboarding_server::auth::Keys::hs256(crate::helpers::SECRET.as_bytes(), None, None);
    let http = reqwest::Client::new();
    let company = valid_wizard()["company"].clone();
    let users: Vec<String> = (0..24).map(|i| format!("u{i}")).collect();
    let tokens: Vec<String> = users
        .iter()
        .map(|u| keys.mint(u, &format!("{u}@x.com"), 600).unwrap())
        .collect();
    for t in &tokens {
        let r = http
            .post(format!("{base}/api/onboarding/start"))
            .bearer_auth(t)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    let load = tokens.iter().map(|t| {
        let (http, base, company) = (&http, &base, &company);
        async move {
            let mut done = Vec::new();
            for _ in 0..200 {
                match http
                    .put(format!("{base}/api/onboarding/steps/company"))
                    .bearer_auth(t)
                    .json(company)
                    .send()
                    .await
                {
                    Ok(r) => done.push(r.status().as_u16()),
                    Err(_) => break, // the server stopped accepting: the end of the load
                }
            }
            done
        }
    });
    let pid = server.child.id().to_string();
    let stop = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let signalled = Instant::now();
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        signalled
    };
    let (answers, signalled) = tokio::join!(join_all(load), stop);
    let status = tokio::task::block_in_place(|| server.child.wait().unwrap());
    assert!(
        signalled.elapsed() < Duration::from_secs(10),
        "took {:?} to stop",
        signalled.elapsed()
    );
    assert!(status.success(), "{status:?}");
    let answers: Vec<u16> = answers.into_iter().flatten().collect();
    assert!(
        answers.iter().all(|s| *s == 200),
        "every answered request succeeded"
    );
    assert!(
        !answers.is_empty() && answers.len() < 24 * 200,
        "the signal must land mid-load ({} answers)",
        answers.len()
    );

    // Nothing half-written: each session's version counts exactly its saved steps.
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&server.database_url())
        .await
        .unwrap();
    let bad = sqlx::query("select count(*) as n from onboarding_sessions s where s.version <> 1 + (select count(*) from onboarding_events e where e.session_id = s.id and e.kind = 'step_saved')")
        .fetch_one(&pool)
        .await
        .unwrap()
        .get::<i64, _>("n");
    assert_eq!(bad, 0);
    let saved =
        sqlx::query("select count(*) as n from onboarding_events where kind = 'step_saved'")
            .fetch_one(&pool)
            .await
            .unwrap()
            .get::<i64, _>("n");
    assert_eq!(
        usize::try_from(saved).unwrap(),
        answers.len(),
        "every 200 was stored, nothing else"
    );
}
