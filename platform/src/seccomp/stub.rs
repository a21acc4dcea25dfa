//! The stub's machine code: position-independent, copied into the first page of every
//! stub file, run at `STUB_BASE` in every stub process.
//!
//! Entry points (offsets from `rvisor_stub_start`):
//! - `phase1`: entered once in a freshly forked child with the stub file mapped at a
//!   temporary address (rdi = that address, rsi = the stub file's fd). It unmaps everything
//!   else, maps the stub at `STUB_BASE`, and continues at `phase2` there, which unmaps the
//!   temporary copy, installs the base filter and becomes the spawner loop.
//! - the spawner loop waits (futex on the read-only command page) for spawn requests and
//!   clones the control thread or an application thread.
//! - `handler`: the handler of every signal the stub catches. The kernel has already saved
//!   the full user state in the signal frame on the slot's alternate stack; the handler
//!   records fs/gs base in the slot, wakes the Sentry (seccomp user notification) with
//!   (signo, siginfo, ucontext) as arguments, and on the answer restores fs/gs base and
//!   returns through rt_sigreturn, or exits the thread.
//!
//! No stack is used before phase2, and the control loop keeps everything in registers: it
//! reads its commands only from the read-only command page, so the application (which can
//! write every read-write page of its address space) cannot steer it.

use std::arch::global_asm;

use super::layout::*;

global_asm!(
    ".pushsection .text.rvisor_stub,\"ax\",@progbits",
    ".p2align 12",
    ".globl rvisor_stub_start",
    ".hidden rvisor_stub_start",
    "rvisor_stub_start:",
    // ---------------------------------------------------------------- phase 1 (temporary copy)
    ".globl rvisor_stub_phase1",
    ".hidden rvisor_stub_phase1",
    "rvisor_stub_phase1:",
    "mov r12, rdi",
    "mov r13, rsi",
    // munmap(0, temp)
    "xor edi, edi",
    "mov rsi, r12",
    "mov eax, {SYS_MUNMAP}",
    "syscall",
    "test rax, rax",
    "jnz 90f",
    // munmap(temp + REGION_SIZE, USER_TOP - (temp + REGION_SIZE))
    "mov rdi, r12",
    "mov rax, {REGION_SIZE}",
    "add rdi, rax",
    "mov rsi, {USER_TOP}",
    "sub rsi, rdi",
    "mov eax, {SYS_MUNMAP}",
    "syscall",
    "test rax, rax",
    "jnz 90f",
    // code: mmap(STUB_BASE, CODE_SIZE, R|X, MAP_SHARED|MAP_FIXED, fd, 0)
    "mov rdi, {STUB_BASE}",
    "mov esi, {CODE_SIZE}",
    "mov edx, 5",
    "mov r10d, 0x11",
    "mov r8, r13",
    "xor r9d, r9d",
    "mov eax, {SYS_MMAP}",
    "syscall",
    "cmp rax, rdi",
    "jne 90f",
    // read-only pages
    "mov rdi, {RO_ADDR}",
    "mov esi, {RO_SIZE}",
    "mov edx, 1",
    "mov r10d, 0x11",
    "mov r8, r13",
    "mov r9d, {RO_OFFSET}",
    "mov eax, {SYS_MMAP}",
    "syscall",
    "cmp rax, rdi",
    "jne 90f",
    // read-write slots
    "mov rdi, {RW_ADDR}",
    "mov rsi, {RW_SIZE}",
    "mov edx, 3",
    "mov r10d, 0x11",
    "mov r8, r13",
    "mov r9d, {RW_OFFSET}",
    "mov eax, {SYS_MMAP}",
    "syscall",
    "cmp rax, rdi",
    "jne 90f",
    // continue at phase2 in the final copy
    "lea rax, [rip + 20f]",
    "sub rax, r12",
    "mov rcx, {STUB_BASE}",
    "add rax, rcx",
    "jmp rax",
    "90:",
    "mov edi, 97",
    "mov eax, {SYS_EXIT_GROUP}",
    "syscall",
    "ud2",
    // ---------------------------------------------------------------- phase 2 (at STUB_BASE)
    "20:",
    "mov rdi, r12",
    "mov rsi, {REGION_SIZE}",
    "mov eax, {SYS_MUNMAP}",
    "syscall",
    "mov rdi, r13",
    "mov eax, {SYS_CLOSE}",
    "syscall",
    "mov rsp, {SPAWNER_STACK}",
    // seccomp(SECCOMP_SET_MODE_FILTER, 0, base program)
    "mov edi, 1",
    "xor esi, esi",
    "mov rdx, {PROG_BASE}",
    "mov eax, {SYS_SECCOMP}",
    "syscall",
    "test rax, rax",
    "jnz 91f",
    // ---------------------------------------------------------------- spawner loop
    "xor r15d, r15d", // last sequence number served
    "30:",
    "mov rdi, {SPAWN_SEQ}",
    "xor esi, esi", // FUTEX_WAIT (shared: the page is shared with the Sentry)
    "mov edx, r15d",
    "xor r10d, r10d",
    "mov eax, {SYS_FUTEX}",
    "syscall",
    "mov rdi, {SPAWN_SEQ}",
    "mov eax, dword ptr [rdi]",
    "cmp eax, r15d",
    "je 30b",
    "mov r15d, eax",
    "mov rdi, {SPAWN_SLOT}",
    "mov rbx, qword ptr [rdi]",
    "cmp rbx, {MAX_SLOTS}",
    "jae 30b",
    "mov rdi, {SPAWN_OP}",
    "mov r14, qword ptr [rdi]",
    // r12 = slot base
    "mov r12, rbx",
    "shl r12, 16",
    "mov rax, {RW_ADDR}",
    "add r12, rax",
    // clone(flags, stack, 0, 0, 0)
    "mov edi, {CLONE_FLAGS}",
    "lea rsi, [r12 + {SLOT_STACK_TOP}]",
    "xor edx, edx",
    "xor r10d, r10d",
    "xor r8d, r8d",
    "mov eax, {SYS_CLONE}",
    "syscall",
    "test rax, rax",
    "jz 40f",
    "jns 30b",
    // clone failed: report it in the slot as the seccomp result would be
    "mov qword ptr [r12 + {SLOT_ACK_VAL}], rax",
    "mov dword ptr [r12 + {SLOT_ACK_FLAG}], 1",
    "lea rdi, [r12 + {SLOT_ACK_FLAG}]",
    "mov esi, 1",
    "mov edx, 1",
    "mov eax, {SYS_FUTEX}",
    "syscall",
    "jmp 30b",
    "91:",
    "mov edi, 98",
    "mov eax, {SYS_EXIT_GROUP}",
    "syscall",
    "ud2",
    // ---------------------------------------------------------------- new thread (r12 = slot, r14 = op)
    "40:",
    // sigaltstack({ss_sp, ss_flags = 0, ss_size}, NULL)
    "mov rax, {ALTSTACK_SIZE}",
    "push rax",
    "push 0",
    "lea rax, [r12 + {SLOT_ALTSTACK}]",
    "push rax",
    "mov rdi, rsp",
    "xor esi, esi",
    "mov eax, {SYS_SIGALTSTACK}",
    "syscall",
    "add rsp, 24",
    "test rax, rax",
    "jnz 49f",
    // rt_sigprocmask(SIG_SETMASK, &START_MASK, NULL, 8)
    "mov rax, {START_MASK}",
    "push rax",
    "mov edi, 2",
    "mov rsi, rsp",
    "xor edx, edx",
    "mov r10d, 8",
    "mov eax, {SYS_RT_SIGPROCMASK}",
    "syscall",
    "add rsp, 8",
    "test rax, rax",
    "jnz 49f",
    // seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, program)
    "mov edi, 1",
    "mov esi, 8",
    "mov rdx, {PROG_THREAD}",
    "mov rax, {PROG_CONTROL}",
    "cmp r14, {SPAWN_OP_CONTROL}",
    "cmove rdx, rax",
    "mov eax, {SYS_SECCOMP}",
    "syscall",
    "mov rbx, rax",
    "mov qword ptr [r12 + {SLOT_ACK_VAL}], rax",
    "mov dword ptr [r12 + {SLOT_ACK_FLAG}], 1",
    "lea rdi, [r12 + {SLOT_ACK_FLAG}]",
    "mov esi, 1", // FUTEX_WAKE
    "mov edx, 1",
    "mov eax, {SYS_FUTEX}",
    "syscall",
    "test rbx, rbx",
    "js 49f",
    "cmp r14, {SPAWN_OP_CONTROL}",
    "je 50f",
    // An application thread: SIGILL enters the handler, whose first notification lets the
    // Sentry install the thread's initial state in the frame.
    "ud2",
    "49:",
    "xor edi, edi",
    "mov eax, {SYS_EXIT}",
    "syscall",
    "ud2",
    // ---------------------------------------------------------------- control loop
    // Wake the Sentry with (ops completed, error); on a zero answer run the batch in the
    // command page.
    "50:",
    "xor edi, edi",
    "xor esi, esi",
    "51:",
    "mov eax, {WAKE}",
    "syscall",
    "test rax, rax",
    "jnz 49b",
    "mov rdi, {CTL_NOPS}",
    "mov r14, qword ptr [rdi]",
    "mov rbx, {CTL_OPS}",
    "xor r15d, r15d",
    "mov rsi, -22", // EINVAL for a bad batch
    "cmp r14, {CTL_MAX_OPS}",
    "ja 58f",
    "52:",
    "cmp r15, r14",
    "jae 57f",
    "mov rax, qword ptr [rbx]",
    "cmp rax, {CTL_OP_MMAP}",
    "je 53f",
    "cmp rax, {CTL_OP_MUNMAP}",
    "je 54f",
    "cmp rax, {CTL_OP_CLOSE}",
    "je 55f",
    "mov rsi, -22",
    "jmp 58f",
    "53:",
    "mov rdi, qword ptr [rbx + 8]",
    "mov rsi, qword ptr [rbx + 16]",
    "mov rdx, qword ptr [rbx + 24]",
    "mov r10d, 0x11",
    "mov r8d, {STUB_MEMFD}",
    "mov r9, qword ptr [rbx + 32]",
    "mov eax, {SYS_MMAP}",
    "syscall",
    "cmp rax, rdi",
    "je 56f",
    "mov rsi, rax",
    "jmp 58f",
    "54:",
    "mov rdi, qword ptr [rbx + 8]",
    "mov rsi, qword ptr [rbx + 16]",
    "mov eax, {SYS_MUNMAP}",
    "syscall",
    "test rax, rax",
    "jz 56f",
    "mov rsi, rax",
    "jmp 58f",
    "55:",
    "mov rdi, qword ptr [rbx + 8]",
    "mov eax, {SYS_CLOSE}",
    "syscall",
    "test rax, rax",
    "jz 56f",
    "mov rsi, rax",
    "jmp 58f",
    "56:",
    "add rbx, {CTL_OP_SIZE}",
    "inc r15",
    "jmp 52b",
    "57:",
    "xor esi, esi",
    "58:",
    "mov rdi, r15",
    "jmp 51b",
    // ---------------------------------------------------------------- signal handler
    ".p2align 4",
    ".globl rvisor_stub_handler",
    ".hidden rvisor_stub_handler",
    "rvisor_stub_handler:",
    "mov r12, rsp",
    "and r12, {SLOT_MASK}",
    "rdfsbase rax",
    "mov qword ptr [r12 + {SLOT_FS_BASE}], rax",
    "rdgsbase rax",
    "mov qword ptr [r12 + {SLOT_GS_BASE}], rax",
    "mov eax, {WAKE}",
    "syscall",
    "test rax, rax",
    "jnz 49b",
    "mov rax, qword ptr [r12 + {SLOT_FS_BASE}]",
    "wrfsbase rax",
    "mov rax, qword ptr [r12 + {SLOT_GS_BASE}]",
    "wrgsbase rax",
    "add rsp, 8",
    ".globl rvisor_stub_restorer",
    ".hidden rvisor_stub_restorer",
    "rvisor_stub_restorer:",
    "mov eax, {SYS_RT_SIGRETURN}",
    "syscall",
    "ud2",
    ".globl rvisor_stub_end",
    ".hidden rvisor_stub_end",
    "rvisor_stub_end:",
    ".popsection",
    SYS_MUNMAP = const libc::SYS_munmap,
    SYS_MMAP = const libc::SYS_mmap,
    SYS_CLOSE = const libc::SYS_close,
    SYS_EXIT = const libc::SYS_exit,
    SYS_EXIT_GROUP = const libc::SYS_exit_group,
    SYS_SECCOMP = const libc::SYS_seccomp,
    SYS_FUTEX = const libc::SYS_futex,
    SYS_CLONE = const libc::SYS_clone,
    SYS_SIGALTSTACK = const libc::SYS_sigaltstack,
    SYS_RT_SIGPROCMASK = const libc::SYS_rt_sigprocmask,
    SYS_RT_SIGRETURN = const libc::SYS_rt_sigreturn,
    WAKE = const WAKE_SYSCALL,
    REGION_SIZE = const REGION_SIZE,
    USER_TOP = const USER_TOP,
    STUB_BASE = const STUB_BASE,
    CODE_SIZE = const CODE_SIZE,
    RO_ADDR = const stub_addr(RO_OFFSET),
    RO_SIZE = const RO_SIZE,
    RO_OFFSET = const RO_OFFSET,
    RW_ADDR = const stub_addr(RW_OFFSET),
    RW_SIZE = const RW_SIZE,
    RW_OFFSET = const RW_OFFSET,
    SPAWNER_STACK = const stub_addr(slot_offset(SPAWNER_SLOT) + SLOT_STACK_TOP),
    PROG_BASE = const stub_addr(RO_PROG_BASE),
    PROG_CONTROL = const stub_addr(RO_PROG_CONTROL),
    PROG_THREAD = const stub_addr(RO_PROG_THREAD),
    SPAWN_SEQ = const stub_addr(CMD_SPAWN_SEQ),
    SPAWN_SLOT = const stub_addr(CMD_SPAWN_SLOT),
    SPAWN_OP = const stub_addr(CMD_SPAWN_OP),
    SPAWN_OP_CONTROL = const SPAWN_OP_CONTROL,
    MAX_SLOTS = const MAX_SLOTS,
    CLONE_FLAGS = const THREAD_CLONE_FLAGS,
    SLOT_STACK_TOP = const SLOT_STACK_TOP,
    SLOT_ACK_VAL = const SLOT_ACK_VAL,
    SLOT_ACK_FLAG = const SLOT_ACK_FLAG,
    SLOT_ALTSTACK = const SLOT_ALTSTACK,
    ALTSTACK_SIZE = const SLOT_ALTSTACK_SIZE,
    SLOT_FS_BASE = const SLOT_FS_BASE,
    SLOT_GS_BASE = const SLOT_GS_BASE,
    SLOT_MASK = const -(SLOT_SIZE as i64),
    START_MASK = const START_MASK,
    CTL_NOPS = const stub_addr(CMD_CTL_NOPS),
    CTL_OPS = const stub_addr(CMD_CTL_OPS),
    CTL_MAX_OPS = const CTL_MAX_OPS,
    CTL_OP_SIZE = const CTL_OP_SIZE,
    CTL_OP_MMAP = const CTL_OP_MMAP,
    CTL_OP_MUNMAP = const CTL_OP_MUNMAP,
    CTL_OP_CLOSE = const CTL_OP_CLOSE,
    STUB_MEMFD = const STUB_MEMFD,
);

extern "C" {
    static rvisor_stub_start: u8;
    static rvisor_stub_end: u8;
    static rvisor_stub_phase1: u8;
    static rvisor_stub_handler: u8;
    static rvisor_stub_restorer: u8;
}

/// The stub's code and the offsets of its entry points.
pub struct StubCode {
    /// The bytes, to be copied at offset 0 of every stub file.
    pub bytes: &'static [u8],
    /// Offset of phase 1.
    pub phase1: u64,
    /// Offset of the signal handler.
    pub handler: u64,
    /// Offset of the rt_sigreturn trampoline.
    pub restorer: u64,
}

/// The stub code linked into this binary.
pub fn code() -> StubCode {
    let start = &raw const rvisor_stub_start as usize;
    let end = &raw const rvisor_stub_end as usize;
    let off = |p: *const u8| (p as usize - start) as u64;
    // SAFETY: start..end is the stub's code, emitted contiguously by the global_asm! above
    // into our own text section; it lives as long as the program and is never written.
    let bytes = unsafe { std::slice::from_raw_parts(start as *const u8, end - start) };
    assert!(
        bytes.len() as u64 <= CODE_SIZE,
        "stub code exceeds its page"
    );
    StubCode {
        bytes,
        phase1: off(&raw const rvisor_stub_phase1),
        handler: off(&raw const rvisor_stub_handler),
        restorer: off(&raw const rvisor_stub_restorer),
    }
}
