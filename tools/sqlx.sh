#!/usr/bin/env bash
# The store's offline query data (issue 33): `prepare` regenerates server/store-pg/.sqlx and
# server/store-sqlite/.sqlx, `check` fails when they are not what the code's queries need. Both
# describe the queries against scratch databases migrated here from migrations/ (PostgreSQL at
# SQLX_PG_URL, by default a database onboarding_sqlx on 127.0.0.1:5432; SQLite in target/sqlx/).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:?usage: tools/sqlx.sh prepare|check}
pg=${SQLX_PG_URL:-postgres://postgres@127.0.0.1:5432/onboarding_sqlx}
lite_file=$PWD/target/sqlx/onboarding.db
lite=sqlite://$lite_file

sqlx database drop -y -D "$pg" >/dev/null
sqlx database create -D "$pg"
sqlx migrate run --source migrations/postgres -D "$pg" >/dev/null
mkdir -p "$(dirname "$lite_file")"
rm -f "$lite_file" "$lite_file-shm" "$lite_file-wal"
sqlx database create -D "$lite"
sqlx migrate run --source migrations/sqlite -D "$lite" >/dev/null

flag=()
[ "$mode" = check ] && flag=(--check)
(cd server/store-pg && DATABASE_URL=$pg cargo sqlx prepare "${flag[@]}")
(cd server/store-sqlite && DATABASE_URL=$lite cargo sqlx prepare "${flag[@]}")
