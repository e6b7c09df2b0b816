#!/usr/bin/env bash
# paired.sh ROUNDS A B: compares two builds of `misp-gen` (A, the baseline,
# and B) on the streamed bulk correlation, side by side.
#
# On a shared 2-core VM the same binary's time swings by 20-30 % within
# minutes, so runs taken one after the other (even alternating) cannot tell
# a 5 % change. Here A and B run *at the same time*, each pinned to its own
# core with one pool thread (RAYON_NUM_THREADS=1), so both see the same
# neighbours; the cores are swapped every round, since they need not be
# equally fast. Each round prints both runs' CPU times and B/A; the end
# prints the median B/A and in how many rounds B used less CPU. Read a
# change as real only when the median and the count agree (for 20 rounds,
# 15 or more either way; 10 of 20 is what two equal builds give).
#
#   git worktree add /tmp/base <rev>
#   (cd /tmp/base && CARGO_TARGET_DIR=/tmp/base-target cargo build --release -p misp-benches --bin misp-gen)
#   cargo build --release -p misp-benches --bin misp-gen
#   benches/compare/paired.sh 20 /tmp/base-target/release/misp-gen target/release/misp-gen
#
# ATTRIBUTES (default 10000000) sets the corpus size. Needs taskset
# (util-linux) and two cores. Not part of CI.
set -euo pipefail

if [[ $# -ne 3 ]]; then
    echo "usage: $0 ROUNDS BASELINE CANDIDATE" >&2
    exit 2
fi
rounds=$1
a=$2
b=$3
n=${ATTRIBUTES:-10000000}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# The value of "key":number in a misp-gen JSON line.
field() {
    grep -o "\"$1\":[0-9.]*" "$2" | cut -d: -f2
}

ratios=()
for round in $(seq "$rounds"); do
    if ((round % 2)); then core_a=0 core_b=1; else core_a=1 core_b=0; fi
    RAYON_NUM_THREADS=1 taskset -c "$core_a" "$a" --attributes "$n" --correlate >"$out/a" 2>/dev/null &
    pid_a=$!
    RAYON_NUM_THREADS=1 taskset -c "$core_b" "$b" --attributes "$n" --correlate >"$out/b" 2>/dev/null &
    pid_b=$!
    wait "$pid_a" "$pid_b"
    cpu_a=$(field cpu_s "$out/a")
    cpu_b=$(field cpu_s "$out/b")
    if [[ $(field correlations "$out/a") != $(field correlations "$out/b") ]]; then
        echo "round $round: the builds count different correlations" >&2
        exit 1
    fi
    ratio=$(awk -v a="$cpu_a" -v b="$cpu_b" 'BEGIN { printf "%.3f", b / a }')
    ratios+=("$ratio")
    echo "round $round: A on core $core_a ${cpu_a} s CPU, B on core $core_b ${cpu_b} s CPU, B/A $ratio"
done
printf '%s\n' "${ratios[@]}" | sort -n | awk '
    { r[NR] = $1; if ($1 < 1) faster++ }
    END {
        median = (NR % 2) ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2
        printf "median B/A %.3f (%.3f to %.3f); B used less CPU in %d of %d rounds\n",
            median, r[1], r[NR], faster, NR
    }'
