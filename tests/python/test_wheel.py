"""The package as pip builds it, from a copy of this tree in which libplock
was never built (no build/): the build backend's sdist and wheel, and the
C compiler it needs."""
import base64
import csv
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
import unittest
import zipfile

import pltest
import plock_build

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
    """The words of a variable of the Makefile (continuation lines joined)."""
    with open(os.path.join(pltest.REPO, "Makefile")) as f:
        text = f.read().replace("\\\n", " ")
    return re.search(r"^%s\s*=(.*)$" % name, text, re.M).group(1).split()


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


if __name__ == "__main__":
    unittest.main()
