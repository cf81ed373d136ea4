#!/usr/bin/env bash
# Two instances behind nginx (issue 14 item 4; scripts/cluster/README.md).
#   run.sh [--short]
# Debian's nginx (its own prefix in a scratch folder, a generated config, free ports, never the
# machine's /etc/nginx) in front of two `epermit serve` processes sharing a throwaway PostgreSQL
# database, a private redis-server and one data (key) directory. Checks that the pair acts as
# one service, then (without --short) measures `POST /v1/verify` through nginx with one upstream
# against two. Every check prints PASS/FAIL; the exit status is non-zero when one fails.
short=0
if [[ " $* " == *" --short "* ]]; then short=1; fi
CLUSTER_DIR="$(cd "$(dirname "$0")" && pwd)"
# The binary: $EPERMIT_BIN, else a release build (the figures are about the release binary).
if [ -z "${EPERMIT_BIN:-}" ]; then
  EPERMIT_BIN="${CARGO_TARGET_DIR:-$CLUSTER_DIR/../../target}/release/epermit"
  (cd "$CLUSTER_DIR/../.." && cargo build -q --release -p api --bin epermit)
  export EPERMIT_BIN
fi
source "$CLUSTER_DIR/../faults/lib.sh"
CLUSTER="$CLUSTER_DIR/cluster.py"
t0=$(date +%s)
command -v nginx >/dev/null || { say "FAIL: nginx is not installed (apt-get install nginx)"; exit 1; }

fresh_postgres_database
start_redis
on_exit 'kill -9 $REDIS_PID'
export REDIS_URL="redis://127.0.0.1:$REDIS_PORT"

# nginx connects to the instances from 127.0.0.1, the only trusted proxy; it appends the address
# it saw to X-Forwarded-For, and the service keys limits by the rightmost untrusted address.
export EPERMIT_TRUSTED_PROXIES=127.0.0.1/32
VERIFY_LIMIT=100 OTP_LIMIT=10 RECHECK_MS=1000 REVOCATION_MS=1000
export EPERMIT_VERIFY_RECHECK_MS=$RECHECK_MS EPERMIT_TOKENS__REVOCATION_CHECK_MS=$REVOCATION_MS
export EPERMIT_RATE_LIMITS__OTP__PER_IP=$OTP_LIMIT EPERMIT_RATE_LIMITS__LOGIN__PER_IP=1000
PORT_A="$PORT" PORT_B="$(free_port)" PROXY_PAIR="$(free_port)" PROXY_ONE="$(free_port)"
A="http://127.0.0.1:$PORT_A" B="http://127.0.0.1:$PORT_B"
PIDS=()
on_exit 'for p in "${PIDS[@]}"; do kill $p; done; for p in "${PIDS[@]}"; do wait $p; done'
# Starts A and B at the same moment (on a fresh database both find no tables and no keys: the
# first start's locks make one wait for the other, then adopt its keys), with the verify
# per-IP limit $1.
start_pair() {
  export EPERMIT_RATE_LIMITS__VERIFY__PER_IP="$1"
  local name port
  for name in a b; do
    port=$PORT_A; [ $name = b ] && port=$PORT_B
    EPERMIT_BIND="127.0.0.1:$port" SERVICE_LOG="$WORK/instance-$name.log" launch_service
    PIDS+=("$SERVICE_PID")
  done
  for name in a b; do
    port=$PORT_A; [ $name = b ] && port=$PORT_B
    SERVICE_PID=${PIDS[0]}; [ $name = b ] && SERVICE_PID=${PIDS[1]}
    FAULT_BASE="http://127.0.0.1:$port" SERVICE_LOG="$WORK/instance-$name.log" await_service
  done
  SERVICE_PID=""
}
stop_pair() {
  local p
  for p in "${PIDS[@]}"; do kill "$p"; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  PIDS=()
}

NGINX="$WORK/nginx"
mkdir -p "$NGINX/tmp"
chmod 777 "$NGINX/tmp"
# One nginx, two listeners: PROXY_PAIR balances over A and B (round robin), PROXY_ONE sends
# everything to A; both keep connections to the upstreams open, as a production proxy would.
cat >"$NGINX/nginx.conf" <<EOF
worker_processes auto;
pid $NGINX/nginx.pid;
error_log $NGINX/error.log warn;
events { worker_connections 1024; }
http {
  log_format cluster '\$remote_addr \$upstream_addr \$status \$request_method \$uri';
  access_log $NGINX/access.log cluster;
  client_body_temp_path $NGINX/tmp/body;
  proxy_temp_path $NGINX/tmp/proxy;
  fastcgi_temp_path $NGINX/tmp/fastcgi;
  uwsgi_temp_path $NGINX/tmp/uwsgi;
  scgi_temp_path $NGINX/tmp/scgi;
  upstream pair { server 127.0.0.1:$PORT_A; server 127.0.0.1:$PORT_B; keepalive 64; }
  upstream one { server 127.0.0.1:$PORT_A; keepalive 64; }
  proxy_http_version 1.1;
  proxy_set_header Connection "";
  proxy_set_header Host \$host;
  proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
  server { listen 127.0.0.1:$PROXY_PAIR; location / { proxy_pass http://pair; } }
  server { listen 127.0.0.1:$PROXY_ONE; location / { proxy_pass http://one; } }
}
EOF
nginx -t -q -p "$NGINX" -e "$NGINX/error.log" -c "$NGINX/nginx.conf"
nginx -p "$NGINX" -e "$NGINX/error.log" -c "$NGINX/nginx.conf" -g 'daemon off;' &
NGINX_PID=$!
on_exit 'kill -QUIT $NGINX_PID; wait $NGINX_PID'
export FAULT_BASE="http://127.0.0.1:$PROXY_PAIR"

start_pair "$VERIFY_LIMIT"
for _ in $(seq 50); do curl -sf -o /dev/null "$FAULT_BASE/healthz" && break; sleep 0.1; done
say "nginx $(nginx -v 2>&1 | sed 's/.*\///') (pid $NGINX_PID) on :$PROXY_PAIR (A+B) and :$PROXY_ONE (A); A :$PORT_A, B :$PORT_B"
# The staff prepare does not make: an admin (to disable an account through A) and a second
# verifier (the account disabled), with the fault driver's password.
password="$(python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import driver
print(driver.PASSWORD)' "$FAULTS_DIR")"
echo "$password" | "$EPERMIT_BIN" staff add --username admin1 --role admin >/dev/null
echo "$password" | "$EPERMIT_BIN" staff add --username school2 --role verifier --org-kind school >/dev/null
python3 "$DRIVER" prepare --state "$WORK/state.json" --applications 0 --permits 2
status=0
python3 "$CLUSTER" checks --state "$WORK/state.json" --a "$A" --b "$B" --proxy "$FAULT_BASE" \
  --access-log "$NGINX/access.log" --outbox "$EPERMIT_DATA_DIR/outbox.jsonl" \
  --verify-limit "$VERIFY_LIMIT" --otp-limit "$OTP_LIMIT" --recheck-ms "$RECHECK_MS" \
  --revocation-ms "$REVOCATION_MS" --rounds "$([ $short = 1 ] && echo 3 || echo 10)" \
  --out "$WORK/checks.json" || status=$?
say "correctness checks took $(( $(date +%s) - t0 ))s"

if [ $short = 0 ]; then
  command -v wrk >/dev/null || { say "FAIL: wrk is not installed (apt-get install wrk)"; exit 1; }
  # The limits are the checks' business, not the throughput's: every wrk request comes from one
  # address with one account.
  stop_pair
  start_pair 1000000000
  python3 "$CLUSTER" wrk-script --state "$WORK/state.json" --out "$WORK/verify.lua"
  seconds="${CLUSTER_WRK_SECONDS:-10}" conns="${CLUSTER_WRK_CONNECTIONS:-32}"
  say "throughput: wrk -t2 -c$conns -d${seconds}s POST /v1/verify through nginx, 1 upstream vs 2, 3 rounds"
  # CPU seconds (user + system) a process has used so far, from /proc (clock ticks of 1/100 s).
  cpu() { local p; for p in "$@"; do cat "/proc/$p/stat"; done |
    awk '{t += $14 + $15} END {printf "%.2f", t / 100}'; }
  nginx_cpu() { cpu "$NGINX_PID" $(pgrep -P "$NGINX_PID"); }
  for round in 1 2 3; do
    for upstreams in 1 2; do
      port=$PROXY_ONE; [ $upstreams = 2 ] && port=$PROXY_PAIR
      before="$(cpu "${PIDS[0]}") $(cpu "${PIDS[1]}") $(nginx_cpu) $(cpu "$REDIS_PID")"
      /usr/bin/time -f "%U %S" -o "$WORK/wrk-cpu" wrk -t2 -c"$conns" -d"${seconds}s" --latency \
        -s "$WORK/verify.lua" "http://127.0.0.1:$port/v1/verify" >"$WORK/wrk-$round-$upstreams.txt"
      after="$(cpu "${PIDS[0]}") $(cpu "${PIDS[1]}") $(nginx_cpu) $(cpu "$REDIS_PID")"
      # Cores each used during the run (CPU seconds / wall seconds); the rest is PostgreSQL, the
      # other helpers' work and the kernel.
      cores=$(echo "$before $after $(cat "$WORK/wrk-cpu")" | awk -v s="$seconds" '{
        printf "cores: A %.2f, B %.2f, nginx %.2f, redis %.2f, wrk %.2f",
          ($5-$1)/s, ($6-$2)/s, ($7-$3)/s, ($8-$4)/s, ($9+$10)/s }')
      rps=$(awk '/^Requests\/sec/ {print $2}' "$WORK/wrk-$round-$upstreams.txt")
      p99=$(awk '$1 == "99%" {print $2}' "$WORK/wrk-$round-$upstreams.txt")
      bad=$(awk '/Non-2xx/ {print $NF}' "$WORK/wrk-$round-$upstreams.txt")
      errs=$(grep -c 'Socket errors' "$WORK/wrk-$round-$upstreams.txt" || true)
      echo "round $round upstreams $upstreams rps $rps p99 $p99 non2xx ${bad:-0} socket_errors $errs; $cores" |
        tee -a "$WORK/throughput.txt"
      if [ -n "$bad" ] || [ "$errs" != 0 ]; then
        say "FAIL: wrk got errors ($upstreams upstream(s), round $round)"; status=1
      fi
    done
    awk -v r=$round '$2 == r && $4 == 1 {one=$6} $2 == r && $4 == 2 {two=$6}
      END {printf "round %d: 2 vs 1 = %.2fx\n", r, two / one}' "$WORK/throughput.txt"
  done
  awk '$4 == 1 {one[$2] = $6} $4 == 2 {two[$2] = $6; p[$2] = $8}
    $4 == 1 {q[$2] = $8}
    END {
      lo1 = hi1 = one[1]; lo2 = hi2 = two[1]; lr = hr = two[1] / one[1]
      for (r = 2; r <= 3; r++) {
        if (one[r] < lo1) lo1 = one[r]; if (one[r] > hi1) hi1 = one[r]
        if (two[r] < lo2) lo2 = two[r]; if (two[r] > hi2) hi2 = two[r]
        x = two[r] / one[r]; if (x < lr) lr = x; if (x > hr) hr = x
      }
      printf "summary: 1 upstream %.0f-%.0f req/s (p99 %s %s %s), 2 upstreams %.0f-%.0f req/s (p99 %s %s %s), 2 vs 1 %.2f-%.2fx\n",
        lo1, hi1, q[1], q[2], q[3], lo2, hi2, p[1], p[2], p[3], lr, hr
    }' "$WORK/throughput.txt"
  say "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
fi
say "took $(( $(date +%s) - t0 ))s"
pass_or_fail "$status" "two instances behind nginx"
