"""Shared helpers of the Python tests: the package under test, processes,
and an oracle of /proc written here on purpose, independent of libplock's
parser, so that the tests do not check the library against itself.

Importing this module puts the checkout's python/ first on sys.path and
points PLOCK_LIBRARY at the checkout's build/libplock.so (unless it is set),
so the tests exercise this tree's package over this tree's library.
"""
import errno
import os
import pickle
import stat
import subprocess
import sys
import textwrap
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


def world_readable_python():
    """An interpreter uid 65534 can run: this one unless a directory on its
    path is closed to others (/root is, for pyenv), else /usr/bin/python3."""
    for exe in (sys.executable, "/usr/bin/python3"):
        path, ok = os.path.realpath(exe), True
        while path != "/":
            path = os.path.dirname(path)
            if not os.stat(path).st_mode & stat.S_IXOTH:
                ok = False
        if ok and os.path.exists(exe):
            return exe
    raise AssertionError("no python3 that uid 65534 may run")


def open_to_all(top):
    """Makes top and everything under it readable (and the directories
    searchable) by every user, so that uid 65534 can run what is there."""
    os.chmod(top, 0o755)
    for root, dirs, files in os.walk(top):
        for names, bits in ((dirs, 0o555), (files, 0o444)):
            for name in names:
                path = os.path.join(root, name)
                if not os.path.islink(path):
                    os.chmod(path, os.stat(path).st_mode | bits)


# The tutorial's unprivileged patterns: realtime_application.py's fall-back,
# as it was written for os.plock, then the ops named on the command line.
UNPRIV_SCRIPT = textwrap.dedent("""\
    import os, sys
    import plock_linux
    out = []

    def realtime_task():
        for i in range(10):
            out.append("cycle %d" % i)

    if sys.argv[1] == "fallback":
        # realtime_application.py, as the tutorial wrote it for os.plock.
        plock_linux.install()
        try:
            os.plock(os.PROCLOCK)
            out.append("locked")
            buffer = bytearray(1024 * 512)
            realtime_task()
            os.plock(os.UNLOCK)
        except (AttributeError, PermissionError) as e:
            out.append("fallback %s %d %s %d %s" % (type(e).__name__, e.errno, e.reason,
                                                 e.need > 0, e.strerror))
            realtime_task()
    for op in sys.argv[2:]:
        try:
            plock_linux.plock(getattr(plock_linux, op))
            out.append("%s ok" % op)
        except OSError as e:
            out.append("%s %s %s %s %d" % (op, type(e).__name__, e.errno, e.reason, e.need))
    out.append("state %d vmlck %d" % (plock_linux.state(), plock_linux.status().vmlck))
    out.append("library %s" % plock_linux.LIBRARY)
    print("\\n".join(out))
    """)


class UnprivilegedCases:
    """uid 65534, no capabilities, a lowered RLIMIT_MEMLOCK, through setpriv
    and prlimit: UNPRIV_SCRIPT, copied into self.dir (which is opened to
    all), run by self.python with self.env (and nothing else of this
    environment but PATH), which must load self.want_library. A TestCase
    mixin: setUp sets the four."""

    def run_unpriv(self, memlock, *ops):
        script = os.path.join(self.dir, "unpriv.py")
        with open(script, "w") as f:
            f.write(UNPRIV_SCRIPT)
        open_to_all(self.dir)
        env = dict(self.env, PATH="/usr/bin:/bin", PYTHONDONTWRITEBYTECODE="1")
        cmd = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups",
               "--inh-caps=-all", "--bounding-set=-all",
               "prlimit", "--memlock=%d:%d" % (memlock, memlock), self.python, script] + list(ops)
        p = subprocess.run(cmd, env=env, cwd=self.dir, capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        out = p.stdout.splitlines()
        library = out.pop()
        self.assertEqual(library, "library %s" % self.want_library)
        return out

    def test_permission_error_and_fallback(self):
        """RLIMIT_MEMLOCK 0 without CAP_IPC_LOCK: PermissionError (EPERM),
        as os.plock raises it, and the tutorial's fall-back runs on."""
        out = self.run_unpriv(0, "fallback", "TXTLOCK", "DATLOCK", "UNLOCK")
        eperm = os.strerror(errno.EPERM)
        self.assertEqual(out[:11], ["fallback PermissionError %d zerolimit 1 %s" % (errno.EPERM, eperm)]
                         + ["cycle %d" % i for i in range(10)])
        for line, op in zip(out[11:13], ("TXTLOCK", "DATLOCK")):
            name, kind, err, reason, need = line.split()
            self.assertEqual((name, kind, int(err), reason), (op, "PermissionError", errno.EPERM, "zerolimit"))
            self.assertGreater(int(need), 0, line)
        self.assertEqual(out[13:], ["UNLOCK OSError %d nothing 0" % errno.EINVAL, "state 0 vmlck 0"])

    def test_enomem_over_the_limit(self):
        """A limit too small for the lock: OSError ENOMEM (not a subclass),
        with the bytes it would need; nothing is locked."""
        limit = 64 * 1024
        out = self.run_unpriv(limit, "-", "PROCLOCK", "UNLOCK")
        op, kind, err, reason, need = out[0].split()
        self.assertEqual((op, kind, int(err), reason), ("PROCLOCK", "OSError", errno.ENOMEM, "limit"))
        self.assertGreater(int(need), limit)
        self.assertEqual(out[1:], ["UNLOCK OSError %d nothing 0" % errno.EINVAL, "state 0 vmlck 0"])
