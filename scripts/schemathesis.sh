#!/usr/bin/env bash
# The contract is the schema (issue 14 item 3): schemathesis, stateless and stateful, against a
# service this script starts (the embedded default: SQLite and the in-process store, in a
# temporary data directory), once per role's token (resident, officer, verifier, admin), with
# the checks not_a_server_error, response_schema_conformance and status_code_conformance.
# Any failure fails the script. Each role's run is bounded by SCHEMATHESIS_SECONDS (default 35).
#
#   bash scripts/schemathesis.sh              # installs schemathesis into .venv-schemathesis
#   SCHEMATHESIS_SECONDS=120 bash scripts/schemathesis.sh
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=4.32.5
SECONDS_PER_ROLE=${SCHEMATHESIS_SECONDS:-35}
VENV=${SCHEMATHESIS_VENV:-.venv-schemathesis}
if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q "$VERSION"; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet "schemathesis==$VERSION"
fi
ST="$VENV/bin/schemathesis"

# EPERMIT_BIN: an already built binary to test instead (e.g. an older one, to compare).
if [ -z "${EPERMIT_BIN:-}" ]; then
    cargo build --quiet --locked -p api --bin epermit
fi
BIN=${EPERMIT_BIN:-${CARGO_TARGET_DIR:-target}/debug/epermit}

DATA=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
export EPERMIT_DATA_DIR="$DATA" EPERMIT_BIND="127.0.0.1:$PORT" EPERMIT_PUBLIC_URL="$BASE"
unset DATABASE_URL REDIS_URL
SERVER=
cleanup() {
    if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
    rm -rf "$DATA"
}
trap cleanup EXIT

"$BIN" >"$DATA/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do
    curl -fsS "$BASE/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fsS "$BASE/healthz" >/dev/null || { echo "schemathesis: the service did not start"; cat "$DATA/server.log"; exit 1; }

staff_token() { # username role extra-args…
    local username=$1 role=$2; shift 2
    echo "schemathesis password 2026" | "$BIN" staff add --username "$username" --role "$role" "$@" >/dev/null
    curl -fsS -XPOST "$BASE/v1/auth/staff-login" -H 'content-type: application/json' \
        -d "{\"username\":\"$username\",\"password\":\"schemathesis password 2026\"}" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'
}
declare -A TOKENS
TOKENS[resident]=$("$BIN" token --resident 13812345678 |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
TOKENS[officer]=$(staff_token st-officer officer --district 330702)
TOKENS[verifier]=$(staff_token st-police verifier --org-kind police)
TOKENS[admin]=$(staff_token st-admin admin)

failed=0
for role in resident officer verifier admin; do
    echo "== schemathesis as $role (${SECONDS_PER_ROLE}s, stateless and stateful)"
    if ! "$ST" run "$BASE/openapi.json" \
        --checks not_a_server_error,response_schema_conformance,status_code_conformance \
        --phases examples,coverage,fuzzing,stateful \
        --max-time "$SECONDS_PER_ROLE" \
        --header "Authorization: Bearer ${TOKENS[$role]}" \
        --seed "${SCHEMATHESIS_SEED:-$RANDOM}" \
        --no-color --warnings off; then
        failed=1
    fi
done
if [ "$failed" != 0 ]; then
    echo "schemathesis: FAILED (server log: last lines below)"
    tail -20 "$DATA/server.log"
    exit 1
fi
echo "schemathesis: every role passed"
