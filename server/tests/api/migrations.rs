//! Reversible migrations, on both engines: every migration reverted down to an empty database
//! and applied again gives the schema of a fresh migrate (compared from the catalog); reverting
//! a database with data keeps the rows the older schema can hold, and upgrading again brings
//! them back; `migrate --revert-to` from the command line.

use crate::helpers::{spawn_app, Engine, TestApp};
use onboarding_server::store::Store;
use serde_json::{json, Value};
use sqlx::Row;

crate::each_engine!(
    down_to_zero_and_up_again_gives_the_fresh_schema,
    reverting_keeps_the_rows_the_older_schema_holds,
);

/// The schema as the catalog describes it, as sorted text lines (the migration bookkeeping
/// table left out).
async fn schema(store: &Store, pool: &sqlx::AnyPool) -> Vec<String> {
    let queries: &[&str] = match store.engine() {
        onboarding_server::store::Engine::Sqlite => &[
            "select type || ' ' || name || ' ' || tbl_name || ' ' || coalesce(sql, '') as line from sqlite_master where name not like '_sqlx%' and name not like 'sqlite_%'",
        ],
        onboarding_server::store::Engine::Postgres => &[
            "select 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '') as line from information_schema.columns where table_schema = 'public' and table_name <> '_sqlx_migrations'",
            "select 'index ' || indexdef as line from pg_indexes where schemaname = 'public' and tablename <> '_sqlx_migrations'",
            "select 'constraint ' || conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) as line from pg_constraint where connamespace = 'public'::regnamespace and conrelid::regclass::text <> '_sqlx_migrations'",
            "select 'policy ' || tablename || ' ' || policyname || ' ' || cmd || ' ' || roles::text || ' ' || coalesce(qual, '') || ' ' || coalesce(with_check, '') as line from pg_policies where schemaname = 'public'",
            "select 'function ' || proname || '(' || pg_get_function_identity_arguments(oid) || ') ' || md5(prosrc) || ' ' || coalesce(array_to_string(proconfig, ','), '') || ' ' || prosecdef::text as line from pg_proc where pronamespace = 'public'::regnamespace",
            "select 'table ' || relname || ' rls ' || relrowsecurity::text || ' force ' || relforcerowsecurity::text as line from pg_class where relnamespace = 'public'::regnamespace and relkind = 'r' and relname <> '_sqlx_migrations'",
            "select 'grant ' || table_name || ' ' || privilege_type as line from information_schema.role_table_grants where table_schema = 'public' and grantee = 'onboarding_app'",
        ],
    };
    let mut lines = Vec::new();
    for q in queries {
        for row in sqlx::query(q).fetch_all(pool).await.unwrap() {
            lines.push(row.get::<String, _>("line"));
        }
    }
    lines.sort();
    lines
}

/// The migrations of each engine, in order (PostgreSQL's 5, 10, 11, 14, 15 and 17 have no SQLite
/// counterpart).
fn versions(engine: Engine) -> Vec<i64> {
    match engine {
        Engine::Sqlite => vec![1, 2, 3, 4, 6, 7, 8, 9, 12, 13, 16],
        Engine::Postgres => (1..=17).collect(),
    }
}

fn latest_version(engine: Engine) -> i64 {
    *versions(engine).last().unwrap()
}

async fn down_to_zero_and_up_again_gives_the_fresh_schema(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    let store = Store::connect(&app.url).await.unwrap();
    let pool = crate::helpers::any_pool(&app.url).await;
    let fresh = schema(&store, &pool).await;
    assert!(fresh.len() > 20, "{fresh:?}");
    let latest = store.schema_version().await.unwrap();
    assert_eq!(latest, latest_version(engine));

    let reverted = store.revert_to(0).await.unwrap();
    assert_eq!(reverted.first(), Some(&latest));
    assert_eq!(reverted.last(), Some(&1));
    assert_eq!(store.schema_version().await.unwrap(), 0);
    assert_eq!(
        schema(&store, &pool).await,
        Vec::<String>::new(),
        "nothing left"
    );

    store.migrate().await.unwrap();
    assert_eq!(schema(&store, &pool).await, fresh);
    // Down to each version and up again: each down script undoes exactly its up script (one
    // that left something behind would make its up script fail, or the schema differ).
    for target in (0..latest).rev() {
        store.revert_to(target).await.unwrap();
        // (Where the engine has no migration `target`, at the one before it.)
        let below = versions(engine).into_iter().filter(|v| *v <= target).max();
        assert_eq!(store.schema_version().await.unwrap(), below.unwrap_or(0));
        store.migrate().await.unwrap();
        assert_eq!(
            schema(&store, &pool).await,
            fresh,
            "down to {target} and up again"
        );
    }
    assert!(store.revert_to(-1).await.is_err());
}

async fn reverting_keeps_the_rows_the_older_schema_holds(engine: Engine) {
    let Some(app) = spawn_app(engine).await else {
        return;
    };
    // An organization with invitations (one revoked), and an open draft of two steps.
    app.fill_wizard("ana", "Ana Co").await;
    let done = app.post("/api/onboarding/complete", "ana", None).await;
    assert_eq!(done.status, 201, "{}", done.body);
    let org = done.body["organization"]["id"].as_str().unwrap().to_owned();
    let list = app
        .get(&format!("/api/organizations/{org}/invitations"), "ana")
        .await;
    let luis = list.body["invitations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["email"] == "luis@cafenino.mx")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .send(
            reqwest::Method::DELETE,
            &format!("/api/organizations/{org}/invitations/{luis}"),
            Some("ana"),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, 200);
    app.post("/api/onboarding/start", "bea", None).await;
    let wizard = crate::helpers::valid_wizard();
    app.put_step("bea", "welcome", &wizard["welcome"], None)
        .await;
    app.put_step("bea", "company", &json!({"company_name": "B"}), None)
        .await;
    let before = app.get("/api/onboarding/status", "bea").await.body;

    let store = Store::connect(&app.url).await.unwrap();
    let pool = crate::helpers::any_pool(&app.url).await;
    let rows = |table: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query(&format!("select count(*) as n from {table}"))
                .fetch_one(&pool)
                .await
                .unwrap()
                .get::<i64, _>("n")
        }
    };
    let (orgs, members, invitations, objectives) = (
        rows("organizations").await,
        rows("memberships").await,
        rows("invitations").await,
        rows("objectives").await,
    );
    // Down to 6 (before the step rows): the invitations lose their state but stay, the revoked
    // one no longer usable; the draft is one text again, with the same steps.
    let expected: Vec<i64> = versions(engine)
        .into_iter()
        .rev()
        .filter(|v| *v >= 7)
        .collect();
    assert_eq!(store.revert_to(6).await.unwrap(), expected);
    assert_eq!(
        (
            rows("organizations").await,
            rows("memberships").await,
            rows("invitations").await,
            rows("objectives").await
        ),
        (orgs, members, invitations, objectives)
    );
    let revoked = sqlx::query("select expires_at, updated_at from invitations where id = $1")
        .bind(&luis)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(revoked.get::<i64, _>("expires_at") <= revoked.get::<i64, _>("updated_at"));
    let session = sqlx::query("select draft, completed_steps from onboarding_sessions where user_id = 'bea' and status = 'in_progress'")
        .fetch_one(&pool)
        .await
        .unwrap();
    let draft: Value = serde_json::from_str(&session.get::<String, _>("draft")).unwrap();
    assert_eq!(draft, before["draft"]);
    let completed: Value =
        serde_json::from_str(&session.get::<String, _>("completed_steps")).unwrap();
    assert_eq!(completed, json!(["welcome"]));

    // Up again: the draft is back in step rows, as the status read shows it.
    store.migrate().await.unwrap();
    let after = app.get("/api/onboarding/status", "bea").await.body;
    assert_eq!(after["draft"], before["draft"]);
    assert_eq!(after["completed_steps"], before["completed_steps"]);
    assert_eq!(rows("invitations").await, invitations);
}

/// `migrate --revert-to` from the command line, and a database at a version this binary does
/// not know refused by both `migrate --revert-to` and `serve`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_reverts_and_refuses_unknown_versions() {
    let app: TestApp = spawn_app(Engine::Sqlite).await.unwrap();
    let bin = env!("CARGO_BIN_EXE_onboarding-server");
    let run = |args: &[&str]| {
        std::process::Command::new(bin)
            .args(args)
            .env("AUTH_JWT_SECRET", crate::helpers::SECRET)
            .output()
            .unwrap()
    };
    let out = run(&["migrate", "--database-url", &app.url, "--revert-to", "7"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("reverted 5 migration(s)") && text.contains("version 7"),
        "{text}"
    );
    let store = Store::connect(&app.url).await.unwrap();
    let pool = crate::helpers::any_pool(&app.url).await;
    assert_eq!(store.schema_version().await.unwrap(), 7);
    let out = run(&["migrate", "--database-url", &app.url]);
    assert!(out.status.success());
    assert_eq!(store.schema_version().await.unwrap(), 16);
    // A migration from the future.
    sqlx::query("insert into _sqlx_migrations (version, description, installed_on, success, checksum, execution_time) values (99, 'future', '2030-01-01', true, x'00', 0)")
        .execute(&pool)
        .await
        .unwrap();
    let out = run(&["migrate", "--database-url", &app.url, "--revert-to", "8"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("migration 99"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
