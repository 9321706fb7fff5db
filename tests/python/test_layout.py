"""The ctypes mirrors of the package against <plock.h>, through a C compiler.

A C program generated from each Structure's _fields_ prints sizeof of the
struct and offsetof and sizeof of every field the Structure names; the
Structure must agree on all of them. A field renamed in the header fails to
compile, one added or resized changes the sizes, one moved changes the
offsets: a header change fails here loudly. The constants of the package
are checked against the header's macros the same way.
"""
import ctypes
import os
import shutil
import subprocess
import tempfile
import unittest

import pltest
import plock_linux
from plock_linux import _ffi

# The package's constants and the header macros they mirror.
CONSTANTS = {name: name for name in (
    "UNLOCK", "PROCLOCK", "TXTLOCK", "DATLOCK", "SHLIBLOCK", "PROCSHLIBLOCK",
    "TXTSHLIBLOCK", "DATSHLIBLOCK")}
CONSTANTS.update({name: "PLOCK_" + name for name in (
    "SEG_OTHER", "SEG_TEXT", "SEG_DATA", "SEG_STACK", "SEG_SHLIB_TEXT", "SEG_SHLIB_DATA",
    "PROT_READ", "PROT_WRITE", "PROT_EXEC", "PROT_SHARED", "UNLIMITED")})


def c_program():
    lines = ["#include <stddef.h>", "#include <stdio.h>", "#include <plock.h>", "int main(void) {"]
    for cname, cls in sorted(_ffi.STRUCTS.items()):
        lines.append('printf("%s sizeof %%zu\\n", sizeof(struct %s));' % (cname, cname))
        for field, _ in cls._fields_:
            lines.append('printf("%s.%s %%zu %%zu\\n", offsetof(struct %s, %s), '
                         'sizeof(((struct %s *)0)->%s));' % (cname, field, cname, field, cname, field))
    for py, c in sorted(CONSTANTS.items()):
        lines.append('printf("%s %%llu\\n", (unsigned long long)(%s));' % (py, c))
    lines += ["return 0;", "}"]
    return "\n".join(lines) + "\n"


class Layout(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cc = shutil.which(os.environ.get("CC", "cc"))
        if cc is None:
            raise AssertionError("no C compiler (cc): the layout test needs one")
        d = tempfile.mkdtemp(prefix="plock-layout-")
        try:
            src, exe = os.path.join(d, "layout.c"), os.path.join(d, "layout")
            with open(src, "w") as f:
                f.write(c_program())
            p = subprocess.run([cc, "-std=c11", "-Wall", "-Werror", "-I",
                                os.path.join(pltest.REPO, "include"), "-o", exe, src],
                               capture_output=True, text=True)
            if p.returncode != 0:
                raise AssertionError("the header and the ctypes mirrors disagree "
                                     "(a field renamed?):\n" + p.stderr)
            out = subprocess.run([exe], capture_output=True, text=True, check=True).stdout
        finally:
            shutil.rmtree(d)
        cls.c = {}
        for line in out.splitlines():
            key, *vals = line.split()
            cls.c[key] = [int(v) for v in vals if v != "sizeof"]

    def test_structures(self):
        for cname, cls in sorted(_ffi.STRUCTS.items()):
            with self.subTest(struct=cname):
                self.assertEqual(ctypes.sizeof(cls), self.c[cname][0], "sizeof(struct %s)" % cname)
                for field, ctype in cls._fields_:
                    self.assertEqual([getattr(cls, field).offset, ctypes.sizeof(ctype)],
                                     self.c["%s.%s" % (cname, field)],
                                     "struct %s .%s: offset, size" % (cname, field))

    def test_dataclasses_mirror_the_structures(self):
        import dataclasses
        for dc, st in ((plock_linux.Segment, _ffi.Segment), (plock_linux.Status, _ffi.Status)):
            self.assertEqual([f.name for f in dataclasses.fields(dc)], [n for n, _ in st._fields_])

    def test_constants(self):
        for name in sorted(CONSTANTS):
            with self.subTest(constant=name):
                self.assertEqual(getattr(plock_linux, name), self.c[name][0])


if __name__ == "__main__":
    unittest.main()
