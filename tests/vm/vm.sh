#!/bin/sh
# vm.sh VM: boots Debian 12's stock 6.1 kernel in qemu, runs there the jobs
# of tests/vm/jobs for VM, and prints their TAP (tests/tap/run vm/VM; make
# test-vm).  VM is debian-6.1 (x86-64 under KVM; the guest's root is the
# host's, read-only over 9p under a tmpfs, so it runs the very binaries and
# tools of the host) or arm64 (aarch64 under TCG; the initramfs holds the
# cross-built tests, busybox and the arm64 C library).  The kernel packages
# are fetched with apt-get download and unpacked under build/vm: nothing is
# installed on the host.  The make rules of tests/vm/vm.mk build the tests.
# Environment: B (build), GO, VM_TIMEOUT (seconds for the whole VM),
# VM_ACCEL=tcg (x86-64 without KVM), VM_ONLY (sh patterns: only those jobs),
# VM_JOB_TIMEOUT (seconds for one job, 300).
set -u
vm=$1
B=${B:-build} GO=${GO:-go}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
v=$top/$B/vm
w=$v/$vm
log=$w/console.log

# skip REASON: one line, and a skip (a failure under PLOCK_NO_SKIP=1, CI).
skip() {
	if [ "${PLOCK_NO_SKIP:-}" = 1 ]; then
		echo "not ok 1 - vm/$vm: $1 (PLOCK_NO_SKIP=1: no skips)"; echo 1..1; exit 1
	fi
	echo "1..0 # SKIP vm/$vm: $1"; exit 0
}

case $vm in
debian-6.1)
	arch=amd64 qemu=qemu-system-x86_64 qpkg=qemu-system-x86 con=ttyS0
	[ "${VM_ACCEL:-kvm}" = tcg ] || [ -c /dev/kvm ] && [ -w /dev/kvm ] ||
		skip "needs /dev/kvm (load kvm_intel or kvm_amd, or enable nested virtualization on the VM running this; run as root or in group kvm; or VM_ACCEL=tcg to emulate the CPU instead, slower)"
	accel=${VM_ACCEL:-kvm} timeout=${VM_TIMEOUT:-600}
	[ $accel = tcg ] && timeout=${VM_TIMEOUT:-1500} ;;
arm64)
	arch=arm64 qemu=qemu-system-aarch64 qpkg=qemu-system-arm con=ttyAMA0
	# qemu's "max" CPU, with SVE (vector lengths 128, 256 and 512 bits, as
	# on Graviton 4, Graviton 3 and A64FX) and the cheap pointer
	# authentication (the architected one is slow to emulate).
	accel="-M virt -cpu max,sve=on,sve512=on,pauth-impdef=on -accel tcg,thread=multi" timeout=${VM_TIMEOUT:-900} ;;
*)	echo "not ok 1 - vm.sh: no VM named '$vm'"; echo 1..1; exit 1 ;;
esac
command -v $qemu >/dev/null || skip "needs $qemu: apt-get install $qpkg"
bb=/bin/busybox
[ $arch = arm64 ] && bb=$v/arm64/busybox/bin/busybox
[ -x "$bb" ] || skip "needs busybox: apt-get install busybox-static (and for arm64: make $B/vm/arm64/busybox)"

# The kernel: Debian 12's, whichever 6.1 build linux-image-$arch points at;
# vm.mk fetches it (make $B/vm/$arch/kernel).
kdir=$v/$arch/kernel
kimg=$(ls "$kdir"/boot/vmlinuz-* 2>/dev/null | head -n 1)
[ -n "$kimg" ] || skip "no kernel in $kdir: make $B/vm/$arch/kernel (apt-get download linux-image-$arch's kernel; needs the Debian archive${arch:+ and, for arm64, dpkg --add-architecture arm64 && apt-get update})"
kver=${kimg##*/vmlinuz-}

# The initramfs: busybox, init, /vm.env, and the modules (x86-64) or the
# tests (arm64).
rm -rf "$w/initramfs"
mkdir -p "$w/initramfs/bin" "$w/initramfs/proc" "$w/initramfs/sys" "$w/initramfs/dev" "$w/initramfs/run" "$w/initramfs/tmp"
cp "$bb" "$w/initramfs/bin/busybox"
cp "$here/init" "$w/initramfs/init"
chmod 755 "$w/initramfs/init"
gopath=$("$GO" env GOPATH) gocache=$("$GO" env GOCACHE) gomod=$("$GO" env GOMODCACHE)
if [ $arch = amd64 ]; then
	mods="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci netfs fscache 9pnet 9pnet_virtio 9p overlay"
	mkdir -p "$w/initramfs/modules"
	for m in $mods; do
		f=$(find "$kdir/lib/modules/$kver" -name "$m.ko" | head -n 1)
		[ -n "$f" ] && cp "$f" "$w/initramfs/modules/"
	done
	dir=$top vb=$B vg=$B/vm/go root=9p
	qextra="-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap"
else
	# The repository's directory as the tests need it: the cross-built
	# binaries under build/vm/arm64/b, and the files they read.
	mods= dir=/plock vb=$B/vm/arm64/b vg=$B/vm/arm64/b/go root=initramfs qextra=
	mkdir -p "$w/initramfs/plock/$B/vm/arm64" "$w/initramfs/plock/tests/vm"
	cp -a "$v/arm64/b" "$w/initramfs/plock/$B/vm/arm64/"
	cp "$top/tests/vm/guest.sh" "$top/tests/vm/jobs" "$top/tests/vm/yama.sh" "$top/tests/vm/sve.sh" \
		"$w/initramfs/plock/tests/vm/"
	cp -a "$top/testdata" "$w/initramfs/plock/"
	mkdir -p "$w/initramfs/plock/cplock" && cp -a "$top/cplock/testdata" "$w/initramfs/plock/cplock/"
	# The arm64 C library, where the binaries look for it.
	mkdir -p "$w/initramfs/lib/aarch64-linux-gnu"
	cp -a /usr/aarch64-linux-gnu/lib/*.so* "$w/initramfs/lib/aarch64-linux-gnu/"
	ln -s aarch64-linux-gnu/ld-linux-aarch64.so.1 "$w/initramfs/lib/ld-linux-aarch64.so.1"
	mkdir -p "$w/initramfs/usr/bin" "$w/initramfs/bin"
	for t in "$v"/arm64/tools/bin/*; do [ -e "$t" ] && cp -a "$t" "$w/initramfs/bin/"; done
	for t in "$v"/arm64/tools/lib/*; do [ -e "$t" ] && cp -a "$t" "$w/initramfs/lib/aarch64-linux-gnu/"; done
	# The users the tests name (uid 65534 is nobody, as on Debian).
	mkdir -p "$w/initramfs/etc" "$w/initramfs/root"
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
		> "$w/initramfs/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' > "$w/initramfs/etc/group"
fi
cat > "$w/initramfs/vm.env" <<ENV
VM=$vm
VM_ROOT=$root
VM_DIR='$dir'
VM_MODULES='$mods'
VM_JOB_TIMEOUT=${VM_JOB_TIMEOUT:-300}
VM_ONLY='${VM_ONLY:-}'
B='$vb'
G='$vg'
GO=go
PYTHON=python3
HOME=/root
PATH=$(dirname "$("$GO" env GOROOT)/bin/go")/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
PATH=\$PATH:/bin
PLOCK_NO_SKIP=${PLOCK_NO_SKIP:-}
GOPATH='$gopath'
GOCACHE='$gocache'
GOMODCACHE='$gomod'
GOTOOLCHAIN=local
GOPROXY=off
TERM=dumb
ENV
(cd "$w/initramfs" && find . | cpio -o -H newc --quiet | gzip -1) > "$w/initrd.gz" ||
	{ echo "not ok 1 - vm/$vm: cannot build the initramfs"; echo 1..1; exit 1; }

# boot OUT ACCEL...: starts the VM in the background, time-bound, its
# console in OUT; q is the PID of its timeout(1), which passes a SIGTERM on
# to qemu.  panic=-1 and -no-reboot make a panic end qemu at once.
boot() {
	out=$1; shift
	timeout -k 10 "$timeout" $qemu "$@" -smp 2 -m 2048 -nographic -no-reboot -nic none \
		-kernel "$kimg" -initrd "$w/initrd.gz" \
		-append "console=$con loglevel=1 panic=-1 rdinit=/init" $qextra \
		< /dev/null > "$out" 2>&1 &
	q=$!
}
tcg() {
	accel=tcg timeout=${VM_TIMEOUT:-1500}
	start=$(date +%s)
	boot "$log" -accel tcg,thread=multi -cpu max
}
start=$(date +%s) kvmlog=
if [ "$accel" = kvm ] && [ -d /sys/module/kvm_pvm ] && ! [ -d /sys/module/kvm_intel ] && ! [ -d /sys/module/kvm_amd ]; then
	# PVM (kvm_pvm, KVM without hardware virtualization) runs only
	# kernels built as PVM guests; Debian's is not one.
	echo "# vm/$vm: /dev/kvm is kvm_pvm, which runs PVM guest kernels only: TCG instead"
	tcg
elif [ "$accel" = kvm ]; then
	# Other nested KVMs may run the firmware but never the kernel: a
	# guest that has not started its tests within 30 s runs under TCG
	# instead, slower, the same tests.
	boot "$w/kvm.log" -accel kvm -cpu host,-arch-capabilities
	i=0
	while [ $i -lt 60 ] && kill -0 $q 2>/dev/null && ! grep -aq '@plock-vm@ kernel' "$w/kvm.log"; do
		sleep 0.5; i=$((i + 1))
	done
	if kill -0 $q 2>/dev/null && ! grep -aq '@plock-vm@ kernel' "$w/kvm.log"; then
		kill $q; wait $q
		echo "# vm/$vm: KVM ran the firmware but not Linux in 30 s (a nested KVM that cannot run this kernel?): TCG instead"
		tcg
	else
		kvmlog=$w/kvm.log
	fi
elif [ "$accel" = tcg ]; then
	tcg
else
	boot "$log" $accel
fi
wait $q
rc=$?
[ -n "$kvmlog" ] && mv "$kvmlog" "$log"
echo "# vm/$vm: Linux $kver ($arch, $accel), $(($(date +%s) - start)) s, qemu exited $rc$( [ $rc = 124 ] && echo ": timed out after $timeout s")"
exec python3 "$here/collect.py" "$vm" "$here/jobs" "$GO" < "$log"
