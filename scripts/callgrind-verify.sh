#!/usr/bin/env bash
# Instructions per `POST /v1/verify` request, the service against the bare handler, counted by
# callgrind (repeatable to a few hundred instructions where req/s on this machine are not).
#
#   bash scripts/callgrind-verify.sh          # SQLite + the in-process store
#   EPERMIT_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
#   EPERMIT_TEST_REDIS_URL=redis://127.0.0.1:6379 bash scripts/callgrind-verify.sh
#
# Three runs of the verify_load bench in its fixed-count mode (tests/benches/verify_load.rs):
# `base` sends SMALL requests to each server, `service` LARGE to the service and SMALL to the bare
# handler, `bare` the other way round. (service − base) / (LARGE − SMALL) is one request to the
# service, start-up and warm-up cancelled; likewise for the bare handler. The list recheck and
# the revocation check run at most once a minute here (EPERMIT_VERIFY_RECHECK_MS,
# EPERMIT_TOKENS__REVOCATION_CHECK_MS = 60000): under callgrind a second holds a few dozen
# requests, not thousands, so at their default of 1 s they would be counted ~100× too often.
# Besides the totals, the part inside `crypto::verify::verify` is split off (the work both
# servers share, a little different in each run: keys and signatures are new each time), and the
# functions whose self cost differs most between the two servers are listed, per request.
# Environment: SMALL (default 100), LARGE (400; 1000 for totals to a few thousand), CALLGRIND_DIR
# (where the profiles go; default a temporary directory), VERIFY_LOAD_BIN (a bench binary built
# before, e.g. of another commit, instead of building this one). Needs valgrind and jq; 1–5
# minutes after the build.
set -euo pipefail

cd "$(dirname "$0")/.."
small="${SMALL:-100}"
large="${LARGE:-400}"
out="${CALLGRIND_DIR:-$(mktemp -d -t epermit-callgrind.XXXXXX)}"
mkdir -p "$out"

# Line tables, so that the profile names files and lines (the code is the same).
export CARGO_PROFILE_BENCH_DEBUG=line-tables-only
bin="${VERIFY_LOAD_BIN:-}"
[[ -n "$bin" ]] || bin=$(cargo bench -q -p epermit-tests --bench verify_load --no-run --message-format=json |
    jq -r 'select(.reason == "compiler-artifact" and .executable != null) | .executable' | tail -1)

export EPERMIT_VERIFY_RECHECK_MS=60000 EPERMIT_TOKENS__REVOCATION_CHECK_MS=60000
run() {
    echo "callgrind: $1 (service $2, bare $3 requests)" >&2
    PROFILE_SERVICE_REQUESTS="$2" PROFILE_BARE_REQUESTS="$3" \
        valgrind --tool=callgrind --callgrind-out-file="$out/$1.out" "$bin" --bench \
        >"$out/$1.log" 2>&1 || { cat "$out/$1.log" >&2; exit 1; }
}
run base "$small" "$small"
run service "$large" "$small"
run bare "$small" "$large"

# Each run's total, and the part of it inside `crypto::verify::verify` (the same signature work
# in both servers: it is split off so that the figures say what each server does around it).
total() { sed -n 's/^summary: *//p' "$out/$1.out"; }
inside_verify() {
    callgrind_annotate --auto=no --threshold=100 --show-percs=no --inclusive=yes "$out/$1.out" |
        awk '$2 ~ /:crypto::verify::verify$/ {gsub(",", "", $1); print $1; exit}'
}
for run in base service bare; do
    printf -v "total_$run" %s "$(total $run)"
    printf -v "verify_$run" %s "$(inside_verify $run)"
done
per_request() { echo $((($1 - $2) / (large - small))); }
service=$(per_request "$total_service" "$total_base")
bare=$(per_request "$total_bare" "$total_base")
verify=$(per_request "$verify_service" "$verify_base")
service_around=$(per_request $((total_service - verify_service)) $((total_base - verify_base)))
bare_around=$(per_request $((total_bare - verify_bare)) $((total_base - verify_base)))
backend=sqlite
[[ -n "${EPERMIT_TEST_DATABASE_URL:-}" ]] && backend=postgres
echo "backend=$backend instructions per request: service=$service bare=$bare" \
    "ratio=$(awk "BEGIN {printf \"%.3f\", $service / $bare}")"
echo "of which crypto::verify::verify=$verify; around it: service=$service_around" \
    "bare=$bare_around (service − bare = $((service_around - bare_around)))"

# Where the difference goes: the `service` run minus the `bare` run is (LARGE − SMALL) × (one
# service request − one bare request); by function (self cost, the file its code is from),
# per request, the 40 largest either way.
annotate() {
    callgrind_annotate --auto=no --threshold=100 --show-percs=no "$out/$1.out" |
        awk '/file:function$/ {on = 1; next} on && $1 ~ /^[0-9,]+$/ {
            c = $1; gsub(",", "", c); $1 = ""; sub(/^ +/, ""); sub(/ \[[^]]*\]$/, "")
            sub(/^.*\/(src|library)\//, ""); print c "\t" $0}'
}
annotate service >"$out/service.self"
annotate bare >"$out/bare.self"
echo "instructions per request, service − bare, by function (self):"
awk -F'\t' -v n=$((large - small)) '
    NR == FNR {bare[$2] += $1; next}
    {service[$2] += $1}
    END {
        for (f in bare) if (!(f in service)) service[f] = 0
        for (f in service) printf "%9.0f  %s\n", (service[f] - bare[f]) / n, f
    }
' "$out/bare.self" "$out/service.self" | sort -rn | awk 'NR <= 40 {print; next} {tail[NR % 40] = $0}
    END {print "     ..."; for (i = NR + 1; i <= NR + 40; i++) if ((i % 40) in tail) print tail[i % 40]}' |
    awk '$1 != 0'
