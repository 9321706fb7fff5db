#!/usr/bin/env python3
"""A test VM's console log on stdin, TAP on stdout: the points of every job
of tests/vm/jobs that this VM runs, numbered as one stream, each named
"JOB: name".

tests/vm/guest.sh prints each job between "@plock-vm@ begin JOB" and
"@plock-vm@ end JOB STATUS".  A tap job's lines are TAP already; a go job's
are a Go test binary's -test.v=test2json output, which go tool test2json
and tests/tap/gotap.py turn into TAP here.  A job's other lines become
"# " lines, so that a failing point shows its own output.  A job fails as
a whole when it exits non-zero with no failing point, when its plan does
not match its points, or when it never ended or never began (a guest
panic, a timeout): the stream never passes silently short.
Usage: collect.py VM JOBS_FILE GO < console.log
"""
import fnmatch
import os
import re
import subprocess
import sys

MARK = "@plock-vm@ "
POINT = re.compile(r"^(not ok|ok)\b\s*(\d+)?\s*(?:-\s*)?(.*)$")
PLAN = re.compile(r"^1\.\.(\d+)")
TAIL = 40


def jobs_of(vm, path):
    jobs = []
    for line in open(path):
        f = line.split()
        if not f or f[0].startswith("#"):
            continue
        if vm in f[0].split(",") and any(fnmatch.fnmatchcase(f[1], p)
                                           for p in (os.environ.get("VM_ONLY") or "*").split()):
            jobs.append((f[1], f[2]))
    return jobs


def main():
    vm, jobs_file, go = sys.argv[1:4]
    jobs = jobs_of(vm, jobs_file)
    if not jobs and os.environ.get("VM_ONLY"):
        print("1..0 # SKIP VM_ONLY=%s matches no job of %s" % (os.environ["VM_ONLY"], vm))
        return 0
    fmt = dict(jobs)
    out = {}      # job -> lines
    status = {}   # job -> exit status
    took = {}     # job -> seconds, as the guest measured them
    cur = None
    header = []
    tail = []     # the console's last lines outside any job
    for raw in sys.stdin.buffer:
        line = raw.decode("utf-8", "replace").rstrip("\r\n").replace("\r", "")
        if MARK in line and (line.startswith(MARK) or " kernel " in line):
            f = line[line.index(MARK) + len(MARK):].split()
            if f[:1] == ["begin"] and len(f) > 1:
                cur = f[1]
                out[cur] = []
                continue
            if f[:1] == ["end"] and len(f) > 2 and f[1] == cur:
                status[cur] = int(f[2]) if f[2].isdigit() else 255
                if len(f) > 3:
                    took[cur] = f[3]
                cur = None
                continue
            header.append(line)
            continue
        if cur is not None:
            out[cur].append(line)
        else:
            tail.append(line)
            del tail[:-TAIL]
    n = bad = 0

    def point(ok, name, directive=""):
        nonlocal n, bad
        n += 1
        bad += not ok
        print("%s %d - %s%s" % ("ok" if ok else "not ok", n, name, directive), flush=True)

    for h in header:
        print("# " + h)
    for job, form in jobs:
        if job not in out:
            for line in tail:
                print("# console: " + line)
            tail = []
            point(False, "%s: never ran (the guest stopped before it: panic, timeout?)" % job)
            continue
        lines = out[job]
        if form == "go" and not any("=== RUN" in l for l in lines):
            # No test ran: what the guest's shell said (a binary that
            # could not be built for this architecture, say).
            for l in lines[-TAIL:]:
                print("# " + l)
        if form == "go":
            r = subprocess.run([go, "tool", "test2json", "-t", "-p", job], input="\n".join(lines) + "\n",
                               capture_output=True, text=True)
            g = subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "..", "tap", "gotap.py")],
                               input=r.stdout + r.stderr, capture_output=True, text=True)
            lines = g.stdout.splitlines()
        planned, points, failed = None, 0, 0
        for line in lines:
            m = POINT.match(line)
            if m:
                ok = m.group(1) == "ok"
                desc = m.group(3)
                directive = ""
                i = desc.find(" # ")
                if i >= 0:
                    desc, directive = desc[:i], desc[i:]
                points += 1
                failed += not ok
                point(ok, "%s: %s" % (job, desc), directive)
                continue
            m = PLAN.match(line)
            if m:
                planned = int(m.group(1))
                continue
            print("# " + line if not line.startswith("#") else line)
        if job in took:
            print("# %s: %s s in the guest" % (job, took[job]))
        if job not in status:
            for line in tail:
                print("# console: " + line)
            tail = []
            point(False, "%s: did not finish (the guest stopped: panic, timeout?)" % job)
        elif status[job] != 0 and failed == 0:
            point(False, "%s: exited %d" % (job, status[job]))
        elif form == "tap" and planned != points:
            point(False, "%s: planned %s tests, ran %d" % (job, planned, points))
    if n == 0:
        point(False, "%s: no job ran" % vm)
    print("1..%d" % n)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
