"""Library version, normalisation and the error mapping."""

import re
import threading

import pytest

import misp_correlate
from misp_correlate import _lowlevel, errors


def test_version_is_the_package_version():
    assert misp_correlate.version() == misp_correlate.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+", misp_correlate.version())


def test_normalize_returns_the_stored_value():
    assert misp_correlate.normalize("ip-src", "  10.0.0.1 \n") == "10.0.0.1"
    assert misp_correlate.normalize(b"md5", b" d41d8cd98f00b204e9800998ecf8427e ") == (
        "d41d8cd98f00b204e9800998ecf8427e"
    )


def test_unknown_type_raises_with_the_name():
    with pytest.raises(misp_correlate.UnknownTypeError, match="no-such-type") as info:
        misp_correlate.normalize("no-such-type", "x")
    assert info.value.code == 6
    assert info.value.name == "MISP_ERR_UNKNOWN_TYPE"
    assert isinstance(info.value, ValueError)


def test_rejected_value_raises_with_misps_reason():
    with pytest.raises(misp_correlate.RejectedValueError, match="composite") as info:
        misp_correlate.normalize("domain|ip", "example.com")
    assert "value1|value2" in info.value.message


def test_invalid_utf8_is_reported_by_the_library():
    with pytest.raises(misp_correlate.Utf8Error, match="offset 2"):
        misp_correlate.normalize("ip-src", b"10\xff")


def test_wrong_python_types_raise_type_error():
    with pytest.raises(TypeError):
        misp_correlate.normalize("ip-src", 10)  # type: ignore[arg-type]


def test_every_result_code_has_an_exception_class():
    # The enum comes from the header itself, so a code added in Rust without
    # an exception class here fails this test.
    codes = _lowlevel.ffi.typeof("misp_result").elements
    for code, name in codes.items():
        if name == "MISP_OK":
            continue
        cls = errors.BY_CODE.get(code)
        assert cls is not None, f"no exception class for {name}"
        assert cls.name == name
    assert set(errors.BY_CODE) == {c for c, n in codes.items() if n != "MISP_OK"}


def test_header_cdef_has_no_preprocessor_lines():
    header = (_lowlevel._HERE / "misp_correlate.h").read_text()
    cdef = _lowlevel.cdef_from_header(header)
    assert not any(line.lstrip().startswith("#") for line in cdef.splitlines())
    assert 'extern "C"' not in cdef
    assert "misp_normalize" in cdef


def test_last_error_is_per_thread():
    # An error on another thread does not change this thread's message.
    with pytest.raises(misp_correlate.RejectedValueError):
        misp_correlate.normalize("domain|ip", "example.com")
    mine = _lowlevel.last_error()
    seen = []

    def other():
        try:
            misp_correlate.normalize("nope", "x")
        except misp_correlate.UnknownTypeError as e:
            seen.append(str(e))

    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert seen == ['unknown attribute type "nope"']
    assert _lowlevel.last_error() == mine


def test_load_summary_of_a_document():
    doc = b"""{"Event": {"uuid": "5a4cb19a-f550-437f-bd29-48ed950d210f", "info": "x",
        "Attribute": [{"type": "ip-dst", "value": "192.0.2.1"},
                      {"type": "no-such-type", "value": "x"}]}}"""
    report = misp_correlate.load_summary(doc)
    assert report["events"] == 1
    assert report["attributes"] == 2
    assert report["types"] == {"ip-dst": 1, "no-such-type": 1}
    [rejected] = report["rejected"]
    assert rejected["attribute"] == "5a4cb19a-f550-437f-bd29-48ed950d210f:1"
    assert rejected["type"] == "no-such-type"
    assert report["errors"] == []


def test_load_summary_reports_malformed_json_with_its_position():
    report = misp_correlate.load_summary('{"Event": {"info": "x", ')
    assert report["events"] == 0
    [error] = report["errors"]
    assert error["file"] == "<input>"
    assert error["message"].startswith("<input>:1:")


def test_load_summary_of_paths(root):
    feed = root / "testdata" / "feeds" / "tweetfeed-sample"
    report = misp_correlate.load_summary_paths([feed, "/nonexistent/x.json"])
    assert report["events"] == 5
    assert report["attributes"] == 202
    assert [e["file"] for e in report["errors"]] == ["/nonexistent/x.json"]


def test_non_utf8_path_is_rejected_by_the_library():
    with pytest.raises(misp_correlate.Utf8Error, match=r"paths\[0\]"):
        misp_correlate.load_summary_paths([b"/tmp/\xff"])
