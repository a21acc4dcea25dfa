//! eventfd(2): a 64-bit counter behind a descriptor.
//!
//! This file also holds what the anonymous-inode files (eventfd, timerfd, signalfd, epoll)
//! share: `FileLink` (the description a file object belongs to, for O_NONBLOCK set with
//! fcntl), `Registry` (finding the concrete object behind an `Arc<dyn FileOps>` without
//! `Any`), `anon_stat` and the interruptible wait `wait_tick`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, Weak};
use std::time::Duration;

use super::file::{FileOps, OpenFile, Stat};
use crate::errno::Errno;

/// How often a blocked reader or writer looks for signals.
pub const TICK: Duration = Duration::from_millis(10);

/// Largest value the counter may hold.
pub const EVENTFD_MAX: u64 = u64::MAX - 1;

/// The open description a file object belongs to: it carries the O_NONBLOCK status flag,
/// which fcntl(F_SETFL) may change after creation.
#[derive(Default)]
pub struct FileLink(OnceLock<Weak<OpenFile>>);

impl FileLink {
    /// Whether the description is in non-blocking mode.
    pub fn nonblocking(&self) -> bool {
        self.0
            .get()
            .and_then(Weak::upgrade)
            .is_some_and(|f| f.flags() & libc::O_NONBLOCK as u32 != 0)
    }
}

/// A new read-write description for `ops`, linked to it so `ops` sees its status flags.
pub fn anon_open(ops: Arc<dyn FileOps>, link: &FileLink, nonblock: bool) -> Arc<OpenFile> {
    let mut flags = libc::O_RDWR as u32;
    if nonblock {
        flags |= libc::O_NONBLOCK as u32;
    }
    let f = OpenFile::new(ops, flags);
    let _ = link.0.set(Arc::downgrade(&f));
    f
}

/// Objects of one kind, by address, so that a syscall can find the `T` behind an open
/// file's `Arc<dyn FileOps>`. Entries are added on creation and removed by `T`'s Drop.
pub struct Registry<T> {
    map: Mutex<BTreeMap<usize, Weak<T>>>,
}

impl<T> Registry<T> {
    /// An empty registry (for a `static`).
    pub const fn new() -> Registry<T> {
        Registry {
            map: Mutex::new(BTreeMap::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<usize, Weak<T>>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records `obj`.
    pub fn add(&self, obj: &Arc<T>) {
        self.lock()
            .insert(Arc::as_ptr(obj) as *const () as usize, Arc::downgrade(obj));
    }

    /// Forgets the object at `obj` (call from its Drop).
    pub fn remove(&self, obj: &T) {
        self.lock().remove(&(obj as *const T as *const () as usize));
    }

    /// The `T` that `ops` is, if it is one.
    pub fn find(&self, ops: &Arc<dyn FileOps>) -> Option<Arc<T>> {
        self.lock()
            .get(&(Arc::as_ptr(ops) as *const () as usize))
            .and_then(Weak::upgrade)
    }
}

impl<T> Default for Registry<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// A fresh inode number for an anonymous file.
pub fn anon_ino() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// fstat of an anonymous-inode file (no file type bits, mode 0600, as Linux reports).
pub fn anon_stat(ino: u64) -> Stat {
    Stat {
        dev: 14,
        ino,
        mode: 0o600,
        nlink: 1,
        blksize: 4096,
        ..Stat::default()
    }
}

/// Waits on `cv` for at most one tick (or `max` if shorter); `ERESTARTSYS` if the task has a
/// signal to take meanwhile.
pub fn wait_tick<'a, S>(
    cv: &Condvar,
    g: MutexGuard<'a, S>,
    max: Option<Duration>,
) -> Result<MutexGuard<'a, S>, Errno> {
    let d = max.map_or(TICK, |m| m.min(TICK));
    let g = cv.wait_timeout(g, d).unwrap_or_else(|e| e.into_inner()).0;
    if crate::kernel::signal::interrupted() {
        return Err(Errno::ERESTARTSYS);
    }
    Ok(g)
}

/// What a read takes from a counter holding `count`, if it may take anything now.
pub fn counter_read(count: &mut u64, semaphore: bool) -> Option<u64> {
    if *count == 0 {
        return None;
    }
    let v = if semaphore { 1 } else { *count };
    *count -= v;
    Some(v)
}

/// Adds `v` to a counter holding `count`: Ok(true) when done, Ok(false) when the sum would
/// pass `EVENTFD_MAX` (the writer must wait for a read), EINVAL for the value `u64::MAX`.
pub fn counter_write(count: &mut u64, v: u64) -> Result<bool, Errno> {
    if v == u64::MAX {
        return Err(Errno::EINVAL);
    }
    if EVENTFD_MAX - *count < v {
        return Ok(false);
    }
    *count += v;
    Ok(true)
}

/// An eventfd object.
pub struct EventFd {
    count: Mutex<u64>,
    cv: Condvar,
    semaphore: bool,
    link: FileLink,
    ino: u64,
}

impl EventFd {
    /// A new eventfd's open description.
    pub fn open(initval: u64, semaphore: bool, nonblock: bool) -> Arc<OpenFile> {
        let e = Arc::new(EventFd {
            count: Mutex::new(initval),
            cv: Condvar::new(),
            semaphore,
            link: FileLink::default(),
            ino: anon_ino(),
        });
        anon_open(e.clone(), &e.link, nonblock)
    }

    fn lock(&self) -> MutexGuard<'_, u64> {
        self.count.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl FileOps for EventFd {
    fn read(&self, buf: &mut [u8], _off: Option<u64>) -> Result<usize, Errno> {
        if buf.len() < 8 {
            return Err(Errno::EINVAL);
        }
        let mut g = self.lock();
        loop {
            if let Some(v) = counter_read(&mut g, self.semaphore) {
                buf[..8].copy_from_slice(&v.to_ne_bytes());
                self.cv.notify_all();
                return Ok(8);
            }
            if self.link.nonblocking() {
                return Err(Errno::EAGAIN);
            }
            g = wait_tick(&self.cv, g, None)?;
        }
    }

    fn write(&self, data: &[u8], _off: Option<u64>) -> Result<usize, Errno> {
        // Current Linux takes exactly 8 bytes (older kernels took the first 8 of more).
        if data.len() != 8 {
            return Err(Errno::EINVAL);
        }
        let v = u64::from_ne_bytes(data[..8].try_into().map_err(|_| Errno::EINVAL)?);
        let mut g = self.lock();
        loop {
            if counter_write(&mut g, v)? {
                self.cv.notify_all();
                return Ok(8);
            }
            if self.link.nonblocking() {
                return Err(Errno::EAGAIN);
            }
            g = wait_tick(&self.cv, g, None)?;
        }
    }

    fn poll_ready(&self) -> u16 {
        let c = *self.lock();
        let mut r = 0;
        if c > 0 {
            r |= libc::POLLIN;
        }
        if c < EVENTFD_MAX {
            r |= libc::POLLOUT;
        }
        if c == u64::MAX {
            r |= libc::POLLERR;
        }
        r as u16
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(anon_stat(self.ino))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_read_takes_everything() {
        let mut c = 5;
        assert_eq!(counter_read(&mut c, false), Some(5));
        assert_eq!(c, 0);
        assert_eq!(counter_read(&mut c, false), None);
    }

    #[test]
    fn semaphore_read_takes_one() {
        let mut c = 2;
        assert_eq!(counter_read(&mut c, true), Some(1));
        assert_eq!(counter_read(&mut c, true), Some(1));
        assert_eq!(counter_read(&mut c, true), None);
    }

    #[test]
    fn write_limits() {
        let mut c = 0;
        assert_eq!(counter_write(&mut c, u64::MAX), Err(Errno::EINVAL));
        assert_eq!(counter_write(&mut c, EVENTFD_MAX), Ok(true));
        assert_eq!(counter_write(&mut c, 1), Ok(false));
        assert_eq!(counter_write(&mut c, 0), Ok(true));
        assert_eq!(c, EVENTFD_MAX);
        let mut c = 10;
        assert_eq!(counter_write(&mut c, EVENTFD_MAX - 10), Ok(true));
        assert_eq!(counter_write(&mut c, 1), Ok(false));
    }

    #[test]
    fn file_ops_nonblocking() {
        let f = EventFd::open(0, false, true);
        let mut b = [0u8; 8];
        assert_eq!(f.read(&mut b), Err(Errno::EAGAIN));
        assert_eq!(f.read(&mut [0u8; 4]), Err(Errno::EINVAL));
        assert_eq!(f.ops.poll_ready(), libc::POLLOUT as u16);
        assert_eq!(f.write(&3u64.to_ne_bytes()), Ok(8));
        assert_eq!(f.ops.poll_ready(), (libc::POLLIN | libc::POLLOUT) as u16);
        assert_eq!(f.write(&EVENTFD_MAX.to_ne_bytes()), Err(Errno::EAGAIN));
        assert_eq!(f.read(&mut b), Ok(8));
        assert_eq!(u64::from_ne_bytes(b), 3);
        // fcntl(F_SETFL) clears O_NONBLOCK: the description's flags are what counts.
        f.flags.store(libc::O_RDWR as u32, Ordering::Relaxed);
        let e = f.ops.clone();
        let h = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(30));
            e.write(&7u64.to_ne_bytes(), None)
        });
        assert_eq!(f.read(&mut b), Ok(8));
        assert_eq!(u64::from_ne_bytes(b), 7);
        assert_eq!(h.join().ok(), Some(Ok(8)));
    }

    #[test]
    fn registry_finds_by_address() {
        struct Dummy;
        impl FileOps for Dummy {
            fn stat(&self) -> Result<Stat, Errno> {
                Ok(Stat::default())
            }
        }
        static R: Registry<Dummy> = Registry::new();
        let d = Arc::new(Dummy);
        R.add(&d);
        let ops: Arc<dyn FileOps> = d.clone();
        assert!(R.find(&ops).is_some());
        let other: Arc<dyn FileOps> = Arc::new(Dummy);
        assert!(R.find(&other).is_none());
        R.remove(&d);
        assert!(R.find(&ops).is_none());
    }
}
