#!/usr/bin/env bash
# Builds the SDK for phones and the web into a layout an app build consumes (SPEC §5).
#
#   mobile-sdk/build-mobile.sh [--out DIR] [TARGET|ios|android|wasm|all]...
#
# TARGET is one of aarch64-apple-ios aarch64-apple-ios-sim aarch64-linux-android
# armv7-linux-androideabi x86_64-linux-android wasm32-unknown-unknown; default: all six.
# Output (default DIR: target/epermit-sdk-dist):
#   ios/<target>/libepermit_sdk.a        static archives for Xcode (device, simulator)
#   ios/include/epermit_sdkFFI.h, module.modulemap, ios/EpermitSdk.swift
#   android/<abi>/libepermit_sdk.a       arm64-v8a, armeabi-v7a, x86_64 (link into .so with the NDK)
#   android/kotlin/…                     the generated Kotlin bindings (JNA)
#   wasm/epermit_sdk.wasm                wasm32 cdylib
#
# How: Debian's rustc-web 1.96 (`/usr/bin/cargo`) builds std from source (`-Zbuild-std`, with
# RUSTC_BOOTSTRAP=1) for targets rustup cannot download here; `cargo rustc --crate-type
# staticlib` makes only the archive, so no NDK or Xcode linker is needed. Everything goes to its
# own CARGO_TARGET_DIR (default target/phone, ~2 GB) so the normal rustup build is never touched.
# Requires the Debian packages rustc-web cargo-web rust-web-src rust-web-llvm lld-22 (ci.sh
# installs them). Release builds are size-optimised with LTO (opt-level "s", lto = true, set here
# through CARGO_PROFILE_RELEASE_* so the workspace profile stays as it is): each archive then holds
# one object with only what the exported functions reach (≈2 MB instead of 7–11 MB). Archives are
# stripped of debug info (llvm-strip --strip-debug) when possible.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

out="target/epermit-sdk-dist"
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="${2:?--out needs a directory}"; shift 2 ;;
    ios) targets+=(aarch64-apple-ios aarch64-apple-ios-sim); shift ;;
    android) targets+=(aarch64-linux-android armv7-linux-androideabi x86_64-linux-android); shift ;;
    wasm) targets+=(wasm32-unknown-unknown); shift ;;
    all) targets+=(aarch64-apple-ios aarch64-apple-ios-sim aarch64-linux-android armv7-linux-androideabi x86_64-linux-android wasm32-unknown-unknown); shift ;;
    -h | --help) sed -n '2,22p' "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(aarch64-apple-ios aarch64-apple-ios-sim aarch64-linux-android armv7-linux-androideabi x86_64-linux-android wasm32-unknown-unknown)

for tool in /usr/bin/cargo /usr/bin/rustc /usr/bin/rust-lld; do
  [ -x "$tool" ] || { echo "missing $tool: apt-get install rustc-web cargo-web rust-web-src rust-web-llvm lld-22" >&2; exit 1; }
done
export PATH="/usr/bin:$PATH" RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="${EPERMIT_PHONE_TARGET_DIR:-$root/target/phone}"
export CARGO_PROFILE_RELEASE_LTO="${CARGO_PROFILE_RELEASE_LTO:-true}"
export CARGO_PROFILE_RELEASE_OPT_LEVEL="${CARGO_PROFILE_RELEASE_OPT_LEVEL:-s}"
unset RUSTC RUSTDOC RUSTUP_TOOLCHAIN # the rustup proxies must not take over
strip_tool="$(command -v llvm-strip || true)"

mkdir -p "$out"
declare -a report=()
for target in "${targets[@]}"; do
  case "$target" in
    aarch64-apple-ios | aarch64-apple-ios-sim) dir="ios/$target"; kind=staticlib ;;
    aarch64-linux-android) dir="android/arm64-v8a"; kind=staticlib ;;
    armv7-linux-androideabi) dir="android/armeabi-v7a"; kind=staticlib ;;
    x86_64-linux-android) dir="android/x86_64"; kind=staticlib ;;
    wasm32-unknown-unknown) dir="wasm"; kind=cdylib ;;
    *) echo "unknown target: $target" >&2; exit 2 ;;
  esac
  echo "== $target ($kind)"
  start=$(date +%s)
  if [ "$kind" = cdylib ]; then
    /usr/bin/cargo rustc --quiet --locked -p mobile-sdk --lib --release --target "$target" \
      -Zbuild-std=std,panic_abort --crate-type cdylib
    artifact="$CARGO_TARGET_DIR/$target/release/epermit_sdk.wasm"
    dest="$out/$dir/epermit_sdk.wasm"
  else
    /usr/bin/cargo rustc --quiet --locked -p mobile-sdk --lib --release --target "$target" \
      -Zbuild-std --crate-type staticlib
    artifact="$CARGO_TARGET_DIR/$target/release/libepermit_sdk.a"
    dest="$out/$dir/libepermit_sdk.a"
  fi
  mkdir -p "$(dirname "$dest")"
  cp "$artifact" "$dest"
  if [ "$kind" = staticlib ] && [ -n "$strip_tool" ]; then
    "$strip_tool" --strip-debug "$dest" 2>/dev/null || cp "$artifact" "$dest"
  fi
  report+=("$(printf '%-26s %-40s %9s bytes (%s)  %ss' "$target" "$dest" "$(stat -c %s "$dest")" \
    "$(numfmt --to=si --suffix=B "$(stat -c %s "$dest")")" "$(( $(date +%s) - start ))")")
done

# Headers, module map and bindings, the same for every target.
if [ -d "$out/ios" ]; then
  mkdir -p "$out/ios/include"
  cp mobile-sdk/bindings/swift/epermit_sdkFFI.h "$out/ios/include/"
  cp mobile-sdk/bindings/swift/epermit_sdkFFI.modulemap "$out/ios/include/module.modulemap"
  cp mobile-sdk/bindings/swift/EpermitSdk.swift "$out/ios/"
fi
if [ -d "$out/android" ]; then
  rm -rf "$out/android/kotlin"
  cp -r mobile-sdk/bindings/kotlin "$out/android/kotlin"
fi

echo
echo "artifacts in $out:"
printf '  %s\n' "${report[@]}"
