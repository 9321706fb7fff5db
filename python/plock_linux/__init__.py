"""System V plock() for Linux Python: os.plock, with libplock inside.

Python's ``os.plock`` exists only where the C library has ``plock()``;
on Linux it does not, and code written for it fails with AttributeError.
This package calls libplock, the C library that implements plock() on
Linux on top of mlock(2), and offers the same call::

    import plock_linux
    plock_linux.plock(plock_linux.PROCLOCK)     # text and data locked
    ...                                         # work that must not be paged out
    plock_linux.plock(plock_linux.UNLOCK)

or, for code written for ``os.plock``, unchanged::

    import os, plock_linux
    plock_linux.install()           # os.plock and os.PROCLOCK ... when absent
    try:
        os.plock(os.PROCLOCK)
    except PermissionError:         # RLIMIT_MEMLOCK 0 and no CAP_IPC_LOCK
        pass                        # run unlocked

Installing: the distribution is plock-linux (the name plock on the
Package Index is an unrelated Plone installer's). pip builds it from
source, offline, with its own build backend, which compiles libplock with
the system's C compiler (cc, or $CC) into the package::

    pip install ./python                    # in a plock checkout
    pip install plock_linux-0.1.0.tar.gz    # the sdist
    pip wheel ./python                      # a wheel for machines without a compiler

``plock(op)`` takes op as ``os.plock(op, /)`` does: one positional int
(True is PROCLOCK); a str, float or None is TypeError, an int outside C
int OverflowError, and nothing is locked then. It raises what
``os.plock`` raises: ``OSError(errno, strerror)``, that is
PermissionError for EPERM (RLIMIT_MEMLOCK is 0 and the process lacks
CAP_IPC_LOCK), and OSError with ``errno`` EINVAL (a value that is no
operation, a class locked already, UNLOCK with nothing locked) or ENOMEM
(the lock does not fit under RLIMIT_MEMLOCK). The exception also carries
why, as libplock decided it: ``e.reason`` ("locked", "nothing",
"zerolimit", "limit", ...) and ``e.need``, the bytes RLIMIT_MEMLOCK must
allow for the call to succeed (0 where no limit is involved).

``state()``, ``status()`` and ``segments()`` show what is locked and what
limits locking. ``LIBRARY`` is the libplock the package calls: the one
inside the package, or the file $PLOCK_LIBRARY names; in a process that
has a libplock of its own (an interpreter linked with it, LD_PRELOAD),
that one, so that the process keeps one plock state. See plock(3) for
the C interface.
"""
import ctypes
import operator
import os
import sys
import warnings
from dataclasses import dataclass

from . import _ffi

__all__ = [
    "UNLOCK", "PROCLOCK", "TXTLOCK", "DATLOCK", "SHLIBLOCK", "PROCSHLIBLOCK",
    "TXTSHLIBLOCK", "DATSHLIBLOCK",
    "SEG_OTHER", "SEG_TEXT", "SEG_DATA", "SEG_STACK", "SEG_SHLIB_TEXT", "SEG_SHLIB_DATA",
    "PROT_READ", "PROT_WRITE", "PROT_EXEC", "PROT_SHARED", "UNLIMITED",
    "plock", "state", "status", "segments", "segment_class_name", "install",
    "Segment", "Status", "LIBRARY",
]

#: The libplock this package loaded: the path of the one inside the package,
#: or $PLOCK_LIBRARY.
LIBRARY: str = _ffi.LIBRARY

# The operations of <sys/lock.h>.
UNLOCK = 0  #: remove every lock plock() made
PROCLOCK = 1  #: lock text and data (data includes the stack)
TXTLOCK = 2  #: lock text
DATLOCK = 4  #: lock data and stack
SHLIBLOCK = 8  #: lock shared-library text and data
PROCSHLIBLOCK = 9  #: PROCLOCK | SHLIBLOCK
TXTSHLIBLOCK = 10  #: TXTLOCK | SHLIBLOCK
DATSHLIBLOCK = 12  #: DATLOCK | SHLIBLOCK

_OPS = ("UNLOCK", "PROCLOCK", "TXTLOCK", "DATLOCK", "SHLIBLOCK", "PROCSHLIBLOCK",
        "TXTSHLIBLOCK", "DATSHLIBLOCK")

# Segment.seg_class: PLOCK_SEG_* of <plock.h>.
SEG_OTHER = 0  #: never locked by plock()
SEG_TEXT = 1  #: main program, not writable: TXTLOCK
SEG_DATA = 2  #: main program writable, heap, anonymous: DATLOCK
SEG_STACK = 3  #: the main thread's [stack]: DATLOCK
SEG_SHLIB_TEXT = 4  #: shared object, not writable: SHLIBLOCK
SEG_SHLIB_DATA = 5  #: shared object, writable: SHLIBLOCK

# Bits of Segment.prot: PLOCK_PROT_* of <plock.h>.
PROT_READ = 1
PROT_WRITE = 2
PROT_EXEC = 4
PROT_SHARED = 8  #: a MAP_SHARED mapping

#: PLOCK_UNLIMITED: no limit (Status.memlock_cur, memlock_max, headroom).
UNLIMITED = 2**64 - 1


def _error(err: int) -> OSError:
    # OSError(errno, strerror) is what os.plock raises (PyErr_SetFromErrno):
    # the constructor picks the subclass, PermissionError for EPERM.
    return OSError(err, os.strerror(err))


# The range of a C int, which is what plock() takes.
_INT_BITS = 8 * ctypes.sizeof(ctypes.c_int)
_INT_MIN, _INT_MAX = -(1 << (_INT_BITS - 1)), (1 << (_INT_BITS - 1)) - 1


def _c_int(op) -> int:
    """op converted as CPython converts the argument of os.plock(op, /).

    Argument Clinic declares it ``op: int``, a C int: the object's
    __index__ (an int or bool as it is), TypeError for anything that has
    none (str, float, None, Decimal), OverflowError outside C int. Python
    3.9 did it differently: a float was refused with its own message, and an
    object with __int__ but no __index__ was taken, with a DeprecationWarning.
    """
    if sys.version_info < (3, 10) and not isinstance(op, int):
        op = _c_int_39(op)
    value = operator.index(op)
    if not _INT_MIN <= value <= _INT_MAX:
        raise OverflowError("Python int too large to convert to C int")
    return value


def _c_int_39(op):
    # Python 3.9's clinic int converter: a float check, then
    # _PyLong_FromNbIndexOrNbInt (Objects/longobject.c), whose messages name
    # the type by its C name ("decimal.Decimal"), as operator.index's do.
    if isinstance(op, float):
        raise TypeError("integer argument expected, got float")
    kind = type(op)
    if hasattr(kind, "__index__"):
        return op
    try:
        operator.index(op)
    except TypeError as e:  # "'NAME' object cannot be interpreted as an integer"
        name = str(e)[1:].rsplit("' object cannot", 1)[0]
    if not hasattr(kind, "__int__"):
        raise TypeError("an integer is required (got type %s)" % name)
    value = kind.__int__(op)  # _PyLong_FromNbInt, then the warning
    if type(value) is not int:
        if not isinstance(value, int):
            raise TypeError("__int__ returned non-int (type %s)" % type(value).__name__)
        warnings.warn("__int__ returned non-int (type %s).  The ability to return an "
                      "instance of a strict subclass of int is deprecated, and may be "
                      "removed in a future version of Python." % type(value).__name__,
                      DeprecationWarning, stacklevel=4)
    warnings.warn("an integer is required (got type %s).  Implicit conversion to integers "
                  "using __int__ is deprecated, and may be removed in a future version of "
                  "Python." % name, DeprecationWarning, stacklevel=4)
    return value


def plock(op: int, /) -> None:
    """Lock or unlock the process's text and/or data in memory: plock(op).

    op is one of UNLOCK, PROCLOCK, TXTLOCK, DATLOCK, SHLIBLOCK,
    PROCSHLIBLOCK, TXTSHLIBLOCK, DATSHLIBLOCK. It is taken exactly as
    os.plock(op, /) takes it: one positional int (a bool is an int, True
    is PROCLOCK); a str, float, None or any other object without
    __index__ raises TypeError, an int outside C int OverflowError, and a
    keyword TypeError. In none of these cases is anything locked or
    unlocked: 2**32 + 1 is no PROCLOCK.

    Returns None; raises what os.plock raises, OSError(errno, strerror):

    - PermissionError (EPERM): RLIMIT_MEMLOCK is 0 and the process lacks
      CAP_IPC_LOCK;
    - OSError, errno EINVAL: op is no operation, a class it names is locked
      already, or UNLOCK with nothing locked;
    - OSError, errno ENOMEM: the lock does not fit under RLIMIT_MEMLOCK, or
      the system cannot lock that much.

    A failed call changes nothing. The exception has two more attributes:
    ``reason``, why libplock refused ("badop", "locked", "nothing",
    "zerolimit", "limit", "nomem", ...), and ``need``, the bytes
    RLIMIT_MEMLOCK must allow for the call to succeed (0 unless a limit or
    memory was the reason).
    """
    op = _c_int(op)
    why = _ffi.Reason()
    if _ffi.lib.plock_ctl(0, op, 0, ctypes.byref(why)) == 0:
        return None
    err = ctypes.get_errno() or why.err
    e = _error(err)
    e.reason = _ffi.lib.plock_why_name(why.why).decode()
    e.need = why.need
    raise e


def state() -> int:
    """What plock() has locked in this process: 0, or an OR of TXTLOCK,
    DATLOCK and SHLIBLOCK (PROCLOCK makes TXTLOCK|DATLOCK). Cannot fail."""
    return _ffi.lib.plock_state()


def segment_class_name(seg_class: int) -> str:
    """The name of a SEG_* value: "text", "data", "stack", "shlib-text",
    "shlib-data" or "other"; "?" out of range."""
    return _ffi.lib.plock_segment_class_name(seg_class).decode()


@dataclass(frozen=True)
class Segment:
    """One mapping of a process, as /proc/PID/smaps shows it, with the class
    plock() gives it (struct plock_segment of <plock.h>)."""

    start: int  #: first address
    end: int  #: one past the last address
    offset: int  #: offset in the file
    inode: int  #: 0 for anonymous memory
    dev_major: int
    dev_minor: int
    seg_class: int  #: SEG_*
    prot: int  #: PROT_* bits
    locked: int  #: 1 if the mapping is locked (VmFlags "lo")
    lock_on_fault: int  #: 1 if plock() locks it on fault, 0 if eagerly
    size: int  #: end - start
    resident: int  #: bytes resident (Rss)
    locked_bytes: int  #: bytes resident and locked
    path: str  #: file, [heap], [stack], ... or "" (anonymous)

    @property
    def class_name(self) -> str:
        """segment_class_name(seg_class): "text", "data", ..."""
        return segment_class_name(self.seg_class)


@dataclass(frozen=True)
class Status:
    """What limits locking in a process (struct plock_status of <plock.h>)."""

    state: int  #: state() for the caller; -1 for another process
    future: int  #: 1: memory mapped later is locked (MCL_FUTURE); 0: not; -1: unknown
    cap_ipc_lock: int  #: 1 if the process has CAP_IPC_LOCK in effect
    vmlck: int  #: bytes the kernel counts as locked (VmLck)
    memlock_cur: int  #: RLIMIT_MEMLOCK soft limit, or UNLIMITED
    memlock_max: int  #: RLIMIT_MEMLOCK hard limit, or UNLIMITED
    headroom: int  #: bytes it may still lock, or UNLIMITED


def status(pid: int = 0) -> Status:
    """What limits locking in process pid (0: this process).

    Raises OSError: ProcessLookupError (ESRCH) for no such process,
    PermissionError (EACCES, EPERM) when its /proc/PID/smaps may not be
    read, or OSError with errno ENOMEM or EIO.
    """
    st = _ffi.Status()
    if _ffi.lib.plock_status(pid, ctypes.byref(st)) != 0:
        raise _error(ctypes.get_errno())
    return Status(*(getattr(st, name) for name, _ in _ffi.Status._fields_))


def segments(pid: int = 0) -> list[Segment]:
    """The mappings of process pid (0: this process), in address order,
    classified as plock() classifies them.

    Raises OSError as status() does.
    """
    n = ctypes.c_size_t()
    block = _ffi.lib.plock_segments(pid, ctypes.byref(n))
    if not block:
        raise _error(ctypes.get_errno())
    try:
        out = []
        for i in range(n.value):
            s = block[i]
            fields = [getattr(s, name) for name, _ in _ffi.Segment._fields_]
            fields[-1] = os.fsdecode(s.path or b"")
            out.append(Segment(*fields))
        return out
    finally:
        _ffi.free(ctypes.cast(block, ctypes.c_void_p))


def install() -> bool:
    """Make os.plock this package's plock() where Python has none, and put
    the constants UNLOCK ... DATSHLIBLOCK on os where they are missing.

    On Linux the interpreter has no os.plock: afterwards, code written for
    os.plock runs unchanged. Where os.plock exists (a system with plock(),
    or CPython rebuilt against libplock) it is left alone; CPython does not
    export the op constants, so those are added, with the values of
    <sys/lock.h>, if absent. Returns True if it installed os.plock, False
    if os had one already.
    """
    for name in _OPS:
        if not hasattr(os, name):
            setattr(os, name, globals()[name])
    if hasattr(os, "plock"):
        return False
    os.plock = plock
    return True
