#!/usr/bin/env bash
# Builds the npm package into pkg/: wasm-pack (pinned) runs cargo (opt-level z, fat LTO; std
# rebuilt from source by the pinned nightly in tools/nightly-toolchain with panics that abort at
# once, decision 53) and the wasm-bindgen CLI (pinned to the version in Cargo.lock) → wasm-opt -Oz
# (npm binaryen) → ESM entries (minified by the pinned rolldown's oxc), types, package.json.
# Installs what it needs: the pinned nightly with rust-src and the wasm32 target, wasm-pack,
# wasm-bindgen-cli, the npm dev tools. What wasm-pack does not do here, and why: decision 84.
set -euo pipefail
cd "$(dirname "$0")/.."

rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
NIGHTLY=$(cat tools/nightly-toolchain)
if ! rustup component list --toolchain "$NIGHTLY" --installed 2>/dev/null | grep -q '^rust-src'; then
  echo "installing the $NIGHTLY toolchain for the package build (once)" >&2
  rustup toolchain install "$NIGHTLY" --profile minimal --component rust-src --target wasm32-unknown-unknown
fi
# The package's std (nightly, from source) must classify characters as the server's std does:
# core's text rules use is_alphabetic, is_numeric, is_whitespace and is_control.
mkdir -p target/unicode-classes
rustc --edition 2021 -O -o target/unicode-classes/stable tools/unicode-classes.rs
rustc "+$NIGHTLY" --edition 2021 -O -o target/unicode-classes/nightly tools/unicode-classes.rs
if [ "$(target/unicode-classes/stable)" != "$(target/unicode-classes/nightly)" ]; then
  echo "the character classes of $NIGHTLY's std differ from the stable toolchain's:" >&2
  target/unicode-classes/stable >&2; target/unicode-classes/nightly >&2
  echo "pin a nightly with the same Unicode version in tools/nightly-toolchain" >&2
  exit 1
fi
WB_VERSION=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WB_VERSION" ]; then
  echo "installing wasm-bindgen-cli $WB_VERSION (a few minutes, once)" >&2
  # Not --locked: the CLI's own lock file names a crate version the registry no longer serves.
  cargo install wasm-bindgen-cli --version "$WB_VERSION" --quiet
fi
WASM_PACK_VERSION=0.13.1
if [ "$(wasm-pack --version 2>/dev/null | awk '{print $2}')" != "$WASM_PACK_VERSION" ]; then
  echo "installing wasm-pack $WASM_PACK_VERSION (a few minutes, once)" >&2
  cargo install wasm-pack --version "$WASM_PACK_VERSION" --locked --quiet
fi
[ -x tests/js/node_modules/.bin/wasm-opt ] || npm ci --prefix tests/js --no-audit --no-fund --loglevel=error

# -Cpanic=immediate-abort: a panic is a trap at once, with no message formatting linked in (a
# panic is a bug here: the rules never panic on any input, see the fuzz targets).
# -reference-types: only text crosses the boundary, so wasm-bindgen needs no externref table
# (its allocator and init glue: 0.17 KB gzip; decision 65).
# wasm-pack builds with cargo's release profile, whose settings for the package are given here as
# CARGO_PROFILE_RELEASE_* (wasm-pack 0.13 has no --profile): opt-level "z" (4 KB gzip smaller than
# "s", ~1.45x slower; docs/decisions.md, "Bundle"), fat LTO, one codegen unit, panic = abort.
# `--mode no-install`: the wasm-bindgen CLI on PATH (checked above), nothing downloaded; wasm-pack's
# own wasm-opt is off (wasm/Cargo.toml) since its download fails here: binaryen from npm below.
# PKG_OPT_LEVEL, PKG_WASM_OPT (wasm-opt's optimization passes) and PKG_CARGO_ARGS (more cargo
# arguments, e.g. `--config profile.release.package.onboarding-core.opt-level=3`) build other points of the
# size/speed curve (BENCHMARKS.md, issue 34); the defaults are the shipped build.
OPT_LEVEL=${PKG_OPT_LEVEL:-z}
read -r -a WASM_OPT_PASSES <<<"${PKG_WASM_OPT:--Oz --flatten --rereloop -Oz -Oz --converge}"
rm -rf pkg
CARGO_PROFILE_RELEASE_OPT_LEVEL=$OPT_LEVEL CARGO_PROFILE_RELEASE_LTO=fat CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 \
CARGO_PROFILE_RELEASE_PANIC=abort RUSTUP_TOOLCHAIN="$NIGHTLY" \
RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Zfmt-debug=none -Ctarget-feature=-reference-types" \
  wasm-pack --quiet build wasm --release --target web --mode no-install --no-pack \
  --out-dir ../pkg --out-name onboarding_wasm -- --locked -Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size ${PKG_CARGO_ARGS:-}
rm -f pkg/.gitignore pkg/README.md
# -Oz until nothing changes (--converge: 0.2 KB gzip). Before that, the control flow rebuilt by
# binaryen's relooper (--flatten --rereloop: 0.4 KB), and --low-memory-unused (0.3 KB: offsets
# folded into loads; the low 1 KB is the bottom of Rust's stack, which the rules' bounded
# recursion never reaches; decision 65). The custom sections (producers, target features) are
# for tools, not for running: stripped.
tests/js/node_modules/.bin/wasm-opt --low-memory-unused "${WASM_OPT_PASSES[@]}" \
  --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-reference-types --enable-multivalue --enable-sign-ext \
  --strip-producers --strip-target-features \
  pkg/onboarding_wasm_bg.wasm -o pkg/onboarding_wasm_bg.wasm

# The public functions (wasm/npm/exports.txt, also checked against index.d.ts) from api.js.
exports="export const { $(grep -v '^$' wasm/npm/exports.txt | paste -sd, - | sed 's/,/, /g') } = api({ call }, checkReady, { schemas: { input: inputSchema, output: outputSchema } });"
# The entries (package.json's conditions below): index (browsers, bundlers), node (Node.js, Bun),
# workerd (Cloudflare Workers: the .wasm imported as a module), inline (Deno, edge runtimes: the
# .wasm's bytes in the file, base64).
node -e 'process.stdout.write(`export const WASM_BASE64 = "${require("fs").readFileSync(process.argv[1]).toString("base64")}";\n`)' \
  pkg/onboarding_wasm_bg.wasm > pkg/wasm_base64.js
for entry in index node workerd inline; do
  awk -v exports="$exports" '{ if ($0 == "/*EXPORTS*/") print exports; else print }' \
    "wasm/npm/$entry.js" > "pkg/$entry.js"
done
cp wasm/npm/api.js pkg/api.js
# pkg/NAME.json as a JavaScript module, pkg/NAME.js (its default export), which every runtime and
# bundler imports as it imports the entry: no fetch of a relative URL, no file read.
json_module() {
  node -e 'const fs = require("fs"); const [from, to] = process.argv.slice(1);
    fs.writeFileSync(to, `export default ${JSON.stringify(JSON.parse(fs.readFileSync(from, "utf8")))};\n`);' \
    "pkg/$1.json" "pkg/$1.js"
}
# The JSON Schemas are static per rule version (from the same tables, by the rules CLI): the
# input's, a file and a module beside the entries, and the normalized output's; both are in
# each entry too, for the schemas' `~standard.jsonSchema` (Standard JSON Schema).
cargo run -q -p onboarding-core --bin onboarding-rules --locked -- schema > pkg/schema.json
cargo run -q -p onboarding-core --bin onboarding-rules --locked -- schema-output > pkg/schema.output.json
json_module schema
json_module schema.output
# Each entry bundled with the API and the glue into one minified file (decisions 66 and 96). The
# glue stays in pkg/ for the tests that call the module directly; the package does not ship it.
node tests/js/bundle.mjs pkg/index.js pkg/node.js pkg/workerd.js pkg/inline.js
rm pkg/api.js pkg/wasm_base64.js pkg/schema.output.js
cp wasm/npm/index.d.ts pkg/index.d.ts
# Likewise the steps' metadata (labels, help, placeholders, options, country names) per locale,
# without the time-zone field's options: the module holds those names to validate with, and
# `loadSteps` adds them from it (5 KB gzip less for a page; decision 96).
for locale in es en; do
  cargo run -q -p onboarding-core --bin onboarding-rules --locked -- steps --locale "$locale" \
    | node -e '
      const steps = JSON.parse(require("fs").readFileSync(0, "utf8"));
      for (const f of steps.flatMap((s) => s.fields)) if (f.kind === "timezone") delete f.options;
      process.stdout.write(JSON.stringify(steps) + "\n");' > "pkg/steps.$locale.json"
done
# The same data as modules (`loadSteps` imports the steps' module of its locale).
json_module steps.es
json_module steps.en
cp wasm/npm/data.d.ts pkg/schema.d.ts
sed 's/^declare const data: .*/declare const data: import(".\/index.js").StepMeta[];/' wasm/npm/data.d.ts > pkg/steps.es.d.ts
cp pkg/steps.es.d.ts pkg/steps.en.d.ts
cp wasm/npm/README.md pkg/README.md
VERSION=$(cargo metadata --no-deps --format-version 1 --locked \
  | python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"]=="onboarding-wasm"))')
python3 - "$VERSION" <<'PY'
import json, sys
pkg = {
    "name": "onboarding-rules",
    "version": sys.argv[1],
    "description": "The onboarding wizard's rules (validation, normalization, metadata), compiled from Rust to WebAssembly.",
    "license": "MIT",
    "type": "module",
    "main": "./node.js",
    "module": "./index.js",
    "types": "./index.d.ts",
    "exports": {
        # Conditions in the order a runtime tries them: each runtime's own first, then Node.js
        # (Bun takes it too), then browsers and bundlers.
        ".": {
            "types": "./index.d.ts",
            "workerd": "./workerd.js",
            "edge-light": "./inline.js",
            "deno": "./inline.js",
            "node": "./node.js",
            "default": "./index.js",
        },
        "./onboarding_wasm_bg.wasm": "./onboarding_wasm_bg.wasm",
        "./schema.js": {"types": "./schema.d.ts", "default": "./schema.js"},
        "./steps.es.js": {"types": "./steps.es.d.ts", "default": "./steps.es.js"},
        "./steps.en.js": {"types": "./steps.en.d.ts", "default": "./steps.en.js"},
        "./schema.json": "./schema.json",
        "./steps.es.json": "./steps.es.json",
        "./steps.en.json": "./steps.en.json",
        "./package.json": "./package.json",
    },
    # Importing has no effect a bundler must keep (node.js initializes at import, but bundlers never use it).
    "sideEffects": False,
    "files": ["index.js", "node.js", "workerd.js", "inline.js", "index.d.ts", "onboarding_wasm_bg.wasm",
              "onboarding_wasm_bg.wasm.d.ts", "schema.json", "steps.es.json", "steps.en.json", "schema.js",
              "steps.es.js", "steps.en.js", "schema.d.ts", "steps.es.d.ts", "steps.en.d.ts", "README.md"],
    "engines": {"node": ">=20"},
}
json.dump(pkg, open("pkg/package.json", "w"), indent=2)
open("pkg/package.json", "a").write("\n")
PY
ls -l pkg
