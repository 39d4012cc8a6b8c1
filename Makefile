# The commands the README names. `make test` and `make run` install what they need themselves
# (the wasm target, the pinned wasm-bindgen-cli, the npm dev tools, Debian's Chromium).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO ?= cargo

.PHONY: run test bench pkg lint rust-test js-test toolchain vectors parity-long

## run: the server on SQLite (./data/onboarding.db) in development mode on 127.0.0.1:3000,
## with the wizard page at / (it loads the npm package, hence `pkg` first)
run: pkg
	$(CARGO) run --release -p onboarding-server -- serve --dev

## test: every test — formatting, lints (native and wasm), Rust tests, the npm package's tests
test: lint rust-test js-test

toolchain:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

lint: toolchain
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings
	$(CARGO) clippy -p onboarding-wasm --target wasm32-unknown-unknown --locked -- -D warnings

rust-test:
	$(CARGO) test --workspace --locked

js-test: pkg
	bash tests/js/run.sh

## pkg: the npm package in pkg/
pkg: toolchain
	bash tools/build-pkg.sh

## bench: benchmarks of the rules (native) and the npm package; figures go to BENCHMARKS.md
bench: pkg
	$(CARGO) bench -p onboarding-core --bench validate --locked
	python3 tools/bench_report.py native
	node tests/js/bench.mjs target/bench-wasm.md
	python3 tools/bench_report.py wasm target/bench-wasm.md
	command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk)
	$(CARGO) build --release -p onboarding-server --locked
	python3 tools/bench-server.py target/bench-server.md
	python3 tools/bench_report.py server target/bench-server.md

## vectors: regenerate tests/vectors from tools/gen_vectors.py
vectors:
	python3 tools/gen_vectors.py
