"""MISP's full re-correlation, as MISP does it, on SQLite: one query per attribute value.

This is the loop of MISP's `Correlation::generateCorrelation()` with
`afterSaveCorrelation($attribute, full = true)` (misp-correlation-reference.md
§5, §7.2, §12), on MISP's table layout, in SQLite instead of MySQL:

* for each event with correlation enabled (by id), for each of its
  attributes that can correlate (by id), for each correlating value v
  (value1, then value2):
  * skip v if it is already blocked (`over_correlating_values`);
  * `SELECT id, event_id FROM attributes JOIN events ... WHERE (value1 = v OR
    value2 = v) AND event_id <> this event AND id > this id AND <eligible>
    LIMIT limit + 1`;
  * more than `limit` candidates: block v and drop every correlation of this
    attribute, value2 included (MISP returns at once: quirk 1);
  * else one row per candidate into `default_correlations`, the value's id
    taken from `correlation_values` (inserted when new), rows inserted in
    chunks of 100;
* one transaction per event.

The attribute table holds what MISP's holds after save: the normalised
values. Its `value1`/`value2` columns hold the correlation keys from
corr_keys.py (MISP compares under a case-insensitive collation; here the
values are stored lower-cased and compared with `=`, indexed, which is the
same equality for every value and lets SQLite use its indexes).

Output: the pair set as JSON lines `{"a", "b", "key"}` (attribute uuids,
a < b) and, on the last line of standard output, the figures
`{"setup_s", "loop_s", "loop_cpu_s", "queries", "rows", "blocked", "attributes"}`.

Usage:
    python3 corr_sqlite_loop.py --keys KEYS.jsonl --db FILE.sqlite --out PAIRS.jsonl [--limit 20]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time
from pathlib import Path

NON_CORRELATING = (
    "comment", "http-method", "aba-rtn", "gender", "counter", "integer", "float", "port",
    "nationality", "cortex", "boolean", "anonymised",
)
NC_SQL = ", ".join(f"'{t}'" for t in NON_CORRELATING)

SCHEMA = """
CREATE TABLE events (
    id INTEGER PRIMARY KEY, uuid TEXT NOT NULL UNIQUE, disable_correlation INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE attributes (
    id INTEGER PRIMARY KEY, uuid TEXT NOT NULL, event_id INTEGER NOT NULL, object_id INTEGER NOT NULL DEFAULT 0,
    type TEXT NOT NULL, value1 TEXT, value2 TEXT,
    disable_correlation INTEGER NOT NULL DEFAULT 0, deleted INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE correlation_values (id INTEGER PRIMARY KEY, value TEXT NOT NULL UNIQUE);
CREATE TABLE over_correlating_values (id INTEGER PRIMARY KEY, value TEXT NOT NULL UNIQUE, occurrence INTEGER);
CREATE TABLE default_correlations (
    id INTEGER PRIMARY KEY, attribute_id INTEGER NOT NULL, object_id INTEGER NOT NULL DEFAULT 0,
    event_id INTEGER NOT NULL, "1_attribute_id" INTEGER NOT NULL, "1_object_id" INTEGER NOT NULL DEFAULT 0,
    "1_event_id" INTEGER NOT NULL, value_id INTEGER NOT NULL,
    UNIQUE (attribute_id, "1_attribute_id", value_id)
);
"""
INDEXES = """
CREATE INDEX attributes_value1 ON attributes (value1);
CREATE INDEX attributes_value2 ON attributes (value2);
CREATE INDEX attributes_event_id ON attributes (event_id);
CREATE INDEX correlations_event_id ON default_correlations (event_id);
CREATE INDEX correlations_1_event_id ON default_correlations ("1_event_id");
CREATE INDEX correlations_1_attribute_id ON default_correlations ("1_attribute_id");
CREATE INDEX correlations_value_id ON default_correlations (value_id);
"""

CANDIDATES = f"""
SELECT a.id, a.event_id FROM attributes a JOIN events e ON e.id = a.event_id
WHERE (a.value1 = ?1 OR a.value2 = ?1) AND a.event_id <> ?2 AND a.id > ?3
  AND a.deleted = 0 AND a.disable_correlation = 0 AND e.disable_correlation = 0
  AND a.type NOT IN ({NC_SQL})
LIMIT ?4
"""


def setup(con: sqlite3.Connection, keys: Path) -> int:
    """Loads the keys file into MISP's tables; returns the attribute count."""
    con.executescript(SCHEMA)
    event_ids: dict[str, int] = {}
    rows = []
    with keys.open(encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            eid = event_ids.setdefault(r["event"], len(event_ids) + 1)
            # An ineligible attribute is stored with correlation disabled:
            # the query filters it exactly as MISP filters deleted,
            # disabled and non-correlating rows.
            rows.append((r["id"], r["attr"], eid, r["type"], r["k1"], r["k2"], 0 if r["eligible"] else 1))
    con.executemany("INSERT INTO events (id, uuid) VALUES (?, ?)", ((i, u) for u, i in event_ids.items()))
    con.executemany(
        "INSERT INTO attributes (id, uuid, event_id, type, value1, value2, disable_correlation) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    con.executescript(INDEXES)
    con.commit()
    con.execute("ANALYZE")
    return len(rows)


def recorrelate(con: sqlite3.Connection, limit: int) -> dict[str, int]:
    """MISP's full re-correlation loop; returns counters."""
    con.execute("DELETE FROM default_correlations")
    con.execute("DELETE FROM over_correlating_values")
    con.commit()
    queries = rows_inserted = 0
    blocked: set[str] = set()
    events = [r[0] for r in con.execute("SELECT id FROM events WHERE disable_correlation = 0 ORDER BY id")]
    for event_id in events:
        attributes = con.execute(
            f"SELECT id, value1, value2 FROM attributes WHERE event_id = ? AND deleted = 0 "
            f"AND disable_correlation = 0 AND type NOT IN ({NC_SQL}) ORDER BY id",
            (event_id,),
        ).fetchall()
        for attribute_id, value1, value2 in attributes:
            values = [v for v in (value1, value2) if v is not None]
            pending: list[tuple[int, int, int, int, int]] = []
            for value in values:
                if value in blocked:
                    continue
                candidates = con.execute(CANDIDATES, (value, event_id, attribute_id, limit + 1)).fetchall()
                queries += 1
                if len(candidates) > limit:
                    blocked.add(value)
                    con.execute("INSERT OR IGNORE INTO over_correlating_values (value, occurrence) VALUES (?, 0)",
                                (value,))
                    pending = []
                    break
                if not candidates:
                    continue
                con.execute("INSERT OR IGNORE INTO correlation_values (value) VALUES (?)", (value,))
                value_id = con.execute("SELECT id FROM correlation_values WHERE value = ?", (value,)).fetchone()[0]
                pending.extend((attribute_id, event_id, other, other_event, value_id)
                               for other, other_event in candidates)
            for i in range(0, len(pending), 100):
                con.executemany(
                    'INSERT INTO default_correlations (attribute_id, event_id, "1_attribute_id", "1_event_id", '
                    "value_id) VALUES (?, ?, ?, ?, ?)",
                    pending[i:i + 100],
                )
            rows_inserted += len(pending)
        con.commit()
    return {"queries": queries, "rows": rows_inserted, "blocked": len(blocked)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=Path, required=True)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=20)
    args = parser.parse_args()

    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(args.db) + suffix).unlink(missing_ok=True)
    con = sqlite3.connect(args.db)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA synchronous = NORMAL")

    start = time.perf_counter()
    attributes = setup(con, args.keys)
    setup_s = time.perf_counter() - start

    start, start_cpu = time.perf_counter(), time.process_time()
    counters = recorrelate(con, args.limit)
    loop_s, loop_cpu_s = time.perf_counter() - start, time.process_time() - start_cpu

    with args.out.open("w", encoding="utf-8") as out:
        for a, b, key in con.execute(
            'SELECT x.uuid, y.uuid, v.value FROM default_correlations c '
            'JOIN attributes x ON x.id = c.attribute_id JOIN attributes y ON y.id = c."1_attribute_id" '
            "JOIN correlation_values v ON v.id = c.value_id"
        ):
            lo, hi = (a, b) if a < b else (b, a)
            out.write(json.dumps({"a": lo, "b": hi, "key": key}, ensure_ascii=False) + "\n")
    con.close()
    print(json.dumps({"setup_s": setup_s, "loop_s": loop_s, "loop_cpu_s": loop_cpu_s, "attributes": attributes, **counters}))


if __name__ == "__main__":
    sys.exit(main())
