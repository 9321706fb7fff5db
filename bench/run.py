#!/usr/bin/env python3
"""Runs the plock benchmarks and prints one table ("make bench").

Every figure is a ratio against a baseline measured in the same run (and,
for C, in the same process); times are medians of RUNS runs.  Benchmarks,
never assertions: the exit status is non-zero only if a program failed.

    bench/run.py BUILD_DIR [RUNS]

BUILD_DIR holds bench (bench/bench.c) and gobench (bench/gobench).
"""
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile

B = sys.argv[1] if len(sys.argv) > 1 else "build/bench"
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 5
rows = []


def run(*argv):
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    return out.split()


def kv(words):
    """'heap 64 5 mlockall 1 plock 2' -> {'mlockall': 1.0, 'plock': 2.0}"""
    return {words[i]: float(words[i + 1]) for i in range(3, len(words) - 1, 2)}


def row(figure, value, base, target=None, unit="ms", scale=1e-6):
    ratio = value / base if base else float("inf")
    verdict = ""
    if target is not None:
        verdict = "met" if ratio <= target else "MISSED"
    rows.append((figure, f"{value * scale:.3f} {unit}", f"{base * scale:.3f} {unit}",
                 f"{ratio:.3f}x", f"<= {target}x" if target is not None else "-", verdict))


def absolute(figure, value, target, unit):
    rows.append((figure, f"{value:.1f} {unit}", "-", "-", f"< {target} {unit}",
                 "met" if value < target else "MISSED"))


def syscalls(n):
    """System calls of one plock(PROCLOCK) with n mappings, by name."""
    with tempfile.NamedTemporaryFile(prefix="plock-strace-") as f:
        subprocess.run(["strace", "-f", "-qq", "-o", f.name, f"{B}/bench", "count", str(n)],
                       check=True, capture_output=True)
        lines = open(f.name).read().splitlines()
    marks = [i for i, l in enumerate(lines) if re.search(r"\bgetppid\(", l)]
    calls = {}
    for l in lines[marks[0] + 1:marks[1]]:
        m = re.match(r"(?:\d+\s+)?(\w+)\(", l)
        if m:
            calls[m.group(1)] = calls.get(m.group(1), 0) + 1
    return calls


def main():
    print(f"plock benchmarks: kernel {platform.release()}, {os.cpu_count()} CPUs, "
          f"medians of {RUNS} runs (C: plock and baseline alternate in one process)")

    for mib in (64, 1024, 4096):
        r = kv(run(f"{B}/bench", "heap", str(mib), str(RUNS)))
        size = f"{mib // 1024} GiB" if mib >= 1024 else f"{mib} MiB"
        row(f"PROCLOCK vs mlockall(MCL_CURRENT), {size} touched heap", r["plock"], r["mlockall"], 0.8)
        row(f"UNLOCK vs munlockall(), {size} touched heap", r["unlock"], r["munlockall"], 1.1)

    for mib, runs in ((1024, RUNS), (4096, max(3, RUNS // 2))):
        r = kv(run(f"{B}/bench", "datlock", str(mib), str(runs)))
        row(f"DATLOCK, {mib // 1024} GiB untouched, vs mmap(MAP_POPULATE)", r["datlock"], r["populate"])
        row(f"DATLOCK + touching it all, {mib // 1024} GiB, vs MAP_POPULATE", r["datlock_touch"], r["populate"])

    per = {}
    for n in (1000, 10000, 50000):
        r = kv(run(f"{B}/bench", "maps", str(n), str(RUNS)))
        per[n] = r
        row(f"PROCLOCK, {n} mappings, vs the same mlock2 calls", r["plock"], r["direct"])
        row(f"PROCLOCK, {n} mappings, vs mlockall(CURRENT|ONFAULT)", r["plock"], r["mlockall"])
    for n, r in per.items():
        over = (r["plock"] - r["direct"]) / n / 1000
        rows.append((f"plock overhead per mapping, {n} mappings", f"{over:.2f} us",
                     f"{r['plock'] / n / 1000:.2f} us total", "-", "< 1 us",
                     "met" if over < 1 else "MISSED"))
    for n, r in per.items():
        rows.append((f"  of which: read smaps once / maps once, {n}",
                     f"{r['smaps'] / n / 1000:.2f} us", f"{r['maps'] / n / 1000:.2f} us",
                     "-", "-", ""))

    cplock = os.path.join(os.path.dirname(os.path.abspath(B)), "cplock")
    for n in (1000, 10000):
        r = kv(run(f"{B}/bench", "remote", str(n), str(RUNS), cplock))
        row(f"cplock lock proc, {n} mappings, vs the process's own plock", r["cplock"], r["self"], 2)
        row(f"  plock_ctl(pid, PROCLOCK) alone, {n} mappings, vs its own", r["ctl"], r["self"])
        row(f"  worst stall of a running thread, cplock vs its own plock", r["stall_cplock"],
            r["stall_self"], 2)

    r = kv(run(f"{B}/bench", "forks", "1000", str(RUNS), cplock))
    row("cplock run --follow --lock proc, a program that forks 1,000 children, vs without cplock",
        r["follow"], r["plain"])
    row("  cplock run --lock proc (children not locked), the same program, vs without cplock",
        r["run"], r["plain"])

    c = float(run(f"{B}/bench", "einval", "2000000")[2])
    absolute("EINVAL path, C plock()", c, 50, "ns")
    g = statistics.median(float(run(f"{B}/gobench", "einval", "1000000")[2]) for _ in range(3))
    absolute("EINVAL path, Go plock.Plock()", g, 150, "ns")

    mem = {"plock": [], "mlockall": []}
    for _ in range(RUNS):
        for how in mem:
            w = run(f"{B}/gobench", "mem", how, "256")
            mem[how].append((float(w[4]), float(w[6])))
    for i, what in ((0, "VmLck"), (1, "RSS")):
        p = statistics.median(v[i] for v in mem["plock"])
        m = statistics.median(v[i] for v in mem["mlockall"])
        row(f"Go: {what} after Plock(DatLock) vs Mlockall(CURRENT|FUTURE)", p, m, 0.5, "MiB", 1 / 2**20)

    for n in (1000, 10000, 50000):
        calls = syscalls(n)
        top = ", ".join(f"{k} {v}" for k, v in sorted(calls.items(), key=lambda kv: -kv[1])[:5])
        rows.append((f"system calls of PROCLOCK, {n} mappings", str(sum(calls.values())), top,
                     "-", "-", ""))

    w = [max(len(r[i]) for r in rows + [HEAD]) for i in range(len(HEAD))]
    for r in [HEAD] + rows:
        print("  ".join(s.ljust(w[i]) for i, s in enumerate(r)).rstrip())


HEAD = ("figure", "plock", "baseline", "ratio", "target", "verdict")

if __name__ == "__main__":
    main()
