#!/usr/bin/env bash
# The side-by-side parts for server binaries of this project, alternated in one run: an A/B of
# builds (is a piece of machinery still paying?), or the four parts on SQLite, which
# ../shared/bench/side-by-side/run.sh does not drive. Uses that folder's drivers (drive.mjs:
# token signer, prefill, autocannon) and oha; run from the project root.
#   tools/bench-parts.sh BIN...                 PostgreSQL: the parts for each binary, a fresh database each
#   ENGINE=sqlite tools/bench-parts.sh [BIN]    SQLite: the parts, a fresh file each round
# (a) GET status, 64 connections, one user (oha); (b) PUT steps/company, the same user (oha);
# (c) POST complete, N users pre-filled, each once; (d) PUT steps/company over 1,000 users
# (autocannon). Prints each part's line, on PostgreSQL the tables (c)'s timed completions read by
# sequential scans, and the server's resident memory after (d).
# Env: ROUNDS=2 DUR=10s N=3000 ENGINE=postgres|sqlite PARTS="a b c d" (a subset to run fewer)
# VACUUM=1 (0: no VACUUM ANALYZE before (c) on PostgreSQL);
# PostgreSQL at 127.0.0.1:5432 as postgres.
set -euo pipefail
ROOT=$(pwd)
[ -f "$ROOT/Cargo.toml" ] || { echo "run this from the project's root" >&2; exit 2; }
SBS=$(cd "$ROOT/../shared/bench/side-by-side" && pwd)
[ $# -gt 0 ] || set -- "$ROOT/target/release/onboarding-server"
mapfile -t BINS < <(for b; do realpath "$b"; done)
set -- "${BINS[@]}"
WORK="$ROOT/target/bench-parts"
mkdir -p "$WORK"
cp "$SBS/drive.mjs" "$SBS/package.json" "$SBS/package-lock.json" "$WORK/"
cd "$WORK"
[ -d node_modules/autocannon ] || npm ci --no-audit --no-fund --loglevel=error
command -v oha >/dev/null || cargo install oha --locked
export PGHOST=127.0.0.1 PGPORT=5432 PGUSER=postgres WIZARD="$SBS/../node-server/wizard.json"
export AUTH_JWT_SECRET="bench-parts-$(od -An -tx8 -N16 /dev/urandom | tr -d ' \n')"
export RESULTS="$WORK/results.tsv"; : >"$RESULTS"
DUR=${DUR:-10s} ROUNDS=${ROUNDS:-2} N=${N:-3000} ENGINE=${ENGINE:-postgres} PARTS=" ${PARTS:-a b c d} "
part() { [[ $PARTS == *" $1 "* ]]; }
node -e "process.stdout.write(JSON.stringify(require(process.env.WIZARD).company))" >company.json
PID= DB= DIR=
cleanup() {
  [ -z "$PID" ] || { kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null || true; }
  [ -z "$DB" ] || dropdb --if-exists --force "$DB" 2>/dev/null || true
  [ -z "$DIR" ] || rm -rf "$DIR"
}
trap cleanup EXIT
oha_json() { oha --no-tui --output-format json -w -c 64 "$@"; }
for round in $(seq "$ROUNDS"); do
  bins=("$@"); [ $((round % 2)) = 0 ] && mapfile -t bins < <(printf '%s\n' "$@" | tac)
  for bin in "${bins[@]}"; do
    if [ "$ENGINE" = sqlite ]; then DIR=$(mktemp -d); URL="sqlite://$DIR/db.sqlite?mode=rwc"
    else DB="bench_parts_$$_$round"; createdb "$DB"; URL="postgres://postgres@127.0.0.1:5432/$DB"; fi
    AUTH_JWT_SECRET=$AUTH_JWT_SECRET RATE_LIMIT_USER_PER_MIN=1000000000 RATE_LIMIT_IP_PER_MIN=1000000000 \
      RUST_LOG=warn WEB_PKG_DIR="$WORK/no-pkg" "$bin" serve --bind 127.0.0.1:0 --database-url "$URL" >server.log 2>&1 &
    PID=$! BASE=
    for _ in $(seq 100); do
      BASE=$(sed -n 's|.*listening on \(http://[0-9.:]*\).*|\1|p' server.log | head -1)
      [ -n "$BASE" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/healthz")" = 200 ] && break
      sleep 0.1
    done
    export SERVER="$ENGINE $(basename "$bin")" ROUND=$round
    tag="r$round $SERVER"
    QUIET=1 node drive.mjs prefill "$BASE" ab 1 1 welcome,company,organization
    auth="Authorization: Bearer $(node drive.mjs token ab-1 ab-1@example.com)"
    if part a; then
      oha_json -z 3s -H "$auth" "$BASE/api/onboarding/status" >/dev/null
      oha_json -z "$DUR" -H "$auth" "$BASE/api/onboarding/status" | PART=a LABEL="$tag (a) GET status, 1 user" node drive.mjs oha
    fi
    put=(-m PUT -H "$auth" -T application/json -D company.json "$BASE/api/onboarding/steps/company")
    if part b; then
      oha_json -z 3s "${put[@]}" >/dev/null
      oha_json -z "$DUR" "${put[@]}" | PART=b LABEL="$tag (b) PUT step, 1 user" node drive.mjs oha
    fi
    if part c; then
      warm=$((N / 10))
      QUIET=1 node drive.mjs prefill "$BASE" c 1 $((N + warm)) welcome,company,organization,objectives,preferences,review
      # As side-by-side/run.sh does before (c) (VACUUM=0 leaves it out).
      [ "$ENGINE" = sqlite ] || [ "${VACUUM:-1}" = 0 ] || psql -q -d "$DB" -c 'VACUUM ANALYZE'
      QUIET=1 PART=c node drive.mjs complete "$BASE" c 1 "$warm" 64
      [ "$ENGINE" = sqlite ] || psql -qAt -d "$DB" -c 'select pg_stat_reset()' >/dev/null
      PART=c LABEL="$tag (c) POST complete, n=$N" node drive.mjs complete "$BASE" c $((warm + 1)) $((N + warm)) 64
      if [ "$ENGINE" != sqlite ]; then   # what the timed completions read whole (counted once idle)
        sleep 2
        echo "$tag (c) sequential scans (table scans rows): $(psql -At -F' ' -R', ' -d "$DB" -c \
          "select relname, seq_scan, seq_tup_read from pg_stat_user_tables where seq_tup_read > 0 order by seq_tup_read desc")"
      fi
    fi
    if part d; then
      QUIET=1 node drive.mjs prefill "$BASE" d 1 1000 welcome,company,organization
      QUIET=1 PART=d node drive.mjs put "$BASE" d 1 1000 64 3s
      PART=d LABEL="$tag (d) PUT step, 1,000 users" node drive.mjs put "$BASE" d 1 1000 64 "$DUR"
    fi
    if part d; then when="after (d)"; else when="at the end"; fi
    echo "$tag resident memory $when: $(( $(ps -o rss= -p "$PID") / 1024 )) MB"
    kill "$PID"; wait "$PID" 2>/dev/null || true; PID=
    if grep -iE 'error|panic' server.log | grep -qv 'wizard page'; then grep -iE 'error|panic' server.log | tail -3; fi
    cleanup; DB= DIR=
  done
done
