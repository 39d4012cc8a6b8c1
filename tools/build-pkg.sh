#!/usr/bin/env bash
# Builds the npm package into pkg/: cargo (opt-level z, fat LTO) → wasm-bindgen (pinned to the
# version in Cargo.lock) → wasm-opt -Oz (npm binaryen) → ESM entries, types, package.json.
# Installs what it needs: the wasm32 target, wasm-bindgen-cli, the npm dev tools.
set -euo pipefail
cd "$(dirname "$0")/.."

rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
WB_VERSION=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WB_VERSION" ]; then
  echo "installing wasm-bindgen-cli $WB_VERSION (a few minutes, once)" >&2
  # Not --locked: the CLI's own lock file names a crate version the registry no longer serves.
  cargo install wasm-bindgen-cli --version "$WB_VERSION" --quiet
fi
[ -x tests/js/node_modules/.bin/wasm-opt ] || npm ci --prefix tests/js --no-audit --no-fund --loglevel=error

cargo build -p onboarding-wasm --target wasm32-unknown-unknown --profile wasm-release --locked
rm -rf pkg && mkdir -p pkg
wasm-bindgen --target web --out-dir pkg --out-name onboarding_wasm \
  target/wasm32-unknown-unknown/wasm-release/onboarding_wasm.wasm
tests/js/node_modules/.bin/wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-reference-types --enable-multivalue --enable-sign-ext \
  pkg/onboarding_wasm_bg.wasm -o pkg/onboarding_wasm_bg.wasm

exports=$(grep -v '^$' wasm/npm/exports.txt | sed 's/.*/export const & = guard(rules.&);/')
for entry in index node; do
  awk -v exports="$exports" '{ if ($0 == "/*EXPORTS*/") print exports; else print }' \
    "wasm/npm/$entry.js" > "pkg/$entry.js"
done
cp wasm/npm/index.d.ts pkg/index.d.ts
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
        ".": {
            "types": "./index.d.ts",
            "node": "./node.js",
            "default": "./index.js",
        },
        "./onboarding_wasm_bg.wasm": "./onboarding_wasm_bg.wasm",
        "./package.json": "./package.json",
    },
    # Importing has no effect a bundler must keep (node.js initializes at import, but bundlers never use it).
    "sideEffects": False,
    "files": ["index.js", "node.js", "index.d.ts", "onboarding_wasm.js", "onboarding_wasm.d.ts",
              "onboarding_wasm_bg.wasm", "onboarding_wasm_bg.wasm.d.ts", "README.md"],
    "engines": {"node": ">=20"},
}
json.dump(pkg, open("pkg/package.json", "w"), indent=2)
open("pkg/package.json", "a").write("\n")
PY
ls -l pkg
