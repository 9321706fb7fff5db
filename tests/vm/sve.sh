#!/bin/sh
# SVE state across cplock lock and unlock (a job of the arm64 VM, whose
# qemu CPU has SVE: tests/vm/vm.sh).  tests/vm/sve/sveprobe's one thread
# holds a pattern in z0-z31 (whole vector length), p0-p15 and ffr, and
# checks it without a system call ("run": the thread is running when it is
# stopped, and is the worker) or after each nanosleep ("sleep").  cplock's
# calls in it discard its SVE state (the SVE system call ABI) unless cplock
# puts it back: at the release, and when cplock dies mid-call, through the
# sve_context of its rt_sigreturn frame.  Prints TAP.
B=${B:-build/vm/arm64/b}
P=$B/sve/sveprobe C=$B/go/cmd/cplock
o=/tmp/sve.out
n=0 bad=0
point() { # STATUS DESC: ok when STATUS is 0
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; bad=$((bad + 1)); fi
}

# start MODE VL: the probe, checking for 60 s at most; pid.
start() {
	rm -f $o
	$P "$1" 60 "$2" > $o 2>&1 &
	pid=$!
	i=0
	while ! grep -q '^ready' $o 2>/dev/null && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
}

# finish: SIGUSR1 ends the probe's checks; r is its exit status (0 intact,
# 1 harmed, 3 no SVE), counted in harmed or other, with the probe's output
# for the first harm and every other failure.
finish() {
	sleep 0.3
	kill -USR1 $pid 2>/dev/null
	wait $pid
	r=$?
	case $r in
	0) ;;
	1) harmed=$((harmed + 1)); [ $harmed = 1 ] && sed 's/^/#   /' $o ;;
	*) other=$((other + 1)); sed 's/^/#   /' $o ;;
	esac
}

# set MODE VL N: N probes, each locked and unlocked by cplock once.
set_() {
	harmed=0 other=0 k=0
	while [ $k -lt "$3" ]; do
		k=$((k + 1))
		start "$1" "$2"
		sleep 0.2
		$C lock proc $pid > /tmp/sve.c 2>&1 && $C unlock $pid >> /tmp/sve.c 2>&1 || {
			other=$((other + 1)); sed 's/^/#   cplock: /' /tmp/sve.c; }
		finish
	done
	[ $harmed = 0 ] && [ $other = 0 ]
	point $? "$1, VL $2 bytes: SVE state intact after cplock lock proc and unlock ($harmed of $3 harmed, $other failed otherwise)"
}

# tracer: the probe's TracerPid, read by the shell itself (a process of
# its own to read it takes longer, under emulation, than cplock traces).
tracer() {
	while read -r key val; do
		[ "$key" = TracerPid: ] && { echo "$val"; return; }
	done < /proc/$pid/status
	echo 0
}

# kills VL N: N probes (run), each given a cplock lock proc that is killed
# with SIGKILL as soon as the probe is seen traced, or 10 to 40 ms later:
# then the probe's worker leaves cplock's code by the frame.  At least one
# kill must find the probe still traced (most do).
kills() {
	harmed=0 other=0 traced=0 k=0
	while [ $k -lt "$2" ]; do
		k=$((k + 1))
		start run "$1"
		$C lock proc $pid > /dev/null 2>&1 &
		c=$!
		i=0
		while [ "$(tracer)" = 0 ] && [ $i -lt 2000 ]; do i=$((i + 1)); done
		[ $((k % 5)) = 0 ] || sleep "0.0$((k % 5))"
		[ "$(tracer)" != 0 ] && traced=$((traced + 1))
		kill -KILL $c 2>/dev/null
		wait $c 2>/dev/null
		$C unlock $pid > /dev/null 2>&1
		finish
	done
	[ $harmed = 0 ] && [ $other = 0 ] && [ $traced -gt 0 ]
	point $? "run, VL $1 bytes: SVE state intact after cplock lock proc killed at $2 instants ($traced while it traced; $harmed harmed, $other failed otherwise)"
}

grep -m 1 '^Features' /proc/cpuinfo | sed 's/^/# /'
# The probe alone first: the check itself must pass.
for m in run sleep; do
	start $m 32
	finish
	sed 's/^/#   /' $o
	point $r "$m, VL 32 bytes, without cplock: the probe's own check passes"
done
set_ run 32 10
set_ run 16 5
set_ run 64 3
set_ sleep 32 5
kills 32 20
echo "1..$n"
[ $bad = 0 ]
