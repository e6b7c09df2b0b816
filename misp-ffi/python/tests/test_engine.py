"""The correlation engine through the C library."""

import json
import threading

import pytest

import misp_correlate
from misp_correlate import Engine, Viewer

EVENT_A = "aaaaaaaa-0000-4000-8000-000000000000"
EVENT_B = "bbbbbbbb-0000-4000-8000-000000000000"
A1 = "aaaaaaaa-0000-4000-8000-000000000001"
A5 = "aaaaaaaa-0000-4000-8000-000000000005"
B1 = "bbbbbbbb-0000-4000-8000-000000000001"
B4 = "bbbbbbbb-0000-4000-8000-000000000004"


@pytest.fixture
def events(root):
    return root / "misp-ffi" / "tests" / "data" / "events"


def keys(rows):
    return sorted((r["kind"], r["key"]) for r in rows)


def test_build_from_paths(events):
    with Engine(paths=[events]) as engine:
        assert keys(engine.correlations()) == [
            ("exact", "0123456789abcdef0123456789abcdef"),
            ("exact", "198.51.100.7"),
            ("exact", "evil.example"),
        ]
        assert engine.summary()["correlations"] == 3
        assert engine.build_report() == {"rejected": [], "errors": []}


def test_rows_are_shaped_like_pairs(events):
    with Engine(paths=[events]) as engine:
        assert engine.correlations_of(A1) == [
            {
                "kind": "exact",
                "key": "198.51.100.7",
                "a": {"event": EVENT_A, "attribute": A1},
                "b": {"event": EVENT_B, "attribute": B1},
            }
        ]


def test_build_from_documents_with_options(events):
    documents = [(events / "event-a.json").read_text(), json.loads((events / "event-b.json").read_text())]
    with Engine(documents=documents, advanced=True) as engine:
        assert ("cidr", "10.0.0.0/8") in keys(engine.correlations())
        assert engine.summary()["cidr"] == 1
    with Engine(documents=documents, exclusions=["%.example"]) as engine:
        assert ("exact", "evil.example") not in keys(engine.correlations())
    with Engine(documents=documents, limit=0) as engine:
        assert engine.correlations() == []
        assert {row["key"] for row in engine.over_correlating()} == {
            "0123456789abcdef0123456789abcdef",
            "198.51.100.7",
            "evil.example",
        }
    with Engine(documents=documents, limit=None) as engine:
        assert len(engine.correlations()) == 3


def test_viewers(events):
    with Engine(paths=[events]) as engine:
        org_a, org_b = Viewer(org="org-a"), Viewer(org="org-b")
        assert engine.correlations_of(A5, org_a) == []
        assert [r["b"]["attribute"] for r in engine.correlations_of(A5, org_b)] == [B4]
        assert len(engine.correlations(org_a)) == 2
        assert len(engine.correlations(Viewer.admin())) == 3
        assert engine.related_events(EVENT_A, org_a) == [{"event": EVENT_B, "correlations": 2}]
    with Engine(paths=[events], acl=False) as engine:
        assert len(engine.correlations(Viewer(org="nobody"))) == 3


def test_build_report_and_errors(events):
    with Engine(paths=[events, "/nonexistent/x.json"]) as engine:
        report = engine.build_report()
        assert [e["file"] for e in report["errors"]] == ["/nonexistent/x.json"]
    with pytest.raises(misp_correlate.JsonError, match="<input>:1:"):
        Engine(documents=['{"Event": {"info": "x", "Attribute": ['])
    with pytest.raises(misp_correlate.InvalidArgumentError, match="ssdeep"):
        Engine(documents=[], ssdeep_threshold=0)


def test_incremental_changes():
    engine = Engine.empty()
    engine.add_event(id=1, org=100)
    engine.add_event({"id": 2, "org": 200, "distribution": 0})
    engine.add_attribute(id=10, event=1, type="domain", value="evil.example")
    engine.add_attribute(id=20, event=2, type="hostname", value=" evil.example ")
    assert engine.correlations_of(10) == [
        {"kind": "exact", "key": "evil.example", "a": {"event": 1, "attribute": 10}, "b": {"event": 2, "attribute": 20}}
    ]
    assert engine.correlations_of(10, Viewer(org=100)) == []
    assert len(engine.correlations_of(10, Viewer(org=200))) == 1

    with pytest.raises(misp_correlate.RejectedValueError, match="IP"):
        engine.update_attribute(id=20, event=2, type="ip-dst", value="999.1.1.1")
    assert len(engine.correlations()) == 1  # unchanged
    with pytest.raises(misp_correlate.UnknownTypeError):
        engine.add_attribute(id=30, event=2, type="nope", value="x")
    with pytest.raises(misp_correlate.JsonError, match="valeu"):
        engine.add_attribute(id=30, event=2, type="md5", valeu="x")
    with pytest.raises(misp_correlate.InvalidArgumentError, match="exists"):
        engine.add_attribute(id=10, event=1, type="domain", value="x.example")

    assert engine.add_exclusion("%.example") is True
    assert engine.add_exclusion("%.example") is False
    assert engine.correlations() == []
    assert engine.remove_exclusion("%.example") is True
    assert len(engine.correlations()) == 1

    engine.set_attribute_correlation(20, False)
    assert engine.correlations() == []
    engine.set_attribute_correlation(20, True)
    engine.set_event_correlation(2, False)
    assert engine.correlations() == []
    engine.set_event_correlation(2, True)
    engine.update_attribute(id=20, event=2, type="hostname", value="good.example")
    assert engine.correlations() == []
    engine.update_attribute(id=20, event=2, type="hostname", value="evil.example")
    engine.remove_attribute(20)
    assert engine.correlations() == []
    with pytest.raises(misp_correlate.InvalidArgumentError, match="20"):
        engine.remove_attribute(20)
    engine.remove_event(2)
    with pytest.raises(misp_correlate.InvalidArgumentError):
        engine.remove_event("2")  # a string identity is not the number 2
    engine.configure(limit=None, advanced=True)
    with pytest.raises(misp_correlate.InvalidArgumentError):
        engine.configure(ssdeep_threshold=101)
    with pytest.raises(TypeError):
        engine.remove_attribute(1.5)  # type: ignore[arg-type]
    engine.close()


def test_objects():
    engine = Engine.empty()
    engine.add_event(id="e1")
    engine.add_event(id="e2")
    engine.add_object(id="o1", event="e1")
    engine.add_attribute(id="x", event="e1", object="o1", type="md5", value="0123456789abcdef0123456789abcdef")
    engine.add_attribute(id="y", event="e2", type="md5", value="0123456789abcdef0123456789abcdef")
    assert len(engine.correlations()) == 1
    engine.update_object(id="o1", event="e1", deleted=True)
    assert engine.correlations() == []
    engine.update_object(id="o1", event="e1")
    assert len(engine.correlations()) == 1
    engine.remove_object("o1")
    assert engine.correlations() == []
    engine.close()


def test_concurrent_readers_and_a_writer(events):
    engine = Engine(paths=[events])
    errors = []

    def reader():
        try:
            for _ in range(50):
                n = len(engine.correlations())
                assert n in (3, 4), n
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    def writer():
        try:
            for i in range(25):
                engine.add_attribute(id=f"w{i}", event=EVENT_B, type="ip-dst", value="10.0.0.0/8")
                engine.remove_attribute(f"w{i}")
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=reader) for _ in range(3)] + [threading.Thread(target=writer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    engine.close()
    with pytest.raises(ValueError, match="closed"):
        engine.correlations()


def _answers(engine):
    """Every query's answer, for a site admin and for org-a."""
    out = [engine.summary(), engine.over_correlating(), engine.top_keys(10)]
    for viewer in (None, Viewer(org="org-a")):
        out += [
            engine.correlations(viewer),
            engine.correlations_of(A1, viewer),
            engine.related_events(EVENT_A, viewer),
        ]
    return out


def test_snapshot_round_trip(events, tmp_path):
    path = tmp_path / "engine.snap"
    with Engine(paths=[events], advanced=True, exclusions=["%.invalid"]) as original:
        original.save_snapshot(path)
        expected = _answers(original)
        assert len(expected[3]) == 4
        with Engine.open_snapshot(path, verify=True) as snap:
            assert _answers(snap) == expected
            assert snap.build_report() == {"rejected": [], "errors": []}
            # The first change decodes the snapshot; then it behaves as the
            # original given the same changes.
            for engine in (original, snap):
                engine.remove_attribute(B1)
                engine.add_attribute(id="new", event=EVENT_A, type="domain", value="evil.example")
                assert engine.add_exclusion("%.example")
            changed = _answers(original)
            assert changed != expected
            assert _answers(snap) == changed
            snap.save_snapshot(path)  # over the file it was opened from
    with Engine.open_snapshot(path) as again:
        assert _answers(again) == changed
        again.remove_exclusion("%.example")
        assert len(again.correlations_of("new")) == 1
    info = misp_correlate.snapshot_info(path)
    assert info["kind"] == "engine"


def test_snapshot_errors(events, tmp_path, root):
    path = tmp_path / "engine.snap"
    with Engine(paths=[events]) as engine:
        engine.save_snapshot(path)
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    damaged = tmp_path / "damaged.snap"
    damaged.write_bytes(bytes(data))
    with pytest.raises(misp_correlate.SnapshotError, match="damaged.snap") as info:
        Engine.open_snapshot(damaged, verify=True)
    assert isinstance(info.value, ValueError)
    truncated = tmp_path / "truncated.snap"
    truncated.write_bytes(bytes(data[: len(data) // 2]))
    with pytest.raises(misp_correlate.SnapshotError, match="truncated.snap"):
        Engine.open_snapshot(truncated)
    with pytest.raises(misp_correlate.SnapshotError, match="Cargo.toml"):
        Engine.open_snapshot(root / "Cargo.toml")
    with pytest.raises(misp_correlate.MispIOError, match="missing.snap"):
        Engine.open_snapshot(tmp_path / "missing.snap")
    # A warninglist snapshot is not an engine snapshot.
    lists = tmp_path / "lists.snap"
    with misp_correlate.Warninglists(root / "misp-ffi" / "tests" / "data" / "warninglists") as wl:
        wl.save_snapshot(lists)
    with pytest.raises(misp_correlate.SnapshotError):
        Engine.open_snapshot(lists)
