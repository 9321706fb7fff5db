package plock

/*
#include <stdlib.h>
#include <plock.h>
*/
import "C"

import "unsafe"

// SegmentsOf lists the mappings of process pid (0 for the caller) in
// address order. Reading another user's process needs the same permission
// as reading its /proc/PID/smaps.
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

// String returns the C library's name of c: "text", "data", "stack",
// "shlib-text", "shlib-data" or "other", and "?" for a value that is no
// class.
func (c Class) String() string {
	return C.GoString(C.plock_segment_class_name(C.int(c)))
}
