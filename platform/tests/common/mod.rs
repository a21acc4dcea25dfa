//! Shared pieces of the platform conformance tests: test programs (hand-written machine
//! code, position independent) and a harness that maps them into an address space.
#![allow(dead_code)]

use std::sync::Arc;

use platform::{AddressSpace, Context, CpuState, Exit, Platform, Prot};

/// Where test code is mapped.
pub const CODE: u64 = 0x40_0000;
/// Where the test stack is mapped (grows down from `STACK + STACK_LEN`).
pub const STACK: u64 = 0x7000_0000;
pub const STACK_LEN: u64 = 0x10000;
/// A data page tests use.
pub const DATA: u64 = 0x6000_0000;

macro_rules! program {
    ($name:ident, $($asm:tt)*) => {
        pub mod $name {
            std::arch::global_asm!(
                concat!(".pushsection .text.rvisor_test_", stringify!($name), ",\"ax\",@progbits"),
                concat!(".globl rvisor_test_", stringify!($name), "_start"),
                concat!("rvisor_test_", stringify!($name), "_start:"),
                $($asm)*,
                concat!(".globl rvisor_test_", stringify!($name), "_end"),
                concat!("rvisor_test_", stringify!($name), "_end:"),
                ".popsection",
            );
            /// The program's bytes.
            pub fn bytes() -> &'static [u8] {
                unsafe extern "C" {
                    #[link_name = concat!("rvisor_test_", stringify!($name), "_start")]
                    static START: u8;
                    #[link_name = concat!("rvisor_test_", stringify!($name), "_end")]
                    static END: u8;
                }
                let s = &raw const START as usize;
                let e = &raw const END as usize;
                // SAFETY: START..END is the program emitted above in our own text.
                unsafe { std::slice::from_raw_parts(s as *const u8, e - s) }
            }
        }
    };
}

// getpid(rdi=11, rsi=22, rdx=33, r10=44, r8=55, r9=66); rbx = result; exit(rbx)
program!(
    args_and_return,
    "mov eax, 39",
    "mov edi, 11",
    "mov esi, 22",
    "mov edx, 33",
    "mov r10d, 44",
    "mov r8d, 55",
    "mov r9d, 66",
    "mov r12, 0x1234567890",
    "syscall",
    "mov rbx, rax",
    "mov eax, 60",
    "mov rdi, rbx",
    "syscall",
    "ud2"
);

// Reads then writes DATA, then exits.
program!(
    touch_data,
    "mov rdi, 0x60000000",
    "mov rax, qword ptr [rdi]",
    "mov qword ptr [rdi + 8], 77",
    "mov eax, 60",
    "syscall",
    "ud2"
);

// Jumps to DATA (execute fault).
program!(exec_data, "mov rax, 0x60000000", "jmp rax");

// int3, then ud2, then divide by zero.
program!(raise_signals, "int3", "ud2");

// Loops forever without syscalls.
program!(busy_loop, "2:", "inc rax", "jmp 2b");

// Loops forever making getppid syscalls (the trap benchmark).
program!(syscall_loop, "2:", "mov eax, 110", "syscall", "jmp 2b");

// ymm_i = broadcast(rdi * (i + 1)) for i in 0..16; getpid; store ymm0..15 at DATA; exit.
program!(
    fpu_survives,
    "vpbroadcastq ymm0, rdi",
    "vpaddq ymm1, ymm0, ymm0",
    "vpaddq ymm2, ymm1, ymm0",
    "vpaddq ymm3, ymm2, ymm0",
    "vpaddq ymm4, ymm3, ymm0",
    "vpaddq ymm5, ymm4, ymm0",
    "vpaddq ymm6, ymm5, ymm0",
    "vpaddq ymm7, ymm6, ymm0",
    "vpaddq ymm8, ymm7, ymm0",
    "vpaddq ymm9, ymm8, ymm0",
    "vpaddq ymm10, ymm9, ymm0",
    "vpaddq ymm11, ymm10, ymm0",
    "vpaddq ymm12, ymm11, ymm0",
    "vpaddq ymm13, ymm12, ymm0",
    "vpaddq ymm14, ymm13, ymm0",
    "vpaddq ymm15, ymm14, ymm0",
    "mov eax, 39",
    "syscall",
    "mov rdi, 0x60000000",
    "vmovdqu [rdi], ymm0",
    "vmovdqu [rdi + 32], ymm1",
    "vmovdqu [rdi + 64], ymm2",
    "vmovdqu [rdi + 96], ymm3",
    "vmovdqu [rdi + 128], ymm4",
    "vmovdqu [rdi + 160], ymm5",
    "vmovdqu [rdi + 192], ymm6",
    "vmovdqu [rdi + 224], ymm7",
    "vmovdqu [rdi + 256], ymm8",
    "vmovdqu [rdi + 288], ymm9",
    "vmovdqu [rdi + 320], ymm10",
    "vmovdqu [rdi + 352], ymm11",
    "vmovdqu [rdi + 384], ymm12",
    "vmovdqu [rdi + 416], ymm13",
    "vmovdqu [rdi + 448], ymm14",
    "vmovdqu [rdi + 480], ymm15",
    "mov eax, 60",
    "syscall",
    "ud2"
);

// Loops: getpid with rdi = r12 (the thread's tag), adding the answer into r13.
program!(
    tagged_loop,
    "2:",
    "mov eax, 39",
    "mov rdi, r12",
    "syscall",
    "add r13, rax",
    "jmp 2b"
);

// Adds 1 to the u64 at DATA, then makes syscall 1000 with rdi = the new value; repeats.
program!(
    shared_counter,
    "mov rbx, 0x60000000",
    "2:",
    "mov rax, qword ptr [rbx]",
    "inc rax",
    "mov qword ptr [rbx], rax",
    "mov rdi, rax",
    "mov eax, 1000",
    "syscall",
    "jmp 2b"
);

// Fills rcx quadwords at rdi with all-ones, then makes syscall 39; repeats the syscall.
program!(
    scribble,
    "mov rax, -1",
    "rep stosq",
    "2:",
    "mov eax, 39",
    "syscall",
    "jmp 2b"
);

// Loads the u64 at DATA forever.
program!(
    read_loop,
    "mov rdi, 0x60000000",
    "2:",
    "mov rax, qword ptr [rdi]",
    "jmp 2b"
);

// Stores rbx to DATA forever.
program!(
    write_loop,
    "mov rdi, 0x60000000",
    "2:",
    "mov qword ptr [rdi], rbx",
    "jmp 2b"
);

// getpid with rdi = the u64 at DATA; repeats.
program!(
    report_data,
    "2:",
    "mov rdi, 0x60000000",
    "mov rdi, qword ptr [rdi]",
    "mov eax, 39",
    "syscall",
    "jmp 2b"
);

pub struct Harness {
    pub platform: Box<dyn Platform>,
    pub aspace: Arc<dyn AddressSpace>,
    pub ctx: Box<dyn Context>,
}

impl Harness {
    /// A fresh address space on `platform` with `code` mapped at `CODE` and a stack.
    pub fn new(platform: Box<dyn Platform>, code: &[u8]) -> Harness {
        let aspace = platform.new_address_space().expect("address space");
        let ctx = platform.new_context().expect("context");
        let h = Harness {
            platform,
            aspace,
            ctx,
        };
        h.map_bytes(CODE, code, Prot::READ_EXEC);
        let st = h.platform.memory_file().allocate(STACK_LEN).unwrap();
        h.aspace
            .map(STACK, STACK_LEN, st.offset, Prot::READ_WRITE)
            .unwrap();
        h
    }

    /// Allocates memory-file pages holding `bytes`, maps them at `addr`; returns the file offset.
    pub fn map_bytes(&self, addr: u64, bytes: &[u8], prot: Prot) -> u64 {
        let r = self
            .platform
            .memory_file()
            .allocate(bytes.len().max(1) as u64)
            .unwrap();
        self.platform.memory_file().write(r.offset, bytes).unwrap();
        self.aspace.map(addr, r.len, r.offset, prot).unwrap();
        r.offset
    }

    /// Initial state: rip at `CODE`, rsp at the stack top.
    pub fn start_state() -> CpuState {
        let mut s = CpuState::default();
        s.regs.rip = CODE;
        s.regs.rsp = STACK + STACK_LEN - 64;
        s.regs.rflags = 0x202;
        s
    }

    pub fn run(&mut self, s: &mut CpuState) -> Exit {
        self.ctx.switch(&self.aspace, s).expect("switch")
    }
}

/// Every platform, by name.
pub const PLATFORMS: [&str; 2] = ["seccomp", "kvm"];

/// A fresh instance of platform `name` over its own memory file, or why this host cannot
/// run it.
pub fn make_platform(name: &str) -> Result<Box<dyn Platform>, String> {
    let mf = Arc::new(platform::MemoryFile::new("rvisor-test-memory").map_err(|e| e.to_string())?);
    match name {
        "seccomp" => platform::seccomp::SeccompPlatform::new(mf)
            .map(|p| Box::new(p) as Box<dyn Platform>)
            .map_err(|e| e.to_string()),
        "kvm" => platform::kvm::KvmPlatform::new(mf)
            .map(|p| Box::new(p) as Box<dyn Platform>)
            .map_err(|e| e.to_string()),
        _ => Err(format!("no platform named {name}")),
    }
}

/// Whether `RVISOR_REQUIRE_PLATFORMS` (comma-separated names) makes `name` mandatory.
fn required(name: &str) -> bool {
    std::env::var("RVISOR_REQUIRE_PLATFORMS")
        .map(|v| v.split(',').any(|n| n.trim() == name))
        .unwrap_or(false)
}

/// Runs `f` on platform `name`, printing its name; returns false (after saying why) when
/// this host cannot run it and it is not required.
pub fn on_platform(name: &str, f: impl FnOnce(Box<dyn Platform>)) -> bool {
    match make_platform(name) {
        Ok(p) => {
            eprintln!("platform: {name}");
            f(p);
            true
        }
        Err(why) if !required(name) => {
            eprintln!("platform: {name}: skipped, unavailable: {why}");
            false
        }
        Err(why) => panic!("platform {name} is required but unavailable: {why}"),
    }
}

/// Runs `f` on every platform this machine offers, printing each one's name.
pub fn each_platform(mut f: impl FnMut(Box<dyn Platform>)) {
    let ran = PLATFORMS
        .iter()
        .filter(|name| on_platform(name, &mut f))
        .count();
    assert!(
        ran > 0,
        "no platform available: {:?}",
        platform::available()
    );
}

/// Declares each named test function (`fn(Box<dyn Platform>)`) once per platform, as
/// `seccomp::NAME` and `kvm::NAME`.
#[macro_export]
macro_rules! conformance_tests {
    ($($name:ident),* $(,)?) => {
        mod seccomp {
            $(#[test]
            fn $name() {
                $crate::common::on_platform("seccomp", super::$name);
            })*
        }
        mod kvm {
            $(#[test]
            fn $name() {
                $crate::common::on_platform("kvm", super::$name);
            })*
        }
    };
}
