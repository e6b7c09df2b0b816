"""Loading the C library, calling it, and moving strings across.

The declarations come from the library's own generated header
(``misp_correlate.h``, shipped in this package), so the bindings cannot drift
from the library: cffi parses the header in ABI mode. The header's
preprocessor lines (include guard, ``#include``, version ``#define``, the
``extern "C"`` block for C++) are dropped first, because cffi's ``cdef``
does not run a preprocessor.

Environment overrides: ``MISP_CORRELATE_LIB`` (path of the shared library)
and ``MISP_CORRELATE_HEADER`` (path of the header).
"""

from __future__ import annotations

import gc
import json
import os
import sys
from pathlib import Path
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Union

from cffi import FFI

from . import errors

_HERE = Path(__file__).resolve().parent

if sys.platform == "darwin":
    _LIBRARY = "libmisp_correlate_ffi.dylib"
elif sys.platform == "win32":
    _LIBRARY = "misp_correlate_ffi.dll"
else:
    _LIBRARY = "libmisp_correlate_ffi.so"


def cdef_from_header(header: str) -> str:
    """The header's declarations without preprocessor lines.

    Lines from ``#ifdef __cplusplus`` to the matching ``#endif`` (the
    ``extern "C"`` wrapper) are dropped, as is every other line starting
    with ``#``. The PHP example applies the same rule.
    """
    kept = []
    in_cplusplus = False
    for line in header.splitlines():
        stripped = line.strip()
        if in_cplusplus:
            if stripped.startswith("#endif"):
                in_cplusplus = False
            continue
        if stripped.startswith("#ifdef __cplusplus"):
            in_cplusplus = True
            continue
        if stripped.startswith("#"):
            continue
        kept.append(line)
    return "\n".join(kept)


def _load() -> tuple[FFI, Any]:
    header_path = Path(os.environ.get("MISP_CORRELATE_HEADER", _HERE / "misp_correlate.h"))
    library_path = Path(os.environ.get("MISP_CORRELATE_LIB", _HERE / _LIBRARY))
    try:
        header = header_path.read_text(encoding="utf-8")
    except OSError as e:
        raise ImportError(f"misp_correlate: cannot read the C header {header_path}: {e}") from e
    ffi = FFI()
    ffi.cdef(cdef_from_header(header))
    try:
        lib = ffi.dlopen(str(library_path))
    except OSError as e:
        raise ImportError(
            f"misp_correlate: cannot load the C library {library_path}: {e} "
            "(install the package with pip, or set MISP_CORRELATE_LIB)"
        ) from e
    return ffi, lib


ffi, lib = _load()

Text = Union[str, bytes]


def text_arg(value: Text, name: str) -> bytes:
    """``value`` as UTF-8 bytes (``bytes`` are passed through unchanged, so
    the library itself reports invalid UTF-8)."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    raise TypeError(f"{name} must be str or bytes, not {type(value).__name__}")


def path_arg(path: Union[str, bytes, "os.PathLike[str]"]) -> bytes:
    """A file system path as bytes (the library rejects non-UTF-8 paths)."""
    return os.fsencode(path)


class StrList:
    """A C array of ``misp_str`` over Python byte strings.

    The array borrows the byte strings: keep this object alive for as long
    as the library may read the array (the duration of the call).
    """

    def __init__(self, items: list[bytes]) -> None:
        self._buffers = [ffi.from_buffer(item) for item in items]
        self.array = ffi.new("misp_str[]", len(items))
        for entry, item, buf in zip(self.array, items, self._buffers):
            entry.data = buf
            entry.len = len(item)

    def __len__(self) -> int:
        return len(self._buffers)


def last_error() -> str:
    """This thread's last error message from the library."""
    size = lib.misp_last_error_len() + 1
    buf = ffi.new("char[]", size)
    written = ffi.new("size_t *")
    if lib.misp_last_error(buf, size, written) != lib.MISP_OK:
        return "<the error message could not be read>"
    return ffi.unpack(buf, written[0]).decode("utf-8", errors="replace")


def call(func: Callable[..., int], *args: Any) -> None:
    """Calls ``func`` and raises the matching :class:`errors.MispError` if it
    does not return ``MISP_OK``."""
    code = func(*args)
    if code != lib.MISP_OK:
        raise errors.from_code(code, last_error())


def call_returning_string(func: Callable[..., int], *args: Any) -> bytes:
    """Calls ``func(*args, &out, &out_len)`` and returns the library-owned
    string it produced as ``bytes``, freeing it."""
    out = ffi.new("char **")
    out_len = ffi.new("size_t *")
    call(func, *args, out, out_len)
    try:
        return ffi.unpack(out[0], out_len[0])
    finally:
        lib.misp_string_free(out[0])


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pauses the cyclic garbage collector while large results are built.

    Decoding a batch result creates hundreds of thousands of lists and dicts;
    each few hundred allocations would otherwise trigger a collection that
    walks the caller's live objects (in measurements, half of the decoding
    time). The decoded values hold no reference cycles, so pausing the
    collector is safe; its previous state is restored.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def loads_large(raw: bytes) -> Any:
    """``json.loads`` for large results, with the garbage collector paused."""
    with gc_paused():
        return json.loads(raw)


class Handle:
    """Base of the Python objects that own a C handle.

    The handle is freed by :meth:`close` (idempotent), by leaving a ``with``
    block, or by the garbage collector as a safety net. A closed object
    raises :class:`ValueError` when used. Closing an object while another
    thread is still calling it is not allowed.
    """

    _free: Callable[[Any], None]

    def __init__(self, raw: Any) -> None:
        self._ptr: Any = ffi.gc(raw, type(self)._free)

    @classmethod
    def _open_snapshot(cls, func: Callable[..., int], c_type: str, path: Any, verify: bool) -> Any:
        """A new ``cls`` owning the handle (of C type ``c_type *``) that
        ``func(path, path_len, verify, &out)`` opens from a snapshot file."""
        p = path_arg(path)
        out = ffi.new(f"{c_type} **")
        call(func, p, len(p), bool(verify), out)
        self = cls.__new__(cls)
        Handle.__init__(self, out[0])
        return self

    def _handle(self) -> Any:
        if self._ptr is None:
            raise ValueError(f"{type(self).__name__} is closed")
        return self._ptr

    def close(self) -> None:
        """Frees the C handle now. Calling it again does nothing."""
        ptr, self._ptr = self._ptr, None
        if ptr is not None:
            ffi.release(ptr)

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
