#!/bin/sh
# go-failures.sh LOG... prints what a reader of a failed `go test -v` run
# needs first: the failing tests, then the output of each (its t.Log and
# testify lines), then panics and build errors, without the PASS lines
# around them. CI shows only part of a long output, so the cause has to
# come before the noise.
grep -h -E '^ *--- FAIL|^FAIL' "$@"
awk '
	# go test -v names the test whose output follows with "=== RUN" or
	# "=== CONT"; a test'"'"'s output is printed when it fails.
	/^=== (RUN|CONT|NAME) / { cur = $3; next }
	/^=== PAUSE / { next }
	/^ *--- FAIL: / {
		name = $3
		printf "--- output of %s:\n%s", name, out[name]
		next
	}
	/^ *--- (PASS|SKIP): / { delete out[$3]; next }
	/^panic:|^fatal error:|build failed|^# / { panicking = 1 }
	panicking { print; next }
	cur != "" { out[cur] = out[cur] $0 "\n" }
' "$@" | head -300
