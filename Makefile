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

# The library: every C file of shim/ but the preload constructor.
SHIM_SRC = shim/sys.c shim/maps.c shim/classify.c shim/procfs.c shim/plock.c shim/segments.c
SHIM_OBJ = $(SHIM_SRC:shim/%.c=$(B)/shim/%.o)
HEADERS  = include/sys/lock.h include/plock.h

SONAME = libplock.so.$(SOVERSION)
LIBA   = $(B)/libplock.a
LIBSO  = $(B)/libplock.so.$(VERSION)

all: $(LIBA) $(B)/libplock.so $(B)/plock.pc $(B)/examples/legacy

$(B)/shim/%.o: shim/%.c shim/internal.h $(HEADERS)
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

# The example, built as a legacy program is: its source plus -lplock.
$(B)/examples/legacy: examples/legacy.c $(B)/libplock.so
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< -L$(B) -lplock -Wl,-rpath,'$$ORIGIN/..'

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
	for m in plock_state plock_flags plock_segments plock_status; do \
		echo '.so man3/plock.3' > $(DESTDIR)$(MANDIR)/man3/$$m.3; done

uninstall:
	rm -f $(DESTDIR)$(INCLUDEDIR)/sys/lock.h $(DESTDIR)$(INCLUDEDIR)/plock.h \
		$(DESTDIR)$(LIBDIR)/libplock.a $(DESTDIR)$(LIBDIR)/libplock.so* \
		$(DESTDIR)$(PKGCONFIGDIR)/plock.pc $(DESTDIR)$(MANDIR)/man3/plock.3 \
		$(DESTDIR)$(MANDIR)/man3/plock_state.3 $(DESTDIR)$(MANDIR)/man3/plock_flags.3 \
		$(DESTDIR)$(MANDIR)/man3/plock_segments.3 $(DESTDIR)$(MANDIR)/man3/plock_status.3

# ---------------------------------------------------------------- tests
# "make test" runs every suite in TEST_SUITES; each suite writes its counts
# as one line "SUITE: N passed, M failed" into $(B)/results/SUITE, and
# tests/summary.py prints the total last (and fails if anything failed).
# Each area below adds its own suites.

TEST_SUITES = test-install

test: all
	@rm -rf $(B)/results && mkdir -p $(B)/results
	$(MAKE) --no-print-directory -k $(TEST_SUITES); \
	$(PYTHON) tests/summary.py $(B)/results

# The example as installed and built by a user: make install into a
# temporary DESTDIR, then cc $(pkg-config --cflags --libs plock).
test-install: all
	@rm -rf $(B)/stage
	$(MAKE) --no-print-directory install DESTDIR=$(CURDIR)/$(B)/stage PREFIX=/opt/plock
	PKG_CONFIG_SYSROOT_DIR=$(CURDIR)/$(B)/stage \
	PKG_CONFIG_LIBDIR=$(CURDIR)/$(B)/stage/opt/plock/lib/pkgconfig \
	sh -c '$(CC) $(WARN) -o $(B)/stage/legacy examples/legacy.c $$(pkg-config --cflags --libs plock)'
	LD_LIBRARY_PATH=$(CURDIR)/$(B)/stage/opt/plock/lib $(B)/stage/legacy > $(B)/stage/legacy.out
	grep -q 'text and data locked' $(B)/stage/legacy.out && grep -q unlocked $(B)/stage/legacy.out
	test -f $(B)/stage/opt/plock/share/man/man3/plock.3 && test -L $(B)/stage/opt/plock/lib/$(SONAME)
	$(B)/examples/legacy | grep -q 'text and data locked'
	@echo "install: 1 passed, 0 failed" | tee $(B)/results/install

clean:
	rm -rf $(B)

.PHONY: all install uninstall test test-install clean
