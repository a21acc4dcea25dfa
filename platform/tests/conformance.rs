//! Platform conformance tests: every platform must pass them. Each test runs once per
//! platform, as `seccomp::NAME` and `kvm::NAME`; a platform this host cannot run is skipped
//! with its reason (set `RVISOR_REQUIRE_PLATFORMS=seccomp,kvm` to make that a failure).

mod common;

use common::*;
use platform::{Access, Exit, Platform, Prot};

fn syscall_is_trapped_with_arguments_and_return_value(p: Box<dyn Platform>) {
    let mut h = Harness::new(p, args_and_return::bytes());
    let mut s = Harness::start_state();
    assert_eq!(h.run(&mut s), Exit::Syscall);
    assert_eq!(s.regs.rax, 39);
    assert_eq!(s.regs.syscall_args(), [11, 22, 33, 44, 55, 66]);
    assert_eq!(s.regs.r12, 0x1234567890);
    s.regs.rax = 0xabcdef;
    s.regs.r12 = 7; // the Sentry may rewrite any register
    assert_eq!(h.run(&mut s), Exit::Syscall);
    assert_eq!(s.regs.rax, 60);
    assert_eq!(s.regs.rdi, 0xabcdef);
    assert_eq!(s.regs.rbx, 0xabcdef);
    assert_eq!(s.regs.r12, 7);
}

fn unmapped_access_faults_with_address_and_kind_then_succeeds_after_map(p: Box<dyn Platform>) {
    let mut h = Harness::new(p, touch_data::bytes());
    let mut s = Harness::start_state();
    // Nothing at DATA: the read faults.
    assert_eq!(
        h.run(&mut s),
        Exit::Fault {
            addr: DATA,
            access: Access::Read
        }
    );
    // `mov rdi, imm32` is 7 bytes; the load after it faulted and was not executed.
    assert_eq!(
        s.regs.rip,
        CODE + 7,
        "rip stays on the faulting instruction"
    );
    // Read-only: the read passes, the write faults.
    let r = h.platform.memory_file().allocate(4096).unwrap();
    h.platform
        .memory_file()
        .write(r.offset, &42u64.to_le_bytes())
        .unwrap();
    h.aspace.map(DATA, 4096, r.offset, Prot::READ).unwrap();
    assert_eq!(
        h.run(&mut s),
        Exit::Fault {
            addr: DATA + 8,
            access: Access::Write
        }
    );
    assert_eq!(s.regs.rax, 42);
    // Writable: it completes and exits.
    h.aspace
        .map(DATA, 4096, r.offset, Prot::READ_WRITE)
        .unwrap();
    assert_eq!(h.run(&mut s), Exit::Syscall);
    assert_eq!(s.regs.rax, 60);
    let mut b = [0u8; 8];
    h.platform.memory_file().read(r.offset + 8, &mut b).unwrap();
    assert_eq!(u64::from_le_bytes(b), 77);
    // Unmapped again: the same read faults again.
    h.aspace.unmap(DATA, 4096).unwrap();
    s.regs.rip = CODE;
    assert_eq!(
        h.run(&mut s),
        Exit::Fault {
            addr: DATA,
            access: Access::Read
        }
    );
}

fn instruction_fetch_from_non_executable_memory_faults_as_execute(p: Box<dyn Platform>) {
    let mut h = Harness::new(p, exec_data::bytes());
    let mut s = Harness::start_state();
    assert_eq!(
        h.run(&mut s),
        Exit::Fault {
            addr: DATA,
            access: Access::Execute
        }
    );
    h.map_bytes(DATA, &[0xc3], Prot::READ_WRITE);
    assert_eq!(
        h.run(&mut s),
        Exit::Fault {
            addr: DATA,
            access: Access::Execute
        }
    );
    assert_eq!(s.regs.rip, DATA);
}

fn synchronous_signals_are_reported(p: Box<dyn Platform>) {
    let mut h = Harness::new(p, raise_signals::bytes());
    let mut s = Harness::start_state();
    match h.run(&mut s) {
        Exit::Signal(i) => assert_eq!(i.signo, libc::SIGTRAP),
        e => panic!("int3 gave {e:?}"),
    }
    assert_eq!(s.regs.rip, CODE + 1);
    match h.run(&mut s) {
        Exit::Signal(i) => assert_eq!((i.signo, i.addr), (libc::SIGILL, CODE + 1)),
        e => panic!("ud2 gave {e:?}"),
    }
}

fn fpu_sse_avx_registers_survive_a_trap_and_can_be_rewritten(p: Box<dyn Platform>) {
    let mut h = Harness::new(p, fpu_survives::bytes());
    let data = h.platform.memory_file().allocate(4096).unwrap();
    h.aspace
        .map(DATA, 4096, data.offset, Prot::READ_WRITE)
        .unwrap();
    let mut s = Harness::start_state();
    let pat: u64 = 0x0101_0203_0405_0607;
    s.regs.rdi = pat;
    assert_eq!(h.run(&mut s), Exit::Syscall);
    assert_eq!(s.regs.rax, 39);
    for i in 0..16 {
        let v = pat.wrapping_mul(i as u64 + 1) as u128;
        let lane = v | (v << 64);
        assert_eq!(s.xsave.xmm(i), lane, "xmm{i} as the Sentry sees it");
        assert_eq!(
            s.xsave.ymm_high(i),
            lane,
            "ymm{i} high as the Sentry sees it"
        );
    }
    s.xsave.set_xmm(5, 0x5555);
    assert_eq!(h.run(&mut s), Exit::Syscall);
    assert_eq!(s.regs.rax, 60);
    let mut out = [0u8; 512];
    h.platform
        .memory_file()
        .read(data.offset, &mut out)
        .unwrap();
    for i in 0..16 {
        let v = pat.wrapping_mul(i as u64 + 1) as u128;
        let lane = v | (v << 64);
        let lo = u128::from_le_bytes(out[32 * i..32 * i + 16].try_into().unwrap());
        let hi = u128::from_le_bytes(out[32 * i + 16..32 * i + 32].try_into().unwrap());
        let want_lo = if i == 5 { 0x5555 } else { lane };
        assert_eq!(
            (lo, hi),
            (want_lo, lane),
            "ymm{i} as the application sees it"
        );
    }
}

fn two_threads_in_one_address_space(p: Box<dyn Platform>) {
    let h = Harness::new(p, tagged_loop::bytes());
    let mut second = h.platform.new_context().unwrap();
    let Harness {
        platform: _p,
        aspace,
        mut ctx,
    } = h;
    let a2 = aspace.clone();
    let run = |ctx: &mut Box<dyn platform::Context>,
               aspace: &std::sync::Arc<dyn platform::AddressSpace>,
               tag: u64| {
        let mut s = Harness::start_state();
        s.regs.r12 = tag;
        for i in 1..=2000u64 {
            assert_eq!(ctx.switch(aspace, &mut s).unwrap(), Exit::Syscall);
            assert_eq!((s.regs.rax, s.regs.rdi), (39, tag));
            assert_eq!(s.regs.r13, (i - 1) * tag);
            s.regs.rax = tag;
        }
    };
    let t = std::thread::spawn(move || run(&mut second, &a2, 2));
    run(&mut ctx, &aspace, 1);
    t.join().unwrap();
}

fn threads_share_memory_and_address_spaces_share_memory_file_pages(p: Box<dyn Platform>) {
    let mut h = Harness::new(p, shared_counter::bytes());
    let page = h.platform.memory_file().allocate(4096).unwrap();
    h.aspace
        .map(DATA, 4096, page.offset, Prot::READ_WRITE)
        .unwrap();
    // A second address space with the same code and the same data page.
    let other = h.platform.new_address_space().unwrap();
    let code = h.platform.memory_file().allocate(4096).unwrap();
    h.platform
        .memory_file()
        .write(code.offset, shared_counter::bytes())
        .unwrap();
    other.map(CODE, 4096, code.offset, Prot::READ_EXEC).unwrap();
    other
        .map(DATA, 4096, page.offset, Prot::READ_WRITE)
        .unwrap();
    let mut ctx2 = h.platform.new_context().unwrap();
    let mut s1 = Harness::start_state();
    let mut s2 = Harness::start_state();
    let mut expect = 1;
    for _ in 0..100 {
        assert_eq!(h.run(&mut s1), Exit::Syscall);
        assert_eq!(s1.regs.rdi, expect);
        expect += 1;
        assert_eq!(ctx2.switch(&other, &mut s2).unwrap(), Exit::Syscall);
        assert_eq!(s2.regs.rdi, expect);
        expect += 1;
    }
    let mut b = [0u8; 8];
    h.platform.memory_file().read(page.offset, &mut b).unwrap();
    assert_eq!(
        u64::from_le_bytes(b),
        expect - 1,
        "the Sentry sees the same page"
    );
}

fn interrupt_stops_a_busy_loop_promptly(p: Box<dyn Platform>) {
    let mut h = Harness::new(p, busy_loop::bytes());
    let mut s = Harness::start_state();
    // Before the switch: the next switch returns at once.
    h.ctx.interrupter().interrupt();
    assert_eq!(h.run(&mut s), Exit::Interrupted);
    for round in 0..5 {
        let irq = h.ctx.interrupter();
        let fired = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let f = fired.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(20));
            let at = std::time::Instant::now();
            // Marked before it is sent: a switch that returns after the mark may have been
            // ended by this interrupt (its signal can merge with a stale one still pending).
            f.store(true, std::sync::atomic::Ordering::SeqCst);
            irq.interrupt();
            at
        });
        let mut exit = h.run(&mut s);
        // A stale interrupt from the round before may end a switch early; run on.
        while exit == Exit::Interrupted && !fired.load(std::sync::atomic::Ordering::SeqCst) {
            exit = h.run(&mut s);
        }
        let sent = t.join().unwrap();
        if exit != Exit::Interrupted {
            panic!("busy loop ended with {exit:?}");
        }
        eprintln!(
            "round {round}: interrupted {:?} after interrupt()",
            sent.elapsed()
        );
        assert!(s.regs.rip >= CODE && s.regs.rip < CODE + busy_loop::bytes().len() as u64);
    }
}

fn contexts_come_and_go_concurrently_in_one_address_space(p: Box<dyn Platform>) {
    let h = Harness::new(p, tagged_loop::bytes());
    let platform: std::sync::Arc<dyn platform::Platform> = std::sync::Arc::from(h.platform);
    let aspace = h.aspace.clone();
    let workers: Vec<_> = (0..3u64)
        .map(|w| {
            let (p, a) = (platform.clone(), aspace.clone());
            std::thread::spawn(move || {
                for i in 0..40 {
                    let mut ctx = p.new_context().unwrap();
                    let mut s = Harness::start_state();
                    s.regs.r12 = w * 1000 + i;
                    assert_eq!(ctx.switch(&a, &mut s).unwrap(), Exit::Syscall);
                    assert_eq!(s.regs.rdi, w * 1000 + i);
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
}

fn cpu_time_of_an_address_space_grows_while_it_runs(p: Box<dyn Platform>) {
    let mut h = Harness::new(p, busy_loop::bytes());
    let Some(before) = h.aspace.cpu_time() else {
        eprintln!("platform {} does not report CPU time", h.platform.name());
        return;
    };
    let irq = h.ctx.interrupter();
    let t = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(50));
        irq.interrupt();
    });
    let mut s = Harness::start_state();
    while h.run(&mut s) == Exit::Interrupted && !t.is_finished() {}
    t.join().unwrap();
    let after = h.aspace.cpu_time().unwrap();
    assert!(after > before, "{before:?} -> {after:?}");
}

fn cpu_time_counts_a_run_still_going(p: Box<dyn Platform>) {
    let h = Harness::new(p, busy_loop::bytes());
    let aspace = h.aspace.clone();
    let Some(before) = aspace.cpu_time() else {
        eprintln!("platform {} does not report CPU time", h.platform.name());
        return;
    };
    let irq = h.ctx.interrupter();
    let bg = run_in_background(h, Harness::start_state());
    // The loop never leaves application code by itself: what is counted is the run so far
    // (interval timers on CPU time depend on it).
    let mut during = before;
    while during <= before {
        std::thread::sleep(std::time::Duration::from_millis(10));
        during = aspace.cpu_time().unwrap();
        assert!(!bg.is_finished(), "the busy loop left application code");
    }
    irq.interrupt();
    let (_h, exit) = bg.join().unwrap();
    assert_eq!(exit, Exit::Interrupted);
    assert!(aspace.cpu_time().unwrap() >= during);
}

fn interrupts_racing_syscalls_lose_nothing(p: Box<dyn Platform>) {
    let mut h = Harness::new(p, syscall_loop::bytes());
    let irq = h.ctx.interrupter();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let st = stop.clone();
    let kicker = std::thread::spawn(move || {
        // Often, but with room between: an interrupt pending when a switch begins ends it
        // at once, and a switch needs a moment to reach application code.
        while !st.load(std::sync::atomic::Ordering::SeqCst) {
            irq.interrupt();
            std::thread::sleep(std::time::Duration::from_micros(150));
        }
    });
    let mut s = Harness::start_state();
    let code = CODE..CODE + syscall_loop::bytes().len() as u64;
    let (mut syscalls, mut interrupts) = (0, 0);
    while syscalls < 2000 {
        match h.run(&mut s) {
            Exit::Syscall => {
                assert_eq!(s.regs.rax, 110, "getppid");
                assert!(
                    code.contains(&s.regs.rip),
                    "rip {:#x} after a syscall",
                    s.regs.rip
                );
                s.regs.rax = 7;
                syscalls += 1;
            }
            // Wherever the interrupt landed, the state is the application's own.
            Exit::Interrupted => {
                assert!(
                    code.contains(&s.regs.rip),
                    "rip {:#x} after an interrupt",
                    s.regs.rip
                );
                interrupts += 1;
            }
            other => panic!("after {syscalls} syscalls and {interrupts} interrupts: {other:?}"),
        }
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    kicker.join().unwrap();
    eprintln!("{syscalls} syscalls, {interrupts} interrupts");
}

/// Runs `h`'s context on another thread until it leaves application code; returns the exit.
fn run_in_background(
    h: Harness,
    s: platform::CpuState,
) -> std::thread::JoinHandle<(Harness, platform::Exit)> {
    std::thread::spawn(move || {
        let mut h = h;
        let mut s = s;
        let e = h.run(&mut s);
        (h, e)
    })
}

/// Waits at most `secs` for `t`; panics (naming `what`) if it is still running then.
fn join_within<T>(t: std::thread::JoinHandle<T>, secs: u64, what: &str) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while !t.is_finished() {
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: still running"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    t.join().unwrap()
}

fn unmap_stops_a_thread_that_is_reading_the_page(p: Box<dyn Platform>) {
    let h = Harness::new(p, read_loop::bytes());
    h.map_bytes(DATA, &7u64.to_le_bytes(), Prot::READ_WRITE);
    let aspace = h.aspace.clone();
    let t = run_in_background(h, Harness::start_state());
    std::thread::sleep(std::time::Duration::from_millis(30));
    assert!(!t.is_finished(), "the loop runs");
    aspace.unmap(DATA, 4096).unwrap();
    let (_h, e) = join_within(t, 10, "reader after unmap");
    assert_eq!(
        e,
        Exit::Fault {
            addr: DATA,
            access: Access::Read
        }
    );
}

fn narrowing_a_mapping_stops_a_thread_that_is_writing_it(p: Box<dyn Platform>) {
    let h = Harness::new(p, write_loop::bytes());
    let off = h.map_bytes(DATA, &[0; 8], Prot::READ_WRITE);
    let (aspace, mf) = (h.aspace.clone(), h.platform.memory_file().clone());
    let mut s = Harness::start_state();
    s.regs.rbx = 0x5151;
    let t = run_in_background(h, s);
    std::thread::sleep(std::time::Duration::from_millis(30));
    aspace.map(DATA, 4096, off, Prot::READ).unwrap();
    // Whatever the thread stores from now on faults: the value stays put.
    mf.write(off, &[0; 8]).unwrap();
    let (_h, e) = join_within(t, 10, "writer after narrowing");
    assert_eq!(
        e,
        Exit::Fault {
            addr: DATA,
            access: Access::Write
        }
    );
    let mut b = [1u8; 8];
    mf.read(off, &mut b).unwrap();
    assert_eq!(b, [0; 8], "no store landed after map returned");
}

fn address_spaces_come_and_go_without_seeing_each_others_pages(p: Box<dyn Platform>) {
    let platform: std::sync::Arc<dyn Platform> = std::sync::Arc::from(p);
    let mf = platform.memory_file().clone();
    let code = mf.allocate(4096).unwrap();
    mf.write(code.offset, report_data::bytes()).unwrap();
    let mut ctx = platform.new_context().unwrap();
    for round in 0..40u64 {
        let aspace = platform.new_address_space().unwrap();
        aspace
            .map(CODE, 4096, code.offset, Prot::READ_EXEC)
            .unwrap();
        let mut s = Harness::start_state();
        if round % 2 == 0 {
            // Nothing at DATA in this one, whatever the one before had there.
            assert_eq!(
                ctx.switch(&aspace, &mut s).unwrap(),
                Exit::Fault {
                    addr: DATA,
                    access: Access::Read
                },
                "round {round}"
            );
            continue;
        }
        let page = mf.allocate(4096).unwrap();
        mf.write(page.offset, &round.to_le_bytes()).unwrap();
        aspace.map(DATA, 4096, page.offset, Prot::READ).unwrap();
        for _ in 0..3 {
            assert_eq!(ctx.switch(&aspace, &mut s).unwrap(), Exit::Syscall);
            assert_eq!(s.regs.rdi, round, "round {round}");
        }
        mf.free(page);
    }
}

conformance_tests!(
    syscall_is_trapped_with_arguments_and_return_value,
    unmapped_access_faults_with_address_and_kind_then_succeeds_after_map,
    instruction_fetch_from_non_executable_memory_faults_as_execute,
    synchronous_signals_are_reported,
    fpu_sse_avx_registers_survive_a_trap_and_can_be_rewritten,
    two_threads_in_one_address_space,
    threads_share_memory_and_address_spaces_share_memory_file_pages,
    interrupt_stops_a_busy_loop_promptly,
    contexts_come_and_go_concurrently_in_one_address_space,
    cpu_time_of_an_address_space_grows_while_it_runs,
    unmap_stops_a_thread_that_is_reading_the_page,
    narrowing_a_mapping_stops_a_thread_that_is_writing_it,
    address_spaces_come_and_go_without_seeing_each_others_pages,
    cpu_time_counts_a_run_still_going,
    interrupts_racing_syscalls_lose_nothing,
);
