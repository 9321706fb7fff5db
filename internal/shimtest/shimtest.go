// Package shimtest exposes the shim's parser of /proc/PID/maps and smaps
// (pl_parser_init/feed/end) and its classifier (pl_classify) to Go tests,
// so that they can be fuzzed: cgo cannot be used in _test.go files.
//
// It is internal: nothing outside this module may import it.
package shimtest

/*
#cgo CFLAGS: -I${SRCDIR}/../../include -std=gnu11
#include <stdlib.h>
#include "../../shim/internal.h"

static const char *map_path(struct pl_table *t, size_t i)
{
	return pl_map_path(t, &t->map[i]);
}
*/
import "C"

import (
	"syscall"
	"unsafe"
)

// Flags of Parse.
const (
	Smaps = C.PL_SMAPS // the input is smaps: Rss and VmFlags too
	Paths = C.PL_PATHS // keep the names
)

// LineMax is the longest line the parser takes, newline excluded.
const LineMax = C.PL_LINE_MAX

// Kinds of name (Map.Kind).
const (
	KindAnon    = C.PL_ANON
	KindFile    = C.PL_FILE
	KindHeap    = C.PL_HEAP
	KindStack   = C.PL_STACK
	KindSpecial = C.PL_SPECIAL
)

// Classes (Map.Seg), as in <plock.h>.
const (
	SegOther     = C.PLOCK_SEG_OTHER
	SegText      = C.PLOCK_SEG_TEXT
	SegData      = C.PLOCK_SEG_DATA
	SegStack     = C.PLOCK_SEG_STACK
	SegShlibText = C.PLOCK_SEG_SHLIB_TEXT
	SegShlibData = C.PLOCK_SEG_SHLIB_DATA
	NumSeg       = C.PLOCK_SEG_NCLASS
)

// Bits of Map.Prot, as in <plock.h>.
const (
	ProtRead   = C.PLOCK_PROT_READ
	ProtWrite  = C.PLOCK_PROT_WRITE
	ProtExec   = C.PLOCK_PROT_EXEC
	ProtShared = C.PLOCK_PROT_SHARED
)

// Map is one entry of the parsed table (struct pl_map).
type Map struct {
	Start, End, Offset, Inode, Rss uint64
	Major, Minor                   uint32
	Prot, Kind, Lo, Seg, NoLock    uint8
	Path                           string
}

// Parse feeds data to a new parser with flags in chunks of the sizes in
// chunks, used in turn (nil or empty: all of it at once), ends it, and
// classifies the table with phdr as the program's AT_PHDR. It returns the
// table, or the errno value of the first step that failed.
func Parse(data []byte, chunks []int, flags int, phdr uint64) ([]Map, syscall.Errno) {
	// In C memory: the parser points to the table.
	t := (*C.struct_pl_table)(C.calloc(1, C.sizeof_struct_pl_table))
	p := (*C.struct_pl_parser)(C.calloc(1, C.sizeof_struct_pl_parser))
	if t == nil || p == nil {
		C.free(unsafe.Pointer(t))
		C.free(unsafe.Pointer(p))
		return nil, syscall.ENOMEM
	}
	defer C.free(unsafe.Pointer(t))
	defer C.free(unsafe.Pointer(p))
	defer C.pl_table_free(t)
	if err := C.pl_parser_init(p, t, C.int(flags)); err != 0 {
		return nil, syscall.Errno(err)
	}
	defer C.pl_parser_free(p)
	for i, k := 0, 0; i < len(data); k++ {
		n := len(data) - i
		if len(chunks) > 0 && chunks[k%len(chunks)] > 0 && chunks[k%len(chunks)] < n {
			n = chunks[k%len(chunks)]
		}
		err := C.pl_parser_feed(p, (*C.char)(unsafe.Pointer(&data[i])), C.size_t(n))
		if err != 0 {
			return nil, syscall.Errno(err)
		}
		i += n
	}
	if err := C.pl_parser_end(p); err != 0 {
		return nil, syscall.Errno(err)
	}
	if err := C.pl_classify(t, C.uintptr_t(phdr)); err != 0 {
		return nil, syscall.Errno(err)
	}
	maps := make([]Map, int(t.n))
	for i, m := range unsafe.Slice(t._map, int(t.n)) {
		maps[i] = Map{
			Start: uint64(m.start), End: uint64(m.end),
			Offset: uint64(m.offset), Inode: uint64(m.inode), Rss: uint64(m.rss),
			Major: uint32(m.major), Minor: uint32(m.minor),
			Prot: uint8(m.prot), Kind: uint8(m.kind), Lo: uint8(m.lo), Seg: uint8(m.seg),
			NoLock: uint8(m.nolock),
			Path:   C.GoString(C.map_path(t, C.size_t(i))),
		}
	}
	return maps, 0
}
