"""A PEP 517 build backend for plock-linux (import plock_linux), standard library only.

pip builds a package in an isolated environment holding the backend's
requirements; with setuptools that means a download, and there may be no
index to download from. The package is pure Python, so this backend writes
its wheel (PEP 427) and sdist (PEP 517/625) itself, with zipfile, tarfile,
hashlib and base64, and needs nothing: ``pip install ./python`` works
offline.

The wheel also carries plock_linux/_origin.py, naming the source checkout the
wheel was built from when it is one (this directory's parent has
include/plock.h), so that an installed package finds build/libplock.so of
that checkout when libplock itself is not installed.
"""
from __future__ import annotations

import base64
import hashlib
import io
import os
import tarfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
# The distribution is plock-linux (the name plock is an unrelated Plone
# installer's on the Package Index); its wheel and sdist file names and its
# package directory spell it plock_linux.
DIST = "plock-linux"
NAME = "plock_linux"
VERSION = "0.1.0"
TAG = "py3-none-any"
DIST_INFO = "%s-%s.dist-info" % (NAME, VERSION)
# The files of the sdist, relative to this directory.
SDIST_FILES = ("pyproject.toml", "plock_build.py", "README.md")


def _package_files() -> list[str]:
    """The package's .py files, relative to HERE, sorted."""
    out = []
    for root, dirs, files in os.walk(os.path.join(HERE, NAME)):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for f in sorted(files):
            if f.endswith(".py") and f != "_origin.py":
                out.append(os.path.relpath(os.path.join(root, f), HERE))
    return out


def _metadata() -> str:
    with open(os.path.join(HERE, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    return (
        "Metadata-Version: 2.1\n"
        "Name: %s\n"
        "Version: %s\n"
        "Summary: System V plock() for Linux Python (os.plock), through libplock\n"
        "License: MIT\n"
        "Requires-Python: >=3.9\n"
        "Classifier: Operating System :: POSIX :: Linux\n"
        "Classifier: Programming Language :: Python :: 3\n"
        "Description-Content-Type: text/markdown\n"
        "\n%s" % (DIST, VERSION, readme))


def _origin() -> bytes:
    checkout = os.path.dirname(HERE)
    if not os.path.isfile(os.path.join(checkout, "include", "plock.h")):
        checkout = ""
    return ('"""Written by plock_build: the source checkout this wheel was built from."""\n'
            "CHECKOUT = %r\n" % checkout).encode()


def _record_line(arcname: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "%s,sha256=%s,%d" % (arcname, digest, len(data))


def _write_wheel(directory: str, editable: bool = False) -> str:
    files: list[tuple[str, bytes]] = []
    if editable:
        # PEP 660: a .pth file that puts this directory on sys.path.
        files.append(("%s.pth" % NAME, (HERE + "\n").encode()))
    else:
        for rel in _package_files():
            with open(os.path.join(HERE, rel), "rb") as f:
                files.append((rel.replace(os.sep, "/"), f.read()))
        files.append(("%s/_origin.py" % NAME, _origin()))
    files.append(("%s/METADATA" % DIST_INFO, _metadata().encode()))
    files.append(("%s/WHEEL" % DIST_INFO, (
        "Wheel-Version: 1.0\nGenerator: plock_build\nRoot-Is-Purelib: true\n"
        "Tag: %s\n" % TAG).encode()))
    files.append(("%s/top_level.txt" % DIST_INFO, ("%s\n" % NAME).encode()))
    record = [_record_line(name, data) for name, data in files]
    record.append("%s/RECORD,," % DIST_INFO)
    files.append(("%s/RECORD" % DIST_INFO, ("\n".join(record) + "\n").encode()))

    wheel = "%s-%s-%s.whl" % (NAME, VERSION, TAG)
    with zipfile.ZipFile(os.path.join(directory, wheel), "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return wheel


# ---- PEP 517 hooks

def get_requires_for_build_wheel(config_settings=None) -> list[str]:
    """Nothing: the backend is the standard library."""
    return []


def get_requires_for_build_sdist(config_settings=None) -> list[str]:
    """Nothing: the backend is the standard library."""
    return []


def get_requires_for_build_editable(config_settings=None) -> list[str]:
    """Nothing: the backend is the standard library."""
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None) -> str:
    """Write the wheel into wheel_directory; return its file name."""
    return _write_wheel(wheel_directory)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None) -> str:
    """PEP 660: a wheel whose .pth file points at this directory."""
    return _write_wheel(wheel_directory, editable=True)


def build_sdist(sdist_directory, config_settings=None) -> str:
    """Write plock_linux-VERSION.tar.gz into sdist_directory; return its name."""
    base = "%s-%s" % (NAME, VERSION)
    name = base + ".tar.gz"
    pkg_info = _metadata().encode()
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz", format=tarfile.PAX_FORMAT) as t:
        def add(arcname: str, data: bytes) -> None:
            info = tarfile.TarInfo("%s/%s" % (base, arcname))
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 0
            t.addfile(info, io.BytesIO(data))
        for rel in list(SDIST_FILES) + _package_files():
            with open(os.path.join(HERE, rel), "rb") as f:
                add(rel.replace(os.sep, "/"), f.read())
        add("PKG-INFO", pkg_info)
    return name
