#!/bin/sh
# In a test VM (tests/vm/init runs it in the repository's directory): every
# job of tests/vm/jobs for this VM, each between two marker lines that
# tests/vm/collect.py reads on the host:
#   @plock-vm@ begin JOB
#   ... the job's output (TAP, or a Go test binary's -test.v=test2json) ...
#   @plock-vm@ end JOB STATUS SECONDS
# The environment comes from /run/vm.env (tests/vm/vm.sh): VM, B, G, PATH, ...
. /run/vm.env
export B G GO PYTHON HOME PATH PLOCK_NO_SKIP GOCACHE GOPATH GOMODCACHE GOTOOLCHAIN GOPROXY GOFLAGS TERM VM_ONLY
echo; echo "@plock-vm@ kernel $(uname -r) $(uname -m) yama=$(cat /proc/sys/kernel/yama/ptrace_scope 2>/dev/null)"
grep -v '^#' tests/vm/jobs | while read -r vms job format cmd; do
	case ",$vms," in *",$VM,"*) ;; *) continue ;; esac
	# VM_ONLY (sh patterns, space-separated): only the jobs they match.
	# Without it, every job.  (set -f: the patterns are not file names.)
	m=${VM_ONLY:+no}
	set -f
	for pat in $VM_ONLY; do case $job in $pat) m= ;; esac; done
	set +f
	[ -z "$m" ] || continue
	echo "@plock-vm@ begin $job"
	t0=$(date +%s)
	# A job's own timeout: a hung one ends, the next ones still run.
	timeout -s KILL "${VM_JOB_TIMEOUT:-300}" sh -c "$cmd" < /dev/null 2>&1
	rc=$?
	echo "@plock-vm@ end $job $rc $(($(date +%s) - t0))"
done
