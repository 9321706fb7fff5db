"""Loading libplock and the ctypes mirrors of <plock.h>.

Everything that depends on the C library's binary interface is here: where
the library is found, the function prototypes, and one ctypes.Structure per
struct of <plock.h>, field for field (tests/python/test_layout.py compares
each with the header through a C compiler).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
from pathlib import Path

SONAME = "libplock.so.0"
ENV = "PLOCK_LIBRARY"


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


def _checkout_library() -> Path | None:
    """build/libplock.so of the source checkout this package came from.

    That is the checkout the wheel was built from (recorded by the build
    backend in plock/_origin.py), or, for a package imported straight from
    a checkout's python/ directory, the directory above it.
    """
    roots = []
    try:
        from . import _origin  # written into the wheel by plock_build
        roots.append(Path(_origin.CHECKOUT))
    except ImportError:
        pass
    roots.append(Path(__file__).resolve().parent.parent.parent)
    for root in roots:
        lib = root / "build" / "libplock.so"
        if (root / "include" / "plock.h").is_file() and lib.exists():
            return lib
    return None


def _open(path: str) -> ctypes.CDLL:
    return ctypes.CDLL(path, use_errno=True)


def load() -> tuple[ctypes.CDLL, str]:
    """Opens libplock; returns the library and the name it was opened by.

    In order: the file named by $PLOCK_LIBRARY (and nothing else when it is
    set), the installed library by its soname (libplock.so.0, as the dynamic
    loader finds it: ld.so.cache, LD_LIBRARY_PATH, the default directories,
    or what ctypes.util.find_library finds), then build/libplock.so of the
    source checkout the package came from.
    """
    explicit = os.environ.get(ENV)
    if explicit:
        try:
            return _open(explicit), explicit
        except OSError as e:
            raise ImportError(
                "plock_linux: cannot load $%s=%s: %s (unset it to use the installed "
                "libplock, or point it at build/libplock.so after make)" % (ENV, explicit, e),
                name="plock_linux", path=explicit) from e
    tried = []
    for name in (SONAME, ctypes.util.find_library("plock")):
        if not name or name in tried:
            continue
        tried.append(name)
        try:
            return _open(name), name
        except OSError:
            pass
    built = _checkout_library()
    if built is not None:
        tried.append(str(built))
        try:
            return _open(str(built)), str(built)
        except OSError as e:
            raise ImportError("plock_linux: cannot load %s: %s (run make in the checkout)"
                              % (built, e), name="plock_linux", path=str(built)) from e
    raise ImportError(
        "plock_linux: libplock is not installed: no %s (tried %s). Build and install the C "
        "library with `make && sudo make install` (then `sudo ldconfig`), or set "
        "%s=/path/to/plock/build/libplock.so after `make`."
        % (SONAME, ", ".join(tried), ENV), name="plock_linux")


def _prototypes(lib: ctypes.CDLL) -> None:
    c_int, c_size_t = ctypes.c_int, ctypes.c_size_t
    lib.plock.argtypes = [c_int]
    lib.plock.restype = c_int
    lib.plock_state.argtypes = []
    lib.plock_state.restype = c_int
    lib.plock_segments.argtypes = [c_int, ctypes.POINTER(c_size_t)]
    lib.plock_segments.restype = ctypes.POINTER(Segment)
    lib.plock_segment_class_name.argtypes = [c_int]
    lib.plock_segment_class_name.restype = ctypes.c_char_p
    lib.plock_status.argtypes = [c_int, ctypes.POINTER(Status)]
    lib.plock_status.restype = c_int
    lib.plock_ctl.argtypes = [c_int, c_int, c_int, ctypes.POINTER(Reason)]
    lib.plock_ctl.restype = c_int
    lib.plock_why_name.argtypes = [c_int]
    lib.plock_why_name.restype = ctypes.c_char_p


lib, LIBRARY = load()
_prototypes(lib)

# free(3) of the C library libplock uses, for the block plock_segments returns.
_libc = ctypes.CDLL(None)
free = _libc.free
free.argtypes = [ctypes.c_void_p]
free.restype = None
