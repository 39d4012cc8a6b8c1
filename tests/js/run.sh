#!/usr/bin/env bash
# The npm package's tests (called by `make test` after `make pkg`): installs what they need —
# the npm dev tools and Debian's Chromium — then runs them with Node's test runner.
set -euo pipefail
cd "$(dirname "$0")"
[ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund --loglevel=error
if ! command -v "${CHROMIUM:-/usr/bin/chromium}" >/dev/null; then
  echo "installing Debian's chromium for the browser tests" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
cd ../..
cargo build -q -p onboarding-core -p onboarding-server --bins --locked
node --test --test-reporter=spec tests/js/node/*.test.mjs
