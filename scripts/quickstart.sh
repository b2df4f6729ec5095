#!/usr/bin/env bash
# The README's quickstart, end to end, against a throw-away data directory and port:
# start the server, create an organization, a group and a policy, and answer a check.
# Exits non-zero if any step fails. Usage: scripts/quickstart.sh [path/to/warden]
set -euo pipefail
cd "$(dirname "$0")/.."

warden_bin="${1:-}"
if [ -z "$warden_bin" ]; then
  cargo build -q -p warden
  warden_bin=target/debug/warden
fi
data="$(mktemp -d)"
log="$data/server.log"
cleanup() {
  [ -n "${server:-}" ] && kill "$server" 2>/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT

"$warden_bin" serve --listen 127.0.0.1:0 --data-dir "$data" >"$data/stdout" 2>"$log" &
server=$!
for _ in $(seq 1 100); do
  grep -q 'listening on' "$data/stdout" 2>/dev/null && break
  sleep 0.1
done
url="$(grep -o 'http://[0-9.:]*' "$data/stdout" | head -n1)"
[ -n "$url" ] || { echo "server did not start"; cat "$log"; exit 1; }
export WARDEN_URL="$url"
echo "server: $url"

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

created="$("$warden_bin" org create --data-dir "$data" --name "Acme AI" --email ada@acme.example --output json)"
export WARDEN_TOKEN="$(echo "$created" | json 'd["token"]')"
me="$(echo "$created" | json 'd["admin_user_id"]')"
echo "organization: $(echo "$created" | json 'd["organization_id"]'), admin: $me"

"$warden_bin" whoami
"$warden_bin" roles list | head -n 5
"$warden_bin" groups create ml-engineers --description "ML engineers"
"$warden_bin" policies create --name inference --rule group:ml-engineers=inference-admin,cks-viewer
"$warden_bin" policies get inference

# An operator adds Bob to ml-engineers (directly in the store, like `org create`).
org="$(echo "$created" | json 'd["organization_id"]')"
bob="$("$warden_bin" org add-user --data-dir "$data" --org "$org" --email bob@acme.example \
  --group ml-engineers --output json)"
bob_id="$(echo "$bob" | json 'd["user_id"]')"
revision="$(echo "$bob" | json 'd["revision"]')"

# Bob may create inference deployments through his group (exit 0), the check explains why ...
"$warden_bin" check "$bob_id" inference.deployments.create --explain --at-least-revision "$revision"
# ... and may not create clusters: default deny (exit 3).
set +e
"$warden_bin" check "$bob_id" cks.clusters.create
code=$?
set -e
[ "$code" -eq 3 ] || { echo "expected a denial (exit 3), got $code"; exit 1; }
# The admin's own IAM rights come from the default `admin` policy.
"$warden_bin" check "$me" iam.policies.create --explain
echo "quickstart: ok"
