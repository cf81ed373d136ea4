#!/usr/bin/env bash
# kill -9 during write load, then the invariants (scripts/faults/README.md).
#   kill9.sh [sqlite|postgres] [--short]
# FAULT_APPLICATIONS (default 300, --short 60) applications are approved by 20 concurrent workers,
# mixed with endorsements and suspend/restore pairs of FAULT_PERMITS (default 30, --short 10)
# permits; the service is killed with SIGKILL after FAULT_KILL_AFTER (a third) approvals,
# started again, the load finished, and the invariants checked.
source "$(dirname "$0")/lib.sh"
backend="${1:-sqlite}"
applications="${FAULT_APPLICATIONS:-300}" permits="${FAULT_PERMITS:-30}"
if [[ " $* " == *" --short "* ]]; then applications="${FAULT_APPLICATIONS:-60}" permits="${FAULT_PERMITS:-10}"; fi
kill_after="${FAULT_KILL_AFTER:-$(( applications / 3 ))}"

case "$backend" in
  sqlite) unset DATABASE_URL; say "SQLite in $EPERMIT_DATA_DIR" ;;
  postgres) fresh_postgres_database ;;
  *) echo "usage: $0 [sqlite|postgres] [--short]" >&2; exit 2 ;;
esac
unset REDIS_URL

t0=$(date +%s)
start_service
python3 "$DRIVER" prepare --state "$WORK/state.json" --applications "$applications" --permits "$permits"
say "load with 20 workers; kill -9 after $kill_after approvals"
victim=$SERVICE_PID
python3 "$DRIVER" load --state "$WORK/state.json" --kill-pid "$victim" --kill-after "$kill_after" || true
wait "$victim" 2>/dev/null || true
kill -0 "$victim" 2>/dev/null && { say "FAIL: the service was not killed"; exit 1; }
say "the service is dead (SIGKILL); starting it again on the same data"
SERVICE_PID=""
start_service
python3 "$DRIVER" load --state "$WORK/state.json"
status=0
python3 "$DRIVER" check --state "$WORK/state.json" || status=$?
say "service log: $(grep -c '"level":"ERROR"' "$WORK/service.log" || true) error lines"
say "took $(( $(date +%s) - t0 ))s"
pass_or_fail "$status" "kill -9 during write load on $backend"
