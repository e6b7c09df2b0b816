"""Exact correlation in DuckDB: the same pair set as `misp-correlate correlate`, in SQL.

Input: the keys file of corr_keys.py. Output: a Parquet file of pairs
`(a, b, key)` with a < b (attribute uuids) and, on the last line of standard
output, a JSON object of figures `{"ingest_s", "join_s", "write_s", "ingest_cpu_s",
"join_cpu_s", "pairs", "keys", "over_correlating"}` (wall and CPU seconds).

The SQL is correlation-contract.md §6: per match key k, A(k) is the set of
eligible attributes carrying k (an attribute with equal value1/value2 keys
carries it once); k is over-correlating iff max over a of |others(a, k)| >
limit, which is |A(k)| - (the smallest per-event count of k); otherwise every
pair of A(k) in different events is one correlation.

Usage:
    python3 corr_duckdb.py --keys KEYS.jsonl --out PAIRS.parquet [--limit N | --no-limit]
                           [--threads N] [--memory-limit 8GB]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import duckdb

PAIRS_SQL = """
CREATE TEMP TABLE pairs AS
WITH per_event AS (
    SELECT key, event, count(*) AS n FROM keyed GROUP BY key, event
),
per_key AS (
    SELECT key, sum(n) AS total, min(n) AS smallest, count(*) AS events
    FROM per_event GROUP BY key
),
correlating AS (
    SELECT key FROM per_key
    WHERE events > 1 AND ({limit} IS NULL OR total - smallest <= {limit})
)
SELECT x.attr AS a, y.attr AS b, x.key AS key
FROM keyed x
JOIN keyed y ON x.key = y.key AND x.attr < y.attr AND x.event <> y.event
WHERE x.key IN (SELECT key FROM correlating)
"""


def cpu() -> float:
    """CPU time of this process so far, every thread (user + system)."""
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--no-limit", action="store_true")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--memory-limit", default=None)
    parser.add_argument("--temp-dir", type=Path, default=None)
    args = parser.parse_args()
    limit = "NULL" if args.no_limit else str(int(args.limit))

    con = duckdb.connect()
    if args.threads:
        con.execute(f"SET threads = {int(args.threads)}")
    if args.memory_limit:
        con.execute(f"SET memory_limit = '{args.memory_limit}'")
    if args.temp_dir:
        con.execute(f"SET temp_directory = '{args.temp_dir}'")
    con.execute("SET preserve_insertion_order = false")

    start, start_cpu = time.perf_counter(), cpu()
    con.execute(
        """
        CREATE TEMP TABLE attrs AS
        SELECT * FROM read_json(?, format = 'newline_delimited',
            columns = {id: 'BIGINT', attr: 'VARCHAR', event: 'VARCHAR', type: 'VARCHAR',
                       eligible: 'BOOLEAN', k1: 'VARCHAR', k2: 'VARCHAR'})
        """,
        [str(args.keys)],
    )
    con.execute(
        """
        CREATE TEMP TABLE keyed AS
        SELECT attr, event, k1 AS key FROM attrs WHERE eligible AND k1 IS NOT NULL
        UNION ALL
        SELECT attr, event, k2 AS key FROM attrs WHERE eligible AND k2 IS NOT NULL
        """
    )
    ingest_s, ingest_cpu_s = time.perf_counter() - start, cpu() - start_cpu

    start, start_cpu = time.perf_counter(), cpu()
    con.execute(PAIRS_SQL.format(limit=limit))
    join_s, join_cpu_s = time.perf_counter() - start, cpu() - start_cpu

    pairs = con.execute("SELECT count(*) FROM pairs").fetchone()[0]
    keys, over = con.execute(
        f"""
        WITH per_event AS (SELECT key, event, count(*) AS n FROM keyed GROUP BY key, event),
             per_key AS (SELECT key, sum(n) AS total, min(n) AS smallest FROM per_event GROUP BY key)
        SELECT count(*), count(*) FILTER (WHERE {limit} IS NOT NULL AND total - smallest > {limit})
        FROM per_key
        """
    ).fetchone()

    start = time.perf_counter()
    con.execute(f"COPY pairs TO '{args.out}' (FORMAT parquet)")
    write_s = time.perf_counter() - start
    print(json.dumps({"ingest_s": ingest_s, "join_s": join_s, "write_s": write_s,
                      "ingest_cpu_s": ingest_cpu_s, "join_cpu_s": join_cpu_s,
                      "pairs": pairs, "keys": keys, "over_correlating": over}))


if __name__ == "__main__":
    sys.exit(main())
