//! The platform: runs application code on the CPU until it needs the kernel.
//!
//! The Sentry owns all application state. A platform only runs application threads
//! ([`Context`]) in address spaces ([`AddressSpace`]) whose memory comes from one
//! [`MemoryFile`], and reports why it stopped ([`Exit`]). See `DESIGN.md`, "The platform seam".
//!
//! Implementations: [`seccomp`] (the default; a stub process per address space, every
//! application syscall trapped by a seccomp filter) and [`kvm`] (application threads in
//! ring 3 of a KVM virtual machine, every syscall and exception a VM exit).

#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

mod cpu;
mod error;
pub mod kvm;
mod memfile;
pub mod seccomp;
mod sys;

use std::any::Any;
use std::sync::Arc;

pub use cpu::{CpuState, Regs, XsaveArea};
pub use error::PlatformError;
pub use memfile::{FileRange, MemoryFile};

/// Result type of platform operations.
pub type Result<T> = std::result::Result<T, PlatformError>;

/// Page size of every platform (x86-64).
pub const PAGE_SIZE: u64 = 4096;

/// Memory protections of a mapping.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Prot {
    /// Readable.
    pub read: bool,
    /// Writable.
    pub write: bool,
    /// Executable.
    pub exec: bool,
}

impl Prot {
    /// No access.
    pub const NONE: Prot = Prot {
        read: false,
        write: false,
        exec: false,
    };
    /// Read only.
    pub const READ: Prot = Prot {
        read: true,
        write: false,
        exec: false,
    };
    /// Read and write.
    pub const READ_WRITE: Prot = Prot {
        read: true,
        write: true,
        exec: false,
    };
    /// Read and execute.
    pub const READ_EXEC: Prot = Prot {
        read: true,
        write: false,
        exec: true,
    };
    /// Everything.
    pub const ALL: Prot = Prot {
        read: true,
        write: true,
        exec: true,
    };

    /// The `PROT_*` bits of this protection.
    pub fn to_bits(self) -> i32 {
        let mut p = 0;
        if self.read {
            p |= libc::PROT_READ;
        }
        if self.write {
            p |= libc::PROT_WRITE;
        }
        if self.exec {
            p |= libc::PROT_EXEC;
        }
        p
    }
}

/// The kind of memory access that faulted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// A data read.
    Read,
    /// A data write.
    Write,
    /// An instruction fetch.
    Execute,
}

/// A synchronous signal raised by the application's own instructions (or a signal the
/// platform could not attribute to a fault or a syscall).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignalInfo {
    /// Signal number (`SIGILL`, `SIGFPE`, `SIGTRAP`, `SIGBUS`, `SIGSEGV`, `SIGSYS` ...).
    pub signo: i32,
    /// `si_code` as the host kernel reported it.
    pub code: i32,
    /// `si_addr` (fault address or faulting instruction), 0 when not meaningful.
    pub addr: u64,
}

/// Why [`Context::switch`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// The application made a system call. Its number is `regs.rax`, its arguments
    /// `rdi, rsi, rdx, r10, r8, r9`; `rip` points after the instruction. The Sentry writes
    /// the result into `rax` before switching back.
    Syscall,
    /// The application touched memory the address space does not map (or maps without
    /// the needed permission). After a suitable [`AddressSpace::map`], switching back
    /// retries the instruction.
    Fault {
        /// The faulting address.
        addr: u64,
        /// What the instruction tried to do there.
        access: Access,
    },
    /// A signal raised by the application's own instructions.
    Signal(SignalInfo),
    /// [`Interrupter::interrupt`] was called (possibly before this switch began).
    Interrupted,
}

/// A platform: the factory of address spaces and contexts.
pub trait Platform: Send + Sync {
    /// A short name: "seccomp", "kvm".
    fn name(&self) -> &'static str;
    /// The memory file all application memory comes from.
    fn memory_file(&self) -> &Arc<MemoryFile>;
    /// One past the highest address an application may map.
    fn max_user_address(&self) -> u64;
    /// A new, empty address space.
    fn new_address_space(&self) -> Result<Arc<dyn AddressSpace>>;
    /// A new context (application thread), not yet bound to any address space.
    fn new_context(&self) -> Result<Box<dyn Context>>;
}

/// An application address space: a cache of the Sentry's mappings of the memory file.
///
/// The platform may forget any mapping at any time (the application then faults and the
/// Sentry maps it again); it never keeps one after `unmap` returns.
pub trait AddressSpace: Send + Sync + Any {
    /// Maps `len` bytes of the memory file at `file_offset` to `addr`, replacing what was there.
    fn map(&self, addr: u64, len: u64, file_offset: u64, prot: Prot) -> Result<()>;
    /// Removes every mapping in `[addr, addr + len)`. When it returns, no thread of the
    /// address space can reach those pages.
    fn unmap(&self, addr: u64, len: u64) -> Result<()>;
    /// CPU time the application has used in this address space so far, if the platform
    /// can tell.
    fn cpu_time(&self) -> Option<std::time::Duration> {
        None
    }
    /// For downcasting to the platform's own type.
    fn as_any(&self) -> &dyn Any;
}

/// Makes a context's `switch` return promptly with [`Exit::Interrupted`]; callable from any thread.
pub trait Interrupter: Send + Sync {
    /// Kicks the context out of application code (or makes its next switch return at once).
    fn interrupt(&self);
}

/// One application thread's hold on the CPU.
pub trait Context: Send {
    /// Runs the application thread with `state` in `aspace` until it needs the kernel.
    /// `state` is read before and written after; the Sentry may rewrite any of it.
    fn switch(&mut self, aspace: &Arc<dyn AddressSpace>, state: &mut CpuState) -> Result<Exit>;
    /// A handle other threads use to interrupt this context.
    fn interrupter(&self) -> Arc<dyn Interrupter>;
}

/// Every platform this host can run, with the reason for each one it cannot.
pub fn available() -> Vec<(&'static str, std::result::Result<(), String>)> {
    vec![
        ("seccomp", seccomp::SeccompPlatform::probe()),
        ("kvm", kvm::available()),
    ]
}

/// One instance of every platform this host can run, each over its own memory file.
pub fn all_platforms() -> Vec<Box<dyn Platform>> {
    let mut v: Vec<Box<dyn Platform>> = Vec::new();
    if seccomp::SeccompPlatform::probe().is_ok() {
        if let Ok(mf) = MemoryFile::new("rvisor-memory") {
            if let Ok(p) = seccomp::SeccompPlatform::new(Arc::new(mf)) {
                v.push(Box::new(p));
            }
        }
    }
    if kvm::available().is_ok() {
        if let Ok(mf) = MemoryFile::new("rvisor-memory") {
            if let Ok(p) = kvm::KvmPlatform::new(Arc::new(mf)) {
                v.push(Box::new(p));
            }
        }
    }
    v
}
