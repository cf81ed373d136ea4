# Shared by the fault drills (sourced): the binary, a scratch folder cleaned on exit, free
# ports, and starting / stopping the service. Each drill owns every process it starts and stops
# only those, by pid; the machine's PostgreSQL and Redis are never touched.

set -euo pipefail
FAULTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$FAULTS_DIR/../.." && pwd)"
DRIVER="$FAULTS_DIR/driver.py"

say() { echo "[$(basename "$0" .sh) $(date +%T)] $*"; }

# The binary: $EPERMIT_BIN, else a debug build of `cargo build -p api` (built when missing).
if [ -z "${EPERMIT_BIN:-}" ]; then
  EPERMIT_BIN="${CARGO_TARGET_DIR:-$REPO/target}/debug/epermit"
  if [ ! -x "$EPERMIT_BIN" ] || [ "${FAULTS_BUILD:-1}" = 1 ]; then
    (cd "$REPO" && cargo build -q -p api --bin epermit)
  fi
fi
export EPERMIT_BIN

WORK="$(mktemp -d /tmp/epermit-fault.XXXXXX)"
chmod 755 "$WORK"
CLEANUPS=()
cleanup() {
  local i
  for (( i=${#CLEANUPS[@]}-1; i>=0; i-- )); do eval "${CLEANUPS[$i]}" >/dev/null 2>&1 || true; done
  if [ "${FAULTS_KEEP:-0}" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
on_exit() { CLEANUPS+=("$1"); }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The service's settings; DATABASE_URL / REDIS_URL are set by the drill that wants them.
export EPERMIT_DATA_DIR="$WORK/data" EPERMIT_MODE=development
export EPERMIT_TOKENS__ACCESS_TTL_SECS=3600
# The driver names a client address per request (X-Forwarded-For) and verifies with one account,
# so its load is not the verify limits' business; redis.sh checks the per-IP limit on purpose.
export EPERMIT_TRUSTED_PROXIES=127.0.0.1/32 EPERMIT_RATE_LIMITS__VERIFY__PER_ACCOUNT=100000000 \
  EPERMIT_RATE_LIMITS__VERIFY__PER_IP=100000000
PORT="$(free_port)"
export EPERMIT_BIND="127.0.0.1:$PORT" FAULT_BASE="http://127.0.0.1:$PORT"
mkdir -p "$EPERMIT_DATA_DIR"

SERVICE_PID=""
# Starts `epermit serve` in the background (log appended to $SERVICE_LOG, default
# $WORK/service.log) and waits for /healthz.
# Starts the service in the background (SERVICE_PID), without waiting for it.
launch_service() {
  "$EPERMIT_BIN" serve >>"${SERVICE_LOG:-$WORK/service.log}" 2>&1 &
  SERVICE_PID=$!
}
# Waits until the service of SERVICE_PID answers at FAULT_BASE (its log: SERVICE_LOG).
await_service() {
  local log="${SERVICE_LOG:-$WORK/service.log}"
  local t0; t0=$(date +%s.%N)
  for _ in $(seq 600); do
    if curl -sf -o /dev/null "$FAULT_BASE/healthz"; then
      say "service up (pid $SERVICE_PID) in $(python3 -c "print(f'{$(date +%s.%N)-$t0:.2f}')")s"
      return 0
    fi
    kill -0 "$SERVICE_PID" 2>/dev/null || { tail -20 "$log"; say "FAIL: the service exited"; exit 1; }
    sleep 0.1
  done
  say "FAIL: the service did not answer within 60 s"; exit 1
}
start_service() {
  launch_service
  await_service
}
stop_service() {
  [ -n "$SERVICE_PID" ] || return 0
  kill "$SERVICE_PID" 2>/dev/null || true
  wait "$SERVICE_PID" 2>/dev/null || true
  SERVICE_PID=""
}
on_exit 'stop_service'

# A fresh database epermit_fault_<pid> on the machine's PostgreSQL (127.0.0.1:5432), dropped on
# exit. FAULT_PG_ADMIN names the server (default postgres://postgres@127.0.0.1:5432).
fresh_postgres_database() {
  local admin="${FAULT_PG_ADMIN:-postgres://postgres@127.0.0.1:5432}"
  local name="epermit_fault_$$"
  psql -X -q "$admin/postgres" -c "CREATE DATABASE $name"
  on_exit "psql -X -q '$admin/postgres' -c 'DROP DATABASE IF EXISTS $name WITH (FORCE)'"
  export DATABASE_URL="$admin/$name"
  say "database $name on ${admin#*@}"
}

# A private `redis-server` on $REDIS_PORT (a free port, chosen on first use; never the machine's
# 6379), without persistence, its pid in $REDIS_PID. Call again to restart it on the same port.
start_redis() {
  REDIS_PORT="${REDIS_PORT:-$(free_port)}"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$WORK" --daemonize yes --pidfile "$WORK/redis.pid" --logfile "$WORK/redis.log"
  for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  REDIS_PID="$(cat "$WORK/redis.pid")"
  say "redis-server on 127.0.0.1:$REDIS_PORT (pid $REDIS_PID)"
}

pass_or_fail() {  # $1 = status of the checks, $2 = what was drilled
  if [ "$1" = 0 ]; then say "PASS: $2"; else say "FAIL: $2"; fi
  return "$1"
}
