//! A terminal for a process started from outside the sandbox (`create --console-socket`,
//! `exec -t`): a pair of the Sentry's own devpts, whose slave is the process's stdio and
//! controlling terminal, bridged to a *host terminal*: the slave of a host pty (in raw mode)
//! whose master the runtime's caller holds, or the caller's own terminal (also raw).
//!
//! The process sees /dev/pts/N with the Sentry's line discipline, termios and job control;
//! the host side only carries bytes. Two threads of the Sentry do the copying:
//!
//! - *in*: poll(2) on the host terminal, at most [`POLL_TICK`] at a time; its input goes to
//!   the devpts master (what a user types), and on every wake-up the host's window size is
//!   read (TIOCGWINSZ): a change — the caller's TIOCSWINSZ on the host master raises no
//!   signal here, the host slave being nobody's controlling terminal — is set on the pair,
//!   which sends SIGWINCH to the foreground group. A hang-up of the host side (its master
//!   closed: read gives EIO) hangs up the pair, as if its master had closed (SIGHUP to the
//!   session leader).
//! - *out*: what the devpts master reads (the process's output, echoes) is written to the
//!   host terminal. It ends once every slave description is closed and the output is
//!   drained (the master reads EIO): the process and whatever inherited its terminal are
//!   gone. Both threads then let go of the host descriptor, so the caller's master reads
//!   EIO in turn.
//!
//! Host syscalls made (all on the Sentry's list, `confine`): poll, read, write, ioctl
//! TIOCGWINSZ.

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::{Duration, Instant};

use super::pty::{MasterFile, Pty};
use super::termios::Winsize;
use crate::errno::Errno;
use crate::fs::file::{FileOps, OpenFile};
use crate::kernel::{Kernel, ThreadGroup};

/// Longest wait of either thread before it looks again (for the window size, and for the
/// end of the other direction).
pub const POLL_TICK: Duration = Duration::from_millis(100);
/// Bytes copied at a time.
const CHUNK: usize = 4096;

/// A devpts pair opened for a host terminal, not yet copying.
pub struct HostTerminal {
    pty: Arc<Pty>,
    master: Arc<MasterFile>,
    host: OwnedFd,
}

/// What the copying threads share.
struct Link {
    pty: Arc<Pty>,
    host: OwnedFd,
    /// Either direction ended: the other stops too.
    stop: AtomicBool,
    /// The host's window size last seen (only changes of it are passed on, so that the
    /// process's own TIOCSWINSZ stands until the host's size changes).
    last: Mutex<Option<Winsize>>,
}

/// The end of the output direction, for those who wait for it.
#[derive(Default)]
struct Done {
    done: Mutex<bool>,
    cv: Condvar,
}

/// A running bridge.
pub struct Bridge {
    link: Weak<Link>,
    done: Arc<Done>,
}

/// The host terminal's window size, if it has one.
fn host_winsize(fd: &OwnedFd) -> Option<Winsize> {
    let mut ws = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one `struct winsize` to the pointer, a live local.
    if unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCGWINSZ, &mut ws) } < 0 {
        return None;
    }
    let mut b = [0u8; 8];
    for (i, v) in [ws.ws_row, ws.ws_col, ws.ws_xpixel, ws.ws_ypixel]
        .into_iter()
        .enumerate()
    {
        b[2 * i..2 * i + 2].copy_from_slice(&v.to_le_bytes());
    }
    Some(Winsize(b))
}

/// poll(2) of one host descriptor for `events`, at most `timeout`; the events it has.
fn poll_one(fd: &OwnedFd, events: i16, timeout: Duration) -> i16 {
    let mut p = libc::pollfd {
        fd: fd.as_raw_fd(),
        events,
        revents: 0,
    };
    let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
    // SAFETY: poll of one pollfd, a live local.
    if unsafe { libc::poll(&mut p, 1, ms) } <= 0 {
        return 0;
    }
    p.revents
}

/// read(2) of the host descriptor.
fn host_read(fd: &OwnedFd, buf: &mut [u8]) -> Result<usize, i32> {
    // SAFETY: read into a live buffer of its length.
    let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        return Err(std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO));
    }
    Ok(n as usize)
}

/// Writes all of `data` to the host descriptor unless it fails or `stop` is raised while
/// it cannot take more; false if it did not.
fn host_write_all(fd: &OwnedFd, mut data: &[u8], stop: &AtomicBool) -> bool {
    while !data.is_empty() {
        // SAFETY: write from a live buffer of its length.
        let n = unsafe { libc::write(fd.as_raw_fd(), data.as_ptr().cast(), data.len()) };
        if n > 0 {
            data = &data[n as usize..];
            continue;
        }
        let e = std::io::Error::last_os_error().raw_os_error();
        match e {
            Some(libc::EINTR) => {}
            Some(libc::EAGAIN) if !stop.load(Ordering::SeqCst) => {
                poll_one(fd, libc::POLLOUT, POLL_TICK);
            }
            _ => return false,
        }
    }
    true
}

impl HostTerminal {
    /// Opens a new pair of the sandbox's devpts whose slave belongs to `uid` (as runc hands
    /// the container's process its terminal), with the host terminal's window size. Returns
    /// it and the slave, opened for reading and writing: the process's 0, 1 and 2.
    pub fn open(
        kernel: &Arc<Kernel>,
        host: OwnedFd,
        uid: u32,
    ) -> Result<(HostTerminal, Arc<OpenFile>), Errno> {
        let pty = kernel.devpts.alloc(kernel, uid)?;
        let master = MasterFile::new(pty.clone(), true);
        Self::with_pty(pty, master, host)
    }

    /// `open` on a pair already made.
    fn with_pty(
        pty: Arc<Pty>,
        master: Arc<MasterFile>,
        host: OwnedFd,
    ) -> Result<(HostTerminal, Arc<OpenFile>), Errno> {
        pty.lock().locked = false;
        if let Some(ws) = host_winsize(&host) {
            pty.lock().winsize = ws;
        }
        let slave = pty.open_slave(false, false, true)?;
        let file = OpenFile::new(slave, libc::O_RDWR as u32);
        let _ = file
            .path
            .set(format!("/dev/pts/{}", pty.index).into_bytes());
        Ok((HostTerminal { pty, master, host }, file))
    }

    /// Makes the pair the controlling terminal of `tg`, a session leader without one, with
    /// its process group in the foreground (TIOCSCTTY, as runc's init does).
    pub fn attach(&self, tg: &ThreadGroup) {
        let me = super::ctl::Member::of(tg);
        super::ctl::set_ctty(tg, &me, &self.pty);
    }

    /// Starts copying between the host terminal and the pair.
    pub fn start(self) -> std::io::Result<Bridge> {
        let HostTerminal { pty, master, host } = self;
        let last = host_winsize(&host);
        let link = Arc::new(Link {
            pty,
            host,
            stop: AtomicBool::new(false),
            last: Mutex::new(last),
        });
        let done = Arc::new(Done::default());
        let bridge = Bridge {
            link: Arc::downgrade(&link),
            done: done.clone(),
        };
        let (l, m) = (link.clone(), master.clone());
        std::thread::Builder::new()
            .name("console-in".into())
            .spawn(move || input(&l, &m))?;
        let spawned = std::thread::Builder::new()
            .name("console-out".into())
            .spawn(move || {
                output(&link, &master);
                drop((link, master));
                *done.done.lock().unwrap_or_else(|e| e.into_inner()) = true;
                done.cv.notify_all();
            });
        if let Err(e) = spawned {
            bridge.stop();
            return Err(e);
        }
        Ok(bridge)
    }
}

impl Link {
    /// Passes a change of the host's window size on to the pair.
    fn sync_winsize(&self) {
        let Some(ws) = host_winsize(&self.host) else {
            return;
        };
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if *last == Some(ws) {
            return;
        }
        *last = Some(ws);
        drop(last);
        self.pty.set_winsize(ws);
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// The host side hung up: so does the pair.
    fn hang_up(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.pty.master_closed();
    }

    /// Writes `data` to the pair's master, waiting while its input is full; false if the
    /// bridge stopped meanwhile.
    fn feed(&self, master: &MasterFile, mut data: &[u8]) -> bool {
        while !data.is_empty() {
            let since = self.pty.events();
            match master.write(data, None) {
                Ok(n) => data = &data[n..],
                Err(Errno::EAGAIN) => {
                    if self.stopped() {
                        return false;
                    }
                    self.pty.wait_change(since, POLL_TICK);
                }
                Err(_) => return false,
            }
        }
        true
    }
}

/// Host terminal to pair, and window sizes.
fn input(link: &Link, master: &MasterFile) {
    let mut buf = vec![0u8; CHUNK];
    while !link.stopped() {
        let ready = poll_one(&link.host, libc::POLLIN, POLL_TICK);
        // Before the input that woke us: a resize made before typing is seen first.
        link.sync_winsize();
        if ready == 0 {
            continue;
        }
        match host_read(&link.host, &mut buf) {
            Ok(0) => return link.hang_up(),
            Ok(n) => {
                if !link.feed(master, &buf[..n]) {
                    return;
                }
            }
            Err(libc::EINTR | libc::EAGAIN) => {}
            Err(_) => return link.hang_up(),
        }
    }
}

/// Pair to host terminal, until every slave is closed and the output drained.
fn output(link: &Link, master: &MasterFile) {
    let mut buf = vec![0u8; CHUNK];
    loop {
        let since = link.pty.events();
        match master.read(&mut buf, None) {
            Ok(0) => link.pty.wait_change(since, POLL_TICK),
            Ok(n) => {
                if !host_write_all(&link.host, &buf[..n], &link.stop) {
                    if !link.stopped() {
                        link.hang_up();
                    }
                    break;
                }
            }
            Err(Errno::EAGAIN) => {
                if link.stopped() {
                    break;
                }
                link.pty.wait_change(since, POLL_TICK);
            }
            Err(_) => break,
        }
    }
    link.stop.store(true, Ordering::SeqCst);
}

impl Bridge {
    /// Passes a change of the host's window size on now (before the process starts: a
    /// resize made since the pair was opened).
    pub fn sync_winsize(&self) {
        if let Some(l) = self.link.upgrade() {
            l.sync_winsize();
        }
    }

    /// Waits, at most `timeout`, until the process's output has all gone to the host (every
    /// slave closed); whether it has.
    pub fn drained(&self, timeout: Duration) -> bool {
        let until = Instant::now() + timeout;
        let mut g = self.done.done.lock().unwrap_or_else(|e| e.into_inner());
        while !*g {
            let now = Instant::now();
            if now >= until {
                return false;
            }
            g = self
                .done
                .cv
                .wait_timeout(g, until - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }

    /// Stops copying (both threads end within [`POLL_TICK`]).
    pub fn stop(&self) {
        if let Some(l) = self.link.upgrade() {
            l.stop.store(true, Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
#[path = "console_tests.rs"]
mod tests;
