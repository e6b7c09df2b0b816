"""pymispwarninglists as a warninglist checker, for the side-by-side comparison.

Reads `type<TAB>value` lines and writes, per line, one JSON object
`{"type": T, "value": V, "lists": [NAME, ...]}` (list names sorted), in input
order, to OUT. The last line of standard output is one JSON object of
figures: `{"load_s", "check_s", "values", "lists"}`.

pymispwarninglists has no notion of attribute type: `search(value)` gets the
value alone and returns every list object that contains it (see
misp-warninglist-reference.md §3). The type column is passed through to the
output only so that the comparison can line the rows up.

Usage:
    python3 wl_pymisp.py --lists DIR --values FILE --out OUT [--slow]
                         [--limit N] [--every K]

`--every K` keeps every K-th line (1-based lines 1, K+1, 2K+1, ...), after
which `--limit N` keeps the first N of those: a deterministic sample spread
over the shuffled file.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def read_values(path: Path, every: int, limit: int | None) -> list[tuple[str, str]]:
    """The (type, value) pairs of the sample, in file order."""
    rows: list[tuple[str, str]] = []
    with path.open(encoding="utf-8", newline="") as f:
        for n, line in enumerate(f):
            if n % every:
                continue
            line = line[:-2] if line.endswith("\r\n") else line.rstrip("\n")
            ty, tab, value = line.partition("\t")
            if not tab:
                raise SystemExit(f"{path}:{n + 1}: no TAB between type and value: {line!r}")
            rows.append((ty, value))
            if limit is not None and len(rows) >= limit:
                break
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lists", type=Path, required=True, help="misp-warninglists directory (with lists/)")
    parser.add_argument("--values", type=Path, required=True, help="type<TAB>value file")
    parser.add_argument("--out", type=Path, required=True, help="JSON lines written here")
    parser.add_argument("--slow", action="store_true", help="slow_search=True")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--every", type=int, default=1)
    args = parser.parse_args()

    if not (args.lists / "lists").is_dir():
        raise SystemExit(f"{args.lists}: not a misp-warninglists directory (no lists/ inside)")
    rows = read_values(args.values, max(args.every, 1), args.limit)

    from pymispwarninglists import WarningLists  # imported late: its import is not load time

    start = time.perf_counter()
    lists = WarningLists(slow_search=args.slow, path_to_repo=args.lists)
    load_s = time.perf_counter() - start

    start = time.perf_counter()
    results = [sorted(wl.name for wl in lists.search(value)) for _, value in rows]
    check_s = time.perf_counter() - start

    with args.out.open("w", encoding="utf-8") as out:
        for (ty, value), names in zip(rows, results):
            out.write(json.dumps({"type": ty, "value": value, "lists": names}, ensure_ascii=False))
            out.write("\n")
    print(json.dumps({"load_s": load_s, "check_s": check_s, "values": len(rows), "lists": len(lists)}))


if __name__ == "__main__":
    sys.exit(main())
