//! The status read's cache on PostgreSQL (decision 98): two instances on one database, each
//! with its cache; a change made through one reaches the other's status, and a cache that lost
//! its subscription (and so may have missed changes) is emptied before it is used again.

use crate::helpers::{spawn_app, valid_wizard, Engine, TestApp};
use std::time::{Duration, Instant};

/// A counter or gauge of the instance's `/metrics`.
async fn metric(app: &TestApp, name: &str) -> f64 {
    let text = app.text("/metrics").await;
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in the metrics:\n{text}"))
}

async fn version(app: &TestApp, user: &str) -> i64 {
    let r = app.get("/api/onboarding/status", user).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["version"].as_i64().unwrap()
}

/// Waits until the instance's cache is subscribed (it starts, and comes back, asynchronously).
async fn until_live(app: &TestApp) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while metric(app, "status_cache_live").await != 1.0 {
        assert!(
            Instant::now() < deadline,
            "the status cache never subscribed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Polls `user`'s status through `app` until it reads `want`; the time that took.
async fn until_version(app: &TestApp, user: &str, want: i64) -> Duration {
    let start = Instant::now();
    loop {
        let seen = version(app, user).await;
        if seen == want {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the status still reads version {seen}, not {want}, 5 s after the change"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A status read twice through one instance is answered once from the database; a save and a
/// completion through the other instance reach it (well before the entries' 30 s time to live).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_through_one_instance_reaches_the_others_status() {
    let Some(one) = spawn_app(Engine::Postgres).await else {
        return;
    };
    let two = one.another_instance().await;
    until_live(&one).await;
    until_live(&two).await;
    one.fill_wizard("ana", "Replicas SA").await;
    let v = version(&one, "ana").await;
    let hits = metric(&one, "status_cache_hits_total").await;
    assert_eq!(version(&one, "ana").await, v);
    assert_eq!(
        metric(&one, "status_cache_hits_total").await,
        hits + 1.0,
        "the second read was not answered by the cache"
    );

    let mut company = valid_wizard()["company"].clone();
    company["company_name"] = "Replicas Dos SA".into();
    let saved = two.put_step("ana", "company", &company, Some(v)).await;
    assert_eq!(saved.status, 200, "{}", saved.body);
    let took = until_version(&one, "ana", v + 1).await;
    eprintln!("the save reached the other instance's status in {took:?}");
    let status = one.get("/api/onboarding/status", "ana").await;
    assert_eq!(
        status.body["draft"]["company"]["company_name"],
        "Replicas Dos SA"
    );

    assert_eq!(two.complete("ana", &[]).await.status, 201);
    let took = until_version(&one, "ana", v + 2).await;
    eprintln!("the completion reached the other instance's status in {took:?}");
    assert_eq!(
        one.get("/api/onboarding/status", "ana").await.body["status"],
        "completed"
    );
}

/// The listeners' connections are cut and a session is changed while they are away (by hand,
/// so no notification is ever sent for it): once subscribed again, the instance reads the
/// change, not what it had cached before the cut.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cache_that_lost_its_subscription_is_emptied() {
    let Some(app) = spawn_app(Engine::Postgres).await else {
        return;
    };
    until_live(&app).await;
    app.fill_wizard("bea", "Cortes SL").await;
    let v = version(&app, "bea").await;
    assert_eq!(version(&app, "bea").await, v);

    let listener = "select pid from pg_stat_activity where datname = current_database() and query ilike 'listen%'";
    let cut: i32 = sqlx::query_scalar(listener)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    sqlx::query("select pg_terminate_backend($1)")
        .bind(cut)
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query("update onboarding_sessions set version = version + 40 where user_id = 'bea'")
        .execute(&app.pool)
        .await
        .unwrap();
    // A new listener connection, then live again (it empties the cache first).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now: Vec<i32> = sqlx::query_scalar(listener)
            .fetch_all(&app.pool)
            .await
            .unwrap();
        if now.iter().any(|pid| *pid != cut) {
            break;
        }
        assert!(Instant::now() < deadline, "the listener never came back");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    until_live(&app).await;
    assert_eq!(version(&app, "bea").await, v + 40);
    // And the cache is used again.
    let hits = metric(&app, "status_cache_hits_total").await;
    assert_eq!(version(&app, "bea").await, v + 40);
    assert_eq!(metric(&app, "status_cache_hits_total").await, hits + 1.0);
}

/// `STATUS_CACHE_MB=0`: no cache; every status read goes to the database, so a change made by
/// hand is read at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_cache_every_status_is_read_from_the_database() {
    let Some(app) = crate::helpers::spawn_app_with(Engine::Postgres, |s| {
        s.status_cache.max_bytes = 0;
    })
    .await
    else {
        return;
    };
    app.fill_wizard("cai", "Sin Caché SA").await;
    let v = version(&app, "cai").await;
    sqlx::query("update onboarding_sessions set version = version + 7 where user_id = 'cai'")
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(version(&app, "cai").await, v + 7);
    assert_eq!(metric(&app, "status_cache_hits_total").await, 0.0);
    assert_eq!(metric(&app, "status_cache_live").await, 0.0);
}
