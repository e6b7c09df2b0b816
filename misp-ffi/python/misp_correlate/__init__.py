"""MISP value normalisation, warninglist checks and correlation.

Python bindings over the misp-correlate C library (cffi, ABI mode).

>>> import misp_correlate
>>> misp_correlate.normalize("ip-src", " 10.0.0.1 ")
'10.0.0.1'

Errors from the library are raised as :class:`MispError` subclasses carrying
the library's message.
"""

from __future__ import annotations

from ._lowlevel import Text, call_returning_string, ffi, lib, text_arg
from .errors import (
    InvalidArgumentError,
    JsonError,
    MispError,
    MispIOError,
    NullArgumentError,
    PanicError,
    PoisonedError,
    RejectedValueError,
    UnknownTypeError,
    Utf8Error,
    WarninglistError,
)

__version__ = "0.1.0"

__all__ = [
    "InvalidArgumentError",
    "JsonError",
    "MispError",
    "MispIOError",
    "NullArgumentError",
    "PanicError",
    "PoisonedError",
    "RejectedValueError",
    "UnknownTypeError",
    "Utf8Error",
    "WarninglistError",
    "normalize",
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
