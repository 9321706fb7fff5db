#!/bin/sh
# The C library as a C developer gets it, a TAP producer:
#  - a clean copy of the tracked tree, built and installed into a DESTDIR
#    with GO pointing at nothing: exit 0, one line saying cplock was
#    skipped, the library, headers, plock.pc and plock(3) installed;
#    examples/legacy.c built against that install with pkg-config and run;
#  - in that copy, a program linked with
#    PKG_CONFIG_PATH=build pkg-config --cflags --libs plock runs and loads
#    the build tree's library;
#  - this tree's make install (with Go): cplock and cplock(1) too; ldconfig
#    only on the real root.
# Usage: tests/install/run.sh WORKDIR   (from the top of a git checkout)
work=${1:?usage: run.sh WORKDIR}
MAKE=${MAKE:-make}
CC=${CC:-cc}
top=$(pwd)
rm -rf "$work" && mkdir -p "$work" || exit 1
work=$(cd "$work" && pwd)
src=$work/src stage=$work/stage
n=0 bad=0

# point OK NAME [DIAGNOSTIC-FILE]: one test point, diagnostics as "# " lines.
point() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		bad=$((bad + 1))
		echo "not ok $n - $2"
		[ -n "$3" ] && [ -s "$3" ] && tail -20 "$3" | sed 's/^/# /'
	fi
}
# missing FILE...: the files that are not there, one a line.
missing() {
	for f in "$@"; do [ -e "$f" ] || [ -L "$f" ] || echo "missing: $f"; done
}
skipline='cplock skipped: no Go toolchain found'

# The tracked files, as a clean clone has them (with this tree's edits).
mkdir -p "$src" && git ls-files -z | tar --null -T - --ignore-failed-read -cf - 2>"$work/copy.log" |
	tar -xf - -C "$src"
[ -f "$src/Makefile" ] && [ ! -d "$src/build" ] && [ -f "$src/shim/plock.c" ]
point $? "a clean copy of the tracked tree (git ls-files)" "$work/copy.log"

$MAKE -C "$src" GO=/nonexistent/go > "$work/make.log" 2>&1
point $? "make GO=/nonexistent/go exits 0" "$work/make.log"
[ "$(grep -c "$skipline" "$work/make.log")" = 1 ] && ! grep -q 'Error\|warning:' "$work/make.log"
point $? "make without Go prints the skip line once, and no error" "$work/make.log"

$MAKE -C "$src" GO=/nonexistent/go install DESTDIR="$stage" PREFIX=/opt/plock > "$work/install.log" 2>&1
point $? "make GO=/nonexistent/go install DESTDIR=... exits 0" "$work/install.log"
[ "$(grep -c "$skipline" "$work/install.log")" = 1 ] && ! grep -q ldconfig "$work/install.log"
point $? "make install without Go prints the skip line once, and no ldconfig in a DESTDIR" "$work/install.log"

p=$stage/opt/plock
missing $p/lib/libplock.a $p/lib/libplock.so $p/lib/libplock.so.0 $p/lib/libplock.so.0.1.0 \
	> "$work/missing.lib"
[ ! -s "$work/missing.lib" ] && [ "$(readlink "$p/lib/libplock.so.0")" = libplock.so.0.1.0 ]
point $? "installed: libplock.a, libplock.so, its soname link" "$work/missing.lib"
missing $p/include/sys/lock.h $p/include/plock.h $p/lib/pkgconfig/plock.pc > "$work/missing.hdr"
[ ! -s "$work/missing.hdr" ] && grep -q '^prefix=/opt/plock$' "$p/lib/pkgconfig/plock.pc"
point $? "installed: <sys/lock.h>, <plock.h>, plock.pc for PREFIX" "$work/missing.hdr"
m=$p/share/man/man3
missing $m/plock.3 $m/plock_state.3 $m/plock_flags.3 $m/plock_ctl.3 $m/plock_why_name.3 \
	$m/plock_segments.3 $m/plock_segment_class_name.3 $m/plock_status.3 > "$work/missing.man"
point $([ ! -s "$work/missing.man" ]; echo $?) "installed: plock(3) and a link for each function" \
	"$work/missing.man"
missing $p/bin/cplock $p/share/man/man1/cplock.1 > "$work/cplock.man"
point $([ "$(wc -l < "$work/cplock.man")" = 2 ]; echo $?) "without Go, no cplock installed" \
	"$work/cplock.man"

# The installed route: cc legacy.c $(pkg-config --cflags --libs plock).
PKG_CONFIG_SYSROOT_DIR=$stage PKG_CONFIG_LIBDIR=$p/lib/pkgconfig \
	sh -c "$CC -Wall -Wextra -Werror -o '$work/legacy' '$src/examples/legacy.c' \
		\$(pkg-config --cflags --libs plock)" > "$work/legacy.log" 2>&1 &&
	LD_LIBRARY_PATH=$p/lib "$work/legacy" >> "$work/legacy.log" 2>&1 &&
	grep -q 'text and data locked' "$work/legacy.log" && grep -q unlocked "$work/legacy.log"
point $? "examples/legacy.c built against the install with pkg-config, and run" "$work/legacy.log"

# The build-tree route: PKG_CONFIG_PATH=build prefers plock-uninstalled.pc.
(cd "$src" && PKG_CONFIG_PATH=build pkg-config --cflags --libs plock) > "$work/uninst.flags" 2>&1
grep -q -e "-I$src/include" "$work/uninst.flags" && grep -q -e "-L$src/build" "$work/uninst.flags"
point $? "PKG_CONFIG_PATH=build pkg-config gives the build tree's paths" "$work/uninst.flags"
(cd "$src" && $CC -Wall -Wextra -Werror -o "$work/legacy-tree" examples/legacy.c \
	$(PKG_CONFIG_PATH=build pkg-config --cflags --libs plock)) > "$work/tree.log" 2>&1 &&
	env -u LD_LIBRARY_PATH "$work/legacy-tree" >> "$work/tree.log" 2>&1 &&
	grep -q unlocked "$work/tree.log" &&
	env -u LD_LIBRARY_PATH LD_TRACE_LOADED_OBJECTS=1 "$work/legacy-tree" > "$work/tree.ldd" 2>&1 &&
	grep -q "libplock.so.0 => $src/build/libplock.so.0" "$work/tree.ldd"
point $? "a program linked through plock-uninstalled.pc runs on the build tree's library" \
	"$work/tree.log"

# This tree, with Go: make install adds cplock and cplock(1).
$MAKE --no-print-directory install DESTDIR="$work/stage-go" PREFIX=/opt/plock > "$work/install-go.log" 2>&1 &&
	missing "$work/stage-go/opt/plock/bin/cplock" "$work/stage-go/opt/plock/share/man/man1/cplock.1" \
		>> "$work/install-go.log" && ! grep -q -e "$skipline" -e missing: "$work/install-go.log" &&
	"$work/stage-go/opt/plock/bin/cplock" --help > /dev/null 2>&1
point $? "make install with Go installs cplock and cplock(1)" "$work/install-go.log"

# ldconfig: in the recipe for the real root, not with a DESTDIR (make -n
# prints what install would run).
$MAKE -n --no-print-directory install PREFIX="$work/root" > "$work/n-root.log" 2>&1
$MAKE -n --no-print-directory install PREFIX="$work/root" DESTDIR="$work/d" > "$work/n-dest.log" 2>&1
grep -q '^ldconfig' "$work/n-root.log" && ! grep -q ldconfig "$work/n-dest.log"
point $? "make install runs ldconfig without DESTDIR, not with one" "$work/n-dest.log"

echo "1..$n"
[ "$bad" = 0 ]
