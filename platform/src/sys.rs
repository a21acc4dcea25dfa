//! Thin wrappers over the host system calls the platform makes.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::AtomicU32;
use std::time::Duration;

use crate::{PlatformError, Result};

/// Waits while the shared futex word at `word` holds `val`, at most `timeout`.
pub fn futex_wait(word: &AtomicU32, val: u32, timeout: Duration) {
    let ts = libc::timespec {
        tv_sec: timeout.as_secs() as libc::time_t,
        tv_nsec: timeout.subsec_nanos() as libc::c_long,
    };
    // SAFETY: FUTEX_WAIT reads the u32 behind a valid reference; the timespec is valid for
    // the call. The word is in a shared mapping, so no FUTEX_PRIVATE_FLAG.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT,
            val,
            &ts as *const _,
        );
    }
}

/// Wakes waiters on the shared futex word at `word`.
pub fn futex_wake(word: &AtomicU32) {
    // SAFETY: FUTEX_WAKE only uses the address as a key.
    unsafe {
        libc::syscall(libc::SYS_futex, word.as_ptr(), libc::FUTEX_WAKE, i32::MAX);
    }
}

/// pidfd_open(2).
pub fn pidfd_open(pid: libc::pid_t) -> Result<OwnedFd> {
    // SAFETY: plain syscall with integer arguments.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(PlatformError::last_os("pidfd_open"));
    }
    // SAFETY: a fresh descriptor we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// pidfd_getfd(2): a copy of descriptor `target` of the process behind `pidfd`.
pub fn pidfd_getfd(pidfd: &OwnedFd, target: i32) -> Result<OwnedFd> {
    // SAFETY: plain syscall with integer arguments.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd.as_raw_fd(), target, 0) };
    if fd < 0 {
        return Err(PlatformError::last_os("pidfd_getfd"));
    }
    // SAFETY: a fresh descriptor we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// Sends `sig` to the process behind `pidfd`.
pub fn pidfd_send_signal(pidfd: &OwnedFd, sig: i32) -> Result<()> {
    // SAFETY: plain syscall; a null siginfo means "as kill(2)".
    let r = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            sig,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    if r < 0 {
        return Err(PlatformError::last_os("pidfd_send_signal"));
    }
    Ok(())
}

/// tgkill(2).
pub fn tgkill(tgid: libc::pid_t, tid: libc::pid_t, sig: i32) {
    // SAFETY: plain syscall with integer arguments.
    unsafe {
        libc::syscall(libc::SYS_tgkill, tgid, tid, sig);
    }
}

/// A seccomp user-notification listener.
#[derive(Debug)]
pub struct Listener {
    fd: OwnedFd,
}

impl Listener {
    /// Takes a listener descriptor, asking the kernel to wake the stub on the answering
    /// CPU (`SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP`).
    pub fn new(fd: OwnedFd) -> Result<Self> {
        let flags: u64 = 1; // SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
                            // SAFETY: the ioctl reads a u64 argument by value.
        let r = unsafe {
            libc::ioctl(
                fd.as_raw_fd(),
                libc::SECCOMP_IOCTL_NOTIF_SET_FLAGS as _,
                flags,
            )
        };
        if r < 0 {
            return Err(PlatformError::last_os(
                "setting SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP",
            ));
        }
        Ok(Listener { fd })
    }

    /// Waits for the next notification. Fails with `StubDied` when no task can send one
    /// any more.
    pub fn recv(&self) -> Result<libc::seccomp_notif> {
        loop {
            let mut pfd = libc::pollfd {
                fd: self.fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd.
            let r = unsafe { libc::poll(&mut pfd, 1, -1) };
            if r < 0 {
                if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(PlatformError::last_os("poll on seccomp listener"));
            }
            if pfd.revents & libc::POLLIN == 0 {
                return Err(PlatformError::StubDied("stub thread exited".into()));
            }
            // SAFETY: seccomp_notif is plain old data; the kernel requires it zeroed.
            let mut n: libc::seccomp_notif = unsafe { std::mem::zeroed() };
            // SAFETY: the ioctl writes one seccomp_notif into `n`.
            let r = unsafe {
                libc::ioctl(
                    self.fd.as_raw_fd(),
                    libc::SECCOMP_IOCTL_NOTIF_RECV as _,
                    &mut n,
                )
            };
            if r == 0 {
                return Ok(n);
            }
            match std::io::Error::last_os_error().raw_os_error() {
                Some(libc::EINTR) | Some(libc::ENOENT) => continue,
                _ => return Err(PlatformError::last_os("SECCOMP_IOCTL_NOTIF_RECV")),
            }
        }
    }

    /// Answers notification `id`: the stub's syscall returns `val`.
    pub fn send(&self, id: u64, val: i64) -> Result<()> {
        let mut resp = libc::seccomp_notif_resp {
            id,
            val,
            error: 0,
            flags: 0,
        };
        // SAFETY: the ioctl reads one seccomp_notif_resp.
        let r = unsafe {
            libc::ioctl(
                self.fd.as_raw_fd(),
                libc::SECCOMP_IOCTL_NOTIF_SEND as _,
                &mut resp,
            )
        };
        if r < 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::ENOENT) {
                return Err(PlatformError::StubDied(
                    "stub thread gone while answering".into(),
                ));
            }
            return Err(PlatformError::Host {
                what: "SECCOMP_IOCTL_NOTIF_SEND",
                source: e,
            });
        }
        Ok(())
    }
}
