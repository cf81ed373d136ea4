#!/usr/bin/env bash
# The linker web/build.sh gives rustc for wasm32-unknown-unknown: Debian's rust-lld, exporting only
# the engine's ABI (`epermit_*`, web/src/abi.rs) and the heap bounds. A cdylib also exports every
# `#[no_mangle]` function of its dependencies — here the SDK's whole UniFFI scaffolding, which the
# page never calls — and each export keeps its code alive; dropping those exports before the link
# lets `--gc-sections` remove it (≈ 180 KB, a quarter of the module). Everything else is passed on
# as rustc wrote it.
set -euo pipefail
keep() { [[ "$1" == epermit_* || "$1" == __heap_base || "$1" == __data_end ]]; }
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --export) if keep "$2"; then args+=("$1" "$2"); fi; shift 2 ;;
    --export=*) if keep "${1#--export=}"; then args+=("$1"); fi; shift ;;
    *) args+=("$1"); shift ;;
  esac
done
case " ${args[*]} " in
  *" -flavor "*) ;;
  *) args=(-flavor wasm "${args[@]}") ;;
esac
exec /usr/bin/rust-lld "${args[@]}"
