//! The embedded reference data against the machine's own copies (Debian's iso-codes and tzdata),
//! when present. CI machines have both (.ci/run installs them), so there the test must run.

use onboarding_core::reference;
use std::collections::BTreeSet;

fn system_file(path: &str) -> Option<String> {
    match std::fs::read_to_string(path) {
        Ok(s) => Some(s),
        Err(_) if std::env::var_os("CI").is_some() => {
            panic!("{path} is missing; CI must install it")
        }
        Err(_) => {
            eprintln!("skipping: {path} not found (install iso-codes and tzdata)");
            None
        }
    }
}

#[test]
fn countries_match_iso_codes() {
    let Some(text) = system_file("/usr/share/iso-codes/json/iso_3166-1.json") else {
        return;
    };
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let system: BTreeSet<String> = doc["3166-1"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["alpha_2"].as_str().unwrap().to_owned())
        .collect();
    let embedded: BTreeSet<String> = reference::countries().map(|c| c.0.to_owned()).collect();
    assert_eq!(
        embedded, system,
        "regenerate with tools/gen_reference_data.py"
    );
    assert_eq!(embedded.len(), 249);
}

#[test]
fn timezones_match_tzdata() {
    let Some(text) = system_file("/usr/share/zoneinfo/tzdata.zi") else {
        return;
    };
    let mut system = BTreeSet::new();
    for line in text.lines() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        match parts.as_slice() {
            ["Z", name, ..] if *name != "Factory" => system.insert((*name).to_owned()),
            ["L", _, name, ..] => system.insert((*name).to_owned()),
            _ => false,
        };
    }
    let embedded: BTreeSet<String> = reference::timezones().map(str::to_owned).collect();
    let system_version = text
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("# version "))
        .unwrap_or("?");
    // Names are never removed from tzdata (they become links), so an older embedded copy is a
    // subset of a newer system one; an identical version must match exactly.
    let extra: Vec<_> = embedded.difference(&system).collect();
    assert!(
        extra.is_empty(),
        "embedded names not in tzdata {system_version}: {extra:?}"
    );
    let missing: Vec<_> = system.difference(&embedded).collect();
    if system_version == reference::TZDATA_VERSION {
        assert!(
            missing.is_empty(),
            "missing {missing:?}; regenerate with tools/gen_reference_data.py"
        );
    } else if !missing.is_empty() {
        eprintln!(
            "tzdata {system_version} has names the embedded {} lacks: {missing:?}",
            reference::TZDATA_VERSION
        );
    }
    let system: BTreeSet<String> = system.intersection(&embedded).cloned().collect();
    for name in &system {
        assert_eq!(reference::canonical_timezone(name), Some(name.as_str()));
        assert_eq!(
            reference::canonical_timezone(&name.to_lowercase()),
            Some(name.as_str())
        );
    }
}
