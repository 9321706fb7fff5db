//go:build linux && cgo

package plock

import "embed"

// shimSources are the C sources that shim_cgo.c and internal/shimtest
// #include. cgo compiles them, but the go command hashes only the files of
// the package's own directory into its build cache key, not what they
// #include: embedding them makes them inputs of the package, so an edit to
// shim/*.c rebuilds it. Nothing reads the variable, and the linker drops it
// from binaries.
//
//go:embed shim/*.c shim/*.h include/plock.h include/sys/lock.h
var shimSources embed.FS
