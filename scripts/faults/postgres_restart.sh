#!/usr/bin/env bash
# PostgreSQL stopped and started again during load (scripts/faults/README.md).
#   postgres_restart.sh [--short]
# A private cluster (initdb in the scratch folder, its own port and socket directory, run as the
# `postgres` user; the machine's cluster is never touched) holds the service's database. While
# verifications, permit reads and approvals run, the cluster is stopped (`pg_ctl stop -m fast`:
# every connection cut) for FAULT_OUTAGE seconds (default 20, --short 5) and started again; then
# the invariants of kill9.sh are checked.
source "$(dirname "$0")/lib.sh"
outage="${FAULT_OUTAGE:-20}" settle=8 applications=400
if [[ " $* " == *" --short "* ]]; then outage="${FAULT_OUTAGE:-5}" settle=4 applications=150; fi
PGBIN="${PGBIN:-/usr/lib/postgresql/15/bin}"
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

PG_PORT="$(free_port)" PGDATA="$WORK/pg"
mkdir -p "$PGDATA"
[ "$(id -u)" = 0 ] && chown postgres "$PGDATA"
as_postgres "$PGBIN/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 >"$WORK/initdb.log"
pg() { as_postgres "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/log" -w -t 30 \
         -o "-p $PG_PORT -k $PGDATA -c listen_addresses=127.0.0.1" "$@" >/dev/null; }
pg start
on_exit "as_postgres '$PGBIN/pg_ctl' -D '$PGDATA' -m immediate stop"
say "private PostgreSQL cluster on 127.0.0.1:$PG_PORT ($PGDATA)"
psql -X -q "postgres://postgres@127.0.0.1:$PG_PORT/postgres" -c "CREATE DATABASE epermit"
export DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/epermit"
unset REDIS_URL

t0=$(date +%s)
start_service
python3 "$DRIVER" prepare --state "$WORK/state.json" --applications "$applications" --permits 8
seconds=$(( settle + outage + 15 + settle ))
python3 "$DRIVER" probe --state "$WORK/state.json" --seconds "$seconds" --writes --rate 50 \
  --out "$WORK/samples.json" &
probe=$!
event() { echo "$(date +%s.%N) $1" >>"$WORK/events"; say "$1"; }
sleep "$settle"
event postgres-stopped; pg -m fast stop; sleep "$outage"
pg start; event postgres-started
wait "$probe"
status=0
python3 "$DRIVER" report --kind postgres --samples "$WORK/samples.json" --events "$WORK/events" || status=$?
kill -0 "$SERVICE_PID" || { say "the service exited"; status=1; }
# The invariants, on the applications the probe approved (the rest stay submitted).
python3 - "$WORK/state.json" <<'EOF'
import json, subprocess, sys, os
path = sys.argv[1]
state = json.load(open(path))
out = subprocess.run(["psql", "-X", "-At", os.environ["DATABASE_URL"], "-c",
                      "SELECT id FROM applications WHERE status = 'approved'"],
                     capture_output=True, text=True, check=True).stdout.split()
state["applications"] = [a for a in state["applications"] if str(a["id"]) in out]
json.dump(state, open(path, "w"))
EOF
python3 "$DRIVER" check --state "$WORK/state.json" || status=$?
say "database breaker transitions: $(curl -s "$FAULT_BASE/metrics" | grep '^epermit_database_breaker_transitions_total' | tr '\n' ' ')"
say "service log: $(grep -c '"level":"ERROR"' "$WORK/service.log" || true) error lines"
say "took $(( $(date +%s) - t0 ))s"
pass_or_fail "$status" "PostgreSQL restarted during load"
