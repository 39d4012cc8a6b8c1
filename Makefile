# The commands the README names. `make test` and `make run` install what they need themselves.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO ?= cargo

.PHONY: run test bench pkg check lint rust-test vectors

## run: the server on SQLite with the wizard page (issue #4 and #5; not built yet)
run:
	@echo "make run: the server is not built yet (issue #4). Try the rules CLI:" >&2
	$(CARGO) run -q -p onboarding-core --bin onboarding-rules -- validate tests/fixtures/valid_wizard.json

## test: every test (formatting, lints, unit, vectors, CLI, property tests, corpora)
test: lint rust-test

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

rust-test:
	$(CARGO) test --workspace --locked

## bench: benchmarks; figures go to BENCHMARKS.md
bench:
	$(CARGO) bench -p onboarding-core --bench validate --locked
	python3 tools/bench_report.py native

## pkg: the npm package in pkg/ (issue #3; not built yet)
pkg:
	@echo "make pkg: the npm package is not built yet (issue #3)" >&2; exit 1

## vectors: regenerate tests/vectors from tools/gen_vectors.py
vectors:
	python3 tools/gen_vectors.py
