//! Runs every case of `tests/vectors/*.json` (the same files the npm package runs).

use crate::helpers::{ctx, repo_root};
use onboarding_core::{self as core, Code, Context, StepId};
use serde_json::Value;
use std::collections::BTreeSet;

pub struct Case {
    pub file: String,
    pub name: String,
    pub step: Option<StepId>,
    pub context: Context,
    pub input: Value,
    pub expect: Value,
}

pub fn load() -> Vec<Case> {
    let dir = repo_root().join("tests/vectors");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut cases = Vec::new();
    for path in files {
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let file = doc["file"].as_str().unwrap().to_owned();
        for c in doc["cases"].as_array().unwrap() {
            cases.push(Case {
                file: file.clone(),
                name: c["name"].as_str().unwrap().to_owned(),
                step: c
                    .get("step")
                    .map(|s| StepId::parse(s.as_str().unwrap()).unwrap()),
                context: Context::from_json(&c["context"], || ctx().today).unwrap(),
                input: c["input"].clone(),
                expect: c["expect"].clone(),
            });
        }
    }
    cases
}

fn run(case: &Case, input: &Value) -> core::Report {
    match case.step {
        Some(step) => core::validate_step(step, input, &case.context),
        None => core::validate_wizard(input, &case.context),
    }
}

/// How a case differs from its expectation (empty when it passes).
fn mismatch(case: &Case, report: &core::Report) -> Option<String> {
    let actual = serde_json::to_value(report).unwrap();
    let triples = |issues: &Value| -> Vec<(String, String, String)> {
        issues
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["path"].as_str().unwrap().into(),
                    i["code"].as_str().unwrap().into(),
                    i["severity"].as_str().unwrap().into(),
                )
            })
            .collect()
    };
    let got = triples(&actual["issues"]);
    let want = triples(&case.expect["issues"]);
    let expected_issues = case.expect["issues"].as_array().unwrap();
    if got != want || actual["valid"] != case.expect["valid"] {
        return Some(format!(
            "valid {} issues {got:?}\n      expected valid {} issues {want:?}",
            actual["valid"], case.expect["valid"],
        ));
    }
    for (exp, act) in expected_issues
        .iter()
        .zip(actual["issues"].as_array().unwrap())
    {
        if let Some(m) = exp.get("message") {
            if m != &act["message"] {
                return Some(format!("message {} expected {}", act["message"], m));
            }
        }
        if let Some(Value::Object(params)) = exp.get("params") {
            for (k, v) in params {
                if act["params"].get(k) != Some(v) {
                    return Some(format!(
                        "param {k} = {:?}, expected {v}",
                        act["params"].get(k)
                    ));
                }
            }
        }
    }
    None
}

#[test]
fn every_vector_passes() {
    let cases = load();
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| {
            mismatch(c, &run(c, &c.input)).map(|m| format!("{} / {}: {m}", c.file, c.name))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} vectors failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn normalized_input_gets_the_same_report() {
    for c in load() {
        let normalized = match c.step {
            Some(step) => core::normalize_step(step, c.input.clone()),
            None => core::normalize_wizard(c.input.clone()),
        };
        assert_eq!(
            run(&c, &normalized),
            run(&c, &c.input),
            "{} / {}",
            c.file,
            c.name
        );
        let twice = match c.step {
            Some(step) => core::normalize_step(step, normalized.clone()),
            None => core::normalize_wizard(normalized.clone()),
        };
        assert_eq!(
            twice, normalized,
            "{} / {}: normalize is not idempotent",
            c.file, c.name
        );
    }
}

#[test]
fn vectors_cover_every_code_both_locales_and_enough_cases() {
    let cases = load();
    assert!(cases.len() >= 200, "only {} vectors", cases.len());
    let codes: BTreeSet<String> = cases
        .iter()
        .flat_map(|c| {
            c.expect["issues"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["code"].as_str().unwrap().to_owned())
        })
        .collect();
    let missing: Vec<_> = Code::ALL
        .iter()
        .map(|c| c.as_str())
        .filter(|c| !codes.contains(*c))
        .collect();
    assert!(missing.is_empty(), "codes without a vector: {missing:?}");
    for locale in ["es", "en"] {
        let with_messages = cases
            .iter()
            .filter(|c| c.context.locale.as_str() == locale)
            .filter(|c| {
                c.expect["issues"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|i| i.get("message").is_some())
            })
            .count();
        assert!(
            with_messages >= 5,
            "{locale}: {with_messages} message vectors"
        );
    }
}
