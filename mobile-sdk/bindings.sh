#!/usr/bin/env bash
# Generates the Kotlin and Swift bindings of the SDK from the host cdylib (UniFFI library mode) and
# either writes them into mobile-sdk/bindings/ or checks that the checked-in files match.
#
#   mobile-sdk/bindings.sh write          regenerate the checked-in bindings (after an API change)
#   mobile-sdk/bindings.sh check          exit 1, with a diff, if they are out of date
#   mobile-sdk/bindings.sh python DIR     generate the Python bindings + copy the .so into DIR (tests)
#
# Builds `mobile-sdk` and the `uniffi-bindgen` binary for the host (debug, the shared target dir).
# EPERMIT_SDK_CARGO_SCOPE: the packages and targets cargo builds them with (default: those two
# packages alone). mobile-sdk/ci.sh runs after the workspace's tests and builds with the
# workspace's scope instead: one package alone resolves other features than the workspace does,
# so it would compile ~30 crates a second time.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
mode="${1:-check}"
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
# shellcheck disable=SC2086 # a list of cargo arguments
cargo build --quiet --locked ${EPERMIT_SDK_CARGO_SCOPE:--p mobile-sdk -p epermit-uniffi-bindgen}
lib="$target_dir/debug/libepermit_sdk.so"
bindgen="$target_dir/debug/uniffi-bindgen"
generate() { # language out-dir
  "$bindgen" generate --no-format --library "$lib" --language "$1" --out-dir "$2" >/dev/null
}

case "$mode" in
  write | check)
    fresh="$(mktemp -d)"
    trap 'rm -rf "$fresh"' EXIT
    generate kotlin "$fresh/kotlin"
    generate swift "$fresh/swift"
    if [ "$mode" = write ]; then
      rm -rf mobile-sdk/bindings/kotlin mobile-sdk/bindings/swift
      mkdir -p mobile-sdk/bindings
      cp -r "$fresh/kotlin" "$fresh/swift" mobile-sdk/bindings/
      echo "wrote mobile-sdk/bindings/{kotlin,swift}"
    elif diff -ru mobile-sdk/bindings/kotlin "$fresh/kotlin" && diff -ru mobile-sdk/bindings/swift "$fresh/swift"; then
      echo "bindings match the code"
    else
      echo "the checked-in bindings differ from the code: run mobile-sdk/bindings.sh write" >&2
      exit 1
    fi
    ;;
  python)
    out="${2:?usage: bindings.sh python DIR}"
    mkdir -p "$out"
    generate python "$out"
    cp "$lib" "$out/"
    ;;
  *)
    echo "usage: $0 write|check|python DIR" >&2
    exit 2
    ;;
esac
