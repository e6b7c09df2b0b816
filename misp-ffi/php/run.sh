#!/bin/sh
# Builds the misp-correlate C library and runs the PHP FFI example, which
# exits non-zero on any mismatch with the expected results.
#
#   misp-ffi/php/run.sh
#
# Needs PHP >= 8.1 with the FFI extension (Debian/Ubuntu: apt-get install
# php-cli). Environment:
#   PHP                    the PHP binary (default: php)
#   MISP_CORRELATE_PROFILE cargo profile (default: dev)
#   MISP_CORRELATE_LIB     use this library instead of building one
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
php=${PHP:-php}

if [ -z "${MISP_CORRELATE_LIB:-}" ]; then
    profile=${MISP_CORRELATE_PROFILE:-dev}
    cargo build --quiet --profile "$profile" -p misp-ffi --manifest-path "$root/Cargo.toml"
    case $profile in dev|test) dir=debug ;; *) dir=$profile ;; esac
    MISP_CORRELATE_LIB=${CARGO_TARGET_DIR:-$root/target}/$dir/libmisp_correlate_ffi.so
fi

if ! "$php" -m | grep -qx FFI; then
    echo "run.sh: $php has no FFI extension" >&2
    exit 2
fi
# ffi.enable=1: FFI::cdef is otherwise only allowed in preloaded scripts
# (the CLI default is "preload", which also allows the CLI on Debian; be explicit).
exec "$php" -d ffi.enable=1 "$here/example.php" "$MISP_CORRELATE_LIB" "$root"
