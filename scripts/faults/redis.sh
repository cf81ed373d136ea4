#!/usr/bin/env bash
# Redis killed, then frozen, during load (scripts/faults/README.md).
#   redis.sh [--short]
# The service runs on a fresh PostgreSQL database and a private `redis-server` on a free port
# (never the machine's 6379). While 4 threads verify permits and /readyz is read every 100 ms:
# Redis is killed with SIGKILL and started again on the same port, then frozen with SIGSTOP and
# thawed with SIGCONT. Each outage lasts FAULT_OUTAGE seconds (default 15, --short 6).
source "$(dirname "$0")/lib.sh"
outage="${FAULT_OUTAGE:-15}" settle=8
if [[ " $* " == *" --short "* ]]; then outage="${FAULT_OUTAGE:-6}" settle=6; fi

fresh_postgres_database
start_redis
on_exit 'kill -CONT $REDIS_PID; kill -9 $REDIS_PID'
export REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
# The load comes from many addresses (X-Forwarded-For from a trusted local proxy); one address
# at a time checks that the per-IP verify limit holds, also while Redis is out.
limit=20
export EPERMIT_RATE_LIMITS__VERIFY__PER_IP=$limit

t0=$(date +%s)
start_service
python3 "$DRIVER" prepare --state "$WORK/state.json" --applications 0 --permits 8
# The probe runs until the drill ends (it is stopped by the `stop` file's time).
seconds=$(( settle + 2 * (outage + 12 + settle) + 2 ))
python3 "$DRIVER" probe --state "$WORK/state.json" --seconds "$seconds" --limit "$limit" \
  --out "$WORK/samples.json" &
probe=$!
event() { echo "$(date +%s.%N) $1" >>"$WORK/events"; say "$1"; }
# Waits (at most 12 s: the breaker's longest back-off is 5 s) until /readyz says ready.
wait_ready() {
  for _ in $(seq 120); do
    curl -s "$FAULT_BASE/readyz" | grep -q '"status":"ready"' && { say "readyz: ready"; return 0; }
    sleep 0.1
  done
  say "readyz still not ready"
}
sleep "$settle"
opened="$(curl -s "$FAULT_BASE/metrics" | sed -n 's/^epermit_shared_store_breaker_transitions_total{to="open"} //p')"
# A breaker opened while Redis was up means a call ran past shared_store.call_timeout_ms (250)
# and the probe's PING past probe_timeout_ms (1000), e.g. on a machine very short of CPU (the
# per-IP limit then goes on from the hits this instance counted).
say "breaker openings with Redis up: ${opened:-0}"
event redis-killed;  kill -9 "$REDIS_PID"; sleep "$outage"
start_redis;         event redis-restarted; wait_ready; sleep "$settle"
event redis-frozen;  kill -STOP "$REDIS_PID"; sleep "$outage"
kill -CONT "$REDIS_PID"; event redis-thawed; wait_ready
wait "$probe"
status=0
python3 "$DRIVER" report --kind redis --limit "$limit" --samples "$WORK/samples.json" --events "$WORK/events" || status=$?
say "breaker transitions: $(curl -s "$FAULT_BASE/metrics" | grep '^epermit_shared_store_breaker_transitions_total' | tr '\n' ' ')"
say "took $(( $(date +%s) - t0 ))s"
pass_or_fail "$status" "Redis killed and frozen during load"
