#!/usr/bin/env python3
"""Adds up the counts every suite of `make test` wrote into build/results.

Each file there holds one line "SUITE: N passed, M failed".  The total is
printed last, as "make test: N passed, M failed", and the exit status is 1
if anything failed or no suite ran.
"""
import os
import re
import sys

LINE = re.compile(r"^(\S+): (\d+) passed, (\d+) failed")


def main(results):
    passed = failed = 0
    names = sorted(os.listdir(results)) if os.path.isdir(results) else []
    for name in names:
        with open(os.path.join(results, name)) as f:
            m = LINE.match(f.read())
        if m is None:
            print(f"summary: {name}: no 'N passed, M failed' line", file=sys.stderr)
            failed += 1
            continue
        print(f"  {m.group(1):<12} {m.group(2):>5} passed {m.group(3):>3} failed")
        passed += int(m.group(2))
        failed += int(m.group(3))
    if not names:
        print("summary: no suite reported", file=sys.stderr)
        return 1
    print(f"make test: {passed} passed, {failed} failed")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "build/results"))
