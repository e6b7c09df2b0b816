"""Warninglists through the C library."""

import gc
import threading

import pytest

import misp_correlate
from misp_correlate import warninglists
from misp_correlate.warninglists import _JOIN_PAIRS, join_pairs, pack_strings

RFC1918 = "List of RFC 1918 CIDR blocks"
DAX30 = "List of known dax30 webpages"


@pytest.fixture
def lists_path(root):
    return root / "misp-ffi" / "tests" / "data" / "warninglists"


@pytest.fixture
def wl(lists_path):
    with misp_correlate.Warninglists(lists_path) as lists:
        yield lists


def test_check_returns_cli_shaped_hits(wl):
    assert wl.check("ip-dst", "10.1.2.3") == [
        {"list": RFC1918, "list_type": "cidr", "match": "10.0.0.0/8", "value": "10.1.2.3"}
    ]
    assert wl.check("ip-dst", "8.8.8.8") == []


def test_composite_values_are_split(wl):
    hits = wl.check("domain|ip", "www.bmw.de|192.168.1.1")
    assert [(h["list"], h["value"]) for h in hits] == [
        (RFC1918, "192.168.1.1"),
        (DAX30, "www.bmw.de"),
    ]


def test_check_many_equals_check_one_by_one(wl):
    pairs = [
        ("ip-src", "192.168.0.1"),
        ("md5", "d41d8cd98f00b204e9800998ecf8427e"),
        ("domain", "misp-project.org"),
        ("hostname", "www.bmw.de"),
        ("email-src", "abuse@example.com"),
        ("url", "https://app.any.run/tasks/1"),
        ("domain", "bücher.bmw.de"),  # non-ASCII: the slow packing path
        (b"ip-dst", b"10.0.0.1"),  # bytes
    ]
    many = wl.check_many(pairs)
    assert many == [wl.check(t, v) for t, v in pairs]
    assert [len(h) for h in many] == [1, 1, 0, 1, 1, 1, 1, 1]
    assert wl.check_many([]) == []


def test_join_and_pack_strings():
    assert join_pairs([("md5", "é"), ("", "ab")]) == "md5\0é\0\0ab".encode()
    assert join_pairs([("md5", b"\xff")]) == b"md5\0\xff"
    assert join_pairs([("", "")]) == b"\0"
    assert join_pairs([]) == b""
    # Joined part by part: str, non-ASCII and bytes parts.
    pairs = [("md5", f"{i}") for i in range(3 * _JOIN_PAIRS + 5)]
    pairs[_JOIN_PAIRS + 1] = ("domain", "bücher.example")
    pairs[2 * _JOIN_PAIRS + 7] = (b"ip-dst", b"10.0.0.1")
    assert join_pairs(pairs) == b"\0".join(
        s if isinstance(s, bytes) else s.encode() for pair in pairs for s in pair
    )
    data, lens = pack_strings(["text", "a\0é", ""])
    assert (data, list(lens)) == ("texta\0é".encode(), [4, 4, 0])
    data, lens = pack_strings(["text", b"\0\xff"])
    assert (data, list(lens)) == (b"text\0\xff", [4, 2])


def test_batch_hits_is_a_lazy_sequence(wl):
    pairs = [("ip-src", "192.168.0.1"), ("md5", "0" * 32), ("hostname", "www.bmw.de"), ("ip-dst", "10.1.2.3")]
    expected = [wl.check(t, v) for t, v in pairs]
    many = wl.check_many(pairs)
    assert isinstance(many, misp_correlate.BatchHits)
    assert len(many) == 4 and many.hit_count == sum(map(len, expected))
    assert repr(many) == f"<BatchHits: 4 queries, {many.hit_count} hits>"
    # Indexing decodes one query; the same list object comes back.
    assert many[2] == expected[2] and many[-1] == expected[3] and many[1] == []
    assert many[2] is many[2]
    assert many[1:3] == expected[1:3] and many[::-1] == expected[::-1]
    with pytest.raises(IndexError):
        many[4]
    with pytest.raises(IndexError):
        many[-5]
    assert list(many.matched()) == [(i, hits) for i, hits in enumerate(expected) if hits]
    # Decoding everything keeps the lists already handed out.
    first = many[0]
    assert many.tolist() == expected and many.tolist()[0] is first
    assert many == expected and many == wl.check_many(pairs) and many != expected[:3]
    assert list(many) == expected and list(reversed(many)) == expected[::-1]
    empty = wl.check_many([])
    assert len(empty) == 0 and empty == [] and empty.hit_count == 0 and list(empty.matched()) == []


def test_check_many_rejects_odd_input(wl):
    with pytest.raises((ValueError, TypeError)):
        wl.check_many([("ip-dst",)])


def test_check_many_of_a_large_batch_and_an_iterator(wl):
    pairs = [("ip-dst", f"10.{i % 256}.{i // 256}.1") for i in range(3 * _JOIN_PAIRS)]
    pairs += [("domain", "www.bmw.de"), ("text", "a\0b")]
    expected = [wl.check(t, v) for t, v in pairs]
    assert wl.check_many(iter(pairs)) == expected
    hits = wl.check_many(tuple(pairs))
    gc.collect()  # the result owns the library's buffer
    assert hits.tolist() == expected and hits.hit_count == sum(map(len, expected))


def test_check_many_in_background_parts(wl, monkeypatch):
    """Batches longer than a part are pushed part by part to a background
    batch; the result is the same, in order, whatever part a special
    string falls in."""
    monkeypatch.setattr(warninglists, "_PART_PAIRS", 5)
    base = [
        ("ip-dst", "10.1.2.3"),
        ("hostname", "www.bmw.de"),
        ("md5", "d41d8cd98f00b204e9800998ecf8427e"),
        ("domain", "bücher.bmw.de"),
        (b"ip-src", b"192.168.7.7"),
        ("url", "https://app.any.run/tasks/1"),
        ("ip-dst", "8.8.8.8"),
    ]
    pairs = base * 7
    expected = [wl.check(t, v) for t, v in pairs]
    for n in (4, 5, 6, 10, 11, len(pairs)):
        assert wl.check_many(pairs[:n]) == expected[:n], n
    # A NUL byte inside a string of a later part: the library refuses
    # the NUL-separated parts and the call falls back to lengths.
    with_nul = pairs + [("text", "a\0b")] + pairs[:3]
    assert wl.check_many(with_nul) == expected + [wl.check("text", "a\0b")] + expected[:3]
    with pytest.raises((ValueError, TypeError)):
        wl.check_many(pairs + [("ip-dst",)])


def test_improvements(lists_path):
    with misp_correlate.Warninglists(lists_path) as misp:
        assert misp.check("hostname", "WWW.BMW.DE") == []
    with misp_correlate.Warninglists(lists_path, improvements=["lowercase_hosts"]) as improved:
        assert [h["list"] for h in improved.check("hostname", "WWW.BMW.DE")] == [DAX30]
    with pytest.raises(ValueError, match="unknown warninglist improvement"):
        misp_correlate.Warninglists(lists_path, improvements=["nope"])
    with pytest.raises(misp_correlate.InvalidArgumentError, match="unknown bits"):
        misp_correlate.Warninglists(lists_path, improvements=1 << 20)


def test_enable_disable_and_custom_lists(wl):
    wl.set_enabled(RFC1918, False)
    assert wl.check("ip-dst", "10.1.2.3") == []
    wl.set_enabled(RFC1918)
    assert len(wl.check("ip-dst", "10.1.2.3")) == 1
    with pytest.raises(misp_correlate.InvalidArgumentError, match="nope"):
        wl.set_enabled("nope", False)

    wl.add_list({"name": "custom", "type": "hostname", "list": ["evil.example"], "matching_attributes": ["domain"]})
    assert [h["list"] for h in wl.check("domain", "a.evil.example")] == ["custom"]
    assert wl.check("hostname", "a.evil.example") == []  # not in matching_attributes
    with pytest.raises(misp_correlate.WarninglistError, match="already loaded"):
        wl.add_list({"name": "custom", "type": "string", "list": ["x"]})
    with pytest.raises(misp_correlate.WarninglistError, match="<input>"):
        wl.add_list('{"name": "x", "list": [')


def test_report(wl):
    report = wl.report()
    names = {row["name"]: row for row in report["lists"]}
    assert len(names) == 6
    assert names[RFC1918]["type"] == "cidr"
    assert names[RFC1918]["entries"] == 3
    assert names[RFC1918]["enabled"] is True
    assert report["errors"] == []


def test_missing_path_raises_os_error():
    with pytest.raises(misp_correlate.MispIOError, match="/nonexistent") as info:
        misp_correlate.Warninglists("/nonexistent")
    assert isinstance(info.value, OSError)


def test_use_after_close_raises(lists_path):
    wl = misp_correlate.Warninglists(lists_path)
    wl.close()
    wl.close()  # idempotent
    with pytest.raises(ValueError, match="closed"):
        wl.check("ip-dst", "10.1.2.3")


def test_concurrent_checks_from_threads(wl):
    expected = wl.check_many([("ip-dst", f"10.0.{i}.1") for i in range(200)])
    results = []

    def worker():
        for _ in range(20):
            results.append(wl.check_many([("ip-dst", f"10.0.{i}.1") for i in range(200)]) == expected)
            results.append(wl.check("ip-dst", "10.9.9.9")[0]["list"] == RFC1918)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 160 and all(results)


PAIRS = [
    ("ip-src", "192.168.0.1"),
    ("md5", "d41d8cd98f00b204e9800998ecf8427e"),
    ("domain", "misp-project.org"),
    ("hostname", "www.bmw.de"),
    ("domain|ip", "www.bmw.de|10.0.0.1"),
    ("email-src", "abuse@example.com"),
    ("url", "https://app.any.run/tasks/1"),
    ("ip-dst", "10.1.2.3"),
    ("domain", "évil.example"),
]


def test_check_many_gives_fresh_lists_and_dicts(wl):
    hits = wl.check_many(PAIRS + PAIRS)
    assert len(hits) == 2 * len(PAIRS)
    hits[2].append("mine")  # every query's list is its own object
    assert hits[2 + len(PAIRS)] == []
    hits[0][0]["list"] = "changed"
    assert hits[len(PAIRS)][0]["list"] == RFC1918


def test_check_many_with_nul_bytes_in_hits(wl):
    wl.add_list({"name": "nul", "type": "string", "list": ["a\0b", "c"], "matching_attributes": ["text"]})
    hits = wl.check_many([("text", "a\0b"), ("ip-dst", "10.1.2.3"), ("text", "c")])
    assert hits[0] == [{"list": "nul", "list_type": "string", "match": "a\0b", "value": "a\0b"}]
    assert hits[1] == wl.check("ip-dst", "10.1.2.3")
    assert hits[2] == [{"list": "nul", "list_type": "string", "match": "c", "value": "c"}]


def test_snapshot_round_trip(wl, tmp_path):
    wl.add_list({"name": "custom", "type": "string", "list": ["evil.example"], "matching_attributes": ["domain"]})
    path = tmp_path / "lists.snap"
    wl.save_snapshot(path)
    pairs = PAIRS + [("domain", "evil.example")]
    with misp_correlate.Warninglists.open_snapshot(path, verify=True) as snap:
        for t, v in pairs:
            assert snap.check(t, v) == wl.check(t, v), (t, v)
        assert snap.check_many(pairs) == wl.check_many(pairs)
        assert snap.check("domain", "evil.example")[0]["list"] == "custom"
        snap.set_enabled(RFC1918, False)
        assert snap.check("ip-dst", "10.1.2.3") == []
        with pytest.raises(misp_correlate.InvalidArgumentError, match="snapshot"):
            snap.add_list({"name": "more", "type": "string", "list": ["x"]})
        snap.save_snapshot(path)  # over the file it was opened from
    with misp_correlate.Warninglists.open_snapshot(path) as again:
        assert again.check("ip-dst", "10.1.2.3") == []
        report = again.report()
        assert len(report["lists"]) == 7
        assert [r["enabled"] for r in report["lists"] if r["name"] == RFC1918] == [False]
    info = misp_correlate.snapshot_info(path)
    assert info["kind"] == "warninglists"
    assert info["counts"]["lists"] == 7


def test_snapshot_errors(tmp_path, root):
    with pytest.raises(misp_correlate.MispIOError):
        misp_correlate.Warninglists.open_snapshot(tmp_path / "missing.snap")
    with pytest.raises(misp_correlate.SnapshotError, match="Cargo.toml") as info:
        misp_correlate.Warninglists.open_snapshot(root / "Cargo.toml")
    assert isinstance(info.value, ValueError)
    with pytest.raises(misp_correlate.SnapshotError):
        misp_correlate.snapshot_info(root / "Cargo.toml")
