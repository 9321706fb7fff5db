# plock for Linux.  "make" builds the libraries, "make test" runs every
# test, "make install" installs under $(DESTDIR)$(PREFIX).

VERSION    = 0.1.0
SOVERSION  = 0

PREFIX     ?= /usr/local
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR     ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR    ?=

CC     ?= cc
CFLAGS ?= -O2 -g
GO     ?= go
PYTHON ?= python3
WARN    = -Wall -Wextra -Werror
ALL_CFLAGS = -std=c11 $(WARN) -Iinclude -fPIC $(CFLAGS)

B = build

# cgo compiles shim/*.c through #include, and the go build cache does not
# track included files.  The package embeds them (shim_sources.go), which
# makes them build inputs; internal/shimtest cannot embed files outside its
# directory, so its jobs get a hash of the C sources in CGO_CFLAGS instead.
SHIM_HASH := $(shell cat shim/*.c shim/*.h include/plock.h include/sys/lock.h | sha1sum | cut -c1-16)
export CGO_ENABLED = 1
export SHIMTEST_CGO_CFLAGS = -g -O2 -DPLOCK_SHIM_HASH=$(SHIM_HASH)

# The library: every C file of shim/.
SHIM_SRC = shim/sys.c shim/maps.c shim/classify.c shim/procfs.c shim/ops.c shim/future.c \
	   shim/engine.c shim/plock.c shim/segments.c shim/status.c shim/reason.c shim/remote.c \
	   shim/refusal.c shim/seccomp.c shim/handoff.c
SHIM_OBJ = $(SHIM_SRC:shim/%.c=$(B)/shim/%.o)
HEADERS  = include/sys/lock.h include/plock.h

SONAME = libplock.so.$(SOVERSION)
LIBA   = $(B)/libplock.a
LIBSO  = $(B)/libplock.so.$(VERSION)

all: $(LIBA) $(B)/libplock.so $(B)/plock.pc $(B)/plock-uninstalled.pc $(B)/examples/legacy

# Go builds cplock; without it make and make install do the C library alone.
HAVE_GO := $(shell command -v $(GO) >/dev/null 2>&1 && echo yes)
NO_GO    = no Go toolchain found (GO=$(GO)); install Go 1.26 or later (https://go.dev/dl/, \
	   or apt-get install golang-go) and put it on PATH, or pass GO=/path/to/go

$(B)/shim/%.o: shim/%.c shim/internal.h shim/remote_arch.h $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIBA): $(SHIM_OBJ)
	rm -f $@
	$(AR) rcs $@ $(SHIM_OBJ)

$(LIBSO): $(SHIM_OBJ) shim/libplock.map
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=shim/libplock.map \
		-Wl,-z,defs $(LDFLAGS) -o $@ $(SHIM_OBJ) -lpthread

$(B)/$(SONAME) $(B)/libplock.so: $(LIBSO)
	ln -sf libplock.so.$(VERSION) $(B)/$(SONAME)
	ln -sf libplock.so.$(VERSION) $(B)/libplock.so

# The paths in plock.pc are those of this make's PREFIX; install writes its
# own, for the PREFIX it is given.
PC_SED = sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	     -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|'

$(B)/plock.pc: plock.pc.in
	@mkdir -p $(@D)
	$(PC_SED) plock.pc.in > $@

# pkg-config's convention for a build tree: with PKG_CONFIG_PATH=build it
# prefers plock-uninstalled.pc, which points at include/ and build/ here;
# the rpath lets what it links run without LD_LIBRARY_PATH.
$(B)/plock-uninstalled.pc: plock.pc.in
	@mkdir -p $(@D)
	sed -e 's|@PREFIX@|$(CURDIR)|' -e 's|@LIBDIR@|$(CURDIR)/$(B)|' \
	    -e 's|@INCLUDEDIR@|$(CURDIR)/include|' -e 's|@VERSION@|$(VERSION)|' \
	    -e '/^Libs:/s|$$| -Wl,-rpath,$${libdir}|' plock.pc.in > $@

# The example, built as a legacy program is: its source plus -lplock.
$(B)/examples/legacy: examples/legacy.c $(B)/libplock.so
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< -L$(B) -lplock -Wl,-rpath,'$$ORIGIN/..'

# plock(3) documents every function; man FUNCTION finds it through these.
MAN3_LINKS = plock_state plock_op_classes plock_flags plock_ctl plock_why_name plock_segments \
	     plock_segment_class_name plock_status plock_traceme_refusal plock_syscall_name
LDCONFIG   = ldconfig

# ldconfig refreshes the linker cache on the real root only, not in a DESTDIR.
install: $(LIBA) $(B)/libplock.so
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR)/sys \
		$(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(MANDIR)/man3
	install -m 644 include/sys/lock.h $(DESTDIR)$(INCLUDEDIR)/sys/lock.h
	install -m 644 include/plock.h $(DESTDIR)$(INCLUDEDIR)/plock.h
	install -m 644 $(LIBA) $(DESTDIR)$(LIBDIR)/libplock.a
	install -m 755 $(LIBSO) $(DESTDIR)$(LIBDIR)/libplock.so.$(VERSION)
	ln -sf libplock.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf libplock.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libplock.so
	$(PC_SED) plock.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/plock.pc
	install -m 644 man/plock.3 $(DESTDIR)$(MANDIR)/man3/plock.3
	for m in $(MAN3_LINKS); do echo '.so man3/plock.3' > $(DESTDIR)$(MANDIR)/man3/$$m.3; done
	$(if $(DESTDIR),,$(LDCONFIG) || echo 'make install: $(LDCONFIG) failed; run it as root')

uninstall:
	rm -f $(DESTDIR)$(INCLUDEDIR)/sys/lock.h $(DESTDIR)$(INCLUDEDIR)/plock.h \
		$(DESTDIR)$(LIBDIR)/libplock.a $(DESTDIR)$(LIBDIR)/libplock.so* \
		$(DESTDIR)$(PKGCONFIGDIR)/plock.pc $(DESTDIR)$(MANDIR)/man3/plock.3 \
		$(MAN3_LINKS:%=$(DESTDIR)$(MANDIR)/man3/%.3)

# ---------------------------------------------------------------- cplock
# The command, cplock (Go: go build, or go install github.com/cplock/plock/cplock).
# It needs nothing else at run time.  Installed as $(BINDIR)/cplock, with cplock(1).
BINDIR     ?= $(PREFIX)/bin

ifeq ($(HAVE_GO),yes)
all: $(B)/cplock
install: install-cplock
else
all install: no-go
no-go:
	@echo 'make: cplock skipped: $(NO_GO)'
endif

# go decides whether the binary is out of date.
$(B)/cplock: FORCE
	@mkdir -p $(@D)
	$(GO) build -o $@ ./cplock

install-cplock: $(B)/cplock
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 755 $(B)/cplock $(DESTDIR)$(BINDIR)/cplock
	install -m 644 man/cplock.1 $(DESTDIR)$(MANDIR)/man1/cplock.1

uninstall: uninstall-cplock

uninstall-cplock:
	rm -f $(DESTDIR)$(BINDIR)/cplock $(DESTDIR)$(MANDIR)/man1/cplock.1

# The README's first command: lock sleep(1) with cplock run and show its
# status; then run a pure Go program (static) locked, which prints its VmLck.
demo: $(B)/cplock
	@rm -f $(B)/demo.pid
	@echo '$$ cplock run --lock proc --pid-file $(B)/demo.pid -- sleep 30 &'
	@$(B)/cplock run --lock proc --pid-file $(B)/demo.pid -- sleep 30 & cp=$$!; \
	i=0; while [ ! -s $(B)/demo.pid ] && kill -0 $$cp 2>/dev/null && [ $$i -lt 100 ]; do \
		sleep 0.05; i=$$((i + 1)); done; \
	if [ ! -s $(B)/demo.pid ]; then kill $$cp 2>/dev/null; wait $$cp; exit 1; fi; \
	pid=$$(cat $(B)/demo.pid); echo "\$$ cplock status $$pid"; \
	$(B)/cplock status $$pid; rc=$$?; kill $$pid; wait $$cp; rm -f $(B)/demo.pid; exit $$rc
	@CGO_ENABLED=0 $(GO) build -o $(B)/demo-go ./cplock/testdata/govmlck
	@echo '$$ cplock run --lock proc -- demo-go    # a pure Go program: static'
	@$(B)/cplock run --lock proc -- $(B)/demo-go < /dev/null

.PHONY: install-cplock uninstall-cplock demo

# ---------------------------------------------------------------- tests
# Every test program prints TAP, and prove runs and counts them all:
# tests/tap/run JOB runs one (C test programs speak TAP themselves, through
# tests/c/harness.h; go test -json goes through tests/tap/gotap.py, Python
# unittest through tests/tap/pytap.py).  tests/tap/PlockTAP.pm reprints
# every failing test point with its output right before prove's closing
# lines; each program's TAP is kept in build/tap/.  "make test-c",
# "make test-go", ...: one suite (the part of a job's name before "/").
#   c           every C test (tests/c), and the headers as C89..C11, C++98, C++17
#   c-asan      the same with ASan+UBSan, the shim's sources compiled in (test_static:
#               UBSan only, gcc cannot link ASan statically); the model test "quick"
#   c-valgrind  the model test ("short": sequences of length 1 and 2) under memcheck
#   install     make and make install without Go in a clean copy; pkg-config, both routes
#   go          the plock package, ./internal/headertest, the package under -race
#   crosslang   testdata/crosslang/cases.txt through C, Python and Go
#   cmd         cplock end to end against real processes (cplock/*_test.go)
#   fuzz        internal/shimtest's seeds and unit tests under -asan, then 20 s of fuzzing
#   stress      8 threads x 20,000 random plock calls with mapping churn and forks,
#               linearized against the contract's state machine
#   tsan        the stress test (1,500 calls) and test_threads under ThreadSanitizer
#   bigmaps     60,000 mappings, and vm.max_map_count itself
#   py          tests/python (unittest), when that directory exists (not "python":
#               prove would take the python/ directory for a directory of tests): the
#               package, and its sdist and wheel installed into fresh venvs offline
CT        = tests/c
CT_NAMES  = model einval unpriv fork growth userlock threads ldso segments static vfork rollback need \
	    mappings noproc moving \
	    remote hostile seccomp
TESTS = $(CT_NAMES:%=c/%) c/headers $(CT_NAMES:%=c-asan/%) c-valgrind/model install \
	go/package go/headertest go/race crosslang cmd fuzz/seeds-asan fuzz/fuzz-20s \
	stress tsan/stress tsan/threads bigmaps $(if $(wildcard tests/python),py/package)

# What each suite runs, built before prove starts.
BUILT_c          = $(CT_NAMES:%=$(B)/c/test_%) $(LIBA) $(B)/noptrace
BUILT_c-asan     = $(CT_NAMES:%=$(B)/c-asan/test_%) $(B)/noptrace
BUILT_c-valgrind = $(B)/c/test_model
BUILT_crosslang  = $(B)/crosslang/crosslang $(B)/libplock.so
BUILT_stress     = $(B)/stress/stress
BUILT_tsan       = $(B)/tsan/stress $(B)/tsan/test_threads
BUILT_bigmaps    = $(B)/bigmaps/bigmaps
include tests/vm/vm.mk

export B GO PYTHON
PROVE = rm -rf $(B)/tap; PERL5LIB=tests/tap PLOCK_TAP_LOG=$(B)/tap \
	prove --merge --timer --formatter PlockTAP --exec 'sh tests/tap/run' $(PROVEFLAGS)

# go vet is a build step: a finding stops the run before any test.
test: need-go all vet $(foreach s,c c-asan c-valgrind crosslang stress tsan bigmaps vm,$(BUILT_$(s)))
	@$(PROVE) $(TESTS)

.SECONDEXPANSION:
test-%: need-go all vet $$(BUILT_$$*)
	@$(PROVE) $(filter $*/% $*,$(TESTS))

vet: need-go
	$(GO) vet ./...

need-go:
	@$(if $(HAVE_GO),true,echo 'make test needs Go: $(NO_GO)' >&2; exit 1)

CT_HELP   = $(CT)/util.c $(CT)/smaps_oracle.c
CT_DEPS   = $(CT_HELP) $(CT)/util.h $(CT)/smaps_oracle.h $(CT)/harness.h
CT_CFLAGS = -std=c11 $(WARN) -Iinclude -O1 -g -pthread
CT_SAN    = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
SHIM_DEPS = $(SHIM_SRC) shim/internal.h shim/remote_arch.h $(HEADERS)

# test_remote and test_hostile run it from ../noptrace, beside their own directory.
$(B)/noptrace: testdata/noptrace.c
	$(CC) $(CT_CFLAGS) -o $@ $<

$(B)/c/test_static: $(CT)/test_static.c $(CT_DEPS) $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(CT_CFLAGS) -static -o $@ $< $(CT_HELP) $(LIBA)

$(B)/c/test_%: $(CT)/test_%.c $(CT_DEPS) $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(CT_CFLAGS) -o $@ $< $(CT_HELP) $(LIBA)

$(B)/c-asan/test_static: $(CT)/test_static.c $(CT_DEPS) $(SHIM_DEPS)
	@mkdir -p $(@D)
	$(CC) $(CT_CFLAGS) -fsanitize=undefined -fno-sanitize-recover=all -static \
		-o $@ $< $(CT_HELP) $(SHIM_SRC)

$(B)/c-asan/test_%: $(CT)/test_%.c $(CT_DEPS) $(SHIM_DEPS)
	@mkdir -p $(@D)
	$(CC) $(CT_CFLAGS) $(CT_SAN) -o $@ $< $(CT_HELP) $(SHIM_SRC)

$(B)/crosslang/crosslang: tests/crosslang/crosslang.c $(HEADERS) $(B)/libplock.so
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< -L$(B) -lplock -Wl,-rpath,'$$ORIGIN/..'

HB_CFLAGS = -std=c11 $(WARN) -Iinclude -O2 -g -pthread
HB_TSAN   = -std=c11 $(WARN) -Iinclude -O1 -g -pthread -fsanitize=thread
HB_ORACLE = tests/c/smaps_oracle.c
HB_DEPS   = $(HB_ORACLE) tests/c/smaps_oracle.h $(SHIM_DEPS)

$(B)/stress/stress: tests/stress/stress.c $(HB_DEPS)
	@mkdir -p $(@D)
	$(CC) $(HB_CFLAGS) -o $@ $< $(HB_ORACLE) $(SHIM_SRC)

$(B)/tsan/stress: tests/stress/stress.c $(HB_DEPS)
	@mkdir -p $(@D)
	$(CC) $(HB_TSAN) -o $@ $< $(HB_ORACLE) $(SHIM_SRC)

$(B)/tsan/test_threads: tests/c/test_threads.c tests/c/util.c $(CT_DEPS) $(HB_DEPS)
	@mkdir -p $(@D)
	$(CC) $(HB_TSAN) -o $@ $< tests/c/util.c $(HB_ORACLE) $(SHIM_SRC)

$(B)/bigmaps/bigmaps: tests/bigmaps/bigmaps.c $(HB_DEPS)
	@mkdir -p $(@D)
	$(CC) $(HB_CFLAGS) -o $@ $< $(HB_ORACLE) $(SHIM_SRC)

# The benchmark table (not a test; see BENCHMARKS.md).
$(B)/bench/bench: bench/bench.c $(SHIM_DEPS)
	@mkdir -p $(@D)
	$(CC) $(HB_CFLAGS) -o $@ $< $(SHIM_SRC)

bench: $(B)/bench/bench FORCE
	$(GO) build -o $(B)/bench/gobench ./bench/gobench
	$(PYTHON) bench/run.py $(B)/bench $(or $(RUNS),5)

clean:
	rm -rf $(B)

FORCE:

.PHONY: all install uninstall test vet need-go no-go clean bench FORCE
