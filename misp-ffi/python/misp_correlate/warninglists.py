"""Warninglists: load once, check values one at a time or in batches."""

from __future__ import annotations

import json
import sys
from array import array
from itertools import chain
from typing import Any, Iterable, Sequence, Union

from ._lowlevel import Handle, Text, call, call_returning_string, ffi, gc_paused, lib, path_arg, text_arg

#: Improvement names accepted by :class:`Warninglists`, with their flags.
IMPROVEMENTS = {
    "lowercase_hosts": lib.MISP_WL_LOWERCASE_HOSTS,
    "parse_urls": lib.MISP_WL_PARSE_URLS,
    "regex_global_modifier": lib.MISP_WL_REGEX_GLOBAL_MODIFIER,
    "cidr_overlap": lib.MISP_WL_CIDR_OVERLAP,
    "strict_cidr_masks": lib.MISP_WL_STRICT_CIDR_MASKS,
    "dotted_strings_as_hostnames": lib.MISP_WL_DOTTED_STRINGS_AS_HOSTNAMES,
    "case_insensitive_domain_strings": lib.MISP_WL_CASE_INSENSITIVE_DOMAIN_STRINGS,
    "no_zero_label_quirk": lib.MISP_WL_NO_ZERO_LABEL_QUIRK,
}

Hit = dict  # {"list": str, "list_type": str, "match": str, "value": str}

# array typecode of a C size_t.
_SIZE_T = next(code for code in "LQI" if array(code).itemsize == ffi.sizeof("size_t"))


def _improvement_flags(improvements: Union[int, str, Iterable[str]]) -> int:
    if isinstance(improvements, int):
        return improvements
    if improvements == "all":
        return lib.MISP_WL_ALL
    if isinstance(improvements, str):
        improvements = [improvements]
    flags = 0
    for name in improvements:
        try:
            flags |= IMPROVEMENTS[name]
        except KeyError:
            raise ValueError(
                f"unknown warninglist improvement {name!r} (expected one of {', '.join(IMPROVEMENTS)} or 'all')"
            ) from None
    return flags


def pack_strings(items: Sequence[Text]) -> tuple[bytes, Any]:
    """``items`` as one UTF-8 buffer and an array of their byte lengths, the
    packed form of ``misp_warninglists_check_batch``."""
    try:
        joined = "".join(items)  # type: ignore[arg-type]
    except TypeError:  # some items are bytes
        encoded = [text_arg(item, "value") for item in items]
        return b"".join(encoded), array(_SIZE_T, map(len, encoded))
    data = joined.encode("utf-8")
    if joined.isascii():  # characters are bytes (isascii is O(1) on str)
        return data, array(_SIZE_T, map(len, items))  # type: ignore[arg-type]
    lengths = [len(item) if item.isascii() else len(item.encode("utf-8")) for item in items]  # type: ignore[union-attr]
    return data, array(_SIZE_T, lengths)


# Layout of misp_warninglists_check_batch_packed (see its documentation).
_PACKED_LAYOUT = 1
_PACKED_HEADER_WORDS = 5
_PACKED_TEXT_HAS_NUL = 1


def _u32_words(buffer: Any, count: int) -> Any:
    """The first ``count`` little-endian ``uint32_t`` of ``buffer``."""
    if sys.byteorder == "little":
        return memoryview(buffer)[: 4 * count].cast("I")
    words = array("I")
    words.frombytes(bytes(buffer[: 4 * count]))
    words.byteswap()
    return words


def decode_packed(buffer: Any) -> list[list[Hit]]:
    """Decodes the packed result of ``misp_warninglists_check_batch_packed``
    into one list of hit dicts per query.

    The strings are decoded with one ``decode`` and one ``split`` of the
    whole text; the list names and types are shared between the hits of a
    list; every query gets its own (possibly empty) list.
    """
    header = _u32_words(buffer, _PACKED_HEADER_WORDS)
    layout, queries, hit_count, list_count, flags = header
    if layout != _PACKED_LAYOUT:
        raise RuntimeError(f"packed batch layout {layout} is not {_PACKED_LAYOUT}: library and package differ")
    string_count = 2 * list_count + 2 * hit_count
    words = _u32_words(buffer, _PACKED_HEADER_WORDS + 2 * hit_count + string_count)
    query_of = words[_PACKED_HEADER_WORDS : _PACKED_HEADER_WORDS + hit_count]
    list_of = words[_PACKED_HEADER_WORDS + hit_count : _PACKED_HEADER_WORDS + 2 * hit_count]
    text = bytes(memoryview(buffer)[4 * len(words) :])
    if flags & _PACKED_TEXT_HAS_NUL:
        ends = words[_PACKED_HEADER_WORDS + 2 * hit_count :]
        starts = chain((0,), (end + 1 for end in ends))
        strings = [text[start:end].decode("utf-8") for start, end in zip(starts, ends)]
    else:
        strings = text.decode("utf-8").split("\0")  # the last one is empty
    names = strings[0 : 2 * list_count : 2]
    types = strings[1 : 2 * list_count : 2]
    results: list[list[Hit]] = [[] for _ in range(queries)]
    rest = iter(strings[2 * list_count : string_count])
    for query, index, matched, value in zip(query_of, list_of, rest, rest):
        results[query].append({"list": names[index], "list_type": types[index], "match": matched, "value": value})
    return results


class Warninglists(Handle):
    """Compiled MISP warninglists.

    ``Warninglists(path)`` loads a misp-warninglists checkout, any directory
    tree of ``list.json`` files, or one list file. ``improvements`` selects
    departures from MISP's matching: an iterable of names from
    :data:`IMPROVEMENTS`, ``"all"``, or the C flags as an ``int``; the
    default is MISP-compatible.

    Files or entries that cannot be used do not fail the load; see
    :meth:`report`. Checks may run from several threads at once.

    >>> wl = Warninglists("misp-ffi/tests/data/warninglists")  # doctest: +SKIP
    >>> wl.check("ip-dst", "10.1.2.3")  # doctest: +SKIP
    [{'list': 'List of RFC 1918 CIDR blocks', 'list_type': 'cidr', 'match': '10.0.0.0/8', 'value': '10.1.2.3'}]
    """

    _free = lib.misp_warninglists_free

    def __init__(self, path: Any, improvements: Union[int, str, Iterable[str]] = ()) -> None:
        p = path_arg(path)
        out = ffi.new("misp_warninglists **")
        call(lib.misp_warninglists_load, p, len(p), _improvement_flags(improvements), out)
        super().__init__(out[0])

    @classmethod
    def open_snapshot(cls, path: Any, verify: bool = False) -> "Warninglists":
        """Opens a snapshot file written by :meth:`save_snapshot` (or
        ``misp-correlate snapshot``) by memory-mapping it: no list is read or
        compiled. ``verify`` also checks the checksum of every byte.

        The result answers every check as the lists it was saved from and
        takes :meth:`set_enabled`; :meth:`add_list` raises
        :class:`InvalidArgumentError` (a snapshot's lists are fixed). A file
        that is not a warninglist snapshot or is damaged raises
        :class:`SnapshotError`. Do not change the file while it is open.
        """
        return cls._open_snapshot(lib.misp_warninglists_open_snapshot, "misp_warninglists", path, verify)

    def save_snapshot(self, path: Any) -> None:
        """Saves the lists (custom lists and enabled switches included) to a
        snapshot file, replacing it atomically; :meth:`open_snapshot` opens
        it again."""
        p = path_arg(path)
        call(lib.misp_warninglists_save_snapshot, self._handle(), p, len(p))

    def check(self, type: Text, value: Text) -> list[Hit]:
        """The hits of one value (as stored): a list of ``{"list",
        "list_type", "match", "value"}`` dicts sorted by list name."""
        t = text_arg(type, "type")
        v = text_arg(value, "value")
        raw = call_returning_string(lib.misp_warninglists_check, self._handle(), t, len(t), v, len(v))
        return json.loads(raw)

    def check_many(self, pairs: Iterable[tuple[Text, Text]]) -> list[list[Hit]]:
        """The hits of many ``(type, value)`` pairs, checked in one call (in
        parallel), as a list of hit lists in input order (each hit a dict as
        from :meth:`check`).

        The pairs cross the boundary packed in one buffer with their
        lengths, and the hits come back in one packed buffer (list table,
        hit records, one text) decoded in bulk, not as JSON."""
        # The collector is paused for the whole call: the pairs, the packed
        # input and the decoded result are hundreds of thousands of objects
        # (see ``gc_paused``).
        with gc_paused():
            items = list(chain.from_iterable(pairs))
            if not items:
                return []
            data, lens = pack_strings(items)
            if len(lens) % 2:
                raise ValueError("check_many expects (type, value) pairs")
            out = ffi.new("char **")
            out_len = ffi.new("size_t *")
            call(
                lib.misp_warninglists_check_batch_packed,
                self._handle(),
                data,
                len(data),
                ffi.from_buffer("size_t[]", lens),
                len(lens),
                out,
                out_len,
            )
            try:
                return decode_packed(ffi.buffer(out[0], out_len[0]))
            finally:
                lib.misp_string_free(out[0])

    def set_enabled(self, name: Text, enabled: bool = True) -> None:
        """Enables or disables the list named ``name`` (its ``name`` field)."""
        n = text_arg(name, "name")
        call(lib.misp_warninglists_set_enabled, self._handle(), n, len(n), bool(enabled))

    def add_list(self, warninglist: Union[dict, Text]) -> None:
        """Adds a custom list: a ``list.json`` document as a dict, str or bytes."""
        if isinstance(warninglist, dict):
            warninglist = json.dumps(warninglist)
        data = text_arg(warninglist, "warninglist")
        call(lib.misp_warninglists_add_list, self._handle(), data, len(data))

    def report(self) -> dict[str, Any]:
        """The lists (name, type, state, entry counts), the files that could
        not be used and the entries that can never match."""
        return json.loads(call_returning_string(lib.misp_warninglists_report, self._handle()))
