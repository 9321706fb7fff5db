"""Shared helpers of the Python tests: the package under test, processes,
and an oracle of /proc written here on purpose, independent of libplock's
parser, so that the tests do not check the library against itself.

Importing this module puts the checkout's python/ first on sys.path and
points PLOCK_LIBRARY at the checkout's build/libplock.so (unless it is set),
so the tests exercise this tree's package over this tree's library.
"""
import os
import pickle
import sys
import traceback

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir, os.pardir))
PYTHON_DIR = os.path.join(REPO, "python")
LIBRARY = os.environ.setdefault("PLOCK_LIBRARY", os.path.join(REPO, "build", "libplock.so"))
sys.path.insert(0, PYTHON_DIR)

if not os.path.exists(LIBRARY):
    raise SystemExit("tests/python: %s does not exist: run make first" % LIBRARY)


def in_child(fn, *args):
    """Runs fn(*args) in a forked child and returns what it returns.

    plock state is per process: each pattern runs in a process of its own,
    fresh from fork (which starts unlocked), and leaves the test runner as
    it was. An exception in the child is raised here as AssertionError with
    the child's traceback.
    """
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            try:
                out = ("ok", fn(*args))
            except BaseException:
                out = ("error", traceback.format_exc())
            data = pickle.dumps(out)
        except BaseException:
            data = pickle.dumps(("error", traceback.format_exc()))
        with os.fdopen(w, "wb") as f:
            f.write(data)
        os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        data = f.read()
    _, status = os.waitpid(pid, 0)
    if status != 0 or not data:
        raise AssertionError("child died: wait status %#x" % status)
    kind, value = pickle.loads(data)
    if kind == "error":
        raise AssertionError("in the child:\n" + value)
    return value


def vmlck(pid="self"):
    """VmLck of /proc/PID/status, in bytes."""
    with open("/proc/%s/status" % pid) as f:
        for line in f:
            if line.startswith("VmLck:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmLck in /proc/%s/status" % pid)


class Mapping:
    """One mapping of /proc/PID/smaps: range, perms, path, VmFlags, Locked."""

    def __init__(self, header):
        f = header.split(None, 5)
        lo, hi = f[0].split("-")
        self.start, self.end = int(lo, 16), int(hi, 16)
        self.perms = f[1]
        self.path = f[5].rstrip("\n") if len(f) > 5 else ""
        self.vmflags = []
        self.locked = 0

    def __repr__(self):
        return "%x-%x %s %s %s" % (self.start, self.end, self.perms, self.path, " ".join(self.vmflags))


def smaps(pid="self"):
    """The mappings of /proc/PID/smaps."""
    maps = []
    with open("/proc/%s/smaps" % pid) as f:
        for line in f:
            first = line.split(None, 1)[0]
            if "-" in first and not first.endswith(":"):
                maps.append(Mapping(line))
            elif first == "VmFlags:":
                maps[-1].vmflags = line.split()[1:]
            elif first == "Locked:":
                maps[-1].locked = int(line.split()[1]) * 1024
    return maps
