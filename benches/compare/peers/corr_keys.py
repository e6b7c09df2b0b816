"""Correlation keys of a MISP feed, for the SQL peers of the comparison.

Writes one JSON line per attribute that MISP would save:

    {"id": N, "attr": UUID, "event": UUID, "type": T, "eligible": B, "k1": K|null, "k2": K|null}

`id` numbers the attributes from 1 in reading order (events in file-name
order, then event attributes, then each object's attributes, as MISP's ids
grow when a feed is pulled); `k1`/`k2` are the correlation keys of value1 and
value2 as `correlation-contract.md` §4 defines them (match key: trailing
spaces removed, Unicode lower case), `null` where the half is not a key.
`eligible` is §3 (attribute and event correlation enabled, not deleted,
object not deleted, type not one of the twelve non-correlating types).

Normalisation (MISP's save pipeline: trim, refang, type-specific rewrites,
validation) is *not* re-implemented here: the values go through
`misp-correlate normalize`, the project's implementation of that pipeline,
exactly once. In MISP the database holds the saved (normalised) values, so
this file is what MISP's `attributes` table holds for correlation purposes,
and both SQL peers start from it. Values MISP would refuse are counted and
left out, as our engine leaves them out.

Usage:
    python3 corr_keys.py --feed DIR --cli PATH/misp-correlate --out KEYS.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# correlation-contract.md §3.
NON_CORRELATING = frozenset(
    "comment http-method aba-rtn gender counter integer float port nationality cortex boolean anonymised".split()
)
# correlation-contract.md §4: value2 of these types is never a key.
PRIMARY_ONLY = frozenset(["ip-src|port", "ip-dst|port", "hostname|port"])
IMAGE_EXTENSIONS = ("jpg", "jpeg", "png", "gif", "webp")


def flag(value, default: bool = False) -> bool:
    """A MISP boolean: true/false, 0/1 or "0"/"1"; null means not given."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if value in (0, 1, "0", "1"):
        return value in (1, "1")
    raise ValueError(f"not a MISP boolean: {value!r}")


def attribute_value(attribute: dict) -> str:
    """`value`, or `value1|value2` when only the halves are given (MISP's beforeValidate)."""
    value = attribute.get("value")
    if value:
        return value
    v1, v2 = attribute.get("value1"), attribute.get("value2")
    if v1 is not None and v2:
        return f"{v1}|{v2}"
    return v1 or ""


def disable_correlation(attribute: dict, value: str) -> bool:
    given = attribute.get("disable_correlation")
    if given is not None:
        return flag(given)
    if attribute.get("type") == "attachment" and "." in value:
        return value.rsplit(".", 1)[1].lower() in IMAGE_EXTENSIONS
    return False


def event_files(feed: Path) -> list[Path]:
    files = sorted(p for p in feed.iterdir() if p.suffix == ".json" and p.name != "manifest.json")
    if not files:
        raise SystemExit(f"{feed}: no event files")
    return files


def events_of(path: Path):
    """The event objects of one MISP JSON document."""
    with path.open(encoding="utf-8") as f:
        doc = json.load(f)
    docs = doc if isinstance(doc, list) else [doc]
    for d in docs:
        if "response" in d:
            for e in d["response"]:
                yield e.get("Event", e)
        else:
            yield d.get("Event", d)


def match_key(value: str) -> str:
    return value.rstrip(" ").lower()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feed", type=Path, required=True)
    parser.add_argument("--cli", type=Path, required=True, help="the misp-correlate binary")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    start = time.perf_counter()
    stats = {"events": 0, "attributes": 0, "rejected": 0, "duplicate_attributes": 0, "duplicate_events": 0}
    with tempfile.TemporaryDirectory(dir=args.out.parent) as tmp:
        raw_path = Path(tmp) / "raw.tsv"
        meta_path = Path(tmp) / "meta.jsonl"
        norm_path = Path(tmp) / "normalized.jsonl"
        seen_events: set[str] = set()
        seen_attributes: set[str] = set()
        # Pass 1: the feed's attributes, raw values to raw.tsv (one per line)
        # and what eligibility needs to meta.jsonl, line for line.
        with raw_path.open("w", encoding="utf-8", newline="") as raw, meta_path.open("w", encoding="utf-8") as meta:
            for path in event_files(args.feed):
                for event in events_of(path):
                    event_uuid = str(event.get("uuid", "")).lower()
                    if event_uuid in seen_events:
                        stats["duplicate_events"] += 1
                        continue
                    seen_events.add(event_uuid)
                    stats["events"] += 1
                    event_off = flag(event.get("disable_correlation"))
                    members = [(a, False) for a in event.get("Attribute") or []]
                    for obj in event.get("Object") or []:
                        gone = flag(obj.get("deleted"))
                        members.extend((a, gone) for a in obj.get("Attribute") or [])
                    for n, (a, object_deleted) in enumerate(members):
                        ty = a.get("type", "")
                        value = attribute_value(a)
                        if "\n" in value or "\r" in value:
                            raise SystemExit(
                                f"{path}: attribute {a.get('uuid')}: a value with a line break cannot be "
                                "passed to `misp-correlate normalize` line by line"
                            )
                        uuid = str(a.get("uuid") or f"{event_uuid}:{n}").lower()
                        if uuid in seen_attributes:
                            stats["duplicate_attributes"] += 1
                            continue
                        seen_attributes.add(uuid)
                        eligible = not (
                            event_off
                            or object_deleted
                            or flag(a.get("deleted"))
                            or disable_correlation(a, value)
                            or ty in NON_CORRELATING
                        )
                        raw.write(f"{ty}\t{value}\n")
                        meta.write(json.dumps([uuid, event_uuid, ty, eligible]) + "\n")
        seen_attributes.clear()
        # MISP's save pipeline, in one process.
        with norm_path.open("wb") as norm:
            subprocess.run([str(args.cli), "normalize", str(raw_path)], stdout=norm, check=True)
        # Pass 2: keys of the attributes MISP would save.
        next_id = 1
        with meta_path.open(encoding="utf-8") as meta, norm_path.open(encoding="utf-8") as norm, \
                args.out.open("w", encoding="utf-8") as out:
            for meta_line, norm_line in zip(meta, norm, strict=True):
                uuid, event_uuid, ty, eligible = json.loads(meta_line)
                result = json.loads(norm_line)
                stats["attributes"] += 1
                if "normalized" not in result:
                    stats["rejected"] += 1
                    continue
                value = result["normalized"]
                if ty == "malware-sample" or "|" in ty:
                    value1, _, value2 = value.partition("|")
                else:
                    value1, value2 = value, ""
                k1 = match_key(value1)
                k2 = match_key(value2) if value2 != "" and ty not in PRIMARY_ONLY else None
                if k2 == k1:
                    k2 = None
                row = {"id": next_id, "attr": uuid, "event": event_uuid, "type": ty,
                       "eligible": eligible, "k1": k1, "k2": k2}
                next_id += 1
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
    stats["seconds"] = time.perf_counter() - start
    print(json.dumps(stats))


if __name__ == "__main__":
    sys.exit(main())
