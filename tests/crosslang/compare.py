#!/usr/bin/env python3
"""Compares the cross-language runners' outputs with the table and each other.

Usage: compare.py CASES NAME=OUTPUT...

Each runner's output must be the table's case lines, in order, byte for
byte.  Prints TAP: one test point per runner and case, and one per pair of
runners (their whole outputs identical); exits 1 if anything failed.
"""
import sys


def main(cases, outputs):
    with open(cases, "rb") as f:
        want = [l.strip() for l in f if l.strip() and not l.startswith(b"#")]
    got = {}
    for arg in outputs:
        name, path = arg.split("=", 1)
        try:
            with open(path, "rb") as f:
                got[name] = f.read()
        except OSError as e:
            print("# crosslang: %s: %s" % (name, e))
            got[name] = b""
    n = failed = 0

    def point(ok, what, why=""):
        nonlocal n, failed
        n += 1
        failed += not ok
        if not ok and why:
            print("# " + why.replace("\n", "\n# "))
        print("%s %d - %s" % ("ok" if ok else "not ok", n, what), flush=True)

    for name, data in got.items():
        lines = data.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        for i, w in enumerate(want):
            g = lines[i] if i < len(lines) else b"(missing)"
            point(g == w, "%s: case %d" % (name, i + 1),
                  "%s: want %s\n%s  got %s" % (name, w.decode(), " " * len(name), g.decode()))
        if len(lines) > len(want):
            point(False, "%s: no line beyond the table" % name,
                  "%s: %d lines more than the table" % (name, len(lines) - len(want)))
    names = sorted(got)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            point(got[a] == got[b] and bool(got[a]), "%s and %s agree" % (a, b),
                  "%s and %s differ" % (a, b))
    print("1..%d" % n)
    return 1 if failed or not n else 0


if __name__ == "__main__":
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2:]))
