#!/usr/bin/env bash
# CI of the mobile SDK, run from the repository root (`bash mobile-sdk/ci.sh`, called by .ci/run).
# On a fresh machine of this kind (Debian, root, package registries only) it installs what it needs,
# quietly and only when missing, then checks:
#   1. the checked-in Kotlin/Swift bindings match freshly generated ones;
#   2. the Python FFI test (generated bindings, ctypes, host .so; signer in Python);
#   3. the Kotlin FFI test (checked-in bindings, JNA, JVM; signer with a JDK Ed25519 key);
#   4. phone builds for one iOS and one Android target (EPERMIT_SDK_CI_TARGETS to change them,
#      EPERMIT_PHONE_TARGET_DIR for their cargo target dir;
#      `mobile-sdk/build-mobile.sh` with no argument builds all six).
# Every check runs; the last line is `N passed, M failed`; the exit status is 1 if any failed.
# The Rust tests (`cargo test -p mobile-sdk`) run with the workspace's in .ci/run.
set -uo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
tools="${EPERMIT_TOOLS_DIR:-/opt/epermit-tools}"
kotlin_version="2.4.20"
ci_targets="${EPERMIT_SDK_CI_TARGETS:-aarch64-apple-ios aarch64-linux-android}"
# Phone builds keep their own target dir outside the clone, so a machine that ran CI before builds
# warm (cold: a few minutes per target on 2 cores; warm: seconds).
export EPERMIT_PHONE_TARGET_DIR="${EPERMIT_PHONE_TARGET_DIR:-/var/cache/epermit-sdk/phone-target}"
export CARGO_TERM_COLOR=never DEBIAN_FRONTEND=noninteractive
# The host library and uniffi-bindgen are built with the workspace's features, as the workspace's
# tests (run before this in .ci/run) built them: then only the bindgen binary is left to link.
export EPERMIT_SDK_CARGO_SCOPE="${EPERMIT_SDK_CARGO_SCOPE:---workspace --lib --bins --tests}"
passed=0
failed=0
t0=$(date +%s)

check() { # name command...
  local name="$1"; shift
  local start; start=$(date +%s)
  echo
  echo "== mobile-sdk: $name"
  if "$@"; then
    passed=$((passed + 1))
    echo "-- ok: $name ($(( $(date +%s) - start ))s)"
  else
    failed=$((failed + 1))
    echo "-- FAILED: $name ($(( $(date +%s) - start ))s)" >&2
  fi
}

install_tools() {
  local debs=(rustc-web cargo-web rust-web-src rust-web-llvm lld-22 libjna-java)
  command -v javac >/dev/null || debs+=(openjdk-17-jdk-headless)
  local missing=()
  for p in "${debs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "apt-get install ${missing[*]}"
    apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null || return 1
  fi
  if [ ! -x "$tools/node_modules/kotlin-compiler/bin/kotlinc-jvm" ] ||
    ! grep -q "\"version\": \"$kotlin_version\"" "$tools/node_modules/kotlin-compiler/package.json"; then
    echo "npm install kotlin-compiler@$kotlin_version"
    mkdir -p "$tools"
    npm install --silent --no-audit --no-fund --prefix "$tools" "kotlin-compiler@$kotlin_version" || return 1
  fi
  if ! python3 -c 'import cryptography.hazmat.primitives.asymmetric.ed25519' 2>/dev/null; then
    echo "pip install cryptography"
    python3 -m pip install --quiet --disable-pip-version-check cryptography || return 1
  fi
  if ! python3 -c 'import cbor2' 2>/dev/null; then
    echo "pip install cbor2"
    python3 -m pip install --quiet --disable-pip-version-check cbor2 || return 1
  fi
  [ -f /usr/share/java/jna.jar ] && [ -x /usr/bin/cargo ] && [ -x /usr/bin/rust-lld ]
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

python_test() {
  mobile-sdk/bindings.sh python "$work/py" &&
    PYTHONPATH="$work/py" python3 mobile-sdk/ffi-tests/python/test_ffi.py
}

kotlin_test() {
  local kotlin="$tools/node_modules/kotlin-compiler"
  local lib_dir
  lib_dir="$(dirname "$(find "$work/py" -name 'libepermit_sdk.so' | head -1)")"
  [ -f "$lib_dir/libepermit_sdk.so" ] || { echo "host library missing (python test step)" >&2; return 1; }
  "$kotlin/bin/kotlinc-jvm" -nowarn -cp /usr/share/java/jna.jar \
    "$(find mobile-sdk/bindings/kotlin -name '*.kt')" mobile-sdk/ffi-tests/kotlin/Main.kt \
    -d "$work/kt.jar" 2>&1 | grep -v '^warning:' || true
  [ -f "$work/kt.jar" ] || return 1
  java -Djna.library.path="$lib_dir" \
    -cp "$work/kt.jar:$kotlin/lib/kotlin-stdlib.jar:/usr/share/java/jna.jar" MainKt
}

check "install tools (apt: rustc-web, libjna-java; npm: kotlin-compiler; pip: cryptography, cbor2)" install_tools
check "checked-in bindings match the code" mobile-sdk/bindings.sh check
check "Python FFI test" python_test
check "Kotlin FFI test (JVM)" kotlin_test
# shellcheck disable=SC2086
check "phone builds: $ci_targets" mobile-sdk/build-mobile.sh --out "$work/dist" $ci_targets

echo
echo "mobile-sdk ci: $(( $(date +%s) - t0 ))s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
