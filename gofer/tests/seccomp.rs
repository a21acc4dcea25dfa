//! The gofer's seccomp filter: a confined child serves a whole workload, and dies by
//! SIGSYS on anything not on the list.

mod common;

use std::os::fd::AsRawFd;

use common::*;
use gofer::protocol::{Owner, SetAttr, ROOT};
use gofer::seccomp::Mode;
use gofer::{seccomp, Client, Server};

/// Held by the tests whose forked server waits for its client to hang up: a child forked
/// by another test meanwhile would inherit that client's socket and keep it open.
static SERVER_TESTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Forks a child that runs `f` and `_exit`s with its result; the child's pid.
fn spawn_child(f: impl FnOnce() -> i32) -> libc::pid_t {
    // SAFETY: the child only runs `f` (allocation is fork-safe with glibc) and `_exit`s.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork: {}", std::io::Error::last_os_error());
    if pid == 0 {
        let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or(101);
        // SAFETY: ends the child without running the parent's atexit handlers.
        unsafe { libc::_exit(code) };
    }
    pid
}

/// Waits for the child `pid`: its wait status.
fn wait(pid: libc::pid_t) -> i32 {
    let mut status = 0;
    // SAFETY: waits for our own child.
    let r = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(r, pid);
    status
}

fn in_child(f: impl FnOnce() -> i32) -> i32 {
    wait(spawn_child(f))
}

fn killed_by_sigsys(status: i32) -> bool {
    libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == libc::SIGSYS
}

fn exited_ok(status: i32) -> bool {
    libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0
}

#[test]
fn the_lists_are_well_formed() {
    for mode in [Mode::ReadOnly, Mode::Writable] {
        let list = seccomp::allowed(mode);
        let mut names: Vec<&str> = list.iter().map(|a| a.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), list.len(), "{mode:?}: no syscall twice");
        for a in &list {
            if let Ok(s) = libseccomp::ScmpSyscall::from_name(a.name) {
                assert_eq!(i32::from(s), a.nr as i32, "{} has number {}", a.name, a.nr);
            }
        }
        for never in [
            "execve", "socket", "connect", "ptrace", "open", "openat", "mount", "chroot", "mknod",
            "chmod", "fchmodat", "chown", "lchown", "rename", "renameat", "link", "pwrite64",
            "truncate",
        ] {
            assert!(!names.contains(&never), "{mode:?}: {never} is allowed");
        }
        seccomp::build(mode).unwrap();
    }
    // A read-only gofer has no call that changes a file; a writable one adds exactly them.
    let ro: Vec<&str> = seccomp::allowed(Mode::ReadOnly)
        .iter()
        .map(|a| a.name)
        .collect();
    for write in [
        "mkdirat",
        "mknodat",
        "symlinkat",
        "linkat",
        "unlinkat",
        "renameat2",
        "fchownat",
        "fchmodat2",
        "fchmod",
        "ftruncate",
        "utimensat",
        "fsync",
        "fdatasync",
        "fsetxattr",
        "fremovexattr",
    ] {
        assert!(!ro.contains(&write), "read-only gofer allows {write}");
        assert!(
            seccomp::WRITES.iter().any(|a| a.name == write),
            "{write} is not in WRITES"
        );
    }
    assert_eq!(
        seccomp::allowed(Mode::Writable).len(),
        seccomp::READ_ONLY.len() + seccomp::WRITES.len()
    );
}

#[test]
fn a_confined_server_serves_a_full_workload() {
    let _one = SERVER_TESTS.lock().unwrap_or_else(|e| e.into_inner());
    let fx = Fixture::new();
    std::fs::create_dir(fx.root().join("a")).unwrap();
    std::fs::write(fx.root().join("a/f"), b"content").unwrap();
    std::os::unix::fs::symlink("/etc", fx.root().join("ln")).unwrap();
    let root = gofer::open_root(&fx.root()).unwrap();
    let (c, s) = gofer::socketpair().unwrap();
    let client_fd = c.as_raw_fd();
    // The child serves, confined; the parent is the client.
    let pid = spawn_child(move || -> i32 {
        // SAFETY: the child's copy of the client's end; closing it lets the server see the
        // parent hang up.
        unsafe { libc::close(client_fd) };
        let server = match Server::new(root, false) {
            Ok(s) => s,
            Err(_) => return 2,
        };
        if seccomp::install(Mode::Writable).is_err() {
            return 3;
        }
        match server.serve_connection(s) {
            Ok(()) => 0,
            Err(_) => 4,
        }
    });
    workload(Client::new(c));
    let status = wait(pid);
    assert!(exited_ok(status), "confined server: status {status:#x}");
}

fn workload(c: Client) {
    let w = c.walk(ROOT, &[b"a", b"f"]).unwrap();
    let (a, f) = (w.entries[0].0, w.entries[1].0);
    assert_eq!(read_all(c.open(f, libc::O_RDONLY).unwrap()), b"content");
    drop(c.open(f, libc::O_RDWR | libc::O_TRUNC).unwrap());
    let (ln, st) = c.walk(ROOT, &[b"ln"]).unwrap().entries[0];
    assert!(st.is_symlink());
    assert_eq!(c.readlink(ln).unwrap(), b"/etc");
    assert!(c.getdents(a, 0, 4096).unwrap().len() >= 3);
    let (n, _, fd) = c
        .create(a, b"new", libc::O_WRONLY, 0o600, Owner::KEEP)
        .unwrap();
    drop(fd);
    let (d, _) = c.mkdir(a, b"dir", 0o700, Owner { uid: 1, gid: 1 }).unwrap();
    c.mknod(d, b"fifo", libc::S_IFIFO | 0o600, Owner::KEEP)
        .unwrap();
    c.symlink(d, b"sl", b"x", Owner::KEEP).unwrap();
    c.link(d, b"hard", n).unwrap();
    c.rename(a, b"new", d, b"moved", 0).unwrap();
    let st = c
        .setattr(
            n,
            SetAttr {
                mode: Some(0o640),
                uid: Some(7),
                size: Some(3),
                mtime: Some(gofer::protocol::SetTime::Now),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!((st.mode & 0o777, st.uid, st.size), (0o640, 7, 3));
    c.setxattr(n, b"user.k", b"v", 0).unwrap();
    assert_eq!(c.getxattr(n, b"user.k").unwrap(), b"v");
    assert_eq!(c.listxattr(n).unwrap(), vec![b"user.k".to_vec()]);
    c.removexattr(n, b"user.k").unwrap();
    c.statfs(ROOT).unwrap();
    c.fsync(n, false).unwrap();
    c.fsync(d, true).unwrap();
    assert_eq!(
        errno(c.mknod(d, b"dev", libc::S_IFCHR | 0o600, Owner::KEEP)),
        libc::EPERM
    );
    for name in [&b"moved"[..], b"fifo", b"sl", b"hard"] {
        c.unlink(d, name, 0).unwrap();
    }
    c.unlink(a, b"dir", libc::AT_REMOVEDIR).unwrap();
    c.close(&[a, f, ln, n, d]).unwrap();
    // Dropping the client hangs up; the server returns and the child exits 0.
}

fn confined(then: impl FnOnce()) -> i32 {
    confined_as(Mode::Writable, then)
}

fn confined_as(mode: Mode, then: impl FnOnce()) -> i32 {
    in_child(move || {
        if seccomp::install(mode).is_err() {
            return 3;
        }
        then();
        0
    })
}

#[test]
fn a_syscall_off_the_list_kills_the_process() {
    // Allowed calls work under the filter.
    let st = confined(|| {
        let v = vec![1u8; 1 << 20];
        std::hint::black_box(&v);
        // SAFETY: fstat on stdin into a stat we own.
        let mut s: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        unsafe { libc::fstat(0, &mut s) };
    });
    assert!(exited_ok(st), "allowed calls: status {st:#x}");
    let forbidden: Vec<(&str, fn())> = vec![
        ("getppid", call_getppid),
        ("socket", call_socket),
        ("openat", call_open),
        ("execve", call_execve),
        ("mknodat of a device", call_mknod_dev),
        ("fcntl F_DUPFD", call_dupfd),
        ("mmap PROT_EXEC", call_mmap_exec),
        ("write to stdout", call_write_stdout),
        ("renameat2 RENAME_WHITEOUT", call_rename_whiteout),
        ("linkat AT_SYMLINK_FOLLOW", call_link_follow),
        ("fchownat of a path", call_chown_path),
        ("fchmodat2 following a symlink", call_chmod_follow),
        ("utimensat of a path", call_utimes_path),
    ];
    for (what, f) in forbidden {
        let st = confined(f);
        assert!(killed_by_sigsys(st), "{what}: status {st:#x}, not SIGSYS");
    }
}

#[test]
fn a_read_only_gofer_cannot_change_a_host_file() {
    let tmp = TempDir::new();
    let dir = tmp.path().to_path_buf();
    std::fs::write(dir.join("f"), b"keep").unwrap();
    let c = |p: &str| std::ffi::CString::new(dir.join(p).as_os_str().as_encoded_bytes()).unwrap();
    let (f, g) = (c("f"), c("g"));
    // Each of these is allowed to a writable gofer and kills a read-only one before it acts.
    type Call = Box<dyn Fn() + Send>;
    let calls: Vec<(&str, Call)> = vec![
        ("mkdirat", {
            let g = g.clone();
            // SAFETY: a NUL-terminated path.
            Box::new(move || unsafe {
                libc::mkdirat(libc::AT_FDCWD, g.as_ptr(), 0o700);
            })
        }),
        ("unlinkat", {
            let f = f.clone();
            // SAFETY: a NUL-terminated path.
            Box::new(move || unsafe {
                libc::unlinkat(libc::AT_FDCWD, f.as_ptr(), 0);
            })
        }),
        ("renameat2", {
            let (f, g) = (f.clone(), g.clone());
            // SAFETY: NUL-terminated paths.
            Box::new(move || unsafe {
                libc::renameat2(libc::AT_FDCWD, f.as_ptr(), libc::AT_FDCWD, g.as_ptr(), 0);
            })
        }),
        ("symlinkat", {
            let (f, g) = (f.clone(), g.clone());
            // SAFETY: NUL-terminated paths.
            Box::new(move || unsafe {
                libc::symlinkat(f.as_ptr(), libc::AT_FDCWD, g.as_ptr());
            })
        }),
        (
            "ftruncate",
            Box::new(|| {
                // SAFETY: plain integer arguments (stdin; the call never runs).
                unsafe { libc::ftruncate(0, 0) };
            }),
        ),
        (
            "fsync",
            Box::new(|| {
                // SAFETY: a plain integer argument.
                unsafe { libc::fsync(0) };
            }),
        ),
    ];
    for (what, call) in calls {
        let st = confined_as(Mode::ReadOnly, call);
        assert!(killed_by_sigsys(st), "{what}: status {st:#x}, not SIGSYS");
    }
    assert_eq!(std::fs::read(dir.join("f")).unwrap(), b"keep");
    assert!(!dir.join("g").exists());
}

#[test]
fn a_confined_read_only_server_serves_reads_and_answers_erofs() {
    let _one = SERVER_TESTS.lock().unwrap_or_else(|e| e.into_inner());
    let fx = Fixture::new();
    std::fs::create_dir(fx.root().join("a")).unwrap();
    std::fs::write(fx.root().join("a/f"), b"content").unwrap();
    let root = gofer::open_root(&fx.root()).unwrap();
    let (c, s) = gofer::socketpair().unwrap();
    let client_fd = c.as_raw_fd();
    let pid = spawn_child(move || -> i32 {
        // SAFETY: the child's copy of the client's end (see above).
        unsafe { libc::close(client_fd) };
        let server = match Server::new(root, true) {
            Ok(s) => s,
            Err(_) => return 2,
        };
        if seccomp::install(Mode::ReadOnly).is_err() {
            return 3;
        }
        match server.serve_connection(s) {
            Ok(()) => 0,
            Err(_) => 4,
        }
    });
    let c = Client::new(c);
    let w = c.walk(ROOT, &[b"a", b"f"]).unwrap();
    let (a, f) = (w.entries[0].0, w.entries[1].0);
    assert_eq!(read_all(c.open(f, libc::O_RDONLY).unwrap()), b"content");
    assert!(c.getdents(a, 0, 4096).unwrap().len() >= 3);
    c.statfs(ROOT).unwrap();
    c.fsync(f, false).unwrap();
    let rofs = libc::EROFS;
    assert_eq!(errno(c.open(f, libc::O_RDWR | libc::O_TRUNC)), rofs);
    assert_eq!(
        errno(c.create(a, b"n", libc::O_WRONLY, 0o600, Owner::KEEP)),
        rofs
    );
    assert_eq!(errno(c.mkdir(a, b"d", 0o700, Owner::KEEP)), rofs);
    assert_eq!(errno(c.unlink(a, b"f", 0)), rofs);
    assert_eq!(errno(c.rename(a, b"f", a, b"g", 0)), rofs);
    let chmod = SetAttr {
        mode: Some(0o600),
        ..Default::default()
    };
    assert_eq!(errno(c.setattr(f, chmod)), rofs);
    drop(c);
    let status = wait(pid);
    assert!(exited_ok(status), "confined read-only server: {status:#x}");
    assert_eq!(std::fs::read(fx.root().join("a/f")).unwrap(), b"content");
}

fn call_getppid() {
    // SAFETY: no arguments.
    unsafe { libc::getppid() };
}

fn call_socket() {
    // SAFETY: plain integer arguments.
    unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0) };
}

fn call_open() {
    // SAFETY: a NUL-terminated path.
    unsafe { libc::open(c"/etc/passwd".as_ptr(), libc::O_RDONLY) };
}

fn call_execve() {
    let argv = [c"/bin/true".as_ptr(), std::ptr::null()];
    // SAFETY: a NUL-terminated path and a NULL-terminated argv.
    unsafe { libc::execv(c"/bin/true".as_ptr(), argv.as_ptr()) };
}

fn call_mknod_dev() {
    let p = c"/tmp/gofer-never";
    // SAFETY: a NUL-terminated path.
    unsafe { libc::mknodat(libc::AT_FDCWD, p.as_ptr(), libc::S_IFCHR | 0o600, 0) };
}

fn call_dupfd() {
    // SAFETY: plain integer arguments.
    unsafe { libc::fcntl(0, libc::F_DUPFD, 0) };
}

fn call_mmap_exec() {
    let prot = libc::PROT_READ | libc::PROT_EXEC;
    let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS;
    // SAFETY: a fresh anonymous mapping at an address of the kernel's choosing.
    unsafe { libc::mmap(std::ptr::null_mut(), 4096, prot, flags, -1, 0) };
}

fn call_write_stdout() {
    // SAFETY: a valid buffer of the length passed.
    unsafe { libc::write(1, b"x".as_ptr() as *const libc::c_void, 1) };
}

fn call_rename_whiteout() {
    let (a, b) = (c"/tmp/gofer-never-a", c"/tmp/gofer-never-b");
    // SAFETY: NUL-terminated paths.
    unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_WHITEOUT,
        )
    };
}

fn call_link_follow() {
    let (a, b) = (c"/tmp/gofer-never-a", c"/tmp/gofer-never-b");
    // SAFETY: NUL-terminated paths.
    unsafe {
        libc::linkat(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::AT_SYMLINK_FOLLOW,
        )
    };
}

fn call_chown_path() {
    // SAFETY: a NUL-terminated path.
    unsafe { libc::fchownat(libc::AT_FDCWD, c"/tmp/gofer-never".as_ptr(), 0, 0, 0) };
}

fn call_chmod_follow() {
    // SAFETY: a NUL-terminated (empty) path and plain integers.
    unsafe {
        libc::syscall(
            libc::SYS_fchmodat2,
            0,
            c"".as_ptr(),
            0o600,
            libc::AT_EMPTY_PATH,
        )
    };
}

fn call_utimes_path() {
    // SAFETY: a NUL-terminated path; NULL times mean now.
    unsafe {
        libc::utimensat(
            libc::AT_FDCWD,
            c"/tmp/gofer-never".as_ptr(),
            std::ptr::null(),
            0,
        )
    };
}
