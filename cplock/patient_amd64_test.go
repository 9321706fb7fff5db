package main

// The changes TestPatientNotices makes in the x86-64 patient
// (testdata/patient_x86_64.h): general registers, DF, the FXSAVE area and
// the XSAVE components the patient loads, its red zone, a call's result.

import (
	"fmt"
	"syscall"
	"unsafe"
)

const (
	ptraceGetFPRegs = 14
	ptraceSetFPRegs = 15
	ntX86XState     = 0x202
)

// fpregs is the thread's FXSAVE area (PTRACE_GETFPREGS).
func (s *stopped) fpregs() ([]byte, error) {
	b := make([]byte, 512)
	return b, ptrace(ptraceGetFPRegs, s.tid, 0, uintptr(unsafe.Pointer(&b[0])))
}

func (s *stopped) setFPRegs(b []byte) error {
	return ptrace(ptraceSetFPRegs, s.tid, 0, uintptr(unsafe.Pointer(&b[0])))
}

// xstate is the thread's XSAVE area (NT_X86_XSTATE).
func (s *stopped) xstate() ([]byte, error) {
	return s.regset(ntX86XState, make([]byte, 16384))
}

func (s *stopped) setXState(b []byte) error {
	return s.setRegset(ntX86XState, b)
}

// registerHarms are the changes of registers the patient must notice: a
// want of "5[...": the vector level decides what the patient calls xmm5.
func registerHarms() []patientHarm {
	// fp changes the FXSAVE area (x87 control word, MXCSR, xmm registers).
	fp := func(name, want string, off int, bit byte) patientHarm {
		return patientHarm{name: name, want: want, change: func(ps patientSyms, _ [4]int, s *stopped) (bool, error) {
			if !inRound(ps, s) {
				return false, nil
			}
			b, err := s.fpregs()
			if err != nil {
				return false, err
			}
			b[off] ^= bit
			return true, s.setFPRegs(b)
		}}
	}
	// xs changes byte off of XSAVE component comp (index into xsave=).
	xs := func(name, needs, want string, comp, bit int, off int) patientHarm {
		return patientHarm{name: name, needs: needs, want: want,
			change: func(ps patientSyms, xsave [4]int, s *stopped) (bool, error) {
				if !inRound(ps, s) {
					return false, nil
				}
				b, err := s.xstate()
				if err != nil {
					return false, err
				}
				if xsave[comp] == 0 || xsave[comp]+off >= len(b) {
					return false, fmt.Errorf("XSAVE component at %d, %d bytes of xstate", xsave[comp], len(b))
				}
				b[xsave[comp]+off] ^= 1
				b[512] |= byte(1 << bit) // XSTATE_BV: the component is in use
				return true, s.setXState(b)
			}}
	}
	return []patientHarm{
		gprHarm("rbx", "CORRUPT reg=rbx ", func(r *syscall.PtraceRegs) *uint64 { return &r.Rbx }),
		gprHarm("rbp", "CORRUPT reg=rbp ", func(r *syscall.PtraceRegs) *uint64 { return &r.Rbp }),
		gprHarm("rdi", "CORRUPT reg=rdi ", func(r *syscall.PtraceRegs) *uint64 { return &r.Rdi }),
		gprHarm("r9", "CORRUPT reg=r9 ", func(r *syscall.PtraceRegs) *uint64 { return &r.R9 }),
		gprHarm("r15", "CORRUPT reg=r15 ", func(r *syscall.PtraceRegs) *uint64 { return &r.R15 }),
		{name: "DF", want: "CORRUPT reg=rflags", change: func(ps patientSyms, _ [4]int, s *stopped) (bool, error) {
			if !inRound(ps, s) {
				return false, nil
			}
			s.regs.Eflags ^= 0x400
			return true, syscall.PtraceSetRegs(s.tid, &s.regs)
		}},
		fp("fcw", "CORRUPT reg=fcw ", 1, 0x04),
		fp("mxcsr", "CORRUPT reg=mxcsr ", 25, 0x20),
		fp("xmm5", "5[0] got=", 160+5*16, 0x01),
		xs("ymm5-upper", "avx", "5[2] got=", 0, 2, 5*16),
		xs("k3", "avx512", "CORRUPT reg=k3 ", 1, 5, 3*8),
		xs("zmm5-upper", "avx512", "CORRUPT reg=zmm5[4] ", 2, 6, 5*32),
		xs("zmm21", "avx512", "CORRUPT reg=zmm21[0] ", 3, 7, 5*64),
	}
}

// stackHarm changes a byte of the red zone, 64 bytes below rsp.
func stackHarm() patientHarm {
	return patientHarm{name: "redzone", want: "CORRUPT what=redzone at=rsp-64 ",
		change: func(ps patientSyms, _ [4]int, s *stopped) (bool, error) {
			if !inRound(ps, s) {
				return false, nil
			}
			b := make([]byte, 8)
			if _, err := syscall.PtracePeekData(s.tid, uintptr(s.regs.Rsp-64), b); err != nil {
				return false, err
			}
			b[3] ^= 0x10
			_, err := syscall.PtracePokeData(s.tid, uintptr(s.regs.Rsp-64), b)
			return true, err
		}}
}

// inNanosleep accepts a thread stopped in the register round's nanosleep:
// the kernel keeps the call's number in orig_rax until it restarts it, on
// the way back to user mode.
func inNanosleep(ps patientSyms, s *stopped) bool {
	return inRound(ps, s) && s.regs.Orig_rax == syscall.SYS_NANOSLEEP
}

// callReturns makes the call s is stopped in (inNanosleep) return res: a
// result in rax that is not one of the -ERESTART* values is not restarted.
func callReturns(s *stopped, res uint64) error {
	s.regs.Rax = res
	return syscall.PtraceSetRegs(s.tid, &s.regs)
}
