#!/usr/bin/env bash
# The contract is the schema (issue 14 item 3): schemathesis, stateless and stateful, against a
# service this script starts (the embedded default: SQLite and the in-process store, in a
# temporary data directory), once per role's token (resident, officer, verifier, admin), with
# the checks not_a_server_error, response_schema_conformance and status_code_conformance.
# Any failure fails the script. Each role's run is bounded by SCHEMATHESIS_SECONDS (default 35).
#
# The service is seeded first (`epermit seed`, SCHEMATHESIS_RESIDENTS residents, default 3000)
# and the tokens' subjects own that data: the resident is seeded resident 1 (a permit, its
# approved application, registrations), the officer's district (Wucheng) has pending
# applications, declared registrations and permits. The stateful phase follows the links
# schemathesis infers from the document (a response's `id` into a path's `{id}`); a link counts
# as covered when a scenario used a value from a real response, so an empty service covers none.
# The script prints each role's "API Links" line (covered / selected / total) and time.
# `POST /v1/verify` gets the seeded resident's real credential in half its generated bodies
# (scripts/schemathesis_hooks.py), and the run fails unless some verdict was `valid` (the
# service's `epermit_verifications_total`): so the verdict's permit is checked against its schema.
#
#   bash scripts/schemathesis.sh              # schemathesis in /var/cache/epermit-schemathesis/venv
#   SCHEMATHESIS_SECONDS=120 bash scripts/schemathesis.sh
#   SCHEMATHESIS_VENV=.venv-schemathesis bash scripts/schemathesis.sh   # another venv
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=4.32.5
SECONDS_PER_ROLE=${SCHEMATHESIS_SECONDS:-35}
RESIDENTS=${SCHEMATHESIS_RESIDENTS:-3000}
# A machine cache outside the clone (as mobile-sdk/ci.sh and web/build.sh keep theirs), so a
# fresh clone does not install schemathesis again; installed when missing or another version.
VENV=${SCHEMATHESIS_VENV:-/var/cache/epermit-schemathesis/venv}
if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q "version $VERSION\$"; then
    mkdir -p "$(dirname "$VENV")"
    python3 -m venv --clear "$VENV"
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

# Seeded before the service starts (one transaction; its progress lines go to the log).
"$BIN" seed --residents "$RESIDENTS" >"$DATA/seed.json" 2>"$DATA/seed.log" ||
    { echo "schemathesis: the seed failed"; cat "$DATA/seed.log"; exit 1; }

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
TOKENS[resident]=$("$BIN" token --seeded 1 |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
TOKENS[officer]=$(staff_token st-officer officer --district 330702)
TOKENS[verifier]=$(staff_token st-police verifier --org-kind police)
TOKENS[admin]=$(staff_token st-admin admin)

# The seeded resident's signed credential: scripts/schemathesis_hooks.py gives it to half the
# generated `POST /v1/verify` bodies, so the verifier's run verifies a real permit (verdict
# `valid`, the decoded claims against their schema, the link to the police look-up).
EPERMIT_SEEDED_QR=$(curl -fsS "$BASE/v1/permits/me" -H "Authorization: Bearer ${TOKENS[resident]}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["credential"])')
export EPERMIT_SEEDED_QR SCHEMATHESIS_HOOKS=schemathesis_hooks
export PYTHONPATH="$(pwd)/scripts${PYTHONPATH:+:$PYTHONPATH}"

# Calls that end the caller's own token: logout (`everywhere` revokes every token of the
# caller), an admin disabling or resetting the password of their own account (their id is in
# the staff list the stateful phase follows). Fuzzed early, they turn the rest of a role's run
# into 401s (no link is ever covered); so each role's main run leaves them out and a short
# last run per role, after every main run, fuzzes them alone.
ENDING=("POST /v1/auth/logout" "POST /v1/staff/{id}/disable" "POST /v1/staff/{id}/reset-password")
ENDING_SECONDS=$((SECONDS_PER_ROLE / 5 > 5 ? SECONDS_PER_ROLE / 5 : 5))
MAIN_SECONDS=$((SECONDS_PER_ROLE - ENDING_SECONDS > 5 ? SECONDS_PER_ROLE - ENDING_SECONDS : 5))
SEED=${SCHEMATHESIS_SEED:-$RANDOM}
failed=0
fuzz() { # role seconds phases selection-args…
    local role=$1 seconds=$2 phases=$3; shift 3
    "$ST" run "$BASE/openapi.json" \
        --checks not_a_server_error,response_schema_conformance,status_code_conformance \
        --phases "$phases" \
        --max-time "$seconds" \
        --header "Authorization: Bearer ${TOKENS[$role]}" \
        --seed "$SEED" \
        --no-color --warnings off "$@"
}
SUMMARY=()
for role in resident officer verifier admin; do
    echo "== schemathesis as $role (${MAIN_SECONDS}s, stateless and stateful)"
    started=$(date +%s)
    excluded=()
    for name in "${ENDING[@]}"; do excluded+=(--exclude-name "$name"); done
    status=0
    fuzz "$role" "$MAIN_SECONDS" examples,coverage,fuzzing,stateful "${excluded[@]}" |
        tee "$DATA/$role.out" || status=$?
    [ "$status" = 0 ] || failed=1
    links=$(sed -n 's/^ *API Links: *//p' "$DATA/$role.out" | tail -1)
    scenarios=$(sed -n 's/^ *Scenarios: *//p' "$DATA/$role.out" | tail -1)
    SUMMARY+=("$(printf '%-9s %3ss  stateful: %s scenarios, links %s' "$role" \
        "$(($(date +%s) - started))" "${scenarios:-0}" "${links:-none}")")
done
for role in resident officer verifier admin; do
    echo "== schemathesis as $role: the calls that end its token (${ENDING_SECONDS}s)"
    included=()
    for name in "${ENDING[@]}"; do included+=(--include-name "$name"); done
    fuzz "$role" "$ENDING_SECONDS" examples,coverage,fuzzing "${included[@]}" || failed=1
done
echo "== stateful coverage per role"
printf '   %s\n' "${SUMMARY[@]}"
# The hook worked only if real permits were verified: the service counts verdicts.
valid=$(curl -fsS "$BASE/metrics" | sed -n 's/^epermit_verifications_total{verdict="valid"} //p')
echo "== verdicts \`valid\` during the runs: ${valid:-0}"
if [ "${valid:-0}" = 0 ]; then
    echo "schemathesis: no generated verification reached a real permit (the hook did not apply)"
    failed=1
fi
if [ "$failed" != 0 ]; then
    echo "schemathesis: FAILED (server log: last lines below)"
    tail -20 "$DATA/server.log"
    exit 1
fi
echo "schemathesis: every role passed"
