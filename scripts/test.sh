#!/usr/bin/env bash
# The whole test suite: Rust (unit, integration, C ABI under valgrind),
# Python package, PHP FFI example. Installs what a fresh Debian machine
# lacks (valgrind, php-cli) when run as root.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v valgrind >/dev/null || need+=(valgrind)
command -v php >/dev/null || need+=(php-cli)
if ((${#need[@]})); then
  if [[ $(id -u) == 0 ]]; then
    apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "scripts/test.sh: please install: ${need[*]}" >&2
    exit 1
  fi
fi

cargo test --workspace

# The C test under valgrind is part of `cargo test`; insist on valgrind.
MISP_FFI_REQUIRE_VALGRIND=1 cargo test -p misp-ffi --test c_abi

# Python package over the C ABI (a venv under target/, pytest).
MISP_CORRELATE_PROFILE=dev misp-ffi/python/run-tests.sh

# PHP FFI example (exits non-zero on any mismatch).
misp-ffi/php/run.sh

# The comparison harness's own logic (standard library only; no peers run).
python3 -m unittest benches/compare/test_compare.py
