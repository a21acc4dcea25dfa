//! The application cannot reach the host kernel, the stub, or another address space.

mod common;

use std::path::PathBuf;

use common::*;
use platform::seccomp::{layout, SeccompAddressSpace, SeccompPlatform};
use platform::{Exit, PlatformError, Prot};

const SYS_MKDIR: u64 = 83;
const I386_MKDIR: u64 = 39;

/// A path on the host that exists only if the application managed a host mkdir.
fn escape_path(route: &str) -> PathBuf {
    let p = PathBuf::from(format!("/tmp/rvisor-escape-{}-{route}", std::process::id()));
    let _ = std::fs::remove_dir(&p);
    p
}

/// Maps the path (NUL-terminated) at DATA.
fn map_path(h: &Harness, p: &std::path::Path) {
    let mut b = p.to_str().unwrap().as_bytes().to_vec();
    b.push(0);
    b.resize(4096, 0);
    h.map_bytes(DATA, &b, Prot::READ_WRITE);
}

fn stub_pid(h: &Harness) -> Option<libc::pid_t> {
    h.aspace
        .as_any()
        .downcast_ref::<SeccompAddressSpace>()
        .map(|a| a.stub_pid())
}

#[test]
fn plain_syscall_int80_sysenter_and_vsyscall_never_reach_the_host() {
    each_platform(|p| {
        let mut h = Harness::new(
            p,
            &[0x0f, 0x05, 0x0f, 0x05, 0xcd, 0x80, 0x0f, 0x34, 0x0f, 0x05],
        );
        let path = escape_path("routes");
        map_path(&h, &path);
        // syscall: trapped, the Sentry decides; the stub goes on.
        let mut s = Harness::start_state();
        s.regs.rax = SYS_MKDIR;
        s.regs.rdi = DATA;
        s.regs.rsi = 0o755;
        assert_eq!(h.run(&mut s), Exit::Syscall);
        assert_eq!(s.regs.rax, SYS_MKDIR);
        assert!(!path.exists(), "syscall reached the host");
        s.regs.rax = 0;
        assert_eq!(h.run(&mut s), Exit::Syscall);
        // int 0x80 (i386 mkdir): not a host syscall.
        s.regs.rax = I386_MKDIR;
        s.regs.rbx = DATA;
        s.regs.rcx = 0o755;
        let e = h.ctx.switch(&h.aspace, &mut s);
        eprintln!("int 0x80 -> {e:?}");
        assert!(!path.exists(), "int 0x80 reached the host");
        // sysenter: #UD, or a 32-bit syscall entry that traps.
        s = Harness::start_state();
        s.regs.rip = CODE + 6;
        s.regs.rax = I386_MKDIR;
        s.regs.rbx = DATA;
        s.regs.rcx = 0o755;
        let e = h.ctx.switch(&h.aspace, &mut s);
        eprintln!("sysenter -> {e:?}");
        assert!(!path.exists(), "sysenter reached the host");
        // The legacy vsyscall page (gettimeofday): emulated by the host kernel only if the
        // filter allows it; the buffer must stay untouched.
        s = Harness::start_state();
        s.regs.rip = 0xffff_ffff_ff60_0000;
        s.regs.rdi = DATA + 0x800;
        let e = h.ctx.switch(&h.aspace, &mut s);
        eprintln!("vsyscall -> {e:?}");
        let mut tv = [0u8; 16];
        let off = h.platform.memory_file().size(); // the DATA page is the last allocation
        h.platform
            .memory_file()
            .read(off - 4096 + 0x800, &mut tv)
            .ok();
        assert_eq!(tv, [0u8; 16], "vsyscall gettimeofday ran on the host");
    });
}

#[test]
fn jumping_into_the_stub_code_cannot_make_a_host_syscall() {
    each_platform(|p| {
        if p.name() != "seccomp" {
            return;
        }
        let code = SeccompPlatform::stub_code_bytes();
        let sites: Vec<u64> = (0..code.len() - 1)
            .filter(|&i| code[i] == 0x0f && code[i + 1] == 0x05)
            .map(|i| i as u64)
            .collect();
        assert!(sites.len() > 5, "found the stub's syscall instructions");
        let path = escape_path("stub-jump");
        let mem = p.memory_file().clone();
        let platform: std::sync::Arc<dyn platform::Platform> = std::sync::Arc::from(p);
        for site in sites {
            let aspace = platform.new_address_space().unwrap();
            let r = mem.allocate(4096).unwrap();
            let mut b = path.to_str().unwrap().as_bytes().to_vec();
            b.push(0);
            mem.write(r.offset, &b).unwrap();
            aspace.map(DATA, 4096, r.offset, Prot::READ_WRITE).unwrap();
            let mut ctx = platform.new_context().unwrap();
            for (nr, a0, a1) in [
                (SYS_MKDIR, DATA, 0o755),
                (
                    libc::SYS_munmap as u64,
                    layout::STUB_BASE,
                    layout::REGION_SIZE,
                ),
            ] {
                let mut s = CpuState::default();
                s.regs.rip = layout::STUB_BASE + site;
                s.regs.rax = nr;
                s.regs.rdi = a0;
                s.regs.rsi = a1;
                let e = ctx.switch(&aspace, &mut s);
                eprintln!("site {site:#x} nr {nr}: {e:?}");
                assert!(!path.exists(), "stub site {site:#x} made a host mkdir");
                if e.is_err() {
                    break;
                }
            }
        }
    });
}

use platform::CpuState;

#[test]
fn the_stub_cannot_be_unmapped_remapped_or_written() {
    each_platform(|p| {
        if p.name() != "seccomp" {
            return;
        }
        let mut h = Harness::new(p, &[0x0f, 0x05, 0x0f, 0x05, 0x0f, 0x05]);
        let pid = stub_pid(&h).unwrap();
        let maps = || std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
        let before = maps();
        assert!(
            before.contains("7fff00000000-7fff00001000 r-xs"),
            "{before}"
        );
        let mut s = Harness::start_state();
        // munmap and mmap over the stub, as plain syscalls: trapped, not executed.
        s.regs.rax = libc::SYS_munmap as u64;
        s.regs.rdi = layout::STUB_BASE;
        s.regs.rsi = layout::REGION_SIZE;
        assert_eq!(h.run(&mut s), Exit::Syscall);
        s.regs.rax = libc::SYS_mmap as u64;
        s.regs.rdi = layout::STUB_BASE;
        s.regs.rsi = 4096;
        s.regs.rdx = 7;
        s.regs.r10 = (libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED) as u64;
        assert_eq!(h.run(&mut s), Exit::Syscall);
        assert_eq!(maps(), before);
        // The Sentry refuses to map there itself.
        let r = h.platform.memory_file().allocate(4096).unwrap();
        assert!(matches!(
            h.aspace.map(layout::STUB_BASE, 4096, r.offset, Prot::ALL),
            Err(PlatformError::InvalidArgument(_))
        ));
        assert!(h
            .aspace
            .map(layout::APP_LIMIT - 4096, 8192, r.offset, Prot::ALL)
            .is_err());
        // Writing the code or the read-only pages faults.
        for addr in [layout::STUB_BASE, layout::STUB_BASE + layout::RO_OFFSET] {
            let mut h2 = Harness::new(platform::all_platforms().remove(0), &[0x48, 0x89, 0x07]); // mov [rdi], rax
            let mut s = Harness::start_state();
            s.regs.rdi = addr;
            assert_eq!(
                h2.run(&mut s),
                Exit::Fault {
                    addr,
                    access: platform::Access::Write
                },
                "write to {addr:#x}"
            );
        }
    });
}

#[test]
fn another_address_space_cannot_touch_a_stopped_context() {
    each_platform(|p| {
        if p.name() != "seccomp" {
            return;
        }
        let mut a = Harness::new(p, &[0x0f, 0x05, 0x0f, 0x05]);
        let mut sa = Harness::start_state();
        sa.regs.rax = 39;
        sa.regs.r15 = 0xfeed;
        sa.xsave.set_xmm(3, 0x3333);
        assert_eq!(a.run(&mut sa), Exit::Syscall);
        let saved = sa.clone();
        // An application in another address space overwrites, at the same addresses, the
        // spawner, control and first application slots of its own stub.
        let mut b = Harness::new(platform::all_platforms().remove(0), scribble::bytes());
        let mut sb = Harness::start_state();
        sb.regs.rdi = layout::STUB_BASE + layout::RW_OFFSET;
        sb.regs.rcx = 3 * layout::SLOT_SIZE / 8;
        assert_eq!(b.run(&mut sb), Exit::Syscall);
        assert_eq!(b.run(&mut sb), Exit::Syscall, "b's own stub survives");
        // a is untouched.
        let mut sa2 = saved.clone();
        sa2.regs.rax = 5;
        assert_eq!(a.run(&mut sa2), Exit::Syscall);
        assert_eq!(sa2.regs.r15, 0xfeed);
        assert_eq!(sa2.xsave.xmm(3), 0x3333);
        // b can still start threads and map memory.
        let mut c = b.platform.new_context().unwrap();
        let mut sc = Harness::start_state();
        sc.regs.rdi = DATA;
        sc.regs.rcx = 0;
        assert_eq!(c.switch(&b.aspace, &mut sc).unwrap(), Exit::Syscall);
        b.map_bytes(DATA, &[1], Prot::READ);
    });
}

#[test]
fn a_sibling_corrupting_a_stopped_threads_frame_cannot_break_the_sentry() {
    each_platform(|p| {
        if p.name() != "seccomp" {
            return;
        }
        // Thread 1 stops in a syscall; thread 2 of the same address space overwrites every
        // application slot. Threads of one process share memory, so thread 1 may resume
        // with garbage or be ended, but the Sentry gets an answer, never a hang or a crash.
        let mut h = Harness::new(p, scribble::bytes());
        let mut s1 = Harness::start_state();
        s1.regs.rcx = 0;
        assert_eq!(h.run(&mut s1), Exit::Syscall);
        let mut c2 = h.platform.new_context().unwrap();
        let mut s2 = Harness::start_state();
        s2.regs.rdi =
            layout::STUB_BASE + layout::RW_OFFSET + layout::FIRST_APP_SLOT * layout::SLOT_SIZE;
        s2.regs.rcx = 2 * layout::SLOT_SIZE / 8;
        let e2 = c2.switch(&h.aspace, &mut s2);
        eprintln!("scribbler: {e2:?}");
        let e1 = h.ctx.switch(&h.aspace, &mut s1);
        eprintln!("victim: {e1:?}");
        // The address space still works for the Sentry.
        h.map_bytes(DATA, &[1], Prot::READ);
    });
}

#[test]
fn a_stub_killed_from_outside_is_an_error_not_a_hang() {
    each_platform(|p| {
        if p.name() != "seccomp" {
            return;
        }
        // Killed while the application runs.
        let mut h = Harness::new(p, busy_loop::bytes());
        let pid = stub_pid(&h).unwrap();
        let t = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(20));
            // SAFETY: killing the stub process this test created.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        });
        let mut s = Harness::start_state();
        let e = h.ctx.switch(&h.aspace, &mut s);
        t.join().unwrap();
        assert!(matches!(e, Err(PlatformError::StubDied(_))), "{e:?}");
        assert!(h.ctx.switch(&h.aspace, &mut s).is_err());
        assert!(h.aspace.map(DATA, 4096, 0, Prot::READ).is_err());
        assert!(h
            .platform
            .new_context()
            .unwrap()
            .switch(&h.aspace, &mut s)
            .is_err());

        // Killed while the thread is stopped in the Sentry.
        let mut h = Harness::new(
            platform::all_platforms().remove(0),
            &[0x0f, 0x05, 0x0f, 0x05],
        );
        let mut s = Harness::start_state();
        assert_eq!(h.run(&mut s), Exit::Syscall);
        // SAFETY: killing the stub process this test created.
        unsafe { libc::kill(stub_pid(&h).unwrap(), libc::SIGKILL) };
        assert!(h.ctx.switch(&h.aspace, &mut s).is_err());
    });
}

#[test]
fn the_kvm_stub_tables_and_vcpu_pages_are_out_of_the_applications_reach() {
    use platform::kvm::layout::{kva, vcpu_page, GDT, KERNEL_REGION, KERNEL_VA, STUB_CODE};
    on_platform("kvm", |p| {
        let max = p.max_user_address();
        let mut h = Harness::new(p, &[0x48, 0x8b, 0x07, 0x48, 0x89, 0x07]); // mov rax, [rdi]; mov [rdi], rax
        for addr in [
            kva(STUB_CODE),
            kva(GDT),
            kva(vcpu_page(0)),
            kva(KERNEL_REGION),
        ] {
            let mut s = Harness::start_state();
            s.regs.rdi = addr;
            let read = h.run(&mut s);
            assert_eq!(
                read,
                Exit::Fault {
                    addr,
                    access: platform::Access::Read
                },
                "read of {addr:#x}"
            );
            s.regs.rip = CODE + 3;
            let write = h.run(&mut s);
            assert_eq!(
                write,
                Exit::Fault {
                    addr,
                    access: platform::Access::Write
                },
                "write to {addr:#x}"
            );
        }
        // Jumping into the stub: an instruction fetch the application may not make.
        let mut s = Harness::start_state();
        s.regs.rip = kva(STUB_CODE);
        assert_eq!(
            h.run(&mut s),
            Exit::Fault {
                addr: kva(STUB_CODE),
                access: platform::Access::Execute
            }
        );
        // The Sentry cannot map there either, nor past the user limit.
        let r = h.platform.memory_file().allocate(4096).unwrap();
        for addr in [KERNEL_VA, max, max - 4096 + 8192] {
            assert!(
                matches!(
                    h.aspace.map(addr & !4095, 4096, r.offset, Prot::ALL),
                    Err(PlatformError::InvalidArgument(_))
                ),
                "map at {addr:#x}"
            );
        }
        assert!(h.aspace.map(max - 4096, 8192, r.offset, Prot::ALL).is_err());
        // A return to a non-canonical rip is the application's SIGSEGV, not a platform error.
        let mut s = Harness::start_state();
        s.regs.rip = 1 << 47;
        match h.run(&mut s) {
            Exit::Signal(i) => assert_eq!(i.signo, libc::SIGSEGV),
            e => panic!("non-canonical rip gave {e:?}"),
        }
        // Unmapping the whole user half is quick (empty tables are skipped) and complete.
        let t = std::time::Instant::now();
        h.aspace.unmap(0, max).unwrap();
        assert!(
            t.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            t.elapsed()
        );
        let mut s = Harness::start_state();
        assert_eq!(
            h.run(&mut s),
            Exit::Fault {
                addr: CODE,
                access: platform::Access::Execute
            }
        );
        h.map_bytes(CODE, &[0x48, 0x8b, 0x07], Prot::READ_EXEC);
        // And the context still works afterwards.
        let mut s = Harness::start_state();
        s.regs.rdi = DATA;
        assert_eq!(
            h.run(&mut s),
            Exit::Fault {
                addr: DATA,
                access: platform::Access::Read
            }
        );
    });
}
