#!/usr/bin/env bash
# Load test: GET a signed Bitstring Status List credential (public, served from memory) against
# the release binary on SQLite.
#
#   cargo build --release && crates/tessera-server/benches/status_list.sh [seconds] [connections]
#
# Needs wrk (apt-get install -y wrk), curl and python3. Starts `tessera serve` on a fresh data
# directory, creates the admin and an organisation through the public API, opens the
# organisation's first revocation list in the database (as issuing the first credential would:
# a row in status_lists), fetches it once (signed and cached on that first request), then runs
# wrk on it and stops the server with SIGTERM. A second wrk run sends If-None-Match (304s).
set -euo pipefail
SECS=${1:-10}
CONNS=${2:-16}
BIN=${TESSERA_BIN:-${CARGO_TARGET_DIR:-target}/release/tessera}
DATA=$(mktemp -d)
PORT=${PORT:-18081}
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
ORG=$(curl -sf -X POST "$BASE/api/v1/orgs" -H "$AUTH" -H 'content-type: application/json' \
  -d '{"slug":"bench","name":"Bench School","kind":"school"}' | json "['id']")
python3 - "$DATA/tessera.db" "$ORG" <<'PY'
import sqlite3, sys, uuid
db = sqlite3.connect(sys.argv[1])
db.execute(
    "INSERT INTO status_lists (id, org_id, purpose, seq, size, used, version, created_at) "
    "VALUES (?, ?, 'revocation', 1, 131072, 0, 0, '2026-12-04T00:00:00Z')",
    (str(uuid.uuid4()), sys.argv[2]),
)
db.commit()
PY
URL="$BASE/orgs/bench/status/revocation/1"
curl -sf -D "$DATA/headers" -o "$DATA/list.json" "$URL"
grep -i -E '^(etag|cache-control|content-type):' "$DATA/headers"
wc -c <"$DATA/list.json"
ETAG=$(grep -i '^etag:' "$DATA/headers" | cut -d' ' -f2 | tr -d '\r')
wrk -t2 -c"$CONNS" -d"${SECS}s" --latency "$URL"
echo "--- with If-None-Match (304)"
wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -H "If-None-Match: $ETAG" "$URL"
