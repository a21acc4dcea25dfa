//! The x86-64 signal frame the kernel writes on a stub thread's alternate stack, read and
//! rewritten by the Sentry. Every pointer in it comes from memory the application can write,
//! so each is checked against the thread's own slot before use.

use super::layout::*;
use super::process::StubProcess;
use crate::{Access, CpuState, Exit, PlatformError, Regs, Result, SignalInfo};

/// `struct ucontext` up to and including `uc_sigmask`.
const UC_SIZE: usize = 304;
const UC_STACK: usize = 16;
const UC_MCONTEXT: usize = 40;
const UC_SIGMASK: usize = 296;
/// Offsets in `struct sigcontext` (x86-64) of the general registers, in our `Regs` order.
const MC_R8: usize = 0;
const MC_RDI: usize = 64;
const MC_RSI: usize = 72;
const MC_RBP: usize = 80;
const MC_RBX: usize = 88;
const MC_RDX: usize = 96;
const MC_RAX: usize = 104;
const MC_RCX: usize = 112;
const MC_RSP: usize = 120;
const MC_RIP: usize = 128;
const MC_EFLAGS: usize = 136;
const MC_ERR: usize = 152;
const MC_FPSTATE: usize = 184;
const SIGINFO_SIZE: usize = 128;
/// Legacy FXSAVE region; its bytes 464..512 are the kernel's software-reserved words.
const FXSAVE_SIZE: usize = 512;
const SW_RESERVED: usize = 464;
const FP_XSTATE_MAGIC1: u32 = 0x4650_5853;
const SYS_SECCOMP: i32 = 1;
const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;

/// Where the current frame of a stopped thread lives (stub-file offsets).
#[derive(Clone, Copy, Debug)]
pub struct Frame {
    uc: u64,
    fpstate: u64,
    fp_len: usize,
}

fn rd(b: &[u8], o: usize) -> u64 {
    u64::from_ne_bytes(b[o..o + 8].try_into().unwrap_or_default())
}

fn wr(b: &mut [u8], o: usize, v: u64) {
    b[o..o + 8].copy_from_slice(&v.to_ne_bytes());
}

/// Stub-file offset of `len` bytes at stub address `addr`, if they lie inside the alternate
/// stack of `slot`.
fn in_altstack(slot: u64, addr: u64, len: usize) -> Result<u64> {
    let lo = stub_addr(slot_offset(slot) + SLOT_ALTSTACK);
    let hi = stub_addr(slot_offset(slot) + SLOT_SIZE);
    match addr.checked_add(len as u64) {
        Some(end) if addr >= lo && end <= hi => Ok(addr - STUB_BASE),
        _ => Err(PlatformError::Protocol(format!(
            "signal frame pointer {addr:#x} outside its slot"
        ))),
    }
}

const GREG_ORDER: [usize; 16] = [
    MC_RAX,
    MC_RBX,
    MC_RCX,
    MC_RDX,
    MC_RSI,
    MC_RDI,
    MC_RBP,
    MC_RSP,
    MC_R8,
    MC_R8 + 8,
    MC_R8 + 16,
    MC_R8 + 24,
    MC_R8 + 32,
    MC_R8 + 40,
    MC_R8 + 48,
    MC_R8 + 56,
];

fn regs_array(r: &mut Regs) -> [&mut u64; 16] {
    [
        &mut r.rax, &mut r.rbx, &mut r.rcx, &mut r.rdx, &mut r.rsi, &mut r.rdi, &mut r.rbp,
        &mut r.rsp, &mut r.r8, &mut r.r9, &mut r.r10, &mut r.r11, &mut r.r12, &mut r.r13,
        &mut r.r14, &mut r.r15,
    ]
}

/// Reads the state a stopped thread's notification points at; returns why it stopped and
/// where its frame is.
pub fn read(
    proc: &StubProcess,
    slot: u64,
    notif: &libc::seccomp_notif,
    state: &mut CpuState,
) -> Result<(Exit, Frame)> {
    let uc_off = in_altstack(slot, notif.data.args[2], UC_SIZE)?;
    let si_off = in_altstack(slot, notif.data.args[1], SIGINFO_SIZE)?;
    let mut uc = [0u8; UC_SIZE];
    proc.read(uc_off, &mut uc)?;
    let mut si = [0u8; SIGINFO_SIZE];
    proc.read(si_off, &mut si)?;
    let mc = &uc[UC_MCONTEXT..];
    let fp_addr = rd(mc, MC_FPSTATE);
    let fp_off = in_altstack(slot, fp_addr, FXSAVE_SIZE)?;
    let mut sw = [0u8; 24];
    proc.read(fp_off + SW_RESERVED as u64, &mut sw)?;
    let magic = u32::from_ne_bytes(sw[0..4].try_into().unwrap_or_default());
    let xsize = u32::from_ne_bytes(sw[16..20].try_into().unwrap_or_default()) as usize;
    let want = state.xsave.as_bytes().len();
    let fp_len = if magic == FP_XSTATE_MAGIC1 {
        xsize.min(want)
    } else {
        FXSAVE_SIZE.min(want)
    };
    in_altstack(slot, fp_addr, fp_len)?;
    proc.read(fp_off, &mut state.xsave.as_bytes_mut()[..fp_len])?;

    let regs = &mut state.regs;
    for (dst, off) in regs_array(regs).into_iter().zip(GREG_ORDER) {
        *dst = rd(mc, off);
    }
    regs.rip = rd(mc, MC_RIP);
    regs.rflags = rd(mc, MC_EFLAGS);
    let base = slot_offset(slot);
    let mut fsgs = [0u8; 16];
    proc.read(base + SLOT_FS_BASE, &mut fsgs)?;
    regs.fs_base = rd(&fsgs, 0);
    regs.gs_base = rd(&fsgs, 8);

    let signo = i32::from_ne_bytes(si[0..4].try_into().unwrap_or_default());
    let code = i32::from_ne_bytes(si[8..12].try_into().unwrap_or_default());
    let addr = rd(&si, 16);
    let exit = match signo {
        libc::SIGSYS if code == SYS_SECCOMP => {
            let arch = u32::from_ne_bytes(si[28..32].try_into().unwrap_or_default());
            if arch == AUDIT_ARCH_X86_64 {
                Exit::Syscall
            } else {
                Exit::Signal(SignalInfo { signo, code, addr })
            }
        }
        libc::SIGSEGV if matches!(code, 1 | 2 | 4) => {
            let err = rd(mc, MC_ERR);
            let access = if err & 0x10 != 0 {
                Access::Execute
            } else if err & 0x2 != 0 {
                Access::Write
            } else {
                Access::Read
            };
            Exit::Fault { addr, access }
        }
        INTERRUPT_SIGNAL => Exit::Interrupted,
        _ => Exit::Signal(SignalInfo { signo, code, addr }),
    };
    Ok((
        exit,
        Frame {
            uc: uc_off,
            fpstate: fp_off,
            fp_len,
        },
    ))
}

/// Writes `state` into the frame, so that the thread's rt_sigreturn resumes it. The stub's
/// own fields (signal mask, alternate stack) are reset to what the stub needs.
pub fn write(proc: &StubProcess, slot: u64, frame: &Frame, state: &CpuState) -> Result<()> {
    let r = &state.regs;
    if r.fs_base >= 1 << 47 || r.gs_base >= 1 << 47 {
        return Err(PlatformError::InvalidArgument(
            "non-canonical fs_base or gs_base".into(),
        ));
    }
    let mut uc = [0u8; UC_SIZE];
    proc.read(frame.uc, &mut uc)?;
    {
        let mut regs = *r;
        let mc = &mut uc[UC_MCONTEXT..];
        for (src, off) in regs_array(&mut regs).into_iter().zip(GREG_ORDER) {
            wr(mc, off, *src);
        }
        wr(mc, MC_RIP, r.rip);
        wr(mc, MC_EFLAGS, r.rflags);
    }
    wr(
        &mut uc,
        UC_STACK,
        stub_addr(slot_offset(slot) + SLOT_ALTSTACK),
    );
    wr(&mut uc, UC_STACK + 8, 0);
    wr(&mut uc, UC_STACK + 16, SLOT_ALTSTACK_SIZE);
    wr(&mut uc, UC_SIGMASK, 0);
    proc.write(frame.uc, &uc)?;
    let x = state.xsave.as_bytes();
    let n = frame.fp_len.min(x.len());
    proc.write(frame.fpstate, &x[..n.min(SW_RESERVED)])?;
    if n > FXSAVE_SIZE {
        proc.write(frame.fpstate + FXSAVE_SIZE as u64, &x[FXSAVE_SIZE..n])?;
    }
    let base = slot_offset(slot);
    let mut fsgs = [0u8; 16];
    wr(&mut fsgs, 0, r.fs_base);
    wr(&mut fsgs, 8, r.gs_base);
    proc.write(base + SLOT_FS_BASE, &fsgs)
}
