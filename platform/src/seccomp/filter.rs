//! The stub's seccomp filters.
//!
//! Each program starts with a hand-written prefix that libseccomp cannot express (it does
//! not match on the instruction pointer): a syscall of another architecture (`int 0x80`),
//! or one whose instruction pointer is outside the stub's code page, is an application
//! syscall and returns `SECCOMP_RET_TRAP`. What follows is a libseccomp program for
//! syscalls the stub itself makes, with their arguments pinned; anything else kills the
//! stub process.
//!
//! Three programs stack up (the kernel runs all and takes the strictest verdict):
//! - base, installed by the spawner for the whole process: the union of what any stub
//!   thread needs;
//! - control, added by the control thread (the only one that maps memory): its listener;
//! - thread, added by every application thread: its listener, and nothing but wake,
//!   rt_sigreturn, exit and FUTEX_WAKE from stub code.

use std::io::{Read, Seek};
use std::os::fd::FromRawFd;

use libseccomp::{ScmpAction, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall};

use super::layout::*;
use crate::{PlatformError, Result};

/// One classic BPF instruction (`struct sock_filter`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Insn {
    /// Opcode.
    pub code: u16,
    /// Jump offset if true.
    pub jt: u8,
    /// Jump offset if false.
    pub jf: u8,
    /// Operand.
    pub k: u32,
}

impl Insn {
    /// The 8 bytes of `struct sock_filter`.
    pub fn to_bytes(self) -> [u8; 8] {
        let mut b = [0u8; 8];
        b[0..2].copy_from_slice(&self.code.to_ne_bytes());
        b[2] = self.jt;
        b[3] = self.jf;
        b[4..8].copy_from_slice(&self.k.to_ne_bytes());
        b
    }
}

const LD_ABS_W: u16 = 0x20;
const JEQ_K: u16 = 0x15;
const JGE_K: u16 = 0x35;
const JA: u16 = 0x05;
const RET_K: u16 = 0x06;
const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
/// `SECCOMP_RET_TRAP`.
pub const RET_TRAP: u32 = 0x0003_0000;
const DATA_ARCH: u32 = 4;
const DATA_IP_LO: u32 = 8;
const DATA_IP_HI: u32 = 12;

fn insn(code: u16, jt: u8, jf: u8, k: u32) -> Insn {
    Insn { code, jt, jf, k }
}

/// The prefix: non-x86-64 or instruction pointer outside the code page → trap.
fn prefix() -> Vec<Insn> {
    let lo = STUB_BASE as u32;
    let hi = (STUB_BASE >> 32) as u32;
    const TRAP: u8 = 8;
    vec![
        insn(LD_ABS_W, 0, 0, DATA_ARCH),
        insn(JEQ_K, 0, TRAP - 2, AUDIT_ARCH_X86_64),
        insn(LD_ABS_W, 0, 0, DATA_IP_HI),
        insn(JEQ_K, 0, TRAP - 4, hi),
        insn(LD_ABS_W, 0, 0, DATA_IP_LO),
        insn(JGE_K, 0, TRAP - 6, lo),
        insn(JGE_K, TRAP - 7, 0, lo + CODE_SIZE as u32),
        insn(JA, 0, 0, 1),
        insn(RET_K, 0, 0, RET_TRAP),
    ]
}

fn err(e: impl std::fmt::Display) -> PlatformError {
    PlatformError::Filter(e.to_string())
}

fn sys(name: &str) -> Result<ScmpSyscall> {
    ScmpSyscall::from_name(name).map_err(err)
}

fn arg(i: u32, op: ScmpCompareOp, v: u64) -> ScmpArgCompare {
    ScmpArgCompare::new(i, op, v)
}

/// Which program to build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The whole stub process.
    Base,
    /// The control thread.
    Control,
    /// An application thread.
    Thread,
}

fn rules(kind: Kind) -> Result<ScmpFilterContext> {
    use ScmpCompareOp::*;
    let mut f = ScmpFilterContext::new(ScmpAction::KillProcess).map_err(err)?;
    let wake = ScmpSyscall::from(WAKE_SYSCALL as i32);
    let map_rules = |f: &mut ScmpFilterContext| -> Result<()> {
        f.add_rule_conditional(
            ScmpAction::Allow,
            sys("mmap")?,
            &[
                arg(0, Less, APP_LIMIT),
                arg(1, LessOrEqual, MAP_CHUNK),
                arg(2, MaskedEqual(!7u64), 0),
                arg(3, Equal, (libc::MAP_SHARED | libc::MAP_FIXED) as u64),
                arg(4, Equal, STUB_MEMFD as u64),
            ],
        )
        .map_err(err)?;
        f.add_rule_conditional(
            ScmpAction::Allow,
            sys("munmap")?,
            &[arg(0, Less, APP_LIMIT), arg(1, LessOrEqual, MAP_CHUNK)],
        )
        .map_err(err)?;
        f.add_rule(ScmpAction::Allow, sys("close")?).map_err(err)?;
        Ok(())
    };
    match kind {
        Kind::Base => {
            map_rules(&mut f)?;
            for name in ["rt_sigreturn", "exit", "sigaltstack"] {
                f.add_rule(ScmpAction::Allow, sys(name)?).map_err(err)?;
            }
            f.add_rule(ScmpAction::Allow, wake).map_err(err)?;
            for op in [libc::FUTEX_WAIT, libc::FUTEX_WAKE] {
                f.add_rule_conditional(
                    ScmpAction::Allow,
                    sys("futex")?,
                    &[arg(1, Equal, op as u64)],
                )
                .map_err(err)?;
            }
            f.add_rule_conditional(
                ScmpAction::Allow,
                sys("clone")?,
                &[arg(0, Equal, THREAD_CLONE_FLAGS)],
            )
            .map_err(err)?;
            f.add_rule_conditional(
                ScmpAction::Allow,
                sys("rt_sigprocmask")?,
                &[arg(0, Equal, libc::SIG_SETMASK as u64)],
            )
            .map_err(err)?;
            f.add_rule_conditional(
                ScmpAction::Allow,
                sys("seccomp")?,
                &[arg(0, Equal, 1), arg(1, Equal, 8)],
            )
            .map_err(err)?;
        }
        Kind::Control => {
            map_rules(&mut f)?;
            f.add_rule(ScmpAction::Notify, wake).map_err(err)?;
            f.add_rule(ScmpAction::Allow, sys("exit")?).map_err(err)?;
            f.add_rule_conditional(
                ScmpAction::Allow,
                sys("futex")?,
                &[arg(1, Equal, libc::FUTEX_WAKE as u64)],
            )
            .map_err(err)?;
        }
        Kind::Thread => {
            f.add_rule(ScmpAction::Notify, wake).map_err(err)?;
            f.add_rule(ScmpAction::Allow, sys("rt_sigreturn")?)
                .map_err(err)?;
            f.add_rule(ScmpAction::Allow, sys("exit")?).map_err(err)?;
            f.add_rule_conditional(
                ScmpAction::Allow,
                sys("futex")?,
                &[arg(1, Equal, libc::FUTEX_WAKE as u64)],
            )
            .map_err(err)?;
        }
    }
    Ok(f)
}

/// Builds the complete program of `kind`.
pub fn build(kind: Kind) -> Result<Vec<Insn>> {
    let f = rules(kind)?;
    // libseccomp exports to a descriptor; use an anonymous file.
    // SAFETY: memfd_create with a static NUL-terminated name.
    let fd = unsafe { libc::memfd_create(c"rvisor-bpf".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(PlatformError::last_os("memfd_create for filter export"));
    }
    // SAFETY: a fresh descriptor we own.
    let mut file = unsafe { std::fs::File::from_raw_fd(fd) };
    f.export_bpf(&file).map_err(err)?;
    let mut raw = Vec::new();
    file.rewind()
        .and_then(|_| file.read_to_end(&mut raw))
        .map_err(|source| PlatformError::Host {
            what: "reading exported filter",
            source,
        })?;
    if raw.len() % 8 != 0 {
        return Err(PlatformError::Filter(
            "exported program is not whole instructions".into(),
        ));
    }
    let mut prog = prefix();
    prog.extend(raw.chunks_exact(8).map(|c| Insn {
        code: u16::from_ne_bytes([c[0], c[1]]),
        jt: c[2],
        jf: c[3],
        k: u32::from_ne_bytes([c[4], c[5], c[6], c[7]]),
    }));
    if prog.len() > PROG_MAX_INSNS {
        return Err(PlatformError::Filter(format!(
            "{kind:?} program has {} instructions",
            prog.len()
        )));
    }
    Ok(prog)
}

/// The bytes of a `sock_fprog` header plus instructions, for a page at stub address `at`.
pub fn fprog_page(prog: &[Insn], at: u64) -> Vec<u8> {
    let mut b = Vec::with_capacity(16 + prog.len() * 8);
    b.extend_from_slice(&(prog.len() as u16).to_ne_bytes());
    b.extend_from_slice(&[0u8; 6]);
    b.extend_from_slice(&(at + 16).to_ne_bytes());
    for i in prog {
        b.extend_from_slice(&i.to_bytes());
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_program_builds_and_fits_its_page() {
        for kind in [Kind::Base, Kind::Control, Kind::Thread] {
            let p = build(kind).unwrap();
            assert!(
                p.len() > prefix().len() && p.len() <= PROG_MAX_INSNS,
                "{kind:?}"
            );
            assert_eq!(&p[..prefix().len()], &prefix()[..]);
            let page = fprog_page(&p, 0x1000);
            assert!(page.len() <= 0x1000);
        }
    }

    #[test]
    fn the_prefix_traps_foreign_arches_and_ips_outside_the_stub() {
        // Interpret the prefix on a few inputs.
        let run = |arch: u32, ip: u64| -> Option<u32> {
            let p = prefix();
            let mut pc = 0usize;
            let mut acc = 0u32;
            loop {
                let i = p.get(pc)?;
                pc += 1;
                match i.code {
                    LD_ABS_W => {
                        acc = match i.k {
                            DATA_ARCH => arch,
                            DATA_IP_LO => ip as u32,
                            DATA_IP_HI => (ip >> 32) as u32,
                            _ => unreachable!(),
                        }
                    }
                    JEQ_K => pc += if acc == i.k { i.jt } else { i.jf } as usize,
                    JGE_K => pc += if acc >= i.k { i.jt } else { i.jf } as usize,
                    JA => pc += i.k as usize,
                    RET_K => return Some(i.k),
                    _ => unreachable!(),
                }
            }
        };
        assert_eq!(run(AUDIT_ARCH_X86_64, 0x40_1000), Some(RET_TRAP));
        assert_eq!(
            run(0x4000_0003, STUB_BASE + 0x10),
            Some(RET_TRAP),
            "i386 from the stub"
        );
        assert_eq!(
            run(AUDIT_ARCH_X86_64, STUB_BASE + CODE_SIZE),
            Some(RET_TRAP)
        );
        assert_eq!(run(AUDIT_ARCH_X86_64, STUB_BASE - 2), Some(RET_TRAP));
        assert_eq!(
            run(AUDIT_ARCH_X86_64, STUB_BASE + (1 << 32) + 0x10),
            Some(RET_TRAP)
        );
        // From the stub's code: falls through into the libseccomp program.
        assert_eq!(run(AUDIT_ARCH_X86_64, STUB_BASE + 0x10), None);
    }
}
