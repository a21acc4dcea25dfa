//! A pseudo-terminal pair: the state both ends share, and the master and slave files.
//!
//! What the master writes goes to the slave's input buffer (Linux's flip buffer, 64 KiB) and
//! from there through the line discipline into the slave's read buffer (4 KiB), echoing to
//! the master on the way. What the slave writes goes through output processing into the queue
//! the master reads. Blocked readers and writers wait on the pair's condition variable with
//! a waker registered, as pipes do, so that signals end their waits.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use super::ctl;
use super::ldisc::{Effects, Ldisc, ECHO_COMMIT};
use super::termios::{self, Termios, Winsize};
use crate::errno::Errno;
use crate::fs::file::{FileOps, OpenFile, Stat};
use crate::kernel::{signal, Kernel, Task};

/// Bytes of master input waiting for the line discipline, and of slave output waiting for
/// the master.
const RAW_CAP: usize = 65536;
const OUT_CAP: usize = 65536;
/// Echoes beyond this much unread master input are dropped.
const OUT_MAX: usize = OUT_CAP + 4096;
/// A blocked reader or writer is woken by the other end or by a signal (its waker); this
/// bounds a wait should a wake-up ever be missed.
const TICK: Duration = Duration::from_secs(1);
/// Major number of pty slaves; st_dev of devpts.
pub const PTS_MAJOR: u32 = 136;
pub const DEVPTS_DEV: u64 = 0x1a;

/// What both ends share, under the pair's lock.
pub struct PtyState {
    pub termios: Termios,
    pub winsize: Winsize,
    pub ldisc: Ldisc,
    /// Master input the line discipline has not taken yet.
    raw_in: VecDeque<u8>,
    /// What the master reads.
    pub to_master: VecDeque<u8>,
    /// TIOCSPTLCK: the slave cannot be opened.
    pub locked: bool,
    pub master_open: bool,
    /// Open slave descriptions, and whether one was ever opened.
    pub slaves: usize,
    pub slave_opened: bool,
    /// The session whose controlling terminal this is, and its foreground process group.
    pub session: Option<i32>,
    pub pgrp: Option<i32>,
    /// TIOCPKT on the master.
    pub packet: bool,
    /// TIOCEXCL on the slave.
    pub excl: bool,
}

impl PtyState {
    /// The slave is hung up once the master is gone.
    pub fn hung(&self) -> bool {
        !self.master_open
    }

    /// Every slave has been closed (the master reads EIO and polls POLLHUP).
    fn slave_closed(&self) -> bool {
        self.slave_opened && self.slaves == 0
    }

    /// Moves master input into the line discipline while it has room.
    fn fill(&mut self, fx: &mut Effects) {
        let PtyState {
            ldisc,
            raw_in,
            to_master,
            termios,
            ..
        } = self;
        fx.echo_mark = to_master.len();
        while let Some(&c) = raw_in.front() {
            if !ldisc.has_room(termios) {
                break;
            }
            raw_in.pop_front();
            ldisc.receive(termios, c, to_master, fx);
            to_master.truncate(OUT_MAX);
            fx.echo_mark = fx.echo_mark.min(to_master.len());
            if to_master.len() >= fx.echo_mark + ECHO_COMMIT {
                fx.echo_mark = to_master.len();
            }
        }
    }

    /// Input as if the master had written it (TIOCSTI on the slave).
    pub fn inject(&mut self, c: u8, fx: &mut Effects) {
        self.raw_in.push_back(c);
        self.fill(fx);
    }

    /// TCIFLUSH on the slave (`master` false) or on the master: drops what this end has
    /// not read. (TCOFLUSH drops nothing on a pty: what was written is the other end's
    /// input.)
    pub fn flush_input(&mut self, master: bool) {
        if master {
            self.to_master.clear();
        } else {
            self.ldisc.flush_input();
        }
    }

    /// FIONREAD of either end.
    pub fn inq(&self, master: bool) -> usize {
        if master {
            self.to_master.len().min(super::ldisc::N_TTY_BUF_SIZE - 1)
        } else {
            self.ldisc.inq(&self.termios)
        }
    }
}

/// A pseudo-terminal pair.
pub struct Pty {
    pub index: u32,
    kernel: Weak<Kernel>,
    /// Owner of /dev/pts/N: the uid and group that opened the master.
    pub uid: u32,
    pub gid: u32,
    created: (i64, i64),
    state: Mutex<PtyState>,
    cv: Condvar,
    /// Changes so far (edge-triggered epoll).
    events: AtomicU64,
}

/// How a wait ended.
#[derive(PartialEq, Eq)]
enum Wait {
    Woken,
    TimedOut,
    Interrupted,
}

/// When a read stops waiting for input.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Deadline {
    Never,
    At(Instant),
    Expired,
}

/// What a write that stopped early returns: the bytes written, else the error.
fn partial(done: usize, e: Errno) -> Result<usize, Errno> {
    if done > 0 {
        Ok(done)
    } else {
        Err(e)
    }
}

fn now_realtime() -> (i64, i64) {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (d.as_secs() as i64, i64::from(d.subsec_nanos()))
}

impl Pty {
    pub fn new(index: u32, kernel: Weak<Kernel>, uid: u32, gid: u32) -> Arc<Pty> {
        Arc::new(Pty {
            index,
            kernel,
            uid,
            gid,
            created: now_realtime(),
            state: Mutex::new(PtyState {
                termios: Termios::default(),
                winsize: Winsize::default(),
                ldisc: Ldisc::default(),
                raw_in: VecDeque::new(),
                to_master: VecDeque::new(),
                locked: true,
                master_open: true,
                slaves: 0,
                slave_opened: false,
                session: None,
                pgrp: None,
                packet: false,
                excl: false,
            }),
            cv: Condvar::new(),
            events: AtomicU64::new(0),
        })
    }

    pub fn lock(&self) -> MutexGuard<'_, PtyState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn kernel(&self) -> Option<Arc<Kernel>> {
        self.kernel.upgrade()
    }

    /// Wakes every waiter after a change.
    pub fn bump(&self) {
        self.events.fetch_add(1, Ordering::Relaxed);
        self.cv.notify_all();
    }

    /// Changes so far (see [`Pty::wait_change`]).
    pub(super) fn events(&self) -> u64 {
        self.events.load(Ordering::Relaxed)
    }

    /// Waits, at most `timeout`, for a change after the count `since` (for a thread of the
    /// Sentry's own, which has no signals: the console bridge).
    pub(super) fn wait_change(&self, since: u64, timeout: Duration) {
        let st = self.lock();
        if self.events() != since {
            return;
        }
        let _ = self.cv.wait_timeout(st, timeout);
    }

    /// A new window size (TIOCSWINSZ); a change sends SIGWINCH to the foreground group.
    pub fn set_winsize(&self, ws: Winsize) {
        let fg = {
            let mut st = self.lock();
            let changed = st.winsize != ws;
            st.winsize = ws;
            st.pgrp.filter(|_| changed)
        };
        if let (Some(pg), Some(k)) = (fg, self.kernel()) {
            ctl::kill_pgrp(&k, pg, libc::SIGWINCH);
        }
    }

    /// Device number of the slave.
    pub fn rdev(&self) -> u64 {
        libc::makedev(PTS_MAJOR, self.index)
    }

    /// stat of /dev/pts/N.
    pub fn slave_stat(&self) -> Stat {
        Stat {
            dev: DEVPTS_DEV,
            ino: u64::from(self.index) + 3,
            mode: libc::S_IFCHR | 0o620,
            nlink: 1,
            uid: self.uid,
            gid: self.gid,
            rdev: self.rdev(),
            blksize: 1024,
            atime: self.created,
            mtime: self.created,
            ctime: self.created,
            ..Stat::default()
        }
    }

    fn waker(self: &Arc<Self>) -> signal::Waker {
        let pty = Arc::downgrade(self);
        Arc::new(move || {
            if let Some(p) = pty.upgrade() {
                let _g = p.lock();
                p.cv.notify_all();
            }
        })
    }

    /// Waits for a change; the signal check happens under the lock the waker takes, so no
    /// signal is missed between the check and the wait. A process stopped by job control
    /// (SIGTSTP, SIGTTIN...) leaves the wait too, before it could take input, and restarts
    /// the call once continued, as on Linux.
    fn wait<'a>(
        &'a self,
        st: MutexGuard<'a, PtyState>,
        deadline: Deadline,
    ) -> (MutexGuard<'a, PtyState>, Wait) {
        if signal::interrupted() || ctl::stopped() {
            return (st, Wait::Interrupted);
        }
        let now = Instant::now();
        let limit = match deadline {
            Deadline::At(d) if d <= now => return (st, Wait::TimedOut),
            Deadline::At(d) => (d - now).min(TICK),
            _ => TICK,
        };
        let st = self
            .cv
            .wait_timeout(st, limit)
            .unwrap_or_else(|e| e.into_inner())
            .0;
        if signal::interrupted() || ctl::stopped() {
            return (st, Wait::Interrupted);
        }
        match deadline {
            Deadline::At(d) if Instant::now() >= d => (st, Wait::TimedOut),
            _ => (st, Wait::Woken),
        }
    }

    /// Sends what input processing raised to the foreground process group.
    pub fn deliver(&self, fx: Effects, pgrp: Option<i32>) {
        if let (Some(pg), Some(k)) = (pgrp, self.kernel()) {
            for sig in fx.signals {
                ctl::kill_pgrp(&k, pg, sig);
            }
        }
    }

    /// Re-locks after delivering pending signals (never sent under the lock: a receiver's
    /// waker may take it).
    fn flush_signals<'a>(
        &'a self,
        st: MutexGuard<'a, PtyState>,
        fx: &mut Effects,
    ) -> MutexGuard<'a, PtyState> {
        if fx.signals.is_empty() {
            return st;
        }
        let pgrp = st.pgrp;
        drop(st);
        self.deliver(std::mem::take(fx), pgrp);
        self.lock()
    }

    // ---- the master ----

    fn master_read(self: &Arc<Self>, buf: &mut [u8], nonblock: bool) -> Result<usize, Errno> {
        if buf.is_empty() {
            return Ok(0);
        }
        signal::with_waker(self.waker(), || {
            let mut st = self.lock();
            loop {
                if !st.to_master.is_empty() {
                    let mut i = 0;
                    if st.packet {
                        buf[0] = 0; // TIOCPKT_DATA
                        i = 1;
                    }
                    let n = (buf.len() - i).min(st.to_master.len());
                    for (d, b) in buf[i..].iter_mut().zip(st.to_master.drain(..n)) {
                        *d = b;
                    }
                    self.bump();
                    return Ok(i + n);
                }
                if st.slave_closed() {
                    return Err(Errno::EIO);
                }
                if nonblock {
                    return Err(Errno::EAGAIN);
                }
                let (g, w) = self.wait(st, Deadline::Never);
                st = g;
                if w == Wait::Interrupted {
                    return Err(Errno::ERESTARTSYS);
                }
            }
        })
    }

    fn master_write(self: &Arc<Self>, data: &[u8], nonblock: bool) -> Result<usize, Errno> {
        signal::with_waker(self.waker(), || {
            let mut fx = Effects::default();
            let mut done = 0;
            let mut st = self.lock();
            loop {
                let n = RAW_CAP
                    .saturating_sub(st.raw_in.len())
                    .min(data.len() - done);
                st.raw_in.extend(&data[done..done + n]);
                done += n;
                st.fill(&mut fx);
                self.bump();
                if !fx.signals.is_empty() {
                    st = self.flush_signals(st, &mut fx);
                    continue;
                }
                if done == data.len() {
                    return Ok(done);
                }
                if nonblock {
                    return partial(done, Errno::EAGAIN);
                }
                let (g, w) = self.wait(st, Deadline::Never);
                st = g;
                if w == Wait::Interrupted {
                    return partial(done, Errno::ERESTARTSYS);
                }
            }
        })
    }

    fn master_poll(&self) -> u16 {
        let st = self.lock();
        let mut r = 0;
        if !st.to_master.is_empty() {
            r |= libc::POLLIN | libc::POLLRDNORM;
        }
        if st.slave_closed() {
            r |= libc::POLLHUP;
        }
        if st.raw_in.len() < RAW_CAP {
            r |= libc::POLLOUT | libc::POLLWRNORM;
        }
        r as u16
    }

    /// The master's last description is gone (or the host terminal a bridged pair stands
    /// for hung up): the slave is hung up.
    pub(super) fn master_closed(self: &Arc<Self>) {
        let session = {
            let mut st = self.lock();
            st.master_open = false;
            st.ldisc.flush_input();
            st.raw_in.clear();
            st.to_master.clear();
            st.pgrp = None;
            let s = st.session.take();
            self.bump();
            s
        };
        if let (Some(sid), Some(k)) = (session, self.kernel()) {
            ctl::hangup_session(&k, self, sid);
        }
    }

    // ---- the slave ----

    fn slave_read(self: &Arc<Self>, buf: &mut [u8], nonblock: bool) -> Result<usize, Errno> {
        if self.lock().hung() {
            return Ok(0);
        }
        ctl::check_change(self, libc::SIGTTIN)?;
        if buf.is_empty() {
            return Ok(0);
        }
        signal::with_waker(self.waker(), || self.slave_read_locked(buf, nonblock))
    }

    fn slave_read_locked(&self, buf: &mut [u8], nonblock: bool) -> Result<usize, Errno> {
        let mut fx = Effects::default();
        let mut st = self.lock();
        let t = st.termios;
        let canonical = |t: &Termios| t.l(termios::ICANON) && !t.l(termios::EXTPROC);
        let tenths = |n: u8| Duration::from_millis(100 * u64::from(n));
        // VMIN/VTIME, as n_tty_read: the inter-byte timer starts with the first byte.
        let (minimum, interbyte, mut deadline) = if canonical(&t) {
            (0, None, Deadline::Never)
        } else {
            let (vmin, vtime) = (t.cc[termios::VMIN], t.cc[termios::VTIME]);
            if vmin > 0 {
                (
                    usize::from(vmin),
                    (vtime > 0).then(|| tenths(vtime)),
                    Deadline::Never,
                )
            } else if vtime > 0 {
                (1, None, Deadline::At(Instant::now() + tenths(vtime)))
            } else {
                (1, None, Deadline::Expired)
            }
        };
        let mut got = 0;
        let mut result = Ok(0);
        while got < buf.len() {
            if st.hung() {
                if got == 0 {
                    result = Err(Errno::EIO);
                }
                break;
            }
            if !st.ldisc.readable(&st.termios, false) {
                st.fill(&mut fx);
            }
            if !st.ldisc.readable(&st.termios, false) {
                if deadline == Deadline::Expired {
                    break;
                }
                if nonblock {
                    if got == 0 {
                        result = Err(Errno::EAGAIN);
                    }
                    break;
                }
                if !fx.signals.is_empty() {
                    st = self.flush_signals(st, &mut fx);
                    continue;
                }
                let (g, w) = self.wait(st, deadline);
                st = g;
                match w {
                    Wait::Interrupted => {
                        if got == 0 {
                            result = Err(Errno::ERESTARTSYS);
                        }
                        break;
                    }
                    Wait::TimedOut => deadline = Deadline::Expired,
                    Wait::Woken => {}
                }
                continue;
            }
            if canonical(&st.termios) {
                got += st.ldisc.read_canon(&mut buf[got..]);
                break;
            }
            got += st.ldisc.read_raw(&mut buf[got..]);
            if got >= minimum {
                break;
            }
            if let Some(d) = interbyte {
                deadline = Deadline::At(Instant::now() + d);
            }
        }
        st.fill(&mut fx);
        self.bump();
        let pgrp = st.pgrp;
        drop(st);
        self.deliver(fx, pgrp);
        if got > 0 {
            Ok(got)
        } else {
            result
        }
    }

    fn slave_write(self: &Arc<Self>, data: &[u8], nonblock: bool) -> Result<usize, Errno> {
        let tostop = {
            let st = self.lock();
            if st.hung() {
                return Err(Errno::EIO);
            }
            st.termios.l(termios::TOSTOP)
        };
        if tostop {
            ctl::check_change(self, libc::SIGTTOU)?;
        }
        signal::with_waker(self.waker(), || {
            let mut done = 0;
            let mut st = self.lock();
            loop {
                if signal::interrupted() {
                    return partial(done, Errno::ERESTARTSYS);
                }
                if st.hung() {
                    return partial(done, Errno::EIO);
                }
                if !st.ldisc.stopped {
                    let room = OUT_CAP.saturating_sub(st.to_master.len());
                    let PtyState {
                        ldisc,
                        termios,
                        to_master,
                        ..
                    } = &mut *st;
                    let n = ldisc.write(termios, &data[done..], to_master, room);
                    if n > 0 {
                        done += n;
                        self.bump();
                    }
                }
                if done == data.len() {
                    return Ok(done);
                }
                if nonblock {
                    return partial(done, Errno::EAGAIN);
                }
                st = self.wait(st, Deadline::Never).0;
            }
        })
    }

    fn slave_poll(&self) -> u16 {
        let st = self.lock();
        if st.hung() {
            return (libc::POLLIN
                | libc::POLLOUT
                | libc::POLLERR
                | libc::POLLHUP
                | libc::POLLRDNORM
                | libc::POLLWRNORM) as u16;
        }
        let mut r = 0;
        if st.ldisc.readable(&st.termios, true) {
            r |= libc::POLLIN | libc::POLLRDNORM;
        }
        if !st.ldisc.stopped && st.to_master.len() < OUT_CAP {
            r |= libc::POLLOUT | libc::POLLWRNORM;
        }
        r as u16
    }

    /// New settings (TCSETS*): a pty keeps 8 data bits; TCSETSF first drops input.
    pub fn set_termios(&self, mut new: Termios, flush: bool) {
        let mut fx = Effects::default();
        let mut st = self.lock();
        if flush {
            st.ldisc.flush_input();
        }
        new.fix_for_pty();
        let old = st.termios;
        st.termios = new;
        st.ldisc.set_termios(&old, &new);
        st.fill(&mut fx);
        self.bump();
        let pgrp = st.pgrp;
        drop(st);
        self.deliver(fx, pgrp);
    }

    /// A slave description (checks the lock and TIOCEXCL).
    pub fn open_slave(
        self: &Arc<Self>,
        nonblock: bool,
        dev_tty: bool,
        privileged: bool,
    ) -> Result<Arc<SlaveFile>, Errno> {
        let mut st = self.lock();
        if st.hung() {
            return Err(Errno::EIO);
        }
        if st.locked {
            return Err(Errno::EIO);
        }
        if st.excl && st.slaves > 0 && !privileged {
            return Err(Errno::EBUSY);
        }
        st.slaves += 1;
        st.slave_opened = true;
        self.bump();
        Ok(Arc::new(SlaveFile {
            pty: self.clone(),
            nonblock: AtomicBool::new(nonblock),
            dev_tty,
        }))
    }
}

/// The master end (/dev/ptmx).
pub struct MasterFile {
    pub pty: Arc<Pty>,
    nonblock: AtomicBool,
}

impl MasterFile {
    pub fn new(pty: Arc<Pty>, nonblock: bool) -> Arc<MasterFile> {
        Arc::new(MasterFile {
            pty,
            nonblock: AtomicBool::new(nonblock),
        })
    }
}

impl Drop for MasterFile {
    fn drop(&mut self) {
        self.pty.master_closed();
    }
}

/// stat of /dev/ptmx.
pub fn ptmx_stat() -> Stat {
    Stat {
        dev: 5,
        ino: 202,
        mode: libc::S_IFCHR | 0o666,
        nlink: 1,
        rdev: libc::makedev(5, 2),
        blksize: 4096,
        ..Stat::default()
    }
}

/// stat of /dev/tty.
pub fn tty_stat() -> Stat {
    Stat {
        dev: 5,
        ino: 200,
        mode: libc::S_IFCHR | 0o666,
        nlink: 1,
        gid: 5,
        rdev: libc::makedev(5, 0),
        blksize: 4096,
        ..Stat::default()
    }
}

impl FileOps for MasterFile {
    fn read(&self, buf: &mut [u8], _off: Option<u64>) -> Result<usize, Errno> {
        self.pty
            .master_read(buf, self.nonblock.load(Ordering::Relaxed))
    }
    fn write(&self, data: &[u8], _off: Option<u64>) -> Result<usize, Errno> {
        self.pty
            .master_write(data, self.nonblock.load(Ordering::Relaxed))
    }
    fn set_nonblock(&self, on: bool) {
        self.nonblock.store(on, Ordering::Relaxed);
    }
    fn event_count(&self) -> u64 {
        self.pty.events.load(Ordering::Relaxed)
    }
    fn poll_ready(&self) -> u16 {
        self.pty.master_poll()
    }
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(ptmx_stat())
    }
    fn ioctl_task(
        &self,
        t: &mut Task,
        file: &Arc<OpenFile>,
        req: u64,
        arg: u64,
    ) -> Option<Result<u64, Errno>> {
        Some(super::ioctl::ioctl(t, file, &self.pty, true, req, arg))
    }
}

/// A slave end (/dev/pts/N, or /dev/tty naming it).
pub struct SlaveFile {
    pub pty: Arc<Pty>,
    nonblock: AtomicBool,
    /// Opened as /dev/tty (fstat shows /dev/tty).
    dev_tty: bool,
}

impl Drop for SlaveFile {
    fn drop(&mut self) {
        let mut st = self.pty.lock();
        st.slaves = st.slaves.saturating_sub(1);
        self.pty.bump();
    }
}

impl FileOps for SlaveFile {
    fn read(&self, buf: &mut [u8], _off: Option<u64>) -> Result<usize, Errno> {
        self.pty
            .slave_read(buf, self.nonblock.load(Ordering::Relaxed))
    }
    fn write(&self, data: &[u8], _off: Option<u64>) -> Result<usize, Errno> {
        self.pty
            .slave_write(data, self.nonblock.load(Ordering::Relaxed))
    }
    fn set_nonblock(&self, on: bool) {
        self.nonblock.store(on, Ordering::Relaxed);
    }
    fn event_count(&self) -> u64 {
        self.pty.events.load(Ordering::Relaxed)
    }
    fn poll_ready(&self) -> u16 {
        self.pty.slave_poll()
    }
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(if self.dev_tty {
            tty_stat()
        } else {
            self.pty.slave_stat()
        })
    }
    fn ioctl_task(
        &self,
        t: &mut Task,
        file: &Arc<OpenFile>,
        req: u64,
        arg: u64,
    ) -> Option<Result<u64, Errno>> {
        Some(super::ioctl::ioctl(t, file, &self.pty, false, req, arg))
    }
}
