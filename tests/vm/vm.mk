# The test VMs (tests/vm): Debian 12's stock 6.1 kernel on x86-64 under KVM
# and on arm64 under TCG, running the jobs of tests/vm/jobs.  Included by
# tests/tests.mk; "make test-vm" runs both, "make test" runs them last.
# Nothing is installed on the host: the kernels and arm64 busybox are
# fetched with apt-get download and unpacked under build/vm.  Needs
# qemu-system-x86, qemu-system-arm, busybox-static, cpio and
# gcc-aarch64-linux-gnu, and arm64 among dpkg's architectures (.ci/run
# sees to all of it).

VM      = $(B)/vm
VM_A64  = $(VM)/arm64/b
A64_CC  = aarch64-linux-gnu-gcc

# Part of make test (suite vm, last: prove runs them after the host's
# jobs).  Here the x86-64 guest boots under TCG too (this machine's
# /dev/kvm is a nested PVM that does not start a stock kernel), so the
# two VMs cost minutes of emulation: tests/vm/jobs runs in them what
# depends on the kernel and the CPU, and leaves to the host what does not.
VM_TESTS = vm/debian-6.1 vm/arm64
TESTS   += $(VM_TESTS)

# x86-64: the guest runs the host's own build (make test-c's binaries), and
# the Go test binaries built here.
# arm64 needs the cross compiler; without it vm.sh says which package.
BUILT_vm = $(CT_NAMES:%=$(B)/c/test_%) $(B)/noptrace $(B)/cplock \
	   $(VM)/go/plock.test $(VM)/go/cplock.test $(VM)/go/cmd/.done $(VM)/amd64/kernel/.done \
	   $(if $(shell command -v $(A64_CC)),$(VM_A64)/.done) $(VM)/arm64/kernel/.done \
	   $(VM)/arm64/busybox/.done $(VM)/arm64/tools/.done

# vm_cmd DIR CC GOENV: the programs cplock's tests build in their TestMain
# (cplock/main_test.go, patient_test.go), built here for a guest that has
# neither go nor cc: CPLOCK_TEST_PREBUILT=DIR.
define vm_cmd
	@mkdir -p $(1)
	$(3) $(GO) build -o $(1)/cplock ./cplock
	$(3) CGO_ENABLED=0 $(GO) build -o $(1)/gotarget ./cplock/testdata/govmlck
	$(2) -std=gnu11 -Iinclude -o $(1)/legacy examples/legacy.c $(SHIM_SRC) -lpthread
	$(2) -pthread -o $(1)/target cplock/testdata/target.c
	$(2) -pthread -static -o $(1)/target-static cplock/testdata/target.c
	$(2) -std=c11 -Wall -Wextra -Werror -o $(1)/blocker cplock/testdata/blocker.c
	$(2) -Wall -Werror -o $(1)/noptrace testdata/noptrace.c
	$(2) -std=c11 -Wall -Wextra -Werror -O2 -pthread -o $(1)/patient cplock/testdata/patient.c
endef

$(VM)/go/cmd/.done: FORCE
	$(call vm_cmd,$(@D),$(CC),)
	touch $@

$(VM_A64)/go/cmd/.done: FORCE
	$(call vm_cmd,$(@D),$(A64_CC),$(A64_GO))
	touch $@

$(VM)/go/plock.test: FORCE
	@mkdir -p $(@D)
	$(GO) test -c -o $@ .

$(VM)/go/cplock.test: FORCE
	@mkdir -p $(@D)
	cd cplock && $(GO) test -c -o ../$@ .

# deb ARCH PACKAGE DIR: apt-get download PACKAGE and unpack it into DIR.
VM_DEB = set -e; d=$(VM)/dl; mkdir -p $$d $(3); \
	f=$$(ls $$d/$(2)_*_$(1).deb 2>/dev/null | head -n 1); \
	if [ -z "$$f" ]; then (cd $$d && apt-get download -q $(2):$(1)) || \
		{ echo 'vm.mk: apt-get download $(2):$(1) failed (for arm64: dpkg --add-architecture arm64 && apt-get update)' >&2; exit 1; }; \
		f=$$(ls $$d/$(2)_*_$(1).deb | head -n 1); fi; \
	dpkg-deb -x $$f $(3)

# A package that cannot be fetched (offline, no arm64 in dpkg's
# architectures) is not an error here: vm.sh then skips the VM with one line
# saying what to do, and under PLOCK_NO_SKIP=1 (CI) fails it.
# The kernel linux-image-ARCH (Debian 12's metapackage) depends on.
vm_kpkg = $(shell apt-cache depends linux-image-$(1):$(1) 2>/dev/null | awk '$$1 == "Depends:" && $$2 ~ /^linux-image-6/ { sub(/:.*/, "", $$2); print $$2; exit }')

$(VM)/%/kernel/.done:
	-@$(if $(call vm_kpkg,$*),rm -rf $(@D); ($(call VM_DEB,$*,$(call vm_kpkg,$*),$(@D))) && touch $@,\
	  echo 'vm.mk: apt-cache knows no linux-image-$*:$* (for arm64: dpkg --add-architecture arm64 && apt-get update)' >&2)

$(VM)/arm64/busybox/.done:
	-@rm -rf $(@D); ($(call VM_DEB,arm64,busybox-static,$(@D))) && touch $@

# prlimit and setpriv (util-linux) for the unprivileged tests, strace for
# those that count a call's system calls, setcap for a file-capability
# target, and coreutils' sleep and true, dynamically linked as on users'
# machines (busybox's are static: no shared libraries to lock), with the
# libraries they need beyond libc.  vm.sh copies tools/ into the guest,
# where busybox's links do not replace them.  Made again when this file
# changes (the packages stay in dl/).
A64_TOOLS = usr/bin/prlimit usr/bin/setpriv usr/bin/strace sbin/setcap bin/sleep bin/true
$(VM)/arm64/tools/.done: tests/vm/vm.mk
	-@rm -rf $(@D) $(VM)/arm64/tools-root; \
	($(call VM_DEB,arm64,util-linux,$(VM)/arm64/tools-root)) && \
	($(call VM_DEB,arm64,libsmartcols1,$(VM)/arm64/tools-root)) && \
	($(call VM_DEB,arm64,libcap-ng0,$(VM)/arm64/tools-root)) && \
	($(call VM_DEB,arm64,strace,$(VM)/arm64/tools-root)) && \
	($(call VM_DEB,arm64,coreutils,$(VM)/arm64/tools-root)) && \
	($(call VM_DEB,arm64,libcap2-bin,$(VM)/arm64/tools-root)) && \
	($(call VM_DEB,arm64,libcap2,$(VM)/arm64/tools-root)) && \
	mkdir -p $(@D)/bin $(@D)/lib && \
	cp $(A64_TOOLS:%=$(VM)/arm64/tools-root/%) $(@D)/bin/ && \
	{ cp -a $(VM)/arm64/tools-root/usr/lib/aarch64-linux-gnu/*.so* \
		$(VM)/arm64/tools-root/lib/aarch64-linux-gnu/*.so* $(@D)/lib/ 2>/dev/null; true; } && \
	touch $@

# arm64: the C tests, noptrace, cplock's helpers and the Go test binaries,
# cross-built with the shim's sources, linked against the arm64 C library
# that vm.sh puts in the initramfs.
A64_LIBA = $(VM_A64)/libplock.a
$(VM_A64)/obj/%.o: shim/%.c $(SHIM_DEPS)
	@mkdir -p $(@D)
	$(A64_CC) $(LIB_CFLAGS) -c $< -o $@
$(A64_LIBA): $(SHIM_SRC:shim/%.c=$(VM_A64)/obj/%.o)
	rm -f $@
	aarch64-linux-gnu-ar rcs $@ $^
# A test that does not build for arm64 yet (x86-64 system calls) is
# reported by the guest as a failing job ("not found"); the others run.
$(VM_A64)/c/test_static: $(CT)/test_static.c $(CT_DEPS) $(A64_LIBA)
	@mkdir -p $(@D)
	-$(A64_CC) $(T_CFLAGS) -static -o $@ $< $(CT_HELP) $(A64_LIBA)
$(VM_A64)/c/test_%: $(CT)/test_%.c $(CT_DEPS) $(A64_LIBA)
	@mkdir -p $(@D)
	-$(A64_CC) $(T_CFLAGS) -o $@ $< $(CT_HELP) $(A64_LIBA)
$(VM_A64)/noptrace: testdata/noptrace.c
	@mkdir -p $(@D)
	$(A64_CC) $(T_CFLAGS) -o $@ $<
# tests/vm/sve.sh's probe: SVE instructions, static.
$(VM_A64)/sve/sveprobe: tests/vm/sve/sveprobe.c tests/vm/sve/spin.S
	@mkdir -p $(@D)
	$(A64_CC) -O2 -march=armv8-a+sve -static -o $@ $^

A64_GO = GOARCH=arm64 CGO_ENABLED=1 CC=$(A64_CC)
$(VM_A64)/go/plock.test: FORCE
	@mkdir -p $(@D)
	$(A64_GO) $(GO) test -c -o $@ .
$(VM_A64)/go/cplock.test: FORCE
	@mkdir -p $(@D)
	cd cplock && $(A64_GO) $(GO) test -c -o ../$@ .

$(VM_A64)/.done: $(CT_NAMES:%=$(VM_A64)/c/test_%) $(VM_A64)/noptrace $(VM_A64)/sve/sveprobe \
		 $(VM_A64)/go/plock.test $(VM_A64)/go/cplock.test $(VM_A64)/go/cmd/.done
	touch $@

