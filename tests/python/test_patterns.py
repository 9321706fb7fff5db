"""The patterns of the os.plock tutorial, against the plock package, on the
real kernel: each runs in a forked process of its own (pltest.in_child)."""
import ctypes
import errno
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import textwrap
import unittest

import pltest
import plock_linux

PAGE = os.sysconf("SC_PAGE_SIZE")


def require_root(test):
    if os.geteuid() != 0:
        test.skipTest("needs root (CAP_IPC_LOCK, setpriv to uid 65534)")


class TutorialPatterns(unittest.TestCase):
    def setUp(self):
        require_root(self)

    def test_text_lock(self):
        """lock_text_segment.py: TXTLOCK locks the executable's text."""
        def child():
            plock_linux.plock(plock_linux.TXTLOCK)
            exe = os.path.realpath("/proc/self/exe")
            text = [m for m in pltest.smaps() if m.path == exe and "w" not in m.perms]
            return plock_linux.state(), pltest.vmlck(), plock_linux.status().vmlck, exe, text
        st, vmlck, status_vmlck, exe, text = pltest.in_child(child)
        self.assertEqual(st, plock_linux.TXTLOCK)
        self.assertGreater(vmlck, 0)
        self.assertGreater(status_vmlck, 0)
        self.assertEqual(exe, os.path.realpath(sys.executable))
        self.assertTrue(text, "no text mapping of %s in smaps" % exe)
        for m in text:
            self.assertIn("lo", m.vmflags, m)

    def test_data_lock_then_allocate(self):
        """lock_data_segment.py: after DATLOCK, a 1,000,000-element list is
        locked as its pages are touched: VmLck grows by its size."""
        n = 1000000

        def child():
            plock_linux.plock(plock_linux.DATLOCK)
            before = pltest.vmlck()
            large_list = [0] * n
            after = pltest.vmlck()
            # The list's array of n pointers (CPython's PyListObject:
            # refcount, type, size, then ob_item), every one written by [0]*n.
            items = ctypes.c_void_p.from_address(id(large_list) + 3 * ctypes.sizeof(ctypes.c_void_p)).value
            where = [m for m in pltest.smaps() if m.start <= items < m.end]
            segs = [s for s in plock_linux.segments() if s.start <= items < s.end]
            return plock_linux.state(), before, after, where, segs, len(large_list)
        st, before, after, where, segs, length = pltest.in_child(child)
        self.assertEqual(st, plock_linux.DATLOCK)
        self.assertEqual(length, n)
        array = n * ctypes.sizeof(ctypes.c_void_p)
        self.assertGreaterEqual(after - before, array - array % PAGE,
                                "VmLck %d -> %d after [0]*%d" % (before, after, n))
        self.assertEqual(len(where), 1)
        self.assertIn("lo", where[0].vmflags, where[0])
        self.assertGreaterEqual(where[0].locked, array - array % PAGE)
        self.assertEqual(len(segs), 1)
        self.assertEqual(segs[0].seg_class, plock_linux.SEG_DATA)
        self.assertEqual(segs[0].locked, 1)
        self.assertEqual(segs[0].class_name, "data")

    def test_unlock(self):
        """unlock_segments.py: lock text and data, then UNLOCK releases all."""
        def child():
            plock_linux.plock(plock_linux.PROCLOCK)
            locked = plock_linux.state(), pltest.vmlck()
            plock_linux.plock(plock_linux.UNLOCK)
            exe = os.path.realpath("/proc/self/exe")
            still = [m for m in pltest.smaps() if "lo" in m.vmflags]
            return locked, plock_linux.state(), pltest.vmlck(), still, exe
        (st1, vm1), st2, vm2, still, exe = pltest.in_child(child)
        self.assertEqual(st1, plock_linux.TXTLOCK | plock_linux.DATLOCK)
        self.assertGreater(vm1, 0)
        self.assertEqual(st2, 0)
        self.assertEqual(vm2, 0)
        self.assertEqual(still, [])

    def test_einval_second_lock(self):
        """A class locked already: EINVAL, exactly OSError, nothing changes."""
        def child():
            plock_linux.plock(plock_linux.PROCLOCK)
            vm = pltest.vmlck()
            out = []
            for op in (plock_linux.PROCLOCK, plock_linux.TXTLOCK, plock_linux.DATLOCK):
                try:
                    plock_linux.plock(op)
                    out.append(None)
                except OSError as e:
                    out.append((type(e), e.errno, e.strerror, e.args, e.reason, e.need))
            return out, vm, plock_linux.state()
        out, vm, st = pltest.in_child(child)
        for got in out:
            self.assertEqual(got, (OSError, errno.EINVAL, os.strerror(errno.EINVAL),
                                   (errno.EINVAL, os.strerror(errno.EINVAL)), "locked", 0))
        self.assertGreater(vm, 0)
        self.assertEqual(st, plock_linux.TXTLOCK | plock_linux.DATLOCK)

    def test_einval_unlock_nothing(self):
        """UNLOCK with nothing locked: EINVAL; and values that are no op."""
        def child():
            out = []
            # TXTLOCK | DATLOCK, as the tutorial writes it, is no operation:
            # PROCLOCK is the op for both.
            for op in (plock_linux.UNLOCK, plock_linux.TXTLOCK | plock_linux.DATLOCK, 3, -1):
                try:
                    plock_linux.plock(op)
                    out.append((op, None))
                except OSError as e:
                    out.append((op, type(e), e.errno, e.reason))
            return out, plock_linux.state(), pltest.vmlck()
        out, st, vm = pltest.in_child(child)
        self.assertEqual(out[0], (plock_linux.UNLOCK, OSError, errno.EINVAL, "nothing"))
        for op in (6, 3, -1):
            self.assertIn((op, OSError, errno.EINVAL, "badop"), out)
        self.assertEqual((st, vm), (0, 0))

    def test_forked_child_starts_unlocked(self):
        """Locks are not inherited across fork (SVID)."""
        def child():
            plock_linux.plock(plock_linux.PROCLOCK)
            inner = pltest.in_child(lambda: (plock_linux.state(), pltest.vmlck(), plock_linux.status().future,
                                             [m for m in pltest.smaps() if "lo" in m.vmflags]))
            return inner, plock_linux.state(), pltest.vmlck()
        (cst, cvm, cfuture, clocked), pst, pvm = pltest.in_child(child)
        self.assertEqual((cst, cvm, cfuture, clocked), (0, 0, 0, []))
        self.assertEqual(pst, plock_linux.TXTLOCK | plock_linux.DATLOCK)
        self.assertGreater(pvm, 0)

    def test_install_then_os_plock(self):
        """check_support.py and realtime_application.py, unchanged, after
        plock_linux.install()."""
        def child():
            had = hasattr(os, "plock")
            installed = plock_linux.install()
            support = hasattr(os, "plock") and all(
                hasattr(os, c) for c in ("UNLOCK", "PROCLOCK", "TXTLOCK", "DATLOCK"))
            os.plock(os.PROCLOCK)
            locked = os.plock is plock_linux.plock, plock_linux.state(), pltest.vmlck()
            buffer = bytearray(1024 * 512)  # the tutorial's working buffer
            os.plock(os.UNLOCK)
            return had, installed, support, locked, plock_linux.state(), len(buffer), plock_linux.install()
        had, installed, support, (same, st, vm), st2, n, again = pltest.in_child(child)
        self.assertFalse(had, "this Python has os.plock already: install() must be a no-op")
        self.assertTrue(installed)
        self.assertTrue(support)
        self.assertTrue(same)
        self.assertEqual(st, plock_linux.TXTLOCK | plock_linux.DATLOCK)
        self.assertGreater(vm, 0)
        self.assertEqual(st2, 0)
        self.assertEqual(n, 512 * 1024)
        self.assertFalse(again, "a second install() must be a no-op")

    def test_install_keeps_a_native_os_plock(self):
        """install() leaves an interpreter's own os.plock (and constants)
        alone, and adds the constants it lacks."""
        def child():
            def native(op):
                return "native"
            os.plock = native
            os.PROCLOCK = "native"
            return plock_linux.install(), os.plock is native, os.PROCLOCK, os.DATSHLIBLOCK
        self.assertEqual(pltest.in_child(child), (False, True, "native", plock_linux.DATSHLIBLOCK))


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
    print("\\n".join(out))
    """)


class Unprivileged(unittest.TestCase):
    """uid 65534, no capabilities, a lowered RLIMIT_MEMLOCK: a copy of the
    package and the library in a world-readable directory, run through
    setpriv and prlimit."""

    def setUp(self):
        require_root(self)
        self.dir = tempfile.mkdtemp(prefix="plock-py-")
        self.addCleanup(shutil.rmtree, self.dir)
        os.chmod(self.dir, 0o755)
        shutil.copytree(os.path.join(pltest.PYTHON_DIR, "plock_linux"), os.path.join(self.dir, "plock_linux"),
                        ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy(os.path.realpath(pltest.LIBRARY), os.path.join(self.dir, "libplock.so"))
        with open(os.path.join(self.dir, "unpriv.py"), "w") as f:
            f.write(UNPRIV_SCRIPT)
        for root, dirs, files in os.walk(self.dir):
            for name in dirs + files:
                os.chmod(os.path.join(root, name), 0o755)

    def run_unpriv(self, memlock, *ops):
        env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": self.dir, "PYTHONDONTWRITEBYTECODE": "1",
               "PLOCK_LIBRARY": os.path.join(self.dir, "libplock.so")}
        cmd = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups",
               "--inh-caps=-all", "--bounding-set=-all",
               "prlimit", "--memlock=%d:%d" % (memlock, memlock),
               world_readable_python(), os.path.join(self.dir, "unpriv.py")] + list(ops)
        p = subprocess.run(cmd, env=env, cwd=self.dir, capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout.splitlines()

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


if __name__ == "__main__":
    unittest.main()
