//! The `kvm` platform: application threads run in ring 3 of a KVM virtual machine.
//!
//! Guest-physical memory is the memory file (slot 1, at `layout::MEM_GPA`) plus the
//! platform's own system memory (slot 0): the ring-0 stub, the GDT and IDT, a page per vCPU
//! (TSS and stack) and the page tables. Each address space is a 4-level page table whose
//! user half follows `AddressSpace::map`/`unmap` and whose kernel half (the stub,
//! supervisor-only) is shared. Each context is a vCPU; `syscall` and every exception end
//! in the stub on a `hlt`, a VM exit that hands the application's registers to the host.
//! See `stub` for the entry and exit paths, `layout` for the memory map, `context` for the
//! switch and `pagetable` for TLB shootdowns.

mod context;
mod exits;
pub mod layout;
mod pagetable;
mod stub;
mod vcpu;
mod vm;

use std::sync::{Arc, OnceLock};

pub use context::KvmContext;
pub use pagetable::KvmAddressSpace;

use crate::{AddressSpace, Context, MemoryFile, PlatformError, Result};
use vm::Vm;

/// `KVM_GET_API_VERSION` must say this.
const KVM_API_VERSION: i32 = 12;

/// An ioctl request number (`_IOC` of the kernel's headers) of KVM's type (0xAE).
const fn kvm_ioc(dir: u64, nr: u64, size: usize) -> u64 {
    (dir << 30) | ((size as u64) << 16) | (0xae << 8) | nr
}
const NONE: u64 = 0;
const WRITE: u64 = 1;
const READ: u64 = 2;

/// The ioctls the platform makes once the sandbox runs (the VM and its memory slots are
/// made before): new vCPUs and their setup, entering the guest, registers and XSAVE state.
/// For the Sentry's seccomp filter.
pub const HOST_IOCTLS: &[u64] = &[
    kvm_ioc(NONE, 0x41, 0),                                      // KVM_CREATE_VCPU
    kvm_ioc(NONE, 0x80, 0),                                      // KVM_RUN
    kvm_ioc(READ, 0x81, size_of::<kvm_bindings::kvm_regs>()),    // KVM_GET_REGS
    kvm_ioc(WRITE, 0x82, size_of::<kvm_bindings::kvm_regs>()),   // KVM_SET_REGS
    kvm_ioc(READ, 0x83, size_of::<kvm_bindings::kvm_sregs>()),   // KVM_GET_SREGS
    kvm_ioc(WRITE, 0x84, size_of::<kvm_bindings::kvm_sregs>()),  // KVM_SET_SREGS
    kvm_ioc(WRITE, 0x89, size_of::<kvm_bindings::kvm_msrs>()),   // KVM_SET_MSRS
    kvm_ioc(WRITE, 0x90, size_of::<kvm_bindings::kvm_cpuid2>()), // KVM_SET_CPUID2
    kvm_ioc(READ, 0xa4, size_of::<kvm_bindings::kvm_xsave>()),   // KVM_GET_XSAVE
    kvm_ioc(WRITE, 0xa5, size_of::<kvm_bindings::kvm_xsave>()),  // KVM_SET_XSAVE
    kvm_ioc(WRITE, 0xa7, size_of::<kvm_bindings::kvm_xcrs>()),   // KVM_SET_XCRS
];

/// Whether this host can run the kvm platform, and if not, why (one line).
pub fn available() -> std::result::Result<(), String> {
    static PROBE: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    PROBE.get_or_init(probe).clone()
}

fn probe() -> std::result::Result<(), String> {
    use kvm_ioctls::{Cap, Kvm};
    let kvm = match Kvm::new() {
        Ok(k) => k,
        Err(e) => {
            return Err(match e.errno() {
                libc::ENOENT => "/dev/kvm does not exist (no KVM in this kernel, or the device \
                                 is not available in this container)"
                    .into(),
                libc::EACCES | libc::EPERM => "permission denied opening /dev/kvm (run as root \
                                               or join the device's group)"
                    .into(),
                n => format!(
                    "cannot open /dev/kvm: {}",
                    std::io::Error::from_raw_os_error(n)
                ),
            })
        }
    };
    let v = kvm.get_api_version();
    if v != KVM_API_VERSION {
        return Err(format!(
            "KVM API version {v}, this platform needs {KVM_API_VERSION}"
        ));
    }
    for (cap, name) in [
        (Cap::UserMemory, "KVM_CAP_USER_MEMORY"),
        (Cap::ImmediateExit, "KVM_CAP_IMMEDIATE_EXIT"),
        (Cap::Xsave, "KVM_CAP_XSAVE"),
        (Cap::Xcrs, "KVM_CAP_XCRS"),
        (Cap::ExtCpuid, "KVM_CAP_EXT_CPUID"),
    ] {
        if !kvm.check_extension(cap) {
            return Err(format!("KVM lacks {name}"));
        }
    }
    if let Err(e) = kvm.create_vm() {
        return Err(format!("cannot create a KVM virtual machine: {e}"));
    }
    Ok(())
}

/// The kvm platform.
pub struct KvmPlatform {
    vm: Arc<Vm>,
    memfile: Arc<MemoryFile>,
}

impl KvmPlatform {
    /// A platform whose application memory comes from `memfile`.
    pub fn new(memfile: Arc<MemoryFile>) -> Result<Self> {
        available().map_err(PlatformError::Unavailable)?;
        // The kick handler now, while the process may still install one (a confined
        // Sentry may not).
        vcpu::prepare_thread()?;
        Ok(KvmPlatform {
            vm: Arc::new(Vm::new(memfile.clone())?),
            memfile,
        })
    }
}

impl crate::Platform for KvmPlatform {
    fn name(&self) -> &'static str {
        "kvm"
    }

    fn memory_file(&self) -> &Arc<MemoryFile> {
        &self.memfile
    }

    fn max_user_address(&self) -> u64 {
        layout::MAX_USER_ADDRESS
    }

    fn new_address_space(&self) -> Result<Arc<dyn AddressSpace>> {
        Ok(Arc::new(KvmAddressSpace::new(self.vm.clone())?))
    }

    fn new_context(&self) -> Result<Box<dyn Context>> {
        Ok(Box::new(KvmContext::new(self.vm.clone())?))
    }
}
