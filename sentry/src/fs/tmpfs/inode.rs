//! Tmpfs inodes: metadata, directory tables with stable cookies, and sparse file pages.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard, Weak};

use platform::MemoryFile;

use crate::errno::Errno;
use crate::fs::file::Stat;
use crate::fs::perm::{self, Attr, Creds};
use crate::mm::SharedObject;

/// Size of one page of file data; also `st_blksize`.
pub(super) const PAGE: usize = 4096;
/// Linux's BOGO_DIRENT_SIZE: what one entry adds to a tmpfs directory's size.
const BOGO_DIRENT_SIZE: i64 = 20;
/// Symlink targets at least this long (with their NUL) take a page on Linux's tmpfs.
const SHORT_SYMLINK_LEN: usize = 128;
/// First cookie handed to a directory entry; 0 and 1 are "." and "..".
pub(super) const FIRST_COOKIE: u64 = 2;

/// Locks a mutex, ignoring poisoning (a panicking holder leaves consistent data here).
pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Read-locks, ignoring poisoning.
pub(super) fn rlock<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|e| e.into_inner())
}

/// Write-locks, ignoring poisoning.
pub(super) fn wlock<T>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|e| e.into_inner())
}

/// CLOCK_REALTIME as (seconds, nanoseconds).
pub(super) fn now() -> (i64, i64) {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => (d.as_secs() as i64, i64::from(d.subsec_nanos())),
        Err(e) => {
            let d = e.duration();
            if d.subsec_nanos() == 0 {
                (-(d.as_secs() as i64), 0)
            } else {
                (
                    -(d.as_secs() as i64) - 1,
                    1_000_000_000 - i64::from(d.subsec_nanos()),
                )
            }
        }
    }
}

/// Limits, usage and the memory file shared by every inode of one filesystem.
#[derive(Debug)]
pub(super) struct Shared {
    /// Pages of file data allocated now (charged by each file's [`SharedObject`]).
    used_pages: Arc<AtomicU64>,
    /// Most pages the filesystem may hold (ENOSPC beyond).
    max_pages: u64,
    /// Largest file size (EFBIG beyond).
    pub max_file_size: u64,
    /// Where file data lives.
    mf: Arc<MemoryFile>,
}

impl Shared {
    /// Pages the filesystem may hold, and pages it holds now.
    pub(super) fn pages(&self) -> (u64, u64) {
        (self.max_pages, self.used_pages.load(Ordering::Relaxed))
    }

    pub(super) fn new(max_bytes: u64, max_file_size: u64, mf: Arc<MemoryFile>) -> Shared {
        Shared {
            used_pages: Arc::new(AtomicU64::new(0)),
            max_pages: max_bytes / PAGE as u64,
            max_file_size,
            mf,
        }
    }

    /// Bytes of file data held now.
    pub(super) fn used_bytes(&self) -> u64 {
        self.used_pages.load(Ordering::Relaxed) * PAGE as u64
    }
}

/// Attributes every inode has.
#[derive(Clone, Copy, Debug)]
pub(super) struct Meta {
    /// Type and permission bits (`st_mode`).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub nlink: u64,
    pub atime: (i64, i64),
    pub mtime: (i64, i64),
    pub ctime: (i64, i64),
    /// An O_TMPFILE file opened without O_EXCL, never linked yet: linkat may give it a name
    /// although nlink is 0 (Linux's I_LINKABLE).
    pub linkable: bool,
}

impl Meta {
    fn new(mode: u32, uid: u32, gid: u32, nlink: u64) -> Meta {
        let t = now();
        Meta {
            mode,
            uid,
            gid,
            nlink,
            atime: t,
            mtime: t,
            ctime: t,
            linkable: false,
        }
    }

    /// What permission checks look at.
    pub fn attr(&self) -> Attr {
        Attr {
            mode: self.mode,
            uid: self.uid,
            gid: self.gid,
        }
    }

    /// A change to the contents: mtime and ctime become now.
    pub fn modified(&mut self) {
        let t = now();
        self.mtime = t;
        self.ctime = t;
    }
}

/// A file's data: pages of the memory file in a [`SharedObject`], which MAP_SHARED
/// mappings of the file share, so that they and read/write see the same bytes. Pages
/// present are allocated; holes read as zeros.
#[derive(Debug)]
pub(super) struct FileData {
    pub obj: Arc<SharedObject>,
    pub size: u64,
    shared: Arc<Shared>,
}

impl FileData {
    fn new(shared: Arc<Shared>) -> FileData {
        FileData {
            obj: Arc::new(SharedObject::with_budget(
                shared.used_pages.clone(),
                shared.max_pages,
            )),
            size: 0,
            shared,
        }
    }

    /// Copies from `off` into `buf`; returns the bytes read (short at the end of the file).
    pub fn read(&self, off: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        if off >= self.size {
            return Ok(0);
        }
        let n = buf
            .len()
            .min((self.size - off).min(usize::MAX as u64) as usize);
        self.obj.read(off, &mut buf[..n])?;
        Ok(n)
    }

    /// Writes `data` at `off`, growing the file (holes stay unallocated). Stops short when
    /// the filesystem fills up (ENOSPC if nothing was written) or at the size limit (EFBIG
    /// if `off` is already there).
    pub fn write(&mut self, off: u64, data: &[u8]) -> Result<usize, Errno> {
        if data.is_empty() {
            return Ok(0);
        }
        let max = self.shared.max_file_size;
        if off >= max {
            return Err(Errno::EFBIG);
        }
        let n = data.len().min((max - off).min(usize::MAX as u64) as usize);
        if off > self.size {
            // The gap reads as zeros, whatever a mapping left past the old end.
            self.obj.truncate(self.size);
        }
        let done = self.obj.write(&self.shared.mf, off, &data[..n])?;
        self.size = self.size.max(off + done as u64);
        Ok(done)
    }

    /// Sets the size; pages past the end are freed and the tail of the last one zeroed, so
    /// that growing again reads zeros.
    pub fn truncate(&mut self, len: u64) {
        if len != self.size {
            self.obj.truncate(len.min(self.size));
        }
        self.size = len;
    }

    /// fallocate(2) on `[off, off + len)` (len > 0): with `punch`, zeroes it (pages stay);
    /// otherwise allocates its pages (ENOSPC if the filesystem cannot hold them: pages
    /// allocated before running out stay) and, unless `keep_size`, grows the file to cover it.
    pub fn fallocate(
        &mut self,
        off: u64,
        len: u64,
        punch: bool,
        keep_size: bool,
    ) -> Result<(), Errno> {
        let end = off.checked_add(len).ok_or(Errno::EFBIG)?;
        if punch {
            self.obj
                .zero_range(off, end.min(self.size).saturating_sub(off));
            return Ok(());
        }
        if end > self.size && end > self.shared.max_file_size {
            return Err(Errno::EFBIG);
        }
        let (first, last) = (off / PAGE as u64, end.div_ceil(PAGE as u64));
        if last - first > self.shared.max_pages {
            return Err(Errno::ENOSPC);
        }
        if !keep_size && end > self.size {
            // What lies past the old end reads as zeros, whatever a mapping left there.
            self.obj.truncate(self.size);
        }
        for index in first..last {
            self.obj.page(&self.shared.mf, index)?;
        }
        if !keep_size && end > self.size {
            self.size = end;
        }
        Ok(())
    }

    /// `st_blocks`: 512-byte units of allocated pages.
    fn blocks(&self) -> i64 {
        self.obj.resident_pages() as i64 * (PAGE as i64 / 512)
    }
}

/// One name in a directory.
#[derive(Debug)]
pub(super) struct Entry {
    pub name: Vec<u8>,
    pub inode: Arc<Inode>,
}

/// A directory's table. Every entry gets a cookie larger than any given before in this
/// directory, so a getdents cursor (the next cookie to read) stays valid whatever is added
/// or removed meanwhile.
#[derive(Debug)]
pub(super) struct Dir {
    /// The parent directory; empty for the root.
    pub parent: Weak<Inode>,
    names: HashMap<Vec<u8>, u64>,
    entries: BTreeMap<u64, Entry>,
    next_cookie: u64,
    /// Removed by rmdir or replaced by rename: getdents answers ENOENT.
    pub dead: bool,
}

impl Dir {
    fn new(parent: Weak<Inode>) -> Dir {
        Dir {
            parent,
            names: HashMap::new(),
            entries: BTreeMap::new(),
            next_cookie: FIRST_COOKIE,
            dead: false,
        }
    }

    /// The inode called `name`.
    pub fn get(&self, name: &[u8]) -> Option<Arc<Inode>> {
        self.names
            .get(name)
            .and_then(|c| self.entries.get(c))
            .map(|e| e.inode.clone())
    }

    /// Adds `name` (which must not exist) under a fresh cookie.
    pub fn insert(&mut self, name: Vec<u8>, inode: Arc<Inode>) {
        let cookie = self.next_cookie;
        self.next_cookie += 1;
        self.names.insert(name.clone(), cookie);
        self.entries.insert(cookie, Entry { name, inode });
    }

    /// Points the existing `name` at `inode` under the cookie it has (a reader already past
    /// it does not see it again); returns the inode it named.
    pub fn replace(&mut self, name: &[u8], inode: Arc<Inode>) -> Option<Arc<Inode>> {
        let cookie = self.names.get(name)?;
        self.entries
            .get_mut(cookie)
            .map(|e| std::mem::replace(&mut e.inode, inode))
    }

    /// Removes `name`, returning its inode.
    pub fn remove(&mut self, name: &[u8]) -> Option<Arc<Inode>> {
        let cookie = self.names.remove(name)?;
        self.entries.remove(&cookie).map(|e| e.inode)
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries with cookie `from` or later, in cookie order.
    pub fn entries_from(&self, from: u64) -> impl Iterator<Item = (&u64, &Entry)> {
        self.entries.range(from.max(FIRST_COOKIE)..)
    }

    /// Empties the table, returning the inodes (for non-recursive teardown).
    fn drain(&mut self) -> Vec<Arc<Inode>> {
        self.names.clear();
        std::mem::take(&mut self.entries)
            .into_values()
            .map(|e| e.inode)
            .collect()
    }

    /// `st_size` as Linux's tmpfs reports it.
    fn size(&self) -> i64 {
        2 * BOGO_DIRENT_SIZE + BOGO_DIRENT_SIZE * self.entries.len() as i64
    }
}

impl Drop for Dir {
    /// Frees the subtree without recursion (deep trees would overflow the stack): each
    /// child directory that was owned only here is emptied before it is dropped.
    /// Directories held elsewhere (open, or the cwd of someone) keep their entries.
    fn drop(&mut self) {
        let mut stack = self.drain();
        while let Some(i) = stack.pop() {
            if let Some(Inode {
                kind: Kind::Dir(d), ..
            }) = Arc::into_inner(i)
            {
                stack.extend(d.into_inner().unwrap_or_else(|e| e.into_inner()).drain());
            }
        }
    }
}

/// What an inode is.
#[derive(Debug)]
pub(super) enum Kind {
    Dir(Mutex<Dir>),
    File(RwLock<FileData>),
    Symlink(Vec<u8>),
    /// A socket file: the name an AF_UNIX socket is bound to, while that socket lives.
    Socket(Weak<dyn std::any::Any + Send + Sync>),
    /// A named pipe (made by mknod): the pipe its openers share.
    Fifo(crate::fs::pipe::named::NamedPipe),
    /// A character device of the Sentry's (`fs::dev`, devpts): its `st_rdev`.
    CharDev(u64),
    /// A block device node (a container's `linux.devices`): its `st_rdev`. The Sentry has
    /// no block devices: opening one gives ENXIO.
    BlockDev(u64),
}

/// A tmpfs inode. It lives as long as a directory entry or an open file refers to it.
#[derive(Debug)]
pub(super) struct Inode {
    pub ino: u64,
    pub dev: u64,
    pub meta: Mutex<Meta>,
    pub kind: Kind,
}

impl Inode {
    /// A new directory (nlink 2) under `parent`.
    pub fn new_dir(
        ino: u64,
        dev: u64,
        perm: u32,
        uid: u32,
        gid: u32,
        parent: Weak<Inode>,
    ) -> Arc<Inode> {
        Arc::new(Inode {
            ino,
            dev,
            meta: Mutex::new(Meta::new(libc::S_IFDIR | perm, uid, gid, 2)),
            kind: Kind::Dir(Mutex::new(Dir::new(parent))),
        })
    }

    /// A new empty regular file with `nlink` links.
    pub fn new_file(
        ino: u64,
        dev: u64,
        perm: u32,
        uid: u32,
        gid: u32,
        nlink: u64,
        shared: Arc<Shared>,
    ) -> Arc<Inode> {
        Arc::new(Inode {
            ino,
            dev,
            meta: Mutex::new(Meta::new(libc::S_IFREG | perm, uid, gid, nlink)),
            kind: Kind::File(RwLock::new(FileData::new(shared))),
        })
    }

    /// A new symlink.
    pub fn new_symlink(ino: u64, dev: u64, target: Vec<u8>, uid: u32, gid: u32) -> Arc<Inode> {
        Arc::new(Inode {
            ino,
            dev,
            meta: Mutex::new(Meta::new(libc::S_IFLNK | 0o777, uid, gid, 1)),
            kind: Kind::Symlink(target),
        })
    }

    /// A new socket file bound to `bound`.
    pub fn new_socket(
        ino: u64,
        dev: u64,
        perm: u32,
        uid: u32,
        gid: u32,
        bound: Weak<dyn std::any::Any + Send + Sync>,
    ) -> Arc<Inode> {
        Arc::new(Inode {
            ino,
            dev,
            meta: Mutex::new(Meta::new(libc::S_IFSOCK | perm, uid, gid, 1)),
            kind: Kind::Socket(bound),
        })
    }

    /// A new inode of `kind` with `mode` (type and permission bits) and one link.
    pub fn new_node(ino: u64, dev: u64, mode: u32, uid: u32, gid: u32, kind: Kind) -> Arc<Inode> {
        Arc::new(Inode {
            ino,
            dev,
            meta: Mutex::new(Meta::new(mode, uid, gid, 1)),
            kind,
        })
    }

    /// The directory table, if a directory.
    pub fn dir(&self) -> Option<&Mutex<Dir>> {
        match &self.kind {
            Kind::Dir(d) => Some(d),
            _ => None,
        }
    }

    pub fn is_dir(&self) -> bool {
        matches!(self.kind, Kind::Dir(_))
    }

    /// The symlink target, if a symlink.
    pub fn symlink(&self) -> Option<&[u8]> {
        match &self.kind {
            Kind::Symlink(t) => Some(t),
            _ => None,
        }
    }

    /// The parent of a directory; None for the root (and for anything but a directory).
    pub fn parent(&self) -> Option<Arc<Inode>> {
        self.dir().and_then(|d| lock(d).parent.upgrade())
    }

    /// `d_type` for getdents.
    pub fn dtype(&self) -> u8 {
        match self.kind {
            Kind::Dir(_) => libc::DT_DIR,
            Kind::File(_) => libc::DT_REG,
            Kind::Symlink(_) => libc::DT_LNK,
            Kind::Socket(_) => libc::DT_SOCK,
            Kind::Fifo(_) => libc::DT_FIFO,
            Kind::CharDev(_) => libc::DT_CHR,
            Kind::BlockDev(_) => libc::DT_BLK,
        }
    }

    /// Type, mode, owner and group, for permission checks.
    pub fn attr(&self) -> Attr {
        lock(&self.meta).attr()
    }

    /// Clears set-user-ID (and set-group-ID) as a write or a change of size by `c` does
    /// ([`perm::after_write`]).
    pub fn clear_setid_for(&self, c: &Creds) {
        self.with_meta(|m| {
            if let Some(mode) = perm::after_write(c, &m.attr()) {
                m.mode = mode;
            }
        });
    }

    /// As [`Inode::clear_setid_for`] the running task. Cheap unless the file is set-user-ID or
    /// set-group-ID; call it holding no lock of this filesystem (it takes the task's).
    pub fn clear_setid_for_current(&self) {
        if lock(&self.meta).mode & (libc::S_ISUID | libc::S_ISGID) != 0 {
            self.clear_setid_for(&perm::current());
        }
    }

    /// Runs `f` on the metadata.
    pub fn with_meta<R>(&self, f: impl FnOnce(&mut Meta) -> R) -> R {
        f(&mut lock(&self.meta))
    }

    /// Read access with relatime rules: atime moves only if it is not newer than mtime or
    /// ctime, or is a day old.
    pub fn touch_atime(&self) {
        let t = now();
        self.with_meta(|m| {
            if m.atime <= m.mtime || m.atime <= m.ctime || t.0 - m.atime.0 >= 24 * 3600 {
                m.atime = t;
            }
        });
    }

    /// stat(2) of this inode.
    pub fn stat(&self) -> Stat {
        let (size, blocks) = match &self.kind {
            Kind::Dir(d) => (lock(d).size(), 0),
            Kind::File(f) => {
                let f = rlock(f);
                (f.size as i64, f.blocks())
            }
            Kind::Symlink(t) => (
                t.len() as i64,
                if t.len() + 1 > SHORT_SYMLINK_LEN {
                    8
                } else {
                    0
                },
            ),
            Kind::Socket(_) | Kind::Fifo(_) | Kind::CharDev(_) | Kind::BlockDev(_) => (0, 0),
        };
        let m = *lock(&self.meta);
        Stat {
            dev: self.dev,
            ino: self.ino,
            mode: m.mode,
            nlink: m.nlink,
            uid: m.uid,
            gid: m.gid,
            rdev: match self.kind {
                Kind::CharDev(r) | Kind::BlockDev(r) => r,
                _ => 0,
            },
            size,
            blksize: PAGE as i64,
            blocks,
            atime: m.atime,
            mtime: m.mtime,
            ctime: m.ctime,
        }
    }
}
