#!/usr/bin/env bash
# Builds the browser engine (web/, package epermit-web) into the WebAssembly module the screens load,
# api/web/common/epermit_web.wasm, which is committed so that `cargo run --release` serves it with no
# wasm toolchain on the machine.
#
#   web/build.sh            rebuild and overwrite the committed module
#   web/build.sh --check    rebuild into a temporary directory; fail (naming both sha256) unless the
#                           result is byte-identical to the committed module (CI: .ci/run)
#
# How: as mobile-sdk/build-mobile.sh builds the SDK for wasm — Debian's rustc-web (`/usr/bin/cargo`,
# RUSTC_BOOTSTRAP=1) builds std from source (`-Zbuild-std=std,panic_abort`) for
# wasm32-unknown-unknown; release profile size-optimised through CARGO_PROFILE_RELEASE_* (opt-level
# "z", LTO, one codegen unit, panic=abort, symbols stripped) so the workspace profile stays as it is;
# linked by web/wasm-link.sh so that only the engine's ABI is exported (not the SDK's UniFFI functions).
# Panics abort without a message, so their source locations are left out (-Zlocation-detail=none).
# Reproducible: `--remap-path-prefix` maps the repository root, the cargo home and the target dir to
# fixed names, so the bytes do not depend on where the clone or the caches are. The cargo target dir
# is EPERMIT_WEB_TARGET_DIR (default /var/cache/epermit-web/target, outside the clone: a machine that
# built before builds warm; cold: a few minutes on 2 cores). Installs the Debian packages rustc-web
# cargo-web rust-web-src rust-web-llvm lld-22 when they are missing (as root, like mobile-sdk/ci.sh).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

mode=build
case "${1:-}" in
  "") ;;
  --check) mode=check ;;
  -h | --help) sed -n '2,20p' "$0"; exit 0 ;;
  *) echo "usage: web/build.sh [--check]" >&2; exit 2 ;;
esac

committed="api/web/common/epermit_web.wasm"
debs=(rustc-web cargo-web rust-web-src rust-web-llvm lld-22)
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
fi
for tool in /usr/bin/cargo /usr/bin/rustc /usr/bin/rust-lld; do
  [ -x "$tool" ] || { echo "missing $tool: apt-get install ${debs[*]}" >&2; exit 1; }
done

export PATH="/usr/bin:$PATH" RUSTC_BOOTSTRAP=1 CARGO_TERM_COLOR=never
unset RUSTC RUSTDOC RUSTUP_TOOLCHAIN RUSTC_WRAPPER CARGO_BUILD_RUSTFLAGS CARGO_ENCODED_RUSTFLAGS # the rustup proxies must not take over
export CARGO_TARGET_DIR="${EPERMIT_WEB_TARGET_DIR:-/var/cache/epermit-web/target}"
mkdir -p "$CARGO_TARGET_DIR"
CARGO_TARGET_DIR="$(cd "$CARGO_TARGET_DIR" && pwd)"
cargo_home="${CARGO_HOME:-$HOME/.cargo}"
export CARGO_PROFILE_RELEASE_LTO=true CARGO_PROFILE_RELEASE_OPT_LEVEL=z \
  CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 CARGO_PROFILE_RELEASE_PANIC=abort \
  CARGO_PROFILE_RELEASE_DEBUG=false CARGO_PROFILE_RELEASE_STRIP=symbols \
  CARGO_PROFILE_RELEASE_INCREMENTAL=false
# Only the engine's ABI is exported (see web/wasm-link.sh).
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER="$root/web/wasm-link.sh"
export RUSTFLAGS="-Zlocation-detail=none -Zremap-cwd-prefix=/epermit --remap-path-prefix=$cargo_home=/cargo --remap-path-prefix=$CARGO_TARGET_DIR=/target"

target=wasm32-unknown-unknown
start=$(date +%s)
/usr/bin/cargo rustc --quiet --locked -p epermit-web --lib --release --target "$target" \
  -Zbuild-std=std,panic_abort --crate-type cdylib
artifact="$CARGO_TARGET_DIR/$target/release/epermit_web.wasm"

if [ "$mode" = check ]; then
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  cp "$artifact" "$work/epermit_web.wasm"
  built="$(sha256sum "$work/epermit_web.wasm" | cut -d' ' -f1)"
  have="$(sha256sum "$committed" 2>/dev/null | cut -d' ' -f1 || true)"
  if [ "$built" != "$have" ]; then
    echo "web/build.sh --check: $committed (sha256 ${have:-missing}) does not match its sources (rebuilt: sha256 $built); run bash web/build.sh and commit the module" >&2
    exit 1
  fi
  echo "web engine: $committed matches its sources (sha256 $built, $(stat -c %s "$committed") bytes, $(( $(date +%s) - start ))s)"
else
  cp "$artifact" "$committed"
  echo "web engine: wrote $committed ($(stat -c %s "$committed") bytes, gzip -9 $(gzip -9c "$committed" | wc -c) bytes, sha256 $(sha256sum "$committed" | cut -d' ' -f1), $(( $(date +%s) - start ))s)"
fi
