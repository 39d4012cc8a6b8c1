# The commands the README names. `make test` and `make run` install what they need themselves
# (the wasm target, the pinned wasm-bindgen-cli, the npm dev tools, Debian's Chromium).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO ?= cargo

.PHONY: run test bench bench-side-by-side bench-sqlite pkg lint rust-test contract-test js-test fuzz toolchain venv vectors parity-long soak fault-restart sqlx-cli sqlx-prepare sqlx-check

## run: the server on SQLite (./data/onboarding.db) in development mode on 127.0.0.1:3000,
## with the wizard page at / (it loads the npm package, hence `pkg` first)
run: pkg
	$(CARGO) run --release -p onboarding-server -- serve --dev

## test: every test — formatting, lints (native and wasm), Rust tests, the API against its
## OpenAPI document (schemathesis), the npm package's tests, and a 60-second run of each fuzz target
test: lint rust-test contract-test js-test fuzz

toolchain:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

## sqlx-cli: the pinned sqlx-cli (`cargo sqlx`), which checks and regenerates the store's offline
## query data (server/store-pg/.sqlx, server/store-sqlite/.sqlx)
SQLX_CLI_VERSION := 0.8.6
sqlx-cli:
	@cargo sqlx --version 2>/dev/null | grep -qx 'sqlx-cli-sqlx $(SQLX_CLI_VERSION)' \
	  || $(CARGO) install sqlx-cli --version $(SQLX_CLI_VERSION) --locked --no-default-features --features postgres,sqlite,rustls

## sqlx-prepare: regenerate the offline query data after changing a query or a migration
## (needs PostgreSQL at 127.0.0.1:5432, or SQLX_PG_URL)
sqlx-prepare: sqlx-cli
	bash tools/sqlx.sh prepare

## sqlx-check: fail when the committed offline query data is not what the queries need
sqlx-check: sqlx-cli
	bash tools/sqlx.sh check

lint: toolchain sqlx-check
	@! git ls-files | grep -E '(^|/)(\.schemathesis|node_modules|target)/' || (echo "a tool's cache is tracked by git (see above): git rm --cached it" && false)
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings
	$(CARGO) clippy -p onboarding-wasm --target wasm32-unknown-unknown --locked -- -D warnings

rust-test: venv
	@# Debian's dnsmasq: the name server the domain-ownership tests start (server/tests/api/domains.rs).
	command -v dnsmasq >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dnsmasq-base)
	$(CARGO) test --workspace --locked

## venv: target/venv with the Python tools the tests run as processes (aiosmtpd, schemathesis, pinned)
VENV := target/venv
venv: $(VENV)/.installed
$(VENV)/.installed: tools/requirements-test.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q -r tools/requirements-test.txt
	touch $@

## contract-test: schemathesis (every check) against the debug server, production and development
## mode, on SQLite; the report goes to target/contract/
contract-test: venv
	$(CARGO) build -q -p onboarding-server --locked
	$(VENV)/bin/python tests/contract/run.py $(VENV)/bin/schemathesis

js-test: pkg
	bash tests/js/run.sh

## fuzz: each fuzz target for FUZZ_SECONDS (60) seconds, seeded from tests/vectors
fuzz:
	bash tools/fuzz.sh

## pkg: the npm package in pkg/
pkg: toolchain
	bash tools/build-pkg.sh

## bench: benchmarks of the rules (native) and the npm package; figures go to BENCHMARKS.md
bench: pkg
	$(CARGO) bench -p onboarding-core --bench validate --locked
	python3 tools/bench_report.py native
	node tests/js/bench.mjs target/bench-wasm.md
	node tests/js/bench-builds.mjs pkg | tee target/bench-builds.md
	python3 tools/bench_report.py wasm target/bench-wasm.md
	command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk)
	$(CARGO) build --release -p onboarding-server -p onboarding-loadgen --locked
	python3 tools/bench-server.py target/bench-server.md
	python3 tools/bench_report.py server target/bench-server.md
	$(MAKE) bench-side-by-side
	$(MAKE) bench-sqlite

## bench-side-by-side: the release server beside the plain Node peer (../shared/bench/side-by-side,
## 2 rounds, ~8 min) and PostgreSQL's own ceilings (../shared/bench/limits); the issue-18 budgets are
## ratios to these. Figures go to target/side-by-side.txt and target/limits.txt for BENCHMARKS.md.
bench-side-by-side:
	$(CARGO) build --release -p onboarding-server --locked
	bash ../shared/bench/limits/run.sh | tee target/limits.txt
	ROUNDS=2 bash ../shared/bench/side-by-side/run.sh | tee target/side-by-side.txt

## bench-sqlite: the side-by-side parts on SQLite, the embedded default (tools/bench-parts.sh,
## which also A/Bs server builds on PostgreSQL: tools/bench-parts.sh BIN BIN)
bench-sqlite:
	$(CARGO) build --release -p onboarding-server --locked
	ENGINE=sqlite bash tools/bench-parts.sh | tee target/bench-sqlite.txt

## parity-long: 1,000,000 generated inputs through the native rules and the npm package
## (20 batches of 50,000 with consecutive seeds); any byte difference fails
parity-long: pkg
	cargo build -q -p onboarding-core --bin onboarding-rules --locked
	for k in $$(seq 0 19); do \
	  PARITY_CASES=50000 PARITY_SEED=$$((20261127 + k)) node --test tests/js/node/parity.test.mjs || exit 1; \
	done

## soak: 30 minutes of mixed load per engine (SOAK_MINUTES to change); figures to target/soak.md
soak:
	$(CARGO) build --release -p onboarding-server --locked
	python3 tools/soak.py target/soak.md

## fault-restart: PostgreSQL restarted under load; invariants checked in SQL (needs root)
fault-restart:
	$(CARGO) build --release -p onboarding-server --locked
	python3 tools/fault-pg-restart.py target/fault-restart.md

## vectors: regenerate tests/vectors from tools/gen_vectors.py
vectors:
	python3 tools/gen_vectors.py
