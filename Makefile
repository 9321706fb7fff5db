# plock for Linux.  "make" builds the libraries and cplock, "make test"
# runs every test (tests/tests.mk), "make install" installs under
# $(DESTDIR)$(PREFIX), "make demo" runs the README's first command.

VERSION    = 0.1.0
SOVERSION  = 0

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR     ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR    ?=

CC     ?= cc
CFLAGS ?= -O2 -g
GO     ?= go
PYTHON ?= python3
WARN   = -Wall -Wextra -Werror
# Every C program of the project starts from these flags.
BASE_CFLAGS = -std=c11 $(WARN) -Iinclude -pthread
LIB_CFLAGS  = $(BASE_CFLAGS) -fPIC $(CFLAGS)

B = build

# The library is every C file of shim/; shim_cgo.c includes the same list
# for the Go package (bindings_test.go checks that they agree).
SHIM_SRC = $(sort $(wildcard shim/*.c))
SHIM_HDR = $(wildcard shim/*.h)
HEADERS  = include/sys/lock.h include/plock.h
SHIM_OBJ = $(SHIM_SRC:shim/%.c=$(B)/shim/%.o)

# cgo compiles shim/*.c through #include, and the go build cache does not
# track included files.  The package embeds them (bindings.go), which
# makes them build inputs; internal/shimtest cannot embed files outside its
# directory, so its jobs get a hash of the C sources in CGO_CFLAGS instead.
SHIM_HASH := $(shell cat $(SHIM_SRC) $(SHIM_HDR) $(HEADERS) | sha1sum | cut -c1-16)
export CGO_ENABLED = 1
export SHIMTEST_CGO_CFLAGS = -g -O2 -DPLOCK_SHIM_HASH=$(SHIM_HASH)

SONAME = libplock.so.$(SOVERSION)
LIBA   = $(B)/libplock.a
LIBSO  = $(B)/libplock.so.$(VERSION)

all: $(LIBA) $(B)/libplock.so $(B)/plock.pc $(B)/plock-uninstalled.pc $(B)/examples/legacy

$(B)/shim/%.o: shim/%.c $(SHIM_HDR) $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) -c $< -o $@

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
	$(CC) $(LIB_CFLAGS) -o $@ $< -L$(B) -lplock -Wl,-rpath,'$$ORIGIN/..'

# cplock needs Go; without it make and make install do the C library alone.
HAVE_GO := $(shell command -v $(GO) >/dev/null 2>&1 && echo yes)
NO_GO    = no Go toolchain found (GO=$(GO)); install Go 1.26 or later (https://go.dev/dl/, \
	   or apt-get install golang-go) and put it on PATH, or pass GO=/path/to/go
ifeq ($(HAVE_GO),yes)
all: $(B)/cplock
install: install-cplock
uninstall: uninstall-cplock
else
all install: no-go
no-go:
	@echo 'make: cplock skipped: $(NO_GO)'
endif

# go decides whether the binary is out of date.
$(B)/cplock: FORCE
	@mkdir -p $(@D)
	$(GO) build -o $@ ./cplock

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

install-cplock: $(B)/cplock
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 755 $(B)/cplock $(DESTDIR)$(BINDIR)/cplock
	install -m 644 man/cplock.1 $(DESTDIR)$(MANDIR)/man1/cplock.1

uninstall:
	rm -f $(DESTDIR)$(INCLUDEDIR)/sys/lock.h $(DESTDIR)$(INCLUDEDIR)/plock.h \
		$(DESTDIR)$(LIBDIR)/libplock.a $(DESTDIR)$(LIBDIR)/libplock.so* \
		$(DESTDIR)$(PKGCONFIGDIR)/plock.pc $(DESTDIR)$(MANDIR)/man3/plock.3 \
		$(MAN3_LINKS:%=$(DESTDIR)$(MANDIR)/man3/%.3)

uninstall-cplock:
	rm -f $(DESTDIR)$(BINDIR)/cplock $(DESTDIR)$(MANDIR)/man1/cplock.1

# The README's first command (examples/demo.sh says what it shows).
demo: $(B)/cplock
	@CGO_ENABLED=0 $(GO) build -o $(B)/demo-go ./cplock/testdata/govmlck
	@sh examples/demo.sh $(B)

include tests/tests.mk

# The benchmark table (not a test; see BENCHMARKS.md).
$(B)/bench/bench: bench/bench.c $(SHIM_SRC) $(SHIM_HDR) $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -O2 -g -o $@ $< $(SHIM_SRC)

bench: $(B)/bench/bench FORCE
	$(GO) build -o $(B)/bench/gobench ./bench/gobench
	$(PYTHON) bench/run.py $(B)/bench $(or $(RUNS),5)

# make print-VAR: the value of a variable, for the tests that compare it
# with what they build (tests/python).
print-%:
	@echo $($*)

clean:
	rm -rf $(B)

FORCE:

.PHONY: all install uninstall install-cplock uninstall-cplock no-go demo bench clean FORCE
