package main

// The changes TestPatientNotices makes in the arm64 patient
// (testdata/patient_aarch64.h): general registers, NZCV, FPCR, FPSR and a
// vector register, the pattern in the round's frame, a call's result.

import (
	"encoding/binary"
	"syscall"
)

const (
	ntPRFPReg = 2          // NT_PRFPREG: struct user_fpsimd_state
	svcInsn   = 0xd4000001 // svc #0
	pstateC   = 1 << 29    // the carry flag of NZCV
	// Where the round's pattern is (S_PAT in patient_aarch64.h), plus 64.
	patternAt = 592 + 64
)

// fpsimd is the thread's struct user_fpsimd_state: v0-v31 (16 bytes each),
// then FPSR at 512 and FPCR at 516.
func (s *stopped) fpsimd() ([]byte, error) {
	return s.regset(ntPRFPReg, make([]byte, 528))
}

func (s *stopped) setFPSIMD(b []byte) error {
	return s.setRegset(ntPRFPReg, b)
}

// registerHarms are the changes of registers the patient must notice. x0
// and x8 are left out (a call's result and number, which the kernel may
// set itself when the round is stopped in a call), and so are x29 and x30,
// which the round's compare loop holds in its frame while it uses them.
func registerHarms() []patientHarm {
	// fp changes byte off of the FP/SIMD registers.
	fp := func(name, want string, off int, bit byte) patientHarm {
		return patientHarm{name: name, want: want, change: func(ps patientSyms, _ [4]int, s *stopped) (bool, error) {
			if !inRound(ps, s) {
				return false, nil
			}
			b, err := s.fpsimd()
			if err != nil {
				return false, err
			}
			b[off] ^= bit
			return true, s.setFPSIMD(b)
		}}
	}
	x := func(n int) func(*syscall.PtraceRegs) *uint64 {
		return func(r *syscall.PtraceRegs) *uint64 { return &r.Regs[n] }
	}
	return []patientHarm{
		gprHarm("x2", "CORRUPT reg=x2 ", x(2)),
		gprHarm("x9", "CORRUPT reg=x9 ", x(9)),
		gprHarm("x18", "CORRUPT reg=x18 ", x(18)),
		gprHarm("x19", "CORRUPT reg=x19 ", x(19)),
		gprHarm("x28", "CORRUPT reg=x28 ", x(28)),
		{name: "NZCV", want: "CORRUPT reg=nzcv", change: func(ps patientSyms, _ [4]int, s *stopped) (bool, error) {
			if !inRound(ps, s) {
				return false, nil
			}
			s.regs.Pstate ^= pstateC
			return true, syscall.PtraceSetRegs(s.tid, &s.regs)
		}},
		fp("fpcr", "CORRUPT reg=fpcr ", 516+2, 0x40), // bit 22, of RMode
		fp("fpsr", "CORRUPT reg=fpsr ", 512, 0x01),   // IOC
		fp("v5", "CORRUPT reg=v5[0] ", 5*16, 0x01),
		fp("v21-upper", "CORRUPT reg=v21[1] ", 21*16+8, 0x80),
	}
}

// stackHarm changes a byte of the pattern in the round's own frame, above
// sp: arm64 has no red zone.
func stackHarm() patientHarm {
	return patientHarm{name: "stack", want: "CORRUPT what=stack at=sp+656 ",
		change: func(ps patientSyms, _ [4]int, s *stopped) (bool, error) {
			if !inRound(ps, s) {
				return false, nil
			}
			b := make([]byte, 8)
			if _, err := syscall.PtracePeekData(s.tid, uintptr(s.regs.Sp+patternAt), b); err != nil {
				return false, err
			}
			b[3] ^= 0x10
			_, err := syscall.PtracePokeData(s.tid, uintptr(s.regs.Sp+patternAt), b)
			return true, err
		}}
}

// inNanosleep accepts a thread stopped in the register round's nanosleep.
// The kernel's copy of the call's number (NT_ARM_SYSTEM_CALL) does not
// tell: do_signal() (arch/arm64/kernel/signal.c) forgets the call before
// the stop, puts the first argument back in x0 and the pc back on the svc,
// so that the call is made again when the thread goes on. So: in the
// round, on an svc, with x8 nanosleep's number, or restart_syscall's, which
// the kernel puts there when a sleep stopped before goes on.
func inNanosleep(ps patientSyms, s *stopped) bool {
	if !inRound(ps, s) || s.regs.Regs[8] != syscall.SYS_NANOSLEEP &&
		s.regs.Regs[8] != syscall.SYS_RESTART_SYSCALL {
		return false
	}
	b := make([]byte, 4)
	if _, err := syscall.PtracePeekText(s.tid, uintptr(s.regs.Pc), b); err != nil {
		return false
	}
	return binary.LittleEndian.Uint32(b) == svcInsn
}

// callReturns makes the call s is stopped in (inNanosleep) return res: x0,
// and the pc past the svc, so that the kernel does not make it again (it
// restarts a call only if the pc is still on its svc).
func callReturns(s *stopped, res uint64) error {
	s.regs.Regs[0] = res
	s.regs.Pc += 4
	return syscall.PtraceSetRegs(s.tid, &s.regs)
}
