#!/usr/bin/env python3
"""The Python runner of the cross-language cases, through the plock_linux package.

For each case of the table (testdata/crosslang/cases.txt), fork a child
that makes the case's plock() calls through the package of python/ (the
one Python binding, over libplock.so) and prints the case's line from what
it measured; see the table for the format.

Usage: crosslang.py LIBPLOCK.so CASES
"""
import errno
import os
import sys

OP_NAMES = ["UNLOCK", "PROCLOCK", "TXTLOCK", "DATLOCK", "SHLIBLOCK", "PROCSHLIBLOCK",
            "TXTSHLIBLOCK", "DATSHLIBLOCK"]
STATE_NAMES = ["TXTLOCK", "DATLOCK", "SHLIBLOCK"]
CLASS_NAMES = ["SEG_TEXT", "SEG_DATA", "SEG_STACK", "SEG_SHLIB_TEXT", "SEG_SHLIB_DATA"]


def load(lib_path):
    """Imports the package of this checkout's python/, over lib_path."""
    os.environ["PLOCK_LIBRARY"] = lib_path
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                    os.pardir, os.pardir, "python"))
    import plock_linux
    return plock_linux


def errno_name(e):
    return "OK" if e == 0 else errno.errorcode.get(e, os.strerror(e))


def run(plock, case_id, ops):
    """Runs one case in this (fresh) process; returns its line."""
    res = []
    for name in ops:
        op = getattr(plock, name) if name in OP_NAMES else int(name)
        try:
            plock.plock(op)
            res.append("OK")
        except OSError as e:
            res.append(errno_name(e.errno))
    state = plock.state()
    segs = plock.segments()
    locked = []
    for c in (getattr(plock, n) for n in CLASS_NAMES):
        mine = [s.locked for s in segs if s.seg_class == c]
        if mine and all(mine):
            locked.append(plock.segment_class_name(c))
    st = [name for name in STATE_NAMES if state & getattr(plock, name)] or ["none"]
    return "%s ops=%s res=%s state=%s locked=%s" % (
        case_id, ",".join(ops), ",".join(res), "|".join(st), ",".join(locked) or "-")


def main(lib_path, cases_path):
    plock = load(lib_path)
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
                sys.stdout.write(run(plock, case_id, ops[4:].split(",")) + "\n")
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
