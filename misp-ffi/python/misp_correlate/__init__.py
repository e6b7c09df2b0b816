"""MISP value normalisation, warninglist checks and correlation.

Python bindings over the misp-correlate C library (cffi, ABI mode).

>>> import misp_correlate
>>> misp_correlate.normalize("ip-src", " 10.0.0.1 ")
'10.0.0.1'

Errors from the library are raised as :class:`MispError` subclasses carrying
the library's message.
"""

from __future__ import annotations

import json
import os
from typing import Any, Iterable, Union

from ._lowlevel import StrList, Text, call_returning_string, ffi, lib, path_arg, text_arg
from .engine import Engine, Viewer
from .warninglists import IMPROVEMENTS, BatchHits, Warninglists
from .errors import (
    InvalidArgumentError,
    JsonError,
    MispError,
    MispIOError,
    NullArgumentError,
    PanicError,
    PoisonedError,
    RejectedValueError,
    SnapshotError,
    UnknownTypeError,
    Utf8Error,
    WarninglistError,
)

__version__ = "0.1.0"

__all__ = [
    "Engine",
    "Viewer",
    "IMPROVEMENTS",
    "BatchHits",
    "Warninglists",
    "InvalidArgumentError",
    "JsonError",
    "MispError",
    "MispIOError",
    "NullArgumentError",
    "PanicError",
    "PoisonedError",
    "RejectedValueError",
    "SnapshotError",
    "UnknownTypeError",
    "Utf8Error",
    "WarninglistError",
    "load_summary",
    "load_summary_paths",
    "normalize",
    "snapshot_info",
    "version",
]


def version() -> str:
    """The version of the loaded C library."""
    return ffi.string(lib.misp_version()).decode("ascii")


def normalize(type: Text, value: Text) -> str:
    """``value`` as MISP stores an attribute of ``type`` (trimmed, refanged,
    rewritten per type and validated).

    Raises :class:`UnknownTypeError` for a type MISP does not know and
    :class:`RejectedValueError` (message: MISP's reason) for a value MISP
    would refuse to save.
    """
    t = text_arg(type, "type")
    v = text_arg(value, "value")
    return call_returning_string(lib.misp_normalize, t, len(t), v, len(v)).decode("utf-8")


PathArg = Union[str, bytes, "os.PathLike[str]"]


def load_summary(document: Union[bytes, str]) -> dict[str, Any]:
    """What a MISP JSON document holds, as ``misp-correlate load --json``
    reports it.

    Returns ``{"events": n, "attributes": n, "types": {type: count},
    "rejected": [{"event", "attribute", "type", "value", "reason"}],
    "errors": [{"file", "message"}]}``. Attributes MISP would refuse and
    malformed JSON are listed in the report, not raised.
    """
    data = text_arg(document, "document")
    raw = call_returning_string(lib.misp_load_summary, data, len(data))
    return json.loads(raw)


def load_summary_paths(paths: Iterable[PathArg]) -> dict[str, Any]:
    """Like :func:`load_summary`, for MISP feed directories, directories of
    event files and event files (read in parallel). Unreadable files are
    listed in ``errors``."""
    items = StrList([path_arg(p) for p in paths])
    raw = call_returning_string(lib.misp_load_summary_paths, items.array, len(items))
    return json.loads(raw)


def snapshot_info(path: PathArg) -> dict[str, Any]:
    """What the snapshot file at ``path`` holds (any kind), after checking it
    whole: ``{"kind": "warninglists"|"engine", "version", "file_bytes",
    "counts": {name: n}, "sections": {name: bytes}}``. Raises
    :class:`SnapshotError` for a file that is not a snapshot or is damaged."""
    p = path_arg(path)
    return json.loads(call_returning_string(lib.misp_snapshot_info, p, len(p)))
