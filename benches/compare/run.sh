#!/usr/bin/env bash
# The side-by-side comparison in one command (see BENCHMARKS.md):
#
#   benches/compare/run.sh [--quick] [--only SECTIONS] [--criterion] [--write|--no-write] ...
#
# 1. builds the release binaries misp-correlate and misp-gen;
# 2. makes a Python virtual environment under target/compare-venv with the
#    peers from PyPI (pymispwarninglists, duckdb), once;
# 3. runs benches/compare/compare.py with the arguments given, which prints
#    the figures and ratios and regenerates the tables of BENCHMARKS.md.
#
# Data: $MISP_WARNINGLISTS (a misp-warninglists directory with lists/) and
# $MISP_VALUES (a type<TAB>value file); both default to the project's shared
# data when it is there.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
venv="$target/compare-venv"
python="${PYTHON:-python3}"

cd "$root"
cargo build --release -p misp-cli -p misp-benches

if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import pymispwarninglists, duckdb' 2>/dev/null; then
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    "$venv/bin/python" -m pip install --quiet -r "$root/benches/compare/requirements.txt"
fi

exec "$venv/bin/python" "$root/benches/compare/compare.py" "$@"
