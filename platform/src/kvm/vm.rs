//! The virtual machine: one per platform. It owns the guest's physical memory (the memory
//! file and the platform's system memory, each a KVM memory slot), the stub, the kernel half
//! of every page table, the page-table page allocator and the pool of vCPUs.

use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use kvm_bindings::{kvm_userspace_memory_region, CpuId, KVM_MAX_CPUID_ENTRIES};
use kvm_ioctls::{Kvm, VmFd};

use super::layout::*;
use super::pagetable::{KERNEL_TABLE, PTE_AD, PTE_NX, PTE_P, PTE_PS, PTE_RW};
use super::stub;
use super::vcpu::{Vcpu, VcpuShared};
use crate::memfile::MAX_MEMORY_FILE_SIZE;
use crate::{MemoryFile, PlatformError, Result};

/// A host mapping this module made with mmap, unmapped on drop.
pub(crate) struct HostMap {
    ptr: *mut u8,
    len: usize,
}

// SAFETY: the mapping is plain memory owned by this value; all access goes through raw
// pointers with explicit bounds checks, and the memory is shared with the guest anyway, so
// no Rust reference to its contents is ever formed.
unsafe impl Send for HostMap {}
// SAFETY: as above.
unsafe impl Sync for HostMap {}

impl HostMap {
    fn new(len: u64, fd: Option<i32>, what: &'static str) -> Result<Self> {
        let (flags, fd) = match fd {
            Some(fd) => (libc::MAP_SHARED | libc::MAP_NORESERVE, fd),
            None => (
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
            ),
        };
        // SAFETY: a fresh mapping at an address of the kernel's choosing; it replaces nothing.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len as usize,
                libc::PROT_READ | libc::PROT_WRITE,
                flags,
                fd,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(PlatformError::last_os(what));
        }
        Ok(HostMap {
            ptr: p.cast(),
            len: len as usize,
        })
    }

    /// Pointer to `len` bytes at `off`, if they lie inside the mapping.
    pub(crate) fn at(&self, off: u64, len: usize) -> Result<*mut u8> {
        match off.checked_add(len as u64) {
            Some(end) if end <= self.len as u64 => Ok(self.ptr.wrapping_add(off as usize)),
            _ => Err(PlatformError::InvalidArgument(format!(
                "guest memory access at {off:#x}+{len:#x}"
            ))),
        }
    }
}

impl Drop for HostMap {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly the mapping this value made; nothing refers to it any
        // more (the VM that used it as a memory slot is dropped first).
        unsafe { libc::munmap(self.ptr.cast(), self.len) };
    }
}

/// Bytes one page-directory entry maps.
const PDE_SPAN: u64 = 2 << 20;

/// Page-table pages of system memory.
struct PtAlloc {
    next: u64,
    /// Pages no table references and the hypervisor keeps no shadow of.
    free: Vec<u64>,
}

/// Table pages whose shadow copies the hypervisor must drop before any vCPU runs
/// application code again (see `pagetable`).
struct Touch {
    pages: Vec<u64>,
    /// Pages of dropped address spaces among them: free once touched.
    retired: Vec<u64>,
    /// Requests queued / completed (mirrored in `Vm::touch_gen` / `Vm::touch_done`).
    gen: u64,
    done: u64,
}

/// vCPUs: the idle ones, and every one ever made (for TLB shootdowns).
struct Pool {
    idle: Vec<Vcpu>,
    all: Vec<Arc<VcpuShared>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The platform's virtual machine.
pub(crate) struct Vm {
    // Field order is drop order: vCPUs, then the VM, then the memory behind its slots.
    pool: Mutex<Pool>,
    pub(crate) fd: VmFd,
    kvm: Kvm,
    /// Guest CPUID (from KVM_GET_SUPPORTED_CPUID).
    pub(crate) cpuid: CpuId,
    /// Guest XCR0: the host's user features KVM supports.
    pub(crate) xcr0: u64,
    /// Guest CR4.
    pub(crate) cr4: u64,
    /// Page-table root mapping only the kernel half (the CR3 of idle vCPUs).
    pub(crate) kernel_root: u64,
    pt: Mutex<PtAlloc>,
    touch: Mutex<Touch>,
    touch_gen: AtomicU64,
    touch_done: AtomicU64,
    next_as: AtomicU64,
    max_vcpus: u64,
    pub(crate) run_size: usize,
    sys: HostMap,
    _mem: HostMap,
    pub(crate) memfile: Arc<MemoryFile>,
}

const CPUID_FSGSBASE: u32 = 1 << 0; // leaf 7 ebx
const CPUID_SMEP: u32 = 1 << 7; // leaf 7 ebx
const CR4_PAE: u64 = 1 << 5;
const CR4_OSFXSR: u64 = 1 << 9;
const CR4_OSXMMEXCPT: u64 = 1 << 10;
const CR4_FSGSBASE: u64 = 1 << 16;
const CR4_OSXSAVE: u64 = 1 << 18;
const CR4_SMEP: u64 = 1 << 20;

fn kvm_err(what: &'static str) -> impl Fn(kvm_ioctls::Error) -> PlatformError {
    move |e| PlatformError::Host {
        what,
        source: std::io::Error::from_raw_os_error(e.errno()),
    }
}

impl Vm {
    /// A VM whose guest-physical memory is `memfile` (at `MEM_GPA`) and fresh system memory.
    pub(crate) fn new(memfile: Arc<MemoryFile>) -> Result<Self> {
        let kvm = Kvm::new().map_err(kvm_err("opening /dev/kvm"))?;
        let fd = kvm.create_vm().map_err(kvm_err("KVM_CREATE_VM"))?;
        let run_size = kvm
            .get_vcpu_mmap_size()
            .map_err(kvm_err("KVM_GET_VCPU_MMAP_SIZE"))?;
        let max_vcpus = (kvm.get_max_vcpus() as u64).min(MAX_VCPUS);
        let sys = HostMap::new(SYS_SIZE, None, "reserving guest system memory")?;
        let mem = HostMap::new(
            MAX_MEMORY_FILE_SIZE,
            Some(memfile.fd().as_raw_fd()),
            "mapping the memory file for the guest",
        )?;
        for (slot, gpa, map) in [(0, SYS_GPA, &sys), (1, MEM_GPA, &mem)] {
            let region = kvm_userspace_memory_region {
                slot,
                flags: 0,
                guest_phys_addr: gpa,
                memory_size: map.len as u64,
                userspace_addr: map.ptr as u64,
            };
            // SAFETY: the region is a mapping we own, kept alive (HostMap fields of the Vm)
            // until after the VM fd is closed.
            unsafe { fd.set_user_memory_region(region) }
                .map_err(kvm_err("KVM_SET_USER_MEMORY_REGION"))?;
        }
        let cpuid = kvm
            .get_supported_cpuid(KVM_MAX_CPUID_ENTRIES)
            .map_err(kvm_err("KVM_GET_SUPPORTED_CPUID"))?;
        let leaf = |f: u32, i: u32| {
            cpuid
                .as_slice()
                .iter()
                .find(|e| e.function == f && e.index == i)
                .copied()
        };
        // Guest-physical addresses reach MEM_GPA + the largest memory file.
        let phys_bits = leaf(0x8000_0008, 0).map_or(36, |e| e.eax & 0xff);
        let top = MEM_GPA + MAX_MEMORY_FILE_SIZE;
        if phys_bits < 64 && top > 1u64 << phys_bits {
            return Err(PlatformError::Unavailable(format!(
                "the guest has {phys_bits} physical address bits, the platform needs {}",
                64 - (top - 1).leading_zeros()
            )));
        }
        let supported_xcr0 = leaf(0xd, 0).map_or(3, |e| e.eax as u64 | (e.edx as u64) << 32);
        let xcr0 = host_xcr0() & supported_xcr0 | 3;
        let l7 = leaf(7, 0).map_or(0, |e| e.ebx);
        let mut cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_OSXSAVE;
        if l7 & CPUID_FSGSBASE != 0 {
            cr4 |= CR4_FSGSBASE;
        }
        if l7 & CPUID_SMEP != 0 {
            cr4 |= CR4_SMEP;
        }
        let vm = Vm {
            pool: Mutex::new(Pool {
                idle: Vec::new(),
                all: Vec::new(),
            }),
            fd,
            kvm,
            cpuid,
            xcr0,
            cr4,
            kernel_root: 0,
            pt: Mutex::new(PtAlloc {
                next: KERNEL_REGION,
                free: Vec::new(),
            }),
            touch: Mutex::new(Touch {
                pages: Vec::new(),
                retired: Vec::new(),
                gen: 0,
                done: 0,
            }),
            touch_gen: AtomicU64::new(0),
            touch_done: AtomicU64::new(0),
            next_as: AtomicU64::new(1),
            max_vcpus,
            run_size,
            sys,
            _mem: mem,
            memfile,
        };
        vm.build_kernel_half()
    }

    /// Writes the stub, the descriptor tables and the kernel-half page tables.
    fn build_kernel_half(mut self) -> Result<Self> {
        self.sys_write(STUB_CODE, &stub::code())?;
        let gdt: Vec<u8> = stub::gdt(kva(vcpu_page(0) + VCPU_TSS))
            .iter()
            .flat_map(|d| d.to_le_bytes())
            .collect();
        self.sys_write(GDT, &gdt)?;
        self.sys_write(IDT, &stub::idt())?;
        for i in 0..self.max_vcpus {
            self.sys_write(vcpu_page(i) + VCPU_TSS, &stub::tss(vcpu_page(i)))?;
        }
        // KERNEL_VA: PML4 slot 511 -> KERNEL_PDPT, whose first slots -> the KERNEL_PD pages
        // (a GiB of system memory each). The kernel region is mapped page by page through
        // the KERNEL_PT pages; the rest (page-table pages) with 2 MiB pages.
        for i in 0..KERNEL_PD_PAGES {
            self.set_entry(KERNEL_PDPT + 8 * i, (KERNEL_PD + i * PAGE) | KERNEL_TABLE)?;
        }
        for (i, off) in (0..SYS_SIZE).step_by(PDE_SPAN as usize).enumerate() {
            let pde = KERNEL_PD + 8 * i as u64;
            if off < KERNEL_REGION {
                let pt = KERNEL_PT + (off / PDE_SPAN) * PAGE;
                self.set_entry(pde, pt | KERNEL_TABLE)?;
            } else {
                self.set_entry(
                    pde,
                    (SYS_GPA + off) | PTE_P | PTE_RW | PTE_PS | PTE_AD | PTE_NX,
                )?;
            }
        }
        for page in (0..KERNEL_REGION).step_by(PAGE as usize) {
            let flags = if page == STUB_CODE {
                PTE_P // read and execute
            } else if page == GDT || (VCPU_PAGES..vcpu_page(self.max_vcpus)).contains(&page) {
                PTE_P | PTE_RW | PTE_NX
            } else {
                continue;
            };
            self.set_entry(
                KERNEL_PT + 8 * (page / PAGE),
                (SYS_GPA + page) | flags | PTE_AD,
            )?;
        }
        self.kernel_root = self.new_root()?;
        Ok(self)
    }

    /// A fresh PML4 with the kernel half in place.
    pub(crate) fn new_root(&self) -> Result<u64> {
        let root = self.alloc_table()?;
        self.set_entry(
            root + 8 * ((KERNEL_VA >> 39) & 511),
            KERNEL_PDPT | KERNEL_TABLE,
        )?;
        Ok(root)
    }

    fn set_entry(&self, gpa: u64, v: u64) -> Result<()> {
        self.entry(gpa)?.store(v, Ordering::Release);
        Ok(())
    }

    /// The page-table entry at guest-physical `gpa` (8-byte aligned, in system memory).
    pub(crate) fn entry(&self, gpa: u64) -> Result<&AtomicU64> {
        if !gpa.is_multiple_of(8) {
            return Err(PlatformError::InvalidArgument(format!(
                "unaligned page-table entry {gpa:#x}"
            )));
        }
        let p = self.sys.at(gpa - SYS_GPA, 8)?;
        // SAFETY: `at` checked the 8 bytes lie in system memory, which lives as long as
        // `self`; the address is 8-byte aligned (mapping page aligned, offset checked).
        // The guest's page walker reads these words concurrently; atomics are the right view.
        Ok(unsafe { AtomicU64::from_ptr(p.cast::<u64>()) })
    }

    /// Copies `data` into system memory at offset `off`.
    pub(crate) fn sys_write(&self, off: u64, data: &[u8]) -> Result<()> {
        let p = self.sys.at(off, data.len())?;
        // SAFETY: `at` checked the range; we copy bytes without forming references, as the
        // guest may read the same memory concurrently.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), p, data.len()) };
        Ok(())
    }

    /// Copies system memory at offset `off` into `buf`.
    pub(crate) fn sys_read(&self, off: u64, buf: &mut [u8]) -> Result<()> {
        let p = self.sys.at(off, buf.len())?;
        // SAFETY: as in `sys_write`.
        unsafe { std::ptr::copy_nonoverlapping(p, buf.as_mut_ptr(), buf.len()) };
        Ok(())
    }

    /// A zeroed page-table page.
    pub(crate) fn alloc_table(&self) -> Result<u64> {
        let mut a = lock(&self.pt);
        if let Some(p) = a.free.pop() {
            return Ok(p);
        }
        if a.next >= SYS_SIZE {
            return Err(PlatformError::Exhausted("guest page-table memory"));
        }
        let p = a.next;
        a.next += PAGE;
        Ok(SYS_GPA + p)
    }

    /// Takes back the table pages of a dropped address space: zeroed now, reusable once
    /// the hypervisor has dropped its shadows of them.
    pub(crate) fn retire_tables(&self, pages: &[u64]) {
        for &p in pages {
            if let Ok(ptr) = self.sys.at(p - SYS_GPA, PAGE as usize) {
                // SAFETY: a page of system memory no page table references any more.
                unsafe { std::ptr::write_bytes(ptr, 0, PAGE as usize) };
            }
        }
        let mut t = lock(&self.touch);
        t.retired.extend_from_slice(pages);
        self.queue(&mut t, pages);
    }

    /// Asks for the shadows of `pages` (tables whose entries changed) to be dropped.
    pub(crate) fn queue_touch(&self, pages: &[u64]) {
        let mut t = lock(&self.touch);
        self.queue(&mut t, pages);
    }

    fn queue(&self, t: &mut Touch, pages: &[u64]) {
        t.pages.extend_from_slice(pages);
        t.gen += 1;
        self.touch_gen.store(t.gen, Ordering::SeqCst);
    }

    /// Whether table pages wait to be touched.
    pub(crate) fn touch_pending(&self) -> bool {
        self.touch_gen.load(Ordering::SeqCst) > self.touch_done.load(Ordering::SeqCst)
    }

    /// Runs `touch` on the pending table pages (deduplicated) unless another vCPU already
    /// did; other vCPUs wait meanwhile.
    pub(crate) fn apply_touches(&self, touch: impl FnOnce(&[u64]) -> Result<()>) -> Result<()> {
        let mut t = lock(&self.touch);
        if t.done >= t.gen {
            return Ok(());
        }
        let mut pages = std::mem::take(&mut t.pages);
        pages.sort_unstable();
        pages.dedup();
        if let Err(e) = touch(&pages) {
            t.pages = pages;
            return Err(e);
        }
        t.done = t.gen;
        self.touch_done.store(t.done, Ordering::SeqCst);
        let retired = std::mem::take(&mut t.retired);
        lock(&self.pt).free.extend_from_slice(&retired);
        Ok(())
    }

    /// A new address-space id (never 0, never reused).
    pub(crate) fn next_as_id(&self) -> u64 {
        self.next_as.fetch_add(1, Ordering::Relaxed)
    }

    /// An idle vCPU, or a new one.
    pub(crate) fn take_vcpu(&self) -> Result<Vcpu> {
        let mut p = lock(&self.pool);
        // SAFETY: gettid has no preconditions.
        let tid = unsafe { libc::gettid() };
        if let Some(i) = p.idle.iter().position(|v| v.shared.last_tid() == tid) {
            return Ok(p.idle.swap_remove(i));
        }
        if let Some(v) = p.idle.pop() {
            return Ok(v);
        }
        let id = p.all.len() as u64;
        if id >= self.max_vcpus {
            return Err(PlatformError::Exhausted("vCPUs"));
        }
        let v = Vcpu::new(self, id)?;
        p.all.push(v.shared.clone());
        Ok(v)
    }

    /// Returns a vCPU to the pool.
    pub(crate) fn give_vcpu(&self, v: Vcpu) {
        lock(&self.pool).idle.push(v);
    }

    /// Every vCPU there is.
    pub(crate) fn all_vcpus(&self) -> Vec<Arc<VcpuShared>> {
        lock(&self.pool).all.clone()
    }

    /// The KVM system fd (for capability checks).
    #[allow(dead_code)]
    pub(crate) fn kvm(&self) -> &Kvm {
        &self.kvm
    }
}

/// The host's XCR0 (the user state components the host enabled).
fn host_xcr0() -> u64 {
    if !std::arch::is_x86_feature_detected!("xsave") {
        return 3;
    }
    // SAFETY: XGETBV with ECX = 0 is valid once CPUID reports XSAVE (checked above; the
    // kernel sets CR4.OSXSAVE whenever it does).
    unsafe { std::arch::x86_64::_xgetbv(0) }
}
