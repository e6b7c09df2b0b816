#!/bin/sh
# Rebuilds compare-vectors.tsv from libfuzzy (ssdeep 2.14.x), the oracle
# that misp-correlate's ssdeep::fuzzy_compare must match exactly.
#
#   apt-get install -y libfuzzy-dev     # Debian/Ubuntu
#   testdata/ssdeep/make-vectors.sh [SEED [FILE_PAIRS [STRING_PAIRS]]]
#
# The output is deterministic for a given seed and libfuzzy version.
# The test misp-correlate/tests/ssdeep_vectors.rs reads the committed file;
# it also reads a larger, uncommitted file named by SSDEEP_EXTRA_VECTORS, e.g.
#
#   OUT=/tmp/big.tsv testdata/ssdeep/make-vectors.sh 7 100000 100000
#   SSDEEP_EXTRA_VECTORS=/tmp/big.tsv cargo test -p misp-correlate --test ssdeep_vectors
set -eu

dir=$(cd "$(dirname "$0")" && pwd)
seed=${1:-20240601}
files=${2:-1600}
strings=${3:-1000}
out=${OUT:-$dir/compare-vectors.tsv}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cc -O2 -Wall -Wextra -o "$tmp/oracle" "$dir/oracle.c" -lfuzzy

{
	echo "# hash_a<TAB>hash_b<TAB>libfuzzy fuzzy_compare(hash_a, hash_b); -1 = libfuzzy refused"
	echo "# libfuzzy: $(dpkg-query -W -f='${Version}' libfuzzy2 2>/dev/null || echo unknown); rebuild with testdata/ssdeep/make-vectors.sh"
	"$tmp/oracle" compare < "$dir/edge-cases.tsv"
	"$tmp/oracle" generate "$seed" "$files" "$strings"
} > "$out"

echo "wrote $(grep -vc '^#' "$out") vectors to $out"
