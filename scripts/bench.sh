#!/usr/bin/env bash
# Every figure of issue 14 item 6 beside its baseline, measured on this machine in this run:
#   (a) POST /v1/verify vs a bare actix handler doing the same signature work, on SQLite + the
#       in-process store and on PostgreSQL + Redis (closed loop with wrk: throughput ratio), and
#       the service's p99 at half its peak rate (open loop with oha, latency-corrected);
#   (b) approvals per second through the HTTP API vs `pgbench -N` TPS, same PostgreSQL, same
#       client count; beside it, the approval's own SQL replayed by pgbench without the service
#       (tests/benches/approval.pgbench), the ceiling any service issuing that SQL meets;
#   (c) one offline verification vs two `verify_strict` (criterion).
# Then a table: figure, baseline, ratio, goal, met or not. See BENCHMARKS.md.
#
#   bash scripts/bench.sh            # the full run (about 4 minutes of measuring)
#   bash scripts/bench.sh --quick    # short runs, to check that the script works
#
# Environment: EPERMIT_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test, an
# admin URL: the benches make and drop their own databases), EPERMIT_TEST_REDIS_URL (default
# redis://127.0.0.1:6379; the service uses its own key prefix), BENCH_LOG_DIR (where the raw
# outputs go; default a temporary directory). Needs wrk and pgbench (Debian packages wrk,
# postgresql-contrib); installs oha with `cargo install` (native-tls: needs libssl-dev and
# pkg-config) when it is missing. Not part of CI.
set -euo pipefail

cd "$(dirname "$0")/.."

quick=false
case "${1:-}" in
    --quick) quick=true ;;
    "") ;;
    *) echo "usage: bash scripts/bench.sh [--quick]" >&2; exit 2 ;;
esac

export EPERMIT_TEST_DATABASE_URL="${EPERMIT_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
export EPERMIT_TEST_REDIS_URL="${EPERMIT_TEST_REDIS_URL:-redis://127.0.0.1:6379}"
logs="${BENCH_LOG_DIR:-$(mktemp -d -t epermit-bench.XXXXXX)}"
mkdir -p "$logs"

if $quick; then
    export WRK_DURATION=3 ROUNDS=1 OPEN_LOOP_SECS=3
    export ISSUANCE_APPLICATIONS=40 PGBENCH_SECS=3
    criterion_args=(--warm-up-time 1 --measurement-time 2)
else
    export WRK_DURATION="${WRK_DURATION:-10}" ROUNDS="${ROUNDS:-2}" OPEN_LOOP_SECS="${OPEN_LOOP_SECS:-10}"
    export ISSUANCE_APPLICATIONS="${ISSUANCE_APPLICATIONS:-2000}" PGBENCH_SECS="${PGBENCH_SECS:-10}"
    criterion_args=(--warm-up-time 3 --measurement-time 10)
fi
export ISSUANCE_CLIENTS="${ISSUANCE_CLIENTS:-8}"

for tool in wrk pgbench jq; do
    command -v "$tool" >/dev/null || {
        echo "bench: $tool is missing (apt-get install -y wrk postgresql-contrib jq)" >&2
        exit 1
    }
done
if ! command -v oha >/dev/null; then
    echo "bench: installing oha (the open-loop load generator) with cargo install" >&2
    cargo install oha --locked --no-default-features --features native-tls
fi
PATH="$PATH:${CARGO_HOME:-$HOME/.cargo}/bin"

machine() {
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "cpus: $(nproc) × $(lscpu | sed -n 's/^Model name: *//p')"
    echo "ram: $(free -g | awk '/^Mem:/ {print $2}') GiB"
    echo "load: $(uptime | sed 's/.*load average: //')"
    echo "oha: $(oha --version)  wrk: $(wrk -v 2>&1 | head -1 | awk '{print $2}')  $(pgbench --version)"
}
machine | tee "$logs/machine.txt"

echo "bench: building (release, bench profile)" >&2
cargo bench -p epermit-tests --bench verify_load --bench issuance --no-run >&2
cargo bench -p crypto --bench verify --no-run >&2

# The SIDE-BY-SIDE line of a bench's output, as `key=value` words.
side_by_side() { grep '^SIDE-BY-SIDE ' "$1" | tail -1 | cut -d' ' -f3-; }
field() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }

echo "bench: (a) verify on SQLite + in-process store (load: $(uptime | sed 's/.*average: //'))" >&2
env -u EPERMIT_TEST_DATABASE_URL -u EPERMIT_TEST_REDIS_URL \
    cargo bench -q -p epermit-tests --bench verify_load | tee "$logs/verify-sqlite.txt" >&2
echo "bench: (a) verify on PostgreSQL + Redis (load: $(uptime | sed 's/.*average: //'))" >&2
cargo bench -q -p epermit-tests --bench verify_load | tee "$logs/verify-postgres.txt" >&2
echo "bench: (b) issuance on PostgreSQL (load: $(uptime | sed 's/.*average: //'))" >&2
cargo bench -q -p epermit-tests --bench issuance | tee "$logs/issuance.txt" >&2
echo "bench: (c) offline verification (load: $(uptime | sed 's/.*average: //'))" >&2
cargo bench -q -p crypto --bench verify -- offline_verification "${criterion_args[@]}" \
    | tee "$logs/crypto.txt" >&2

target=$(cargo metadata --format-version 1 --no-deps | jq -r .target_directory)
median_ns() { jq -r .median.point_estimate "$target/criterion/offline_verification/$1/new/estimates.json"; }
offline_ns=$(median_ns verify_presentation)
strict_ns=$(median_ns two_verify_strict)

sqlite=$(side_by_side "$logs/verify-sqlite.txt")
postgres=$(side_by_side "$logs/verify-postgres.txt")
issuance=$(side_by_side "$logs/issuance.txt")
[ -n "$sqlite" ] && [ -n "$postgres" ] && [ -n "$issuance" ] || {
    echo "bench: a bench printed no SIDE-BY-SIDE line; see $logs" >&2
    exit 1
}

# row FIGURE VALUE BASELINE RATIO CHECKED OP GOAL: one table row, "met" when CHECKED OP GOAL
# holds (CHECKED is the ratio, or for a latency goal the value itself).
row() {
    local met
    met=$(awk -v r="$5" -v g="$7" -v op="$6" \
        'BEGIN { ok = (op == ">=") ? (r + 0 >= g + 0) : (r + 0 <= g + 0); print (ok ? "met" : "NOT met") }')
    printf '| %s | %s | %s | %s | %s %s | %s |\n' "$1" "$2" "$3" "$4" "$6" "$7" "$met"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

{
    echo
    echo "| figure | measured | baseline | ratio | goal | |"
    echo "|---|---:|---:|---:|---|---|"
    for backend in sqlite postgres; do
        line=${!backend}
        label=$([ "$backend" = sqlite ] && echo "SQLite + in-process" || echo "PostgreSQL + Redis")
        throughput=$(ratio "$(field "$line" service_rps)" "$(field "$line" bare_rps)")
        row "verify, $label: req/s" "$(field "$line" service_rps)" \
            "$(field "$line" bare_rps) (bare handler)" "$throughput" "$throughput" ">=" 0.9
        p99=$(field "$line" service_p99_at_half_ms)
        row "verify, $label: p99 at $(field "$line" half_rate) req/s (half peak), ms" "$p99" \
            "$(field "$line" bare_p99_at_half_ms) (bare handler)" \
            "$(ratio "$p99" "$(field "$line" bare_p99_at_half_ms)")" "$p99" "<=" 5
    done
    row "approvals/s, $(field "$issuance" clients) officers (PostgreSQL)" \
        "$(field "$issuance" approvals_per_sec)" "$(field "$issuance" pgbench_tps) (pgbench -N TPS)" \
        "$(ratio "$(field "$issuance" approvals_per_sec)" "$(field "$issuance" pgbench_tps)")" \
        "$(ratio "$(field "$issuance" approvals_per_sec)" "$(field "$issuance" pgbench_tps)")" ">=" 0.5
    printf '| %s | %s | %s | %s | %s | %s |\n' \
        "the approval's SQL alone (approval.pgbench, rolled back), TPS" \
        "$(field "$issuance" approval_sql_tps)" "$(field "$issuance" pgbench_tps) (pgbench -N TPS)" \
        "$(field "$issuance" sql_ratio)" "(the ceiling of the line above)" ""
    offline=$(ratio "$offline_ns" "$strict_ns")
    row "offline verification, µs" "$(awk -v n="$offline_ns" 'BEGIN { printf "%.1f", n / 1000 }')" \
        "$(awk -v n="$strict_ns" 'BEGIN { printf "%.1f", n / 1000 }') (two verify_strict)" \
        "$offline" "$offline" "<=" 1.1
    echo
    echo "load after: $(uptime | sed 's/.*load average: //'); raw outputs in $logs"
} | tee "$logs/table.md"
