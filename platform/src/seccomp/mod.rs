//! The `seccomp` platform: a stub process per address space, a stub thread per context.
//!
//! Application code runs in stub threads under a seccomp filter. A syscall from outside the
//! stub's code page traps (`SECCOMP_RET_TRAP`): the kernel delivers SIGSYS on the thread's
//! alternate stack, saving the full register and XSAVE state in the signal frame; the
//! stub's handler wakes the Sentry through a seccomp user notification
//! (`SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP` set, so the woken side runs on the waker's CPU).
//! The Sentry reads and rewrites the frame through its own mapping of the stub file and
//! answers; the handler returns through rt_sigreturn. Faults and other synchronous signals
//! take the same road. See `layout` for the memory map and `filter` for the filters.

mod context;
mod filter;
mod fork;
mod frame;
pub mod layout;
mod process;
mod stub;

use std::any::Any;
use std::sync::Arc;

pub use context::SeccompContext;
use process::{Programs, StubProcess};

use crate::{AddressSpace, Context, MemoryFile, PlatformError, Prot, Result, PAGE_SIZE};
use layout::*;

/// The seccomp platform.
pub struct SeccompPlatform {
    memfile: Arc<MemoryFile>,
    programs: Programs,
}

impl SeccompPlatform {
    /// Whether this host can run the platform, and if not, why.
    pub fn probe() -> std::result::Result<(), String> {
        // SAFETY: getauxval has no preconditions.
        let hwcap2 = unsafe { libc::getauxval(libc::AT_HWCAP2) };
        if hwcap2 & 2 == 0 {
            return Err(
                "the kernel does not enable FSGSBASE for user space (HWCAP2_FSGSBASE)".into(),
            );
        }
        Ok(())
    }

    /// A platform whose application memory comes from `memfile`.
    pub fn new(memfile: Arc<MemoryFile>) -> Result<Self> {
        Self::probe().map_err(PlatformError::Unavailable)?;
        Ok(SeccompPlatform {
            memfile,
            programs: Programs::build()?,
        })
    }

    /// Where the stub's code lies in every address space, for tests.
    pub fn stub_code_range() -> std::ops::Range<u64> {
        STUB_BASE..STUB_BASE + CODE_SIZE
    }

    /// The stub's machine code, for tests that look for its syscall instructions.
    pub fn stub_code_bytes() -> &'static [u8] {
        stub::code().bytes
    }
}

impl crate::Platform for SeccompPlatform {
    fn name(&self) -> &'static str {
        "seccomp"
    }

    fn memory_file(&self) -> &Arc<MemoryFile> {
        &self.memfile
    }

    fn max_user_address(&self) -> u64 {
        APP_LIMIT
    }

    fn new_address_space(&self) -> Result<Arc<dyn AddressSpace>> {
        let proc = StubProcess::start(&self.memfile, &self.programs)?;
        Ok(Arc::new(SeccompAddressSpace {
            proc: Arc::new(proc),
            memfile: self.memfile.clone(),
        }))
    }

    fn new_context(&self) -> Result<Box<dyn Context>> {
        Ok(Box::new(SeccompContext::new()))
    }
}

/// An address space: one stub process.
pub struct SeccompAddressSpace {
    proc: Arc<StubProcess>,
    memfile: Arc<MemoryFile>,
}

impl SeccompAddressSpace {
    /// Host pid of the stub process (for tests and diagnostics).
    pub fn stub_pid(&self) -> libc::pid_t {
        self.proc.pid()
    }

    fn check_range(addr: u64, len: u64) -> Result<()> {
        let ok = addr.is_multiple_of(PAGE_SIZE)
            && len.is_multiple_of(PAGE_SIZE)
            && len > 0
            && addr.checked_add(len).is_some_and(|end| end <= APP_LIMIT);
        if ok {
            Ok(())
        } else {
            Err(PlatformError::InvalidArgument(format!(
                "range {addr:#x}+{len:#x}"
            )))
        }
    }

    fn chunks(addr: u64, len: u64) -> impl Iterator<Item = (u64, u64)> {
        (0..len.div_ceil(MAP_CHUNK)).map(move |i| {
            let o = i * MAP_CHUNK;
            (addr + o, (len - o).min(MAP_CHUNK))
        })
    }
}

impl AddressSpace for SeccompAddressSpace {
    fn map(&self, addr: u64, len: u64, file_offset: u64, prot: Prot) -> Result<()> {
        Self::check_range(addr, len)?;
        let in_file = file_offset.is_multiple_of(PAGE_SIZE)
            && file_offset
                .checked_add(len)
                .is_some_and(|end| end <= self.memfile.size());
        if !in_file {
            return Err(PlatformError::InvalidArgument(format!(
                "memory file range {file_offset:#x}+{len:#x}"
            )));
        }
        let ops: Vec<[u64; 5]> = Self::chunks(addr, len)
            .map(|(a, l)| {
                [
                    CTL_OP_MMAP,
                    a,
                    l,
                    prot.to_bits() as u64,
                    file_offset + (a - addr),
                ]
            })
            .collect();
        self.proc.control(&ops)
    }

    fn unmap(&self, addr: u64, len: u64) -> Result<()> {
        Self::check_range(addr, len)?;
        let ops: Vec<[u64; 5]> = Self::chunks(addr, len)
            .map(|(a, l)| [CTL_OP_MUNMAP, a, l, 0, 0])
            .collect();
        self.proc.control(&ops)
    }

    fn cpu_time(&self) -> Option<std::time::Duration> {
        // The stub process's CPU clock: every application thread of this address space.
        let clock = ((!self.proc.pid()) << 3) | 2; // MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED)
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime writes one timespec.
        let r = unsafe { libc::clock_gettime(clock as libc::clockid_t, &mut ts) };
        (r == 0).then(|| std::time::Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
