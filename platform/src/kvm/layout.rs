//! The guest's memory map: guest-physical slots, the kernel-half virtual addresses of the
//! stub, descriptor tables and per-vCPU pages, and the segment selectors.
//!
//! ```text
//! guest physical                                   guest virtual (supervisor only)
//! 0 .. SYS_SIZE          system memory (slot 0)
//!   0x0000               stub code (R-X)           KERNEL_VA + 0x0000
//!   0x1000               GDT, IDT (RW-, NX)        KERNEL_VA + 0x1000
//!   0x2000 .. 0x9000     kernel-half page tables   (not mapped)
//!   0x10000 + i*0x1000   vCPU i: TSS, touch list,
//!                        exception and entry
//!                        stack (RW-, NX)           KERNEL_VA + 0x10000 + i*0x1000
//!   KERNEL_REGION ..     page-table pages of address
//!                        spaces (RW-, NX, 2 MiB)   KERNEL_VA + offset
//! MEM_GPA + o            memory-file offset o (slot 1), mapped only at user addresses
//! ```
//!
//! User addresses are `0 .. MAX_USER_ADDRESS` (the lower canonical half, less a guard page);
//! the kernel half holds nothing but the region above, supervisor-only. The stub writes
//! table pages through their kernel mapping only to make the hypervisor drop its shadow
//! copies of them (see `pagetable`).

/// Page size.
pub const PAGE: u64 = 4096;
/// Guest-physical base of system memory.
pub const SYS_GPA: u64 = 0;
/// Size of system memory (reserved with MAP_NORESERVE; only touched pages cost memory).
pub const SYS_SIZE: u64 = 4 << 30;
/// Guest-physical address of memory-file offset 0.
pub const MEM_GPA: u64 = SYS_GPA + SYS_SIZE;

/// System-memory offset of the stub's code page.
pub const STUB_CODE: u64 = 0x0000;
/// System-memory offset of the GDT.
pub const GDT: u64 = 0x1000;
/// System-memory offset of the IDT (same page as the GDT).
pub const IDT: u64 = 0x1100;
/// Kernel-half page-directory-pointer table.
pub const KERNEL_PDPT: u64 = 0x2000;
/// Kernel-half page directories: four pages, one per GiB of system memory.
pub const KERNEL_PD: u64 = 0x3000;
/// Number of kernel page directories.
pub const KERNEL_PD_PAGES: u64 = SYS_SIZE >> 30;
/// Kernel-half page tables: two pages, mapping the 4 MiB kernel region page by page (the
/// rest of system memory is mapped with 2 MiB pages).
pub const KERNEL_PT: u64 = KERNEL_PD + KERNEL_PD_PAGES * PAGE;
/// Number of kernel page-table pages.
pub const KERNEL_PT_PAGES: u64 = 2;
/// First per-vCPU page.
pub const VCPU_PAGES: u64 = 0x10000;
/// End of the part of system memory mapped into the kernel half.
pub const KERNEL_REGION: u64 = 0x40_0000;
/// Size of a vCPU's area: a page of TSS, touch list and stack.
pub const VCPU_AREA: u64 = PAGE;
/// Most vCPUs a VM can have (an area each between `VCPU_PAGES` and `KERNEL_REGION`).
pub const MAX_VCPUS: u64 = (KERNEL_REGION - VCPU_PAGES) / VCPU_AREA;

/// Virtual address of system-memory offset 0 (PML4 slot 511, PDPT slots 0..4).
pub const KERNEL_VA: u64 = 0xffff_ff80_0000_0000;
/// One past the highest user address: the lower canonical half less a guard page, as Linux.
pub const MAX_USER_ADDRESS: u64 = 0x7fff_ffff_f000;

/// Kernel code segment (GDT entry 2, as Linux's `__KERNEL_CS`).
pub const KERNEL_CS: u16 = 0x10;
/// Kernel data segment (GDT entry 3).
pub const KERNEL_DS: u16 = 0x18;
/// User data segment (GDT entry 5, RPL 3, as Linux's `__USER_DS`).
pub const USER_DS: u16 = 0x2b;
/// User 64-bit code segment (GDT entry 6, RPL 3, as Linux's `__USER_CS`).
pub const USER_CS: u16 = 0x33;
/// Task state segment (GDT entries 8 and 9).
pub const TSS_SEL: u16 = 0x40;
/// GDT entries.
pub const GDT_ENTRIES: u64 = 10;
/// IDT vectors (exceptions only; no interrupts are ever delivered).
pub const IDT_VECTORS: u64 = 32;

/// Offset of the TSS in a vCPU page.
pub const VCPU_TSS: u64 = 0;
/// Size of a 64-bit TSS.
pub const TSS_SIZE: u64 = 104;
/// Offset in a vCPU page of the list of table pages the stub touches.
pub const VCPU_TOUCH_LIST: u64 = 0x100;
/// Most table pages one touch run handles.
pub const TOUCH_BATCH: usize = 448;
/// Offset of the stack top (RSP0 and IST1) in a vCPU area.
pub const VCPU_STACK_TOP: u64 = PAGE;
/// Size of the XSAVE image KVM_GET_XSAVE and KVM_SET_XSAVE move.
pub const XSAVE_SIZE: usize = PAGE as usize;

/// System-memory offset of vCPU `i`'s area.
pub const fn vcpu_page(i: u64) -> u64 {
    VCPU_PAGES + i * VCPU_AREA
}

/// Kernel virtual address of system-memory offset `off`.
pub const fn kva(off: u64) -> u64 {
    KERNEL_VA + off
}
