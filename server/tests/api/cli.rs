//! The binary's refusals: no key without --dev, --dev only on loopback.

use std::process::Command;

fn server(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_onboarding-server"))
        .args(args)
        .env_remove("AUTH_JWT_SECRET")
        .env_remove("AUTH_JWT_PUBLIC_KEY")
        .env_remove("ONBOARDING_DEV")
        .env("DATABASE_URL", "sqlite::memory:")
        .output()
        .unwrap()
}

#[test]
fn serve_refuses_without_a_key() {
    let out = server(&["serve", "--bind", "127.0.0.1:0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no token key configured"));
}

#[test]
fn dev_mode_refuses_non_loopback_addresses() {
    let out = server(&["serve", "--dev", "--bind", "0.0.0.0:0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("loopback addresses only"));
}

#[tokio::test]
async fn short_secrets_are_refused_and_tokens_can_be_minted() {
    let short = Command::new(env!("CARGO_BIN_EXE_onboarding-server"))
        .args(["token", "--sub", "u", "--email", "u@x.com"])
        .env("AUTH_JWT_SECRET", "short")
        .output()
        .unwrap();
    assert_eq!(short.status.code(), Some(2));
    let ok = Command::new(env!("CARGO_BIN_EXE_onboarding-server"))
        .args(["token", "--sub", "u", "--email", "u@x.com", "--ttl", "30m"])
        .env("AUTH_JWT_SECRET", crate::helpers::SECRET)
        .output()
        .unwrap();
    assert_eq!(ok.status.code(), Some(0));
    let token = String::from_utf8(ok.stdout).unwrap();
    let keys = onboarding_server::auth::Keys::hs256(crate::helpers::SECRET.as_bytes(), None, None);
    assert_eq!(keys.verify(token.trim()).await.unwrap().sub, "u");
}

/// A database migrated by a newer server: `serve` and `migrate` refuse it with a clear message
/// instead of running against a schema they do not know.
#[tokio::test]
async fn a_database_from_a_newer_server_is_refused() {
    let dir = crate::helpers::tempdir::TempDir::new();
    let url = format!("sqlite://{}/newer.db?mode=rwc", dir.0.display());
    let store = onboarding_server::store::Store::connect(&url)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let pool = crate::helpers::any_pool(&url).await;
    sqlx::query("insert into _sqlx_migrations (version, description, installed_on, success, checksum, execution_time) values (99990101, 'from the future', '2030-01-01', true, x'00', 0)")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    for command in ["migrate", "serve"] {
        let out = Command::new(env!("CARGO_BIN_EXE_onboarding-server"))
            .args([command, "--database-url", &url])
            .args(if command == "serve" {
                &["--bind", "127.0.0.1:0"][..]
            } else {
                &[][..]
            })
            .env("AUTH_JWT_SECRET", crate::helpers::SECRET)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{command}: {stderr}");
        assert!(
            stderr.contains("migration 99990101") && stderr.contains("newer version"),
            "{command}: {stderr}"
        );
    }
}

/// Mail settings that cannot work are refused at start-up, each with what to set.
#[test]
fn incomplete_mail_settings_are_refused() {
    let run = |env: &[(&str, &str)]| {
        let out = Command::new(env!("CARGO_BIN_EXE_onboarding-server"))
            .args(["serve", "--bind", "127.0.0.1:0"])
            .env("AUTH_JWT_SECRET", crate::helpers::SECRET)
            .env("DATABASE_URL", "sqlite::memory:")
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{env:?}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let smtp = ("SMTP_URL", "smtp://127.0.0.1:2525");
    let from = ("MAIL_FROM", "no-reply@okr.example");
    assert!(run(&[smtp]).contains("MAIL_FROM is required"));
    assert!(run(&[smtp, from]).contains("PUBLIC_BASE_URL is required"));
    let base = ("PUBLIC_BASE_URL", "https://okr.example");
    assert!(run(&[("SMTP_URL", "http://mail.example"), from, base]).contains("smtp://"));
    assert!(run(&[smtp, ("MAIL_FROM", "not an address"), base]).contains("MAIL_FROM"));
    assert!(run(&[("PUBLIC_BASE_URL", "ftp://x")]).contains("PUBLIC_BASE_URL"));
    assert!(run(&[("INVITATION_TTL_DAYS", "31")]).contains("INVITATION_TTL_DAYS must be 1 to 30"));
    // The password in SMTP_URL is never printed.
    let out = run(&[("SMTP_URL", "smtps://user:s3cret@"), from, base]);
    assert!(!out.contains("s3cret"), "{out}");
}
