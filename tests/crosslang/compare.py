#!/usr/bin/env python3
"""Compares the cross-language runners' outputs with the table and each other.

Usage: compare.py CASES RESULT_FILE NAME=OUTPUT...

Each runner's output must be the table's case lines, in order, byte for
byte.  Counts one check per runner and case, and one per pair of runners
(their whole outputs identical); writes "crosslang: N passed, M failed" to
RESULT_FILE and exits 1 if anything failed.
"""
import sys


def main(cases, result, outputs):
    with open(cases, "rb") as f:
        want = [l.strip() for l in f if l.strip() and not l.startswith(b"#")]
    got = {}
    for arg in outputs:
        name, path = arg.split("=", 1)
        try:
            with open(path, "rb") as f:
                got[name] = f.read()
        except OSError as e:
            print("crosslang: %s: %s" % (name, e), file=sys.stderr)
            got[name] = b""
    passed = failed = 0
    for name, data in got.items():
        lines = data.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        for i, w in enumerate(want):
            g = lines[i] if i < len(lines) else b"(missing)"
            if g == w:
                passed += 1
            else:
                failed += 1
                print("crosslang: %s: want %s\n%s  got %s" % (name, w.decode(), " " * len(name), g.decode()))
        if len(lines) > len(want):
            failed += 1
            print("crosslang: %s: %d lines more than the table" % (name, len(lines) - len(want)))
    names = sorted(got)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            if got[a] == got[b] and got[a]:
                passed += 1
            else:
                failed += 1
                print("crosslang: %s and %s differ" % (a, b))
    line = "crosslang: %d passed, %d failed" % (passed, failed)
    print(line)
    with open(result, "w") as f:
        f.write(line + "\n")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3:]))
