//! Tenancy: user B against user A's data, over HTTP on both engines, and directly in SQL under
//! the application role with B's id on PostgreSQL (row-level security).

use crate::helpers::{assert_problem, Engine, TestApp};
use serde_json::json;
use sqlx::Row;

crate::both_engines!(members_only_over_http, user_ids_are_data_not_sql);

async fn members_only_over_http(app: TestApp) {
    app.fill_wizard("alice", "Alice Co").await;
    let created = app.post("/api/onboarding/complete", "alice", None).await;
    let org = created.body["organization"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for path in [
        format!("/api/organizations/{org}"),
        format!("/api/organizations/{org}/objectives"),
        format!("/api/organizations/{org}/members"),
    ] {
        let mine = app.get(&path, "alice").await;
        assert_eq!(mine.status, 200, "{path}: {}", mine.body);
        let theirs = app.get(&path, "bob").await;
        assert_problem(&theirs, 404, "not_found");
    }
    let objectives = app
        .get(&format!("/api/organizations/{org}/objectives"), "alice")
        .await;
    assert_eq!(objectives.body["objectives"].as_array().unwrap().len(), 2);
    assert_eq!(
        objectives.body["objectives"][0]["key_results"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let members = app
        .get(&format!("/api/organizations/{org}/members"), "alice")
        .await;
    assert_eq!(
        members.body["members"],
        json!([{"user_id": "alice", "role": "owner", "joined_at": members.body["members"][0]["joined_at"]}])
    );
    // Bob sees none of Alice's onboarding.
    let status = app.get("/api/onboarding/status", "bob").await;
    assert_eq!(status.body["status"], "not_started");
    let r = app.post("/api/onboarding/complete", "bob", None).await;
    assert_problem(&r, 409, "conflict");
    let r = app
        .send(
            reqwest::Method::POST,
            "/api/onboarding/complete",
            Some("bob"),
            None,
            &[("idempotency-key", "alice-key")],
        )
        .await;
    assert_problem(&r, 409, "conflict");
}

/// On PostgreSQL the user id reaches the database as a bound parameter of the transaction's
/// first statement (see `Store::begin_on`; an escaped literal before issue 33): quotes,
/// backslashes and `E'` tricks must stay data, and users whose ids differ only there must stay
/// apart.
async fn user_ids_are_data_not_sql(app: TestApp) {
    let users = [
        "o'brien",
        "o\\'brien",
        "o\\",
        "x', true); select set_config('app.user_id', 'alice",
        "\\'; reset role; --",
        "alice",
    ];
    for (i, user) in users.iter().enumerate() {
        let r = app.post("/api/onboarding/start", user, None).await;
        assert!(matches!(r.status, 200 | 201), "{user}: {}", r.body);
        let data = json!({"full_name": format!("User {i}")});
        let r = app.put_step(user, "welcome", &data, None).await;
        assert_eq!(r.status, 200, "{user}: {}", r.body);
    }
    for (i, user) in users.iter().enumerate() {
        let r = app.get("/api/onboarding/status", user).await;
        assert_eq!(r.status, 200, "{user}: {}", r.body);
        assert_eq!(
            r.body["draft"]["welcome"]["full_name"],
            format!("User {i}"),
            "{user}: {}",
            r.body
        );
    }
    let r = app.get("/api/onboarding/status", "o'brien\u{0}").await;
    assert_problem(&r, 401, "unauthorized");
}

const TENANT_TABLES: &[&str] = &[
    "onboarding_sessions",
    "onboarding_steps",
    "onboarding_events",
    "organizations",
    "memberships",
    "profiles",
    "objectives",
    "key_results",
    "invitations",
    "idempotency_keys",
    "suggestion_feedback",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_row_level_security_refuses_other_tenants() {
    let Some(app) = crate::helpers::spawn_app(Engine::Postgres).await else {
        eprintln!("skipped: TEST_DATABASE_URL is not set");
        return;
    };
    app.fill_wizard("alice", "Alice Co").await;
    let created = app
        .send(
            reqwest::Method::POST,
            "/api/onboarding/complete",
            Some("alice"),
            None,
            &[("idempotency-key", "k")],
        )
        .await;
    assert_eq!(created.status, 201);
    let org = created.body["organization"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let choice = app
        .post(
            "/api/onboarding/suggestions/0123456789abcdef/feedback",
            "alice",
            Some(&serde_json::json!({"action": "dismissed"})),
        )
        .await;
    assert_eq!(choice.status, 200);

    // The role requests run as: not a superuser, no BYPASSRLS, owns no table.
    let pool = &app.pool;
    let role =
        sqlx::query("select rolsuper, rolbypassrls from pg_roles where rolname = 'onboarding_app'")
            .fetch_one(pool)
            .await
            .unwrap();
    assert!(!role.get::<bool, _>("rolsuper") && !role.get::<bool, _>("rolbypassrls"));
    let owned =
        sqlx::query("select count(*) as n from pg_tables where tableowner = 'onboarding_app'")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(owned.get::<i64, _>("n"), 0);
    // Every request transaction runs as that role with the user's id, and neither outlives it.
    let mut tx = app.pg().begin("alice").await.unwrap();
    let who = sqlx::query("select current_user::text as r, current_setting('app.user_id') as u")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(
        (who.get::<String, _>("r"), who.get::<String, _>("u")),
        ("onboarding_app".to_owned(), "alice".to_owned())
    );
    tx.commit().await.unwrap();
    // (The request pool hands out its most recently returned connection: the transaction's.)
    let mut conn = app.pg().requests().acquire().await.unwrap();
    assert_nothing_left(&mut conn).await;
    // The status read is one statement (`onboarding_latest_session`, run as that role): it
    // returns the user's own session only and leaves neither role nor user id on the connection.
    for (user, sessions) in [("alice", 1), ("bob", 0)] {
        let rows = sqlx::query("select user_id from onboarding_latest_session($1)")
            .bind(user)
            .fetch_all(&mut *conn)
            .await
            .unwrap();
        assert_eq!(rows.len(), sessions, "{user}");
        assert!(rows.iter().all(|r| r.get::<String, _>("user_id") == user));
        assert_nothing_left(&mut conn).await;
    }
    let config = sqlx::query(
        "select array_to_string(proconfig, ',') as c, prosecdef from pg_proc where proname = 'onboarding_latest_session'",
    )
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    assert!(config.get::<String, _>("c").contains("role=onboarding_app"));
    assert!(
        !config.get::<bool, _>("prosecdef"),
        "runs as the app role, not its owner"
    );
    conn.release();
    // A step save names no session: Bob's finds only his own (none), and Alice's session is
    // untouched.
    let version = || async {
        sqlx::query("select version from onboarding_sessions where user_id = 'alice'")
            .fetch_one(pool)
            .await
            .unwrap()
            .get::<i64, _>("version")
    };
    let before = version().await;
    let bob = app
        .put_step("bob", "welcome", &serde_json::json!({}), None)
        .await;
    assert_eq!(bob.status, 409, "{}", bob.body);
    assert_eq!(version().await, before);

    for (user, visible) in [("alice", true), ("bob", false)] {
        for table in TENANT_TABLES {
            let mut tx = app.pg().begin(user).await.unwrap();
            let n: i64 = sqlx::query(&format!("select count(*) as n from {table}"))
                .fetch_one(&mut *tx)
                .await
                .unwrap()
                .get("n");
            assert_eq!(n > 0, visible, "{user} sees {n} rows of {table}");
            if !visible {
                let updated = sqlx::query(&format!("update {table} set updated_at = 0"))
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                assert_eq!(updated.rows_affected(), 0, "bob updated {table}");
                let deleted = sqlx::query(&format!("delete from {table}"))
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                assert_eq!(deleted.rows_affected(), 0, "bob deleted from {table}");
            }
            tx.rollback().await.unwrap();
        }
    }
    // Writes into Alice's organization, or as Alice, are refused for Bob.
    let refused = [
        format!("insert into objectives (id, organization_id, position, title, created_at, updated_at) values ('x', '{org}', 9, 'Intruso total', 0, 0)"),
        format!("insert into memberships (id, organization_id, user_id, role, created_at, updated_at) values ('x', '{org}', 'alice', 'owner', 0, 0)"),
        format!("insert into invitations (id, organization_id, email, role, token_hash, expires_at, created_at, updated_at) values ('x', '{org}', 'b@x.com', 'member', 'h', 0, 0, 0)"),
        "insert into onboarding_sessions (id, user_id, status, version, last_activity_at, created_at, updated_at) values ('x', 'alice', 'in_progress', 1, 0, 0, 0)".to_owned(),
        "insert into onboarding_steps (session_id, user_id, step, data, completed, created_at, updated_at) values ('x', 'alice', 'welcome', '{}', 0, 0, 0)".to_owned(),
        "insert into idempotency_keys (user_id, key, status, body, created_at, updated_at) values ('alice', 'k2', 201, '{}', 0, 0)".to_owned(),
        "insert into suggestion_feedback (user_id, suggestion_id, action, created_at, updated_at) values ('alice', 'abcdef0123456789', 'accepted', 0, 0)".to_owned(),
        "insert into profiles (user_id, full_name, job_title, experience_with_okr, primary_goal, urgency_level, preferences, created_at, updated_at) values ('alice', 'x', 'x', 'none', 'x', 'low', '{}', 0, 0)".to_owned(),
    ];
    for sql in refused {
        let mut tx = app.pg().begin("bob").await.unwrap();
        let err = sqlx::query(&sql).execute(&mut *tx).await.expect_err(&sql);
        assert!(
            err.to_string().contains("row-level security"),
            "{sql}: {err}"
        );
        tx.rollback().await.unwrap();
    }
    // The role and the user id do not outlive the transaction on the pooled connection.
    let mut conn = app.pg().requests().acquire().await.unwrap();
    assert_nothing_left(&mut conn).await;
    conn.release();
}

/// Neither the app role nor a user id is left on a request connection after its work.
async fn assert_nothing_left(conn: &mut sqlx::PgConnection) {
    let row = sqlx::query(
        "select current_user::text as r, coalesce(current_setting('app.user_id', true), '') as u",
    )
    .fetch_one(conn)
    .await
    .unwrap();
    assert_ne!(row.get::<String, _>("r"), "onboarding_app");
    assert_eq!(row.get::<String, _>("u"), "");
}

/// Hardening II, items 10 and 11, under the app role on PostgreSQL: a temporary table named
/// like a real one (`memberships`, `invitations`) does not shadow it inside the
/// security-definer functions (their search_path ends with pg_temp); and owners read their
/// outbox's delivery state but never a body (which carries a raw token).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_definer_functions_ignore_temp_tables_and_bodies_stay_hidden() {
    let Some(app) = crate::helpers::spawn_app(Engine::Postgres).await else {
        eprintln!("skipped: TEST_DATABASE_URL is not set");
        return;
    };
    app.fill_wizard("alice", "Alice Co").await;
    let created = app.post("/api/onboarding/complete", "alice", None).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let org = created.body["organization"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Every function that pins a search_path puts pg_temp last.
    let pinned: Vec<String> = sqlx::query(
        "select p.proname::text as name, array_to_string(p.proconfig, ',') as c from pg_proc p \
         where p.pronamespace = 'public'::regnamespace and array_to_string(p.proconfig, ',') like '%search_path=%'",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap()
    .iter()
    .filter(|r| !r.get::<String, _>("c").contains("search_path=pg_catalog, public, pg_temp"))
    .map(|r| r.get("name"))
    .collect();
    assert!(pinned.is_empty(), "without pg_temp last: {pinned:?}");

    let mut tx = app.pg().begin("mallory").await.unwrap();
    for sql in [
        "create temp table memberships (id text, organization_id text, user_id text, role text, created_at bigint, updated_at bigint)",
        "create temp table invitations (organization_id text, role text, accepted_by text, email text, token_hash text, state text, expires_at bigint)",
    ] {
        sqlx::query(sql).execute(&mut *tx).await.unwrap();
    }
    sqlx::query("insert into pg_temp.memberships values ('m', $1, 'mallory', 'owner', 0, 0)")
        .bind(&org)
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("insert into pg_temp.invitations values ($1, 'owner', 'mallory', 'm@x.com', 'h', 'pending', 9999999999999)")
        .bind(&org)
        .execute(&mut *tx)
        .await
        .unwrap();
    let role: Option<String> = sqlx::query("select onboarding_role_in($1) as r")
        .bind(&org)
        .fetch_one(&mut *tx)
        .await
        .unwrap()
        .get("r");
    assert_eq!(role, None, "the temporary memberships table answered");
    let member: bool = sqlx::query("select onboarding_is_member($1) as m")
        .bind(&org)
        .fetch_one(&mut *tx)
        .await
        .unwrap()
        .get("m");
    assert!(!member);
    let invited: bool = sqlx::query("select onboarding_invited_as($1, 'owner') as i")
        .bind(&org)
        .fetch_one(&mut *tx)
        .await
        .unwrap()
        .get("i");
    assert!(!invited);
    let seen: i64 =
        sqlx::query("select count(*) as n from public.invitations where organization_id = $1")
            .bind(&org)
            .fetch_one(&mut *tx)
            .await
            .unwrap()
            .get("n");
    assert_eq!(seen, 0, "another organization's invitations");
    tx.rollback().await.unwrap();

    // The owner sees the delivery state of the organization's e-mails, not their bodies.
    let mut tx = app.pg().begin("alice").await.unwrap();
    let states: i64 =
        sqlx::query("select count(state) as n from mail_outbox where organization_id = $1")
            .bind(&org)
            .fetch_one(&mut *tx)
            .await
            .unwrap()
            .get("n");
    assert_eq!(states, 2);
    let body = sqlx::query("select body from mail_outbox where organization_id = $1")
        .bind(&org)
        .fetch_all(&mut *tx)
        .await;
    let Err(e) = body else {
        panic!("the app role read e-mail bodies");
    };
    assert!(e.to_string().contains("permission denied"), "{e}");
    tx.rollback().await.unwrap();
    // The delivery worker (the owner, system work) still reads them.
    let bodies: i64 = sqlx::query("select count(body) as n from mail_outbox")
        .fetch_one(&app.pool)
        .await
        .unwrap()
        .get("n");
    assert_eq!(bodies, 2);
}
