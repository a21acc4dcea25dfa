//! Creating stub processes.
//!
//! Stubs are forked from one long-lived thread of the Sentry (the "factory"), for two
//! reasons: `PR_SET_PDEATHSIG` fires when the *thread* that forked a child exits, and that
//! thread keeps every signal blocked, so children start with all signals blocked.
//!
//! The child of a multi-threaded process may only make async-signal-safe calls: it uses raw
//! system calls until it jumps into the stub code.

use std::os::fd::RawFd;
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};

use super::layout::*;
use crate::{PlatformError, Result};

/// Where the child maps the stub file before relocating it (a hint; far from the stub).
const TEMP_HINT: u64 = 0x10_0000_0000;

#[derive(Clone, Copy)]
struct Request {
    memfd: RawFd,
    stubfd: RawFd,
    phase1: u64,
    handler: u64,
    restorer: u64,
}

type Reply = Result<libc::pid_t>;
type Factory = Mutex<mpsc::Sender<(Request, mpsc::Sender<Reply>)>>;

fn factory() -> &'static Factory {
    static FACTORY: OnceLock<Factory> = OnceLock::new();
    FACTORY.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<(Request, mpsc::Sender<Reply>)>();
        std::thread::Builder::new()
            .name("rvisor-stub-factory".into())
            .spawn(move || {
                // SAFETY: a sigset_t filled by sigfillset and applied to this thread only.
                unsafe {
                    let mut all: libc::sigset_t = std::mem::zeroed();
                    libc::sigfillset(&mut all);
                    libc::pthread_sigmask(libc::SIG_BLOCK, &all, std::ptr::null_mut());
                }
                for (req, reply) in rx {
                    let _ = reply.send(fork_stub(req));
                }
            })
            .expect("spawning the stub factory thread");
        Mutex::new(tx)
    })
}

/// Forks a stub process that maps `stubfd` (the stub file) at `STUB_BASE` and `memfd` (the
/// memory file) as descriptor `STUB_MEMFD`, and returns its pid.
pub fn spawn_stub(
    memfd: RawFd,
    stubfd: RawFd,
    phase1: u64,
    handler: u64,
    restorer: u64,
) -> Result<libc::pid_t> {
    let (rtx, rrx) = mpsc::channel();
    let req = Request {
        memfd,
        stubfd,
        phase1,
        handler,
        restorer,
    };
    factory()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .send((req, rtx))
        .map_err(|_| PlatformError::Unavailable("stub factory thread is gone".into()))?;
    rrx.recv()
        .map_err(|_| PlatformError::Unavailable("stub factory thread is gone".into()))?
}

fn fork_stub(req: Request) -> Reply {
    // SAFETY: getpid has no preconditions.
    let parent = unsafe { libc::getpid() };
    // SAFETY: fork in a multi-threaded process; the child only runs `child`, which makes
    // raw system calls and never returns.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(PlatformError::last_os("fork of stub process"));
    }
    if pid == 0 {
        // SAFETY: we are the freshly forked child.
        unsafe { child(req, parent) }
    }
    Ok(pid)
}

/// The rseq signature glibc uses on x86.
const RSEQ_SIG: u32 = 0x5305_3053;

extern "C" {
    /// Offset of the rseq area from the thread pointer (glibc >= 2.35).
    static __rseq_offset: isize;
    /// Size of the registered rseq area, 0 if glibc did not register one.
    static __rseq_size: u32;
}

#[repr(C)]
struct KernelSigaction {
    handler: u64,
    flags: u64,
    restorer: u64,
    mask: u64,
}

fn raw_exit(code: i32) -> ! {
    // SAFETY: exit_group never returns.
    unsafe { libc::syscall(libc::SYS_exit_group, code) };
    unreachable!()
}

/// Runs in the forked child.
///
/// # Safety
/// Only in the child of `fork`, which must not return into Rust code of the parent.
unsafe fn child(req: Request, parent: libc::pid_t) -> ! {
    const SA_RESTORER: u64 = 0x0400_0000;
    let dfl = KernelSigaction {
        handler: 0,
        flags: 0,
        restorer: 0,
        mask: 0,
    };
    for sig in 1..=64 {
        if sig == libc::SIGKILL || sig == libc::SIGSTOP {
            continue;
        }
        // SAFETY: rt_sigaction with a valid kernel sigaction; failures (reserved signals) ignored.
        unsafe {
            libc::syscall(
                libc::SYS_rt_sigaction,
                sig,
                &dfl as *const _,
                0usize,
                8usize,
            )
        };
    }
    let act = KernelSigaction {
        handler: STUB_BASE + req.handler,
        flags: (libc::SA_SIGINFO | libc::SA_ONSTACK) as u64 | SA_RESTORER,
        restorer: STUB_BASE + req.restorer,
        mask: u64::MAX,
    };
    for sig in HANDLED_SIGNALS {
        // SAFETY: as above; the handler address becomes valid once the stub is at STUB_BASE,
        // and every signal stays blocked until then.
        let r = unsafe {
            libc::syscall(
                libc::SYS_rt_sigaction,
                sig,
                &act as *const _,
                0usize,
                8usize,
            )
        };
        if r != 0 {
            raw_exit(90);
        }
    }
    // SAFETY: prctl/getppid with integer arguments.
    unsafe {
        if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0
            || libc::getppid() != parent
        {
            raw_exit(91);
        }
        if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
            raw_exit(92);
        }
    }
    // Descriptors: the memory file at STUB_MEMFD, the stub file at STUB_SELF_FD, nothing else.
    // SAFETY: descriptor syscalls on integers.
    unsafe {
        let m = libc::fcntl(req.memfd, libc::F_DUPFD, 100);
        let s = libc::fcntl(req.stubfd, libc::F_DUPFD, 100);
        if m < 0 || s < 0 || libc::dup2(m, STUB_MEMFD) < 0 || libc::dup2(s, STUB_SELF_FD) < 0 {
            raw_exit(93);
        }
        libc::syscall(libc::SYS_close_range, 0u32, 2u32, 0u32);
        libc::syscall(
            libc::SYS_close_range,
            (STUB_SELF_FD + 1) as u32,
            u32::MAX,
            0u32,
        );
    }
    // glibc registered this thread's rseq area; once the child unmaps it the kernel would
    // kill the child on its next return to user space. Unregister it.
    // SAFETY: reading glibc's exported rseq variables and our thread pointer; rseq(2)
    // unregistration with the area, length and signature glibc registered.
    unsafe {
        if __rseq_size > 0 {
            let tp: u64;
            std::arch::asm!("mov {}, fs:0", out(reg) tp, options(nostack, readonly));
            let area = tp.wrapping_add(__rseq_offset as u64);
            let unregistered = [32u32, __rseq_size].iter().any(|&len| {
                libc::syscall(
                    libc::SYS_rseq,
                    area,
                    len,
                    1, /* RSEQ_FLAG_UNREGISTER */
                    RSEQ_SIG,
                ) == 0
            });
            if !unregistered {
                raw_exit(95);
            }
        }
    }
    // SAFETY: mapping our stub file at a kernel-chosen address near the hint.
    let temp = unsafe {
        libc::mmap(
            TEMP_HINT as *mut libc::c_void,
            REGION_SIZE as usize,
            libc::PROT_READ | libc::PROT_EXEC,
            libc::MAP_SHARED,
            STUB_SELF_FD,
            0,
        )
    };
    let t = temp as u64;
    if temp == libc::MAP_FAILED || (t < STUB_BASE + REGION_SIZE && t + REGION_SIZE > STUB_BASE) {
        raw_exit(94);
    }
    // SAFETY: jumps into the stub's position-independent phase 1 in the mapping just made;
    // it never returns and uses no stack.
    unsafe {
        std::arch::asm!(
            "jmp {entry}",
            entry = in(reg) t + req.phase1,
            in("rdi") t,
            in("rsi") STUB_SELF_FD as u64,
            options(noreturn)
        )
    }
}
