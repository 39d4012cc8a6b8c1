//! Suggestions (catalog and a fake OpenAI-compatible provider on 127.0.0.1), the user's choice,
//! the funnel on seeded events, and the session lifecycle driven by the server's clock.

use crate::helpers::{assert_problem, assert_rate_limited, spawn_app_with, Engine, TestApp};
use onboarding_server::startup::AiSettings;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

crate::each_engine!(
    the_provider_receives_only_option_values,
    suggestions_follow_the_users_ai_choice,
    a_slow_provider_falls_back_to_the_catalog,
    suggestions_are_rate_limited_per_user,
);
crate::both_engines!(
    feedback_refuses_bad_input,
    funnel_counts_seeded_events_exactly,
    sessions_expire_by_the_clock_and_restart_abandons,
);

/// An OpenAI-compatible endpoint on 127.0.0.1 that counts its calls. It answers one valid
/// objective and one that breaks the rules (a 2-letter title), after `delay`.
pub async fn fake_provider(delay: Duration) -> (String, Arc<AtomicUsize>, Prompts) {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let prompts = Prompts::default();
    let seen = prompts.clone();
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
            let counter = counter.clone();
            let seen = seen.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                seen.lock().unwrap().push(body["messages"][1]["content"].as_str().unwrap_or_default().to_owned());
                tokio::time::sleep(delay).await;
                let spanish = body["messages"][1]["content"]
                    .as_str()
                    .is_some_and(|c| c.contains("\"language\":\"es\""));
                let title = if spanish { "Duplicar las ventas recurrentes con IA" } else { "Double recurring sales with AI" };
                let content = json!({ "objectives": [
                    { "title": title, "key_results": [
                        { "title": "Ingresos recurrentes mensuales", "metric_type": "currency", "baseline": 1000, "target": 2000, "unit": "USD" },
                        { "title": "Clientes activos al mes", "metric_type": "number", "baseline": 10, "target": 25 }
                    ]},
                    { "title": "Hi", "key_results": [] }
                ]});
                axum::Json(json!({ "choices": [ { "message": { "role": "assistant", "content": content.to_string() } } ] }))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, calls, prompts)
}

/// The user messages the fake provider received.
pub type Prompts = Arc<std::sync::Mutex<Vec<String>>>;

async fn app_with_ai(
    engine: Engine,
    url: &str,
    timeout: Duration,
    per_minute: u32,
) -> Option<TestApp> {
    let url = url.to_owned();
    spawn_app_with(engine, move |s| {
        s.ai = Some(AiSettings {
            base_url: url,
            api_key: Some("test-key".into()),
            model: "fake".into(),
            timeout,
        });
        s.suggestions_per_minute = per_minute;
    })
    .await
}

/// A draft up to the organization step, with the given AI level (None: not chosen yet).
pub async fn draft(app: &TestApp, user: &str, level: Option<&str>) {
    app.post("/api/onboarding/start", user, None).await;
    let wizard = crate::helpers::valid_wizard();
    for step in ["welcome", "company", "organization"] {
        assert_eq!(
            app.put_step(user, step, &wizard[step], None).await.status,
            200
        );
    }
    if let Some(level) = level {
        let mut prefs = wizard["preferences"].clone();
        prefs["ai_assistance_level"] = json!(level);
        assert_eq!(
            app.put_step(user, "preferences", &prefs, None).await.status,
            200
        );
    }
}

const SUGGESTIONS: &str = "/api/onboarding/suggestions?step=objectives";

async fn suggestions_follow_the_users_ai_choice(engine: Engine) {
    let (url, calls, _) = fake_provider(Duration::ZERO).await;
    let Some(app) = app_with_ai(engine, &url, Duration::from_secs(3), 30).await else {
        return;
    };

    // `none`: no suggestion, and the provider is never asked.
    draft(&app, "nadie", Some("none")).await;
    let r = app.get(SUGGESTIONS, "nadie").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (
            r.body["source"].as_str(),
            r.body["suggestions"].as_array().map(Vec::len)
        ),
        (Some("none"), Some(0))
    );
    assert_eq!(calls.load(Ordering::SeqCst), 0);

    // Not chosen yet: the built-in catalog only (nothing leaves the server without consent).
    draft(&app, "pronto", None).await;
    let r = app.get(SUGGESTIONS, "pronto").await;
    assert_eq!(r.body["source"], "catalog", "{}", r.body);
    assert_eq!(r.body["suggestions"].as_array().unwrap().len(), 3);
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    // Every catalog suggestion is a valid objectives step as it stands.
    let objectives: Vec<Value> = r.body["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["objective"].clone())
        .collect();
    let saved = app
        .put_step(
            "pronto",
            "objectives",
            &json!({ "objectives": objectives }),
            None,
        )
        .await;
    assert_eq!(saved.body["report"]["valid"], true, "{}", saved.body);
    // …and once taken into the draft, they are not offered again.
    let again = app.get(SUGGESTIONS, "pronto").await;
    assert_eq!(
        again.body["suggestions"].as_array().unwrap().len(),
        0,
        "{}",
        again.body
    );

    // `moderate`: the provider answers; the objective that breaks the rules is dropped.
    draft(&app, "ana", Some("moderate")).await;
    let r = app.get(SUGGESTIONS, "ana").await;
    assert_eq!(
        (r.body["source"].as_str(), r.body["dropped"].as_i64()),
        (Some("ai"), Some(1)),
        "{}",
        r.body
    );
    let list = r.body["suggestions"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(
        list[0]["objective"]["title"],
        "Duplicar las ventas recurrentes con IA"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    // The same request again comes from the cache.
    let r2 = app.get(SUGGESTIONS, "ana").await;
    assert_eq!(r2.body["suggestions"], r.body["suggestions"]);
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    // Dismissed: not offered again, on any device (the choice is on the server).
    let id = list[0]["id"].as_str().unwrap().to_owned();
    let f = app
        .post(
            &format!("/api/onboarding/suggestions/{id}/feedback"),
            "ana",
            Some(&json!({"action": "dismissed"})),
        )
        .await;
    assert_eq!(f.status, 200, "{}", f.body);
    let r3 = app.get(SUGGESTIONS, "ana").await;
    assert_eq!(
        r3.body["suggestions"].as_array().unwrap().len(),
        0,
        "{}",
        r3.body
    );
    let stored = app.count("suggestion_feedback").await;
    assert_eq!(stored, 1);
}

async fn a_slow_provider_falls_back_to_the_catalog(engine: Engine) {
    let (url, calls, _) = fake_provider(Duration::from_secs(5)).await;
    let Some(app) = app_with_ai(engine, &url, Duration::from_millis(300), 30).await else {
        return;
    };
    draft(&app, "ana", Some("extensive")).await;
    let started = std::time::Instant::now();
    let r = app.get(SUGGESTIONS, "ana").await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(
        (r.body["source"].as_str(), r.body["fallback"].as_str()),
        (Some("catalog"), Some("provider_timeout")),
        "{}",
        r.body
    );
    assert_eq!(r.body["suggestions"].as_array().unwrap().len(), 3);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

async fn suggestions_are_rate_limited_per_user(engine: Engine) {
    let Some(app) = spawn_app_with(engine, |s| s.suggestions_per_minute = 2).await else {
        return;
    };
    draft(&app, "ana", None).await;
    draft(&app, "bea", None).await;
    for _ in 0..2 {
        assert_eq!(app.get(SUGGESTIONS, "ana").await.status, 200);
    }
    let limited = app.get(SUGGESTIONS, "ana").await;
    assert_rate_limited(&limited);
    // Another user has their own allowance.
    assert_eq!(app.get(SUGGESTIONS, "bea").await.status, 200);
}

async fn feedback_refuses_bad_input(app: TestApp) {
    let good = "0123456789abcdef";
    for (id, body) in [
        ("not-hex-at-all!!", json!({"action": "accepted"})),
        ("0123456789ABCDEF", json!({"action": "accepted"})),
        ("0123", json!({"action": "accepted"})),
        (good, json!({"action": "loved"})),
    ] {
        let r = app
            .post(
                &format!("/api/onboarding/suggestions/{id}/feedback"),
                "ana",
                Some(&body),
            )
            .await;
        assert_problem(&r, 400, "bad_request");
    }
    let r = app
        .post(
            &format!("/api/onboarding/suggestions/{good}/feedback"),
            "ana",
            Some(&json!({})),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(app.count("suggestion_feedback").await, 0);
    assert_problem(
        &app.get("/api/onboarding/suggestions?step=company", "ana")
            .await,
        404,
        "not_found",
    );
    // No session yet: nothing to fit suggestions to.
    assert_problem(&app.get(SUGGESTIONS, "ana").await, 409, "conflict");
}

const DAY: i64 = 86_400_000;
const MIN: i64 = 60_000;

async fn funnel_counts_seeded_events_exactly(app: TestApp) {
    // 2026-01-10 00:00 UTC.
    let d = onboarding_core::Date::parse("2026-01-10")
        .unwrap()
        .unix_days()
        * DAY;
    let pool = &app.pool;
    let steps = [
        "welcome",
        "company",
        "organization",
        "objectives",
        "preferences",
        "review",
    ];
    // (session, start, steps saved, end event, its time)
    let sessions: [(&str, i64, usize, &str, i64); 5] = [
        ("s1", d + 600 * MIN, 6, "completed", d + 610 * MIN),
        ("s2", d + 660 * MIN, 2, "abandoned", d + 720 * MIN),
        ("s3", d + 720 * MIN, 1, "expired", d + 2 * DAY),
        ("s4", d + 780 * MIN, 6, "completed", d + 810 * MIN),
        ("s5", d - 5 * DAY, 6, "completed", d),
    ];
    let mut n = 0;
    let mut event = |session: &str, kind: &str, step: Option<&str>, at: i64| {
        n += 1;
        sqlx::query("insert into onboarding_events (id, session_id, user_id, kind, step, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $6)")
            .bind(format!("e{n}"))
            .bind(session.to_owned())
            .bind(format!("u-{session}"))
            .bind(kind.to_owned())
            .bind(step.map(str::to_owned))
            .bind(at)
    };
    for (id, start, saved, end, end_at) in sessions {
        sqlx::query("insert into onboarding_sessions (id, user_id, status, version, last_activity_at, created_at, updated_at) values ($1, $2, 'completed', 1, $3, $3, $3)")
            .bind(id).bind(format!("u-{id}")).bind(start)
            .execute(pool).await.unwrap();
        event(id, "started", None, start)
            .execute(pool)
            .await
            .unwrap();
        for (i, step) in steps.iter().take(saved).enumerate() {
            let at = start + i64::try_from(i).unwrap() * MIN;
            event(id, "step_saved", Some(step), at)
                .execute(pool)
                .await
                .unwrap();
            event(id, "step_completed", Some(step), at)
                .execute(pool)
                .await
                .unwrap();
        }
        event(id, end, None, end_at).execute(pool).await.unwrap();
    }
    // Suggestion choices: three in range (2 accepted, 1 edited, 1 dismissed), one before it.
    for (user, id, action, at) in [
        ("a", "1", "accepted", d),
        ("b", "2", "accepted", d + DAY),
        ("c", "3", "edited", d),
        ("d", "4", "dismissed", d),
        ("e", "5", "dismissed", d - DAY),
    ] {
        sqlx::query("insert into suggestion_feedback (user_id, suggestion_id, action, created_at, updated_at) values ($1, $2, $3, $4, $4)")
            .bind(user).bind(id).bind(action).bind(at)
            .execute(pool).await.unwrap();
    }

    let path = "/api/admin/onboarding/funnel?from=2026-01-10&to=2026-01-12";
    assert_problem(&app.get(path, "ana").await, 403, "forbidden");
    let admin = app
        .keys
        .mint_with("root", "root@example.com", 600, true)
        .unwrap();
    let get = |path: &str| {
        app.http
            .get(format!("{}{path}", app.base))
            .bearer_auth(&admin)
            .send()
    };
    let r = crate::helpers::reply(get(path).await.unwrap()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let f = r.body;
    assert_eq!(
        f["sessions"],
        json!({"started": 4, "completed": 3, "abandoned": 1, "expired": 1})
    );
    let reached: Vec<i64> = f["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["reached"].as_i64().unwrap())
        .collect();
    assert_eq!(reached, [4, 3, 2, 2, 2, 2]);
    let drop: Vec<i64> = f["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["drop_off"].as_i64().unwrap())
        .collect();
    assert_eq!(drop, [0, 1, 1, 0, 0, 0]);
    assert_eq!(f["steps"][1]["drop_off_rate"], 0.25);
    assert_eq!(
        f["time_to_complete"],
        json!({"count": 3, "median_ms": 30 * MIN, "p90_ms": 5 * DAY})
    );
    assert_eq!(
        f["suggestions"],
        json!({"accepted": 2, "edited": 1, "dismissed": 1, "acceptance_rate": 0.75})
    );
    assert_eq!(
        (f["from"].as_str(), f["to"].as_str()),
        (Some("2026-01-10"), Some("2026-01-12"))
    );

    // One day only: s5 (started earlier) still completed then; s3 expired later.
    let one = crate::helpers::reply(
        get("/api/admin/onboarding/funnel?from=2026-01-10&to=2026-01-10")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        one.body["sessions"],
        json!({"started": 4, "completed": 3, "abandoned": 1, "expired": 0})
    );
    // An empty range has no durations and no rates.
    let empty = crate::helpers::reply(
        get("/api/admin/onboarding/funnel?from=2020-01-01&to=2020-01-31")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        empty.body["time_to_complete"],
        json!({"count": 0, "median_ms": null, "p90_ms": null})
    );
    assert_eq!(empty.body["steps"][0]["drop_off_rate"], Value::Null);
    for bad in [
        "from=2026-13-01",
        "to=yesterday",
        "from=2026-02-01&to=2026-01-01",
    ] {
        let r = crate::helpers::reply(
            get(&format!("/api/admin/onboarding/funnel?{bad}"))
                .await
                .unwrap(),
        )
        .await;
        assert_problem(&r, 400, "bad_request");
    }
}

async fn sessions_expire_by_the_clock_and_restart_abandons(app: TestApp) {
    app.post("/api/onboarding/start", "ana", None).await;
    let welcome = crate::helpers::valid_wizard()["welcome"].clone();
    assert_eq!(
        app.put_step("ana", "welcome", &welcome, None).await.status,
        200
    );

    // Six days of silence: still in progress. Eight: expired, and saving is refused.
    app.clock.advance(Duration::from_secs(6 * 86_400));
    assert_eq!(
        app.get("/api/onboarding/status", "ana").await.body["status"],
        "in_progress"
    );
    app.clock.advance(Duration::from_secs(2 * 86_400));
    let status = app.get("/api/onboarding/status", "ana").await;
    assert_eq!(status.body["status"], "expired", "{}", status.body);
    assert_problem(
        &app.put_step("ana", "welcome", &welcome, None).await,
        409,
        "conflict",
    );

    // `start` after expiry begins afresh, with an empty draft; the old session is recorded expired.
    let fresh = app.post("/api/onboarding/start", "ana", None).await;
    assert_eq!(fresh.status, 201, "{}", fresh.body);
    assert_eq!(fresh.body["draft"], json!({}));
    assert_eq!(
        app.count("onboarding_sessions where status = 'expired'")
            .await,
        1
    );
    assert_eq!(
        app.count("onboarding_events where kind = 'expired'").await,
        1
    );

    // `restart` abandons the open session and opens another.
    let restarted = app
        .post(
            "/api/onboarding/start",
            "ana",
            Some(&json!({"restart": true})),
        )
        .await;
    assert_eq!(restarted.status, 201);
    assert_ne!(restarted.body["session_id"], fresh.body["session_id"]);
    assert_eq!(
        app.count("onboarding_events where kind = 'abandoned'")
            .await,
        1
    );

    // The purge, at the server's clock eight days on, expires and empties the open draft.
    assert_eq!(
        app.put_step("ana", "welcome", &welcome, None).await.status,
        200
    );
    app.clock.advance(Duration::from_secs(8 * 86_400));
    let ttl = 7 * DAY;
    assert_eq!(
        app.store
            .expire_sessions(app.clock.now_ms(), ttl)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        app.get("/api/onboarding/status", "ana").await.body["status"],
        "expired"
    );
    assert_eq!(app.count("onboarding_steps").await, 0);
}

/// A draft full of free text where options belong: the provider is sent only values of the
/// rules' option tables, a few hundred bytes, never what the user typed.
async fn the_provider_receives_only_option_values(engine: Engine) {
    let (url, calls, prompts) = fake_provider(Duration::ZERO).await;
    let app = app_with_ai(engine, &url, Duration::from_secs(3), 30)
        .await
        .unwrap();
    draft(&app, "ana", Some("moderate")).await;
    let secret = "SECRET-DRAFT-TEXT ".repeat(5_000);
    let mut company = crate::helpers::valid_wizard()["company"].clone();
    company["industry"] = json!(secret);
    company["company_size"] = json!({"nested": secret});
    assert_eq!(
        app.put_step("ana", "company", &company, None).await.status,
        200
    );
    let mut organization = crate::helpers::valid_wizard()["organization"].clone();
    organization["business_goals"] = json!(["revenue_growth", secret, "innovation"]);
    organization["okr_maturity"] = json!(secret);
    assert_eq!(
        app.put_step("ana", "organization", &organization, None)
            .await
            .status,
        200
    );
    let r = app.get(SUGGESTIONS, "ana").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let prompt = prompts.lock().unwrap()[0].clone();
    assert!(!prompt.contains("SECRET"), "{prompt}");
    assert!(prompt.len() < 600, "{} bytes: {prompt}", prompt.len());
    let sent: Value = serde_json::from_str(&prompt).unwrap();
    assert_eq!(sent["industry"], "other");
    assert_eq!(
        sent["business_goals"],
        json!(["revenue_growth", "innovation"])
    );
    assert_eq!(sent["okr_maturity"], "beginner");
}
