"""Warninglists: load once, check values one at a time or in batches."""

from __future__ import annotations

import json
import operator
import struct
import sys
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Sequence as SequenceABC
from itertools import chain
from typing import Any, Iterable, Iterator, Sequence, Union, overload

from .errors import InvalidArgumentError
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


#: Pairs joined at a time by :func:`join_pairs`.
_JOIN_PAIRS = 1024

#: Pairs per part of a batch that :meth:`Warninglists.check_many` hands to
#: the library's pool while it joins the next part: as many as the library
#: gives one task of its pool, so a part is checked by one thread while the
#: others take the parts before and after it (2,048, 4,096 and 8,192 were
#: timed; the smallest was fastest, by a little).
_PART_PAIRS = 2048


def join_pairs(pairs: Sequence[tuple[Text, Text]]) -> bytes:
    """The strings of ``pairs`` joined by NUL bytes, as UTF-8: the
    NUL-separated form of the ``misp_warninglists_check_batch*`` input
    (``lens`` NULL). Only valid when no string contains a NUL byte and
    every pair has two strings, which the library verifies (it counts the
    strings).

    The pairs are joined and encoded ``_JOIN_PAIRS`` at a time, then the
    parts joined: a part's strings are still in the CPU cache when it is
    encoded, and a part of ASCII strings stays one byte per character (one
    non-ASCII string in a single join of the whole batch would widen every
    character of it). This takes about half the time of one ``join`` and
    one ``encode`` of the whole batch."""
    parts = []
    for start in range(0, len(pairs), _JOIN_PAIRS):
        strings = chain.from_iterable(pairs[start : start + _JOIN_PAIRS])
        try:
            parts.append("\0".join(strings).encode("utf-8"))  # type: ignore[arg-type]
        except TypeError:  # some strings are bytes
            strings = chain.from_iterable(pairs[start : start + _JOIN_PAIRS])
            parts.append(b"\0".join(text_arg(item, "value") for item in strings))
    return b"\0".join(parts)


def _packed_result(func: Any, *args: Any) -> Any:
    """Calls ``func(*args, &out, &out_len)``, a function returning a packed
    result, and returns that library-owned buffer, freed with its last
    view."""
    out = ffi.new("char **")
    out_len = ffi.new("size_t *")
    call(func, *args, out, out_len)
    return ffi.buffer(ffi.gc(out[0], lib.misp_string_free, size=out_len[0]), out_len[0])


def _check_in_parts(handle: Any, pairs: Sequence[tuple[Text, Text]]) -> Any:
    """The packed result of ``pairs`` (NUL-separated), pushed to a
    background batch ``_PART_PAIRS`` at a time: the library checks each
    part while the next is joined."""
    if len(pairs) <= _PART_PAIRS:
        data = join_pairs(pairs)
        return _packed_result(lib.misp_warninglists_check_batch_packed, handle, data, len(data), ffi.NULL, 2 * len(pairs))
    new = ffi.new("misp_warninglists_batch **")
    call(lib.misp_warninglists_batch_new, handle, new)
    batch = new[0]
    try:
        for start in range(0, len(pairs), _PART_PAIRS):
            part = pairs[start : start + _PART_PAIRS]
            data = join_pairs(part)
            call(lib.misp_warninglists_batch_push, batch, data, len(data), ffi.NULL, 2 * len(part))
        return _packed_result(lib.misp_warninglists_batch_finish, batch)
    finally:
        lib.misp_warninglists_batch_free(batch)


def pack_strings(items: Sequence[Text]) -> tuple[bytes, Any]:
    """``items`` concatenated as UTF-8, and an array of their byte lengths:
    the packed form of the ``misp_warninglists_check_batch*`` input for
    items that may contain NUL bytes."""
    encoded = [text_arg(item, "value") for item in items]
    return b"".join(encoded), array(_SIZE_T, map(len, encoded))


# Layout of misp_warninglists_check_batch_packed (see its documentation).
_PACKED_LAYOUT = 1
_PACKED_HEADER_WORDS = 5
_PACKED_TEXT_HAS_NUL = 1
_EMPTY_PACKED = struct.pack("<5I", _PACKED_LAYOUT, 0, 0, 0, 0)


def _u32_words(buffer: Any, count: int) -> Any:
    """The first ``count`` little-endian ``uint32_t`` of ``buffer``."""
    if sys.byteorder == "little":
        return memoryview(buffer)[: 4 * count].cast("I")
    words = array("I")
    words.frombytes(bytes(buffer[: 4 * count]))
    words.byteswap()
    return words


class BatchHits(SequenceABC):
    """The hits of a batch check: a read-only sequence with one list of hit
    dicts (as from :meth:`Warninglists.check`) per query, in input order.

    It holds the library's packed result (a few bytes per hit) and makes the
    Python lists and dicts of a query when that query is first read, so a
    batch costs no more than its check until its hits are used; reading a
    query again gives the same list object. Iterating, comparing or
    :meth:`tolist` decode every query in bulk. :meth:`matched` visits only
    the queries that hit something, and :attr:`hit_count` needs no decoding.
    """

    __slots__ = ("_queries", "_hit_count", "_query_of", "_list_of", "_ends", "_text", "_names", "_types", "_has_nul", "_decoded", "_all")

    def __init__(self, packed: Any) -> None:
        header = _u32_words(packed, _PACKED_HEADER_WORDS)
        layout, queries, hit_count, list_count, flags = header
        if layout != _PACKED_LAYOUT:
            raise RuntimeError(f"packed batch layout {layout} is not {_PACKED_LAYOUT}: library and package differ")
        string_count = 2 * list_count + 2 * hit_count
        words = _u32_words(packed, _PACKED_HEADER_WORDS + 2 * hit_count + string_count)
        self._queries = queries
        self._hit_count = hit_count
        self._query_of = words[_PACKED_HEADER_WORDS : _PACKED_HEADER_WORDS + hit_count]
        self._list_of = words[_PACKED_HEADER_WORDS + hit_count : _PACKED_HEADER_WORDS + 2 * hit_count]
        self._ends = words[_PACKED_HEADER_WORDS + 2 * hit_count :]
        self._text = memoryview(packed)[4 * len(words) :]
        table = [self._string(k) for k in range(2 * list_count)]
        self._names = table[0::2]
        self._types = table[1::2]
        self._decoded: dict[int, list[Hit]] = {}
        self._all: Union[list[list[Hit]], None] = None
        self._has_nul = bool(flags & _PACKED_TEXT_HAS_NUL)

    @classmethod
    def empty(cls) -> "BatchHits":
        """The result of a batch of no queries."""
        return cls(_EMPTY_PACKED)

    @property
    def hit_count(self) -> int:
        """The number of hits of all queries together."""
        return self._hit_count

    def _string(self, k: int) -> str:
        start = self._ends[k - 1] + 1 if k else 0
        return str(self._text[start : self._ends[k]], "utf-8")

    def _hit(self, h: int) -> Hit:
        k = 2 * len(self._names) + 2 * h
        index = self._list_of[h]
        return {"list": self._names[index], "list_type": self._types[index], "match": self._string(k), "value": self._string(k + 1)}

    def _query(self, query: int) -> list[Hit]:
        if self._all is not None:
            return self._all[query]
        hits = self._decoded.get(query)
        if hits is None:
            first = bisect_left(self._query_of, query)
            last = bisect_right(self._query_of, query, first)
            hits = self._decoded[query] = [self._hit(h) for h in range(first, last)]
        return hits

    def __len__(self) -> int:
        return self._queries

    @overload
    def __getitem__(self, index: int) -> list[Hit]: ...
    @overload
    def __getitem__(self, index: slice) -> list[list[Hit]]: ...
    def __getitem__(self, index: Union[int, slice]) -> Union[list[Hit], list[list[Hit]]]:
        if isinstance(index, slice):
            return [self._query(i) for i in range(*index.indices(self._queries))]
        i = operator.index(index)
        if i < 0:
            i += self._queries
        if not 0 <= i < self._queries:
            raise IndexError(f"query {index} of a batch of {self._queries}")
        return self._query(i)

    def __iter__(self) -> Iterator[list[Hit]]:
        return iter(self.tolist())

    def matched(self) -> Iterator[tuple[int, list[Hit]]]:
        """``(query index, hits)`` of every query with at least one hit, in
        input order; the other queries are not decoded."""
        for query in dict.fromkeys(self._query_of):
            yield query, self._query(query)

    def tolist(self) -> list[list[Hit]]:
        """Every query's hit list (the same objects as indexing gives),
        decoded in bulk: one ``decode`` and ``split`` of the whole text
        when no string holds a NUL byte. The list is the batch's own: the
        sequence reads from it afterwards."""
        if self._all is not None:
            return self._all
        with gc_paused():
            table = 2 * len(self._names)
            # Without NUL bytes inside strings, one decode and split cuts
            # them all (the last piece is empty); otherwise cut at the ends.
            strings = None if self._has_nul else str(self._text, "utf-8").split("\0")
            results: list[list[Hit]] = [[] for _ in range(self._queries)]
            for query, hits in self._decoded.items():
                results[query] = hits
            names, types, list_of = self._names, self._types, self._list_of
            for h, query in enumerate(self._query_of):
                if query in self._decoded:
                    continue
                index = list_of[h]
                k = table + 2 * h
                if strings is not None:
                    matched, value = strings[k], strings[k + 1]
                else:
                    matched, value = self._string(k), self._string(k + 1)
                results[query].append({"list": names[index], "list_type": types[index], "match": matched, "value": value})
        self._all = results
        self._decoded = {}
        return results

    def __eq__(self, other: object) -> bool:
        if isinstance(other, BatchHits):
            return self.tolist() == other.tolist()
        if isinstance(other, SequenceABC) and not isinstance(other, (str, bytes)):
            return self.tolist() == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<BatchHits: {self._queries} queries, {self._hit_count} hits>"


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

    def check_many(self, pairs: Iterable[tuple[Text, Text]]) -> BatchHits:
        """The hits of many ``(type, value)`` pairs, checked in one call (in
        parallel): a :class:`BatchHits`, the sequence of each pair's hit
        list (dicts as from :meth:`check`) in input order.

        The pairs cross the boundary in parts of ``_PART_PAIRS`` pairs,
        each in one buffer (joined by NUL bytes, or with their lengths
        when a string holds a NUL byte): the library checks a part on its
        thread pool while this thread joins the next one
        (``misp_warninglists_batch``). The hits come back in one packed
        buffer that :class:`BatchHits` reads in place (it is freed with the
        last view of it) and decodes as its queries are read."""
        if not isinstance(pairs, (list, tuple)):
            pairs = list(pairs)
        if not pairs:
            return BatchHits.empty()
        handle = self._handle()
        try:
            # The library splits at the NUL bytes and checks the count, so
            # a NUL byte inside a string (or a pair that is not two
            # strings) fails the batch: then flatten and send lengths.
            packed = _check_in_parts(handle, pairs)
        except InvalidArgumentError:
            items = list(chain.from_iterable(pairs))
            if len(items) % 2:
                raise ValueError("check_many expects (type, value) pairs") from None
            data, lens = pack_strings(items)
            lengths = ffi.from_buffer("size_t[]", lens)
            packed = _packed_result(
                lib.misp_warninglists_check_batch_packed, handle, data, len(data), lengths, len(items)
            )
        return BatchHits(packed)

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
