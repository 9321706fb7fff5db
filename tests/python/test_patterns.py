"""The patterns of the os.plock tutorial, against the plock package, on the
real kernel: each runs in a forked process of its own (pltest.in_child)."""
import ctypes
import errno
import os
import shutil
import sys
import tempfile
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


class Unprivileged(pltest.UnprivilegedCases, unittest.TestCase):
    """The cases of pltest.UnprivilegedCases on this tree's package: a copy
    of it and of the library in a world-readable directory."""

    def setUp(self):
        require_root(self)
        self.dir = tempfile.mkdtemp(prefix="plock-py-")
        self.addCleanup(shutil.rmtree, self.dir)
        shutil.copytree(os.path.join(pltest.PYTHON_DIR, "plock_linux"),
                        os.path.join(self.dir, "plock_linux"),
                        ignore=shutil.ignore_patterns("__pycache__", "*.so*"))
        shutil.copy(os.path.realpath(pltest.LIBRARY), os.path.join(self.dir, "libplock.so"))
        self.python = pltest.world_readable_python()
        self.want_library = os.path.join(self.dir, "libplock.so")
        self.env = {"PYTHONPATH": self.dir, "PLOCK_LIBRARY": self.want_library}


if __name__ == "__main__":
    unittest.main()
