#!/bin/sh
# make demo: the README's first command.  Runs sleep(1) under
# "cplock run --lock proc", shows its status from outside (text, data and
# stack locked from its first instruction), then runs a pure Go program
# (static, built by make demo as B/demo-go) locked, which prints its own
# VmLck.  Usage: demo.sh BUILD-DIRECTORY
B=${1:?usage: demo.sh BUILD-DIRECTORY}
cplock=$B/cplock pidfile=$B/demo.pid
rm -f "$pidfile"

echo "\$ cplock run --lock proc --pid-file $pidfile -- sleep 30 &"
"$cplock" run --lock proc --pid-file "$pidfile" -- sleep 30 &
cp=$!
# cplock writes the pid file once sleep is locked and running.
i=0
while [ ! -s "$pidfile" ] && kill -0 "$cp" 2>/dev/null && [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
if [ ! -s "$pidfile" ]; then
	kill "$cp" 2>/dev/null
	wait "$cp"
	echo "demo: cplock run did not start sleep" >&2
	exit 1
fi
pid=$(cat "$pidfile")
echo "\$ cplock status $pid"
"$cplock" status "$pid"
rc=$?
kill "$pid"
wait "$cp"
rm -f "$pidfile"
[ $rc = 0 ] || exit $rc

echo '$ cplock run --lock proc -- demo-go    # a pure Go program: static'
exec "$cplock" run --lock proc -- "$B/demo-go" < /dev/null
