#!/usr/bin/env python3
"""A 100,000-value batch warninglist check through Python vs the same batch in Rust.

    python bench_check.py [--count N] [--repeat R] [--lists DIR] [--values TSV]

Run it with the installed ``misp_correlate`` package (release build, e.g. the
venv of ``run-tests.sh``). The Rust side is the ``bench_check`` example of
misp-ffi (built here with ``cargo build --release``) over the same lists and
values: it builds the queries from in-memory pairs and runs
``Matcher::check_batch``. The Python side starts from a list of ``(type,
value)`` tuples and is timed twice: the ``check_many`` call alone (packing
and the C call; its ``BatchHits`` result decodes hits when they are read),
and ``check_many(...).tolist()``, which also decodes every hit into dicts.

Rust and Python runs alternate (R, P, R, P, ...) so that both see the same
machine load; the script prints the best and median wall time of each, the
ratio Python / Rust of the best times and the median of the per-round ratios
(target: <= 2), and the same for CPU time (all threads of each process:
``time.process_time`` in Python, ``/proc/self/task/*/schedstat`` in Rust),
which depends less on what else the machine runs.

Data: the full misp-warninglists set and TweetFeed's typed values, from
``$MISP_WARNINGLISTS`` / ``$MISP_VALUES`` or ``shared/data`` next to the
workspace (see the workspace's data README).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
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
    parser.add_argument("--repeat", type=int, default=7)
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

    subprocess.run(
        ["cargo", "build", "--quiet", "--release", "-p", "misp-ffi", "--example", "bench_check"],
        cwd=WORKSPACE,
        check=True,
    )
    target = Path(os.environ.get("CARGO_TARGET_DIR", WORKSPACE / "target"))
    rust = subprocess.Popen(
        [str(target / "release" / "examples" / "bench_check"), str(lists), str(values), str(len(pairs))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    wl = misp_correlate.Warninglists(lists)
    assert rust.stdout is not None and rust.stdin is not None
    if rust.stdout.readline().strip() != "ready":
        sys.exit("bench_check: the Rust side did not start")

    def run_rust() -> dict:
        rust.stdin.write("run\n")
        rust.stdin.flush()
        return json.loads(rust.stdout.readline())

    def run_python() -> tuple[float, float, float, float, int]:
        """The batch call (a lazily decoded ``BatchHits``), then the same
        call followed by decoding every hit list (``tolist``)."""
        cpu_start = time.process_time()
        start = time.perf_counter()
        results = wl.check_many(pairs)
        seconds = time.perf_counter() - start
        cpu_seconds = time.process_time() - cpu_start
        hits = results.hit_count
        cpu_start = time.process_time()
        start = time.perf_counter()
        decoded = wl.check_many(pairs).tolist()
        full_seconds = time.perf_counter() - start
        full_cpu_seconds = time.process_time() - cpu_start
        if sum(map(len, decoded)) != hits:
            sys.exit(f"bench_check: the decoded lists hold {sum(map(len, decoded))} hits, the batch says {hits}")
        return seconds, cpu_seconds, full_seconds, full_cpu_seconds, hits

    run_rust()
    run_python()  # warm up both (thread pools, caches)
    rust_seconds, rust_cpu = [], []
    python = {"batch": ([], []), "batch + tolist": ([], [])}
    for _ in range(args.repeat):
        r = run_rust()
        p, p_cpu, full, full_cpu, python_hits = run_python()
        if r["values"] != len(pairs) or r["hits"] != python_hits:
            sys.exit(f"bench_check: Rust and Python disagree: {r} vs {len(pairs)} values, {python_hits} hits")
        rust_seconds.append(r["seconds"])
        rust_cpu.append(r["cpu_seconds"])
        for (wall, cpu), (w, c) in zip(python.values(), [(p, p_cpu), (full, full_cpu)]):
            wall.append(w)
            cpu.append(c)
    rust.stdin.close()
    rust.wait()

    def ms(times: list) -> str:
        return f"{min(times) * 1000:8.1f} ms best, {statistics.median(times) * 1000:8.1f} ms median"

    def ratios(mine: list, base: list) -> str:
        per_round = [p / r for p, r in zip(mine, base)]
        return f"{min(mine) / min(base):5.2f} of the best times, {statistics.median(per_round):.2f} median per round"

    print(f"values:  {len(pairs)} ({python_hits} hits), {args.repeat} alternating rounds")
    print(f"rust                   wall {ms(rust_seconds)}")
    for name, (wall, _) in python.items():
        print(f"python {name:15s} wall {ms(wall)}  ratio {ratios(wall, rust_seconds)}")
    if None not in rust_cpu:
        print(f"rust                   cpu  {ms(rust_cpu)}")
        for name, (_, cpu) in python.items():
            print(f"python {name:15s} cpu  {ms(cpu)}  ratio {ratios(cpu, rust_cpu)}")
    print("target: python / rust <= 2 (\"batch\": the call, hits decoded when read; \"batch + tolist\": every hit decoded)")

if __name__ == "__main__":
    main()
