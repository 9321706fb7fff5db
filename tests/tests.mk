# make test: every test program prints TAP, and prove runs and counts them
# all.  tests/tap/run JOB runs one job (C test programs speak TAP through
# tests/c/harness.h; go test -json goes through tests/tap/gotap.py, Python
# unittest through tests/tap/pytap.py).  tests/tap/PlockTAP.pm reprints
# every failing test point with its output right before prove's closing
# lines; each job's TAP is kept in build/tap/.  "make test-c",
# "make test-go", ...: one suite (the part of a job's name before "/").
#   c           every C test (tests/c), and the headers as C89..C11, C++98, C++17
#   c-asan      the same with ASan+UBSan, the shim's sources compiled in (test_static:
#               UBSan only, gcc cannot link ASan statically); the model test "quick"
#   c-valgrind  the model test ("short": sequences of length 1 and 2) under memcheck
#   install     make and make install without Go in a clean copy; pkg-config, both routes
#   go          the plock package, ./internal/headertest, the documents (./internal/doccheck,
#               ./internal/manpage), the package under -race
#   crosslang   testdata/crosslang/cases.txt through C, Python and Go
#   cmd         cplock end to end against real processes (cplock/*_test.go)
#   fuzz        internal/shimtest's seeds and unit tests under -asan, then 20 s of fuzzing
#   stress      8 threads x 20,000 random plock calls with mapping churn and forks,
#               linearized against the contract's state machine
#   tsan        the stress test (1,500 calls) and test_threads under ThreadSanitizer
#   bigmaps     60,000 mappings, and vm.max_map_count itself
#   py          tests/python (unittest): the package, and its sdist and wheel
#               installed into fresh venvs offline (not "python": prove would
#               take the python/ directory for a directory of tests)
CT_NAMES = model einval unpriv fork growth userlock threads ldso segments static vfork rollback need \
	   mappings noproc moving remote hostile seccomp
TESTS = $(CT_NAMES:%=c/%) c/headers $(CT_NAMES:%=c-asan/%) c-valgrind/model install \
	go/package go/headertest go/docs go/race crosslang cmd fuzz/seeds-asan fuzz/fuzz-20s \
	stress tsan/stress tsan/threads bigmaps py/package

# What each suite runs, built before prove starts (BUILT_suite).
BUILT_c          = $(CT_NAMES:%=$(B)/c/test_%) $(LIBA) $(B)/noptrace
BUILT_c-asan     = $(CT_NAMES:%=$(B)/c-asan/test_%) $(B)/noptrace
BUILT_c-valgrind = $(B)/c/test_model
BUILT_crosslang  = $(B)/crosslang/crosslang $(B)/libplock.so
BUILT_stress     = $(B)/stress/stress
BUILT_tsan       = $(B)/tsan/stress $(B)/tsan/test_threads
BUILT_bigmaps    = $(B)/bigmaps/bigmaps
SUITES = $(sort $(foreach t,$(TESTS),$(firstword $(subst /, ,$(t)))))

export B GO PYTHON
# Two streams, each one job at a time: the VMs, and every other job.  The
# VMs' emulated CPUs take the time the host's jobs leave idle (about half
# of it), which saves their minutes of make test.
PROVE = rm -rf $(B)/tap; PERL5LIB=tests/tap PLOCK_TAP_LOG=$(B)/tap \
	prove --merge --timer --formatter PlockTAP --exec 'sh tests/tap/run' \
	-j2 --rules='seq=vm/*' --rules='seq=**' $(PROVEFLAGS)

# go vet is a build step: a finding stops the run before any test.  The
# prerequisites are expanded twice, so that a file included later (the VM
# jobs) can add its suite.
.SECONDEXPANSION:
test: need-go all vet $$(foreach s,$$(SUITES),$$(BUILT_$$(s)))
	@$(PROVE) $(TESTS)

test-%: need-go all vet $$(BUILT_$$*)
	@$(PROVE) $(filter $*/% $*,$(TESTS))

vet: need-go
	$(GO) vet ./...

need-go:
	@$(if $(HAVE_GO),true,echo 'make test needs Go: $(NO_GO)' >&2; exit 1)

# The test programs: the C tests link libplock.a, or compile the shim's
# sources in with a sanitizer.
CT        = tests/c
CT_HELP   = $(CT)/util.c $(CT)/smaps_oracle.c
CT_DEPS   = $(CT_HELP) $(CT)/util.h $(CT)/smaps_oracle.h $(CT)/harness.h
SHIM_DEPS = $(SHIM_SRC) $(SHIM_HDR) $(HEADERS)
T_CFLAGS  = $(BASE_CFLAGS) -O1 -g
ASAN      = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
UBSAN     = -fsanitize=undefined -fno-sanitize-recover=all
TSAN      = -fsanitize=thread

# test_remote and test_hostile run it from ../noptrace, beside their own directory.
$(B)/noptrace: testdata/noptrace.c
	$(CC) $(T_CFLAGS) -o $@ $<

$(B)/c/test_static: $(CT)/test_static.c $(CT_DEPS) $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(T_CFLAGS) -static -o $@ $< $(CT_HELP) $(LIBA)

$(B)/c/test_%: $(CT)/test_%.c $(CT_DEPS) $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(T_CFLAGS) -o $@ $< $(CT_HELP) $(LIBA)

$(B)/c-asan/test_static: $(CT)/test_static.c $(CT_DEPS) $(SHIM_DEPS)
	@mkdir -p $(@D)
	$(CC) $(T_CFLAGS) $(UBSAN) -static -o $@ $< $(CT_HELP) $(SHIM_SRC)

$(B)/c-asan/test_%: $(CT)/test_%.c $(CT_DEPS) $(B)/c-asan/libplock.a
	@mkdir -p $(@D)
	$(CC) $(T_CFLAGS) $(ASAN) -o $@ $< $(CT_HELP) $(B)/c-asan/libplock.a

# The shim under ASan+UBSan, compiled once for every c-asan test.
ASAN_OBJ = $(SHIM_SRC:shim/%.c=$(B)/c-asan/shim/%.o)
$(B)/c-asan/shim/%.o: shim/%.c $(SHIM_HDR) $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(T_CFLAGS) $(ASAN) -c $< -o $@

$(B)/c-asan/libplock.a: $(ASAN_OBJ)
	rm -f $@
	$(AR) rcs $@ $(ASAN_OBJ)

$(B)/crosslang/crosslang: tests/crosslang/crosslang.c $(HEADERS) $(B)/libplock.so
	@mkdir -p $(@D)
	$(CC) $(T_CFLAGS) -o $@ $< -L$(B) -lplock -Wl,-rpath,'$$ORIGIN/..'

$(B)/stress/stress: tests/stress/stress.c $(CT)/smaps_oracle.c $(CT)/harness.h $(SHIM_DEPS)
	@mkdir -p $(@D)
	$(CC) $(T_CFLAGS) -O2 -o $@ $< $(CT)/smaps_oracle.c $(SHIM_SRC)

$(B)/tsan/stress: tests/stress/stress.c $(CT)/smaps_oracle.c $(CT)/harness.h $(SHIM_DEPS)
	@mkdir -p $(@D)
	$(CC) $(T_CFLAGS) $(TSAN) -o $@ $< $(CT)/smaps_oracle.c $(SHIM_SRC)

$(B)/tsan/test_threads: $(CT)/test_threads.c $(CT_DEPS) $(SHIM_DEPS)
	@mkdir -p $(@D)
	$(CC) $(T_CFLAGS) $(TSAN) -o $@ $< $(CT_HELP) $(SHIM_SRC)

$(B)/bigmaps/bigmaps: tests/bigmaps/bigmaps.c $(CT)/smaps_oracle.c $(CT)/harness.h $(SHIM_DEPS)
	@mkdir -p $(@D)
	$(CC) $(T_CFLAGS) -O2 -o $@ $< $(CT)/smaps_oracle.c $(SHIM_SRC)

.PHONY: test vet need-go

# The test VMs: Debian's 6.1 kernel on x86-64 and arm64 (suite vm).
include tests/vm/vm.mk
