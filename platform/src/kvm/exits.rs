//! What an exception in the application means to the Sentry, as Linux would report it.

use crate::{Access, CpuState, Exit, SignalInfo};

const SI_KERNEL: i32 = 0x80;
const ILL_ILLOPN: i32 = 2;
const FPE_INTDIV: i32 = 1;
const FPE_FLTDIV: i32 = 3;
const FPE_FLTOVF: i32 = 4;
const FPE_FLTUND: i32 = 5;
const FPE_FLTRES: i32 = 6;
const FPE_FLTINV: i32 = 7;
const TRAP_TRACE: i32 = 2;
const BUS_ADRALN: i32 = 1;
const SEGV_CPERR: i32 = 10;

/// Page-fault error code bits.
const PF_WRITE: u64 = 1 << 1;
const PF_USER: u64 = 1 << 2;
const PF_RSVD: u64 = 1 << 3;
const PF_INSTR: u64 = 1 << 4;

/// A fault the stub itself took on the application's behalf.
pub enum KernelFault {
    /// `iretq` refused the state the Sentry asked for.
    BadReturn,
}

impl KernelFault {
    pub fn exit(self) -> Exit {
        match self {
            KernelFault::BadReturn => signal(libc::SIGSEGV, SI_KERNEL, 0),
        }
    }
}

fn signal(signo: i32, code: i32, addr: u64) -> Exit {
    Exit::Signal(SignalInfo { signo, code, addr })
}

/// `si_code` of a floating-point exception whose unmasked, raised flags are `err`
/// (x87 status or MXCSR flag bits), as Linux's `fpu__exception_code`.
fn fpe_code(err: u32) -> i32 {
    if err & 0x001 != 0 {
        FPE_FLTINV
    } else if err & 0x004 != 0 {
        FPE_FLTDIV
    } else if err & 0x008 != 0 {
        FPE_FLTOVF
    } else if err & 0x012 != 0 {
        FPE_FLTUND
    } else if err & 0x020 != 0 {
        FPE_FLTRES
    } else {
        0
    }
}

/// The exit for exception `vector` (error code `err`, `cr2` for page faults) taken by the
/// application in `state` (already updated to the faulting instruction); `None` for an
/// event that means nothing to the Sentry (an NMI).
pub fn exception_exit(vector: u64, err: u64, cr2: u64, state: &CpuState) -> Option<Exit> {
    let rip = state.regs.rip;
    let x = state.xsave.as_bytes();
    let u16_at = |o: usize| {
        x.get(o..o + 2)
            .map_or(0, |b| u16::from_le_bytes([b[0], b[1]]))
    };
    Some(match vector {
        0 => signal(libc::SIGFPE, FPE_INTDIV, rip),
        1 => signal(libc::SIGTRAP, TRAP_TRACE, rip),
        2 => return None,
        3 => signal(libc::SIGTRAP, SI_KERNEL, 0),
        6 => signal(libc::SIGILL, ILL_ILLOPN, rip),
        11 | 12 => signal(libc::SIGBUS, SI_KERNEL, 0),
        14 if err & PF_RSVD == 0 && err & PF_USER != 0 => {
            let access = if err & PF_INSTR != 0 {
                Access::Execute
            } else if err & PF_WRITE != 0 {
                Access::Write
            } else {
                Access::Read
            };
            Exit::Fault { addr: cr2, access }
        }
        16 => {
            let (fcw, fsw) = (u16_at(0) as u32, u16_at(2) as u32);
            signal(libc::SIGFPE, fpe_code(fsw & !fcw & 0x3f), rip)
        }
        17 => signal(libc::SIGBUS, BUS_ADRALN, 0),
        18 => signal(libc::SIGBUS, SI_KERNEL, 0),
        19 => {
            let mxcsr = x
                .get(24..28)
                .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
            signal(libc::SIGFPE, fpe_code(mxcsr & !(mxcsr >> 7) & 0x3f), rip)
        }
        21 => signal(libc::SIGSEGV, SEGV_CPERR, 0),
        // #OF, #BR, #NM, #TS, #GP, a page fault with reserved bits, anything else.
        _ => signal(libc::SIGSEGV, SI_KERNEL, 0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_fault_kinds() {
        let s = CpuState::default();
        let f = |err| exception_exit(14, err, 0x1000, &s);
        assert_eq!(
            f(PF_USER),
            Some(Exit::Fault {
                addr: 0x1000,
                access: Access::Read
            })
        );
        assert_eq!(
            f(PF_USER | PF_WRITE | 1),
            Some(Exit::Fault {
                addr: 0x1000,
                access: Access::Write
            })
        );
        assert_eq!(
            f(PF_USER | PF_INSTR | 1),
            Some(Exit::Fault {
                addr: 0x1000,
                access: Access::Execute
            })
        );
        assert!(matches!(f(PF_USER | PF_RSVD), Some(Exit::Signal(_))));
        assert_eq!(fpe_code(0x4), FPE_FLTDIV);
    }
}
