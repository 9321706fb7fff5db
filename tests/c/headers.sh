#!/bin/sh
# Compiles headers.c as C89, C99, C11, C++98 and C++17 with
# -Wall -Wextra -pedantic -Werror, and links each with the library (for C++
# that proves the extern "C" guards); one TAP test point each.
# Usage: headers.sh OUTDIR LIBPLOCK.A
out=${1:?usage: headers.sh OUTDIR LIBPLOCK.A}
lib=${2:?usage: headers.sh OUTDIR LIBPLOCK.A}
dir=$(dirname "$0")
mkdir -p "$out"
n=0 fail=0
for cc in "gcc -std=c89" "gcc -std=c99" "gcc -std=c11" "g++ -std=c++98" "g++ -std=c++17"; do
	lang=c
	case $cc in g++*) lang=c++ ;; esac
	n=$((n + 1))
	if $cc -Wall -Wextra -pedantic -Werror -Iinclude -x $lang "$dir/headers.c" \
		-x none "$lib" -pthread -o "$out/headers" 2>&1 | sed 's/^/# /'; [ -x "$out/headers" ]; then
		echo "ok $n - headers as $cc"
	else
		echo "not ok $n - headers as $cc"
		fail=$((fail + 1))
	fi
	rm -f "$out/headers"
done
echo "1..$n"
[ "$fail" -eq 0 ]
