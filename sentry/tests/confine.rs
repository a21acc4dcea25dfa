//! The Sentry's seccomp filter: a confined child can do what the Sentry does at run time,
//! is refused any host path, and dies by SIGSYS on anything not on the list.

use std::io::Write as _;

use sentry::confine;

/// Runs `f` in a forked child that installs the Sentry's filter first; its wait status.
fn confined(f: fn() -> i32) -> i32 {
    // SAFETY: the child installs the filter, runs `f` and `_exit`s; glibc's allocator is
    // fork-safe.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork: {}", std::io::Error::last_os_error());
    if pid == 0 {
        let code = match confine::install() {
            Ok(()) => std::panic::catch_unwind(f).unwrap_or(101),
            Err(_) => 102,
        };
        // SAFETY: ends the child without running the parent's atexit handlers.
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    // SAFETY: waits for our own child.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    status
}

fn killed_by_sigsys(status: i32) -> bool {
    libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == libc::SIGSYS
}

fn exit_code(status: i32) -> Option<i32> {
    libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status))
}

#[test]
fn the_list_is_well_formed() {
    let list = confine::allowed();
    let mut names: Vec<&str> = list.iter().map(|a| a.name).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), list.len(), "no syscall twice");
    for a in list {
        let s = libseccomp::ScmpSyscall::from_name(a.name).unwrap();
        assert_eq!(i32::from(s), a.nr as i32, "{} has number {}", a.name, a.nr);
    }
    for never in [
        "execve",
        "execveat",
        "socket",
        "connect",
        "ptrace",
        "open",
        "openat",
        "openat2",
        "mount",
        "chroot",
        "mkdir",
        "unlink",
        "process_vm_writev",
        "open_by_handle_at",
    ] {
        assert!(!names.contains(&never), "{never} is allowed");
    }
}

#[test]
fn what_the_sentry_does_at_run_time_works_confined() {
    let status = confined(|| {
        // Threads, locks, a megabyte of memory, randomness, time, logs.
        let t = std::thread::spawn(|| {
            let v: Vec<u8> = vec![7; 1 << 20];
            v.iter().map(|&b| u64::from(b)).sum::<u64>()
        });
        let sum = t.join().unwrap_or(0);
        let mut buf = [0u8; 8];
        let random = getrandom_bytes(&mut buf) == 8;
        let _ = std::time::Instant::now();
        let logged = std::io::stderr().write_all(b"").is_ok();
        i32::from(!(sum == 7 << 20 && random && logged))
    });
    assert_eq!(exit_code(status), Some(0), "status {status:#x}");
}

fn getrandom_bytes(buf: &mut [u8]) -> isize {
    // SAFETY: getrandom writes at most buf.len() bytes into buf.
    unsafe { libc::getrandom(buf.as_mut_ptr().cast(), buf.len(), 0) }
}

#[test]
fn host_paths_are_refused() {
    let status = confined(|| match std::fs::File::open("/etc/passwd") {
        Err(e) if e.raw_os_error() == Some(libc::EACCES) => 0,
        _ => 1,
    });
    assert_eq!(exit_code(status), Some(0), "status {status:#x}");
}

/// A forbidden operation and its name.
type Case = (&'static str, fn() -> i32);

#[test]
fn anything_else_kills_the_sentry() {
    let cases: [Case; 7] = [
        ("socket", || {
            // SAFETY: a plain syscall; the filter kills before it runs.
            unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0) };
            0
        }),
        ("mkdir", || {
            // SAFETY: a valid path.
            unsafe { libc::mkdir(c"/tmp/rvisor-confine-test".as_ptr(), 0o700) };
            0
        }),
        ("execve", || {
            let argv = [c"/bin/true".as_ptr(), std::ptr::null()];
            // SAFETY: valid NUL-terminated arrays.
            unsafe { libc::execve(c"/bin/true".as_ptr(), argv.as_ptr(), std::ptr::null()) };
            0
        }),
        ("stat of a path", || {
            // SAFETY: stat is plain data.
            let mut st: libc::stat = unsafe { std::mem::zeroed() };
            // SAFETY: a valid path and buffer.
            unsafe { libc::stat(c"/etc/passwd".as_ptr(), &mut st) };
            0
        }),
        ("mmap PROT_EXEC", || {
            // SAFETY: an anonymous mapping; nothing is touched.
            unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    4096,
                    libc::PROT_READ | libc::PROT_EXEC,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                )
            };
            0
        }),
        ("ptrace", || {
            // SAFETY: a plain syscall.
            unsafe { libc::ptrace(libc::PTRACE_TRACEME, 0, 0, 0) };
            0
        }),
        ("ioctl TIOCSTI", || {
            let c = b'x';
            // SAFETY: a plain syscall on stdin.
            unsafe { libc::ioctl(0, libc::TIOCSTI, &c) };
            0
        }),
    ];
    for (what, f) in cases {
        let status = confined(f);
        assert!(killed_by_sigsys(status), "{what}: status {status:#x}");
    }
}
