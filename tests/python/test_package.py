"""The package itself: status() and segments() of other processes, its
errors, where it finds libplock and what it says when it cannot, help(),
and pip install ./python into a fresh venv, offline."""
import errno
import os
import pydoc
import shutil
import subprocess
import sys
import tempfile
import time
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
    def base_env(self):
        env = {k: v for k, v in os.environ.items()
               if k not in ("PLOCK_LIBRARY", "LD_LIBRARY_PATH", "PYTHONPATH")}
        return env

    def test_the_checkout_build_tree(self):
        env = self.base_env()
        env["PYTHONPATH"] = pltest.PYTHON_DIR
        p = run_python("import plock_linux; print(plock_linux.LIBRARY)", env)
        self.assertEqual(p.returncode, 0, p.stderr)
        # An installed libplock.so.0 comes first; without one, the checkout's.
        if p.stdout.strip() != "libplock.so.0":
            self.assertEqual(p.stdout.strip(), os.path.join(pltest.REPO, "build", "libplock.so"))

    def test_plock_library_that_does_not_load(self):
        env = self.base_env()
        env.update(PYTHONPATH=pltest.PYTHON_DIR, PLOCK_LIBRARY="/nonexistent/libplock.so")
        p = run_python("import plock_linux", env)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("ImportError: plock_linux: cannot load $PLOCK_LIBRARY=/nonexistent/libplock.so", p.stderr)

    def test_no_library_names_make_install(self):
        """A copy of the package outside any checkout, no libplock installed."""
        d = tempfile.mkdtemp(prefix="plock-nolib-")
        self.addCleanup(shutil.rmtree, d)
        shutil.copytree(os.path.join(pltest.PYTHON_DIR, "plock_linux"), os.path.join(d, "plock_linux"))
        env = self.base_env()
        env["PYTHONPATH"] = d
        p = run_python("import plock_linux", env)
        if p.returncode == 0:
            self.skipTest("libplock is installed on this system")
        self.assertIn("ImportError: plock_linux: libplock is not installed", p.stderr)
        self.assertIn("make && sudo make install", p.stderr)


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


class Venv(unittest.TestCase):
    """pip install ./python into a fresh python3 -m venv, with no index:
    the in-tree build backend needs nothing from PyPI."""

    def test_pip_install_offline(self):
        d = tempfile.mkdtemp(prefix="plock-venv-")
        self.addCleanup(shutil.rmtree, d)
        venv = os.path.join(d, "venv")
        subprocess.run([sys.executable, "-m", "venv", venv], check=True, timeout=120)
        py = os.path.join(venv, "bin", "python")
        env = {k: v for k, v in os.environ.items()
               if k not in ("PLOCK_LIBRARY", "LD_LIBRARY_PATH", "PYTHONPATH")}
        # No index at all: any download attempt fails the install.
        env.update(PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
        p = subprocess.run([py, "-m", "pip", "install", "./python"], cwd=pltest.REPO, env=env,
                           capture_output=True, text=True, timeout=300)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        code = ("import os, plock_linux; print(plock_linux.__file__); print(plock_linux.LIBRARY); "
                "plock_linux.plock(plock_linux.PROCLOCK); print(plock_linux.state(), plock_linux.status().vmlck > 0); "
                "plock_linux.install(); os.plock(os.UNLOCK); print(plock_linux.state())")
        built = os.path.join(pltest.REPO, "build", "libplock.so")
        for extra in ({"PLOCK_LIBRARY": built}, {}):
            with self.subTest(env=extra):
                p = run_python(code, dict(env, **extra), python=py)
                self.assertEqual(p.returncode, 0, p.stderr)
                where, lib, locked, unlocked = p.stdout.splitlines()
                self.assertTrue(where.startswith(os.path.join(venv, "lib")), where)
                if extra or lib != "libplock.so.0":  # no libplock installed: the checkout's
                    self.assertEqual(lib, built)
                self.assertEqual(locked, "%d True" % (plock_linux.TXTLOCK | plock_linux.DATLOCK))
                self.assertEqual(unlocked, "0")


if __name__ == "__main__":
    unittest.main()
