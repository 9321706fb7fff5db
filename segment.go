package plock

// Class is what Plock does with a mapping.
type Class int

// The classes of mappings, as the C library classifies them
// (PLOCK_SEG_* of <plock.h>).
const (
	ClassOther     Class = 0 // never locked by Plock
	ClassText      Class = 1 // the program, not writable: TxtLock
	ClassData      Class = 2 // the program writable, heap, anonymous: DatLock
	ClassStack     Class = 3 // the main thread's stack: DatLock
	ClassShlibText Class = 4 // shared objects, not writable: ShlibLock
	ClassShlibData Class = 5 // shared objects, writable: ShlibLock
	NumClasses           = 6 // the number of classes
)

// String returns "text", "data", "stack", "shlib-text", "shlib-data" or
// "other", as the C library names them, and "?" for any other value.
func (c Class) String() string { return className(c) }

// Prot is the protection of a mapping.
type Prot int

// Bits of Prot (PLOCK_PROT_* of <plock.h>).
const (
	ProtRead   Prot = 1
	ProtWrite  Prot = 2
	ProtExec   Prot = 4
	ProtShared Prot = 8 // a MAP_SHARED mapping
)

// String returns the permissions as /proc/PID/maps shows them: "r-xp".
func (p Prot) String() string {
	b := []byte("---p")
	if p&ProtRead != 0 {
		b[0] = 'r'
	}
	if p&ProtWrite != 0 {
		b[1] = 'w'
	}
	if p&ProtExec != 0 {
		b[2] = 'x'
	}
	if p&ProtShared != 0 {
		b[3] = 's'
	}
	return string(b)
}

// Segment is one mapping of a process, classified as Plock classifies it.
type Segment struct {
	Class       Class
	Start, End  uintptr // End is one past the last byte
	Prot        Prot
	Offset      uint64 // in the file
	DevMajor    uint32
	DevMinor    uint32
	Inode       uint64 // 0 for anonymous memory
	Path        string // file, "[heap]", "[stack]", ..., or "" for anonymous memory
	Size        uint64 // End - Start
	Resident    uint64 // bytes resident (Rss)
	Locked      uint64 // bytes resident and locked
	IsLocked    bool   // the mapping is locked (VmFlags "lo")
	LockOnFault bool   // Plock locks it on fault rather than eagerly
}

// Segments lists the mappings of the calling process in address order.
func Segments() ([]Segment, error) { return SegmentsOf(0) }

// SegmentsOf lists the mappings of process pid (0 for the caller). Reading
// another user's process needs the same permission as reading its
// /proc/PID/smaps.
func SegmentsOf(pid int) ([]Segment, error) { return segments(pid) }
