//! epoll_create, epoll_create1, epoll_ctl, epoll_wait, epoll_pwait, epoll_pwait2.
//!
//! An epoll instance holds its interest list as `Weak<OpenFile>`s keyed, as on Linux, by
//! (descriptor number, open description): an entry outlives `close(fd)` while the
//! description is open elsewhere (a dup, a child) and disappears once it is closed
//! everywhere.
//!
//! Readiness is *sampled*, as poll(2) does here: epoll_wait asks every enabled entry's
//! `FileOps::poll_ready()` and, while nothing is ready, sleeps 1 ms (interruptibly) and
//! asks again. Files have no wait queues yet, so:
//! - Level-triggered entries report whatever holds when sampled. Ready entries are reported
//!   in the order they were seen becoming ready (an entry ready when added or modified goes
//!   first), and an entry just reported moves behind the others, so that a small
//!   `maxevents` still reaches every ready file in turn.
//! - EPOLLET reports an entry when a readiness bit appears that was not there at the
//!   previous sample, once. Sampling cannot see a file drained and refilled between two
//!   samples (Linux reports every wake-up), and an application that read until EAGAIN and
//!   waits for the next edge would then wait forever. So an edge-triggered entry that is
//!   ready but was not reported is reported again once a *blocking* wait has waited
//!   `ET_GRACE_MIN` for it; the delay doubles (up to `ET_GRACE_MAX`) while nothing changes
//!   and starts over when a real transition is seen. Waits with a zero timeout, and waits
//!   shorter than the delay, see no repeated edge.
//! - EPOLLONESHOT disables the entry after one report until EPOLL_CTL_MOD re-arms it.
//! - EPOLLEXCLUSIVE is accepted with Linux's restrictions; since no waiter is ever woken,
//!   it changes nothing.
//!
//! epoll_pwait/epoll_pwait2 install the given signal mask for the duration of the wait. If
//! the wait ends with EINTR, the mask stays in force for the handler, and the caller's mask
//! is kept in `saved_mask` so the handler's rt_sigreturn restores it (as rt_sigsuspend
//! does); any other outcome restores the caller's mask before returning. EINTR is never
//! restarted, whatever SA_RESTART says.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use crate::errno::{Errno, SysResult};
use crate::fs::eventfd::{anon_ino, anon_stat, Registry};
use crate::fs::{FileOps, OpenFile, Stat};
use crate::kernel::signal::{self, UNBLOCKABLE};
use crate::kernel::Task;

const EPOLLIN: u32 = libc::EPOLLIN as u32;
const EPOLLOUT: u32 = libc::EPOLLOUT as u32;
const EPOLLERR: u32 = libc::EPOLLERR as u32;
const EPOLLHUP: u32 = libc::EPOLLHUP as u32;
const EPOLLET: u32 = libc::EPOLLET as u32;
const EPOLLONESHOT: u32 = libc::EPOLLONESHOT as u32;
const EPOLLWAKEUP: u32 = libc::EPOLLWAKEUP as u32;
const EPOLLEXCLUSIVE: u32 = libc::EPOLLEXCLUSIVE as u32;
/// Flags EPOLLEXCLUSIVE may be combined with.
const EXCLUSIVE_OK: u32 =
    EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE;
/// Deepest nesting of epoll instances.
const MAX_NESTS: usize = 4;
/// Size of `struct epoll_event` (packed on x86-64).
const EVENT_SIZE: usize = 12;
/// Most events one wait may ask for.
const MAX_EVENTS: i64 = i32::MAX as i64 / EVENT_SIZE as i64;
/// End of the user address range (access_ok).
const TASK_SIZE: u64 = (1 << 47) - 4096;
/// How often a waiting epoll_wait samples readiness.
const SAMPLE: Duration = Duration::from_millis(1);
/// First and longest delay before a blocking wait repeats an unchanged edge (module doc).
const ET_GRACE_MIN: Duration = Duration::from_millis(10);
const ET_GRACE_MAX: Duration = Duration::from_secs(1);

/// (descriptor, address of the open description).
type Key = (i32, usize);
/// One entry's sample: its key, its file, and (readiness, event count) if the file lives.
type Polled = (Key, Weak<OpenFile>, Option<(u32, u64)>);

struct Entry {
    file: Weak<OpenFile>,
    /// Requested events and flags (EPOLLERR and EPOLLHUP always included).
    events: u32,
    data: u64,
    /// False once an EPOLLONESHOT entry has reported, until EPOLL_CTL_MOD.
    enabled: bool,
    /// EPOLLET: the readiness seen at the last sample.
    last: u32,
    /// Position in the ready list, when ready and not yet reported.
    ready: Option<u64>,
    /// EPOLLET: how long a blocking wait waits before repeating an unchanged edge.
    grace: Duration,
    /// EPOLLET: the file's event count at the last sample (`FileOps::event_count`).
    last_ev: u64,
}

impl Entry {
    fn new(file: &Arc<OpenFile>, events: u32, data: u64) -> Entry {
        Entry {
            file: Arc::downgrade(file),
            events,
            data,
            enabled: true,
            last: 0,
            ready: None,
            grace: ET_GRACE_MIN,
            last_ev: 0,
        }
    }

    /// Takes a sample of the file's readiness `r` into the entry's state; `blocked` is how
    /// long the current epoll_wait has been blocking.
    fn sample(&mut self, r: u32, ev: u64, seq: &mut u64, blocked: Duration) {
        let m = r & self.events;
        // New data on a file already ready is an edge too (each write wakes ET waiters).
        let fresh = ev != self.last_ev;
        self.last_ev = ev;
        if !self.enabled || m == 0 {
            self.ready = None;
            self.last = 0;
            self.grace = ET_GRACE_MIN;
            return;
        }
        let mut report = self.events & EPOLLET == 0 || m & !self.last != 0 || fresh;
        if self.events & EPOLLET != 0 {
            if report {
                self.grace = ET_GRACE_MIN;
            } else if self.ready.is_none() && blocked >= self.grace {
                // Perhaps an edge sampling missed: repeat it, and wait longer next time.
                report = true;
                self.grace = (self.grace * 2).min(ET_GRACE_MAX);
            }
        }
        if report && self.ready.is_none() {
            *seq += 1;
            self.ready = Some(*seq);
        }
        self.last = m;
    }

    /// Whether a sample `r` would be reported, without changing anything.
    fn would_report(&self, r: u32, ev: u64) -> bool {
        let m = r & self.events;
        self.enabled
            && m != 0
            && (self.events & EPOLLET == 0
                || self.ready.is_some()
                || m & !self.last != 0
                || ev != self.last_ev)
    }
}

#[derive(Default)]
struct State {
    entries: BTreeMap<Key, Entry>,
    /// Last ready-list position handed out.
    seq: u64,
}

/// An epoll instance.
pub struct Epoll {
    state: Mutex<State>,
    ino: u64,
}

static EPOLLS: Registry<Epoll> = Registry::new();
/// Serializes adding epoll instances to one another, so loop checks see a stable graph.
static NESTING: Mutex<()> = Mutex::new(());

fn key(fd: i32, f: &Arc<OpenFile>) -> Key {
    (fd, Arc::as_ptr(f) as usize)
}

impl Epoll {
    fn open() -> Arc<OpenFile> {
        let e = Arc::new(Epoll {
            state: Mutex::new(State::default()),
            ino: anon_ino(),
        });
        EPOLLS.add(&e);
        OpenFile::new(e, libc::O_RDWR as u32)
    }

    fn of(f: &OpenFile) -> Option<Arc<Epoll>> {
        EPOLLS.find(&f.ops)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Samples every entry: (key, its file, readiness, or None when the file is gone).
    /// Files are polled without the lock held (a file may be another epoll).
    fn poll_all(&self) -> Vec<Polled> {
        let snap: Vec<(Key, Weak<OpenFile>, bool)> = self
            .lock()
            .entries
            .iter()
            .map(|(k, e)| (*k, e.file.clone(), e.enabled))
            .collect();
        let poll = |f: Arc<OpenFile>, on: bool| {
            let r = if on { f.ops.poll_ready() as u32 } else { 0 };
            (r, f.ops.event_count())
        };
        let sample = |(k, w, on): (Key, Weak<OpenFile>, bool)| {
            let r = w.upgrade().map(|f| poll(f, on));
            (k, w, r)
        };
        snap.into_iter().map(sample).collect()
    }

    /// Takes up to `max` ready events (events, data), updating ET and ONESHOT state;
    /// `blocked` is how long the calling epoll_wait has been blocking.
    fn collect(&self, max: usize, blocked: Duration) -> Vec<(u32, u64)> {
        let polled = self.poll_all();
        let mut st = self.lock();
        let State { entries, seq } = &mut *st;
        let mut now = BTreeMap::new();
        for (k, w, r) in polled {
            let Some(e) = entries.get_mut(&k).filter(|e| Weak::ptr_eq(&e.file, &w)) else {
                continue;
            };
            match r {
                Some((r, ev)) => {
                    e.sample(r, ev, seq, blocked);
                    now.insert(k, r);
                }
                None => {
                    entries.remove(&k);
                }
            }
        }
        let mut ready: Vec<(u64, Key)> = entries
            .iter()
            .filter_map(|(k, e)| e.ready.map(|s| (s, *k)))
            .collect();
        ready.sort_unstable();
        let mut out = Vec::new();
        for (_, k) in ready.into_iter().take(max) {
            let Some(e) = entries.get_mut(&k) else {
                continue;
            };
            let m = now.get(&k).copied().unwrap_or(0) & e.events;
            out.push((m & 0xffff, e.data));
            if e.events & EPOLLONESHOT != 0 {
                e.enabled = false;
                e.ready = None;
            } else if e.events & EPOLLET != 0 {
                e.ready = None;
            } else {
                *seq += 1;
                e.ready = Some(*seq);
            }
        }
        out
    }

    /// The epoll instances this one watches.
    fn children(&self) -> Vec<Arc<Epoll>> {
        let files: Vec<Weak<OpenFile>> = self
            .lock()
            .entries
            .values()
            .map(|e| e.file.clone())
            .collect();
        files
            .iter()
            .filter_map(Weak::upgrade)
            .filter_map(|f| Epoll::of(&f))
            .collect()
    }

    /// ELOOP if `goal` is reachable from `self`, or the nesting below it is too deep.
    fn check_loop(self: &Arc<Self>, goal: &Arc<Epoll>, depth: usize) -> Result<(), Errno> {
        if depth > MAX_NESTS {
            return Err(Errno::ELOOP);
        }
        for c in self.children() {
            if Arc::ptr_eq(&c, goal) {
                return Err(Errno::ELOOP);
            }
            c.check_loop(goal, depth + 1)?;
        }
        Ok(())
    }

    /// EPOLL_CTL_ADD / MOD / DEL of `file` at descriptor `fd`.
    fn ctl(
        &self,
        op: i32,
        fd: i32,
        file: &Arc<OpenFile>,
        events: u32,
        data: u64,
    ) -> Result<(), Errno> {
        let k = key(fd, file);
        let events = (events | EPOLLERR | EPOLLHUP) & !EPOLLWAKEUP;
        // Linux looks at a file's readiness when it is added or modified.
        let r = if op == libc::EPOLL_CTL_DEL {
            0
        } else {
            file.ops.poll_ready() as u32
        };
        let mut st = self.lock();
        let State { entries, seq } = &mut *st;
        match op {
            libc::EPOLL_CTL_ADD => {
                if entries.contains_key(&k) {
                    return Err(Errno::EEXIST);
                }
                let mut e = Entry::new(file, events, data);
                e.sample(r, file.ops.event_count(), seq, Duration::ZERO);
                entries.insert(k, e);
            }
            libc::EPOLL_CTL_MOD => {
                let e = entries.get_mut(&k).ok_or(Errno::ENOENT)?;
                if e.events & EPOLLEXCLUSIVE != 0 {
                    return Err(Errno::EINVAL);
                }
                *e = Entry::new(file, events, data);
                e.sample(r, file.ops.event_count(), seq, Duration::ZERO);
            }
            libc::EPOLL_CTL_DEL => {
                entries.remove(&k).ok_or(Errno::ENOENT)?;
            }
            _ => return Err(Errno::EINVAL),
        }
        Ok(())
    }
}

impl Drop for Epoll {
    fn drop(&mut self) {
        EPOLLS.remove(self);
    }
}

impl FileOps for Epoll {
    /// Readable when an epoll_wait would return something (nested epoll, poll, select).
    fn poll_ready(&self) -> u16 {
        let polled = self.poll_all();
        let st = self.lock();
        let any = polled.iter().any(|(k, _, r)| {
            r.is_some_and(|(r, ev)| st.entries.get(k).is_some_and(|e| e.would_report(r, ev)))
        });
        if any {
            libc::POLLIN as u16
        } else {
            0
        }
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(anon_stat(self.ino))
    }
}

fn new_epoll(t: &mut Task, cloexec: bool) -> SysResult {
    Ok(t.fds().insert(Epoll::open(), cloexec, 0)? as u64)
}

/// epoll_create(size): size is a hint and must be positive.
pub fn epoll_create(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[0] as i32 <= 0 {
        return Err(Errno::EINVAL);
    }
    new_epoll(t, false)
}

/// epoll_create1(flags).
pub fn epoll_create1(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[0] & !(libc::EPOLL_CLOEXEC as u64) != 0 {
        return Err(Errno::EINVAL);
    }
    new_epoll(t, a[0] != 0)
}

/// Whether epoll may watch `f`: files without a poll operation (regular files, directories,
/// /dev/null, /dev/zero, /dev/full, /dev/urandom) cannot be added (EPERM).
fn pollable(f: &OpenFile) -> bool {
    let Ok(st) = f.ops.stat() else { return true };
    match st.mode & libc::S_IFMT {
        libc::S_IFREG | libc::S_IFDIR => false,
        libc::S_IFCHR => {
            !(libc::major(st.rdev) == 1 && matches!(libc::minor(st.rdev), 3 | 5 | 7 | 9))
        }
        _ => true,
    }
}

/// A descriptor as epoll_ctl and epoll_wait accept it (O_PATH ones are EBADF).
fn get_fd(t: &Task, fd: u64) -> Result<Arc<OpenFile>, Errno> {
    let f = t.fds().get(fd as i32)?;
    if f.flags() & libc::O_PATH as u32 != 0 {
        return Err(Errno::EBADF);
    }
    Ok(f)
}

/// epoll_ctl(epfd, op, fd, event).
pub fn epoll_ctl(t: &mut Task, a: [u64; 6]) -> SysResult {
    let op = a[1] as i32;
    let (events, data) = if op == libc::EPOLL_CTL_DEL {
        (0, 0)
    } else {
        let mut b = [0u8; EVENT_SIZE];
        t.read_mem(a[3], &mut b)?;
        (
            u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            u64::from_le_bytes(b[4..].try_into().unwrap_or_default()),
        )
    };
    let epf = get_fd(t, a[0])?;
    let tf = get_fd(t, a[2])?;
    if !pollable(&tf) {
        return Err(Errno::EPERM);
    }
    let ep = Epoll::of(&epf)
        .filter(|_| !Arc::ptr_eq(&epf, &tf))
        .ok_or(Errno::EINVAL)?;
    let target = Epoll::of(&tf);
    let exclusive_bad = op == libc::EPOLL_CTL_MOD
        || (op == libc::EPOLL_CTL_ADD && (target.is_some() || events & !EXCLUSIVE_OK != 0));
    if events & EPOLLEXCLUSIVE != 0 && exclusive_bad {
        return Err(Errno::EINVAL);
    }
    match (op, target) {
        (libc::EPOLL_CTL_ADD, Some(inner)) => {
            let _g = NESTING.lock().unwrap_or_else(|e| e.into_inner());
            inner.check_loop(&ep, 1)?;
            ep.ctl(op, a[2] as i32, &tf, events, data)?;
        }
        _ => ep.ctl(op, a[2] as i32, &tf, events, data)?,
    }
    Ok(0)
}

/// The wait shared by epoll_wait, epoll_pwait and epoll_pwait2; `deadline` None waits
/// forever.
fn wait(
    t: &mut Task,
    epfd: u64,
    events: u64,
    maxevents: u64,
    deadline: Option<Instant>,
) -> SysResult {
    let max = maxevents as i32 as i64;
    if max <= 0 || max > MAX_EVENTS {
        return Err(Errno::EINVAL);
    }
    let bytes = max as u64 * EVENT_SIZE as u64;
    if !matches!(events.checked_add(bytes), Some(end) if end <= TASK_SIZE) {
        return Err(Errno::EFAULT);
    }
    let f = get_fd(t, epfd)?;
    let ep = Epoll::of(&f).ok_or(Errno::EINVAL)?;
    // A signalfd in the set reports the signals of this task.
    crate::fs::signalfd::note_current(&t.sig, &t.tg);
    let start = Instant::now();
    loop {
        let got = ep.collect(max as usize, start.elapsed());
        if !got.is_empty() {
            let mut b = Vec::with_capacity(got.len() * EVENT_SIZE);
            for (ev, data) in &got {
                b.extend_from_slice(&ev.to_le_bytes());
                b.extend_from_slice(&data.to_le_bytes());
            }
            t.write_mem(events, &b)?;
            return Ok(got.len() as u64);
        }
        let now = Instant::now();
        if deadline.is_some_and(|d| now >= d) {
            return Ok(0);
        }
        if signal::interrupted() {
            return Err(Errno::EINTR);
        }
        let tick = now + SAMPLE;
        signal::sleep_interruptible(Some(deadline.map_or(tick, |d| d.min(tick))));
        if signal::interrupted() {
            return Err(Errno::EINTR);
        }
    }
}

fn ms_deadline(timeout: u64) -> Option<Instant> {
    let ms = timeout as i32;
    (ms >= 0).then(|| Instant::now() + Duration::from_millis(ms as u64))
}

/// epoll_wait(epfd, events, maxevents, timeout).
pub fn epoll_wait(t: &mut Task, a: [u64; 6]) -> SysResult {
    wait(t, a[0], a[1], a[2], ms_deadline(a[3]))
}

/// Runs `wait` with the signal mask at `mask_addr` (if any) in force; see the module doc.
fn with_sigmask(
    t: &mut Task,
    mask_addr: u64,
    size: u64,
    wait: impl FnOnce(&mut Task) -> SysResult,
) -> SysResult {
    if mask_addr == 0 {
        return wait(t);
    }
    if size != 8 {
        return Err(Errno::EINVAL);
    }
    let new = t.read_u64(mask_addr)? & !UNBLOCKABLE;
    let old = t.sig.mask.swap(new, Ordering::SeqCst);
    let r = wait(t);
    // Keep `new` for the handler only if a signal will be delivered under it.
    let exiting = t.tg.sig.exiting.load(Ordering::SeqCst);
    if r == Err(Errno::EINTR) && signal::interrupted() && !exiting {
        *t.sig.saved_mask.lock().unwrap_or_else(|e| e.into_inner()) = Some(old);
    } else {
        t.sig.mask.store(old, Ordering::SeqCst);
    }
    r
}

/// epoll_pwait(epfd, events, maxevents, timeout, sigmask, sigsetsize).
pub fn epoll_pwait(t: &mut Task, a: [u64; 6]) -> SysResult {
    with_sigmask(t, a[4], a[5], |t| {
        wait(t, a[0], a[1], a[2], ms_deadline(a[3]))
    })
}

/// epoll_pwait2(epfd, events, maxevents, timeout timespec, sigmask, sigsetsize).
pub fn epoll_pwait2(t: &mut Task, a: [u64; 6]) -> SysResult {
    let deadline = if a[3] == 0 {
        None
    } else {
        let mut b = [0u8; 16];
        t.read_mem(a[3], &mut b)?;
        let s = i64::from_le_bytes(b[..8].try_into().unwrap_or_default());
        let ns = i64::from_le_bytes(b[8..].try_into().unwrap_or_default());
        if s < 0 || !(0..1_000_000_000).contains(&ns) {
            return Err(Errno::EINVAL);
        }
        // A deadline past what Instant holds is no deadline.
        Instant::now().checked_add(Duration::new(s as u64, ns as u32))
    };
    with_sigmask(t, a[4], a[5], |t| wait(t, a[0], a[1], a[2], deadline))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::eventfd::EventFd;
    use libc::{EPOLL_CTL_ADD as ADD, EPOLL_CTL_DEL as DEL, EPOLL_CTL_MOD as MOD};

    const Z: Duration = Duration::ZERO;

    fn add(ep: &Epoll, fd: i32, f: &Arc<OpenFile>, events: u32) {
        assert_eq!(ep.ctl(ADD, fd, f, events, fd as u64), Ok(()));
    }

    fn epoll() -> Arc<Epoll> {
        Epoll::of(&Epoll::open()).expect("registered")
    }

    fn efd(n: u64) -> Arc<OpenFile> {
        EventFd::open(n, false, true)
    }

    #[test]
    fn level_triggered_reports_until_drained() {
        let (ep, e) = (epoll(), efd(0));
        add(&ep, 3, &e, EPOLLIN);
        assert_eq!(ep.ctl(ADD, 3, &e, EPOLLIN, 0), Err(Errno::EEXIST));
        assert!(ep.collect(8, Z).is_empty());
        e.write(&1u64.to_ne_bytes()).expect("write");
        assert_eq!(ep.collect(8, Z), vec![(EPOLLIN, 3)]);
        assert_eq!(ep.collect(8, Z), vec![(EPOLLIN, 3)]);
        e.read(&mut [0u8; 8]).expect("read");
        assert!(ep.collect(8, Z).is_empty());
        assert_eq!(ep.ctl(DEL, 3, &e, 0, 0), Ok(()));
        assert_eq!(ep.ctl(DEL, 3, &e, 0, 0), Err(Errno::ENOENT));
        assert_eq!(ep.ctl(MOD, 3, &e, EPOLLIN, 0), Err(Errno::ENOENT));
    }

    #[test]
    fn edge_and_oneshot() {
        let (ep, a, b) = (epoll(), efd(1), efd(1));
        add(&ep, 4, &a, EPOLLIN | EPOLLET);
        add(&ep, 5, &b, EPOLLIN | EPOLLONESHOT);
        assert_eq!(ep.collect(8, Z), vec![(EPOLLIN, 4), (EPOLLIN, 5)]);
        assert!(ep.collect(8, Z).is_empty());
        // A new edge on the ET entry; the one-shot one stays quiet until re-armed.
        a.read(&mut [0u8; 8]).expect("read");
        assert!(ep.collect(8, Z).is_empty());
        a.write(&1u64.to_ne_bytes()).expect("write");
        assert_eq!(ep.collect(8, Z), vec![(EPOLLIN, 4)]);
        assert_eq!(ep.ctl(MOD, 5, &b, EPOLLIN | EPOLLOUT, 9), Ok(()));
        assert_eq!(ep.collect(8, Z), vec![(EPOLLIN | EPOLLOUT, 9)]);
    }

    #[test]
    fn unchanged_edge_repeats_only_in_long_blocking_waits() {
        let (ep, a) = (epoll(), efd(1));
        add(&ep, 4, &a, EPOLLIN | EPOLLET);
        assert_eq!(ep.collect(8, Z), vec![(EPOLLIN, 4)]);
        assert!(ep.collect(8, ET_GRACE_MIN / 2).is_empty());
        assert_eq!(ep.collect(8, ET_GRACE_MIN), vec![(EPOLLIN, 4)]);
        // The next repeat needs twice as long.
        assert!(ep.collect(8, ET_GRACE_MIN).is_empty());
        assert_eq!(ep.collect(8, ET_GRACE_MIN * 2), vec![(EPOLLIN, 4)]);
        // A real transition starts over.
        a.read(&mut [0u8; 8]).expect("read");
        assert!(ep.collect(8, Z).is_empty());
        a.write(&1u64.to_ne_bytes()).expect("write");
        assert_eq!(ep.collect(8, Z), vec![(EPOLLIN, 4)]);
        assert_eq!(ep.collect(8, ET_GRACE_MIN), vec![(EPOLLIN, 4)]);
    }

    #[test]
    fn small_maxevents_rotates() {
        let ep = epoll();
        let files = [efd(1), efd(1), efd(1)];
        for (i, f) in files.iter().enumerate() {
            add(&ep, i as i32, f, EPOLLIN);
        }
        assert_eq!(ep.collect(2, Z), vec![(EPOLLIN, 0), (EPOLLIN, 1)]);
        assert_eq!(ep.collect(2, Z), vec![(EPOLLIN, 2), (EPOLLIN, 0)]);
    }

    #[test]
    fn closed_description_leaves_the_set() {
        let (ep, e) = (epoll(), efd(1));
        add(&ep, 7, &e, EPOLLIN);
        drop(e);
        assert!(ep.collect(8, Z).is_empty());
        assert!(ep.lock().entries.is_empty());
    }

    #[test]
    fn nesting_and_loops() {
        let (fa, fb) = (Epoll::open(), Epoll::open());
        let (a, b) = (Epoll::of(&fa).expect("a"), Epoll::of(&fb).expect("b"));
        let e = efd(1);
        add(&b, 3, &e, EPOLLIN);
        add(&a, 4, &fb, EPOLLIN);
        assert_eq!(fb.ops.poll_ready(), libc::POLLIN as u16);
        assert_eq!(a.collect(8, Z), vec![(EPOLLIN, 4)]);
        // b watching a would close a loop.
        assert_eq!(a.check_loop(&b, 1), Err(Errno::ELOOP));
    }
}
