"""The package as pip builds and installs it, from a copy of this tree in
which libplock was never built (no build/): the build backend's sdist and
wheel, the C compiler it needs, and fresh venvs with no index, no
PLOCK_LIBRARY and no libplock on the dynamic loader's path, where the
tutorial's patterns run as root and as uid 65534."""
import base64
import csv
import ctypes
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import textwrap
import unittest
import zipfile

import pltest
import plock_build
import plock_linux

TIMEOUT = 300


def clean_env(**extra):
    """This environment without what could hand the package a libplock or
    pip an index: no PLOCK_LIBRARY, LD_LIBRARY_PATH, LD_PRELOAD,
    PYTHONPATH or PIP_*; pip offline and without its cache."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PLOCK_LIBRARY", "LD_LIBRARY_PATH", "LD_PRELOAD", "PYTHONPATH",
                        "PYTHONHOME", "VIRTUAL_ENV", "CFLAGS", "LDFLAGS")
           and not k.startswith("PIP_")}
    env.update(PIP_NO_INDEX="1", PIP_NO_CACHE_DIR="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    env.update(extra)
    return env


def run(cmd, **kw):
    kw.setdefault("env", clean_env())
    return subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, **kw)


def clean_copy(dest):
    """The tracked files of this tree (and new ones git does not ignore),
    as they are in the work tree, copied to dest: no build/."""
    p = run(["git", "-C", pltest.REPO, "ls-files", "-z", "--cached", "--others",
             "--exclude-standard"], env=os.environ)
    if p.returncode != 0:
        raise AssertionError("git ls-files: %s" % p.stderr)
    for rel in p.stdout.split("\0"):
        src = os.path.join(pltest.REPO, rel)
        if rel and os.path.isfile(src) and not os.path.islink(src):
            os.makedirs(os.path.dirname(os.path.join(dest, rel)), exist_ok=True)
            shutil.copy2(src, os.path.join(dest, rel))
    if os.path.exists(os.path.join(dest, "build")):
        raise AssertionError("build/ is tracked")
    return dest


def hook(srcdir, name, *args, env=None):
    """Calls the PEP 517 hook name(*args) of the backend in srcdir as a
    frontend does: a fresh interpreter there, backend-path on sys.path."""
    with open(os.path.join(srcdir, "pyproject.toml")) as f:
        pyproject = f.read()
    backend = re.search(r'^build-backend\s*=\s*"([^"]+)"', pyproject, re.M).group(1)
    path = json.loads(re.search(r"^backend-path\s*=\s*(\[.*\])", pyproject, re.M).group(1))
    code = ("import json, sys; sys.path[:0] = %r; import %s as b; "
            "print(json.dumps(b.%s(*%r)))" % ([os.path.join(srcdir, p) for p in path],
                                              backend, name, list(args)))
    return run([sys.executable, "-c", code], cwd=srcdir, env=env or clean_env())


def read(path):
    with open(path, "rb") as f:
        return f.read()


def unpack(sdist, dest):
    with tarfile.open(sdist) as t:
        if hasattr(tarfile, "data_filter"):
            t.extractall(dest, filter="data")
        else:
            t.extractall(dest)
    return os.path.join(dest, "%s-%s" % (plock_build.NAME, plock_build.VERSION))


def makefile_list(name):
    """The words of a variable as make expands it (make print-NAME)."""
    p = subprocess.run(["make", "-s", "--no-print-directory", "-C", pltest.REPO, "print-" + name],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    if p.returncode != 0:
        raise AssertionError("make print-%s: %s" % (name, p.stderr))
    return p.stdout.split()


def record_ok(whl):
    """Every file of the wheel is in its RECORD with the right hash and size."""
    with zipfile.ZipFile(whl) as z:
        names = z.namelist()
        record = [n for n in names if n.endswith(".dist-info/RECORD")][0]
        rows = list(csv.reader(io.StringIO(z.read(record).decode())))
        for path, digest, size in rows:
            if path == record:
                continue
            data = z.read(path)
            want = "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            if (digest, int(size)) != (want, len(data)):
                return "%s: RECORD says %s %s" % (path, digest, size)
        if sorted(r[0] for r in rows) != sorted(names):
            return "RECORD lists %s, the wheel has %s" % (sorted(r[0] for r in rows), sorted(names))
    return None


class Backend(unittest.TestCase):
    """plock_build: what it compiles, what it packs, and that both archives
    are the same bytes wherever they are built."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="plock-backend-")
        cls.tree = clean_copy(os.path.join(cls.tmp, "tree"))
        os.mkdir(os.path.join(cls.tmp, "sdist"))
        p = hook(os.path.join(cls.tree, "python"), "build_sdist", os.path.join(cls.tmp, "sdist"))
        if p.returncode != 0:
            raise AssertionError("build_sdist: " + p.stdout + p.stderr)
        cls.sdist = os.path.join(cls.tmp, "sdist", json.loads(p.stdout.splitlines()[-1]))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def test_compiles_what_the_makefile_compiles(self):
        """The C files of libplock.so in the Makefile, its warnings (errors)
        and its link flags, soname and symbol map."""
        self.assertEqual(plock_build.c_sources(pltest.REPO), sorted(makefile_list("SHIM_SRC")))
        for flag in makefile_list("WARN"):
            self.assertIn(flag, plock_build.C_FLAGS)
        self.assertEqual(plock_build.LIBRARY, "libplock.so.%s" % makefile_list("SOVERSION")[0])
        for flag in ("-shared", "-Wl,-soname,libplock.so.0", "-Wl,--version-script=shim/libplock.map",
                     "-Wl,-z,defs"):
            self.assertIn(flag, plock_build.LD_FLAGS)

    def test_versions_agree(self):
        with open(os.path.join(pltest.PYTHON_DIR, "pyproject.toml")) as f:
            pyproject = f.read()
        self.assertIn('name = "%s"' % plock_build.DIST, pyproject)
        self.assertIn('version = "%s"' % plock_build.VERSION, pyproject)
        self.assertIn('requires-python = "%s"' % plock_build.REQUIRES_PYTHON, pyproject)
        self.assertIn('description = "%s"' % plock_build.SUMMARY, pyproject)
        self.assertEqual(makefile_list("VERSION"), [plock_build.VERSION])

    def test_sdist_holds_the_c_sources(self):
        base = "%s-%s/" % (plock_build.NAME, plock_build.VERSION)
        want = {"pyproject.toml", "plock_build.py", "README.md", "LICENSE", "PKG-INFO",
                "plock_linux/__init__.py", "plock_linux/_ffi.py"}
        for top in ("shim", "include"):
            for root, _, files in os.walk(os.path.join(self.tree, top)):
                want |= {"csrc/" + os.path.relpath(os.path.join(root, f), self.tree) for f in files}
        with tarfile.open(self.sdist) as t:
            members = t.getmembers()
        self.assertEqual({m.name for m in members}, {base + w for w in want})
        for m in members:
            self.assertEqual((m.mode, m.mtime, m.uid, m.gid, m.isfile()),
                             (0o644, plock_build.EPOCH, 0, 0, True), m.name)

    def test_sdist_of_the_sdist_is_the_same_bytes(self):
        """Built again from what it unpacks to, elsewhere: self-contained and
        reproducible."""
        src = unpack(self.sdist, os.path.join(self.tmp, "again"))
        out = tempfile.mkdtemp(dir=self.tmp)
        p = hook(src, "build_sdist", out)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(read(self.sdist), read(os.path.join(out, os.path.basename(self.sdist))))

    def test_wheel_from_the_sdist(self):
        """Two builds from the sdist unpacked in two places: the same bytes,
        libplock inside the package, a platform tag, a correct RECORD."""
        wheels = []
        for where in ("a", os.path.join("b", "a longer path")):
            src = unpack(self.sdist, os.path.join(self.tmp, where))
            out = tempfile.mkdtemp(dir=self.tmp)
            p = hook(src, "build_wheel", out)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertIn("plock_build: compiling libplock in %s" % os.path.join(src, "csrc"), p.stdout)
            wheels.append(os.path.join(out, json.loads(p.stdout.splitlines()[-1])))
        a, b = (read(w) for w in wheels)
        self.assertEqual(a, b, "the wheel is not reproducible")
        whl = wheels[0]
        tag = "py3-none-linux_" + os.uname().machine
        self.assertEqual(os.path.basename(whl), "plock_linux-%s-%s.whl" % (plock_build.VERSION, tag))
        di = "plock_linux-%s.dist-info/" % plock_build.VERSION
        with zipfile.ZipFile(whl) as z:
            self.assertEqual(sorted(z.namelist()), sorted(
                ["plock_linux/__init__.py", "plock_linux/_ffi.py", "plock_linux/libplock.so.0"]
                + [di + n for n in ("METADATA", "WHEEL", "top_level.txt", "LICENSE", "RECORD")]))
            wheel_file = z.read(di + "WHEEL").decode()
            meta = z.read(di + "METADATA").decode()
            lib = z.read("plock_linux/libplock.so.0")
            self.assertEqual(z.getinfo("plock_linux/libplock.so.0").external_attr >> 16, 0o100755)
        self.assertIn("Root-Is-Purelib: false\nTag: %s\n" % tag, wheel_file)
        self.assertIn("Name: plock-linux\nVersion: %s\n" % plock_build.VERSION, meta)
        self.assertIsNone(record_ok(whl))
        self.assertNotIn(self.tmp.encode(), lib, "a build path is in the library")
        so = os.path.join(self.tmp, "libplock.so.0")
        with open(so, "wb") as f:
            f.write(lib)
        dyn = run(["readelf", "-d", so]).stdout
        self.assertIn("Library soname: [libplock.so.0]", dyn)
        syms = run(["nm", "-D", "--defined-only", so]).stdout.split()
        with open(os.path.join(pltest.REPO, "shim", "libplock.map")) as f:
            exported = re.findall(r"^\s*(plock\w*);", f.read(), re.M)
        self.assertEqual(sorted(s.split("@")[0] for s in syms if s.startswith("plock")), sorted(exported))

    def test_no_c_compiler(self):
        """No compiler: the build stops, says so and how to get one."""
        src = unpack(self.sdist, os.path.join(self.tmp, "nocc"))
        empty = tempfile.mkdtemp(dir=self.tmp)
        no_cc = clean_env(PATH=empty)
        no_cc.pop("CC", None)
        for env, says in ((clean_env(CC="/nonexistent/cc"), "'/nonexistent/cc' is not found (CC names it)"),
                          (no_cc, "'cc' is not found on PATH (and CC is not set)")):
            with self.subTest(says=says):
                out = tempfile.mkdtemp(dir=self.tmp)
                p = hook(src, "build_wheel", out, env=env)
                self.assertNotEqual(p.returncode, 0)
                self.assertIn("BuildError: plock-linux: no C compiler: " + says, p.stderr)
                self.assertIn("Install a C compiler", p.stderr)
                self.assertEqual(os.listdir(out), [])

    def test_a_compiler_that_fails(self):
        src = unpack(self.sdist, os.path.join(self.tmp, "badcc"))
        cc = os.path.join(self.tmp, "badcc.sh")
        with open(cc, "w") as f:
            f.write("#!/bin/sh\necho 'shim/sys.c:1: error: this compiler says no' >&2\nexit 3\n")
        os.chmod(cc, 0o755)
        out = tempfile.mkdtemp(dir=self.tmp)
        p = hook(src, "build_wheel", out, env=clean_env(CC=cc))
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("plock-linux: the C compiler failed (exit status 3) compiling libplock", p.stderr)
        self.assertIn("this compiler says no", p.stderr)
        self.assertEqual(os.listdir(out), [])


# Run by a venv's python as root: the tutorial's patterns, each in a child
# of its own, measured from /proc (the venv cannot import pltest: that
# would put this tree's package on sys.path).
PATTERNS = textwrap.dedent("""\
    import ctypes, ctypes.util, json, os, sys

    def loader():
        # Before the import: the package's own library, once loaded, answers
        # to its soname.
        try:
            ctypes.CDLL("libplock.so.0")
            found = "libplock.so.0 loads"
        except OSError:
            found = None
        return {"dlopen": found, "find_library": ctypes.util.find_library("plock")}

    before_import = loader()
    import plock_linux

    def vmlck():
        with open("/proc/self/status") as f:
            return [int(l.split()[1]) * 1024 for l in f if l.startswith("VmLck:")][0]

    def locked_maps():
        out, cur = [], None
        with open("/proc/self/smaps") as f:
            for line in f:
                first = line.split(None, 1)[0]
                if "-" in first and not first.endswith(":"):
                    cur = line.split(None, 5)
                elif first == "VmFlags:" and "lo" in line.split()[1:]:
                    out.append((cur[1], cur[5].strip() if len(cur) > 5 else ""))
        return out

    def in_child(fn):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            try:
                data = json.dumps(fn())
            except BaseException as e:
                data = json.dumps({"error": repr(e)})
            os.write(w, data.encode())
            os._exit(0)
        os.close(w)
        data = b""
        while True:
            chunk = os.read(r, 65536)
            if not chunk:
                break
            data += chunk
        os.waitpid(pid, 0)
        return json.loads(data)

    def text():
        plock_linux.plock(plock_linux.TXTLOCK)
        exe = os.path.realpath(sys.executable)
        return {"state": plock_linux.state(), "vmlck": vmlck(),
                "text": [m for m in locked_maps() if m[1] == exe and "w" not in m[0]],
                "other": [m for m in locked_maps() if m[1] != exe]}

    def data():
        plock_linux.plock(plock_linux.DATLOCK)
        before = vmlck()
        large_list = [0] * 1000000
        return {"state": plock_linux.state(), "grew": vmlck() - before, "len": len(large_list),
                "future": plock_linux.status().future}

    def unlock():
        plock_linux.plock(plock_linux.PROCLOCK)
        locked = (plock_linux.state(), vmlck() > 0)
        plock_linux.plock(plock_linux.UNLOCK)
        return {"locked": locked, "state": plock_linux.state(), "vmlck": vmlck(),
                "maps": locked_maps()}

    def os_plock():
        had = hasattr(os, "plock")
        plock_linux.install()
        os.plock(os.PROCLOCK)
        locked = plock_linux.state()
        os.plock(os.UNLOCK)
        return {"had": had, "locked": locked, "state": plock_linux.state()}

    print(json.dumps({"library": plock_linux.LIBRARY, "file": plock_linux.__file__,
                      "env": os.environ.get("PLOCK_LIBRARY"),
                      "loader": before_import, "text": in_child(text), "data": in_child(data),
                      "unlock": in_child(unlock), "os_plock": in_child(os_plock)}))
    """)


class Venvs:
    """Made once for the classes below: a clean copy of the tree; venv A
    (this interpreter) with pip install ./python from that copy; the sdist
    of that copy and, built from it by venv A's pip, a wheel; venv B (an
    interpreter uid 65534 may run, in a directory open to all) with that
    wheel installed. All offline."""

    made = None

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="plock-venvs-")
        self.tree = clean_copy(os.path.join(self.tmp, "tree"))
        self.a = os.path.join(self.tmp, "venv-a")
        self.check(run([sys.executable, "-m", "venv", self.a]), "venv A")
        self.a_install = self.check(run([self.py(self.a), "-m", "pip", "install", "./python"],
                                        cwd=self.tree), "pip install ./python")
        sdists = os.path.join(self.tmp, "sdist")
        os.mkdir(sdists)
        p = self.check(hook(os.path.join(self.tree, "python"), "build_sdist", sdists), "build_sdist")
        self.sdist = os.path.join(sdists, json.loads(p.stdout.splitlines()[-1]))
        wheels = os.path.join(self.tmp, "wheels")
        self.check(run([self.py(self.a), "-m", "pip", "wheel", "--no-deps", "-w", wheels, self.sdist],
                       cwd=self.tmp), "pip wheel SDIST")
        self.wheel = os.path.join(wheels, os.listdir(wheels)[0])
        self.b = os.path.join(self.tmp, "venv-b")
        self.check(run([pltest.world_readable_python(), "-m", "venv", self.b]), "venv B")
        self.check(run([self.py(self.b), "-m", "pip", "install", self.wheel], cwd=self.tmp),
                   "pip install WHEEL")
        pltest.open_to_all(self.tmp)

    @staticmethod
    def py(venv):
        return os.path.join(venv, "bin", "python")

    @staticmethod
    def check(p, what):
        if p.returncode != 0:
            raise AssertionError("%s failed (exit %d):\n%s%s" % (what, p.returncode, p.stdout, p.stderr))
        return p

    @classmethod
    def get(cls):
        if cls.made is None:
            cls.made = cls()
        return cls.made


def tearDownModule():
    if Venvs.made is not None:
        shutil.rmtree(Venvs.made.tmp)


def require_root(test):
    if os.geteuid() != 0:
        raise unittest.SkipTest("needs root (CAP_IPC_LOCK, setpriv to uid 65534)")


class FreshVenvs(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_root(cls)
        cls.v = Venvs.get()

    def patterns(self, venv):
        """PATTERNS run by the venv's python, from /, in a clean environment."""
        p = run([Venvs.py(venv), "-c", PATTERNS], cwd="/")
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def bundled(self, venv):
        p = run([Venvs.py(venv), "-c", "import sysconfig; print(sysconfig.get_path('platlib'))"], cwd="/")
        return os.path.join(p.stdout.strip(), "plock_linux", "libplock.so.0")

    def test_pip_install_of_the_checkout(self):
        """pip install ./python in a tree where libplock was never built:
        libplock compiled into the package; it locks and unlocks."""
        self.assertIn("Successfully installed plock-linux-%s" % plock_build.VERSION, self.v.a_install.stdout)
        self.assertFalse(os.path.exists(os.path.join(self.v.tree, "build")))
        self.assertFalse(os.path.exists(os.path.join(self.v.tree, "python", "plock_linux", "libplock.so.0")),
                         "pip install ./python left a library in the tree")
        got = self.patterns(self.v.a)
        self.assertEqual(got["library"], self.bundled(self.v.a))
        self.assertTrue(got["file"].startswith(self.v.a + os.sep), got["file"])
        self.assertEqual(got["unlock"]["locked"], [plock_linux.TXTLOCK | plock_linux.DATLOCK, True])
        self.assertEqual(got["unlock"]["state"], 0)

    def test_the_wheel_from_the_sdist_in_another_venv(self):
        """The tutorial's patterns, as root, with the wheel's own libplock
        and no other anywhere the loader looks."""
        got = self.patterns(self.v.b)
        self.assertEqual(got["library"], self.bundled(self.v.b))
        self.assertTrue(got["file"].startswith(self.v.b + os.sep), got["file"])
        self.assertIsNone(got["env"])
        self.assertEqual(got["loader"], {"dlopen": None, "find_library": None},
                         "a libplock is on the dynamic loader's path here: this test needs a "
                         "machine without one (make uninstall)")
        text = got["text"]
        self.assertEqual(text["state"], plock_linux.TXTLOCK, text)
        self.assertGreater(text["vmlck"], 0)
        self.assertTrue(text["text"], "no locked text mapping of the interpreter")
        self.assertEqual(text["other"], [], "TXTLOCK locked other mappings")
        data = got["data"]
        self.assertEqual((data["state"], data["len"], data["future"]), (plock_linux.DATLOCK, 1000000, 1))
        array = 1000000 * ctypes.sizeof(ctypes.c_void_p)
        self.assertGreaterEqual(data["grew"], array - array % os.sysconf("SC_PAGE_SIZE"))
        unlock = got["unlock"]
        self.assertEqual(unlock, {"locked": [plock_linux.TXTLOCK | plock_linux.DATLOCK, True],
                                  "state": 0, "vmlck": 0, "maps": []})
        self.assertEqual(got["os_plock"], {"had": False, "locked": plock_linux.TXTLOCK | plock_linux.DATLOCK,
                                           "state": 0})


class FreshVenvUnprivileged(pltest.UnprivilegedCases, unittest.TestCase):
    """pltest.UnprivilegedCases (EPERM fall-back, ENOMEM) in venv B, as uid
    65534: the wheel's libplock, nothing in the environment."""

    @classmethod
    def setUpClass(cls):
        require_root(cls)
        cls.v = Venvs.get()

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="plock-unpriv-")
        self.addCleanup(shutil.rmtree, self.dir)
        self.python = Venvs.py(self.v.b)
        self.env = {}
        p = run([self.python, "-c", "import sysconfig; print(sysconfig.get_path('platlib'))"], cwd="/")
        self.want_library = os.path.join(p.stdout.strip(), "plock_linux", "libplock.so.0")


if __name__ == "__main__":
    unittest.main()
