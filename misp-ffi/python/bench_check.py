#!/usr/bin/env python3
"""A 100,000-value batch warninglist check through Python vs the same batch in Rust.

    python bench_check.py [--count N] [--repeat R] [--lists DIR] [--values TSV]

Run it with the installed ``misp_correlate`` package (release build, e.g. the
venv of ``run-tests.sh``). The Rust side is ``cargo run --release -p misp-ffi
--example bench_check`` over the same lists and values: it builds the queries
from in-memory pairs and runs ``Matcher::check_batch``. The Python side starts
from a list of ``(type, value)`` tuples and ends with a list of hit lists of
dicts (packing, the C call, JSON decoding included). Both report the best of
``--repeat`` runs; the ratio is Python / Rust (target: <= 2).

Data: the full misp-warninglists set and TweetFeed's typed values, from
``$MISP_WARNINGLISTS`` / ``$MISP_VALUES`` or ``shared/data`` next to the
workspace (see the workspace's data README).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

# Running this file puts its directory, which holds the *source* package
# (without the compiled library), first on sys.path: import the installed one.
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import misp_correlate  # noqa: E402

WORKSPACE = Path(__file__).resolve().parents[2]


def shared(relative: str, env: str) -> Path:
    if os.environ.get(env):
        return Path(os.environ[env])
    for directory in WORKSPACE.parents:
        candidate = directory / "shared" / "data" / relative
        if candidate.exists():
            return candidate
    sys.exit(f"bench_check: {relative} not found; set {env}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--lists", type=Path, default=None)
    parser.add_argument("--values", type=Path, default=None)
    args = parser.parse_args()
    lists = args.lists or shared("misp-warninglists", "MISP_WARNINGLISTS")
    values = args.values or shared("values/tweetfeed-typed-values.tsv", "MISP_VALUES")

    pairs = []
    with open(values, encoding="utf-8") as f:
        for line in f:
            if len(pairs) == args.count:
                break
            t, sep, v = line.rstrip("\n").partition("\t")
            if sep:
                pairs.append((t, v))

    wl = misp_correlate.Warninglists(lists)
    wl.check_many(pairs[:1000])  # warm up (thread pool, caches)
    python_seconds = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        results = wl.check_many(pairs)
        python_seconds.append(time.perf_counter() - start)
    python_hits = sum(len(hits) for hits in results)

    rust = subprocess.run(
        ["cargo", "run", "--quiet", "--release", "-p", "misp-ffi", "--example", "bench_check", "--",
         str(lists), str(values), str(len(pairs)), str(args.repeat)],
        cwd=WORKSPACE, check=True, capture_output=True, text=True,
    )
    rust_result = json.loads(rust.stdout.strip().splitlines()[-1])
    if rust_result["values"] != len(pairs) or rust_result["hits"] != python_hits:
        sys.exit(f"bench_check: Rust and Python disagree: {rust_result} vs {len(pairs)} values, {python_hits} hits")

    python_best = min(python_seconds)
    rust_best = rust_result["best_seconds"]
    print(f"values:  {len(pairs)} ({python_hits} hits)")
    print(f"rust:    {rust_best * 1000:8.1f} ms  (best of {args.repeat})")
    print(f"python:  {python_best * 1000:8.1f} ms  (best of {args.repeat})")
    print(f"ratio:   {python_best / rust_best:8.2f}  (python / rust; target <= 2)")


if __name__ == "__main__":
    main()
