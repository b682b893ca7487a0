#!/usr/bin/env bash
# Load test: GET one competency with a bearer token against the release binary on SQLite.
#
#   cargo build --release && crates/tessera-server/benches/get_competency.sh [seconds] [connections]
#
# Needs wrk (apt-get install -y wrk), curl and python3. Starts `tessera serve` on a fresh data
# directory, creates the admin, an organisation, a framework with a competency and an API token
# through the public API, then runs wrk and stops the server with SIGTERM.
set -euo pipefail
SECS=${1:-15}
CONNS=${2:-32}
BIN=${TESSERA_BIN:-${CARGO_TARGET_DIR:-target}/release/tessera}
DATA=$(mktemp -d)
PORT=${PORT:-18080}
BASE=http://127.0.0.1:$PORT
trap 'kill -TERM $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -rf "$DATA"' EXIT

TESSERA_DATA_DIR=$DATA TESSERA_BIND=127.0.0.1:$PORT RUST_LOG=warn "$BIN" serve >"$DATA/out" 2>"$DATA/err" &
PID=$!
for _ in $(seq 100); do grep -q "listening" "$DATA/out" 2>/dev/null && break; sleep 0.1; done
TOKEN=$(grep -o 'token=[0-9a-f]*' "$DATA/out" | cut -d= -f2)
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

curl -sf -X POST "$BASE/api/v1/setup" -H 'content-type: application/json' \
  -d "{\"token\":\"$TOKEN\",\"email\":\"root@bench.test\",\"name\":\"Root\",\"password\":\"benchmark password\"}" >/dev/null
CSRF=$(curl -sf -c "$DATA/jar" -X POST "$BASE/api/v1/auth/login" -H 'content-type: application/json' \
  -d '{"email":"root@bench.test","password":"benchmark password"}' | json "['csrf_token']")
BEARER=$(curl -sf -b "$DATA/jar" -X POST "$BASE/api/v1/me/tokens" -H 'content-type: application/json' \
  -H "x-csrf-token: $CSRF" -d '{"name":"bench"}' | json "['secret']")
AUTH="Authorization: Bearer $BEARER"
curl -sf -X POST "$BASE/api/v1/orgs" -H "$AUTH" -H 'content-type: application/json' \
  -d '{"slug":"bench","name":"Bench School","kind":"school"}' >/dev/null
FW=$(curl -sf -X POST "$BASE/api/v1/orgs/bench/frameworks" -H "$AUTH" -H 'content-type: application/json' \
  -d '{"title":"Maths"}' | json "['id']")
PARENT=$(curl -sf -X POST "$BASE/api/v1/frameworks/$FW/competencies" -H "$AUTH" -H 'content-type: application/json' \
  -d '{"code":"C.1","statement":"Counts to 100"}' | json "['id']")
ID=$(curl -sf -X POST "$BASE/api/v1/frameworks/$FW/competencies" -H "$AUTH" -H 'content-type: application/json' \
  -d "{\"code\":\"C.2\",\"statement\":\"Adds within 100\",\"parent_id\":\"$PARENT\"}" | json "['id']")
curl -sf -X PUT "$BASE/api/v1/competencies/$ID/prerequisites" -H "$AUTH" -H 'content-type: application/json' \
  -d "{\"prerequisites\":[\"$PARENT\"]}" >/dev/null
curl -sf "$BASE/api/v1/competencies/$ID" -H "$AUTH"; echo
wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -H "$AUTH" "$BASE/api/v1/competencies/$ID"
