//! Measures a trapped syscall answered by a trivial handler on every platform this machine
//! offers, and a native syscall for reference.
//!
//! `cargo run --release -p platform --example trap_bench`; the last line is
//! `trap_roundtrip_us=<median> native_us=<median>` (seccomp, the default platform);
//! every platform gets a `<name>_roundtrip_us=` line before it (`kvm_roundtrip_us=` when
//! this host can run the kvm platform, otherwise a note on stderr saying why not).

use std::arch::global_asm;
use std::time::Instant;

use platform::{CpuState, Exit, Prot};

global_asm!(
    ".pushsection .text.rvisor_bench,\"ax\",@progbits",
    ".globl rvisor_bench_loop_start",
    "rvisor_bench_loop_start:",
    "2:",
    "mov eax, 110",
    "syscall",
    "jmp 2b",
    ".globl rvisor_bench_loop_end",
    "rvisor_bench_loop_end:",
    ".popsection",
);

extern "C" {
    static rvisor_bench_loop_start: u8;
    static rvisor_bench_loop_end: u8;
}

const CODE: u64 = 0x40_0000;
const BATCHES: usize = 31;
const PER_BATCH: usize = 2000;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn native_us() -> f64 {
    let per = (0..BATCHES)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..PER_BATCH * 10 {
                // SAFETY: getppid has no arguments and no side effects.
                unsafe { libc::syscall(libc::SYS_getppid) };
            }
            t.elapsed().as_secs_f64() * 1e6 / (PER_BATCH * 10) as f64
        })
        .collect();
    median(per)
}

fn trap_us(p: &dyn platform::Platform) -> f64 {
    let s = &raw const rvisor_bench_loop_start as usize;
    let e = &raw const rvisor_bench_loop_end as usize;
    // SAFETY: the loop's bytes, emitted above into our own text.
    let code = unsafe { std::slice::from_raw_parts(s as *const u8, e - s) };
    let mf = p.memory_file();
    let r = mf.allocate(code.len() as u64).expect("allocate");
    mf.write(r.offset, code).expect("write");
    let aspace = p.new_address_space().expect("address space");
    aspace
        .map(CODE, r.len, r.offset, Prot::READ_EXEC)
        .expect("map");
    let mut ctx = p.new_context().expect("context");
    let mut st = CpuState::default();
    st.regs.rip = CODE;
    st.regs.rflags = 0x202;
    for _ in 0..1000 {
        assert_eq!(ctx.switch(&aspace, &mut st).expect("switch"), Exit::Syscall);
    }
    let per = (0..BATCHES)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..PER_BATCH {
                let exit = ctx.switch(&aspace, &mut st).expect("switch");
                debug_assert_eq!(exit, Exit::Syscall);
                st.regs.rax = 1;
            }
            t.elapsed().as_secs_f64() * 1e6 / PER_BATCH as f64
        })
        .collect();
    median(per)
}

fn main() {
    let mut platforms = platform::all_platforms();
    if !platforms.iter().any(|p| p.name() == "kvm") {
        let kvm = platform::MemoryFile::new("rvisor-bench-memory")
            .and_then(|mf| platform::kvm::KvmPlatform::new(std::sync::Arc::new(mf)));
        match kvm {
            Ok(p) => platforms.push(Box::new(p)),
            Err(e) => eprintln!("kvm platform unavailable: {e}"),
        }
    }
    let mut seccomp = None;
    for p in &platforms {
        let us = trap_us(p.as_ref());
        println!("{}_roundtrip_us={us:.2}", p.name());
        if p.name() == "seccomp" {
            seccomp = Some(us);
        }
    }
    let native = native_us();
    match seccomp {
        Some(us) => println!("trap_roundtrip_us={us:.2} native_us={native:.3}"),
        None => {
            eprintln!(
                "the seccomp platform is unavailable: {:?}",
                platform::available()
            );
            std::process::exit(1);
        }
    }
}
