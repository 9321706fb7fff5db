#!/usr/bin/env python3
"""The Python runner of the cross-language cases, through ctypes.

For each case of the table (testdata/crosslang/cases.txt), fork a child
that makes the case's plock() calls through libplock.so and prints the
case's line from what it measured; see the table for the format.

Usage: crosslang.py LIBPLOCK.so CASES
"""
import ctypes
import errno
import os
import sys

OPS = {"UNLOCK": 0, "PROCLOCK": 1, "TXTLOCK": 2, "DATLOCK": 4, "SHLIBLOCK": 8,
       "PROCSHLIBLOCK": 9, "TXTSHLIBLOCK": 10, "DATSHLIBLOCK": 12}
STATE_BITS = [(2, "TXTLOCK"), (4, "DATLOCK"), (8, "SHLIBLOCK")]
# PLOCK_SEG_TEXT, _DATA, _STACK, _SHLIB_TEXT, _SHLIB_DATA, in <plock.h>.
CLASSES = [1, 2, 3, 4, 5]


class Segment(ctypes.Structure):
    """struct plock_segment of <plock.h>."""
    _fields_ = [
        ("start", ctypes.c_size_t), ("end", ctypes.c_size_t),
        ("offset", ctypes.c_uint64), ("inode", ctypes.c_uint64),
        ("dev_major", ctypes.c_uint), ("dev_minor", ctypes.c_uint),
        ("seg_class", ctypes.c_int), ("prot", ctypes.c_int),
        ("locked", ctypes.c_int), ("lock_on_fault", ctypes.c_int),
        ("size", ctypes.c_uint64), ("resident", ctypes.c_uint64),
        ("locked_bytes", ctypes.c_uint64), ("path", ctypes.c_char_p),
    ]


def load(path):
    lib = ctypes.CDLL(path, use_errno=True)
    lib.plock.argtypes = [ctypes.c_int]
    lib.plock.restype = ctypes.c_int
    lib.plock_state.argtypes = []
    lib.plock_state.restype = ctypes.c_int
    lib.plock_segments.argtypes = [ctypes.c_int, ctypes.POINTER(ctypes.c_size_t)]
    lib.plock_segments.restype = ctypes.POINTER(Segment)
    lib.plock_segment_class_name.argtypes = [ctypes.c_int]
    lib.plock_segment_class_name.restype = ctypes.c_char_p
    return lib


def errno_name(e):
    return "OK" if e == 0 else errno.errorcode.get(e, os.strerror(e))


def run(lib, case_id, ops):
    """Runs one case in this (fresh) process; returns its line."""
    res = []
    for name in ops:
        op = OPS[name] if name in OPS else int(name)
        ctypes.set_errno(0)
        res.append("OK" if lib.plock(op) == 0 else errno_name(ctypes.get_errno()))
    state = lib.plock_state()
    n = ctypes.c_size_t()
    segs = lib.plock_segments(0, ctypes.byref(n))
    if not segs:
        raise OSError(ctypes.get_errno(), "plock_segments")
    locked = []
    for c in CLASSES:
        mine = [segs[i].locked for i in range(n.value) if segs[i].seg_class == c]
        if mine and all(mine):
            locked.append(lib.plock_segment_class_name(c).decode())
    libc = ctypes.CDLL(None)
    libc.free.argtypes = [ctypes.c_void_p]
    libc.free(ctypes.cast(segs, ctypes.c_void_p))
    st = [name for bit, name in STATE_BITS if state & bit] or ["none"]
    return "%s ops=%s res=%s state=%s locked=%s" % (
        case_id, ",".join(ops), ",".join(res), "|".join(st), ",".join(locked) or "-")


def main(lib_path, cases_path):
    lib = load(lib_path)
    failed = 0
    with open(cases_path) as f:
        cases = [l.split() for l in f if l.strip() and not l.startswith("#")]
    for fields in cases:
        case_id, ops = fields[0], fields[1]
        if not ops.startswith("ops="):
            print("%s: bad case" % case_id, file=sys.stderr)
            failed = 1
            continue
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                sys.stdout.write(run(lib, case_id, ops[4:].split(",")) + "\n")
                sys.stdout.flush()
            except Exception as e:  # the child must not return into the loop
                print("%s: %s" % (case_id, e), file=sys.stderr)
                code = 1
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        if status != 0:
            print("%s: child failed (status %#x)" % (case_id, status), file=sys.stderr)
            failed = 1
    return failed


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
