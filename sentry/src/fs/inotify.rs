//! inotify(7): instances (watch descriptors and an event queue behind a descriptor) and the
//! notification hub the Sentry's file operations report to.
//!
//! Watches are on inodes, named by `(st_dev, st_ino)` ([`Ident`]). The hub maps each watched
//! inode to the instances and descriptors watching it. Operations report to it after they
//! succeed:
//!
//! - tmpfs operations on names (through `fs::tmpfs::notify`, which knows the directory and
//!   child inodes): [`created`], [`linked`], [`removed`], [`moved`];
//! - file operations on open descriptions (any file opened by path, on any filesystem):
//!   [`opened`], [`io_done`], [`listed`], [`fd_event`], [`closed`]; the directory holding the
//!   file is found from the path the description was opened by;
//! - attribute changes by path: [`path_event`].
//!
//! An event on a file goes first to the watch on its directory (with the file's name), then
//! to the watch on the file itself (without a name), as Linux orders them. Nobody watching
//! costs one atomic load per hook ([`active`]).
//!
//! An inode that loses its last name while open files still hold it goes away (IN_DELETE_SELF,
//! IN_IGNORED) when its last holder does: such inodes are kept as weak references and looked
//! at ([`sweep`]) whenever an event is sent or an instance is read or polled.
//!
//! Locks: the hub's watch table before an instance's state; neither is held while calling into
//! a filesystem, and the parent-directory cache is taken alone.

use std::any::Any;
use std::cell::Cell;
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, RwLock, Weak};

use super::eventfd::{anon_ino, anon_stat, wait_tick, Registry};
use super::file::{FileOps, IoctlReply, OpenFile, Stat};
use super::overlay::Node;
use super::tmpfs::{Creds, Resolution};
use super::vfs::{self, Place};
use crate::errno::Errno;
use crate::kernel::Kernel;

pub const IN_ACCESS: u32 = 0x1;
pub const IN_MODIFY: u32 = 0x2;
pub const IN_ATTRIB: u32 = 0x4;
pub const IN_CLOSE_WRITE: u32 = 0x8;
pub const IN_CLOSE_NOWRITE: u32 = 0x10;
pub const IN_OPEN: u32 = 0x20;
pub const IN_MOVED_FROM: u32 = 0x40;
pub const IN_MOVED_TO: u32 = 0x80;
pub const IN_CREATE: u32 = 0x100;
pub const IN_DELETE: u32 = 0x200;
pub const IN_DELETE_SELF: u32 = 0x400;
pub const IN_MOVE_SELF: u32 = 0x800;
/// Every event a watch can ask for.
pub const IN_ALL_EVENTS: u32 = 0xfff;
pub const IN_UNMOUNT: u32 = 0x2000;
pub const IN_Q_OVERFLOW: u32 = 0x4000;
pub const IN_IGNORED: u32 = 0x8000;
pub const IN_ONLYDIR: u32 = 0x0100_0000;
pub const IN_DONT_FOLLOW: u32 = 0x0200_0000;
pub const IN_EXCL_UNLINK: u32 = 0x0400_0000;
pub const IN_MASK_CREATE: u32 = 0x1000_0000;
pub const IN_MASK_ADD: u32 = 0x2000_0000;
pub const IN_ISDIR: u32 = 0x4000_0000;
pub const IN_ONESHOT: u32 = 0x8000_0000;
/// Every bit inotify_add_watch(2) accepts in a mask.
pub const IN_VALID_BITS: u32 = IN_ALL_EVENTS
    | IN_UNMOUNT
    | IN_Q_OVERFLOW
    | IN_IGNORED
    | IN_ONLYDIR
    | IN_DONT_FOLLOW
    | IN_EXCL_UNLINK
    | IN_MASK_CREATE
    | IN_MASK_ADD
    | IN_ISDIR
    | IN_ONESHOT;
/// What a watch keeps of the mask it was given: the events and the flags that act later.
const WATCH_BITS: u32 = IN_ALL_EVENTS | IN_ONESHOT | IN_EXCL_UNLINK;

/// Events an instance queues before the next one becomes IN_Q_OVERFLOW
/// (/proc/sys/fs/inotify/max_queued_events).
pub const MAX_QUEUED_EVENTS: usize = 16384;
/// Instances the sandbox may have (max_user_instances): EMFILE past it.
pub const MAX_INSTANCES: usize = 128;
/// Watches the sandbox may have (max_user_watches): ENOSPC past it.
pub const MAX_WATCHES: usize = 65536;
/// `sizeof(struct inotify_event)`.
const EVENT_HEADER: usize = 16;
/// FIONREAD.
const FIONREAD: u64 = 0x541b;

/// An inode: `(st_dev, st_ino)`.
pub type Ident = (u64, u64);

/// Watches in all instances (the hub's entries).
static WATCHES: AtomicUsize = AtomicUsize::new(0);
/// Of those, watches on directories (only they need a file's directory looked up).
static DIR_WATCHES: AtomicUsize = AtomicUsize::new(0);
/// Entries of `Hub::pending`.
static PENDING: AtomicUsize = AtomicUsize::new(0);
/// Live instances.
static INSTANCES: AtomicUsize = AtomicUsize::new(0);
/// The last rename cookie handed out.
static COOKIE: AtomicU32 = AtomicU32::new(0);

thread_local! {
    /// The file this thread's open(O_CREAT) created last (no IN_MODIFY for O_TRUNC then).
    static CREATED: Cell<Option<Ident>> = const { Cell::new(None) };
}

/// Whether anything is watched at all: the first thing every hook asks.
#[inline]
pub fn active() -> bool {
    WATCHES.load(Ordering::Relaxed) != 0
}

/// One watch as the hub sees it.
struct HubEntry {
    inst: Weak<Inotify>,
    wd: i32,
    is_dir: bool,
}

/// Unlinked inodes whose users may still keep them alive.
type Pending = Vec<(Ident, Weak<dyn Any + Send + Sync>)>;

struct Hub {
    watches: RwLock<BTreeMap<Ident, Vec<HubEntry>>>,
    pending: Mutex<Pending>,
    /// Identities of directories by absolute path (the directories of files reporting
    /// events); cleared whenever names change or a watch is added.
    parents: Mutex<BTreeMap<Vec<u8>, Ident>>,
    /// The kernel whose filesystems paths are looked up in.
    kernel: Mutex<Weak<Kernel>>,
}

static HUB: Hub = Hub {
    watches: RwLock::new(BTreeMap::new()),
    pending: Mutex::new(Vec::new()),
    parents: Mutex::new(BTreeMap::new()),
    kernel: Mutex::new(Weak::new()),
};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn watches_read() -> std::sync::RwLockReadGuard<'static, BTreeMap<Ident, Vec<HubEntry>>> {
    HUB.watches.read().unwrap_or_else(|e| e.into_inner())
}

fn watches_write() -> std::sync::RwLockWriteGuard<'static, BTreeMap<Ident, Vec<HubEntry>>> {
    HUB.watches.write().unwrap_or_else(|e| e.into_inner())
}

/// Forgets hub entry `e` in the counters.
fn uncount(e: &HubEntry) {
    WATCHES.fetch_sub(1, Ordering::Relaxed);
    if e.is_dir {
        DIR_WATCHES.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Removes the hub entry of watch `wd` of `inst` on `id`.
fn unhook(map: &mut BTreeMap<Ident, Vec<HubEntry>>, id: Ident, inst: *const Inotify, wd: i32) {
    if let Some(v) = map.get_mut(&id) {
        v.retain(|e| {
            let keep = !(Weak::as_ptr(&e.inst) == inst && e.wd == wd);
            if !keep {
                uncount(e);
            }
            keep
        });
        if v.is_empty() {
            map.remove(&id);
        }
    }
}

fn forget_parents() {
    lock(&HUB.parents).clear();
}

/// The flag for events about a directory.
fn isdir(is_dir: bool) -> u32 {
    if is_dir {
        IN_ISDIR
    } else {
        0
    }
}

/// Queues `mask` (with `name` for events on a directory's child) for every watch on `id`.
/// `unlinked`: the event is about a file that has no name left (IN_EXCL_UNLINK watches skip
/// it).
fn send(id: Ident, mask: u32, cookie: u32, name: &[u8], unlinked: bool) {
    let targets: Vec<(Arc<Inotify>, i32)> = {
        let map = watches_read();
        match map.get(&id) {
            Some(v) => v
                .iter()
                .filter_map(|e| Some((e.inst.upgrade()?, e.wd)))
                .collect(),
            None => return,
        }
    };
    for (inst, wd) in &targets {
        if inst.deliver(*wd, mask, cookie, name, unlinked) {
            unhook(&mut watches_write(), id, Arc::as_ptr(inst), *wd);
        }
    }
}

/// Inode `id` is gone: IN_DELETE_SELF, then IN_IGNORED, for every watch on it.
fn gone(id: Ident) {
    let targets: Vec<(Arc<Inotify>, i32)> = {
        let mut map = watches_write();
        match map.remove(&id) {
            Some(v) => v
                .iter()
                .filter_map(|e| {
                    uncount(e);
                    Some((e.inst.upgrade()?, e.wd))
                })
                .collect(),
            None => return,
        }
    };
    for (inst, wd) in &targets {
        inst.deliver(*wd, IN_DELETE_SELF, 0, b"", false);
        inst.drop_watch(*wd);
    }
}

/// Reports the inodes kept in `Hub::pending` that are gone by now.
pub fn sweep() {
    if PENDING.load(Ordering::Relaxed) == 0 {
        return;
    }
    let dead: Vec<Ident> = {
        let mut p = lock(&HUB.pending);
        let mut dead = Vec::new();
        p.retain(|(id, w)| {
            let alive = w.strong_count() > 0;
            if !alive {
                dead.push(*id);
            }
            alive
        });
        PENDING.store(p.len(), Ordering::Relaxed);
        dead
    };
    for id in dead {
        gone(id);
    }
}

/// What became of an inode that lost a name.
pub enum Fate {
    /// It still has other names.
    Linked,
    /// No names and no users: it is gone now.
    Gone,
    /// No names, but open files or mappings hold it: it is gone when they are.
    Held(Weak<dyn Any + Send + Sync>),
}

/// Acts on the fate of `id` after it lost a name.
fn settle(id: Ident, fate: Fate) {
    match fate {
        Fate::Linked => {}
        Fate::Gone => gone(id),
        Fate::Held(w) => {
            if watches_read().contains_key(&id) {
                let mut p = lock(&HUB.pending);
                p.push((id, w));
                PENDING.store(p.len(), Ordering::Relaxed);
            }
        }
    }
}

/// `name` was created in directory `dir` (open with O_CREAT, mkdir, symlink, mknod, bind).
pub fn created(dir: Ident, name: &[u8], is_dir: bool) {
    if !active() {
        return;
    }
    if is_dir {
        // A path may name a new directory now (the overlay's whiteouts are not seen here).
        forget_parents();
    }
    sweep();
    send(dir, IN_CREATE | isdir(is_dir), 0, name, false);
}

/// This thread's open(O_CREAT) is creating file `id`.
pub fn mark_created(id: Ident) {
    CREATED.with(|c| c.set(Some(id)));
}

/// link(2): `src` got the new name `name` in `dir`.
pub fn linked(dir: Ident, name: &[u8], src: Ident) {
    if !active() {
        return;
    }
    sweep();
    send(src, IN_ATTRIB, 0, b"", false);
    send(dir, IN_CREATE, 0, name, false);
}

/// unlink(2) or rmdir(2) removed `name` from `dir`; it named `child`.
pub fn removed(dir: Ident, name: &[u8], child: Ident, is_dir: bool, fate: Fate) {
    if !active() {
        return;
    }
    forget_parents();
    sweep();
    if !is_dir {
        send(child, IN_ATTRIB, 0, b"", false);
    }
    settle(child, fate);
    send(dir, IN_DELETE | isdir(is_dir), 0, name, false);
}

/// What a rename did to the name it moved onto, if it replaced something.
pub struct Replaced {
    pub id: Ident,
    pub is_dir: bool,
    pub fate: Fate,
}

/// rename(2) moved `src` from `from_name` in `from_dir` to `to_name` in `to_dir`, replacing
/// `target` if there was one. (RENAME_EXCHANGE is two moves.)
pub fn moved(
    (from_dir, from_name): (Ident, &[u8]),
    (to_dir, to_name): (Ident, &[u8]),
    src: Ident,
    src_is_dir: bool,
    target: Option<Replaced>,
) {
    if !active() {
        return;
    }
    forget_parents();
    sweep();
    let mut cookie = COOKIE.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
    if cookie == 0 {
        cookie = COOKIE.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
    }
    let d = isdir(src_is_dir);
    send(from_dir, IN_MOVED_FROM | d, cookie, from_name, false);
    send(to_dir, IN_MOVED_TO | d, cookie, to_name, false);
    if let Some(t) = &target {
        send(t.id, IN_ATTRIB | isdir(t.is_dir), 0, b"", false);
    }
    send(src, IN_MOVE_SELF, 0, b"", false);
    if let Some(t) = target {
        settle(t.id, t.fate);
    }
}

/// The directory and name of the path an open description was opened by, if it has one.
fn split_path(path: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut p = path;
    while p.len() > 1 && p.ends_with(b"/") {
        p = &p[..p.len() - 1];
    }
    let cut = p.iter().rposition(|&b| b == b'/')?;
    let name = &p[cut + 1..];
    if name.is_empty() {
        return None;
    }
    let dir = if cut == 0 { &p[..1] } else { &p[..cut] };
    Some((dir, name))
}

fn kernel() -> Option<Arc<Kernel>> {
    lock(&HUB.kernel).upgrade()
}

/// Makes `k` the kernel whose filesystems the hub looks paths up in.
pub fn register_kernel(k: &Arc<Kernel>) {
    *lock(&HUB.kernel) = Arc::downgrade(k);
}

/// stat (`follow`) or lstat of an absolute path, without a task: tmpfs mounts and the
/// host root (procfs is not watched through paths).
fn stat_abs(k: &Kernel, abs: &[u8], follow: bool) -> Option<Stat> {
    k.mounts
        .snapshot()
        .resolve(b"/", abs, |pl| match pl {
            Place::Tmp(rel) => rel.fs.stat(&rel, follow, &Creds::ROOT),
            Place::Host(h) => Ok(
                match k
                    .overlay
                    .walk(&k.root, &k.mounts.snapshot(), &h, follow, &Creds::ROOT)?
                {
                    Resolution::Escape { target, rest } => Resolution::Escape { target, rest },
                    Resolution::Done(f) => Resolution::Done(match f.node {
                        Node::Upper(st) => st,
                        Node::Lower(st) => Stat::from_host(&st),
                        Node::Missing => return Err(Errno::ENOENT),
                    }),
                },
            ),
            Place::Proc(_) => Err(Errno::ENOENT),
        })
        .ok()
}

fn readlink_abs(k: &Kernel, abs: &[u8]) -> Option<Vec<u8>> {
    k.mounts
        .snapshot()
        .resolve(b"/", abs, |pl| match pl {
            Place::Tmp(rel) => rel.fs.readlink(&rel, &Creds::ROOT),
            Place::Host(h) => {
                let f =
                    match k
                        .overlay
                        .walk(&k.root, &k.mounts.snapshot(), &h, false, &Creds::ROOT)?
                    {
                        Resolution::Escape { target, rest } => {
                            return Ok(Resolution::Escape { target, rest })
                        }
                        Resolution::Done(f) => f,
                    };
                match f.node {
                    Node::Upper(_) => {
                        let rel = f.path.strip_prefix(b"/").unwrap_or(&f.path);
                        k.overlay.upper().readlink(rel, &Creds::ROOT)
                    }
                    Node::Lower(_) => {
                        let l = k.root.lookup(b"/", &f.path, false)?;
                        k.root.readlink(&l).map(Resolution::Done)
                    }
                    Node::Missing => Err(Errno::ENOENT),
                }
            }
            Place::Proc(_) => Err(Errno::ENOENT),
        })
        .ok()
}

/// The identity of directory `dir` (an absolute path), cached.
fn dir_ident(k: &Kernel, dir: &[u8]) -> Option<Ident> {
    if let Some(id) = lock(&HUB.parents).get(dir) {
        return Some(*id);
    }
    let st = stat_abs(k, dir, true)?;
    if st.mode & libc::S_IFMT != libc::S_IFDIR {
        return None;
    }
    let id = (st.dev, st.ino);
    let mut c = lock(&HUB.parents);
    if c.len() >= 1024 {
        c.clear();
    }
    c.insert(dir.to_vec(), id);
    Some(id)
}

/// What an event about a file opened by `path` with `st` goes to: its directory's watch
/// (with its name), then its own.
fn file_targets(path: &[u8], st: &Stat, mask: u32) {
    let is_dir = st.mode & libc::S_IFMT == libc::S_IFDIR;
    let m = mask | isdir(is_dir);
    let unlinked = st.nlink == 0;
    sweep();
    if DIR_WATCHES.load(Ordering::Relaxed) != 0 && !path.starts_with(b"/memfd:") {
        if let Some((dir, name)) = split_path(path) {
            if let Some(d) = kernel().and_then(|k| dir_ident(&k, dir)) {
                send(d, m, 0, name, unlinked);
            }
        }
    }
    send((st.dev, st.ino), m, 0, b"", unlinked);
}

/// An event on the file of an open description (none for O_PATH ones, nor for pipes,
/// sockets and anonymous files, which have no path).
pub fn fd_event(f: &OpenFile, mask: u32) {
    if !active() || f.flags() & libc::O_PATH as u32 != 0 {
        return;
    }
    let Some(path) = f.path.get() else {
        return;
    };
    if let Ok(st) = f.ops.stat() {
        file_targets(path, &st, mask);
    }
}

/// open(2) returned `f` (opened with `flags`): IN_OPEN, then IN_MODIFY if O_TRUNC truncated
/// an existing regular file.
pub fn opened(f: &OpenFile, flags: u32) {
    let created = CREATED.with(Cell::take);
    if !active() || f.flags() & libc::O_PATH as u32 != 0 {
        return;
    }
    let Some(path) = f.path.get() else {
        return;
    };
    let Ok(st) = f.ops.stat() else {
        return;
    };
    file_targets(path, &st, IN_OPEN);
    let created = created == Some((st.dev, st.ino));
    if flags & libc::O_TRUNC as u32 != 0 && !created && st.mode & libc::S_IFMT == libc::S_IFREG {
        file_targets(path, &st, IN_MODIFY);
    }
}

/// read or write moved `n` bytes: IN_ACCESS or IN_MODIFY unless nothing moved.
pub fn io_done(f: &OpenFile, write: bool, n: usize) {
    if n == 0 || !active() {
        return;
    }
    fd_event(f, if write { IN_MODIFY } else { IN_ACCESS });
}

/// getdents64 read a directory.
pub fn listed(f: &OpenFile) {
    fd_event(f, IN_ACCESS);
}

/// The last reference to an open description is gone: IN_CLOSE_WRITE or IN_CLOSE_NOWRITE.
pub fn closed(f: &OpenFile) {
    if !active() {
        return;
    }
    fd_event(
        f,
        if f.writable() {
            IN_CLOSE_WRITE
        } else {
            IN_CLOSE_NOWRITE
        },
    );
}

/// The event chown(2) raises: none when neither id changes (both -1).
pub fn chown_mask(uid: u64, gid: u64) -> u32 {
    if uid as u32 == u32::MAX && gid as u32 == u32::MAX {
        0
    } else {
        IN_ATTRIB
    }
}

/// The event utimensat(2) raises for the times it sets: both (IN_ATTRIB), mtime only
/// (IN_MODIFY), atime only (IN_ACCESS).
pub fn utimes_mask<T>(atime: Option<T>, mtime: Option<T>) -> u32 {
    match (atime.is_some(), mtime.is_some()) {
        (true, true) => IN_ATTRIB,
        (false, true) => IN_MODIFY,
        (true, false) => IN_ACCESS,
        (false, false) => 0,
    }
}

/// An object named by a path, and the directory entry naming it.
struct Located {
    id: Ident,
    is_dir: bool,
    parent: Option<(Ident, Vec<u8>)>,
}

/// Finds what `abs` names (following a final symlink if `follow`) and its directory.
fn locate(k: &Kernel, abs: &[u8], follow: bool) -> Option<Located> {
    let follow = follow || abs.ends_with(b"/");
    let mut p = vfs::normalize(b"/", abs);
    for _ in 0..40 {
        while p.len() > 1 && p.ends_with(b"/") {
            p.pop();
        }
        let st = stat_abs(k, &p, false)?;
        if st.mode & libc::S_IFMT == libc::S_IFLNK && follow {
            let target = readlink_abs(k, &p)?;
            let dir = split_path(&p).map_or(&b"/"[..], |(d, _)| d).to_vec();
            p = vfs::normalize(&dir, &target);
            continue;
        }
        let parent = match split_path(&p) {
            Some((dir, name)) => Some((dir_ident(k, dir)?, name.to_vec())),
            None => None,
        };
        return Some(Located {
            id: (st.dev, st.ino),
            is_dir: st.mode & libc::S_IFMT == libc::S_IFDIR,
            parent,
        });
    }
    None
}

/// An event on the file `path` names (relative to `cwd`), after a change made by path
/// (chmod, chown, utimensat, truncate): to its directory's watch, then to its own.
pub fn path_event(cwd: &[u8], path: &[u8], follow: bool, mask: u32) {
    if mask == 0 || !active() {
        return;
    }
    let Some(k) = kernel() else {
        return;
    };
    let abs = if path.first() == Some(&b'/') {
        path.to_vec()
    } else {
        [cwd, b"/", path].concat()
    };
    let Some(l) = locate(&k, &abs, follow) else {
        return;
    };
    sweep();
    let m = mask | isdir(l.is_dir);
    if let Some((dir, name)) = &l.parent {
        send(*dir, m, 0, name, false);
    }
    send(l.id, m, 0, b"", false);
}

/// One queued event.
struct Event {
    wd: i32,
    mask: u32,
    cookie: u32,
    name: Vec<u8>,
}

impl Event {
    /// Bytes it takes in a read: the header and the name padded with NULs to a multiple of
    /// the header's size (at least one NUL).
    fn size(&self) -> usize {
        EVENT_HEADER + self.name_len()
    }

    fn name_len(&self) -> usize {
        if self.name.is_empty() {
            0
        } else {
            (self.name.len() + 1).next_multiple_of(EVENT_HEADER)
        }
    }

    /// `struct inotify_event` into `out` (exactly `size()` bytes).
    fn write_to(&self, out: &mut [u8]) {
        out[0..4].copy_from_slice(&self.wd.to_le_bytes());
        out[4..8].copy_from_slice(&self.mask.to_le_bytes());
        out[8..12].copy_from_slice(&self.cookie.to_le_bytes());
        out[12..16].copy_from_slice(&(self.name_len() as u32).to_le_bytes());
        let rest = &mut out[EVENT_HEADER..];
        rest.fill(0);
        rest[..self.name.len()].copy_from_slice(&self.name);
    }
}

/// One watch of an instance.
struct Watch {
    id: Ident,
    mask: u32,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Event>,
    /// Bytes of the queued events (FIONREAD).
    bytes: usize,
    /// An IN_Q_OVERFLOW is queued.
    overflow: bool,
    /// Events queued so far (epoll's edge trigger).
    count: u64,
    watches: BTreeMap<i32, Watch>,
    by_ident: BTreeMap<Ident, i32>,
    /// The last watch descriptor handed out (they are handed out cyclically from 1).
    last_wd: i32,
}

impl State {
    /// Queues `e`: merged into an identical last event, or IN_Q_OVERFLOW once full.
    fn push(&mut self, e: Event) {
        if self.queue.len() >= MAX_QUEUED_EVENTS {
            if !self.overflow {
                self.overflow = true;
                self.enqueue(Event {
                    wd: -1,
                    mask: IN_Q_OVERFLOW,
                    cookie: 0,
                    name: Vec::new(),
                });
            }
            return;
        }
        if let Some(last) = self.queue.back() {
            if last.mask & IN_IGNORED == 0
                && last.mask == e.mask
                && last.wd == e.wd
                && last.name == e.name
            {
                return;
            }
        }
        self.enqueue(e);
    }

    fn enqueue(&mut self, e: Event) {
        self.bytes += e.size();
        self.count += 1;
        self.queue.push_back(e);
    }

    fn pop(&mut self) -> Option<Event> {
        let e = self.queue.pop_front()?;
        self.bytes -= e.size();
        if e.wd == -1 && e.mask == IN_Q_OVERFLOW {
            self.overflow = false;
        }
        Some(e)
    }

    /// Drops watch `wd` and queues IN_IGNORED for it; false if there is no such watch.
    fn remove_watch(&mut self, wd: i32) -> Option<Watch> {
        let w = self.watches.remove(&wd)?;
        self.by_ident.remove(&w.id);
        self.push(Event {
            wd,
            mask: IN_IGNORED,
            cookie: 0,
            name: Vec::new(),
        });
        Some(w)
    }

    /// A free watch descriptor, after the last one handed out.
    fn alloc_wd(&mut self) -> i32 {
        let mut wd = self.last_wd;
        loop {
            wd = if wd == i32::MAX { 1 } else { wd + 1 };
            if !self.watches.contains_key(&wd) {
                self.last_wd = wd;
                return wd;
            }
        }
    }
}

static INSTANCES_BY_ADDR: Registry<Inotify> = Registry::new();

/// An inotify instance.
pub struct Inotify {
    st: Mutex<State>,
    cv: Condvar,
    /// The open description (for O_NONBLOCK, which fcntl may change).
    file: OnceLock<Weak<OpenFile>>,
    ino: u64,
}

impl Inotify {
    /// A new instance's open description (read-only, as Linux opens it). EMFILE past
    /// [`MAX_INSTANCES`].
    pub fn open(nonblock: bool) -> Result<Arc<OpenFile>, Errno> {
        if INSTANCES.fetch_add(1, Ordering::Relaxed) >= MAX_INSTANCES {
            INSTANCES.fetch_sub(1, Ordering::Relaxed);
            return Err(Errno::EMFILE);
        }
        let i = Arc::new(Inotify {
            st: Mutex::new(State::default()),
            cv: Condvar::new(),
            file: OnceLock::new(),
            ino: anon_ino(),
        });
        INSTANCES_BY_ADDR.add(&i);
        let mut flags = libc::O_RDONLY as u32;
        if nonblock {
            flags |= libc::O_NONBLOCK as u32;
        }
        let f = OpenFile::new(i.clone(), flags);
        let _ = i.file.set(Arc::downgrade(&f));
        Ok(f)
    }

    /// The instance `f` is, if it is one.
    pub fn of(f: &OpenFile) -> Option<Arc<Inotify>> {
        INSTANCES_BY_ADDR.find(&f.ops)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.st)
    }

    fn nonblocking(&self) -> bool {
        self.file
            .get()
            .and_then(Weak::upgrade)
            .is_some_and(|f| f.flags() & libc::O_NONBLOCK as u32 != 0)
    }

    /// inotify_add_watch(2) on inode `id` with `mask` (already validated): the watch
    /// descriptor, the same one for an inode already watched. EEXIST for IN_MASK_CREATE on a
    /// watched inode, ENOSPC past [`MAX_WATCHES`].
    pub fn add_watch(self: &Arc<Self>, id: Ident, is_dir: bool, mask: u32) -> Result<i32, Errno> {
        let mut map = watches_write();
        let mut st = self.lock();
        let keep = mask & WATCH_BITS;
        if let Some(&wd) = st.by_ident.get(&id) {
            if mask & IN_MASK_CREATE != 0 {
                return Err(Errno::EEXIST);
            }
            if let Some(w) = st.watches.get_mut(&wd) {
                w.mask = if mask & IN_MASK_ADD != 0 {
                    w.mask | keep
                } else {
                    keep
                };
            }
            return Ok(wd);
        }
        if WATCHES.load(Ordering::Relaxed) >= MAX_WATCHES {
            return Err(Errno::ENOSPC);
        }
        let wd = st.alloc_wd();
        st.watches.insert(wd, Watch { id, mask: keep });
        st.by_ident.insert(id, wd);
        map.entry(id).or_default().push(HubEntry {
            inst: Arc::downgrade(self),
            wd,
            is_dir,
        });
        WATCHES.fetch_add(1, Ordering::Relaxed);
        if is_dir {
            DIR_WATCHES.fetch_add(1, Ordering::Relaxed);
        }
        drop(st);
        drop(map);
        forget_parents();
        Ok(wd)
    }

    /// inotify_rm_watch(2): EINVAL for a descriptor that is not a watch of this instance.
    pub fn rm_watch(&self, wd: i32) -> Result<(), Errno> {
        let mut map = watches_write();
        let mut st = self.lock();
        let w = st.remove_watch(wd).ok_or(Errno::EINVAL)?;
        unhook(&mut map, w.id, self, wd);
        drop(st);
        drop(map);
        self.cv.notify_all();
        Ok(())
    }

    /// Queues an event for watch `wd` if its mask asks for it; true if that fired a
    /// one-shot watch (which is then gone from this instance, IN_IGNORED queued: the
    /// caller unhooks it from the hub).
    fn deliver(&self, wd: i32, mask: u32, cookie: u32, name: &[u8], unlinked: bool) -> bool {
        let mut st = self.lock();
        let Some(w) = st.watches.get(&wd) else {
            return false;
        };
        if w.mask & mask & IN_ALL_EVENTS == 0 || (unlinked && w.mask & IN_EXCL_UNLINK != 0) {
            return false;
        }
        let oneshot = w.mask & IN_ONESHOT != 0;
        // inotify never reported IN_ISDIR with these two.
        let mask = if mask & (IN_DELETE_SELF | IN_MOVE_SELF) != 0 {
            mask & !IN_ISDIR
        } else {
            mask
        };
        st.push(Event {
            wd,
            mask,
            cookie,
            name: name.to_vec(),
        });
        if oneshot {
            st.remove_watch(wd);
        }
        drop(st);
        self.cv.notify_all();
        oneshot
    }

    /// The watched inode of `wd` is gone: the watch goes, with IN_IGNORED.
    fn drop_watch(&self, wd: i32) {
        if self.lock().remove_watch(wd).is_some() {
            self.cv.notify_all();
        }
    }

    #[cfg(test)]
    fn queued(&self) -> usize {
        self.lock().queue.len()
    }
}

impl Drop for Inotify {
    fn drop(&mut self) {
        INSTANCES_BY_ADDR.remove(self);
        INSTANCES.fetch_sub(1, Ordering::Relaxed);
        let me: *const Inotify = self;
        let st = self.st.get_mut().unwrap_or_else(|e| e.into_inner());
        if st.watches.is_empty() {
            return;
        }
        let mut map = watches_write();
        for (wd, w) in &st.watches {
            unhook(&mut map, w.id, me, *wd);
        }
    }
}

impl FileOps for Inotify {
    fn read(&self, buf: &mut [u8], _off: Option<u64>) -> Result<usize, Errno> {
        loop {
            sweep();
            let mut st = self.lock();
            if !st.queue.is_empty() {
                let mut used = 0;
                while let Some(e) = st.queue.front() {
                    let size = e.size();
                    if size > buf.len() - used {
                        break;
                    }
                    e.write_to(&mut buf[used..used + size]);
                    used += size;
                    st.pop();
                }
                return if used == 0 {
                    Err(Errno::EINVAL)
                } else {
                    Ok(used)
                };
            }
            if self.nonblocking() {
                return Err(Errno::EAGAIN);
            }
            drop(wait_tick(&self.cv, st, None)?);
        }
    }

    fn write(&self, _data: &[u8], _off: Option<u64>) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }

    fn poll_ready(&self) -> u16 {
        sweep();
        if self.lock().queue.is_empty() {
            0
        } else {
            libc::POLLIN as u16
        }
    }

    fn event_count(&self) -> u64 {
        sweep();
        self.lock().count
    }

    fn ioctl(&self, req: u64, _arg: u64) -> Result<IoctlReply, Errno> {
        if req != FIONREAD {
            return Err(Errno::ENOTTY);
        }
        sweep();
        let n = self.lock().bytes.min(i32::MAX as usize) as i32;
        Ok(IoctlReply {
            ret: 0,
            out: n.to_le_bytes().to_vec(),
        })
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(anon_stat(self.ino))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hub is global: tests that watch take this lock, and use their own inode numbers.
    static SERIAL: Mutex<()> = Mutex::new(());

    fn instance() -> (Arc<OpenFile>, Arc<Inotify>) {
        let f = Inotify::open(true).expect("instance");
        let i = Inotify::of(&f).expect("registered");
        (f, i)
    }

    /// Reads every queued event as (wd, mask, cookie, name).
    fn events(f: &OpenFile) -> Vec<(i32, u32, u32, Vec<u8>)> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; 65536];
        while let Ok(n) = f.read(&mut buf) {
            let mut o = 0;
            while o < n {
                let g = |k: usize| u32::from_le_bytes(buf[o + k..o + k + 4].try_into().unwrap());
                let len = g(12) as usize;
                let name = buf[o + 16..o + 16 + len]
                    .iter()
                    .copied()
                    .take_while(|&b| b != 0)
                    .collect();
                out.push((g(0) as i32, g(4), g(8), name));
                o += 16 + len;
            }
        }
        out
    }

    #[test]
    fn sizes_and_padding() {
        let e = |n: &[u8]| Event {
            wd: 1,
            mask: IN_CREATE,
            cookie: 0,
            name: n.to_vec(),
        };
        assert_eq!(e(b"").size(), 16);
        assert_eq!(e(b"a").size(), 32);
        assert_eq!(e(&[b'x'; 15]).size(), 32);
        assert_eq!(e(&[b'x'; 16]).size(), 48);
        let mut out = [0xffu8; 32];
        e(b"ab").write_to(&mut out);
        assert_eq!(&out[12..16], &16u32.to_le_bytes());
        assert_eq!(&out[16..19], b"ab\0");
        assert!(out[19..].iter().all(|&b| b == 0));
        assert_eq!(split_path(b"/tmp/a/"), Some((&b"/tmp"[..], &b"a"[..])));
        assert_eq!(split_path(b"/a"), Some((&b"/"[..], &b"a"[..])));
        assert_eq!(split_path(b"/"), None);
    }

    #[test]
    fn events_coalesce_oneshot_and_removal() {
        let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let (f, i) = instance();
        let dir = (900, 1);
        let file = (900, 2);
        let wd = i.add_watch(dir, true, IN_CREATE | IN_DELETE).unwrap();
        assert_eq!(i.add_watch(dir, true, IN_CREATE), Ok(wd));
        assert_eq!(
            i.add_watch(dir, true, IN_CREATE | IN_MASK_CREATE),
            Err(Errno::EEXIST)
        );
        let wf = i.add_watch(file, false, IN_ATTRIB | IN_ONESHOT).unwrap();
        assert_ne!(wd, wf);
        assert!(active());
        created(dir, b"x", false);
        created(dir, b"x", false);
        created(dir, b"y", true);
        removed(dir, b"x", file, false, Fate::Linked);
        let ev = events(&f);
        assert_eq!(
            ev,
            vec![
                (wd, IN_CREATE, 0, b"x".to_vec()),
                (wd, IN_CREATE | IN_ISDIR, 0, b"y".to_vec()),
                (wf, IN_ATTRIB, 0, vec![]),
                (wf, IN_IGNORED, 0, vec![]),
            ]
        );
        // IN_DELETE is not in the replaced mask.
        assert_eq!(i.rm_watch(wf), Err(Errno::EINVAL));
        i.rm_watch(wd).unwrap();
        assert_eq!(events(&f), vec![(wd, IN_IGNORED, 0, vec![])]);
        drop(i);
        drop(f);
    }

    #[test]
    fn overflow_and_small_buffers() {
        let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let (f, i) = instance();
        let dir = (901, 1);
        let wd = i.add_watch(dir, true, IN_ACCESS | IN_MODIFY).unwrap();
        assert_eq!(f.ops.poll_ready(), 0);
        let mut small = [0u8; 15];
        assert_eq!(f.read(&mut small), Err(Errno::EAGAIN));
        for k in 0..MAX_QUEUED_EVENTS + 10 {
            let m = if k % 2 == 0 { IN_ACCESS } else { IN_MODIFY };
            send(dir, m, 0, b"", false);
        }
        assert_eq!(i.queued(), MAX_QUEUED_EVENTS + 1);
        assert_eq!(f.ops.poll_ready(), libc::POLLIN as u16);
        assert_eq!(f.read(&mut small), Err(Errno::EINVAL));
        let ev = events(&f);
        assert_eq!(ev.len(), MAX_QUEUED_EVENTS + 1);
        assert_eq!(ev.last(), Some(&(-1, IN_Q_OVERFLOW, 0, vec![])));
        assert_eq!(ev[0].0, wd);
        drop(i);
        drop(f);
    }

    #[test]
    fn pending_inode_goes_when_released() {
        let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let (f, i) = instance();
        let file = (902, 5);
        let wd = i.add_watch(file, false, IN_ALL_EVENTS).unwrap();
        let holder: Arc<dyn Any + Send + Sync> = Arc::new(5u32);
        removed(
            (902, 1),
            b"f",
            file,
            false,
            Fate::Held(Arc::downgrade(&holder)),
        );
        assert_eq!(events(&f), vec![(wd, IN_ATTRIB, 0, vec![])]);
        drop(holder);
        assert_eq!(
            events(&f),
            vec![(wd, IN_DELETE_SELF, 0, vec![]), (wd, IN_IGNORED, 0, vec![])]
        );
        drop(i);
        drop(f);
    }
}
