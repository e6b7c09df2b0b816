"""The correlation engine: built in bulk from MISP JSON, then queried and
changed incrementally."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterable, Optional, Sequence, Union

from ._lowlevel import Handle, StrList, Text, call, call_returning_string, ffi, lib, loads_large, path_arg, text_arg

#: An identity: a number (a MISP database id) or a string (a uuid, or
#: ``<event uuid>:<n>`` for an attribute without one). ``7`` and ``"7"``
#: are different identities.
Id = Union[int, str]

Correlation = dict  # {"kind", "key", "a": {"event", "attribute"}, "b": {...}, "score"?}


@dataclass(frozen=True)
class Viewer:
    """Who is asking: an organisation (the identity used for the events'
    ``org``; from MISP JSON, the event's ``Org`` id, else uuid, else name),
    the sharing groups it is authorised for, and whether it is a site admin
    (who sees everything)."""

    org: Optional[Id] = None
    sharing_groups: Sequence[int] = ()
    site_admin: bool = False

    @classmethod
    def admin(cls) -> "Viewer":
        """A site admin: sees every correlation."""
        return cls(site_admin=True)


class _Ids:
    """C ``misp_id`` and ``misp_viewer`` structs, and the buffers they point
    to: the structs only borrow the buffers, so keep this object in a local
    variable for the duration of the call."""

    def __init__(self) -> None:
        self._keep: list[Any] = []

    def id(self, value: Id) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, str, bytes)):
            raise TypeError(f"an identity is an int or a str, not {type(value).__name__}")
        if isinstance(value, int):
            return ffi.new("misp_id *", {"kind": lib.MISP_ID_NUM, "num": value})
        data = text_arg(value, "id")
        buf = ffi.from_buffer(data)
        self._keep.append(buf)
        return ffi.new("misp_id *", {"kind": lib.MISP_ID_STR, "str": buf, "str_len": len(data)})

    def viewer(self, viewer: Optional[Viewer]) -> Any:
        viewer = viewer or Viewer.admin()
        c_viewer = ffi.new("misp_viewer *")
        if viewer.org is not None:
            org = self.id(viewer.org)
            self._keep.append(org)
            c_viewer.org = org
        groups = list(viewer.sharing_groups)
        if groups:
            array = ffi.new("uint64_t[]", groups)
            self._keep.append(array)
            c_viewer.sharing_groups = array
            c_viewer.sharing_groups_len = len(groups)
        c_viewer.site_admin = viewer.site_admin
        return c_viewer


def _record(record: Optional[dict], fields: dict) -> bytes:
    """The JSON of a record given as a dict and/or keyword fields."""
    merged = dict(record or {})
    merged.update(fields)
    return json.dumps(merged).encode("utf-8")


def _limit(limit: Optional[int]) -> int:
    return -1 if limit is None else limit


class Engine(Handle):
    """A MISP correlation engine.

    ``Engine(paths=..., documents=..., limit=20, advanced=False,
    exclusions=(), ssdeep_threshold=40, acl=True)`` builds one in bulk (in
    parallel) from MISP feed directories, directories of event files and
    event files (``paths``) and MISP JSON documents (``documents``: str,
    bytes or dicts). ``limit=None`` disables the over-correlation limit;
    ``advanced`` switches CIDR and ssdeep correlation; ``acl=False`` shows
    every correlation to every viewer.

    Unreadable files and attributes MISP would refuse do not fail the build:
    see :meth:`build_report`. A malformed document raises
    :class:`~misp_correlate.JsonError`.

    Queries take an optional :class:`Viewer` (default: a site admin, who
    sees everything) and return correlations as dicts
    ``{"kind", "key", "a": {"event", "attribute"}, "b": {...}}`` (plus
    ``"score"`` for ssdeep). The engine may be used from several threads at
    once.
    """

    _free = lib.misp_engine_free

    def __init__(
        self,
        *,
        paths: Iterable[Any] = (),
        documents: Iterable[Union[Text, dict, list]] = (),
        limit: Optional[int] = 20,
        advanced: bool = False,
        exclusions: Iterable[Text] = (),
        ssdeep_threshold: int = 40,
        acl: bool = True,
    ) -> None:
        out = ffi.new("misp_engine_builder **")
        call(lib.misp_engine_builder_new, out)
        builder = out[0]
        try:
            call(lib.misp_engine_builder_set_limit, builder, _limit(limit))
            call(lib.misp_engine_builder_set_advanced, builder, bool(advanced))
            call(lib.misp_engine_builder_set_ssdeep_threshold, builder, ssdeep_threshold)
            call(lib.misp_engine_builder_set_acl, builder, bool(acl))
            for pattern in exclusions:
                p = text_arg(pattern, "exclusion")
                call(lib.misp_engine_builder_add_exclusion, builder, p, len(p))
            for document in documents:
                if isinstance(document, (dict, list)):
                    document = json.dumps(document)
                data = text_arg(document, "document")
                call(lib.misp_engine_builder_add_json, builder, data, len(data))
            path_list = StrList([path_arg(p) for p in paths])
            if len(path_list):
                call(lib.misp_engine_builder_add_paths, builder, path_list.array, len(path_list))
        except BaseException:
            lib.misp_engine_builder_free(builder)
            raise
        engine = ffi.new("misp_engine **")
        call(lib.misp_engine_builder_build, builder, engine)  # consumes the builder
        super().__init__(engine[0])

    @classmethod
    def empty(
        cls, *, limit: Optional[int] = 20, advanced: bool = False, ssdeep_threshold: int = 40, acl: bool = True
    ) -> "Engine":
        """An empty engine, to fill incrementally."""
        out = ffi.new("misp_engine **")
        call(lib.misp_engine_new, _limit(limit), bool(advanced), ssdeep_threshold, bool(acl), out)
        engine = cls.__new__(cls)
        Handle.__init__(engine, out[0])
        return engine

    @classmethod
    def open_snapshot(cls, path: Any, verify: bool = False) -> "Engine":
        """Opens an engine snapshot file written by :meth:`save_snapshot` (or
        ``misp-correlate correlate --save-snapshot``) by memory-mapping it:
        no event is read and nothing is rebuilt. ``verify`` also checks the
        checksum of every byte.

        Queries are answered from the mapped file, with the results of the
        engine that was saved. The first change (``add_*``, ``update_*``,
        ``remove_*``, ``set_*``, exclusions, :meth:`configure`) costs a full
        decode of the snapshot into an in-memory engine, which then takes
        that change and every later one; the file is not changed (call
        :meth:`save_snapshot` to keep them). :meth:`build_report` is empty.
        A missing file raises :class:`MispIOError`; a file that is not an
        engine snapshot, or is damaged, :class:`SnapshotError`. Do not
        change the file while it is open.
        """
        return cls._open_snapshot(lib.misp_engine_open_snapshot, "misp_engine", path, verify)

    def save_snapshot(self, path: Any) -> None:
        """Saves the engine (settings and exclusions included) to a snapshot
        file, replacing it atomically; :meth:`open_snapshot` opens it
        again."""
        p = path_arg(path)
        call(lib.misp_engine_save_snapshot, self._handle(), p, len(p))

    # ----- reports -------------------------------------------------------

    def _json(self, func: Any, *args: Any) -> Any:
        return loads_large(call_returning_string(func, self._handle(), *args))

    def build_report(self) -> dict[str, Any]:
        """``{"rejected": [{"event", "attribute", "type", "value", "reason"}],
        "errors": [{"file", "message"}]}``: what the bulk build refused or
        could not read."""
        return self._json(lib.misp_engine_build_report)

    def summary(self) -> dict[str, int]:
        """Counts: attributes, eligible, keys, exact, cidr, ssdeep,
        over_correlating, correlations."""
        return self._json(lib.misp_engine_summary)

    # ----- queries -------------------------------------------------------

    def correlations(self, viewer: Optional[Viewer] = None) -> list[Correlation]:
        """Every correlation the viewer may see."""
        ids = _Ids()
        return self._json(lib.misp_engine_correlations, ids.viewer(viewer))

    def correlations_of(self, attribute: Id, viewer: Optional[Viewer] = None) -> list[Correlation]:
        """The correlations of one attribute (``a`` is that attribute)."""
        ids = _Ids()
        return self._json(lib.misp_engine_correlations_of, ids.id(attribute), ids.viewer(viewer))

    def related_events(self, event: Id, viewer: Optional[Viewer] = None) -> list[dict[str, Any]]:
        """``[{"event", "correlations"}]``: the events related to ``event``,
        most related first."""
        ids = _Ids()
        return self._json(lib.misp_engine_related_events, ids.id(event), ids.viewer(viewer))

    def over_correlating(self) -> list[dict[str, Any]]:
        """``[{"key", "count"}]``: the keys over the limit."""
        return self._json(lib.misp_engine_over_correlating)

    def top_keys(self, n: int = 10) -> list[dict[str, Any]]:
        """``[{"key", "correlations"}]``: the ``n`` keys with the most
        correlations."""
        return self._json(lib.misp_engine_top_keys, n)

    # ----- changes -------------------------------------------------------

    def _change(self, func: Any, record: Optional[dict], fields: dict) -> None:
        data = _record(record, fields)
        call(func, self._handle(), data, len(data))

    def add_event(self, record: Optional[dict] = None, **fields: Any) -> None:
        """Adds an event: ``id`` and optionally ``org``, ``distribution``,
        ``sharing_group``, ``disable_correlation``."""
        self._change(lib.misp_engine_add_event, record, fields)

    def update_event(self, record: Optional[dict] = None, **fields: Any) -> None:
        """Replaces an event's settings (fields as :meth:`add_event`)."""
        self._change(lib.misp_engine_update_event, record, fields)

    def add_object(self, record: Optional[dict] = None, **fields: Any) -> None:
        """Adds an object: ``id``, ``event`` and optionally ``distribution``,
        ``sharing_group``, ``deleted``."""
        self._change(lib.misp_engine_add_object, record, fields)

    def update_object(self, record: Optional[dict] = None, **fields: Any) -> None:
        """Replaces an object's settings (fields as :meth:`add_object`)."""
        self._change(lib.misp_engine_update_object, record, fields)

    def add_attribute(self, record: Optional[dict] = None, **fields: Any) -> None:
        """Adds an attribute: ``id``, ``event``, ``type``, ``value`` (raw) and
        optionally ``object``, ``distribution``, ``sharing_group``,
        ``disable_correlation``, ``deleted``. Raises
        :class:`~misp_correlate.RejectedValueError` if MISP would refuse the
        value."""
        self._change(lib.misp_engine_add_attribute, record, fields)

    def update_attribute(self, record: Optional[dict] = None, **fields: Any) -> None:
        """Replaces an attribute (fields as :meth:`add_attribute`)."""
        self._change(lib.misp_engine_update_attribute, record, fields)

    def remove_event(self, event: Id) -> None:
        """Removes an event and its attributes."""
        ids = _Ids()  # keeps the identity's buffer alive during the call
        call(lib.misp_engine_remove_event, self._handle(), ids.id(event))

    def remove_object(self, obj: Id) -> None:
        """Removes an object (its attributes stop correlating)."""
        ids = _Ids()  # keeps the identity's buffer alive during the call
        call(lib.misp_engine_remove_object, self._handle(), ids.id(obj))

    def remove_attribute(self, attribute: Id) -> None:
        """Deletes an attribute."""
        ids = _Ids()  # keeps the identity's buffer alive during the call
        call(lib.misp_engine_remove_attribute, self._handle(), ids.id(attribute))

    def set_attribute_correlation(self, attribute: Id, enabled: bool) -> None:
        """Enables or disables correlation of one attribute."""
        ids = _Ids()  # keeps the identity's buffer alive during the call
        call(lib.misp_engine_set_attribute_correlation, self._handle(), ids.id(attribute), bool(enabled))

    def set_event_correlation(self, event: Id, enabled: bool) -> None:
        """Enables or disables correlation of a whole event."""
        ids = _Ids()  # keeps the identity's buffer alive during the call
        call(lib.misp_engine_set_event_correlation, self._handle(), ids.id(event), bool(enabled))

    def _exclusion(self, pattern: Text, add: bool) -> bool:
        p = text_arg(pattern, "pattern")
        changed = ffi.new("bool *")
        call(lib.misp_engine_set_exclusion, self._handle(), p, len(p), add, changed)
        return bool(changed[0])

    def add_exclusion(self, pattern: Text) -> bool:
        """Adds an exclusion pattern (retroactive); returns whether it is new."""
        return self._exclusion(pattern, True)

    def remove_exclusion(self, pattern: Text) -> bool:
        """Removes an exclusion pattern; returns whether it was there."""
        return self._exclusion(pattern, False)

    def configure(
        self, *, limit: Optional[int] = 20, advanced: bool = False, ssdeep_threshold: int = 40, acl: bool = True
    ) -> None:
        """Changes every setting at once (as :meth:`empty` takes them)."""
        call(lib.misp_engine_configure, self._handle(), _limit(limit), bool(advanced), ssdeep_threshold, bool(acl))
