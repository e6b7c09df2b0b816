"""Exceptions raised for the library's result codes.

Every non-``MISP_OK`` result becomes an instance of a :class:`MispError`
subclass carrying the library's message (``str(e)``), the numeric ``code``
and its C ``name``. Argument and data errors are also ``ValueError``\\ s,
file errors ``OSError``\\ s.
"""

from __future__ import annotations


class MispError(Exception):
    """An error reported by the misp-correlate library."""

    #: The C name of the result code.
    name = "MISP_ERR"
    #: The numeric result code (stable, see ``misp_correlate.h``).
    code = -1

    @property
    def message(self) -> str:
        """The library's message (file, line, value or argument concerned)."""
        return str(self.args[0]) if self.args else ""


class NullArgumentError(MispError, ValueError):
    """A required pointer argument was NULL (a bug in the bindings)."""

    name, code = "MISP_ERR_NULL", 1


class Utf8Error(MispError, ValueError):
    """A text argument was not valid UTF-8."""

    name, code = "MISP_ERR_UTF8", 2


class InvalidArgumentError(MispError, ValueError):
    """An argument was out of range or malformed, or named nothing that exists."""

    name, code = "MISP_ERR_INVALID", 3


class MispIOError(MispError, OSError):
    """A file or directory could not be read or written."""

    name, code = "MISP_ERR_IO", 4


class JsonError(MispError, ValueError):
    """A document was not valid JSON, or not a MISP document."""

    name, code = "MISP_ERR_JSON", 5


class UnknownTypeError(MispError, ValueError):
    """A type name is not one of MISP's attribute types."""

    name, code = "MISP_ERR_UNKNOWN_TYPE", 6


class RejectedValueError(MispError, ValueError):
    """MISP would refuse to save the value; the message is MISP's reason."""

    name, code = "MISP_ERR_REJECTED", 7


class WarninglistError(MispError, ValueError):
    """A warninglist file is unusable as a whole."""

    name, code = "MISP_ERR_WARNINGLIST", 8


class PoisonedError(MispError, RuntimeError):
    """An engine was left inconsistent by an earlier internal panic."""

    name, code = "MISP_ERR_POISONED", 9


class SnapshotError(MispError, ValueError):
    """A snapshot file is not of the expected kind and format version, or is damaged."""

    name, code = "MISP_ERR_SNAPSHOT", 10


class PanicError(MispError, RuntimeError):
    """An internal panic was caught in the library (a bug)."""

    name, code = "MISP_ERR_PANIC", 99


#: Exception class by result code.
BY_CODE: dict[int, type[MispError]] = {
    cls.code: cls
    for cls in (
        NullArgumentError,
        Utf8Error,
        InvalidArgumentError,
        MispIOError,
        JsonError,
        UnknownTypeError,
        RejectedValueError,
        WarninglistError,
        PoisonedError,
        SnapshotError,
        PanicError,
    )
}


def from_code(code: int, message: str) -> MispError:
    """The exception for result ``code`` with ``message``."""
    cls = BY_CODE.get(code)
    if cls is None:
        error = MispError(f"unknown result code {code}: {message}")
        error.code = code
        return error
    return cls(message)
