"""Checks of the comparison's own logic (no tools run): `python3 -m unittest benches/compare/test_compare.py`.

The examples are the golden vectors of misp-warninglist-reference.md §2.10 and
§3.3, where MISP and pymispwarninglists are known to differ.
"""

from __future__ import annotations

import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import compare  # noqa: E402


def lst(ltype: str, entries: list[str], attrs: list[str] | None = None) -> dict:
    return {"type": ltype, "matching_attributes": attrs or [], "entries": set(entries)}


def row(ty: str, value: str) -> dict:
    return {"type": ty, "value": value}


def hit(match: str, value: str) -> dict:
    return {"match": match, "value": value}


class Categorise(unittest.TestCase):
    def test_type_gate(self):
        info = lst("hostname", ["example.com"], ["hostname", "domain"])
        self.assertEqual(compare.categorise(row("url", "https://example.com/"), info, None, "slow"), "type-gate")

    def test_leading_dot_entry_matches_the_bare_domain_in_misp_only(self):
        info = lst("hostname", [".duckdns.org"], ["domain"])
        got = compare.categorise(row("domain", "duckdns.org"), info, hit("duckdns.org", "duckdns.org"), "slow")
        self.assertEqual(got, "leading-dot-entry")

    def test_upper_case_entry(self):
        info = lst("hostname", ["EXAMPLE.com"], ["domain"])
        got = compare.categorise(row("domain", "a.example.com"), info, hit("example.com", "a.example.com"), "slow")
        self.assertEqual(got, "entry-normalised")

    def test_url_without_scheme(self):
        info = lst("hostname", ["example.com"], ["url"])
        got = compare.categorise(row("url", "www.example.com/x"), info, hit("example.com", "www.example.com/x"), "slow")
        self.assertEqual(got, "url-without-scheme")

    def test_port_in_url_matches_in_pymisp_only(self):
        info = lst("hostname", ["example.com"], ["url"])
        got = compare.categorise(row("url", "https://www.example.com:8443/x"), info, None, "slow")
        self.assertEqual(got, "url-host-parsing")

    def test_cidr_value(self):
        info = lst("cidr", ["10.0.0.0/8"], ["ip-dst"])
        got = compare.categorise(row("ip-dst", "10.1.2.3/16"), info, hit("10.0.0.0/8", "10.1.2.3/16"), "slow")
        self.assertEqual(got, "cidr-range-value")

    def test_default_mode_is_exact_only(self):
        info = lst("cidr", ["8.8.8.0/24"], ["ip-dst"])
        got = compare.categorise(row("ip-dst", "8.8.8.9"), info, hit("8.8.8.0/24", "8.8.8.9"), "default")
        self.assertEqual(got, "default-exact-only-cidr")

    def test_composite_and_regex(self):
        info = lst("cidr", ["8.8.8.8/32"], ["domain|ip"])
        got = compare.categorise(row("domain|ip", "foo.example|8.8.8.8"), info, hit("8.8.8.8/32", "8.8.8.8"), "slow")
        self.assertEqual(got, "composite-split")
        info = lst("regex", ["/^\\+1555/"], ["phone-number"])
        got = compare.categorise(row("phone-number", "+15555501234"), info, hit("/^\\+1555/", "+15555501234"), "slow")
        self.assertEqual(got, "regex-never-evaluated")

    def test_every_category_is_explained(self):
        for cat in ("type-gate", "url-host-parsing", "dropped-entry", "composite-split", "regex-never-evaluated",
                    "leading-dot-entry", "entry-normalised", "url-without-scheme", "trailing-dot",
                    "cidr-range-value", "other-ours-only", "other-pymisp-only"):
            self.assertIn(cat, compare.CATEGORIES)
        for ltype in ("cidr", "hostname", "substring", "string"):
            self.assertIn(f"default-exact-only-{ltype}", compare.CATEGORIES)


class CompareHits(unittest.TestCase):
    def test_counts_per_list(self):
        lists = {"A": lst("string", ["x"]), "B": lst("hostname", ["example.com"], ["domain"])}
        ours = [{"type": "domain", "value": "x", "hits": [{"list": "A", "match": "x", "value": "x"}]},
                {"type": "domain", "value": "www.example.com",
                 "hits": [{"list": "B", "match": "example.com", "value": "www.example.com"}]}]
        theirs = [{"type": "domain", "value": "x", "lists": ["A"]},
                  {"type": "domain", "value": "www.example.com", "lists": []}]
        got = compare.compare_hits(ours, theirs, lists, "default")
        self.assertEqual(got["values_agree"], 1)
        self.assertEqual(got["per_list"], {"A": {"both": 1}, "B": {"ours_only": 1}})
        self.assertEqual(got["categories"], {"default-exact-only-hostname": 1})

    def test_rows_out_of_step_are_refused(self):
        with self.assertRaises(SystemExit):
            compare.compare_hits([{"type": "domain", "value": "a", "hits": []}],
                                 [{"type": "domain", "value": "b", "lists": []}], {}, "default")


class Sampling(unittest.TestCase):
    def test_every_kth_line(self):
        with tempfile.TemporaryDirectory() as tmp:
            src, dst = Path(tmp) / "in.tsv", Path(tmp) / "out.tsv"
            src.write_text("".join(f"domain\tv{i}\n" for i in range(10)))
            self.assertEqual(compare.sample_rows(src, dst, 3, None), 4)
            self.assertEqual(dst.read_text().split(), ["domain", "v0", "domain", "v3", "domain", "v6", "domain", "v9"])
            self.assertEqual(compare.sample_rows(src, dst, 3, 2), 2)



class MergeBlock(unittest.TestCase):
    """A run of some sections keeps the other sections' lines of BENCHMARKS.md."""

    OLD_MACHINE = "\n".join([
        "- CPU: old",
        "- rustc old",
        "- `warninglists`: run old-w",
        "- `correlation`: run old-c",
        "- `sqlite`: run old-s",
    ])

    def test_missing_sections_keep_their_lines_in_order(self):
        new = "\n".join(["- CPU: new", "- rustc new", "- `correlation`: run new-c"])
        merged = compare.merge_block("machine", self.OLD_MACHINE, new, ["warninglists", "sqlite", "criterion"])
        self.assertEqual(merged.splitlines(), [
            "- CPU: new", "- rustc new",
            "- `warninglists`: run old-w", "- `correlation`: run new-c", "- `sqlite`: run old-s",
        ])

    def test_a_full_run_replaces_everything(self):
        new = "\n".join(["- CPU: new", "- `sqlite`: run new-s"])
        merged = compare.merge_block("machine", self.OLD_MACHINE, new, [])
        self.assertEqual(merged.splitlines(), ["- CPU: new", "- `sqlite`: run new-s"])

    def test_summary_lines_follow_the_sections(self):
        old = "- **Warninglists**: old\n- **Correlation, 10 attributes**: old\n- **MISP's method, 5**: old"
        new = "- **Correlation, 20 attributes**: new"
        merged = compare.merge_block("summary", old, new, ["warninglists", "sqlite", "criterion"])
        self.assertEqual(merged.splitlines(), [
            "- **Warninglists**: old", "- **Correlation, 20 attributes**: new", "- **MISP's method, 5**: old",
        ])
        self.assertEqual(compare.merge_block("summary", "_Not run yet._", "_Not run yet._", list(compare.SECTIONS)),
                         "_Not run yet._")


if __name__ == "__main__":
    unittest.main()
