#!/usr/bin/env bash
# Fuzzes a live Warden from its own OpenAPI document with schemathesis (every check, every
# phase, stateful included), on SQLite and on PostgreSQL, bounded in time. Any finding fails.
# Usage: .ci/schemathesis.sh path/to/warden [seconds per backend, default 150]
set -euo pipefail
cd "$(dirname "$0")/.."

warden_bin="${1:?usage: .ci/schemathesis.sh path/to/warden [seconds]}"
budget="${2:-150}"
pg_server="${WARDEN_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
work="$(mktemp -d)"
server=""
pg_db=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  if [ -n "$pg_db" ]; then
    psql "$pg_server" -q -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

json() { python3 -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }

# One backend: start a server on `$1` (store options), create an organization, fuzz.
fuzz() {
  local name="$1"; shift
  local dir="$work/$name"
  mkdir -p "$dir"
  # The fuzzer sends many unauthenticated requests on purpose: no failed-auth limit here.
  "$warden_bin" serve --listen 127.0.0.1:0 --mail-dir "$dir/mail" --max-failed-auth-per-minute 0 "$@" >"$dir/stdout" 2>"$dir/server.log" &
  server=$!
  for _ in $(seq 1 100); do
    grep -q 'listening on' "$dir/stdout" 2>/dev/null && break
    sleep 0.1
  done
  local url
  url="$(grep -o 'http://[0-9.:]*' "$dir/stdout" | head -n1)"
  [ -n "$url" ] || { echo "the server did not start"; cat "$dir/server.log"; exit 1; }
  local operator admin
  operator="$("$warden_bin" operator bootstrap "$@" --email "ops-$name@example.com" --print-token)"
  admin="$(WARDEN_URL="$url" "$warden_bin" org create --token "$operator" --name "Fuzz $name" --email "fuzz-$name@example.com" --output json | json token)"
  echo "== schemathesis on $name: $url (${budget}s, then the token operations)"
  schemathesis --config-file .ci/schemathesis.toml run "$url/v1/openapi.json" \
    --checks all --phases examples,coverage,fuzzing,stateful --max-time "$budget" \
    --workers 2 --no-color -H "Authorization: Bearer $admin"
  # A token of its own for the run that may revoke it.
  local spare
  spare="$(WARDEN_URL="$url" WARDEN_TOKEN="$admin" "$warden_bin" tokens create --name fuzz --output json | json secret)"
  schemathesis --config-file .ci/schemathesis-tokens.toml run "$url/v1/openapi.json" \
    --include-path-regex '^/v1/tokens' --checks all --phases examples,coverage,fuzzing,stateful \
    --max-time 40 --workers 2 --no-color -H "Authorization: Bearer $spare"
  if grep -q ' ERROR \| panicked' "$dir/server.log"; then
    echo "the server logged errors during the run:"; grep ' ERROR \| panicked' "$dir/server.log" | head -20
    exit 1
  fi
  kill "$server"; wait "$server" 2>/dev/null || true; server=""
}

fuzz sqlite --data-dir "$work/sqlite/data"

pg_db="warden_st_$(python3 -c 'import secrets; print(secrets.token_hex(6))')"
psql "$pg_server" -q -c "CREATE DATABASE $pg_db" >/dev/null
pg_url="$(python3 -c "import sys; u=sys.argv[1]; base=u.split('?')[0].rsplit('/',1)[0]; print(base + '/' + sys.argv[2])" "$pg_server" "$pg_db")"
fuzz postgres --database-url "$pg_url"
echo "schemathesis: no findings on either backend"
