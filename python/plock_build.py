"""The PEP 517 build backend of plock-linux (import plock_linux).

pyproject.toml names it with backend-path = ["."] and requires nothing, so
pip builds the package offline, with no index and no setuptools: the
backend is this file and the standard library.

The wheel carries libplock itself: build_wheel compiles the C sources of
libplock (shim/*.c, include/) with the system's C compiler ($CC, else cc;
$CFLAGS, else -O2; $LDFLAGS) into plock_linux/libplock.so.0, which the
package loads. The sources come from the sdist's csrc/ directory, or, when
the package is built from a plock checkout, from the checkout around this
directory (shim/ and include/ beside python/). Without a C compiler the
build stops with an error that says so.

Both archives are reproducible: the same sources and compiler give the
same bytes, wherever they are built (fixed timestamps and modes, sorted
entries, source paths relative to their root).
"""
from __future__ import annotations

import base64
import glob
import gzip
import hashlib
import io
import os
import shlex
import shutil
import subprocess
import sysconfig
import tarfile
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
# The distribution is plock-linux (the name plock on the Package Index is an
# unrelated Plone installer's); its wheel and sdist file names and its
# package directory spell it plock_linux.
DIST = "plock-linux"
NAME = "plock_linux"
VERSION = "0.1.0"
SUMMARY = "System V plock() for Linux Python (os.plock), with libplock inside"
REQUIRES_PYTHON = ">=3.9"
DIST_INFO = "%s-%s.dist-info" % (NAME, VERSION)
# libplock's soname, and its file name inside the package.
LIBRARY = "libplock.so.0"
# The files of the sdist from this directory, besides the package.
SDIST_FILES = ("pyproject.toml", "plock_build.py", "README.md")
# Where an sdist keeps the C sources (shim/, include/).
CSRC = "csrc"
# The flags of the Makefile's libplock.so: warnings are errors.
C_FLAGS = ["-std=c11", "-Wall", "-Wextra", "-Werror", "-Iinclude", "-fPIC"]
LD_FLAGS = ["-shared", "-Wl,-soname," + LIBRARY, "-Wl,--version-script=shim/libplock.map",
            "-Wl,-z,defs"]
# Every archive entry gets this time: 1980-01-01, the first a zip can hold.
EPOCH = 315532800


class BuildError(Exception):
    """The wheel cannot be built here; the message says why and what to do."""


# ---- the C sources

def c_root() -> str:
    """The directory that holds shim/ and include/: the sdist's csrc/, else
    the plock checkout that this directory is python/ of."""
    for root in (os.path.join(HERE, CSRC), os.path.dirname(HERE)):
        if (os.path.isfile(os.path.join(root, "include", "plock.h"))
                and os.path.isfile(os.path.join(root, "shim", "libplock.map"))):
            return root
    raise BuildError(
        "plock-linux: the C sources of libplock are not here: neither %s/ (an sdist's) "
        "nor shim/ and include/ beside %s (a plock checkout's python/ directory)"
        % (os.path.join(HERE, CSRC), HERE))


def c_sources(root: str) -> list[str]:
    """The C files of libplock under root, relative to it: shim/*.c."""
    return sorted(os.path.relpath(p, root) for p in glob.glob(os.path.join(root, "shim", "*.c")))


def c_files(root: str) -> list[str]:
    """Everything the compilation reads, relative to root, sorted: the
    sources, their headers, the symbol map and include/."""
    names = c_sources(root) + ["shim/libplock.map"]
    for pattern in ("shim/*.h", "include/*.h", "include/*/*.h"):
        names += [os.path.relpath(p, root) for p in glob.glob(os.path.join(root, pattern))]
    return sorted(n for n in set(names) if os.path.isfile(os.path.join(root, n)))


NO_COMPILER = (
    "plock-linux: no C compiler: %r is not found%s. Building the wheel compiles libplock, "
    "the C library inside the package, and needs one. Install a C compiler (Debian, "
    "Ubuntu: apt-get install gcc; Fedora, RHEL: dnf install gcc; Alpine: apk add gcc "
    "musl-dev), or name one with CC=/path/to/cc.")


def compile_library(out: str) -> list[str]:
    """Compiles libplock into the file out; returns the command it ran.

    Raises BuildError when there is no C compiler or it fails.
    """
    root = c_root()
    cc = shlex.split(os.environ.get("CC") or "cc")
    if not cc or shutil.which(cc[0]) is None:
        where = " (CC names it)" if os.environ.get("CC") else " on PATH (and CC is not set)"
        raise BuildError(NO_COMPILER % (cc[0] if cc else "", where))
    cflags = shlex.split(os.environ.get("CFLAGS", "-O2"))
    ldflags = shlex.split(os.environ.get("LDFLAGS", ""))
    # Paths relative to root, and root itself mapped to "." in debug
    # information: where the sources were unpacked leaves no trace.
    cmd = (cc + C_FLAGS + cflags + ["-ffile-prefix-map=%s=." % root] + LD_FLAGS + ldflags
           + ["-o", out] + c_sources(root) + ["-lpthread"])
    print("plock_build: compiling libplock in %s:\n  %s" % (root, shlex.join(cmd)), flush=True)
    try:
        p = subprocess.run(cmd, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
    except OSError as e:
        raise BuildError(NO_COMPILER % (cc[0], " (%s)" % e)) from e
    if p.returncode != 0:
        raise BuildError("plock-linux: the C compiler failed (exit status %d) compiling "
                         "libplock:\n  %s\n%s" % (p.returncode, shlex.join(cmd), p.stdout))
    if p.stdout:
        print(p.stdout, end="", flush=True)
    return cmd


# ---- metadata

def metadata() -> str:
    """The core metadata (PKG-INFO, METADATA), README as the description."""
    with open(os.path.join(HERE, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    return (
        "Metadata-Version: 2.1\n"
        "Name: %s\n"
        "Version: %s\n"
        "Summary: %s\n"
        "License: MIT\n"
        "Requires-Python: %s\n"
        "Classifier: Operating System :: POSIX :: Linux\n"
        "Classifier: Programming Language :: Python :: 3\n"
        "Classifier: Programming Language :: C\n"
        "Classifier: License :: OSI Approved :: MIT License\n"
        "Description-Content-Type: text/markdown\n"
        "\n%s" % (DIST, VERSION, SUMMARY, REQUIRES_PYTHON, readme))


def wheel_tag() -> str:
    """py3-none-PLATFORM: the library is loaded through ctypes, so any
    Python 3 on this platform can use it; the platform is this one."""
    plat = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    return "py3-none-%s" % plat


def _dist_info_files(tag: str) -> list[tuple[str, bytes]]:
    files = [("%s/METADATA" % DIST_INFO, metadata().encode()),
             ("%s/WHEEL" % DIST_INFO, ("Wheel-Version: 1.0\nGenerator: plock_build\n"
                                       "Root-Is-Purelib: false\nTag: %s\n" % tag).encode()),
             ("%s/top_level.txt" % DIST_INFO, ("%s\n" % NAME).encode())]
    lic = license_file()
    if lic:
        with open(lic, "rb") as f:
            files.append(("%s/LICENSE" % DIST_INFO, f.read()))
    return files


def license_file() -> str | None:
    """LICENSE of the sdist, else of the checkout; None if neither has one."""
    for path in (os.path.join(HERE, "LICENSE"), os.path.join(os.path.dirname(HERE), "LICENSE")):
        if os.path.isfile(path):
            return path
    return None


def package_files() -> list[str]:
    """The package's .py files, relative to HERE, sorted."""
    out = []
    for root, dirs, files in os.walk(os.path.join(HERE, NAME)):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        out += [os.path.relpath(os.path.join(root, f), HERE) for f in sorted(files)
                if f.endswith(".py")]
    return out


# ---- archives

def _record_line(arcname: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "%s,sha256=%s,%d" % (arcname, digest, len(data))


def _write_wheel(path: str, files: list[tuple[str, bytes, int]]) -> None:
    """files: (arcname, data, mode); the dist-info's RECORD is added last."""
    record = [_record_line(name, data) for name, data, _ in files]
    record.append("%s/RECORD,," % DIST_INFO)
    files = files + [("%s/RECORD" % DIST_INFO, ("\n".join(record) + "\n").encode(), 0o644)]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data, mode in files:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix: the mode above is read
            z.writestr(info, data)


def _read(rel: str) -> bytes:
    with open(os.path.join(HERE, rel), "rb") as f:
        return f.read()


# ---- PEP 517 and PEP 660 hooks

def get_requires_for_build_wheel(config_settings=None) -> list[str]:
    """Nothing: the backend is the standard library (and a C compiler)."""
    return []


def get_requires_for_build_sdist(config_settings=None) -> list[str]:
    """Nothing: the backend is the standard library."""
    return []


def get_requires_for_build_editable(config_settings=None) -> list[str]:
    """Nothing: the backend is the standard library (and a C compiler)."""
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None) -> str:
    """Writes the .dist-info directory without compiling; returns its name."""
    for name, data in _dist_info_files(wheel_tag()):
        path = os.path.join(metadata_directory, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    return DIST_INFO


prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None) -> str:
    """Compiles libplock and writes the wheel, the library inside the
    package, into wheel_directory; returns its file name."""
    tag = wheel_tag()
    with tempfile.TemporaryDirectory(prefix="plock-build-") as tmp:
        lib = os.path.join(tmp, LIBRARY)
        compile_library(lib)
        with open(lib, "rb") as f:
            files = [("%s/%s" % (NAME, LIBRARY), f.read(), 0o755)]
    files += [(rel.replace(os.sep, "/"), _read(rel), 0o644) for rel in package_files()]
    files.sort()
    files += [(name, data, 0o644) for name, data in _dist_info_files(tag)]
    wheel = "%s-%s-%s.whl" % (NAME, VERSION, tag)
    _write_wheel(os.path.join(wheel_directory, wheel), files)
    return wheel


def build_editable(wheel_directory, config_settings=None, metadata_directory=None) -> str:
    """PEP 660: compiles libplock into the package here (plock_linux/
    libplock.so.0, which git ignores) and writes a wheel whose .pth file
    puts this directory on sys.path. Changed C sources need it again."""
    tag = wheel_tag()
    compile_library(os.path.join(HERE, NAME, LIBRARY))
    files = [("%s.pth" % NAME, (HERE + "\n").encode(), 0o644)]
    files += [(name, data, 0o644) for name, data in _dist_info_files(tag)]
    wheel = "%s-%s-%s.whl" % (NAME, VERSION, tag)
    _write_wheel(os.path.join(wheel_directory, wheel), files)
    return wheel


def build_sdist(sdist_directory, config_settings=None) -> str:
    """Writes plock_linux-VERSION.tar.gz into sdist_directory: this
    directory's files, the package, and libplock's C sources under csrc/;
    returns its name."""
    base = "%s-%s" % (NAME, VERSION)
    root = c_root()
    entries = [(rel, _read(rel)) for rel in list(SDIST_FILES) + package_files()]
    for rel in c_files(root):
        with open(os.path.join(root, rel), "rb") as f:
            entries.append(("%s/%s" % (CSRC, rel), f.read()))
    lic = license_file()
    if lic:
        with open(lic, "rb") as f:
            entries.append(("LICENSE", f.read()))
    entries.append(("PKG-INFO", metadata().encode()))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for arcname, data in sorted((a.replace(os.sep, "/"), d) for a, d in entries):
            info = tarfile.TarInfo("%s/%s" % (base, arcname))
            info.size = len(data)
            info.mode = 0o644
            info.mtime = EPOCH
            t.addfile(info, io.BytesIO(data))
    name = base + ".tar.gz"
    with open(os.path.join(sdist_directory, name), "wb") as f:
        with gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=EPOCH) as gz:
            gz.write(buf.getvalue())
    return name
