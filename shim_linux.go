package plock

// The C library, compiled into this package: shim_cgo.c #includes its
// sources (cgo compiles only the C files of the package's own directory).

// #cgo CFLAGS: -I${SRCDIR}/include -std=gnu11
// #cgo LDFLAGS: -lpthread
import "C"

import "embed"

// shimSources makes the C library's sources inputs of this package's build,
// as the files of its own directory are: Go's build cache hashes embedded
// files, not the files shim_cgo.c #includes, so without this an edited
// shim/*.c would leave a stale package (and test results) in the cache.
// Nothing reads it, so the linker leaves it out of programs. A new C file
// in shim/ is covered by the patterns; shim_cgo.c must #include it.
//
//go:embed shim/*.c shim/*.h include/plock.h include/sys/lock.h
var shimSources embed.FS
