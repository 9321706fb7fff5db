//go:build linux && cgo

package plock

/*
#include <stdlib.h>
#include <plock.h>
*/
import "C"

import "unsafe"

// Segments lists the mappings of the calling process in address order.
func Segments() ([]Segment, error) { return SegmentsOf(0) }

// SegmentsOf lists the mappings of process pid (0 for the caller). Reading
// another user's process needs the same permission as reading its
// /proc/PID/smaps.
func SegmentsOf(pid int) ([]Segment, error) {
	var n C.size_t
	p, err := C.plock_segments(C.int(pid), &n)
	if p == nil {
		return nil, procError("segments", pid, err)
	}
	defer C.free(unsafe.Pointer(p))
	cs := unsafe.Slice(p, int(n))
	segs := make([]Segment, len(cs))
	for i, c := range cs {
		segs[i] = Segment{
			Class:       Class(c.seg_class),
			Start:       uintptr(c.start),
			End:         uintptr(c.end),
			Prot:        Prot(c.prot),
			Offset:      uint64(c.offset),
			DevMajor:    uint32(c.dev_major),
			DevMinor:    uint32(c.dev_minor),
			Inode:       uint64(c.inode),
			Path:        C.GoString(c.path),
			Size:        uint64(c.size),
			Resident:    uint64(c.resident),
			Locked:      uint64(c.locked_bytes),
			IsLocked:    c.locked != 0,
			LockOnFault: c.lock_on_fault != 0,
		}
	}
	return segs, nil
}
