//! The gofer's seccomp filter: a confined child serves a whole workload, and dies by
//! SIGSYS on anything not on the list.

mod common;

use std::os::fd::AsRawFd;

use common::*;
use gofer::protocol::{Owner, SetAttr, ROOT};
use gofer::{seccomp, Client, Server};

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
fn the_list_is_well_formed() {
    let list = seccomp::allowed();
    let mut names: Vec<&str> = list.iter().map(|a| a.name).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), list.len(), "no syscall twice");
    for a in list {
        if let Ok(s) = libseccomp::ScmpSyscall::from_name(a.name) {
            assert_eq!(i32::from(s), a.nr as i32, "{} has number {}", a.name, a.nr);
        }
    }
    for never in [
        "execve", "socket", "connect", "ptrace", "open", "openat", "mount", "chroot",
    ] {
        assert!(!names.contains(&never), "{never} is allowed");
    }
    seccomp::build().unwrap();
}

#[test]
fn a_confined_server_serves_a_full_workload() {
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
        if seccomp::install().is_err() {
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
    in_child(move || {
        if seccomp::install().is_err() {
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
    ];
    for (what, f) in forbidden {
        let st = confined(f);
        assert!(killed_by_sigsys(st), "{what}: status {st:#x}, not SIGSYS");
    }
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
