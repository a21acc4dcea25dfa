//! One vCPU: its KVM fd, its `kvm_run` page, its page of guest system memory (TSS and
//! stack), the architectural state the stub needs, and the kick that gets it out of
//! `KVM_RUN` from another thread.
//!
//! Kicking follows the usual KVM pattern: set `immediate_exit` in `kvm_run` (caught if the
//! thread has not entered `KVM_RUN` yet) and send the thread a signal whose handler does
//! nothing (caught if it is inside; `KVM_RUN` then returns `EINTR`). A kick that arrives
//! late only costs the next `KVM_RUN` a spurious `EINTR`.

use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicI32, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};

use kvm_bindings::{
    kvm_msr_entry, kvm_regs, kvm_run, kvm_segment, kvm_sregs, kvm_sync_regs, kvm_xcrs, Msrs,
    KVM_SYNC_X86_REGS, KVM_SYNC_X86_SREGS,
};
use kvm_ioctls::VcpuFd;

use super::layout::*;
use super::stub;
use super::vm::Vm;
use crate::{PlatformError, Result};

/// `KVM_RUN` (`_IO(KVMIO, 0x80)`).
const KVM_RUN: libc::c_ulong = 0xae80;

const MSR_STAR: u32 = 0xc000_0081;
const MSR_LSTAR: u32 = 0xc000_0082;
const MSR_CSTAR: u32 = 0xc000_0083;
const MSR_SYSCALL_MASK: u32 = 0xc000_0084;
pub(crate) const MSR_FS_BASE: u32 = 0xc000_0100;
pub(crate) const MSR_GS_BASE: u32 = 0xc000_0101;
const MSR_KERNEL_GS_BASE: u32 = 0xc000_0102;
const MSR_SYSENTER_CS: u32 = 0x174;
const MSR_SYSENTER_ESP: u32 = 0x175;
const MSR_SYSENTER_EIP: u32 = 0x176;
/// RFLAGS bits `syscall` clears: TF, IF, DF, IOPL, NT, AC (as Linux).
const SYSCALL_MASK: u64 = 0x47700;
const CR0_PE_MP_ET_NE_WP_AM_PG: u64 = 0x8005_0033;
const EFER_SCE_LME_LMA_NXE: u64 = 0xd01;

/// `VcpuShared::entered_gen` of a vCPU outside the guest.
pub(crate) const OUT: u64 = u64::MAX;

/// The signal that kicks a vCPU thread out of `KVM_RUN`.
pub(crate) fn kick_signal() -> i32 {
    libc::SIGRTMIN() + 4
}

extern "C" fn on_kick(_: libc::c_int) {}

/// Installs the (empty) kick handler once per process, and unblocks the signal in the
/// calling thread once per thread.
pub(crate) fn prepare_thread() -> Result<()> {
    static INSTALLED: OnceLock<std::result::Result<(), i32>> = OnceLock::new();
    let installed = INSTALLED.get_or_init(|| {
        // SAFETY: sigaction is plain data; zeroed is a valid empty value.
        let mut sa: libc::sigaction = unsafe { std::mem::zeroed() };
        sa.sa_sigaction = on_kick as extern "C" fn(libc::c_int) as usize;
        sa.sa_flags = libc::SA_RESTART;
        // SAFETY: installs an async-signal-safe handler that does nothing.
        let r = unsafe { libc::sigaction(kick_signal(), &sa, std::ptr::null_mut()) };
        if r == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
        }
    });
    if let Err(e) = installed {
        return Err(PlatformError::Host {
            what: "installing the vCPU kick handler",
            source: std::io::Error::from_raw_os_error(*e),
        });
    }
    thread_local!(static UNBLOCKED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) });
    if !UNBLOCKED.get() {
        // SAFETY: sigset operations on a local set, then unblocking one signal in this thread.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, kick_signal());
            libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        }
        UNBLOCKED.set(true);
    }
    Ok(())
}

/// Our own mapping of a vCPU's `kvm_run` page. Only `immediate_exit` is touched by other
/// threads; everything else only by the thread that owns the vCPU, between `KVM_RUN`s.
pub(crate) struct RunPage {
    ptr: *mut kvm_run,
    len: usize,
}

// SAFETY: the page is shared with the kernel and accessed only through raw pointers
// (volatile reads, or atomics for `immediate_exit`), never through Rust references.
unsafe impl Send for RunPage {}
// SAFETY: as above.
unsafe impl Sync for RunPage {}

impl RunPage {
    fn new(fd: &VcpuFd, len: usize) -> Result<Self> {
        // SAFETY: maps the vCPU fd's kvm_run area, as KVM documents; a fresh mapping.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(PlatformError::last_os("mapping kvm_run"));
        }
        Ok(RunPage { ptr: p.cast(), len })
    }

    fn immediate_exit(&self) -> &AtomicU8 {
        // SAFETY: the field lies in our live mapping (kvm_run is far smaller than a page); a
        // byte has no alignment needs; the kernel and other threads access it concurrently,
        // which atomics model.
        unsafe { AtomicU8::from_ptr(std::ptr::addr_of_mut!((*self.ptr).immediate_exit)) }
    }

    pub(crate) fn exit_reason(&self) -> u32 {
        // SAFETY: in bounds of the mapping; written by the kernel only during KVM_RUN,
        // which the caller (the vCPU's owner) is not in.
        unsafe { std::ptr::read_volatile(std::ptr::addr_of!((*self.ptr).exit_reason)) }
    }

    /// Asks KVM to store the registers and segment registers here at every exit
    /// (`KVM_CAP_SYNC_REGS`), and to load the ones marked dirty at every entry.
    fn enable_sync(&self) {
        let bits = (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS) as u64;
        // SAFETY: in bounds of the mapping; only the owning thread touches this field.
        unsafe {
            std::ptr::write_volatile(std::ptr::addr_of_mut!((*self.ptr).kvm_valid_regs), bits)
        };
    }

    fn sync(&self) -> *mut kvm_sync_regs {
        // SAFETY: a field address computed inside the mapping; nothing is read.
        unsafe { std::ptr::addr_of_mut!((*self.ptr).s.regs) }
    }

    /// The general registers KVM stored at the last exit.
    pub(crate) fn regs(&self) -> kvm_regs {
        // SAFETY: in bounds; kvm_regs is plain data; the kernel writes it only during
        // KVM_RUN, which the owning thread (the only caller) is not in.
        unsafe { std::ptr::read_volatile(std::ptr::addr_of!((*self.sync()).regs)) }
    }

    /// The segment and control registers KVM stored at the last exit.
    pub(crate) fn sregs(&self) -> kvm_sregs {
        // SAFETY: as in `regs`.
        unsafe { std::ptr::read_volatile(std::ptr::addr_of!((*self.sync()).sregs)) }
    }

    /// General registers for the next entry.
    pub(crate) fn set_regs(&self, r: &kvm_regs) {
        // SAFETY: as in `regs`, writing.
        unsafe {
            std::ptr::write_volatile(std::ptr::addr_of_mut!((*self.sync()).regs), *r);
        }
        self.mark_dirty(KVM_SYNC_X86_REGS);
    }

    /// Segment and control registers for the next entry.
    pub(crate) fn set_sregs(&self, r: &kvm_sregs) {
        // SAFETY: as in `regs`, writing.
        unsafe {
            std::ptr::write_volatile(std::ptr::addr_of_mut!((*self.sync()).sregs), *r);
        }
        self.mark_dirty(KVM_SYNC_X86_SREGS);
    }

    /// Forgets registers marked for loading.
    pub(crate) fn clear_dirty(&self) {
        // SAFETY: in bounds; only the owning thread touches this field outside KVM_RUN.
        unsafe { std::ptr::write_volatile(std::ptr::addr_of_mut!((*self.ptr).kvm_dirty_regs), 0) };
    }

    fn mark_dirty(&self, bit: u32) {
        // SAFETY: in bounds; only the owning thread touches this field outside KVM_RUN.
        unsafe {
            let p = std::ptr::addr_of_mut!((*self.ptr).kvm_dirty_regs);
            std::ptr::write_volatile(p, std::ptr::read_volatile(p) | bit as u64);
        }
    }

    /// `kvm_run.internal` / `fail_entry` words, for error messages.
    pub(crate) fn detail(&self) -> [u64; 4] {
        // SAFETY: the union lies in bounds of the mapping; any bytes are valid u64s.
        unsafe {
            std::ptr::read_volatile(
                std::ptr::addr_of!((*self.ptr).__bindgen_anon_1).cast::<[u64; 4]>(),
            )
        }
    }
}

impl Drop for RunPage {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly our mapping; its users hold the Arc being dropped.
        unsafe { libc::munmap(self.ptr.cast(), self.len) };
    }
}

/// Nanoseconds since the first call in this process, never 0 (0 means "not running").
pub(crate) fn now_ns() -> u64 {
    static EPOCH: OnceLock<std::time::Instant> = OnceLock::new();
    EPOCH
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_nanos() as u64
        + 1
}

/// The part of a vCPU other threads see: who runs it, where, and how to kick it.
pub(crate) struct VcpuShared {
    pub(crate) run: RunPage,
    /// [`now_ns`] when the current `KVM_RUN` began; 0 outside one. CPU time read while a
    /// vCPU runs includes the part of the run so far (the guest gets no timer interrupts:
    /// a loop may stay in one `KVM_RUN` until something kicks it).
    pub(crate) run_since: AtomicU64,
    /// Thread that last ran (or runs) the vCPU.
    tid: AtomicI32,
    /// Address space the vCPU runs in while inside `switch`, 0 otherwise.
    running_as: AtomicU64,
    /// The address-space generation the vCPU flushed for while it may run application
    /// code; `OUT` while it cannot (between `KVM_RUN`s).
    entered_gen: AtomicU64,
}

impl VcpuShared {
    pub(crate) fn last_tid(&self) -> i32 {
        self.tid.load(Ordering::Relaxed)
    }

    pub(crate) fn running_in(&self, id: u64) -> bool {
        self.running_as.load(Ordering::SeqCst) == id
    }

    pub(crate) fn entered_generation(&self) -> u64 {
        self.entered_gen.load(Ordering::SeqCst)
    }

    /// Gets the vCPU out of guest mode promptly if a switch is under way.
    pub(crate) fn kick(&self) {
        if self.running_as.load(Ordering::SeqCst) == 0 {
            return;
        }
        self.run.immediate_exit().store(1, Ordering::SeqCst);
        let tid = self.tid.load(Ordering::SeqCst);
        if tid > 0 {
            // SAFETY: plain syscalls; a stale tid at worst signals a thread of ours whose
            // handler does nothing (SA_RESTART), or fails with ESRCH.
            unsafe {
                libc::syscall(libc::SYS_tgkill, libc::getpid(), tid, kick_signal());
            }
        }
    }

    /// Marks the start of a switch by the calling thread in address space `id`.
    pub(crate) fn begin(&self, id: u64) {
        // SAFETY: gettid has no preconditions.
        self.tid.store(unsafe { libc::gettid() }, Ordering::SeqCst);
        self.running_as.store(id, Ordering::SeqCst);
    }

    /// Marks the end of a switch.
    pub(crate) fn end(&self) {
        self.running_as.store(0, Ordering::SeqCst);
    }

    /// Records the generation about to be flushed for (`OUT`: not in the guest).
    pub(crate) fn set_entered_generation(&self, g: u64) {
        self.entered_gen.store(g, Ordering::SeqCst);
    }

    /// Why the latest `KVM_RUN` returned.
    pub(crate) fn exit_reason(&self) -> u32 {
        self.run.exit_reason()
    }

    /// Exit details, for error messages.
    pub(crate) fn detail(&self) -> [u64; 4] {
        self.run.detail()
    }

    /// Clears a pending kick before the owner checks for work and enters.
    pub(crate) fn clear_immediate_exit(&self) {
        self.run.immediate_exit().store(0, Ordering::SeqCst);
    }
}

/// A vCPU owned by a context (or idle in the VM's pool).
pub(crate) struct Vcpu {
    pub(crate) fd: VcpuFd,
    pub(crate) shared: Arc<VcpuShared>,
    /// System-memory offset of this vCPU's page.
    pub(crate) page: u64,
    /// The segment and control registers the stub runs with (CR3 and the FS/GS bases vary;
    /// entries straight into ring 3 use the user CS and SS instead).
    pub(crate) sregs: kvm_sregs,
    /// Address space whose page tables (and generation) the vCPU last flushed for; 0 when
    /// unknown. Any mismatch sends the next entry through the stub's flush path.
    pub(crate) loaded_as: u64,
    pub(crate) loaded_gen: u64,
    /// FS and GS bases in the vCPU.
    pub(crate) fs_gs: (u64, u64),
    /// The (sanitized) XSAVE image the vCPU's FPU registers hold, when known.
    pub(crate) live_xsave: Option<Box<[u8; XSAVE_SIZE]>>,
    /// Set when the vCPU's state is unknown (an error): the next switch resets it.
    pub(crate) broken: bool,
}

fn kvm_err(what: &'static str) -> impl Fn(kvm_ioctls::Error) -> PlatformError {
    move |e| PlatformError::Host {
        what,
        source: std::io::Error::from_raw_os_error(e.errno()),
    }
}

fn segment(selector: u16, type_: u8, dpl: u8, l: u8, db: u8) -> kvm_segment {
    kvm_segment {
        base: 0,
        limit: 0xffff_ffff,
        selector,
        type_,
        present: 1,
        dpl,
        db,
        s: 1,
        l,
        g: 1,
        ..Default::default()
    }
}

impl Vcpu {
    pub(crate) fn new(vm: &Vm, id: u64) -> Result<Self> {
        let fd = vm.fd.create_vcpu(id).map_err(kvm_err("KVM_CREATE_VCPU"))?;
        fd.set_cpuid2(&vm.cpuid)
            .map_err(kvm_err("KVM_SET_CPUID2"))?;
        let run = RunPage::new(&fd, vm.run_size)?;
        run.enable_sync();
        let page = vcpu_page(id);
        let mut sregs = fd.get_sregs().map_err(kvm_err("KVM_GET_SREGS"))?;
        sregs.cs = segment(KERNEL_CS, 0xb, 0, 1, 0);
        sregs.ss = segment(KERNEL_DS, 0x3, 0, 0, 1);
        // DS, ES, FS, GS: null selectors with user-usable caches, so that iretq to ring 3
        // keeps them (and the FS/GS bases) as they are.
        let user_data = kvm_segment {
            selector: 0,
            ..segment(0, 0x3, 3, 0, 1)
        };
        sregs.ds = user_data;
        sregs.es = user_data;
        sregs.fs = user_data;
        sregs.gs = user_data;
        sregs.tr = kvm_segment {
            base: kva(page + VCPU_TSS),
            limit: (TSS_SIZE - 1) as u32,
            selector: TSS_SEL,
            type_: 0xb, // busy 64-bit TSS
            present: 1,
            ..Default::default()
        };
        sregs.ldt = kvm_segment {
            type_: 0x2,
            unusable: 1,
            ..Default::default()
        };
        sregs.gdt.base = kva(GDT);
        sregs.gdt.limit = (GDT_ENTRIES * 8 - 1) as u16;
        sregs.idt.base = kva(IDT);
        sregs.idt.limit = (IDT_VECTORS * 16 - 1) as u16;
        sregs.cr0 = CR0_PE_MP_ET_NE_WP_AM_PG;
        sregs.cr3 = vm.kernel_root;
        sregs.cr4 = vm.cr4;
        sregs.efer = EFER_SCE_LME_LMA_NXE;
        let shared = Arc::new(VcpuShared {
            run,
            tid: AtomicI32::new(0),
            running_as: AtomicU64::new(0),
            entered_gen: AtomicU64::new(OUT),
            run_since: AtomicU64::new(0),
        });
        let mut v = Vcpu {
            fd,
            shared,
            page,
            sregs,
            loaded_as: 0,
            loaded_gen: 0,
            fs_gs: (0, 0),
            live_xsave: None,
            broken: true,
        };
        v.reset(vm)?;
        Ok(v)
    }

    /// Puts the vCPU in the stub's state: ring 0 on the kernel-only page tables.
    pub(crate) fn reset(&mut self, vm: &Vm) -> Result<()> {
        self.shared.run.clear_dirty();
        self.sregs.cr3 = vm.kernel_root;
        self.sregs.fs.base = 0;
        self.sregs.gs.base = 0;
        self.fd
            .set_sregs(&self.sregs)
            .map_err(kvm_err("KVM_SET_SREGS"))?;
        let mut xcrs = kvm_xcrs {
            nr_xcrs: 1,
            ..Default::default()
        };
        xcrs.xcrs[0].xcr = 0;
        xcrs.xcrs[0].value = vm.xcr0;
        self.fd.set_xcrs(&xcrs).map_err(kvm_err("KVM_SET_XCRS"))?;
        let msr = |index, data| kvm_msr_entry {
            index,
            data,
            ..Default::default()
        };
        let entries = [
            // syscall: CS = 0x10, SS = 0x18; sysret (unused): CS = 0x33, SS = 0x2b.
            msr(MSR_STAR, (0x23u64 << 48) | ((KERNEL_CS as u64) << 32)),
            msr(MSR_LSTAR, kva(STUB_CODE + stub::SYSCALL_ENTRY)),
            msr(MSR_CSTAR, kva(STUB_CODE + stub::CSTAR_ENTRY)),
            msr(MSR_SYSCALL_MASK, SYSCALL_MASK),
            msr(MSR_KERNEL_GS_BASE, 0),
            msr(MSR_FS_BASE, 0),
            msr(MSR_GS_BASE, 0),
            // sysenter faults (#GP with a null SYSENTER_CS).
            msr(MSR_SYSENTER_CS, 0),
            msr(MSR_SYSENTER_ESP, 0),
            msr(MSR_SYSENTER_EIP, 0),
        ];
        let msrs = Msrs::from_entries(&entries)
            .map_err(|_| PlatformError::InvalidArgument("MSR list".into()))?;
        let n = self.fd.set_msrs(&msrs).map_err(kvm_err("KVM_SET_MSRS"))?;
        if n != entries.len() {
            return Err(PlatformError::Unavailable(format!(
                "KVM refused MSR {:#x}",
                entries[n].index
            )));
        }
        let regs = kvm_regs {
            rflags: 2,
            rip: kva(STUB_CODE + stub::SYSCALL_ENTRY),
            rsp: kva(self.page + VCPU_STACK_TOP),
            ..Default::default()
        };
        self.fd.set_regs(&regs).map_err(kvm_err("KVM_SET_REGS"))?;
        self.loaded_as = 0;
        self.loaded_gen = 0;
        self.fs_gs = (0, 0);
        self.live_xsave = None;
        self.broken = false;
        Ok(())
    }

    /// Loads the stub's segment and control registers with `cr3` and the FS/GS bases at
    /// the next entry (through the synced `kvm_run` state).
    pub(crate) fn load_sregs(&mut self, cr3: u64, fs: u64, gs: u64) {
        self.sregs.cr3 = cr3;
        self.sregs.fs.base = fs;
        self.sregs.gs.base = gs;
        self.shared.run.set_sregs(&self.sregs);
        self.fs_gs = (fs, gs);
    }

    /// Loads ring-3 segments (and `cr3`, the FS/GS bases) at the next entry: the vCPU
    /// enters the application directly.
    pub(crate) fn load_user_sregs(&mut self, cr3: u64, fs: u64, gs: u64) {
        let mut s = self.sregs;
        s.cs = segment(USER_CS, 0xb, 3, 1, 0);
        s.ss = segment(USER_DS, 0x3, 3, 0, 1);
        s.cr3 = cr3;
        s.fs.base = fs;
        s.gs.base = gs;
        self.shared.run.set_sregs(&s);
        self.fs_gs = (fs, gs);
    }

    /// One `KVM_RUN`: `Ok(())` on an exit (see `exit_reason`), the errno otherwise.
    pub(crate) fn run(&self) -> std::result::Result<(), i32> {
        // SAFETY: KVM_RUN on our vCPU fd takes no argument; the kvm_run page it writes is
        // mapped (by kvm-ioctls and by us) for the vCPU's lifetime.
        let r = unsafe { libc::ioctl(self.fd.as_raw_fd(), KVM_RUN, 0) };
        if r == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
        }
    }
}
