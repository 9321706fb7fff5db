#!/bin/sh
# Yama for real (a test VM's job, tests/vm/jobs: it needs root in a guest
# whose kernel has Yama, and leaves ptrace_scope at 3 until the next boot).
# For each kernel.yama.ptrace_scope from 0 to 3: cplock run as uid 65534
# (its program is cplock's child), cplock lock of another process of the
# same user as uid 65534 (no capabilities), and as root (CAP_SYS_PTRACE).
# A refusal must name its cause in the words of errors.go's ptraceHint,
# from shim/refusal.c's diagnosis.  Prints TAP.
B=${B:-build}
scope=/proc/sys/kernel/yama/ptrace_scope
n=0 bad=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); bad=$((bad + 1)); echo "not ok $n - $1"; }
if [ ! -w $scope ]; then
	echo "not ok 1 - no writable $scope: this kernel has no Yama, or this is not root"
	echo 1..1; exit 1
fi
d=$(mktemp -d /tmp/yama.XXXXXX)
chmod 755 "$d"
cp "$B/cplock" "$d/cplock" && chmod 755 "$d/cplock"
cp "$(command -v sleep)" "$d/sleep"
nobody="setpriv --reuid 65534 --regid 65534 --clear-groups --inh-caps=-all --bounding-set=-all --"

y1="Yama's kernel.yama.ptrace_scope is 1: a process may trace only its own descendants. Start the program locked instead (cplock run), run as root or with CAP_SYS_PTRACE (setcap cap_sys_ptrace+ep), or allow it for all (sysctl kernel.yama.ptrace_scope=0)"
y2="Yama's kernel.yama.ptrace_scope is 2: only CAP_SYS_PTRACE may trace: run as root (sudo) or grant CAP_SYS_PTRACE (setcap cap_sys_ptrace+ep)"
y3="Yama's kernel.yama.ptrace_scope is 3: no process may be traced until the next boot; have the program call plock(3) itself"

# expect NAME WANT CMD...: WANT is "ok" (exit 0) or the message a refusal
# (exit 1) must contain.
expect() {
	name=$1 want=$2; shift 2
	out=$("$@" 2>&1); rc=$?
	if [ "$want" = ok ]; then
		[ $rc = 0 ] && { ok "$name"; return; }
		echo "$out" | sed 's/^/# /'; echo "# exit status $rc, want 0"
	else
		case $out in *"$want"*) [ $rc = 1 ] && { ok "$name"; return; } ;; esac
		echo "$out" | sed 's/^/# /'; echo "# exit status $rc, want 1 and the message:"; echo "#   $want"
	fi
	notok "$name"
}

# target: a process of uid 65534 that is no child of the cplock that locks it.
target() {
	$nobody "$d/sleep" 600 &
	tpid=$!
	# setpriv execs sleep: wait until it has.
	i=0; while [ $i -lt 100 ] && [ "$(readlink /proc/$tpid/exe)" != "$d/sleep" ]; do sleep 0.05; i=$((i + 1)); done
}

for s in 0 1 2 3; do
	echo $s > $scope
	[ "$(cat $scope)" = $s ] && ok "ptrace_scope set to $s" || notok "ptrace_scope set to $s: it is $(cat $scope)"
	case $s in 0|1) want=ok ;; 2) want=$y2 ;; 3) want=$y3 ;; esac
	what=refused; [ "$want" = ok ] && what=works
	expect "scope $s: cplock run as uid 65534 ($what)" "$want" \
		$nobody "$d/cplock" run --lock proc -- "$d/sleep" 0
	case $s in 0) want=ok ;; 1) want=$y1 ;; 2) want=$y2 ;; 3) want=$y3 ;; esac
	target
	expect "scope $s: cplock lock of another uid-65534 process as uid 65534, no capabilities" "$want" \
		$nobody "$d/cplock" lock proc $tpid
	kill $tpid; wait $tpid 2>/dev/null
	case $s in 3) want=$y3 ;; *) want=ok ;; esac
	target
	expect "scope $s: cplock lock of a uid-65534 process as root (CAP_SYS_PTRACE)" "$want" \
		"$d/cplock" lock proc $tpid
	kill $tpid; wait $tpid 2>/dev/null
	case $s in 3) want=$y3 ;; *) want=ok ;; esac
	expect "scope $s: cplock run as root" "$want" "$d/cplock" run --lock proc -- "$d/sleep" 0
done
rm -rf "$d"
echo "1..$n"
[ $bad = 0 ]
