//! Where the stub lives in every stub process, and the layout of the pages it shares with
//! the Sentry.
//!
//! ```text
//! STUB_BASE            code (R-X), one page, the same bytes in every stub
//! STUB_BASE + 0x1000   read-only pages: command page, then the three filter programs
//! STUB_BASE + 0x10000  read-write slots, 64 KiB each: slot 0 the spawner thread,
//!                      slot 1 the control thread, slots 2.. application threads
//! ```
//!
//! Everything is one memfd per address space ("stub file"), mapped read-write in the Sentry.
//! The application may read all of it and write the slots (they are in its address
//! space); the Sentry therefore trusts nothing it reads from a slot.

/// First address of the stub region.
pub const STUB_BASE: u64 = 0x7fff_0000_0000;
/// Highest user address + 1 on x86-64 with 4-level paging.
pub const USER_TOP: u64 = 0x7fff_ffff_f000;
/// Largest length of one mmap/munmap the stub performs; pinned in the filter.
pub const MAP_CHUNK: u64 = 1 << 30;
/// One past the highest application address. With `addr < APP_LIMIT` and `len <= MAP_CHUNK`
/// pinned in the filter, no stub mmap/munmap can reach the stub region.
pub const APP_LIMIT: u64 = STUB_BASE - MAP_CHUNK;

/// Code: offset 0 of the stub file.
pub const CODE_SIZE: u64 = 0x1000;
/// Read-only pages.
pub const RO_OFFSET: u64 = 0x1000;
/// Size of the read-only part.
pub const RO_SIZE: u64 = 0x4000;
/// Read-write slots.
pub const RW_OFFSET: u64 = 0x10000;
/// One slot per stub thread.
pub const SLOT_SIZE: u64 = 0x10000;
/// Slots per address space (spawner + control + application threads).
pub const MAX_SLOTS: u64 = 1024;
/// Size of the read-write part.
pub const RW_SIZE: u64 = SLOT_SIZE * MAX_SLOTS;
/// Size of the stub file and region.
pub const REGION_SIZE: u64 = RW_OFFSET + RW_SIZE;
/// Slot of the spawner (the stub process's first thread).
pub const SPAWNER_SLOT: u64 = 0;
/// Slot of the control thread (performs mmap/munmap/close for the Sentry).
pub const CONTROL_SLOT: u64 = 1;
/// First slot of application threads.
pub const FIRST_APP_SLOT: u64 = 2;

/// Command page (read-only in the stub).
pub const RO_CMD: u64 = RO_OFFSET;
/// Spawn request sequence number (u32 futex word).
pub const CMD_SPAWN_SEQ: u64 = RO_CMD;
/// Spawn request: what to start (`SPAWN_OP_*`).
pub const CMD_SPAWN_OP: u64 = RO_CMD + 8;
/// Spawn request: slot of the new thread.
pub const CMD_SPAWN_SLOT: u64 = RO_CMD + 16;
/// Number of control operations in the current batch.
pub const CMD_CTL_NOPS: u64 = RO_CMD + 64;
/// Control operations, `CTL_OP_SIZE` bytes each: kind, addr, len, prot, offset.
pub const CMD_CTL_OPS: u64 = RO_CMD + 128;
/// Size of one control operation.
pub const CTL_OP_SIZE: u64 = 40;
/// Operations per batch.
pub const CTL_MAX_OPS: u64 = 64;
/// Filter program of the whole stub (installed by the spawner).
pub const RO_PROG_BASE: u64 = RO_OFFSET + 0x1000;
/// Filter program of the control thread.
pub const RO_PROG_CONTROL: u64 = RO_OFFSET + 0x2000;
/// Filter program of each application thread.
pub const RO_PROG_THREAD: u64 = RO_OFFSET + 0x3000;
/// Instructions fit after the 16-byte `sock_fprog` header.
pub const PROG_MAX_INSNS: usize = (0x1000 - 16) / 8;

/// Spawn an application thread.
pub const SPAWN_OP_THREAD: u64 = 1;
/// Spawn the control thread.
pub const SPAWN_OP_CONTROL: u64 = 2;

/// Control operation: mmap of the memory file.
pub const CTL_OP_MMAP: u64 = 1;
/// Control operation: munmap.
pub const CTL_OP_MUNMAP: u64 = 2;
/// Control operation: close a descriptor of the stub.
pub const CTL_OP_CLOSE: u64 = 3;

/// Slot: the new thread sets this u32 to 1 (futex word) after writing `SLOT_ACK_VAL`.
pub const SLOT_ACK_FLAG: u64 = 0;
/// Slot: result of the new thread's seccomp() call (its listener fd or -errno).
pub const SLOT_ACK_VAL: u64 = 8;
/// Slot: fs_base saved by the signal handler, restored before sigreturn.
pub const SLOT_FS_BASE: u64 = 16;
/// Slot: gs_base, likewise.
pub const SLOT_GS_BASE: u64 = 24;
/// Slot: initial stack top of a new thread (inside the first page).
pub const SLOT_STACK_TOP: u64 = 0xff0;
/// Slot: the alternate signal stack, where the kernel writes the signal frame.
pub const SLOT_ALTSTACK: u64 = 0x1000;
/// Size of the alternate signal stack.
pub const SLOT_ALTSTACK_SIZE: u64 = SLOT_SIZE - SLOT_ALTSTACK;

/// Descriptor number of the memory file inside every stub.
pub const STUB_MEMFD: i32 = 3;
/// Descriptor number of the stub file inside a stub while it relocates itself.
pub const STUB_SELF_FD: i32 = 4;

/// The syscall a stub thread makes to wake the Sentry (a seccomp user notification).
pub const WAKE_SYSCALL: i64 = libc::SYS_getppid;
/// The signal `interrupt()` sends to a stub thread.
pub const INTERRUPT_SIGNAL: i32 = libc::SIGUSR2;
/// Signals the stub handles; everything else keeps its default action.
pub const HANDLED_SIGNALS: [i32; 7] = [
    libc::SIGSYS,
    libc::SIGSEGV,
    libc::SIGBUS,
    libc::SIGILL,
    libc::SIGFPE,
    libc::SIGTRAP,
    INTERRUPT_SIGNAL,
];
/// Synchronous signals: unblocked in a new thread before its first instruction.
const SYNC_SIGNALS: [i32; 6] = [
    libc::SIGSYS,
    libc::SIGSEGV,
    libc::SIGBUS,
    libc::SIGILL,
    libc::SIGFPE,
    libc::SIGTRAP,
];
/// Signal mask of a new thread until its first return to the application.
pub const START_MASK: u64 = {
    let mut m = u64::MAX;
    let mut i = 0;
    while i < SYNC_SIGNALS.len() {
        m &= !(1u64 << (SYNC_SIGNALS[i] - 1));
        i += 1;
    }
    m
};

/// Address in the stub of a stub-file offset.
pub const fn stub_addr(offset: u64) -> u64 {
    STUB_BASE + offset
}

/// Stub-file offset of slot `slot`.
pub const fn slot_offset(slot: u64) -> u64 {
    RW_OFFSET + slot * SLOT_SIZE
}

/// Clone flags of stub threads; pinned in the filter.
pub const THREAD_CLONE_FLAGS: u64 = (libc::CLONE_VM
    | libc::CLONE_FS
    | libc::CLONE_FILES
    | libc::CLONE_SIGHAND
    | libc::CLONE_THREAD
    | libc::CLONE_SYSVSEM) as u64;
