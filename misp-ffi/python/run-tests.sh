#!/bin/sh
# Builds and installs the misp_correlate Python package into a fresh virtual
# environment, then runs its pytest suite.
#
#   misp-ffi/python/run-tests.sh [pytest arguments...]
#
# Environment:
#   VENV                        virtualenv directory (default: target/python-venv)
#   PYTHON                      interpreter used to create it (default: python3)
#   MISP_CORRELATE_PROFILE      cargo profile for the library (default: release)
#   MISP_CORRELATE_PREBUILT_LIB use this library instead of running cargo
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
venv=${VENV:-$root/target/python-venv}
python=${PYTHON:-python3}

"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet "cffi>=1.15" "pytest>=7"
# Not editable: the build step compiles the library and copies it (and the
# header) into the installed package. Forced, so a rerun picks up changes.
"$venv/bin/python" -m pip install --quiet --force-reinstall --no-deps "$here"
cd "$here"
# The pytest script (unlike `python -m pytest`) does not put the current
# directory on sys.path, so the tests import the installed package.
exec "$venv/bin/pytest" -p no:cacheprovider "$@" tests
