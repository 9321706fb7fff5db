#!/usr/bin/env python3
"""go test -json on stdin, TAP on stdout: one test point per top-level test,
example and fuzz target of every package.

A failing test's point follows its output (its subtests' too, t.Log and
testify lines); a skipped one is "ok N - Name # SKIP reason".  A package
that fails outside any test (build error, panic, TestMain) is one more
failing point, after the output that says why; so are lines that are not
JSON at all (go's own errors).  Exits 1 if any point failed.
Usage: go test -json ... 2>&1 | gotap.py
"""
import json
import sys

MAX_LINES = 80


def main():
    n = bad = 0
    out = {}      # (package, top-level test) -> output lines
    pkg_out = {}  # package -> output lines outside tests
    stray = []    # lines that are not go test -json
    failed_in = set()  # packages with a failing point

    def point(ok, name, lines, directive=""):
        nonlocal n, bad
        n += 1
        if not ok:
            bad += 1
            for line in lines[-MAX_LINES:]:
                print("# " + line)
        print("%s %d - %s%s" % ("ok" if ok else "not ok", n, name, directive), flush=True)

    for raw in sys.stdin:
        raw = raw.rstrip("\n")
        try:
            ev = json.loads(raw)
        except ValueError:
            if raw.strip():
                stray.append(raw)
            continue
        if not isinstance(ev, dict):
            stray.append(raw)
            continue
        action = ev.get("Action")
        pkg = (ev.get("ImportPath") or ev.get("Package", "")).split(" ")[0]  # "p [p.test]"
        test = ev.get("Test", "")
        top = test.split("/", 1)[0]
        if action in ("output", "build-output"):
            text = ev.get("Output", "").rstrip("\n")
            if top:
                out.setdefault((pkg, top), []).append(text)
            else:
                pkg_out.setdefault(pkg, []).append(text)
            continue
        if action not in ("pass", "fail", "skip", "build-fail") or "/" in test:
            continue
        if test:
            lines = [l for l in out.pop((pkg, test), [])
                     if not l.lstrip().startswith(("=== ", "--- PASS", "--- SKIP"))]
            if action == "skip":
                reason = " ".join(l.strip() for l in lines).strip() or "no reason given"
                point(True, test, lines, " # SKIP " + reason)
            else:
                point(action == "pass", test, lines)
                if action == "fail":
                    failed_in.add(pkg)
        elif action in ("fail", "build-fail"):
            # A package failed: its tests' points say why, unless none
            # failed (a build error, a panic, TestMain).
            lines = [l for l in pkg_out.pop(pkg, []) if l.strip() != "FAIL"
                     and not l.startswith("FAIL\t")]
            if pkg not in failed_in:
                point(False, "package %s" % pkg, lines + stray)
                failed_in.add(pkg)
                stray = []
        else:
            pkg_out.pop(pkg, None)
    if stray:
        point(False, "go test: output that is not go test -json", stray)
    if n == 0:
        point(False, "go test reported no test", [])
    print("1..%d" % n)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
