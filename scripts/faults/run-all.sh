#!/usr/bin/env bash
# Every fault drill, one after the other; exit 1 if any failed (all are run regardless).
#   run-all.sh [--short]
# --short: the sizes `.ci/run` uses (about 3 minutes on 2 cores, debug build).
# FAULT_DRILLS="kill9.sh sqlite;redis.sh" runs only those (`;`-separated); default: all four.
set -uo pipefail
dir="$(cd "$(dirname "$0")" && pwd)"
start=$(date +%s) failed=()
# One build up front (unless EPERMIT_BIN names a binary); the drills then reuse it.
if [ -z "${EPERMIT_BIN:-}" ]; then
  (cd "$dir/../.." && cargo build -q -p api --bin epermit) || exit 1
fi
export FAULTS_BUILD=0
IFS=';' read -r -a drills <<<"${FAULT_DRILLS:-kill9.sh sqlite;kill9.sh postgres;redis.sh;postgres_restart.sh}"
for drill in "${drills[@]}"; do
  echo; echo "== $drill ($(( $(date +%s) - start ))s)"
  # shellcheck disable=SC2086
  bash "$dir"/$drill "$@" || failed+=("$drill")
done
echo
echo "fault drills: $(( ${#drills[@]} - ${#failed[@]} )) of ${#drills[@]} passed in $(( $(date +%s) - start ))s${failed:+; failed: ${failed[*]}}"
[ ${#failed[@]} -eq 0 ]
