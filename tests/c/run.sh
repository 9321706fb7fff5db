#!/bin/sh
# Runs test commands and adds up the "NAME: N passed, M failed" lines they
# print (helpers print their own).  A command that exits non-zero with no
# failure reported, or that reports nothing, counts as one failure.
# Writes "SUITE: N passed, M failed" to RESULT; exits 1 if anything failed.
# Usage: run.sh SUITE RESULT 'command' ...
suite=${1:?usage: run.sh SUITE RESULT COMMAND...}
result=${2:?usage: run.sh SUITE RESULT COMMAND...}
shift 2
log=$(mktemp)
pass=0 fail=0
for cmd in "$@"; do
	t0=$(date +%s.%N)
	sh -c "$cmd" > "$log"
	rc=$?
	t1=$(date +%s.%N)
	cat "$log"
	counts=$(sed -n 's/^[A-Za-z0-9_-]*: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$log" |
		awk '{ p += $1; f += $2; n++ } END { print p + 0, f + 0, n + 0 }')
	p=$(echo "$counts" | cut -d' ' -f1)
	f=$(echo "$counts" | cut -d' ' -f2)
	n=$(echo "$counts" | cut -d' ' -f3)
	if [ "$n" -eq 0 ] || { [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; }; then
		echo "FAIL $suite: '$cmd' exited $rc" >&2
		f=$((f + 1))
	fi
	pass=$((pass + p)) fail=$((fail + f))
	awk -v a="$t0" -v b="$t1" -v c="$cmd" 'BEGIN { printf "  (%.1f s: %s)\n", b - a, c }' >&2
done
rm -f "$log"
echo "$suite: $pass passed, $fail failed" | tee "$result"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
