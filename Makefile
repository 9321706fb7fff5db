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

# cgo compiles shim/*.c through #include (shim_cgo.c, internal/shimtest),
# and the go build cache does not track included files: the hash of the C
# sources in CGO_CFLAGS makes every go command below rebuild a changed shim.
SHIM_HASH := $(shell cat shim/*.c shim/*.h include/plock.h include/sys/lock.h | sha1sum | cut -c1-16)
export CGO_ENABLED = 1
export CGO_CFLAGS = -g -O2 -DPLOCK_SHIM_HASH=$(SHIM_HASH)

# The library: every C file of shim/.
SHIM_SRC = shim/sys.c shim/maps.c shim/classify.c shim/procfs.c shim/ops.c shim/future.c \
	   shim/engine.c shim/plock.c shim/segments.c shim/status.c shim/reason.c shim/remote.c
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
MAN3_LINKS = plock_state plock_flags plock_ctl plock_why_name plock_segments \
	     plock_segment_class_name plock_status
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

# ---------------------------------------------------------------- tests
# "make test" runs every suite in TEST_SUITES; each suite writes its counts
# as one line "SUITE: N passed, M failed" into $(B)/results/SUITE, and
# tests/summary.py prints the total last (and fails if anything failed).
# Each area below adds its own suites.

TEST_SUITES = test-install

test: need-go all
	@rm -rf $(B)/results && mkdir -p $(B)/results
	$(MAKE) --no-print-directory -k $(TEST_SUITES); \
	$(PYTHON) tests/summary.py $(B)/results

# tests/install/run.sh: make and make install without Go in a clean copy,
# pkg-config against the install and against the build tree (TAP).
test-install: all
	@sh tests/install/run.sh $(B)/install-test > $(B)/install.tap; rc=$$?; cat $(B)/install.tap; \
	echo "install: $$(grep -c '^ok' $(B)/install.tap) passed, $$(grep -c '^not ok' $(B)/install.tap) failed" \
		| tee $(B)/results/install; exit $$rc

need-go:
	@$(if $(HAVE_GO),true,echo 'make test needs Go: $(NO_GO)' >&2; exit 1)

clean:
	rm -rf $(B)

.PHONY: all install uninstall test test-install clean need-go no-go

# ---- cplock (owner: cplock helper)
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

# End-to-end tests of cplock against real processes (cplock/*_test.go).
TEST_SUITES += test-cmd

test-cmd:
	@mkdir -p $(B)/results $(B)/cmd
	@cd cplock && $(GO) test -count=1 -v -timeout 300s . > ../$(B)/cmd/go-test.log 2>&1; \
	rc=$$?; cd ..; \
	pass=$$(grep -c -e '--- PASS' $(B)/cmd/go-test.log); \
	fail=$$(grep -c -e '--- FAIL' $(B)/cmd/go-test.log); \
	if [ $$rc -ne 0 ] && [ $$fail -eq 0 ]; then fail=1; fi; \
	if [ $$rc -ne 0 ]; then sh tests/go-failures.sh $(B)/cmd/go-test.log; fi; \
	tail -1 $(B)/cmd/go-test.log; \
	echo "cmd: $$pass passed, $$fail failed" | tee $(B)/results/cmd; \
	test $$rc -eq 0

FORCE:

.PHONY: install-cplock uninstall-cplock demo test-cmd FORCE

# ---- c-tests (owner: c-tests helper)
# The C tests of the shim (tests/c), on the real kernel and /proc:
#   test-c           every C test, and the headers as C89..C11, C++98, C++17
#   test-c-asan      the same rebuilt with ASan+UBSan, the shim's sources
#                    compiled into each test (test_static: UBSan only, gcc
#                    cannot link ASan statically); any report fails the run
#   test-c-valgrind  the model test (quick form) under valgrind memcheck
TEST_SUITES += test-c test-c-asan test-c-valgrind

CT        = tests/c
CT_HELP   = $(CT)/util.c $(CT)/smaps_oracle.c
CT_DEPS   = $(CT_HELP) $(CT)/util.h $(CT)/smaps_oracle.h $(CT)/harness.h
CT_NAMES  = model einval unpriv fork growth userlock threads ldso segments static vfork rollback need \
	    remote
CT_CFLAGS = -std=c11 $(WARN) -Iinclude -O1 -g -pthread
CT_SAN    = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
CT_SANENV = ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:print_stacktrace=1 \
	    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
CT_RUN    = sh $(CT)/run.sh
CT_VG     = valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite

$(B)/c/test_static: $(CT)/test_static.c $(CT_DEPS) $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(CT_CFLAGS) -static -o $@ $< $(CT_HELP) $(LIBA)

$(B)/c/test_%: $(CT)/test_%.c $(CT_DEPS) $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(CT_CFLAGS) -o $@ $< $(CT_HELP) $(LIBA)

$(B)/c-asan/test_static: $(CT)/test_static.c $(CT_DEPS) $(SHIM_SRC) shim/internal.h $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(CT_CFLAGS) -fsanitize=undefined -fno-sanitize-recover=all -static \
		-o $@ $< $(CT_HELP) $(SHIM_SRC)

$(B)/c-asan/test_%: $(CT)/test_%.c $(CT_DEPS) $(SHIM_SRC) shim/internal.h $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(CT_CFLAGS) $(CT_SAN) -o $@ $< $(CT_HELP) $(SHIM_SRC)

test-c: $(CT_NAMES:%=$(B)/c/test_%) $(LIBA)
	@mkdir -p $(B)/results
	@$(CT_RUN) c $(B)/results/c 'sh $(CT)/headers.sh $(B)/c $(LIBA)' \
		$(CT_NAMES:%=$(B)/c/test_%)

# The model test: all 2954 sequences in test-c, 1210 under ASan ("quick"),
# the 210 of length 1 and 2 under valgrind ("short"), for time.
test-c-asan: $(CT_NAMES:%=$(B)/c-asan/test_%)
	@mkdir -p $(B)/results
	@$(CT_SANENV) $(CT_RUN) c-asan $(B)/results/c-asan '$(B)/c-asan/test_model quick' \
		$(patsubst %,$(B)/c-asan/test_%,$(filter-out model,$(CT_NAMES)))

# valgrind 3.19 has no mlock2 (the shim falls back to mlock) and warns of it
# once per process: its log goes to a file, shown here without those lines.
test-c-valgrind: $(B)/c/test_model
	@mkdir -p $(B)/results
	@rm -f $(B)/c/valgrind.log
	@$(CT_RUN) c-valgrind $(B)/results/c-valgrind \
		'$(CT_VG) --log-file=$(B)/c/valgrind.log $(B)/c/test_model short'; rc=$$?; \
	grep -v -e 'syscall: 325' -e 'own handler' -e README_MISSING -e 'consider this a bug' \
		-e bug_reports $(B)/c/valgrind.log; exit $$rc

.PHONY: test-c test-c-asan test-c-valgrind

# ---- go (owner: go helper)
# test-go: go vet ./..., the tests of the plock package and the header
# checks, then the plock package again under the race detector; counts
# every test, subtest and example.
# test-crosslang: the cases of testdata/crosslang/cases.txt through C, Python
# and Go, compared with the table and with each other.

GO_COUNT = grep -c -E '^ *--- $(1):'
# The packages of this suite; cplock/ and the shim's Go tests have suites
# of their own.
GO_PKGS = . ./internal/headertest

TEST_SUITES += test-go test-crosslang

test-go:
	@mkdir -p $(B)/results $(B)/go
	@t0=$$(date +%s); fail=0; \
	if $(GO) vet ./...; then vet=1; else vet=0; fail=1; fi; \
	$(GO) test -v -count=1 $(GO_PKGS) > $(B)/go/test.log 2>&1 || fail=1; \
	$(GO) test -v -race -count=1 . > $(B)/go/race.log 2>&1 || fail=1; \
	p=$$(cat $(B)/go/test.log $(B)/go/race.log | $(call GO_COUNT,PASS)); \
	f=$$(cat $(B)/go/test.log $(B)/go/race.log | $(call GO_COUNT,FAIL)); \
	p=$$((p + vet)); f=$$((f + 1 - vet)); \
	if [ $$fail = 1 ] && [ $$f = 0 ]; then f=1; fi; \
	grep -h -E '^(ok|FAIL)[[:space:]]' $(B)/go/test.log $(B)/go/race.log; \
	[ $$fail = 0 ] || { echo "test-go: failed; see $(B)/go/test.log and $(B)/go/race.log"; \
		sh tests/go-failures.sh $(B)/go/test.log $(B)/go/race.log; }; \
	echo "go: $$p passed, $$f failed ($$(( $$(date +%s) - t0 ))s)"; \
	echo "go: $$p passed, $$f failed" > $(B)/results/go; \
	[ $$fail = 0 ]

$(B)/crosslang/crosslang: tests/crosslang/crosslang.c $(HEADERS) $(B)/libplock.so
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< -L$(B) -lplock -Wl,-rpath,'$$ORIGIN/..'

test-crosslang: $(B)/crosslang/crosslang
	@mkdir -p $(B)/results
	@rm -f $(B)/crosslang/*.out
	-$(B)/crosslang/crosslang testdata/crosslang/cases.txt > $(B)/crosslang/c.out
	-$(PYTHON) tests/crosslang/crosslang.py $(B)/libplock.so testdata/crosslang/cases.txt > $(B)/crosslang/python.out
	-PLOCK_CROSSLANG_OUT=$(CURDIR)/$(B)/crosslang/go.out \
		$(GO) test -count=1 -run '^TestCrossLanguageCases$$' . > $(B)/crosslang/go.log 2>&1
	$(PYTHON) tests/crosslang/compare.py testdata/crosslang/cases.txt $(B)/results/crosslang \
		c=$(B)/crosslang/c.out python=$(B)/crosslang/python.out go=$(B)/crosslang/go.out

.PHONY: test-go test-crosslang

# ---- hardening (owner: hardening helper)
# Hunting what example tests miss, and the benchmarks:
#   test-fuzz     the /proc parser + classifier: the seed corpus and the
#                 unit tests of internal/shimtest under ASan (go test -asan),
#                 then a 20 s go test -fuzz run (without ASan: under it the
#                 20 s go to the baseline, ~100 executions instead of ~80,000)
#   test-stress   tests/stress: 8 threads x 20,000 random plock calls, with
#                 mmap/munmap/mprotect churn and forking children; the
#                 history must linearize against SPEC.md's state machine
#   test-tsan     the stress test (4,000 calls) and tests/c/test_threads
#                 under ThreadSanitizer, shim sources compiled in
#   test-bigmaps  60,000 mappings lock and unlock correctly, and at
#                 vm.max_map_count itself (times printed)
#   bench         the benchmark table (not a test; see BENCHMARKS.md)
TEST_SUITES += test-fuzz test-stress test-tsan test-bigmaps

HB_CFLAGS = -std=c11 $(WARN) -Iinclude -O2 -g -pthread
HB_TSAN   = -std=c11 $(WARN) -Iinclude -O1 -g -pthread -fsanitize=thread
HB_ORACLE = tests/c/smaps_oracle.c
HB_DEPS   = $(HB_ORACLE) tests/c/smaps_oracle.h $(SHIM_SRC) shim/internal.h $(HEADERS)
# One line per suite from `go test -json`: top-level tests and fuzz targets.
HB_COUNT  = grep -c '"Action":"$(1)","Package":"[^"]*","Test":"[^"/]*",'

$(B)/stress/stress: tests/stress/stress.c $(HB_DEPS)
	@mkdir -p $(@D)
	$(CC) $(HB_CFLAGS) -o $@ $< $(HB_ORACLE) $(SHIM_SRC)

$(B)/tsan/stress: tests/stress/stress.c $(HB_DEPS)
	@mkdir -p $(@D)
	$(CC) $(HB_TSAN) -o $@ $< $(HB_ORACLE) $(SHIM_SRC)

$(B)/tsan/test_threads: tests/c/test_threads.c tests/c/util.c $(HB_DEPS)
	@mkdir -p $(@D)
	$(CC) $(HB_TSAN) -o $@ $< tests/c/util.c $(HB_ORACLE) $(SHIM_SRC)

$(B)/bigmaps/bigmaps: tests/bigmaps/bigmaps.c $(HB_DEPS)
	@mkdir -p $(@D)
	$(CC) $(HB_CFLAGS) -o $@ $< $(HB_ORACLE) $(SHIM_SRC)

test-fuzz:
	@mkdir -p $(B)/results $(B)/fuzz
	@$(GO) test -asan -count=1 -json ./internal/shimtest > $(B)/fuzz/seeds.json 2>&1; rc=$$?; \
	$(GO) test -count=1 -run '^$$' -fuzz '^FuzzParse$$' -fuzztime 20s ./internal/shimtest \
		> $(B)/fuzz/fuzz.log 2>&1; frc=$$?; tail -3 $(B)/fuzz/fuzz.log; \
	pass=$$($(call HB_COUNT,pass) $(B)/fuzz/seeds.json); fail=$$($(call HB_COUNT,fail) $(B)/fuzz/seeds.json); \
	if [ $$rc -ne 0 ] && [ $$fail -eq 0 ]; then fail=1; fi; \
	if [ $$rc -ne 0 ]; then grep -v '"Action":"\(run\|pass\|start\)"' $(B)/fuzz/seeds.json | tail -40; fi; \
	if [ $$frc -eq 0 ]; then pass=$$((pass + 1)); else fail=$$((fail + 1)); cat $(B)/fuzz/fuzz.log; fi; \
	echo "fuzz: $$pass passed, $$fail failed" | tee $(B)/results/fuzz; \
	test $$fail -eq 0

# Each program prints its own "NAME: N passed, M failed" last.
HB_RESULT = tail -1 $(2) | sed -n 's/^[a-z]*: \([0-9]* passed, [0-9]* failed\)$$/$(1): \1/p' > $(B)/results/$(1); \
	if [ ! -s $(B)/results/$(1) ]; then echo "$(1): 0 passed, 1 failed" > $(B)/results/$(1); fi; \
	cat $(B)/results/$(1)

test-stress: $(B)/stress/stress
	@mkdir -p $(B)/results
	@timeout 300 $(B)/stress/stress 20000 > $(B)/stress/stress.log 2>&1; rc=$$?; \
	grep -v ' ok$$' $(B)/stress/stress.log; $(call HB_RESULT,stress,$(B)/stress/stress.log); \
	test $$rc -eq 0

# TSan intercepts libc's mlock family, not the syscall(2)s the shim makes,
# so the locks are real here too.
test-tsan: $(B)/tsan/stress $(B)/tsan/test_threads
	@mkdir -p $(B)/results
	@pass=0; fail=0; \
	if TSAN_OPTIONS=halt_on_error=1:exitcode=66 timeout 300 $(B)/tsan/stress 4000 \
		> $(B)/tsan/stress.log 2>&1; then pass=$$((pass + 1)); \
	else fail=$$((fail + 1)); cat $(B)/tsan/stress.log; fi; \
	if TSAN_OPTIONS=halt_on_error=1:exitcode=66 timeout 300 $(B)/tsan/test_threads \
		> $(B)/tsan/threads.log 2>&1; then pass=$$((pass + 1)); \
	else fail=$$((fail + 1)); cat $(B)/tsan/threads.log; fi; \
	grep -h 'passed' $(B)/tsan/stress.log $(B)/tsan/threads.log | tail -2; \
	echo "tsan: $$pass passed, $$fail failed" | tee $(B)/results/tsan; \
	test $$fail -eq 0

test-bigmaps: $(B)/bigmaps/bigmaps
	@mkdir -p $(B)/results
	@timeout 300 $(B)/bigmaps/bigmaps > $(B)/bigmaps/bigmaps.log 2>&1; rc=$$?; \
	grep -v ' ok$$' $(B)/bigmaps/bigmaps.log; $(call HB_RESULT,bigmaps,$(B)/bigmaps/bigmaps.log); \
	test $$rc -eq 0

$(B)/bench/bench: bench/bench.c $(SHIM_SRC) shim/internal.h $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(HB_CFLAGS) -o $@ $< $(SHIM_SRC)

bench: $(B)/bench/bench FORCE
	$(GO) build -o $(B)/bench/gobench ./bench/gobench
	$(PYTHON) bench/run.py $(B)/bench $(or $(RUNS),5)

.PHONY: test-fuzz test-stress test-tsan test-bigmaps bench
