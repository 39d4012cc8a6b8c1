//! Writes the JSON Schema (core's `schema::schema()`, built on the host) to `OUT_DIR`, so the
//! bundle carries the 7 KB text (2 KB gzip) instead of the code that builds it (~12 KB of wasm).
//! Cargo reruns this whenever core changes, so the text cannot go stale.

fn main() {
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let schema = onboarding_core::to_json(&onboarding_core::schema::schema());
    std::fs::write(out.join("schema.json"), schema).expect("OUT_DIR is writable");
    println!("cargo:rerun-if-changed=build.rs");
}
