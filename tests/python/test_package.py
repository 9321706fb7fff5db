"""The package itself: status() and segments() of other processes, its
errors, which libplock it loads and what it says when it cannot, help()."""
import ctypes.util
import errno
import json
import os
import pydoc
import shutil
import subprocess
import sys
import tempfile
import unittest

import pltest
import plock_build
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
        # This process allocates between the two reads (the oracle's own
        # lists), and a heap or arena mapping may grow or split in between:
        # a few tries, each pair read back to back; a real disagreement
        # stays.
        for _ in range(5):
            got = [(s.start, s.end) for s in plock_linux.segments()]
            want = [(m.start, m.end) for m in pltest.smaps()]
            if got == want:
                break
        self.assertEqual(got, want)
        self.assertEqual(plock_linux.segment_class_name(99), "?")


def run_python(code, env, python=sys.executable, cwd=None):
    return subprocess.run([python, "-c", code], env=env, cwd=cwd or tempfile.gettempdir(),
                          capture_output=True, text=True, timeout=60)


class Copies:
    """A TestCase mixin: the environment without a libplock, and copies of
    the package as a wheel installs it."""

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


class Loading(Copies, unittest.TestCase):
    """Which libplock the package loads: the one inside it, else only what
    PLOCK_LIBRARY names (tests/python/test_wheel.py installs real wheels)."""

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


# Run in a process that has a libplock of its own: the C plock() that a
# native os.plock calls locks, then the package must see that state.
SHARED_STATE = """\
import ctypes, json
c = ctypes.CDLL(None)
c.plock(1)  # PROCLOCK, as os.plock(1) of a rebuilt CPython calls it
import plock_linux
out = {"library": plock_linux.LIBRARY, "state": plock_linux.state(),
       "status": plock_linux.status().state}
try:
    plock_linux.plock(plock_linux.PROCLOCK)
    out["again"] = "ok"
except OSError as e:
    out["again"] = [e.errno, e.reason]
plock_linux.plock(plock_linux.UNLOCK)
out["after"] = [c.plock_state(), plock_linux.state()]
print(json.dumps(out))
"""


class OneLibplockPerProcess(Copies, unittest.TestCase):
    """A process that has a libplock already keeps one plock state: the
    package calls that libplock, not the one inside it."""

    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("needs root (CAP_IPC_LOCK)")
        self.pkg = self.package_copy(os.path.realpath(pltest.LIBRARY))

    def check_shared(self, cmd, env, library):
        p = subprocess.run(cmd + ["-c", SHARED_STATE], env=env, cwd=self.pkg, capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        out = json.loads(p.stdout)
        both = plock_linux.TXTLOCK | plock_linux.DATLOCK
        self.assertEqual(out, {"library": library, "state": both, "status": both,
                               "again": [errno.EINVAL, "locked"], "after": [0, 0]})

    def test_plain_interpreter_has_none(self):
        p = run_python("import ctypes; print(hasattr(ctypes.CDLL(None), 'plock_ctl'))", self.base_env())
        self.assertEqual(p.stdout, "False\n", p.stderr)

    def test_an_interpreter_linked_with_libplock(self):
        """Python's own main linked with libplock.a and --export-dynamic,
        as CPython is when configure finds plock(): its executable exports
        plock, plock_ctl, plock_state but not plock_status or
        plock_segments."""
        import sysconfig
        cfg = sysconfig.get_config_var
        include = sysconfig.get_paths()["include"]
        self.assertTrue(os.path.exists(os.path.join(include, "Python.h")),
                        "needs Python's C headers (Debian: python3-dev) in %s" % include)
        liba = os.path.join(os.path.dirname(os.path.realpath(pltest.LIBRARY)), "libplock.a")
        self.assertTrue(os.path.exists(liba), "%s: run make" % liba)
        src, exe = os.path.join(self.pkg, "main.c"), os.path.join(self.pkg, "python-with-plock")
        with open(src, "w") as f:
            f.write("#include <Python.h>\n#include <sys/lock.h>\n"
                    "int (*const os_plock)(int) = plock; /* posixmodule.c's reference */\n"
                    "int main(int argc, char **argv) { return Py_BytesMain(argc, argv); }\n")
        libdirs = [d for d in (cfg("LIBDIR"), cfg("LIBPL")) if d]
        cmd = ([os.environ.get("CC", "cc"), "-std=c11", "-Wall", "-Wextra", "-Werror",
                "-I", os.path.join(pltest.REPO, "include"), "-I", include, "-Wl,--export-dynamic",
                "-o", exe, src, liba] + ["-L" + d for d in libdirs] + ["-Wl,-rpath," + d for d in libdirs]
               + ["-lpython" + cfg("LDVERSION")] + (cfg("LIBS") or "").split()
               + (cfg("SYSLIBS") or "").split() + ["-lpthread"])
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, " ".join(cmd) + "\n" + p.stderr)
        nm = subprocess.run(["nm", "-D", "--defined-only", exe], capture_output=True, text=True).stdout
        self.assertIn(" T plock_ctl\n", nm)
        self.assertNotIn(" T plock_status\n", nm)
        env = dict(self.base_env(), PYTHONPATH=self.pkg, PYTHONHOME=sys.base_prefix)
        self.check_shared([exe], env, exe)

    def test_a_preloaded_libplock(self):
        preload = os.path.join(self.pkg, "preloaded-libplock.so")
        shutil.copy(os.path.realpath(pltest.LIBRARY), preload)
        env = dict(self.base_env(), PYTHONPATH=self.pkg, LD_PRELOAD=preload)
        self.check_shared([sys.executable], env, preload)

    def test_plock_library_does_not_split_the_state(self):
        preload = os.path.join(self.pkg, "preloaded-libplock.so")
        shutil.copy(os.path.realpath(pltest.LIBRARY), preload)
        env = dict(self.base_env(), PYTHONPATH=self.pkg, LD_PRELOAD=preload,
                   PLOCK_LIBRARY=os.path.realpath(pltest.LIBRARY))
        self.check_shared([sys.executable], env, preload)


class Help(unittest.TestCase):
    def test_help_reads_well(self):
        text = pydoc.render_doc(plock_linux, renderer=pydoc.plaintext)
        for want in ("System V plock() for Linux Python", "plock(op: int, /) -> None",
                     "pip install ./python", "pip install plock_linux-%s.tar.gz" % plock_build.VERSION,
                     "the distribution is plock-linux",
                     "install() -> bool", "segments(pid: int = 0) -> list[plock_linux.Segment]",
                     "PermissionError (EPERM)", "class Status"):
            self.assertIn(want, text)
        for name in plock_linux.__all__:
            obj = getattr(plock_linux, name)
            if callable(obj):
                self.assertTrue(obj.__doc__ and obj.__doc__.strip(), name)


if __name__ == "__main__":
    unittest.main()
