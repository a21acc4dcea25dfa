//! The x86-64 user state of one application thread.

use std::sync::OnceLock;

/// General registers, instruction pointer, flags and segment bases.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct Regs {
    pub rax: u64,
    pub rbx: u64,
    pub rcx: u64,
    pub rdx: u64,
    pub rsi: u64,
    pub rdi: u64,
    pub rbp: u64,
    pub rsp: u64,
    pub r8: u64,
    pub r9: u64,
    pub r10: u64,
    pub r11: u64,
    pub r12: u64,
    pub r13: u64,
    pub r14: u64,
    pub r15: u64,
    pub rip: u64,
    pub rflags: u64,
    pub fs_base: u64,
    pub gs_base: u64,
}

impl Regs {
    /// The six syscall arguments, in order.
    pub fn syscall_args(&self) -> [u64; 6] {
        [self.rdi, self.rsi, self.rdx, self.r10, self.r8, self.r9]
    }
}

/// Offset of MXCSR in the legacy (FXSAVE) region.
const MXCSR_OFFSET: usize = 24;
/// Offset of XMM0 in the legacy region.
const XMM_OFFSET: usize = 160;
/// Offset of the YMM upper halves (XSAVE component 2) in the standard format.
const YMM_HI_OFFSET: usize = 576;
/// Offset of the XSAVE header (XSTATE_BV).
const XSTATE_BV_OFFSET: usize = 512;

/// The FPU/SSE/AVX state in the standard (non-compacted) XSAVE format, as Linux puts it in
/// a signal frame.
#[derive(Clone, PartialEq, Eq)]
pub struct XsaveArea {
    bytes: Box<[u8]>,
}

impl std::fmt::Debug for XsaveArea {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XsaveArea")
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// Size of the XSAVE area for the features the host enabled (CPUID leaf 0xD).
pub(crate) fn host_xsave_size() -> usize {
    static SIZE: OnceLock<usize> = OnceLock::new();
    *SIZE.get_or_init(|| {
        // CPUID is always available on x86-64; leaf 0xD sub-leaf 0 EBX is the XSAVE size for
        // the features enabled in XCR0.
        let r = std::arch::x86_64::__cpuid_count(0xd, 0);
        (r.ebx as usize).max(576)
    })
}

impl Default for XsaveArea {
    fn default() -> Self {
        let mut bytes = vec![0u8; host_xsave_size()].into_boxed_slice();
        // FCW: all exceptions masked, 64-bit precision, as after FNINIT.
        bytes[0..2].copy_from_slice(&0x037fu16.to_le_bytes());
        bytes[MXCSR_OFFSET..MXCSR_OFFSET + 4].copy_from_slice(&0x1f80u32.to_le_bytes());
        // x87 and SSE state present (so FCW/MXCSR above are loaded), the rest in init state.
        bytes[XSTATE_BV_OFFSET..XSTATE_BV_OFFSET + 8].copy_from_slice(&3u64.to_le_bytes());
        XsaveArea { bytes }
    }
}

impl XsaveArea {
    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The raw bytes, writable. The Sentry must keep them a valid XSAVE image.
    pub fn as_bytes_mut(&mut self) -> &mut [u8] {
        &mut self.bytes
    }

    /// MXCSR.
    pub fn mxcsr(&self) -> u32 {
        u32::from_le_bytes(
            self.bytes[MXCSR_OFFSET..MXCSR_OFFSET + 4]
                .try_into()
                .unwrap_or_default(),
        )
    }

    /// XMM register `i` (0..16).
    pub fn xmm(&self, i: usize) -> u128 {
        let o = XMM_OFFSET + 16 * (i % 16);
        u128::from_le_bytes(self.bytes[o..o + 16].try_into().unwrap_or_default())
    }

    /// Sets XMM register `i` (0..16) and marks the SSE component present.
    pub fn set_xmm(&mut self, i: usize, v: u128) {
        let o = XMM_OFFSET + 16 * (i % 16);
        self.bytes[o..o + 16].copy_from_slice(&v.to_le_bytes());
        self.bytes[XSTATE_BV_OFFSET] |= 2;
    }

    /// Upper 128 bits of YMM register `i` (0..16), zero when the AVX component is in init state.
    pub fn ymm_high(&self, i: usize) -> u128 {
        if self.bytes[XSTATE_BV_OFFSET] & 4 == 0 || self.bytes.len() < YMM_HI_OFFSET + 256 {
            return 0;
        }
        let o = YMM_HI_OFFSET + 16 * (i % 16);
        u128::from_le_bytes(self.bytes[o..o + 16].try_into().unwrap_or_default())
    }
}

/// The full user state of an application thread.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CpuState {
    /// General registers, rip, rflags, fs_base, gs_base.
    pub regs: Regs,
    /// FPU/SSE/AVX state.
    pub xsave: XsaveArea,
}
