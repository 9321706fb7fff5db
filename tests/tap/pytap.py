#!/usr/bin/env python3
"""Runs the Python unittest tests of a directory and reports them as TAP:
one test point per test method, its traceback as "# " lines before a
failing point, a skip as "ok N - name # SKIP reason".
Usage: pytap.py DIR   (python3 -m unittest discover -s DIR, in TAP)
"""
import sys
import unittest


class TapResult(unittest.TestResult):
    def __init__(self):
        super().__init__()
        self.n = 0

    def _point(self, ok, test, directive="", why=""):
        self.n += 1
        for line in why.rstrip("\n").splitlines():
            print("# " + line)
        print("%s %d - %s%s" % ("ok" if ok else "not ok", self.n, test.id(), directive), flush=True)

    def addSuccess(self, test):
        super().addSuccess(test)
        self._point(True, test)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._point(False, test, why=self.failures[-1][1])

    def addError(self, test, err):
        super().addError(test, err)
        self._point(False, test, why=self.errors[-1][1])

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._point(False, subtest, why=self._exc_info_to_string(err, test))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._point(True, test, " # SKIP " + " ".join(reason.split()))

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._point(True, test, " # TODO expected failure")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._point(False, test, why="passed, but is marked expectedFailure")


def main(top):
    suite = unittest.defaultTestLoader.discover(top, top_level_dir=top)
    result = TapResult()
    suite.run(result)
    if result.n == 0:
        print("not ok 1 - no test found in %s" % top)
        result.n = 1
        result.errors.append((None, ""))
    print("1..%d" % result.n)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "tests/python"))
