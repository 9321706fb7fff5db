"""Loading libplock and the ctypes mirrors of <plock.h>.

Everything that depends on the C library's binary interface is here: which
library is loaded, the function prototypes, and one ctypes.Structure per
struct of <plock.h>, field for field (tests/python/test_layout.py compares
each with the header through a C compiler).
"""
from __future__ import annotations

import ctypes
import os
import types
from pathlib import Path

SONAME = "libplock.so.0"
ENV = "PLOCK_LIBRARY"
#: The libplock inside the package: the build backend compiles it there.
BUNDLED = Path(__file__).resolve().parent / SONAME


class Segment(ctypes.Structure):
    """struct plock_segment of <plock.h>."""

    _fields_ = [
        ("start", ctypes.c_size_t),  # uintptr_t
        ("end", ctypes.c_size_t),  # uintptr_t
        ("offset", ctypes.c_uint64),
        ("inode", ctypes.c_uint64),
        ("dev_major", ctypes.c_uint),
        ("dev_minor", ctypes.c_uint),
        ("seg_class", ctypes.c_int),
        ("prot", ctypes.c_int),
        ("locked", ctypes.c_int),
        ("lock_on_fault", ctypes.c_int),
        ("size", ctypes.c_uint64),
        ("resident", ctypes.c_uint64),
        ("locked_bytes", ctypes.c_uint64),
        ("path", ctypes.c_char_p),  # const char *, into the same block
    ]


class Status(ctypes.Structure):
    """struct plock_status of <plock.h>."""

    _fields_ = [
        ("state", ctypes.c_int),
        ("future", ctypes.c_int),
        ("cap_ipc_lock", ctypes.c_int),
        ("vmlck", ctypes.c_uint64),
        ("memlock_cur", ctypes.c_uint64),
        ("memlock_max", ctypes.c_uint64),
        ("headroom", ctypes.c_uint64),
    ]


class Reason(ctypes.Structure):
    """struct plock_reason of <plock.h>."""

    _fields_ = [
        ("why", ctypes.c_int),
        ("err", ctypes.c_int),
        ("op", ctypes.c_int),
        ("classes", ctypes.c_int),
        ("flags", ctypes.c_int),
        ("cap_ipc_lock", ctypes.c_int),
        ("cause", ctypes.c_int),
        ("detail", ctypes.c_int),
        ("need", ctypes.c_uint64),
        ("vmlck", ctypes.c_uint64),
        ("memlock", ctypes.c_uint64),
        ("unrestored", ctypes.c_uint64),
    ]


# Every Structure above, by the name of the C struct it mirrors.
STRUCTS = {"plock_segment": Segment, "plock_status": Status, "plock_reason": Reason}


def _open(path: str) -> ctypes.CDLL:
    return ctypes.CDLL(path, use_errno=True)


def load() -> tuple[ctypes.CDLL, str]:
    """Opens libplock; returns the library and the path it was opened by.

    The library is the one inside the package (BUNDLED, compiled by the
    build backend into the wheel), unless $PLOCK_LIBRARY names another:
    then that file (or soname, as the dynamic loader finds it) and nothing
    else. No other libplock is looked for: one installed on the system is
    used only when PLOCK_LIBRARY names it.
    """
    explicit = os.environ.get(ENV)
    if explicit:
        try:
            return _open(explicit), explicit
        except OSError as e:
            raise ImportError(
                "plock_linux: cannot load $%s=%s: %s (unset it to use the libplock inside "
                "the package)" % (ENV, explicit, e), name="plock_linux", path=explicit) from e
    if not BUNDLED.exists():
        raise ImportError(
            "plock_linux: no libplock inside the package (%s): this copy was not built by "
            "its build backend (a source tree?). Install it with pip, which compiles libplock "
            "into it: `pip install ./python` in a plock checkout, or pip install of the sdist "
            "or a wheel; or set %s=/path/to/libplock.so.0 (build/libplock.so after `make` in "
            "a checkout)." % (BUNDLED, ENV), name="plock_linux", path=str(BUNDLED))
    try:
        return _open(str(BUNDLED)), str(BUNDLED)
    except OSError as e:
        raise ImportError("plock_linux: cannot load %s: %s (reinstall the package)"
                          % (BUNDLED, e), name="plock_linux", path=str(BUNDLED)) from e


# The functions of <plock.h> the package calls: name: (restype, argtypes).
FUNCTIONS = {
    "plock_ctl": (ctypes.c_int, [ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.POINTER(Reason)]),
    "plock_state": (ctypes.c_int, []),
    "plock_segments": (ctypes.POINTER(Segment), [ctypes.c_int, ctypes.POINTER(ctypes.c_size_t)]),
    "plock_segment_class_name": (ctypes.c_char_p, [ctypes.c_int]),
    "plock_status": (ctypes.c_int, [ctypes.c_int, ctypes.POINTER(Status)]),
    "plock_why_name": (ctypes.c_char_p, [ctypes.c_int]),
}


def bind(handle: ctypes.CDLL, path: str) -> types.SimpleNamespace:
    """The FUNCTIONS of handle, with their prototypes; ImportError if it
    lacks one (a library that is not libplock)."""
    missing = [name for name in FUNCTIONS if not hasattr(handle, name)]
    if missing:
        raise ImportError("plock_linux: %s is not libplock: it has no %s"
                          % (path, ", ".join(missing)), name="plock_linux", path=path)
    functions = types.SimpleNamespace()
    for name, (restype, argtypes) in FUNCTIONS.items():
        f = getattr(handle, name)
        f.restype, f.argtypes = restype, argtypes
        setattr(functions, name, f)
    return functions


def _address(f) -> int:
    return ctypes.cast(f, ctypes.c_void_p).value


def _mapped_file(address: int) -> str:
    """The file of /proc/self/maps that holds address ("?" if none)."""
    with open("/proc/self/maps") as f:
        for line in f:
            fields = line.split(None, 5)
            lo, hi = (int(x, 16) for x in fields[0].split("-"))
            if lo <= address < hi:
                return fields[5].strip() if len(fields) > 5 else "?"
    return "?"


def one_per_process(functions: types.SimpleNamespace, path: str) -> str:
    """Makes functions call the process's own libplock where it has one.

    plock's state belongs to the process. An interpreter linked with
    libplock (CPython rebuilt against libplock.a for a native os.plock:
    its executable exports plock, plock_ctl, plock_state, ...) or one that
    preloaded it (LD_PRELOAD) keeps its state in that copy, and a second
    copy loaded here would keep another: os.plock(PROCLOCK) and then
    plock(PROCLOCK) would both succeed, state() would say 0. So when the
    process's global symbols have a plock_ctl that is not the one of the
    library loaded here, each function the process has is taken from it;
    the others stay this library's (and their own calls of plock_state go
    to the process's, as the dynamic loader binds them). Returns the file
    that plock_ctl now comes from.
    """
    process = ctypes.CDLL(None, use_errno=True)
    try:
        theirs = process.plock_ctl
    except AttributeError:
        return path
    if _address(theirs) == _address(functions.plock_ctl):
        return path
    for name, (restype, argtypes) in FUNCTIONS.items():
        try:
            f = getattr(process, name)
        except AttributeError:
            continue
        f.restype, f.argtypes = restype, argtypes
        setattr(functions, name, f)
    return _mapped_file(_address(theirs))


_handle, _path = load()
lib = bind(_handle, _path)
LIBRARY = one_per_process(lib, _path)

# free(3) of the C library libplock uses, for the block plock_segments returns.
_libc = ctypes.CDLL(None)
free = _libc.free
free.argtypes = [ctypes.c_void_p]
free.restype = None
