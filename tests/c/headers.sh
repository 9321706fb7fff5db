#!/bin/sh
# Compiles headers.c as C89, C99, C11, C++98 and C++17 with
# -Wall -Wextra -pedantic -Werror, and links each with the library (for C++
# that proves the extern "C" guards); prints "c-headers: N passed, M failed".
# Usage: headers.sh OUTDIR LIBPLOCK.A
out=${1:?usage: headers.sh OUTDIR LIBPLOCK.A}
lib=${2:?usage: headers.sh OUTDIR LIBPLOCK.A}
dir=$(dirname "$0")
mkdir -p "$out"
pass=0 fail=0
for cc in "gcc -std=c89" "gcc -std=c99" "gcc -std=c11" "g++ -std=c++98" "g++ -std=c++17"; do
	lang=c
	case $cc in g++*) lang=c++ ;; esac
	if $cc -Wall -Wextra -pedantic -Werror -Iinclude -x $lang "$dir/headers.c" \
		-x none "$lib" -pthread -o "$out/headers"; then
		pass=$((pass + 1))
	else
		echo "FAIL headers: $cc" >&2
		fail=$((fail + 1))
	fi
done
echo "c-headers: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
