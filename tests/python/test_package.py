"""The package itself: status() and segments() of other processes, its
errors, which libplock it loads and what it says when it cannot, help()."""
import ctypes.util
import errno
import os
import pydoc
import shutil
import subprocess
import sys
import tempfile
import unittest

import pltest
import plock_linux


class OtherProcesses(unittest.TestCase):
    def test_status_and_segments_of_a_child(self):
        # A child that has started and says so: its mappings stay put.
        p = subprocess.Popen([sys.executable, "-c", "import sys; print('ready', flush=True); sys.stdin.read()"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.addCleanup(p.wait)
        self.addCleanup(p.stdout.close)
        self.addCleanup(p.stdin.close)
        self.assertEqual(p.stdout.readline(), "ready\n")
        st = plock_linux.status(p.pid)
        self.assertEqual(st.state, -1)
        self.assertEqual(st.future, -1)
        self.assertEqual(st.vmlck, pltest.vmlck(p.pid))
        segs = plock_linux.segments(p.pid)
        oracle = pltest.smaps(p.pid)
        self.assertEqual([(s.start, s.end) for s in segs], [(m.start, m.end) for m in oracle])
        exe = os.path.realpath(sys.executable)
        text = [s for s in segs if s.seg_class == plock_linux.SEG_TEXT]
        self.assertTrue(text)
        self.assertTrue(all(s.path == exe and s.class_name == "text" for s in text), text)

    def test_no_such_process(self):
        p = subprocess.Popen(["true"])
        p.wait()  # reaped: its pid names no process (until reused)
        for call in (plock_linux.status, plock_linux.segments):
            with self.assertRaises(ProcessLookupError) as cm:
                call(p.pid)
            self.assertEqual(cm.exception.errno, errno.ESRCH)

    def test_segments_of_self(self):
        segs = plock_linux.segments()
        self.assertEqual([(s.start, s.end) for s in segs],
                         [(m.start, m.end) for m in pltest.smaps()])
        self.assertEqual(plock_linux.segment_class_name(99), "?")


def run_python(code, env, python=sys.executable, cwd=None):
    return subprocess.run([python, "-c", code], env=env, cwd=cwd or tempfile.gettempdir(),
                          capture_output=True, text=True, timeout=60)


class Loading(unittest.TestCase):
    """Which libplock the package loads: the one inside it, else only what
    PLOCK_LIBRARY names (tests/python/test_wheel.py installs real wheels)."""

    def base_env(self):
        return {k: v for k, v in os.environ.items()
                if k not in ("PLOCK_LIBRARY", "LD_LIBRARY_PATH", "LD_PRELOAD", "PYTHONPATH")}

    def package_copy(self, library=None):
        """A copy of the package outside the checkout, with library inside
        it as plock_linux/libplock.so.0 (as a wheel has it) if given."""
        d = tempfile.mkdtemp(prefix="plock-pkg-")
        self.addCleanup(shutil.rmtree, d)
        shutil.copytree(os.path.join(pltest.PYTHON_DIR, "plock_linux"), os.path.join(d, "plock_linux"),
                        ignore=shutil.ignore_patterns("__pycache__", "*.so*"))
        if library:
            shutil.copy(library, os.path.join(d, "plock_linux", "libplock.so.0"))
        return d

    def test_the_library_inside_the_package(self):
        d = self.package_copy(os.path.realpath(pltest.LIBRARY))
        p = run_python("import plock_linux; print(plock_linux.LIBRARY)", dict(self.base_env(), PYTHONPATH=d))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.strip(), os.path.join(d, "plock_linux", "libplock.so.0"))

    def test_plock_library_comes_first(self):
        d = self.package_copy(os.path.realpath(pltest.LIBRARY))
        other = os.path.join(d, "other.so")
        shutil.copy(os.path.realpath(pltest.LIBRARY), other)
        env = dict(self.base_env(), PYTHONPATH=d, PLOCK_LIBRARY=other)
        p = run_python("import plock_linux, ctypes; plock_linux.plock(plock_linux.TXTLOCK); "
                       "print(plock_linux.LIBRARY); print(open('/proc/self/maps').read())", env)
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        self.assertEqual(lines[0], other)
        # Only that one is loaded: the package's own is not even mapped.
        self.assertFalse([l for l in lines[1:] if l.endswith("/libplock.so.0")], p.stdout)

    def test_plock_library_that_does_not_load(self):
        env = self.base_env()
        env.update(PYTHONPATH=pltest.PYTHON_DIR, PLOCK_LIBRARY="/nonexistent/libplock.so")
        p = run_python("import plock_linux", env)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("ImportError: plock_linux: cannot load $PLOCK_LIBRARY=/nonexistent/libplock.so", p.stderr)

    def test_plock_library_that_is_not_libplock(self):
        libm = ctypes.util.find_library("m")
        env = dict(self.base_env(), PYTHONPATH=pltest.PYTHON_DIR, PLOCK_LIBRARY=libm)
        p = run_python("import plock_linux", env)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("ImportError: plock_linux: %s is not libplock: it has no plock_ctl" % libm, p.stderr)

    def test_a_copy_without_the_library_says_how_to_install(self):
        """A package that no build backend made (a source tree), and no
        PLOCK_LIBRARY: an installed libplock is not looked for."""
        d = self.package_copy()
        p = run_python("import plock_linux", dict(self.base_env(), PYTHONPATH=d))
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("ImportError: plock_linux: no libplock inside the package (%s)"
                      % os.path.join(d, "plock_linux", "libplock.so.0"), p.stderr)
        self.assertIn("pip install ./python", p.stderr)
        self.assertIn("PLOCK_LIBRARY=", p.stderr)


class Help(unittest.TestCase):
    def test_help_reads_well(self):
        text = pydoc.render_doc(plock_linux, renderer=pydoc.plaintext)
        for want in ("System V plock() for Linux Python", "plock(op: int, /) -> None",
                     "install() -> bool", "segments(pid: int = 0) -> list[plock_linux.Segment]",
                     "PermissionError (EPERM)", "class Status"):
            self.assertIn(want, text)
        for name in plock_linux.__all__:
            obj = getattr(plock_linux, name)
            if callable(obj):
                self.assertTrue(obj.__doc__ and obj.__doc__.strip(), name)


if __name__ == "__main__":
    unittest.main()
