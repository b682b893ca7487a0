#!/usr/bin/env bash
# Load test: POST /api/v1/verify of one realistic OB 3.0 credential against the release binary.
#
#   cargo build --release -p tessera && crates/tessera-server/benches/verify.sh [seconds] [connections]
#
# Needs wrk (apt-get install -y wrk), curl and python3. Signs the realistic OB 3.0 fixture of
# tessera-vc with a fresh did:key (`tessera keys generate`, `tessera credential sign`: nothing to
# fetch, so the figure is the verifier's, not the network's), starts `tessera serve` on a fresh
# SQLite data directory, checks one answer, runs wrk and stops the server with SIGTERM.
set -euo pipefail
cd "$(dirname "$0")/../../.."
SECS=${1:-10}
CONNS=${2:-16}
BIN=${TESSERA_BIN:-${CARGO_TARGET_DIR:-target}/release/tessera}
DATA=$(mktemp -d)
PORT=${PORT:-18081}
BASE=http://127.0.0.1:$PORT
trap 'kill -TERM $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -rf "$DATA"' EXIT

"$BIN" keys generate > "$DATA/key.json"
python3 - "$DATA" <<'PY'
import json, sys
d = sys.argv[1]
key = json.load(open(f"{d}/key.json"))
cred = json.load(open("crates/tessera-vc/tests/fixtures/ob3-achievement-credential.json"))
cred["issuer"]["id"] = key["controller"]
cred.pop("credentialStatus", None)
json.dump(cred, open(f"{d}/unsigned.json", "w"))
PY
"$BIN" credential sign --key "$DATA/key.json" "$DATA/unsigned.json" > "$DATA/signed.json"
python3 - "$DATA" <<'PY'
import json, sys
d = sys.argv[1]
body = json.dumps(json.load(open(f"{d}/signed.json")))
open(f"{d}/post.lua", "w").write(
    'wrk.method = "POST"\n'
    'wrk.headers["Content-Type"] = "application/json"\n'
    f'wrk.body = {json.dumps(body)}\n'
    'done = function(summary, latency, requests)\n'
    '  io.write(string.format("non-2xx or errors: %d\\n", summary.errors.status + summary.errors.read + summary.errors.write + summary.errors.timeout + summary.errors.connect))\n'
    'end\n')
PY

TESSERA_DATA_DIR=$DATA TESSERA_BIND=127.0.0.1:$PORT RUST_LOG=warn "$BIN" serve >"$DATA/out" 2>"$DATA/err" &
PID=$!
for _ in $(seq 100); do grep -q "listening" "$DATA/out" 2>/dev/null && break; sleep 0.1; done
curl -sf -X POST "$BASE/api/v1/verify" -H 'content-type: application/json' --data-binary @"$DATA/signed.json" \
  | python3 -c 'import json,sys; v=json.load(sys.stdin); print(v["verdict"], [(c["code"], c["status"]) for c in v["checks"]]); assert v["verified"], v'
wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -s "$DATA/post.lua" "$BASE/api/v1/verify"
