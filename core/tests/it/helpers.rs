use onboarding_core::{Context, Date, Locale};
use std::path::PathBuf;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn read_json(rel: &str) -> serde_json::Value {
    let path = repo_root().join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn valid_wizard() -> serde_json::Value {
    read_json("tests/fixtures/valid_wizard.json")
}

pub fn ctx() -> Context {
    Context::new(Locale::Es, Date::parse("2026-11-27").unwrap(), None)
}
