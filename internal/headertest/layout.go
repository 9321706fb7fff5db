// Package headertest checks the C headers against the Go package: see
// header_test.go. This file is what cgo gives Go of the structs of
// <plock.h>, which package plock reads; TestLayouts compares it, by
// reflection, with the header as modernc.org/cc/v4 lays it out.
package headertest

// #cgo CFLAGS: -I${SRCDIR}/../../include -std=gnu11
// #include <plock.h>
import "C"

import "reflect"

// cgoStructs are the structs of <plock.h> as cgo declares them in Go.
var cgoStructs = map[string]reflect.Type{
	"plock_segment": reflect.TypeFor[C.struct_plock_segment](),
	"plock_status":  reflect.TypeFor[C.struct_plock_status](),
	"plock_reason":  reflect.TypeFor[C.struct_plock_reason](),
}
