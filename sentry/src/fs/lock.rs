//! Advisory file locks, kept as Linux keeps them: flock(2) locks, and fcntl record locks
//! owned by a process (POSIX locks) or by an open file description (OFD locks). One table,
//! keyed by the file's identity (`st_dev`, `st_ino` of `FileOps::stat`), so that every open
//! of a file (private tmpfs or host) sees the same locks.
//!
//! Owners and their lifetimes:
//! - flock and OFD locks belong to an open file description, named by its address; they go
//!   when the description does (`description_closed`, from `OpenFile`'s drop).
//! - POSIX record locks belong to a process (tgid); they go when the process closes any
//!   descriptor of the file (`fd_closed`, from the descriptor table) and when it exits
//!   (`process_exited`). fork does not pass them on: the child is another owner.
//!
//! flock locks and record locks are independent; POSIX and OFD locks share one list per file
//! and conflict with each other (even within one process).
//!
//! A blocking request waits on one condition variable, notified whenever locks change; the
//! wait registers a waker with the task (as pipes do), so that a signal ends it at once with
//! ERESTARTSYS (restarted under SA_RESTART, as Linux does for flock and F_SETLKW).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use super::file::OpenFile;
use crate::errno::Errno;
use crate::kernel::signal;

/// A file's identity: (st_dev, st_ino).
pub type FileKey = (u64, u64);

/// Linux's OFFSET_MAX: a range that ends here runs to the end of the file, however far.
pub const OFFSET_MAX: i64 = i64::MAX;

/// Steps of the deadlock detector's walk, as Linux's MAX_DEADLK_ITERATIONS.
const MAX_DEADLK_ITERATIONS: usize = 10;

/// A blocked request is woken by a change of the locks or by a signal (its waker); this
/// bounds a wait should a wake-up ever be missed.
const TICK: std::time::Duration = std::time::Duration::from_secs(1);

/// Who holds a lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Owner {
    /// POSIX record locks: the process (tgid).
    Process(i32),
    /// flock and OFD locks: the open file description (its address).
    Description(usize),
}

impl Owner {
    /// The owner of flock and OFD locks taken through `file`.
    pub fn description(file: &OpenFile) -> Owner {
        Owner::Description(file as *const OpenFile as usize)
    }
}

/// Shared (read) or exclusive (write).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockType {
    Read,
    Write,
}

impl LockType {
    fn conflicts(self, other: LockType) -> bool {
        self == LockType::Write || other == LockType::Write
    }
}

/// A byte-range lock on `[start, end]` (`end` inclusive; `OFFSET_MAX`: to end of file).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RangeLock {
    pub owner: Owner,
    /// The process that took it (what F_GETLK reports for a POSIX lock).
    pub pid: i32,
    pub start: i64,
    pub end: i64,
    pub ty: LockType,
}

impl RangeLock {
    fn overlaps(&self, start: i64, end: i64) -> bool {
        self.start <= end && start <= self.end
    }
}

/// The locks on one file.
#[derive(Default)]
struct FileLocks {
    /// flock locks: (description, type), at most one per description.
    flocks: Vec<(usize, LockType)>,
    /// POSIX and OFD locks, grouped by owner (in the order owners first locked) and sorted
    /// by start within an owner, never overlapping nor adjacent with the same type within an
    /// owner: F_GETLK reports the first conflict in this order, as Linux does.
    ranges: Vec<RangeLock>,
}

impl FileLocks {
    fn is_empty(&self) -> bool {
        self.flocks.is_empty() && self.ranges.is_empty()
    }

    fn holds(&self, owner: Owner) -> bool {
        self.ranges.iter().any(|l| l.owner == owner)
            || matches!(owner, Owner::Description(d) if self.flocks.iter().any(|f| f.0 == d))
    }

    /// The first lock of another owner that a request for `ty` on `[start, end]` by `owner`
    /// conflicts with.
    fn conflict(&self, owner: Owner, start: i64, end: i64, ty: LockType) -> Option<RangeLock> {
        self.ranges
            .iter()
            .find(|l| l.owner != owner && l.overlaps(start, end) && l.ty.conflicts(ty))
            .copied()
    }

    /// Sets `owner`'s locks on `[start, end]` to `ty` (None: unlocks), splitting and merging
    /// its other locks as POSIX says.
    fn set_range(&mut self, owner: Owner, pid: i32, start: i64, end: i64, ty: Option<LockType>) {
        let at = self
            .ranges
            .iter()
            .position(|l| l.owner == owner)
            .unwrap_or(self.ranges.len());
        let mut pieces = Vec::new();
        self.ranges.retain(|l| {
            if l.owner != owner {
                return true;
            }
            if !l.overlaps(start, end) {
                pieces.push(*l);
            } else {
                // What sticks out on either side survives (start > 0 and end < OFFSET_MAX
                // when it does: no overflow).
                if l.start < start {
                    pieces.push(RangeLock {
                        end: start - 1,
                        ..*l
                    });
                }
                if l.end > end {
                    pieces.push(RangeLock {
                        start: end + 1,
                        ..*l
                    });
                }
            }
            false
        });
        if let Some(ty) = ty {
            pieces.push(RangeLock {
                owner,
                pid,
                start,
                end,
                ty,
            });
        }
        pieces.sort_by_key(|l| l.start);
        let mut merged: Vec<RangeLock> = Vec::with_capacity(pieces.len());
        for l in pieces {
            if let Some(last) = merged.last_mut() {
                if last.ty == l.ty && last.end.saturating_add(1) >= l.start {
                    last.end = last.end.max(l.end);
                    continue;
                }
            }
            merged.push(l);
        }
        self.ranges.splice(at..at, merged);
    }

    /// Drops every lock of `owner`; whether there was any.
    fn release(&mut self, owner: Owner) -> bool {
        let before = self.ranges.len() + self.flocks.len();
        self.ranges.retain(|l| l.owner != owner);
        if let Owner::Description(d) = owner {
            self.flocks.retain(|f| f.0 != d);
        }
        before != self.ranges.len() + self.flocks.len()
    }
}

/// A blocked POSIX (not OFD) request, for deadlock detection.
struct Waiter {
    id: u64,
    tgid: i32,
    key: FileKey,
    start: i64,
    end: i64,
    ty: LockType,
}

struct Table {
    files: BTreeMap<FileKey, FileLocks>,
    /// The files on which each owner holds locks.
    by_owner: BTreeMap<Owner, Vec<FileKey>>,
    waiters: Vec<Waiter>,
}

static TABLE: Mutex<Table> = Mutex::new(Table {
    files: BTreeMap::new(),
    by_owner: BTreeMap::new(),
    waiters: Vec::new(),
});
/// Notified whenever locks go, shrink or change type (and by a blocked task's waker).
static CHANGED: Condvar = Condvar::new();
/// How many owners hold locks: when 0, closes and exits need not look at the table.
static OWNERS: AtomicUsize = AtomicUsize::new(0);
static NEXT_WAITER: AtomicU64 = AtomicU64::new(1);

fn table() -> MutexGuard<'static, Table> {
    TABLE.lock().unwrap_or_else(|e| e.into_inner())
}

impl Table {
    /// Keeps `by_owner` and the file entry of `key` in step after `owner`'s locks on it
    /// changed.
    fn note(&mut self, key: FileKey, owner: Owner) {
        let holds = self.files.get(&key).is_some_and(|f| f.holds(owner));
        let keys = self.by_owner.entry(owner).or_default();
        let had = keys.contains(&key);
        if holds && !had {
            keys.push(key);
        } else if !holds && had {
            keys.retain(|k| *k != key);
        }
        if keys.is_empty() {
            self.by_owner.remove(&owner);
        }
        if self.files.get(&key).is_some_and(FileLocks::is_empty) {
            self.files.remove(&key);
        }
        OWNERS.store(self.by_owner.len(), Ordering::Relaxed);
    }

    /// Drops every lock of `owner` on every file, waking waiters.
    fn release_all(&mut self, owner: Owner) {
        let Some(keys) = self.by_owner.get(&owner).cloned() else {
            return;
        };
        for key in keys {
            if let Some(f) = self.files.get_mut(&key) {
                f.release(owner);
            }
            self.note(key, owner);
        }
        CHANGED.notify_all();
    }

    /// Drops `owner`'s locks on `key`, waking waiters.
    fn release_on(&mut self, key: FileKey, owner: Owner) {
        if let Some(f) = self.files.get_mut(&key) {
            if f.release(owner) {
                CHANGED.notify_all();
            }
        }
        self.note(key, owner);
    }

    fn conflict(
        &self,
        key: FileKey,
        owner: Owner,
        start: i64,
        end: i64,
        ty: LockType,
    ) -> Option<RangeLock> {
        self.files.get(&key)?.conflict(owner, start, end, ty)
    }

    /// Whether process `me`, about to wait for a lock of `blocker`, would close a cycle of
    /// processes waiting for each other (Linux's posix_locks_deadlock).
    fn deadlock(&self, me: i32, mut blocker: Owner) -> bool {
        for _ in 0..=MAX_DEADLK_ITERATIONS {
            let Owner::Process(p) = blocker else {
                return false;
            };
            let Some(w) = self.waiters.iter().find(|w| w.tgid == p) else {
                return false;
            };
            let Some(next) = self.conflict(w.key, Owner::Process(p), w.start, w.end, w.ty) else {
                return false;
            };
            if next.owner == Owner::Process(me) {
                return true;
            }
            blocker = next.owner;
        }
        false
    }
}

/// The identity of `file` for the lock table.
pub fn key_of(file: &OpenFile) -> Result<FileKey, Errno> {
    let st = file.ops.stat()?;
    Ok((st.dev, st.ino))
}

/// Runs `attempt` under the table lock until it answers; `Ok(None)` means "blocked": with
/// `wait`, sleep until the locks change or a signal comes (ERESTARTSYS), else EAGAIN.
fn blocking<R>(
    wait: bool,
    mut attempt: impl FnMut(&mut Table) -> Result<Option<R>, Errno>,
) -> Result<R, Errno> {
    if !wait {
        return attempt(&mut table())?.ok_or(Errno::EAGAIN);
    }
    let waker: signal::Waker = Arc::new(|| {
        let _g = table();
        CHANGED.notify_all();
    });
    signal::with_waker(waker, || {
        let mut tb = table();
        loop {
            if let Some(r) = attempt(&mut tb)? {
                return Ok(r);
            }
            // Checked under the table lock, which the waker takes: no signal is missed
            // between this check and the wait.
            if signal::interrupted() {
                return Err(Errno::ERESTARTSYS);
            }
            tb = CHANGED
                .wait_timeout(tb, TICK)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    })
}

/// flock(2) on `file`: `ty` None unlocks. Converting a lock first drops the old one, as
/// Linux does (a conversion that fails leaves no lock).
pub fn flock(file: &OpenFile, ty: Option<LockType>, wait: bool) -> Result<(), Errno> {
    let key = key_of(file)?;
    let desc = file as *const OpenFile as usize;
    let owner = Owner::Description(desc);
    blocking(wait, |tb| {
        let f = tb.files.entry(key).or_default();
        if let Some(i) = f.flocks.iter().position(|l| l.0 == desc) {
            if Some(f.flocks[i].1) == ty {
                return Ok(Some(()));
            }
            f.flocks.remove(i);
            CHANGED.notify_all();
        }
        let Some(ty) = ty else {
            tb.note(key, owner);
            return Ok(Some(()));
        };
        if f.flocks.iter().any(|l| l.0 != desc && l.1.conflicts(ty)) {
            tb.note(key, owner);
            return Ok(None);
        }
        f.flocks.push((desc, ty));
        tb.note(key, owner);
        Ok(Some(()))
    })
}

/// F_GETLK / F_OFD_GETLK: the first lock that would block `owner`'s request for `ty` on
/// `[start, end]`. `ty` None (F_OFD_GETLK with F_UNLCK) asks for the owner's own locks.
pub fn test(
    file: &OpenFile,
    owner: Owner,
    start: i64,
    end: i64,
    ty: Option<LockType>,
) -> Result<Option<RangeLock>, Errno> {
    let key = key_of(file)?;
    let tb = table();
    let Some(f) = tb.files.get(&key) else {
        return Ok(None);
    };
    Ok(match ty {
        Some(ty) => f.conflict(owner, start, end, ty),
        None => f
            .ranges
            .iter()
            .find(|l| l.owner == owner && l.overlaps(start, end))
            .copied(),
    })
}

/// F_SETLK / F_SETLKW and their OFD forms: sets `owner`'s locks on `[start, end]` of `file`
/// to `ty` (None: unlocks). EAGAIN on a conflict without `wait`; EDEADLK when a process would
/// wait for a process that waits for it.
pub fn set_range(
    file: &OpenFile,
    owner: Owner,
    pid: i32,
    (start, end): (i64, i64),
    ty: Option<LockType>,
    wait: bool,
) -> Result<(), Errno> {
    let key = key_of(file)?;
    let id = NEXT_WAITER.fetch_add(1, Ordering::Relaxed);
    let r = blocking(wait, |tb| {
        tb.waiters.retain(|w| w.id != id);
        if let Some(ty) = ty {
            if let Some(c) = tb.conflict(key, owner, start, end, ty) {
                if let (true, Owner::Process(me)) = (wait, owner) {
                    if tb.deadlock(me, c.owner) {
                        return Err(Errno(libc::EDEADLK));
                    }
                    tb.waiters.push(Waiter {
                        id,
                        tgid: me,
                        key,
                        start,
                        end,
                        ty,
                    });
                }
                return Ok(None);
            }
        }
        tb.files
            .entry(key)
            .or_default()
            .set_range(owner, pid, start, end, ty);
        tb.note(key, owner);
        CHANGED.notify_all();
        Ok(Some(()))
    });
    if wait {
        table().waiters.retain(|w| w.id != id);
    }
    r
}

/// A process closed a descriptor of `file`: it loses its POSIX locks on the file (the
/// process is the one running on this thread).
pub fn fd_closed(file: &OpenFile) {
    if OWNERS.load(Ordering::Relaxed) == 0 {
        return;
    }
    let Some(tg) = signal::current_group() else {
        return;
    };
    let owner = Owner::Process(tg.tgid);
    if !table().by_owner.contains_key(&owner) {
        return;
    }
    if let Ok(key) = key_of(file) {
        table().release_on(key, owner);
    }
}

/// The last reference to the open file description at `file` went: its flock and OFD locks
/// go with it.
pub fn description_closed(file: &OpenFile) {
    if OWNERS.load(Ordering::Relaxed) == 0 {
        return;
    }
    table().release_all(Owner::description(file));
}

/// Process `tgid` exited: its POSIX locks go.
pub fn process_exited(tgid: i32) {
    if OWNERS.load(Ordering::Relaxed) == 0 {
        return;
    }
    let mut tb = table();
    tb.waiters.retain(|w| w.tgid != tgid);
    tb.release_all(Owner::Process(tgid));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(owner: i32, start: i64, end: i64, ty: LockType) -> RangeLock {
        RangeLock {
            owner: Owner::Process(owner),
            pid: owner,
            start,
            end,
            ty,
        }
    }

    fn spans(f: &FileLocks) -> Vec<(i64, i64, LockType)> {
        f.ranges.iter().map(|l| (l.start, l.end, l.ty)).collect()
    }

    #[test]
    fn split_and_merge() {
        use LockType::*;
        let mut f = FileLocks::default();
        let o = Owner::Process(1);
        f.set_range(o, 1, 0, 99, Some(Write));
        f.set_range(o, 1, 40, 59, None);
        assert_eq!(spans(&f), vec![(0, 39, Write), (60, 99, Write)]);
        f.set_range(o, 1, 40, 59, Some(Read));
        assert_eq!(
            spans(&f),
            vec![(0, 39, Write), (40, 59, Read), (60, 99, Write)]
        );
        f.set_range(o, 1, 30, 69, Some(Write));
        assert_eq!(spans(&f), vec![(0, 99, Write)]);
        f.set_range(o, 1, 100, OFFSET_MAX, Some(Write));
        assert_eq!(spans(&f), vec![(0, OFFSET_MAX, Write)]);
        f.set_range(o, 1, 0, OFFSET_MAX, None);
        assert!(f.is_empty());
    }

    #[test]
    fn conflicts_and_owner_order() {
        use LockType::*;
        let mut f = FileLocks::default();
        f.set_range(Owner::Process(2), 2, 50, 59, Some(Read));
        f.set_range(Owner::Process(1), 1, 0, 9, Some(Write));
        f.set_range(Owner::Process(2), 2, 20, 29, Some(Read));
        // Owner 2's locks come first (it locked first), sorted by start.
        assert_eq!(f.ranges[0], w(2, 20, 29, Read));
        assert_eq!(
            f.conflict(Owner::Process(3), 0, 100, Read),
            Some(w(1, 0, 9, Write))
        );
        assert_eq!(
            f.conflict(Owner::Process(3), 0, 100, Write),
            Some(w(2, 20, 29, Read))
        );
        assert_eq!(f.conflict(Owner::Process(2), 50, 59, Write), None);
        assert!(f.release(Owner::Process(2)));
        assert_eq!(spans(&f), vec![(0, 9, Write)]);
    }
}
