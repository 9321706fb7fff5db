"""plock(op) takes what os.plock(op, /) takes, and nothing else is locked.

CPython declares os.plock for Argument Clinic (Modules/posixmodule.c) as

    os.plock
        op: int
        /

that is one positional-only argument through the ``int`` converter: an
object's __index__ (an int, a bool), TypeError for a str, float, None or
anything without __index__, OverflowError outside C int, TypeError for a
keyword. Before this, the package truncated op to a C int: plock(2**32 + 1)
locked PROCLOCK, plock(2**32) was UNLOCK, plock("1") and plock(1.5) locked.

Every case runs in a forked process of its own (pltest.in_child), calls the
real library and measures the real lock state: plock_state(), VmLck of
/proc/self/status and the "lo" flags of /proc/self/smaps.
"""
import decimal
import enum
import errno
import fractions
import inspect
import os
import sys
import unittest
import warnings

import pltest
import plock_linux


class IntOnly:
    """__int__ but no __index__: refused since Python 3.10."""

    def __int__(self):
        return 1


class IntReturns:
    """__int__ (no __index__) that returns what it is given."""

    def __init__(self, value):
        self.value = value

    def __int__(self):
        return self.value

    def __repr__(self):
        return "IntReturns(%r)" % (self.value,)


class Index:
    """An op given through __index__, as numpy integers give one."""

    def __init__(self, value):
        self.value = value

    def __index__(self):
        return self.value

    def __repr__(self):
        return "Index(%r)" % (self.value,)


class IndexRaises:
    def __index__(self):
        raise ValueError("no index here")


class MyInt(int):
    pass


class Op(enum.IntEnum):
    PROC = 1
    TXT = 2


# Refused with TypeError by the int converter.
NOT_INTS = ["1", "", b"\x01", bytearray(b"\x01"), 1.0, 1.5, float("nan"), float("inf"), None,
            [1], (1,), {1}, {1: 1}, complex(1, 0), decimal.Decimal(1), decimal.Decimal("1.5"),
            fractions.Fraction(1), fractions.Fraction(3, 2), object(), IntOnly(),
            Index("1"), Index(1.0)]
if sys.version_info < (3, 10):
    # 3.9 took an object with __int__ and no __index__, with a
    # DeprecationWarning (the oracle below checks that too).
    NOT_INTS = [v for v in NOT_INTS
                if isinstance(v, (float, complex)) or not hasattr(type(v), "__int__")]
# Ints outside C int, each of which, truncated to 32 bits, is an op (or the
# same as before: 2**32 + 1 is 1, PROCLOCK; 2**32 is 0, UNLOCK).
OUT_OF_RANGE = [2**31, 2**31 + 1, 2**32, 2**32 + 1, 2**32 + 2, 2**32 + 4, 2**32 + 9, 2**64,
                2**64 + 1, -(2**31) - 1, -(2**32), -(2**32) + 1, -(2**32) + 2, 2**100, -(2**100),
                Index(2**32 + 1), MyInt(2**32 + 1)]
# In C int but no operation: EINVAL from the library, as for any bad op.
NO_OP = [2**31 - 1, -(2**31), 3, -1, 16]
# Taken: the op they are.
TAKEN = [(True, plock_linux.PROCLOCK), (Op.PROC, plock_linux.PROCLOCK),
         (MyInt(2), plock_linux.TXTLOCK), (Index(4), plock_linux.DATLOCK),
         (Op.TXT, plock_linux.TXTLOCK)]


def outcome(fn, *args, **kwargs):
    """("ok", result) or (exception type, message), and the warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            got = ("ok", fn(*args, **kwargs))
        except Exception as e:
            got = (type(e), str(e))
    return got, [(w.category, str(w.message)) for w in caught]


def locks():
    """The state, VmLck, the locked mappings and MCL_FUTURE, measured."""
    return (plock_linux.state(), pltest.vmlck(),
            sorted((m.start, m.end) for m in pltest.smaps() if "lo" in m.vmflags),
            plock_linux.status().future)


def refused(values, first=None):
    """In a child: lock first (if any), then plock(v) for each value; what
    each raised and the locks before and after it."""
    def child():
        if first is not None:
            plock_linux.plock(first)
        out = []
        for v in values:
            before = locks()
            got, _ = outcome(plock_linux.plock, v)
            out.append((repr(v), got, before, locks()))
        return out
    return pltest.in_child(child)


class Types(unittest.TestCase):
    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("needs root (CAP_IPC_LOCK)")

    def assert_refused(self, results, kind):
        for v, got, before, after in results:
            with self.subTest(op=v):
                self.assertIs(got[0], kind, got)
                self.assertEqual(after, before, "plock(%s) changed the locks" % v)

    def test_not_an_int_is_type_error_and_locks_nothing(self):
        results = refused(NOT_INTS)
        self.assert_refused(results, TypeError)
        for v, _, before, _ in results:
            self.assertEqual(before, (0, 0, [], 0), v)

    def test_out_of_c_int_is_overflow_error_and_locks_nothing(self):
        results = refused(OUT_OF_RANGE)
        self.assert_refused(results, OverflowError)
        for v, got, before, _ in results:
            self.assertEqual(got[1], "Python int too large to convert to C int", v)
            self.assertEqual(before, (0, 0, [], 0), v)

    def test_refused_with_text_locked_changes_nothing(self):
        """2**32 + 4 would be DATLOCK, 2**32 + 9 PROCSHLIBLOCK, 2**32 UNLOCK."""
        results = refused(OUT_OF_RANGE + NOT_INTS, first=plock_linux.TXTLOCK)
        self.assert_refused([r for r in results if r[0] in map(repr, OUT_OF_RANGE)], OverflowError)
        self.assert_refused([r for r in results if r[0] in map(repr, NOT_INTS)], TypeError)
        for v, _, before, _ in results:
            st, vmlck, locked, future = before
            self.assertEqual((st, future), (plock_linux.TXTLOCK, 0), v)
            self.assertGreater(vmlck, 0, v)
            self.assertTrue(locked, v)

    def test_refused_unlock_keeps_the_locks(self):
        """2**32, 2**64 and -(2**32) would be UNLOCK truncated: after
        PROCLOCK, they raise and text, data and MCL_FUTURE stay locked."""
        def child():
            plock_linux.plock(plock_linux.PROCLOCK)
            out = []
            for v in (2**32, 2**64, -(2**32), "0", 0.0, None, False):
                got, _ = outcome(plock_linux.plock, v)
                out.append((v, got[0], plock_linux.state(), plock_linux.status().future,
                            pltest.vmlck() > 0))
                if got[0] == "ok":
                    break
            return out
        out = pltest.in_child(child)
        want = [OverflowError] * 3 + [TypeError] * 3
        for (v, kind, st, future, vmlck), k in zip(out, want):
            self.assertEqual((kind, st, future, vmlck),
                             (k, plock_linux.TXTLOCK | plock_linux.DATLOCK, 1, True), repr(v))
        # False is an int, 0: UNLOCK, which unlocks.
        self.assertEqual(out[-1], (False, "ok", 0, 0, False))

    def test_in_range_but_no_op_is_einval(self):
        def child():
            out = []
            for v in NO_OP:
                try:
                    plock_linux.plock(v)
                    out.append((v, None))
                except OSError as e:
                    out.append((v, type(e), e.errno, e.reason))
            return out, locks()
        out, after = pltest.in_child(child)
        self.assertEqual(out, [(v, OSError, errno.EINVAL, "badop") for v in NO_OP])
        self.assertEqual(after, (0, 0, [], 0))

    def test_bool_and_index_are_ints(self):
        """True is PROCLOCK, as os.plock(True) would be; an IntEnum, an int
        subclass and an object with __index__ are their value."""
        for v, op in TAKEN:
            with self.subTest(op=v):
                def child():
                    plock_linux.plock(v)
                    return plock_linux.state(), pltest.vmlck() > 0
                want = {plock_linux.PROCLOCK: plock_linux.TXTLOCK | plock_linux.DATLOCK}.get(op, op)
                self.assertEqual(pltest.in_child(child), (want, True))

    def test_positional_only(self):
        """plock(op=1), plock() and plock(1, 2) are TypeError, nothing locked."""
        def child():
            out = []
            for args, kwargs in (((), {"op": 1}), ((), {}), ((1, 2), {}), ((), {"code": 1})):
                got, _ = outcome(plock_linux.plock, *args, **kwargs)
                out.append((got[0], locks()))
            return out
        for kind, after in pltest.in_child(child):
            self.assertIs(kind, TypeError)
            self.assertEqual(after, (0, 0, [], 0))

    def test_signature(self):
        params = list(inspect.signature(plock_linux.plock).parameters.values())
        self.assertEqual([(p.name, p.kind, p.annotation) for p in params],
                         [("op", inspect.Parameter.POSITIONAL_ONLY, int)])


class AgainstThisCPython(unittest.TestCase):
    """An oracle in the running interpreter: os.strerror.

    Linux CPython has no os.plock to compare with (configure finds no
    plock()), but Modules/posixmodule.c declares os.strerror for Argument
    Clinic exactly as it declares os.plock:

        os.strerror
            code: int
            /

    one positional-only argument through the same ``int`` converter
    (_PyLong_AsInt, PyLong_AsInt from 3.13, after a float check on 3.9),
    and it has no side effect. So whatever this interpreter's os.strerror
    refuses, its os.plock would refuse with the same exception, message and
    warnings; what it takes, os.plock would pass to plock(). plock_linux must
    agree on every value, in every version of CPython it runs on.
    """

    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("needs root (CAP_IPC_LOCK)")

    def test_oracle_is_positional_only_int(self):
        params = list(inspect.signature(os.strerror).parameters.values())
        self.assertEqual([p.kind for p in params], [inspect.Parameter.POSITIONAL_ONLY])

    def test_same_exceptions_as_os_strerror(self):
        values = (NOT_INTS + OUT_OF_RANGE + NO_OP + [v for v, _ in TAKEN]
                  + [False, 0, 1, 2, 4, 8, MyInt(1), Index(True), Index(MyInt(2)), IndexRaises(),
                     Index(2**31), Index(-(2**31) - 1),
                     IntReturns("1"), IntReturns(MyInt(1)), IntReturns(True), IntReturns(2**32)])
        for v in values:
            with self.subTest(op=v):
                def child():
                    oracle = outcome(os.strerror, v)
                    got = outcome(plock_linux.plock, v)
                    return oracle, got, locks()
                (oracle, owarn), (got, gwarn), after = pltest.in_child(child)
                self.assertEqual(gwarn, owarn, "warnings")
                if oracle[0] == "ok":
                    # Taken by the converter: the op reached the library.
                    self.assertTrue(got[0] == "ok" or issubclass(got[0], OSError), got)
                    if got[0] != "ok":
                        self.assertEqual(after, (0, 0, [], 0))
                else:
                    self.assertEqual(got, oracle)
                    self.assertEqual(after, (0, 0, [], 0))

    def test_keywords_refused_like_os_strerror(self):
        oracle, _ = outcome(os.strerror, code=1)
        self.assertIs(oracle[0], TypeError)
        for kwargs in ({"op": 1}, {"code": 1}):
            got = pltest.in_child(lambda: (outcome(plock_linux.plock, **kwargs)[0][0], locks()))
            self.assertEqual(got, (TypeError, (0, 0, [], 0)))


if __name__ == "__main__":
    unittest.main()
