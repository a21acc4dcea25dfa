//! Terminals for container processes (`process.terminal`), as runc gives them.
//!
//! The process runs on a terminal of the Sentry's own devpts (/dev/pts/N inside, with the
//! Sentry's line discipline and job control), which the Sentry bridges to a *host
//! terminal* it is handed (`sentry::fs::devpts::console`). The host terminal is:
//!
//! - with `--console-socket SOCK` (`create`, `run --detach`, `exec --detach`): the slave of a
//!   new host pty, in raw mode (the Sentry's devpts does the line discipline; the host one
//!   only carries bytes), with `process.consoleSize` as its window size. Its master is sent
//!   to SOCK with SCM_RIGHTS — one descriptor, the message data "/dev/ptmx", as runc does
//!   and containerd's go-runc reads it — and the caller copies between it and its stdio and
//!   resizes it with TIOCSWINSZ (the Sentry sees the size change).
//! - in the foreground without a socket (`run`, `exec -t`): the caller's own terminal on
//!   stdin, put in raw mode until we are done (runc copies through a pty of its own
//!   instead; handing the terminal over does the same with one copy fewer).
//!
//! As runc: a console socket is refused unless the process has a terminal and the command
//! detaches; a detached process with a terminal needs a console socket.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::path::Path;

use anyhow::{bail, Context as _};

use crate::oci::ConsoleSize;

/// The host side of a process's terminal, for the Sentry.
pub struct HostTerminal {
    /// What the Sentry bridges to.
    pub fd: OwnedFd,
    /// The caller's terminal settings, restored when this is dropped.
    pub restore: Option<RawMode>,
}

/// A terminal put in raw mode; its settings come back when this is dropped.
pub struct RawMode {
    fd: OwnedFd,
    saved: libc::termios,
}

impl Drop for RawMode {
    fn drop(&mut self) {
        // SAFETY: tcsetattr on a descriptor we hold, from a termios tcgetattr filled.
        unsafe { libc::tcsetattr(self.fd.as_raw_fd(), libc::TCSADRAIN, &self.saved) };
    }
}

/// Puts the terminal `fd` in raw mode (cfmakeraw); returns its former settings.
fn make_raw(fd: RawFd) -> std::io::Result<libc::termios> {
    // SAFETY: tcgetattr fills the struct on success; a zeroed termios is a valid value.
    let mut t: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: as above, on a descriptor the caller holds.
    if unsafe { libc::tcgetattr(fd, &mut t) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let saved = t;
    // SAFETY: cfmakeraw edits the struct in place; tcsetattr reads it.
    unsafe {
        libc::cfmakeraw(&mut t);
        if libc::tcsetattr(fd, libc::TCSANOW, &t) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(saved)
}

/// A new host pty: (master, slave in raw mode), both close-on-exec, the slave not our
/// controlling terminal; `size` set on it if given.
pub fn open_pty(size: Option<ConsoleSize>) -> anyhow::Result<(OwnedFd, OwnedFd)> {
    let flags = libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC;
    // SAFETY: posix_openpt returns a new descriptor or -1.
    let m = unsafe { libc::posix_openpt(flags) };
    if m < 0 {
        return Err(std::io::Error::last_os_error()).context("opening /dev/ptmx");
    }
    // SAFETY: a fresh descriptor, ours alone.
    let master = unsafe { OwnedFd::from_raw_fd(m) };
    // SAFETY: grantpt and unlockpt on the master we hold.
    if unsafe { libc::grantpt(m) } != 0 || unsafe { libc::unlockpt(m) } != 0 {
        return Err(std::io::Error::last_os_error()).context("unlocking the pty");
    }
    // SAFETY: TIOCGPTPEER opens the master's slave with `flags` and returns it, or -1.
    let mut s = unsafe { libc::ioctl(m, libc::TIOCGPTPEER, flags) };
    if s < 0 {
        // Kernels before 4.13: by name.
        let mut name = [0 as libc::c_char; 128];
        // SAFETY: ptsname_r writes a NUL-terminated name of at most `name.len()` bytes.
        if unsafe { libc::ptsname_r(m, name.as_mut_ptr(), name.len()) } != 0 {
            return Err(std::io::Error::last_os_error()).context("naming the pty's slave");
        }
        // SAFETY: open of the NUL-terminated path just written.
        s = unsafe { libc::open(name.as_ptr(), flags) };
    }
    if s < 0 {
        return Err(std::io::Error::last_os_error()).context("opening the pty's slave");
    }
    // SAFETY: a fresh descriptor, ours alone.
    let slave = unsafe { OwnedFd::from_raw_fd(s) };
    make_raw(s).context("setting the pty to raw mode")?;
    if let Some(c) = size.filter(|c| c.height > 0 && c.width > 0) {
        let ws = libc::winsize {
            ws_row: c.height.min(u32::from(u16::MAX)) as u16,
            ws_col: c.width.min(u32::from(u16::MAX)) as u16,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCSWINSZ reads one struct winsize from a live local.
        if unsafe { libc::ioctl(m, libc::TIOCSWINSZ, &ws) } != 0 {
            return Err(std::io::Error::last_os_error()).context("setting the console size");
        }
    }
    Ok((master, slave))
}

/// Sends `master` to the console socket at `path` (one descriptor, SCM_RIGHTS).
pub fn send_master(path: &Path, master: &OwnedFd) -> anyhow::Result<()> {
    let what = || format!("--console-socket {}", path.display());
    let (_dir, short) = crate::control::short_path(path).with_context(what)?;
    let s = UnixStream::connect(&short).with_context(what)?;
    crate::control::send_with_fds(s.as_raw_fd(), b"/dev/ptmx", &[master.as_raw_fd()])
        .with_context(|| format!("sending the terminal to {}", path.display()))
}

/// Checks `terminal` and `console_socket` as runc does, and makes the host terminal of a
/// process: None when it has no terminal.
pub fn for_process(
    terminal: bool,
    size: Option<ConsoleSize>,
    console_socket: Option<&str>,
    detached: bool,
) -> anyhow::Result<Option<HostTerminal>> {
    match (terminal, console_socket) {
        (false, None) => Ok(None),
        (false, Some(_)) => {
            bail!("cannot use --console-socket: the process has no terminal (process.terminal)")
        }
        (true, Some(_)) if !detached => {
            bail!("cannot use --console-socket with a process run in the foreground")
        }
        (true, Some(sock)) => {
            let (master, slave) = open_pty(size)?;
            send_master(Path::new(sock), &master)?;
            Ok(Some(HostTerminal {
                fd: slave,
                restore: None,
            }))
        }
        (true, None) if detached => bail!(
            "cannot allocate a terminal for a detached process without --console-socket \
             (or set process.terminal to false)"
        ),
        (true, None) => caller_terminal().map(Some),
    }
}

/// Our stdin, a terminal, handed over in raw mode.
fn caller_terminal() -> anyhow::Result<HostTerminal> {
    // SAFETY: isatty and fcntl on descriptor 0.
    let (tty, fl) = unsafe { (libc::isatty(0), libc::fcntl(0, libc::F_GETFL)) };
    if tty != 1 || fl < 0 || fl & libc::O_ACCMODE != libc::O_RDWR {
        bail!(
            "the process wants a terminal (process.terminal) and stdin is not one: \
             use --console-socket, or set process.terminal to false"
        );
    }
    let dup = |what: &str| -> anyhow::Result<OwnedFd> {
        // SAFETY: F_DUPFD_CLOEXEC returns a new descriptor or -1.
        let n = unsafe { libc::fcntl(0, libc::F_DUPFD_CLOEXEC, 3) };
        if n < 0 {
            return Err(std::io::Error::last_os_error()).context(what.to_string());
        }
        // SAFETY: a fresh descriptor, ours alone.
        Ok(unsafe { OwnedFd::from_raw_fd(n) })
    };
    let fd = dup("duplicating stdin")?;
    let saved = make_raw(fd.as_raw_fd()).context("setting the terminal to raw mode")?;
    Ok(HostTerminal {
        fd,
        restore: Some(RawMode {
            fd: dup("duplicating stdin")?,
            saved,
        }),
    })
}

/// Takes the descriptor number `value` of flag `--name`, inherited from our parent for us
/// alone, and makes it close-on-exec.
pub fn inherited(value: &str, name: &str) -> anyhow::Result<OwnedFd> {
    let fd: RawFd = value
        .parse()
        .with_context(|| format!("--{name} wants a number"))?;
    gofer::check_fd(fd).with_context(|| format!("--{name}"))?;
    // SAFETY: F_SETFD on an open descriptor (check_fd saw it).
    if unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) } < 0 {
        return Err(std::io::Error::last_os_error()).with_context(|| format!("--{name}"));
    }
    // SAFETY: our parent passed this open descriptor for us alone.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// In a child between fork and exec: puts `fds` (source, target) at their targets, open
/// across exec. Each source is first copied above every target, so that none overwrites
/// another's source. Only async-signal-safe calls (fcntl, dup2).
pub fn place_fds(fds: &[(RawFd, RawFd)]) -> std::io::Result<()> {
    let mut high = [-1; 4];
    if fds.len() > high.len() {
        return Err(std::io::Error::from_raw_os_error(libc::EINVAL));
    }
    for (h, &(src, _)) in high.iter_mut().zip(fds) {
        // SAFETY: fcntl on an integer; failure is reported.
        *h = unsafe { libc::fcntl(src, libc::F_DUPFD_CLOEXEC, 10) };
        if *h < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    for (&h, &(_, dst)) in high.iter().zip(fds) {
        // SAFETY: dup2 on integers (it clears close-on-exec on `dst`); the close-on-exec
        // copies above go away at exec.
        if unsafe { libc::dup2(h, dst) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}
