//! The guest's ring-0 stub: a few hundred bytes of hand-assembled machine code, the GDT, the
//! IDT and each vCPU's TSS.
//!
//! The stub never runs Sentry logic. Every way out of ring 3 is an exception delivered on
//! IST1 (the top of the vCPU's first page) to a per-vector entry that pushes the vector
//! number (and a 0 where the CPU pushes no error code) and joins `COMMON`, a `hlt`: with no
//! in-kernel interrupt controller that is a VM exit (`KVM_EXIT_HLT`) with every general
//! register and the FPU/SSE/AVX state of the application still in place. The host reads
//! the frame at the stack top:
//!
//! ```text
//! top - 56: vector, error code, rip, cs, rflags, rsp, ss
//! ```
//!
//! The stub uses only the plainest instructions (push, jmp, pop, mov to CR3, iretq, hlt):
//! some hypervisors run a guest's ring 0 through KVM's instruction emulator.
//!
//! `syscall` enters at `SYSCALL_ENTRY` (`LSTAR`) in ring 0 on the application's stack,
//! which the stub never touches: the `int3` there moves it onto IST1 as a #BP from ring 0
//! (`rcx` = user rip, `r11` = user rflags, as the CPU left them). Some hypervisors run the
//! entry without leaving ring 3; the fetch of the supervisor-only entry then faults (#PF)
//! and reaches `COMMON` the same way. The host tells both from application exceptions by
//! the frame (see `context`).
//!
//! To return, the host normally loads the application's registers and ring-3 segments
//! straight into the vCPU. When the TLB must be flushed (a page-table switch, a shootdown)
//! it instead writes a frame at the stack top, loads the registers with `rsp` pointing at
//! it and `rip` at `RESUME_FLUSH`, and re-enters:
//!
//! ```text
//! RESUME_FLUSH   rsp -> cr3, rax, rip, cs, rflags, rsp, ss   load cr3 (TLB flush), iretq
//! ```

use super::layout::*;

/// Offset in the code page of the `syscall` entry (`LSTAR`).
pub const SYSCALL_ENTRY: u64 = 0x00;
/// Offset of the compatibility-mode `syscall` entry (`CSTAR`); unreachable, as the GDT has
/// no 32-bit user code segment.
pub const CSTAR_ENTRY: u64 = 0x08;
/// Offset of the resume path that switches page tables first.
pub const RESUME_FLUSH: u64 = 0x10;
/// Offset of the `mov cr3, rax` in the resume path.
pub const RESUME_FLUSH_MOV_CR3: u64 = 0x11;
/// End of the resume path (after its `iretq`).
pub const RESUME_END: u64 = 0x17;
/// Offset of the touch routine: `rsi` -> a list of `rcx` (> 0) kernel addresses of table
/// pages; rewrites the first two bytes of each, then stops at `TOUCH_STOP`.
pub const TOUCH: u64 = 0x30;
/// Offset of the touch routine's `hlt`.
pub const TOUCH_STOP: u64 = TOUCH + 0x12;
/// Offset of the common exit path.
pub const COMMON: u64 = 0x50;
/// Offset of the common exit path's `hlt`.
pub const COMMON_STOP: u64 = COMMON;
/// Offset of the first exception entry; entry `v` is at `VECTORS + VECTOR_STRIDE * v`.
pub const VECTORS: u64 = 0x80;
/// Size of one exception entry.
pub const VECTOR_STRIDE: u64 = 16;
/// Bytes between the stack top and `rsp` when `COMMON` stops: vector, error code and the
/// CPU's 5-word frame.
pub const EXIT_FRAME: u64 = 56;

/// `hlt` followed by `jmp` back to it: a stop that stays stopped even if re-entered after
/// the `hlt` (the host always sets `rip` before re-entering, so the `jmp` never runs).
const STOP: [u8; 3] = [
    0xf4, //       hlt            ; VM exit to the host
    0xeb, 0xfd, // jmp -3         ; back to the hlt
];

/// Offset of exception `v`'s entry.
pub const fn vector_entry(v: u64) -> u64 {
    VECTORS + VECTOR_STRIDE * v
}

// The pieces of the code page do not overlap and fit.
const _: () = assert!(
    RESUME_END <= TOUCH
        && TOUCH_STOP + 3 <= COMMON
        && COMMON_STOP + 3 <= VECTORS
        && vector_entry(IDT_VECTORS) <= PAGE
);

/// Whether the CPU pushes an error code for exception `v`.
pub const fn has_error_code(v: u64) -> bool {
    matches!(v, 8 | 10 | 11 | 12 | 13 | 14 | 17 | 21 | 29 | 30)
}

/// The code page.
pub fn code() -> [u8; PAGE as usize] {
    // int3 everywhere else: a stray jump into the page stops at once (a #BP in ring 0, which
    // the host reports as a stub failure).
    let mut c = [0xccu8; PAGE as usize];
    let put = |c: &mut [u8; PAGE as usize], at: u64, bytes: &[u8]| {
        c[at as usize..at as usize + bytes.len()].copy_from_slice(bytes);
    };
    // SYSCALL_ENTRY, CSTAR_ENTRY: onto IST1 by way of #BP.
    put(&mut c, SYSCALL_ENTRY, &[0xcc]); // int3
    put(&mut c, CSTAR_ENTRY, &[0xcc]); // int3
    put(
        &mut c,
        RESUME_FLUSH,
        &[
            0x58, //             0x10: pop rax          ; page-table root
            0x0f, 0x22, 0xd8, // 0x11: mov cr3, rax     ; switch, flush the TLB
            0x58, //             0x14: pop rax          ; the application's rax
            // RESUME
            0x48, 0xcf, //       0x15: iretq            ; to ring 3
        ],
    );
    // TOUCH: a 2-byte store to a page-table page is, to KVM's shadow MMU, a "misaligned"
    // write: it drops every shadow page it keeps for that table, so the next walk reads
    // what the host wrote there.
    put(
        &mut c,
        TOUCH,
        &[
            0x48, 0x8b, 0x3e, //       +0x00: mov rdi, [rsi]   ; next table page
            0x66, 0x8b, 0x07, //       +0x03: mov ax, [rdi]    ; its first two bytes
            0x66, 0x89, 0x07, //       +0x06: mov [rdi], ax    ; stored back unchanged
            0x48, 0x83, 0xc6, 0x08, // +0x09: add rsi, 8
            0x48, 0xff, 0xc9, //       +0x0d: dec rcx
            0x75, 0xee, //             +0x10: jnz +0x00
        ],
    );
    put(&mut c, TOUCH_STOP, &STOP); // +0x12
                                    // COMMON: rsp -> vector, error code, rip, cs, rflags, rsp, ss.
    put(&mut c, COMMON_STOP, &STOP);
    for v in 0..IDT_VECTORS {
        let at = vector_entry(v);
        let mut e = Vec::with_capacity(VECTOR_STRIDE as usize);
        if !has_error_code(v) {
            e.extend_from_slice(&[0x6a, 0x00]); // push 0          ; as if an error code
        }
        e.extend_from_slice(&[0x6a, v as u8]); // push v           ; the vector
        let next = at + e.len() as u64 + 5;
        let rel = (COMMON as i64 - next as i64) as i32;
        e.push(0xe9); //                          jmp COMMON
        e.extend_from_slice(&rel.to_le_bytes());
        put(&mut c, at, &e);
    }
    c
}

/// A GDT code or data descriptor: flat, with the given access byte and flags nibble.
const fn seg(access: u64, flags: u64) -> u64 {
    0xffff | (access << 40) | (0xf << 48) | (flags << 52)
}

/// The GDT, at `kva(GDT)`. Every descriptor has its accessed bit set, so the CPU never
/// writes the table. There is no 32-bit user code segment: a far jump or `iret` into
/// compatibility mode faults.
pub fn gdt(tss_base: u64) -> [u64; GDT_ENTRIES as usize] {
    let mut g = [0u64; GDT_ENTRIES as usize];
    g[(KERNEL_CS >> 3) as usize] = seg(0x9b, 0xa); // present, DPL 0, code, read; L, G
    g[(KERNEL_DS >> 3) as usize] = seg(0x93, 0xc); // present, DPL 0, data, write; D/B, G
    g[(USER_DS >> 3) as usize] = seg(0xf3, 0xc); // present, DPL 3, data, write; D/B, G
    g[(USER_CS >> 3) as usize] = seg(0xfb, 0xa); // present, DPL 3, code, read; L, G
    let t = (TSS_SEL >> 3) as usize;
    // Available 64-bit TSS (type 9), present; only for completeness: TR is loaded through
    // KVM_SET_SREGS with each vCPU's own TSS.
    g[t] = (TSS_SIZE - 1)
        | ((tss_base & 0xff_ffff) << 16)
        | (0x89 << 40)
        | (((tss_base >> 24) & 0xff) << 56);
    g[t + 1] = tss_base >> 32;
    g
}

/// The IDT, at `kva(IDT)`: an interrupt gate per exception, on IST1, DPL 0 except #BP and
/// #OF (so that `int3` and `into` from ring 3 raise them rather than #GP).
pub fn idt() -> [u8; (IDT_VECTORS * 16) as usize] {
    let mut t = [0u8; (IDT_VECTORS * 16) as usize];
    for v in 0..IDT_VECTORS {
        let off = kva(STUB_CODE + vector_entry(v));
        let dpl: u64 = if v == 3 || v == 4 { 3 } else { 0 };
        let lo = (off & 0xffff)
            | ((KERNEL_CS as u64) << 16)
            | (1 << 32) // IST1
            | ((0x8e | (dpl << 5)) << 40) // present, 64-bit interrupt gate
            | (((off >> 16) & 0xffff) << 48);
        let hi = off >> 32;
        let e = &mut t[(v * 16) as usize..(v * 16 + 16) as usize];
        e[..8].copy_from_slice(&lo.to_le_bytes());
        e[8..].copy_from_slice(&hi.to_le_bytes());
    }
    t
}

/// The TSS of the vCPU whose area is at system-memory offset `page`: RSP0 and IST1 at the
/// first page's top, no I/O permission bitmap (all port I/O from ring 3 faults).
pub fn tss(page: u64) -> [u8; TSS_SIZE as usize] {
    let mut t = [0u8; TSS_SIZE as usize];
    let top = kva(page + VCPU_STACK_TOP);
    t[4..12].copy_from_slice(&top.to_le_bytes()); // RSP0
    t[36..44].copy_from_slice(&top.to_le_bytes()); // IST1
    t[102..104].copy_from_slice(&(TSS_SIZE as u16).to_le_bytes()); // I/O map base: none
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_do_not_overlap_and_stop() {
        let c = code();
        assert_eq!(c[SYSCALL_ENTRY as usize], 0xcc);
        assert_eq!(
            &c[RESUME_END as usize - 2..RESUME_END as usize],
            &[0x48, 0xcf]
        );
        assert_eq!(c[RESUME_FLUSH_MOV_CR3 as usize], 0x0f);
        assert_eq!(c[TOUCH_STOP as usize], 0xf4);
        assert_eq!(c[COMMON_STOP as usize], 0xf4);
        assert_eq!(c[RESUME_FLUSH as usize + 4], 0x58);
        for v in 0..IDT_VECTORS {
            let e = vector_entry(v) as usize;
            let push = if has_error_code(v) { e } else { e + 2 };
            assert_eq!(&c[push..push + 2], &[0x6a, v as u8], "vector {v}");
            let rel = i32::from_le_bytes(c[push + 3..push + 7].try_into().unwrap());
            assert_eq!((push as i64 + 7 + rel as i64) as u64, COMMON, "vector {v}");
        }
    }

    #[test]
    fn descriptors_match_linux_selectors() {
        let g = gdt(0x1234_5678_9abc);
        assert_eq!(g[2], 0x00af9b000000ffff);
        assert_eq!(g[3], 0x00cf93000000ffff);
        assert_eq!(g[5], 0x00cff3000000ffff);
        assert_eq!(g[6], 0x00affb000000ffff);
        let i = idt();
        let off = kva(vector_entry(14));
        assert_eq!(u16::from_le_bytes([i[14 * 16], i[14 * 16 + 1]]), off as u16);
        assert_eq!(i[3 * 16 + 5], 0xee, "int3 gate is DPL 3");
    }
}
