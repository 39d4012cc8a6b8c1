//! Public URL and e-mail corpora (tests/corpora, imported by tools/import_corpora.py): our
//! verdict on each entry, after the same normalization the wizard applies.

use crate::helpers::read_json;
use onboarding_core::{email, url};

fn check(file: &str, judge: impl Fn(&str) -> bool) {
    let doc = read_json(file);
    let entries = doc["entries"].as_array().unwrap();
    assert!(
        entries.len() > 100,
        "{file}: only {} entries",
        entries.len()
    );
    let wrong: Vec<String> = entries
        .iter()
        .filter(|e| judge(e["value"].as_str().unwrap()) != e["valid"].as_bool().unwrap())
        .map(|e| {
            format!(
                "{:?} expected valid={} ({})",
                e["value"].as_str().unwrap(),
                e["valid"],
                e["deviation"]
            )
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "{file}: {} of {} wrong:\n{}",
        wrong.len(),
        entries.len(),
        wrong.join("\n")
    );
}

#[test]
fn url_corpus() {
    check("tests/corpora/url.json", |v| {
        url::is_valid(&url::normalize(v))
    });
}

#[test]
fn email_corpus() {
    check("tests/corpora/email.json", |v| {
        email::is_valid(&email::normalize(v))
    });
}
