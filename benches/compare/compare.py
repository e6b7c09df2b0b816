#!/usr/bin/env python3
"""Side-by-side comparison of our tools and their peers; regenerates BENCHMARKS.md.

    python3 benches/compare/compare.py [--quick] [--only SECTION,...] [--criterion] [--repeat N]
                                       [--write | --no-write | --render]

Sections:

* `warninglists`: `misp-correlate check` (MISP mode and `--improved`) against
  pymispwarninglists in its default (exact-only) and `slow_search=True` modes,
  on the lists of $MISP_WARNINGLISTS and the values of $MISP_VALUES; speed,
  load time, peak memory, and the hits compared list by list with every
  disagreement put in a category.
* `correlation`: `misp-correlate correlate` against DuckDB computing the same
  exact pairs in SQL on a generated corpus (`misp-gen`), pair sets compared
  (count, order-independent digest, set differences).
* `sqlite`: the same corpus size of MISP's own method, one SQL query per
  attribute value on SQLite (MISP's full re-correlation loop), against ours,
  pair sets compared and the differences explained.
* `criterion`: the criterion figures of `cargo bench -p misp-benches`, read
  from target/criterion (`--criterion` runs the benches first, once).

Results go to target/compare/results.json (a partial run with --only keeps the
other sections' last results) and into the generated blocks of BENCHMARKS.md.
A section with no results there (a partial run on a fresh clone) keeps its
blocks and its lines of the summary and machine blocks as BENCHMARKS.md has
them.
A full run writes BENCHMARKS.md; a --quick run only with --write.

It needs the release binaries (`cargo build --release -p misp-cli -p
misp-benches`) and a Python with pymispwarninglists and duckdb:
benches/compare/run.sh does both and then runs this script.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import urlparse

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
WORK = TARGET / "compare"
RESULTS = WORK / "results.json"
BENCHMARKS = ROOT / "BENCHMARKS.md"
SECTIONS = ("warninglists", "correlation", "sqlite", "criterion")

FULL = {"wl_values": None, "slow_sample": 2000, "corr_attributes": 10_000_000, "sqlite_attributes": 100_000}
QUICK = {"wl_values": 20_000, "slow_sample": 200, "corr_attributes": 100_000, "sqlite_attributes": 20_000}
SEED = 1


# ----------------------------------------------------------------------------------------------------------
# Running and measuring one process
# ----------------------------------------------------------------------------------------------------------

def log(msg: str) -> None:
    print(f"[compare {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def measure(cmd: list, stdout: Path | None = None) -> dict:
    """Runs cmd to completion under peers/rusage.py: wall time, CPU time and peak RSS of that process.

    Standard output goes to `stdout` (or is returned as `stdout` in the result), standard error to a
    file (shown when the command fails).
    """
    log("$ " + " ".join(str(c) for c in cmd) + (f" > {stdout}" if stdout else ""))
    out_path = stdout or WORK / "last.stdout"
    err_path = WORK / "last.stderr"
    usage_path = WORK / "last.rusage.json"
    load = load_average()
    with out_path.open("wb") as out, err_path.open("wb") as err:
        # Own process group, so that a command that hangs is ended with everything it started.
        proc = subprocess.Popen([sys.executable, "-S", HERE / "peers" / "rusage.py", usage_path, *map(str, cmd)],
                                stdout=out, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            status = proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise SystemExit(f"no result after {TIMEOUT} s (--timeout), ended: {' '.join(map(str, cmd))}")
    errors = err_path.read_text(errors="replace")
    if status != 0:
        sys.stderr.write(errors[-5000:])
        raise SystemExit(f"command failed with status {status}: {' '.join(map(str, cmd))}")
    usage = json.loads(usage_path.read_text())
    result = {**usage, "load_before": load, "stderr": errors}
    if not stdout:
        result["stdout"] = out_path.read_text(errors="replace")
    return result


REPEAT = 1
TIMEOUT = 3600


def fastest(runs: list[dict]) -> dict:
    """The run with the smallest wall time, with every wall time kept."""
    best = min(runs, key=lambda r: r["wall_s"])
    return {**best, "walls_s": [r["wall_s"] for r in runs]}


def measure_best(cmd: list, stdout: Path | None = None) -> dict:
    """measure() REPEAT times (--repeat); the fastest run."""
    return fastest([measure(cmd, stdout=stdout) for _ in range(REPEAT)])


def last_json_line(text: str) -> dict:
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise SystemExit(f"no JSON figures in the output:\n{text[-2000:]}")


def python() -> str:
    return sys.executable


def binary(name: str) -> Path:
    path = TARGET / "release" / name
    if not path.exists():
        raise SystemExit(f"{path} is missing: run `cargo build --release -p misp-cli -p misp-benches` "
                         "(benches/compare/run.sh does it)")
    return path


def env_path(var: str, fallback: str, what: str) -> Path:
    value = os.environ.get(var)
    path = Path(value) if value else Path(fallback)
    if not path.exists():
        raise SystemExit(f"${var} is not set and {fallback} does not exist: point ${var} at {what}")
    return path


# ----------------------------------------------------------------------------------------------------------
# Machine
# ----------------------------------------------------------------------------------------------------------

def machine() -> dict:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kib = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    except OSError:
        pass

    def version(cmd: list[str]) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip().splitlines()[0]
        except (OSError, subprocess.CalledProcessError, IndexError):
            return "?"

    import sqlite3
    versions = {"rustc": version(["rustc", "--version"]), "python": platform.python_version(),
                "sqlite": sqlite3.sqlite_version}
    for mod in ("duckdb", "pymispwarninglists"):
        try:
            from importlib.metadata import version as dist_version
            versions[mod] = dist_version(mod)
        except Exception:  # noqa: BLE001 (a missing package is reported, not fatal here)
            versions[mod] = "not installed"
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(mem_kib / 1048576, 1),
            "kernel": platform.release(), "versions": versions,
            "commit": version(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])}


# ----------------------------------------------------------------------------------------------------------
# Warninglists
# ----------------------------------------------------------------------------------------------------------

def read_lists(lists_dir: Path) -> dict[str, dict]:
    """name -> {type, matching_attributes, entries (set)} of every list.json."""
    lists = {}
    for path in sorted((lists_dir / "lists").glob("*/list.json")):
        with path.open(encoding="utf-8") as f:
            doc = json.load(f)
        entries = doc.get("list", [])
        if isinstance(entries, dict):
            entries = list(entries)
        lists[doc["name"]] = {"type": doc.get("type", "string"),
                              "matching_attributes": doc.get("matching_attributes") or [],
                              "entries": set(entries)}
    return lists


def misp_host(value: str) -> str:
    """MISP's hostname extraction (reference §2.5): third `/` field with `//`, else before the first `/`."""
    host = value.split("/")[2] if "//" in value else value.split("/")[0]
    return host.rstrip(".")


def hostname_originals(info: dict) -> dict[str, list[str]]:
    """MISP's normalised hostname entry -> the entries as written (built once per list)."""
    if "originals" not in info:
        originals: dict[str, list[str]] = defaultdict(list)
        for entry in info["entries"]:
            originals[entry.lower().strip(".")].append(entry)
        info["originals"] = originals
    return info["originals"]


def categorise(row: dict, info: dict, ours_hit: dict | None, mode: str) -> str:
    """Why ours and pymispwarninglists disagree on (row, list): a category id of CATEGORIES."""
    ty, value, ltype = row["type"], row["value"], info["type"]
    if ours_hit is None:  # pymisp hit, ours did not
        if info["matching_attributes"] and ty not in info["matching_attributes"]:
            return "type-gate"
        if value in ("", "0"):
            return "dropped-entry"
        if mode == "slow" and ltype == "hostname":
            parsed = urlparse(value)
            if parsed.hostname and parsed.hostname != misp_host(value):
                return "url-host-parsing"
        return "other-pymisp-only"
    # ours hit, pymisp did not
    if ty == "malware-sample" or "|" in ty:
        return "composite-split"
    if ltype == "regex":
        return "regex-never-evaluated"
    if mode == "default":
        return f"default-exact-only-{ltype}"
    if ltype == "hostname":
        part, match = ours_hit.get("value", value), ours_hit.get("match", "")
        written = hostname_originals(info).get(match, [])
        parsed = urlparse(part)
        compared = parsed.hostname or part  # what pymisp's slow search compares
        if not parsed.hostname and "/" in part:
            return "url-without-scheme"
        if compared.endswith("."):
            return "trailing-dot"
        if any(e.startswith(".") for e in written) and misp_host(part) == match:
            return "leading-dot-entry"
        if written and not any(compared == e or compared.endswith("." + e.lstrip(".")) for e in written):
            return "entry-normalised"
        return "other-ours-only"
    if ltype == "cidr" and "/" in value:
        return "cidr-range-value"
    return "other-ours-only"


CATEGORIES = {
    "type-gate": "pymispwarninglists ignores `matching_attributes`: the list does not apply to this attribute "
                 "type in MISP (e.g. a `hostname`-only list and a `url`, or an `ip-src`-only list and an "
                 "`ip-dst`), so MISP and we report nothing.",
    "url-host-parsing": "pymisp's slow hostname search takes `urlparse(value).hostname`, which lower-cases and "
                        "strips the port and userinfo; MISP takes the third `/` field as written "
                        "(`HTTP://Example.COM:8080/` keeps `Example.COM:8080`), so it does not match.",
    "dropped-entry": "MISP's import drops the entries `\"\"` and `\"0\"`; pymisp keeps them.",
    "composite-split": "MISP splits composite values (`a|b`) and checks each half; pymisp checks the whole.",
    "regex-never-evaluated": "pymisp never evaluates `regex` lists (its search returns False for them in both "
                             "modes).",
    "default-exact-only-cidr": "pymisp's default mode is exact set membership: an address inside a network "
                               "(`8.8.4.4` in `8.8.4.0/24`) is found only when the list holds the same text.",
    "default-exact-only-hostname": "pymisp's default mode is exact set membership: a subdomain or a URL "
                                   "(`https://www.google.com/x`) never hits a hostname list whose entry is "
                                   "`google.com`.",
    "default-exact-only-substring": "pymisp's default mode is exact set membership: a value that merely "
                                    "contains an entry never hits a substring list.",
    "default-exact-only-string": "pymisp's default mode and MISP agree on string lists; a difference here "
                                 "is unexpected.",
    "leading-dot-entry": "An entry `.x.com`: MISP strips the dot and matches `x.com` itself as well as its "
                         "subdomains; pymisp's slow search takes it as subdomains only.",
    "entry-normalised": "MISP lower-cases hostname entries and strips their dots; pymisp compares entries as "
                        "written, so an upper-case or dotted entry never matches a lower-case host.",
    "url-without-scheme": "A URL without a scheme (`www.x.com/path`): MISP takes the text before the first "
                          "`/` as the host; `urlparse` finds no hostname and pymisp compares the whole value.",
    "trailing-dot": "MISP strips trailing dots from the host; pymisp does not.",
    "cidr-range-value": "A network as the value (`10.1.0.0/16`): MISP checks that it lies inside an entry; "
                        "pymisp only finds the identical text.",
    "other-ours-only": "Not explained by a known difference (listed with examples below).",
    "other-pymisp-only": "Not explained by a known difference (listed with examples below).",
}


def ours_check(cli: Path, lists_dir: Path, values: Path, out: Path, improved: bool) -> dict:
    """Load time (empty input) and a full run, each the fastest of at least 3: both take seconds, and the
    check time is their difference, which one disturbed run would skew."""
    extra = ["--improved"] if improved else []
    empty = WORK / "empty.tsv"
    empty.write_text("")
    runs = max(REPEAT, 3)
    load = fastest([measure([cli, "check", "--warninglists", lists_dir, *extra, empty], stdout=WORK / "empty.out")
                    for _ in range(runs)])
    run = fastest([measure([cli, "check", "--warninglists", lists_dir, *extra, values], stdout=out)
                   for _ in range(runs)])
    return {"load": load, "run": run}


def read_ours(path: Path) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            rows.append(json.loads(line))
    return rows


def read_pymisp(path: Path) -> list[dict]:
    return read_ours(path)


def compare_hits(ours: list[dict], theirs: list[dict], lists: dict, mode: str) -> dict:
    """Per list: both / ours only / pymisp only; disagreements by category with examples."""
    per_list: dict[str, Counter] = defaultdict(Counter)
    categories: Counter = Counter()
    examples: dict[str, list] = defaultdict(list)
    values_agree = 0
    for o, t in zip(ours, theirs, strict=True):
        if (o["type"], o["value"]) != (t["type"], t["value"]):
            raise SystemExit(f"rows out of step: ours {o['type']}/{o['value']!r}, pymisp {t['type']}/{t['value']!r}")
        ours_lists = {h["list"]: h for h in o["hits"]}
        theirs_lists = set(t["lists"])
        if set(ours_lists) == theirs_lists:
            values_agree += 1
        for name in set(ours_lists) | theirs_lists:
            if name in ours_lists and name in theirs_lists:
                per_list[name]["both"] += 1
                continue
            info = lists.get(name)
            if info is None:
                cat = "other-ours-only" if name in ours_lists else "other-pymisp-only"
            else:
                cat = categorise(o, info, ours_lists.get(name), mode)
            side = "ours_only" if name in ours_lists else "pymisp_only"
            per_list[name][side] += 1
            categories[cat] += 1
            if len(examples[cat]) < 3:
                hit = ours_lists.get(name)
                examples[cat].append({"type": o["type"], "value": o["value"], "list": name,
                                      "match": hit.get("match") if hit else None})
    return {"values": len(ours), "values_agree": values_agree,
            "per_list": {k: dict(v) for k, v in sorted(per_list.items())},
            "categories": dict(categories.most_common()), "examples": dict(examples)}


def sample_rows(src: Path, dst: Path, every: int, limit: int | None) -> int:
    n = kept = 0
    with src.open(encoding="utf-8", newline="") as f, dst.open("w", encoding="utf-8", newline="") as out:
        for line in f:
            if n % every == 0:
                out.write(line)
                kept += 1
                if limit is not None and kept >= limit:
                    break
            n += 1
    return kept


def run_warninglists(cfg: dict) -> dict:
    lists_dir = env_path("MISP_WARNINGLISTS", "/work/shared/data/misp-warninglists",
                         "a misp-warninglists checkout (or the data/misp-warninglists of the pymispwarninglists wheel)")
    values_src = env_path("MISP_VALUES", "/work/shared/data/values/tweetfeed-typed-values.tsv",
                          "a type<TAB>value file (TweetFeed: see BENCHMARKS.md)")
    cli = binary("misp-correlate")
    total = sum(1 for _ in values_src.open(encoding="utf-8"))
    values = WORK / "wl-values.tsv"
    n = sample_rows(values_src, values, 1, cfg["wl_values"])
    every = max(n // cfg["slow_sample"], 1)
    slow_values = WORK / "wl-values-slow.tsv"
    n_slow = sample_rows(values, slow_values, every, cfg["slow_sample"])
    log(f"warninglists: {n} of {total} values; slow_search sample {n_slow} (every {every}th)")

    lists = read_lists(lists_dir)
    res: dict = {"values": n, "values_total": total, "slow_sample": n_slow, "slow_every": every,
                 "lists": len(lists), "entries": sum(len(i["entries"]) for i in lists.values()),
                 "values_file": str(values_src), "lists_dir": str(lists_dir), "load_average": load_average()}

    # Ours always checks every value (it takes seconds); --quick shortens only the peers' inputs.
    runs = {}
    for label, improved in (("ours", False), ("ours --improved", True)):
        out = WORK / f"wl-{'improved' if improved else 'ours'}.jsonl"
        r = ours_check(cli, lists_dir, values_src, out, improved)
        runs[label] = {"values": total, "load_s": r["load"]["wall_s"], "total_s": r["run"]["wall_s"],
                       "check_s": max(r["run"]["wall_s"] - r["load"]["wall_s"], 1e-9),
                       "max_rss_mib": r["run"].get("max_rss_mib"), "cpu_s": r["run"].get("user_s", 0) + r["run"].get("sys_s", 0)}
    for label, slow, src, count in (("pymispwarninglists", False, values, n),
                                    ("pymispwarninglists slow_search", True, slow_values, n_slow)):
        out = WORK / f"wl-pymisp-{'slow' if slow else 'default'}.jsonl"
        cmd = [python(), HERE / "peers" / "wl_pymisp.py", "--lists", lists_dir, "--values", src, "--out", out]
        if slow:
            cmd.append("--slow")
        r = measure(cmd)  # not repeated: slow_search alone takes minutes
        figures = last_json_line(r["stdout"])
        runs[label] = {"values": count, "load_s": figures["load_s"], "total_s": r["wall_s"],
                       "check_s": figures["check_s"], "max_rss_mib": r.get("max_rss_mib"),
                       "cpu_s": r.get("user_s", 0) + r.get("sys_s", 0)}
    for r in runs.values():
        r["values_per_s"] = r["values"] / r["check_s"]
    res["runs"] = runs

    ours = read_ours(WORK / "wl-ours.jsonl")[:n]
    improved = read_ours(WORK / "wl-improved.jsonl")[:n]
    py_default = read_pymisp(WORK / "wl-pymisp-default.jsonl")
    py_slow = read_pymisp(WORK / "wl-pymisp-slow.jsonl")
    ours_sample = ours[::every][:n_slow]
    res["vs_default"] = compare_hits(ours, py_default, lists, "default")
    res["vs_slow"] = compare_hits(ours_sample, py_slow, lists, "slow")
    changed = Counter()
    for o, i in zip(ours, improved, strict=True):
        a, b = {h["list"] for h in o["hits"]}, {h["list"] for h in i["hits"]}
        for name in a - b:
            changed[f"{name} (MISP mode only)"] += 1
        for name in b - a:
            changed[f"{name} (--improved only)"] += 1
    res["improved_changes"] = dict(changed.most_common())
    res["hit_counts"] = {
        "ours": sum(1 for r in ours if r["hits"]),
        "ours --improved": sum(1 for r in improved if r["hits"]),
        "pymispwarninglists": sum(1 for r in py_default if r["lists"]),
        "ours (slow sample)": sum(1 for r in ours_sample if r["hits"]),
        "pymispwarninglists slow_search": sum(1 for r in py_slow if r["lists"]),
    }
    res["load_average_after"] = load_average()
    return res


# ----------------------------------------------------------------------------------------------------------
# Correlation
# ----------------------------------------------------------------------------------------------------------

def corpus(attributes: int) -> tuple[Path, dict]:
    """The generated feed of that size (made once, reused), and how it was made."""
    feed = WORK / f"corpus-{attributes}-seed{SEED}"
    done = feed / ".complete"
    if (feed / "manifest.json").exists() and done.exists():
        text = done.read_text()
        try:
            info = json.loads(text)
        except ValueError:  # an older marker: misp-gen's own line
            info = {"wall_s": None, "summary": text.strip().split(": ", 1)[-1]}
        return feed, {**info, "reused": True}
    if feed.exists():
        shutil.rmtree(feed)
    r = measure([binary("misp-gen"), "--attributes", attributes, "--seed", SEED, "--out", feed])
    info = {"wall_s": r["wall_s"], "summary": r["stdout"].strip().split(": ", 1)[-1]}  # drop "wrote DIR"
    done.write_text(json.dumps(info))
    return feed, {**info, "reused": False}


def keys_for(feed: Path) -> tuple[Path, dict]:
    keys = feed.with_name(feed.name + "-keys.jsonl")
    stats_path = keys.with_suffix(".stats.json")
    if keys.exists() and stats_path.exists():
        return keys, json.loads(stats_path.read_text())
    r = measure([python(), HERE / "peers" / "corr_keys.py", "--feed", feed, "--cli", binary("misp-correlate"),
                 "--out", keys])
    stats = last_json_line(r["stdout"])
    stats["max_rss_mib"] = r.get("max_rss_mib")
    stats_path.write_text(json.dumps(stats))
    return keys, stats


def run_ours_correlate(feed: Path, tag: str) -> dict:
    """`correlate FEED` (build and summary only) and `correlate --pairs P FEED` (every pair written)."""
    cli = binary("misp-correlate")
    pairs = WORK / f"{tag}-ours-pairs.jsonl"
    read = measure_best([cli, "load", feed], stdout=WORK / f"{tag}-ours-load.txt")
    build = measure_best([cli, "correlate", feed], stdout=WORK / f"{tag}-ours-summary.txt")
    full = measure_best([cli, "correlate", "--pairs", pairs, feed], stdout=WORK / f"{tag}-ours-summary.txt")
    summary = (WORK / f"{tag}-ours-summary.txt").read_text()
    counts = {}
    for name in ("events", "attributes", "eligible", "rejected", "correlations", "keys", "over-correlating keys"):
        m = re.search(rf"^{name}:\s+(\d+)", summary, re.M)
        if m:
            counts[name] = int(m.group(1))
    keep = ("wall_s", "walls_s", "user_s", "sys_s", "max_rss_mib", "load_before")
    return {"pairs_file": str(pairs), "summary": counts,
            "read": {k: read.get(k) for k in keep},
            "build": {k: build.get(k) for k in keep}, "with_pairs": {k: full.get(k) for k in keep}}


def run_ours_in_memory(n: int, preload: bool = False) -> dict:
    """`misp-gen --correlate`: the same corpus streamed from the generator into the engine, no JSON;
    with `preload`, generated into memory first (untimed) and fed from there (`--preload`).

    Its own figures (from the first attribute to the finished engine and summary) are what the
    SQL peers' join stages compare with: they too start from data already in memory (the preloaded
    run exactly so: its timed span holds no generation). The summary counts let the report check
    that the same pairs were counted.
    """
    r = measure_best([binary("misp-gen"), "--attributes", n, "--seed", SEED, "--correlate",
                      *(["--preload"] if preload else [])])
    figures = last_json_line(r["stdout"])
    return {**figures, "process_wall_s": r.get("wall_s"), "load_before": r.get("load_before")}


def in_memory_row(label: str, m: dict, base: dict) -> list[str]:
    """A table row for run_ours_in_memory's figures (the span it times, peak RSS of the process)."""
    x = {"wall_s": m["wall_s"], "user_s": m["cpu_s"], "sys_s": 0.0, "max_rss_mib": m.get("peak_rss_mib")}
    return run_row(label, x, base)


def duckdb_connect():
    import duckdb
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    con.execute(f"SET temp_directory = '{WORK / 'duckdb-tmp'}'")
    return con


OURS_PAIRS_SQL = """
CREATE TEMP TABLE {name} AS
SELECT least(a.attribute, b.attribute) AS a, greatest(a.attribute, b.attribute) AS b,
       rtrim(lower(key), ' ') AS key
FROM read_json(?, format = 'newline_delimited',
     columns = {{kind: 'VARCHAR', key: 'VARCHAR',
                a: 'STRUCT(event VARCHAR, attribute VARCHAR)', b: 'STRUCT(event VARCHAR, attribute VARCHAR)'}})
WHERE kind = 'exact'
"""


def digest(con, table: str) -> dict:
    count, distinct, dig = con.execute(
        f"SELECT count(*), count(DISTINCT (a, b, key)), "
        f"coalesce(sum(md5_number_lower(a || chr(31) || b || chr(31) || key)::HUGEINT) % 18446744073709551616, 0) "
        f"FROM {table}"
    ).fetchone()
    return {"pairs": count, "distinct": distinct, "digest": f"{int(dig):016x}"}


def set_difference(con, left: str, right: str, limit: int = 5) -> tuple[int, list]:
    n = con.execute(f"SELECT count(*) FROM (SELECT a, b, key FROM {left} EXCEPT SELECT a, b, key FROM {right})").fetchone()[0]
    ex = con.execute(f"SELECT a, b, key FROM {left} EXCEPT SELECT a, b, key FROM {right} ORDER BY key LIMIT {limit}").fetchall()
    return n, [list(r) for r in ex]


def run_correlation(cfg: dict) -> dict:
    n = cfg["corr_attributes"]
    feed, generated = corpus(n)
    keys, key_stats = keys_for(feed)
    res: dict = {"attributes": n, "seed": SEED, "feed": str(feed), "generated": generated,
                 "keys": key_stats, "load_average": load_average()}
    res["ours"] = run_ours_correlate(feed, f"corr{n}")
    res["ours"]["in_memory"] = run_ours_in_memory(n)
    res["ours"]["preloaded"] = run_ours_in_memory(n, preload=True)
    out = WORK / f"corr{n}-duckdb-pairs.parquet"
    r = measure_best([python(), HERE / "peers" / "corr_duckdb.py", "--keys", keys, "--out", out,
                      "--temp-dir", WORK / "duckdb-tmp"])
    res["duckdb"] = {**last_json_line(r["stdout"]),
                     **{k: r.get(k) for k in ("wall_s", "user_s", "sys_s", "max_rss_mib", "load_before")}}

    con = duckdb_connect()
    con.execute(OURS_PAIRS_SQL.format(name="ours"), [res["ours"]["pairs_file"]])
    con.execute(f"CREATE TEMP TABLE peer AS SELECT a, b, key FROM read_parquet('{out}')")
    res["ours"]["set"] = digest(con, "ours")
    res["duckdb"]["set"] = digest(con, "peer")
    res["ours_only"], res["ours_only_examples"] = set_difference(con, "ours", "peer")
    res["duckdb_only"], res["duckdb_only_examples"] = set_difference(con, "peer", "ours")
    res["equal"] = res["ours_only"] == 0 and res["duckdb_only"] == 0 and res["ours"]["set"] == res["duckdb"]["set"]
    res["load_average_after"] = load_average()
    return res


def run_sqlite(cfg: dict) -> dict:
    n = cfg["sqlite_attributes"]
    feed, generated = corpus(n)
    keys, key_stats = keys_for(feed)
    res: dict = {"attributes": n, "seed": SEED, "generated": generated, "keys": key_stats,
                 "load_average": load_average()}
    res["ours"] = run_ours_correlate(feed, f"sqlite{n}")
    res["ours"]["in_memory"] = run_ours_in_memory(n)
    out = WORK / f"sqlite{n}-loop-pairs.jsonl"
    r = measure_best([python(), HERE / "peers" / "corr_sqlite_loop.py", "--keys", keys, "--db",
                      WORK / f"sqlite{n}.sqlite", "--out", out])
    res["sqlite"] = {**last_json_line(r["stdout"]),
                     **{k: r.get(k) for k in ("wall_s", "user_s", "sys_s", "max_rss_mib", "load_before")}}

    con = duckdb_connect()
    con.execute(OURS_PAIRS_SQL.format(name="ours"), [res["ours"]["pairs_file"]])
    con.execute(f"CREATE TEMP TABLE peer AS SELECT a, b, key FROM read_json('{out}', format = 'newline_delimited', "
                "columns = {a: 'VARCHAR', b: 'VARCHAR', key: 'VARCHAR'})")
    res["ours"]["set"] = digest(con, "ours")
    res["sqlite"]["set"] = digest(con, "peer")
    res["ours_only"], res["ours_only_examples"] = set_difference(con, "ours", "peer")
    res["sqlite_only"], res["sqlite_only_examples"] = set_difference(con, "peer", "ours")
    res["differences"] = explain_sqlite_differences(con, keys)
    res["load_average_after"] = load_average()
    return res


def explain_sqlite_differences(con, keys: Path) -> dict:
    """Puts every pair found by only one side into a category of MISP's known quirks."""
    con.execute(
        "CREATE TEMP TABLE attrs AS SELECT * FROM read_json(?, format = 'newline_delimited', "
        "columns = {id: 'BIGINT', attr: 'VARCHAR', event: 'VARCHAR', type: 'VARCHAR', eligible: 'BOOLEAN', "
        "k1: 'VARCHAR', k2: 'VARCHAR'})", [str(keys)])
    con.execute("""
        CREATE TEMP TABLE keyed AS
        SELECT id, attr, event, k1 AS key, 1 AS half FROM attrs WHERE eligible AND k1 IS NOT NULL
        UNION ALL SELECT id, attr, event, k2, 2 FROM attrs WHERE eligible AND k2 IS NOT NULL""")
    # Contract: over-correlating iff |A(k)| - min per-event count > 20.
    con.execute("""
        CREATE TEMP TABLE contract_over AS
        WITH pe AS (SELECT key, event, count(*) n FROM keyed GROUP BY ALL)
        SELECT key FROM pe GROUP BY key HAVING sum(n) - min(n) > 20""")
    # MISP's full mode: walking attributes by id, a key is blocked at the first attribute whose
    # later (higher id) other-event attributes with that key number more than 20.
    con.execute("""
        CREATE TEMP TABLE misp_blocked AS
        SELECT DISTINCT x.key FROM keyed x
        WHERE (SELECT count(*) FROM keyed y WHERE y.key = x.key AND y.id > x.id AND y.event <> x.event) > 20""")
    cats: Counter = Counter()
    rows = con.execute("""
        WITH diff AS (SELECT a, b, key, 'ours_only' AS side FROM (SELECT a, b, key FROM ours EXCEPT SELECT a, b, key FROM peer)
                      UNION ALL
                      SELECT a, b, key, 'misp_only' FROM (SELECT a, b, key FROM peer EXCEPT SELECT a, b, key FROM ours))
        SELECT side,
               key IN (SELECT key FROM misp_blocked) AS misp_blocks_key,
               key IN (SELECT key FROM contract_over) AS contract_over,
               EXISTS (SELECT 1 FROM keyed k WHERE k.attr IN (d.a, d.b) AND k.key <> d.key
                       AND k.key IN (SELECT key FROM misp_blocked)) AS other_half_blocked,
               count(*)
        FROM diff d GROUP BY ALL""").fetchall()
    for side, misp_blocks, contract_over, other_blocked, count in rows:
        if side == "ours_only" and misp_blocks:
            cat = "misp-blocked-key"
        elif side == "ours_only" and other_blocked:
            cat = "misp-quirk-1-other-half"
        elif side == "misp_only" and contract_over:
            cat = "contract-over-correlating"
        else:
            cat = f"other-{side}"
        cats[cat] += count
    return dict(cats)


SQLITE_CATEGORIES = {
    "misp-blocked-key": "MISP's full re-correlation decides over-correlation while walking attributes by id: "
                        "a key is blocked as soon as one attribute has more than 20 *later* (higher-id) "
                        "other-event partners, so keys that the contract (|A(k)| - smallest per-event count "
                        "> 20) keeps can be blocked, and their pairs are missing from MISP's table.",
    "misp-quirk-1-other-half": "MISP quirk 1: when one half of a composite attribute over-correlates, MISP "
                               "drops the attribute's correlations on the other half too (contract §9.1 fixes "
                               "it).",
    "contract-over-correlating": "Keys over-correlating by the contract that MISP's id-ordered count does not "
                                 "block (the attributes with many partners come late), so MISP stores pairs the "
                                 "contract drops.",
    "other-ours_only": "Not explained by a known difference.",
    "other-misp_only": "Not explained by a known difference.",
}


# ----------------------------------------------------------------------------------------------------------
# Criterion
# ----------------------------------------------------------------------------------------------------------

def run_criterion(execute: bool) -> dict:
    log_path = WORK / "criterion.log"
    if execute:
        with log_path.open("w") as f:
            log("$ cargo bench -p misp-benches")
            start = time.perf_counter()
            env = dict(os.environ)
            for var, path in (("MISP_WARNINGLISTS", "/work/shared/data/misp-warninglists"),
                              ("MISP_VALUES", "/work/shared/data/values/tweetfeed-typed-values.tsv"),
                              ("MISP_TWEETFEED", "/work/shared/data/feeds/tweetfeed")):
                if var not in env and Path(path).exists():
                    env[var] = path
            subprocess.run(["cargo", "bench", "-p", "misp-benches"], cwd=ROOT, stdout=f, stderr=subprocess.STDOUT,
                           check=True, env=env)
            log(f"criterion finished in {time.perf_counter() - start:.0f} s")
    results = []
    base = TARGET / "criterion"
    for est in sorted(base.glob("**/new/estimates.json")):
        bench = json.loads((est.parent / "benchmark.json").read_text())
        e = json.loads(est.read_text())
        row = {"id": bench.get("full_id") or bench.get("title"), "mean_ns": e["mean"]["point_estimate"],
               "median_ns": e["median"]["point_estimate"],
               "ci_ns": [e["mean"]["confidence_interval"]["lower_bound"], e["mean"]["confidence_interval"]["upper_bound"]],
               "measured": dt.datetime.fromtimestamp(est.stat().st_mtime).strftime("%Y-%m-%d %H:%M")}
        tp = bench.get("throughput")
        if tp:
            (unit, amount), = tp.items()
            per_s = amount / (e["mean"]["point_estimate"] / 1e9)
            row["throughput"] = (f"{per_s / 1e6:,.0f} MB/s" if unit.lower() == "bytes"
                                 else f"{per_s:,.0f} {unit.lower()}/s")
        results.append(row)
    benches = sorted(p.stem for p in (ROOT / "benches" / "benches").glob("*.rs"))
    return {"benches": benches, "results": results, "ran": execute, "load_average": load_average()}


# ----------------------------------------------------------------------------------------------------------
# BENCHMARKS.md
# ----------------------------------------------------------------------------------------------------------

def fmt_s(s: float | None) -> str:
    if s is None:
        return "–"
    if s < 1e-6:
        return f"{s * 1e9:.1f} ns"
    if s < 1e-3:
        return f"{s * 1e6:.2f} µs"
    return f"{s * 1000:.1f} ms" if s < 1 else f"{s:.2f} s"


def fmt_n(x: float | None, digits: int = 0) -> str:
    return "–" if x is None else f"{x:,.{digits}f}"


def fmt_mib(x: float | None) -> str:
    return "–" if x is None else f"{x:,.0f} MiB"


def ratio(a: float | None, b: float | None) -> str:
    if not a or not b:
        return "–"
    r = a / b
    return f"{r:,.0f}×" if r >= 100 else f"{r:,.1f}×"


def fmt_rate(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:,.2f}"


def table(header: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def md_escape(s: str, width: int = 80) -> str:
    s = s if len(s) <= width else s[: width - 1] + "…"
    return s.replace("|", "\\|").replace("`", "'")


# How each section's lines of the summary and machine blocks begin: the
# renderers start them so, and merge_block tells the sections' lines apart by it.
SECTION_LINES = {
    "summary": {"warninglists": "- **Warninglists**", "correlation": "- **Correlation",
                "sqlite": "- **MISP's method"},
    "machine": {sec: f"- `{sec}`:" for sec in SECTIONS},
}


def render_machine(results: dict) -> str:
    m = results.get("machine", {})
    v = m.get("versions", {})
    lines = [
        f"- CPU: {m.get('cpu', '?')}, {m.get('cores', '?')} cores (`/proc/cpuinfo`, `nproc`); "
        f"memory {m.get('memory_gib', '?')} GiB; Linux {m.get('kernel', '?')}",
        f"- {v.get('rustc', '?')}; Python {v.get('python', '?')}; pymispwarninglists {v.get('pymispwarninglists', '?')}; "
        f"DuckDB {v.get('duckdb', '?')}; SQLite {v.get('sqlite', '?')}",
    ]
    for sec in SECTIONS:
        r = results.get(sec)
        if not r:
            continue
        run = r.get("run", {})
        if sec == "criterion" and r.get("bench_run"):
            b = r["bench_run"]
            lines.append(f"{SECTION_LINES['machine']['criterion']} `cargo bench` run {b['when']} at commit `{b['commit']}`; load average "
                         f"(1/5/15 min) {b['load_average']} at the start, {b.get('load_average_after', '?')} at the end")
            continue
        line = (f"{SECTION_LINES['machine'][sec]} run {run.get('when', '?')} at commit `{run.get('commit', '?')}` "
                f"({run.get('mode', '?')} mode, {fmt_s(r.get('section_s'))})")
        if run.get("repeat", 1) > 1:
            line += f", fastest of {run['repeat']} runs of each timed command"
        if r.get("load_average"):
            line += f"; load average (1/5/15 min) {r['load_average']} at the start"
            if r.get("load_average_after"):
                line += f", {r['load_average_after']} at the end"
        lines.append(line)
    return "\n".join(lines)


def render_warninglists(r: dict) -> str:
    if not r:
        return "_Not run yet._"
    runs = r["runs"]
    ours = runs["ours"]
    rows = []
    for label, x in runs.items():
        rows.append([label, fmt_n(x["values"]), fmt_s(x["load_s"]), fmt_s(x["check_s"]), fmt_rate(x["values_per_s"]),
                     fmt_mib(x["max_rss_mib"]), ratio(ours["values_per_s"], x["values_per_s"]) if label != "ours" else "1×"])
    parts = [
        f"{r['lists']} lists ({r['entries']:,} entries). Ours checks all {r['values_total']:,} values, "
        + (f"pymispwarninglists' default mode all of them" if r["values"] == r["values_total"]
           else f"pymispwarninglists' default mode the first {r['values']:,}")
        + f", its slow_search a sample of "
        f"{r['slow_sample']:,} of those (every {r['slow_every']}th); hits are compared on the values both checked.",
        "",
        table(["checker", "values", "load", "check", "values/s", "peak RSS", "ours (MISP mode) is faster by"], rows),
        "",
        "`load`: ours is the wall time of `check` on an empty input (process start and loading the lists; "
        "each of our two runs is the fastest of at least 3), "
        "pymispwarninglists' is `WarningLists(...)` inside the process. `check` = total − load. Peak RSS: "
        "the whole process, from `wait4` (`peers/rusage.py`, which puts a floor of about 8 MiB under it).",
        "",
        "Values with at least one hit: " + ", ".join(f"{k} {v:,}" for k, v in r["hit_counts"].items()) + ".",
    ]
    for key, title, mode in (("vs_default", "ours vs pymispwarninglists (default mode), all values", "default"),
                             ("vs_slow", "ours vs pymispwarninglists slow_search, the sample", "slow")):
        c = r[key]
        parts += ["", f"**Hits, {title}**: {c['values_agree']:,} of {c['values']:,} values get the same set of lists.",
                  ""]
        rows = [[md_escape(name, 60), fmt_n(v.get("both", 0)), fmt_n(v.get("ours_only", 0)), fmt_n(v.get("pymisp_only", 0))]
                for name, v in c["per_list"].items()]
        parts.append(table(["list", "both", "ours only", "pymisp only"], rows) if rows else "_No hits on either side._")
        if c["categories"]:
            parts += ["", table(["why they differ", "list × value pairs", "example (type, value → list)", "explanation"],
                                [[f"`{cat}`", fmt_n(n),
                                  "; ".join(f"{e['type']} `{md_escape(e['value'], 50)}` → {md_escape(e['list'], 40)}"
                                            for e in c["examples"].get(cat, [])[:2]),
                                  CATEGORIES.get(cat, "")]
                                 for cat, n in c["categories"].items()])]
    if r.get("improved_changes"):
        changes: dict[str, dict[str, int]] = defaultdict(dict)
        for key, n in r["improved_changes"].items():
            name, _, side = key.rpartition(" (")
            changes[name][side.rstrip(")")] = n
        parts += ["", f"**`--improved` against MISP mode**, on the same {r['values']:,} values (list × value pairs "
                  "that change; the improvements are listed in `warninglist-contract.md` §3):", "",
                  table(["list", "hit with --improved only", "hit in MISP mode only"],
                        [[md_escape(name, 60), fmt_n(v.get("--improved only", 0)), fmt_n(v.get("MISP mode only", 0))]
                         for name, v in changes.items()])]
    return "\n".join(parts)


def cpu_s(x: dict) -> float | None:
    if x.get("user_s") is None:
        return None
    return (x.get("user_s") or 0) + (x.get("sys_s") or 0)


def run_row(label: str, x: dict, base: dict, wall: float | None = None, cpu: float | None = None) -> list[str]:
    """label | wall | CPU | peak RSS | wall vs base | CPU vs base; a phase (wall given) has no RSS of its own."""
    phase = wall is not None
    wall = x["wall_s"] if wall is None else wall
    cpu = cpu if phase else cpu_s(x)
    return [label, fmt_s(wall), fmt_s(cpu), "–" if phase else fmt_mib(x.get("max_rss_mib")),
            ratio(wall, base["wall_s"]), ratio(cpu, cpu_s(base))]


RUN_HEADER = ["run", "wall", "CPU (user+sys)", "peak RSS", "wall vs ours", "CPU vs ours"]


def render_correlation(r: dict) -> str:
    if not r:
        return "_Not run yet._"
    o, d = r["ours"], r["duckdb"]
    k = r["keys"]
    base = o["build"]
    rows = [
        run_row("ours: `correlate` (read, normalise, correlate, summary printed; no pairs written)", base, base),
        *([run_row("ours: `load` (read and normalise only: the part of the above that DuckDB is spared)",
                   o["read"], base),
           run_row("ours: correlation beyond reading, estimated as `correlate` − `load`", base, base,
                   wall=max(base["wall_s"] - o["read"]["wall_s"], 0.0),
                   cpu=max(cpu_s(base) - cpu_s(o["read"]), 0.0))] if "read" in o else []),
        run_row("ours: `correlate --pairs` (the same, every pair written as a JSON line)", o["with_pairs"], base),
        *([in_memory_row("ours: engine alone, the same attributes streamed from the generator in memory "
                         "(`misp-gen --correlate`: normalise, correlate, summary; no JSON)", o["in_memory"], base)]
          if "in_memory" in o else []),
        *([in_memory_row("ours: engine alone, the same attributes already in memory, as DuckDB's table is "
                         "(`misp-gen --correlate --preload`; peak RSS includes the preloaded attributes)",
                         o["preloaded"], base)]
          if "preloaded" in o else []),
        run_row(f"DuckDB, SQL only: read keys {fmt_s(d['ingest_s'])} + self-join {fmt_s(d['join_s'])}", d, base,
                wall=d["ingest_s"] + d["join_s"],
                cpu=d["ingest_cpu_s"] + d["join_cpu_s"] if "join_cpu_s" in d else None),
        run_row(f"DuckDB, whole process (Python start, import, the above, write Parquet {fmt_s(d['write_s'])})",
                d, base),
        ["(key preparation for DuckDB: Python JSON reading + `misp-correlate normalize`; not in DuckDB's time)",
         fmt_s(k.get("seconds")), "–", "–", "–", "–"],
    ]
    s_o, s_d = o["set"], d["set"]
    summary = o.get("summary", {})
    gen = r.get("generated")
    parts = [
        f"Corpus: `misp-gen --attributes {r['attributes']:,} --seed {r['seed']}`"
        + (f" ({gen['summary']}" + (f", generated in {fmt_s(gen['wall_s'])}" if gen.get("wall_s") else "") + ")"
           if gen else "")
        + f"; {k['attributes']:,} attributes read, {k['rejected']:,} refused by MISP's validation, {k['events']:,} events.",
        "",
        table(RUN_HEADER, rows),
        "",
        table(["pair set (exact kind)", "pairs", "distinct", "digest (sum of md5, mod 2⁶⁴)", "keys", "over-correlating"],
              [["ours", fmt_n(s_o["pairs"]), fmt_n(s_o["distinct"]), f"`{s_o['digest']}`",
                fmt_n(summary.get("keys")), fmt_n(summary.get("over-correlating keys"))],
               ["DuckDB", fmt_n(s_d["pairs"]), fmt_n(s_d["distinct"]), f"`{s_d['digest']}`",
                fmt_n(d["keys"]), fmt_n(d["over_correlating"])]]),
        "",
        f"Pairs only in ours: {r['ours_only']:,}; only in DuckDB: {r['duckdb_only']:,}: "
        + ("**the pair sets are equal**." if r["equal"]
           else "**the pair sets differ** (examples in target/compare/results.json)."),
    ]
    def same_counts(m: dict) -> str:
        same = (m["correlations"], m["keys"], m["over_correlating"]) == (s_d["pairs"], d["keys"], d["over_correlating"])
        return "the same as DuckDB's." if same else "**not** DuckDB's (see target/compare/results.json)."

    m = o.get("in_memory")
    if m:
        parts += ["", f"**From data in memory.** DuckDB's self-join starts from the keys already in its table; our "
                  f"engine alone, fed the same corpus from the generator (and normalising it on the way), takes "
                  f"{fmt_s(m['wall_s'])} ({fmt_s(m['cpu_s'])} CPU) against the self-join's {fmt_s(d['join_s'])}: "
                  f"**{ratio(d['join_s'], m['wall_s'])}**, and against DuckDB's SQL including reading the keys "
                  f"{ratio(d['ingest_s'] + d['join_s'], m['wall_s'])}. Its summary counts "
                  f"{m['correlations']:,} correlations, {m['keys']:,} keys and {m['over_correlating']:,} "
                  "over-correlating keys: " + same_counts(m)]
    p = o.get("preloaded")
    if p:
        parts += ["", f"**Both from a table in memory.** With the attributes generated into memory before the "
                  f"clock starts (`--preload`, {fmt_s(p.get('preload_s'))} untimed), as DuckDB's keys are loaded "
                  f"before its self-join, our engine alone takes {fmt_s(p['wall_s'])} ({fmt_s(p['cpu_s'])} CPU), "
                  f"still normalising every raw value and computing its match keys, which DuckDB is given "
                  f"ready: **{ratio(d['join_s'], p['wall_s'])}** the self-join's {fmt_s(d['join_s'])}. Its summary "
                  "counts are " + same_counts(p)]
    return "\n".join(parts)


def render_sqlite(r: dict) -> str:
    if not r:
        return "_Not run yet._"
    o, s = r["ours"], r["sqlite"]
    base = o["build"]
    rows = [
        run_row("ours: `correlate`", base, base),
        *([run_row("ours: `load` (read and normalise only)", o["read"], base)] if "read" in o else []),
        run_row("ours: `correlate --pairs`", o["with_pairs"], base),
        *([in_memory_row("ours: engine alone, the same attributes from the generator in memory "
                         "(`misp-gen --correlate`)", o["in_memory"], base)] if "in_memory" in o else []),
        run_row(f"MISP-style loop on SQLite, the loop only: {s['queries']:,} queries, {s['rows']:,} rows inserted",
                s, base, wall=s["loop_s"], cpu=s.get("loop_cpu_s")),
        run_row(f"SQLite, whole process (Python start, table load and indexes {fmt_s(s['setup_s'])}, the loop, "
                "pairs written)", s, base),
    ]
    parts = [
        f"Corpus: `misp-gen --attributes {r['attributes']:,} --seed {r['seed']}`; {s['attributes']:,} attributes "
        "in SQLite.",
        "",
        table(RUN_HEADER, rows),
        "",
        f"Pairs: ours {o['set']['pairs']:,}, MISP loop {s['set']['pairs']:,} ({s['blocked']:,} values blocked as "
        f"over-correlating); only in ours {r['ours_only']:,}, only in the MISP loop {r['sqlite_only']:,}.",
    ]
    m = o.get("in_memory")
    if m:
        parts += ["", f"**Both from data in memory**: the loop over attributes already in SQLite takes "
                  f"{fmt_s(s['loop_s'])}, our engine alone {fmt_s(m['wall_s'])} for the same corpus fed from the "
                  f"generator: **{ratio(s['loop_s'], m['wall_s'])}** (its summary: {m['correlations']:,} "
                  "correlations)."]
    if not r["ours_only"] and not r["sqlite_only"]:
        parts += ["", "**The pair sets are equal** on this corpus: no key falls between MISP's id-ordered blocking "
                  "and the contract's rule, and no composite attribute lost a half to quirk 1."]
    if r["differences"]:
        parts += ["", table(["difference", "pairs", "explanation"],
                            [[f"`{c}`", fmt_n(n), SQLITE_CATEGORIES.get(c, "")] for c, n in r["differences"].items()])]
    return "\n".join(parts)


def render_criterion(r: dict) -> str:
    if not r:
        return "_Not run yet._"
    if not r["results"]:
        return f"Bench files: {', '.join(r['benches'])}; no criterion results in target/criterion yet."
    rows = [[f"`{x['id']}`", fmt_s(x["mean_ns"] / 1e9), fmt_s(x["median_ns"] / 1e9), x.get("throughput", "–"),
             x["measured"]] for x in r["results"]]
    return (f"Bench files: {', '.join(r['benches'])}. "
            + ("Ran in this invocation." if r["ran"] else "Read from the last `cargo bench` run.") + "\n\n"
            + table(["benchmark", "mean", "median", "throughput", "measured"], rows))


def explained(w: dict) -> str:
    """How many (value, list) disagreements the documented categories explain."""
    total = unexplained = 0
    for key in ("vs_default", "vs_slow"):
        for cat, n in w[key]["categories"].items():
            total += n
            unexplained += n if cat.startswith("other-") else 0
    if not unexplained:
        return f"all {total:,} (value, list) disagreements fall in documented categories"
    return f"{total - unexplained:,} of {total:,} (value, list) disagreements fall in documented categories, " \
           f"{unexplained:,} do not (`other-*`)"


def render_summary(results: dict) -> str:
    lines = []
    w = results.get("warninglists")
    if w:
        runs = w["runs"]
        ours = runs["ours"]["values_per_s"]
        lines.append(
            f"{SECTION_LINES['summary']['warninglists']}: `misp-correlate check` {fmt_rate(ours)} values/s (MISP semantics) vs "
            f"pymispwarninglists {fmt_rate(runs['pymispwarninglists']['values_per_s'])} values/s in its exact-only "
            f"default mode ({ratio(ours, runs['pymispwarninglists']['values_per_s'])}) and "
            f"{fmt_rate(runs['pymispwarninglists slow_search']['values_per_s'])} values/s with `slow_search` "
            f"({ratio(ours, runs['pymispwarninglists slow_search']['values_per_s'])}); load "
            f"{fmt_s(runs['ours']['load_s'])} vs {fmt_s(runs['pymispwarninglists']['load_s'])} / "
            f"{fmt_s(runs['pymispwarninglists slow_search']['load_s'])}; peak RSS {fmt_mib(runs['ours']['max_rss_mib'])} vs "
            f"{fmt_mib(runs['pymispwarninglists']['max_rss_mib'])} / "
            f"{fmt_mib(runs['pymispwarninglists slow_search']['max_rss_mib'])}. "
            f"Same lists for {w['vs_slow']['values_agree']:,} of {w['vs_slow']['values']:,} sampled values against "
            f"`slow_search` and {w['vs_default']['values_agree']:,} of {w['vs_default']['values']:,} against the default "
            "mode; " + explained(w) + ".")
    c = results.get("correlation")
    if c:
        o, d = c["ours"], c["duckdb"]
        lines.append(
            f"{SECTION_LINES['summary']['correlation']}, {c['attributes']:,} attributes**: ours {fmt_s(o['build']['wall_s'])} end to end from "
            f"the JSON feed (peak {fmt_mib(o['build']['max_rss_mib'])}) vs DuckDB {fmt_s(d['ingest_s'] + d['join_s'])} "
            f"for its SQL alone from prepared keys ({ratio(d['ingest_s'] + d['join_s'], o['build']['wall_s'])} our "
            f"time; whole process {fmt_s(d['wall_s'])}, peak {fmt_mib(d['max_rss_mib'])})"
            + (f" (reading and normalising the JSON is {fmt_s(o['read']['wall_s'])} of ours; the correlation beyond "
               f"it, about {fmt_s(max(o['build']['wall_s'] - o['read']['wall_s'], 0.0))}, against DuckDB's "
               f"self-join {fmt_s(d['join_s'])})" if "read" in o else "")
            + (f"; from data in memory, our engine alone takes {fmt_s(o['in_memory']['wall_s'])} against DuckDB's "
               f"self-join {fmt_s(d['join_s'])} ({ratio(d['join_s'], o['in_memory']['wall_s'])})"
               if "in_memory" in o else "")
            + (f", or {fmt_s(o['preloaded']['wall_s'])} from attributes already in memory, as DuckDB's table is "
               f"({ratio(d['join_s'], o['preloaded']['wall_s'])})" if "preloaded" in o else "")
            + ". Pair sets: "
            + ("**equal**" if c["equal"] else "**different**")
            + f" ({o['set']['pairs']:,} pairs, digest `{o['set']['digest']}`).")
    q = results.get("sqlite")
    if q:
        o, s = q["ours"], q["sqlite"]
        lines.append(
            f"{SECTION_LINES['summary']['sqlite']}, {q['attributes']:,} attributes**: the one-query-per-attribute loop on SQLite takes "
            f"{fmt_s(s['loop_s'])} for the loop alone vs our {fmt_s(o['build']['wall_s'])} for everything "
            f"({ratio(s['loop_s'], o['build']['wall_s'])})"
            + (f", or {ratio(s['loop_s'], o['in_memory']['wall_s'])} against our engine alone from memory "
               f"({fmt_s(o['in_memory']['wall_s'])})" if "in_memory" in o else "")
            + "; pairs "
            + ("equal" if not q["ours_only"] and not q["sqlite_only"] else
               f"differ by {q['ours_only']:,} / {q['sqlite_only']:,} (explained below)") + ".")
    return "\n".join(lines) if lines else "_Not run yet._"


def merge_block(name: str, old: str, new: str, missing: list[str]) -> str:
    """The `name` block (summary or machine) from `new`, keeping from `old` the
    lines of the sections without results (`missing`): a run with --only where
    target/compare/results.json lacks the others (a fresh clone) leaves their
    figures as BENCHMARKS.md has them. Section lines keep SECTIONS order."""
    prefixes = SECTION_LINES[name]

    def section_of(line: str) -> str | None:
        return next((sec for sec, p in prefixes.items() if line.startswith(p)), None)

    new_lines = [line for line in new.splitlines() if line != "_Not run yet._"]
    head = [line for line in new_lines if section_of(line) is None]
    by_section = {sec: [line for line in new_lines if section_of(line) == sec] for sec in prefixes}
    for line in old.splitlines():
        sec = section_of(line)
        if sec in missing:
            by_section[sec].append(line)
    lines = head + [line for sec in SECTIONS if sec in by_section for line in by_section[sec]]
    return "\n".join(lines) if lines else "_Not run yet._"


def write_benchmarks(results: dict) -> None:
    blocks = {"summary": render_summary(results), "machine": render_machine(results),
              "warninglists": render_warninglists(results.get("warninglists")),
              "correlation": render_correlation(results.get("correlation")),
              "sqlite": render_sqlite(results.get("sqlite")),
              "criterion": render_criterion(results.get("criterion"))}
    missing = [sec for sec in SECTIONS if not results.get(sec)]
    text = BENCHMARKS.read_text(encoding="utf-8")
    for name, body in blocks.items():
        pattern = re.compile(rf"(<!-- BEGIN generated:{name} -->\n)(.*?)(<!-- END generated:{name} -->)", re.S)
        found = pattern.search(text)
        if not found:
            raise SystemExit(f"{BENCHMARKS}: no generated block `{name}`")
        old = found.group(2)
        if name in missing:
            continue  # no results for this section: its block stays
        if name in SECTION_LINES:
            body = merge_block(name, old, body, missing)
        text = pattern.sub(lambda m: m.group(1) + body.rstrip() + "\n" + m.group(3), text)
    BENCHMARKS.write_text(text, encoding="utf-8")
    log(f"wrote {BENCHMARKS}")


# ----------------------------------------------------------------------------------------------------------
# Summary on the terminal
# ----------------------------------------------------------------------------------------------------------

def print_summary(results: dict, ran: list[str]) -> None:
    print()
    if "warninglists" in ran:
        r = results["warninglists"]
        ours = r["runs"]["ours"]["values_per_s"]
        for label, x in r["runs"].items():
            print(f"warninglists  {label:32} {x['values_per_s']:>14,.0f} values/s  load {fmt_s(x['load_s']):>9}  "
                  f"peak {fmt_mib(x['max_rss_mib']):>9}  ours/peer {ours / x['values_per_s']:>9,.1f}×")
        for key in ("vs_default", "vs_slow"):
            c = r[key]
            print(f"warninglists  hits {key}: {c['values_agree']:,}/{c['values']:,} values agree; "
                  + ", ".join(f"{k} {v:,}" for k, v in c["categories"].items()))
    if "correlation" in ran:
        r = results["correlation"]
        o, d = r["ours"], r["duckdb"]
        print(f"correlation   {r['attributes']:,} attributes: ours {fmt_s(o['build']['wall_s'])} "
              f"({fmt_s(o['with_pairs']['wall_s'])} with pairs), DuckDB {fmt_s(d['wall_s'])} "
              f"(SQL {fmt_s(d['ingest_s'] + d['join_s'])}); DuckDB SQL/ours {(d['ingest_s'] + d['join_s']) / o['build']['wall_s']:.1f}×; "
              f"peak RSS ours {fmt_mib(o['with_pairs']['max_rss_mib'])}, DuckDB {fmt_mib(d['max_rss_mib'])}")
        if "in_memory" in o:
            m = o["in_memory"]
            print(f"correlation   from memory: our engine alone {fmt_s(m['wall_s'])} ({m['correlations']:,} pairs "
                  f"counted), DuckDB self-join {fmt_s(d['join_s'])}; join/ours {d['join_s'] / m['wall_s']:.1f}×")
        if "preloaded" in o:
            p = o["preloaded"]
            print(f"correlation   preloaded: our engine alone {fmt_s(p['wall_s'])} ({p['correlations']:,} pairs "
                  f"counted), DuckDB self-join {fmt_s(d['join_s'])}; join/ours {d['join_s'] / p['wall_s']:.1f}×")
        print(f"correlation   pairs ours {o['set']['pairs']:,} digest {o['set']['digest']}, DuckDB "
              f"{d['set']['pairs']:,} digest {d['set']['digest']}: {'EQUAL' if r['equal'] else 'DIFFERENT'}")
    if "sqlite" in ran:
        r = results["sqlite"]
        o, s = r["ours"], r["sqlite"]
        print(f"sqlite loop   {r['attributes']:,} attributes: ours {fmt_s(o['build']['wall_s'])}, MISP-style loop "
              f"{fmt_s(s['loop_s'])} ({s['queries']:,} queries); loop/ours {s['loop_s'] / o['build']['wall_s']:.0f}×; "
              f"pairs ours {o['set']['pairs']:,}, loop {s['set']['pairs']:,}; differences {r['differences']}")
        if "in_memory" in o:
            m = o["in_memory"]
            print(f"sqlite loop   from memory: our engine alone {fmt_s(m['wall_s'])}; loop/ours "
                  f"{s['loop_s'] / m['wall_s']:.0f}×")
    if "criterion" in ran:
        for x in results["criterion"]["results"]:
            print(f"criterion     {x['id']:50} mean {fmt_s(x['mean_ns'] / 1e9):>10}  {x.get('throughput', '')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 20k values, 100k-attribute correlation corpus, 20k for the SQLite loop")
    parser.add_argument("--only", default=",".join(SECTIONS[:3]),
                        help=f"comma-separated sections (default: warninglists,correlation,sqlite; "
                             f"criterion is read with --criterion or --only criterion)")
    parser.add_argument("--criterion", action="store_true", help="run `cargo bench -p misp-benches` once")
    parser.add_argument("--attributes", type=int, help="correlation corpus size (default 10M, quick 100k)")
    parser.add_argument("--sqlite-attributes", type=int, help="SQLite-loop corpus size (default 100k, quick 20k)")
    parser.add_argument("--slow-sample", type=int, help="values for slow_search (default 2000, quick 200)")
    parser.add_argument("--render", action="store_true",
                        help="only rewrite BENCHMARKS.md from the last results (target/compare/results.json)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run each timed command of ours, DuckDB and SQLite N times and keep the fastest")
    parser.add_argument("--timeout", type=int, default=3600,
                        help="end a measured command that runs longer than this many seconds (default 3600)")
    parser.add_argument("--write", dest="write", action="store_true", default=None, help="write BENCHMARKS.md")
    parser.add_argument("--no-write", dest="write", action="store_false", help="do not write BENCHMARKS.md")
    args = parser.parse_args()

    cfg = dict(QUICK if args.quick else FULL)
    if args.attributes:
        cfg["corr_attributes"] = args.attributes
    if args.sqlite_attributes:
        cfg["sqlite_attributes"] = args.sqlite_attributes
    if args.slow_sample:
        cfg["slow_sample"] = args.slow_sample
    sections = [s.strip() for s in args.only.split(",") if s.strip()]
    if args.criterion and "criterion" not in sections:
        sections.append("criterion")
    for s in sections:
        if s not in SECTIONS:
            raise SystemExit(f"unknown section {s!r}; sections: {', '.join(SECTIONS)}")
    write = args.write if args.write is not None else not args.quick
    global REPEAT, TIMEOUT
    REPEAT = max(args.repeat, 1)
    TIMEOUT = max(args.timeout, 1)
    cfg["repeat"] = REPEAT

    WORK.mkdir(parents=True, exist_ok=True)
    results_path = RESULTS.with_name("results-quick.json") if args.quick else RESULTS
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    if args.render:
        if not results:
            raise SystemExit(f"{results_path}: no results to render")
        write_benchmarks(results)
        return
    results["machine"] = machine()
    results["mode"] = "quick" if args.quick else "full"
    results["when"] = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    results["config"] = cfg
    for s in sections:
        log(f"section {s} (load average {load_average()})")
        start = time.perf_counter()
        if s == "warninglists":
            results[s] = run_warninglists(cfg)
        elif s == "correlation":
            results[s] = run_correlation(cfg)
        elif s == "sqlite":
            results[s] = run_sqlite(cfg)
        elif s == "criterion":
            previous = results.get(s, {})
            results[s] = run_criterion(args.criterion)
            if args.criterion:
                results[s]["bench_run"] = {"when": results["when"], "commit": results["machine"]["commit"],
                                           "load_average": results[s]["load_average"],
                                           "load_average_after": load_average()}
            elif previous.get("bench_run"):
                results[s]["bench_run"] = previous["bench_run"]
        results[s]["section_s"] = time.perf_counter() - start
        results[s]["run"] = {"when": results["when"], "commit": results["machine"]["commit"],
                             "mode": results["mode"], "repeat": REPEAT}
        results_path.write_text(json.dumps(results, indent=1, default=str))
    print_summary(results, sections)
    if write:
        write_benchmarks(results)


if __name__ == "__main__":
    main()
