//! The `onboarding-rules` CLI as scripts use it: exit codes, stdout, stderr.

use crate::helpers::{ctx, repo_root, valid_wizard};
use onboarding_core as core;
use std::io::Write;
use std::process::{Command, Output, Stdio};

fn rules(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_onboarding-rules"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The CLI may exit (usage errors) before reading its input: a broken pipe is fine here.
    let _ = child.stdin.take().unwrap().write_all(stdin);
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

#[test]
fn validate_valid_file_exits_0_with_the_library_report() {
    let file = repo_root().join("tests/fixtures/valid_wizard.json");
    let out = rules(
        &["validate", "--today", "2026-11-27", file.to_str().unwrap()],
        b"",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let expected = core::to_json(&core::validate_wizard(&valid_wizard(), &ctx())) + "\n";
    assert_eq!(stdout(&out), expected);
}

#[test]
fn validate_invalid_stdin_exits_1_with_localized_report() {
    let out = rules(
        &["validate", "--locale", "en", "--today", "2026-11-27"],
        br#"{"welcome": {"full_name": "A"}}"#,
    );
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["valid"], false);
    assert_eq!(report["issues"][0]["path"], "welcome.full_name");
    assert_eq!(
        report["issues"][0]["message"],
        "Must be at least 2 characters long."
    );
    assert!(stdout(&out).ends_with("}\n") && stdout(&out).lines().count() == 1);
}

#[test]
fn validate_one_step_and_self_email() {
    let out = rules(
        &[
            "validate",
            "--step",
            "review",
            "--self-email",
            "ANA@acme.com",
        ],
        br#"{"confirmed": true, "terms_accepted": true, "invite_emails": ["ana@acme.com"]}"#,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains(r#""path":"review.invite_emails[0]","code":"cannot_invite_self""#),
        "{}",
        stdout(&out)
    );
}

#[test]
fn reference_date_defaults_to_today() {
    let out = rules(
        &["validate", "--step", "company"],
        br#"{"founded_year": 9999}"#,
    );
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let issue = report["issues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["path"] == "company.founded_year")
        .unwrap();
    let max = issue["params"]["max"].as_i64().unwrap();
    assert!((2026..2100).contains(&max), "{max}");
}

#[test]
fn preview_prints_records_with_slug() {
    let out = rules(
        &["preview", "--today", "2026-11-27"],
        valid_wizard().to_string().as_bytes(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let preview: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(preview["records"]["organization"]["slug"], "cafe-nino-co");
    assert_eq!(preview["slug"], "cafe-nino-co");
    assert_eq!(
        preview["records"]["invitations"][0]["email"],
        "luis@cafenino.mx"
    );
}

#[test]
fn preview_of_invalid_wizard_exits_1_with_slug_and_no_records() {
    let out = rules(
        &["preview"],
        r#"{"company": {"company_name": "Straße Ærø"}}"#.as_bytes(),
    );
    assert_eq!(out.status.code(), Some(1));
    let preview: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(preview["slug"], "strasse-aero");
    assert_eq!(preview["records"], serde_json::Value::Null);
}

#[test]
fn normalize_prints_normalized_json() {
    let out = rules(
        &["normalize", "--step", "company"],
        br#"{"country": " mx ", "website": "ACME.com/", "employee_count": "7"}"#,
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out),
        "{\"country\":\"MX\",\"employee_count\":7,\"website\":\"https://acme.com\"}\n"
    );
}

#[test]
fn steps_and_schema() {
    let out = rules(&["steps", "--locale", "en"], b"");
    assert_eq!(out.status.code(), Some(0));
    let steps: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(steps.as_array().unwrap().len(), 6);
    assert_eq!(steps[0]["title"], "Welcome");
    let es = rules(&["steps"], b"");
    assert!(stdout(&es).contains("\"title\":\"Bienvenida\""));
    let schema = rules(&["schema"], b"");
    let schema: serde_json::Value = serde_json::from_str(&stdout(&schema)).unwrap();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    // The output's schema: what normalization gives (numbers as numbers, codes in upper case).
    let output = rules(&["schema-output"], b"");
    let output: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let company =
        |s: &serde_json::Value, f: &str| s["properties"]["company"]["properties"][f].clone();
    assert_eq!(
        company(&schema, "founded_year")["anyOf"][0]["anyOf"][1]["type"],
        "string"
    );
    assert_eq!(
        company(&output, "founded_year")["anyOf"][0]["type"],
        "integer"
    );
    assert_eq!(company(&output, "country")["pattern"], "^[A-Z]{2}$");
    assert_eq!(output["$id"], "urn:onboarding:wizard-output");
}

#[test]
fn bad_input_and_usage_exit_2_with_one_line_on_stderr() {
    let cases: Vec<(Vec<&str>, &[u8], &str)> = vec![
        (vec!["validate"], b"{not json", "invalid JSON"),
        (vec!["validate"], b"", "invalid JSON"),
        (vec!["validate"], b"\xff\xfe{}", "not valid UTF-8"),
        (
            vec!["validate", "/nonexistent/file.json"],
            b"",
            "cannot read /nonexistent/file.json",
        ),
        (vec!["frobnicate"], b"{}", "unknown command"),
        (vec![], b"{}", "usage:"),
        (
            vec!["validate", "--locale", "fr"],
            b"{}",
            "unsupported locale",
        ),
        (vec!["validate", "--step", "payment"], b"{}", "unknown step"),
        (
            vec!["validate", "--today", "2026-02-30"],
            b"{}",
            "invalid --today",
        ),
        (vec!["validate", "--today"], b"{}", "--today needs a value"),
        (vec!["validate", "--verbose"], b"{}", "unknown option"),
        (vec!["preview", "--step", "company"], b"{}", "not --step"),
        (
            vec!["validate", "a.json", "b.json"],
            b"{}",
            "unexpected argument",
        ),
    ];
    for (args, stdin, needle) in cases {
        let out = rules(&args, stdin);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn jsonl_validates_each_line_like_single_documents() {
    let lines = [
        r#"{"full_name": "A"}"#,
        r#"{"full_name": "Ana", "job_title": "CEO"}"#,
    ];
    let out = rules(
        &["validate", "--jsonl", "--step", "welcome", "--locale", "en"],
        lines.join("\n\n").as_bytes(),
    );
    assert_eq!(out.status.code(), Some(1));
    let single: Vec<String> = lines
        .iter()
        .map(|l| {
            stdout(&rules(
                &["validate", "--step", "welcome", "--locale", "en"],
                l.as_bytes(),
            ))
        })
        .collect();
    assert_eq!(stdout(&out), single.concat());
    let bad = rules(&["validate", "--jsonl"], b"{}\n{oops\n");
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("line 2: invalid JSON"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn deeply_nested_json_is_a_clear_error_not_a_crash() {
    let deep = "[".repeat(100_000);
    let out = rules(&["validate"], deep.as_bytes());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("recursion limit"), "{}", stderr(&out));
}
