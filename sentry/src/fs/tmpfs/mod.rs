//! tmpfs: an in-memory filesystem (the sandbox's private /tmp, the overlay's upper layer).
//!
//! Paths are relative to the mount root and split here on '/'; empty components are
//! ignored and `..` at the root stays at the root. Symlinks are followed inside the
//! filesystem (40 at most per lookup, then ELOOP) for every component but the last, and for
//! the last one when the operation follows it (or the path ends in a slash). A symlink that
//! leaves the filesystem (an absolute target, or a relative one climbing above the root)
//! ends the lookup with [`Resolution::Escape`], for the caller to continue in the global
//! namespace.
//!
//! Locking: a filesystem-wide tree lock (shared for lookups, exclusive for changes to names)
//! makes every operation on names atomic; each directory table, each inode's attributes and
//! each file's data have their own locks, so I/O on open files never takes the tree lock.
//! Order: tree, directory tables (parents before children), file data, attributes.
//!
//! The sandbox runs as root, so permission (DAC) checks are not made.

mod file;
mod inode;
#[cfg(test)]
mod tests;
mod walk;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use self::file::{DirFile, LinkFile, RegFile};
use self::inode::{lock, now, rlock, wlock, Dir, Inode, Kind, Shared};
use self::walk::{Comp, Esc, Step, Walker, PATH_MAX};
use crate::errno::Errno;
use crate::fs::file::{FileOps, Stat};

/// renameat2: fail with EEXIST instead of replacing the target.
pub const RENAME_NOREPLACE: u32 = 1;
/// renameat2: swap source and target atomically.
pub const RENAME_EXCHANGE: u32 = 2;
/// renameat2: leave a whiteout at the source (not supported here: EINVAL).
pub const RENAME_WHITEOUT: u32 = 4;

/// The credentials an operation creates files with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Creds {
    /// Owner of new inodes (fsuid).
    pub uid: u32,
    /// Group of new inodes (fsgid), unless the directory is set-group-ID.
    pub gid: u32,
    /// Permission bits cleared from the mode of new inodes.
    pub umask: u32,
}

/// Where a symlink inside tmpfs points when it leaves the filesystem (absolute target, or a
/// relative target that climbs above the root): the caller re-resolves it in the global
/// namespace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resolution<T> {
    /// The operation completed inside this filesystem.
    Done(T),
    /// Lookup left the filesystem. The caller resolves `target`, then `rest` relative to
    /// what `target` named, and redoes the operation on the result.
    Escape {
        /// An absolute symlink target (from the caller's root), or `..` (possibly `../`):
        /// the parent of this filesystem's mount root, when a relative target climbed
        /// above it.
        target: Vec<u8>,
        /// What was still to resolve: the rest of the symlink targets being followed, then
        /// the rest of the path; empty if nothing. A trailing slash (on `rest`, or on
        /// `target` when `rest` is empty) means the result must be a directory.
        rest: Vec<u8>,
    },
}

impl<T> Resolution<T> {
    /// Transforms the `Done` value.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Resolution<U> {
        match self {
            Resolution::Done(v) => Resolution::Done(f(v)),
            Resolution::Escape { target, rest } => Resolution::Escape { target, rest },
        }
    }

    /// The `Done` value, or None for an escape.
    pub fn done(self) -> Option<T> {
        match self {
            Resolution::Done(v) => Some(v),
            Resolution::Escape { .. } => None,
        }
    }
}

impl<T> From<Esc> for Resolution<T> {
    fn from(e: Esc) -> Self {
        Resolution::Escape { target: e.target, rest: e.rest }
    }
}

/// Size limits of one tmpfs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most bytes of file data (whole pages) the filesystem holds: writes past it fail with
    /// ENOSPC (a short write if some bytes fit).
    pub max_bytes: u64,
    /// Largest file size: writes starting at or past it, and truncates beyond it, fail with
    /// EFBIG (a write crossing it is cut short).
    pub max_file_size: u64,
}

impl Default for Limits {
    /// 2 GiB of data in total; files up to Linux's MAX_LFS_FILESIZE (sparse files cost
    /// only what is written).
    fn default() -> Self {
        Limits { max_bytes: 2 << 30, max_file_size: i64::MAX as u64 }
    }
}

/// One tmpfs instance. Inodes live as long as a name or an open file refers to them.
pub struct Tmpfs {
    dev: u64,
    root: Arc<Inode>,
    next_ino: AtomicU64,
    /// Shared for lookups, exclusive for changes to names.
    tree: RwLock<()>,
    shared: Arc<Shared>,
}

/// utimensat's "set to the current time" nanoseconds value.
pub const UTIME_NOW: i64 = libc::UTIME_NOW;
/// utimensat's "leave unchanged" nanoseconds value.
pub const UTIME_OMIT: i64 = libc::UTIME_OMIT;

/// Owner group of a new inode in `dir`, and whether `dir` is set-group-ID.
fn new_owner(dir: &Inode, creds: &Creds) -> (u32, bool) {
    let m = *lock(&dir.meta);
    if m.mode & libc::S_ISGID != 0 {
        (m.gid, true)
    } else {
        (creds.gid, false)
    }
}

/// The directory table of `dir`.
fn table(dir: &Inode) -> Result<&std::sync::Mutex<Dir>, Errno> {
    dir.dir().ok_or(Errno::ENOTDIR)
}

/// The child of `anc` on the way from `anc` down to `desc`, if `anc` is a proper ancestor.
fn child_toward(anc: &Arc<Inode>, desc: &Arc<Inode>) -> Option<Arc<Inode>> {
    let mut x = desc.clone();
    loop {
        let p = x.parent()?;
        if Arc::ptr_eq(&p, anc) {
            return Some(x);
        }
        x = p;
    }
}

/// Validates one utimensat timestamp.
fn check_time(t: Option<(i64, i64)>) -> Result<(), Errno> {
    match t {
        Some((_, ns)) if !(0..1_000_000_000).contains(&ns) && ns != UTIME_NOW && ns != UTIME_OMIT => {
            Err(Errno::EINVAL)
        }
        _ => Ok(()),
    }
}

/// The new value of a timestamp: None leaves `old`.
fn new_time(t: Option<(i64, i64)>, old: (i64, i64), now: (i64, i64)) -> (i64, i64) {
    match t {
        None => old,
        Some((_, ns)) if ns == UTIME_OMIT => old,
        Some((_, ns)) if ns == UTIME_NOW => now,
        Some(v) => v,
    }
}

/// The `Done` value, or EXDEV for an escape (for operations whose result cannot carry
/// one).
fn no_escape<T>(r: Resolution<T>) -> Result<T, Errno> {
    match r {
        Resolution::Done(v) => Ok(v),
        Resolution::Escape { .. } => Err(Errno::EXDEV),
    }
}

impl Tmpfs {
    /// An empty tmpfs with device number `dev` and default [`Limits`]; its root is mode
    /// 1777, owned by root.
    pub fn new(dev: u64) -> Arc<Tmpfs> {
        Self::with_limits(dev, Limits::default())
    }

    /// An empty tmpfs with the given limits.
    pub fn with_limits(dev: u64, limits: Limits) -> Arc<Tmpfs> {
        let shared = Arc::new(Shared::new(limits.max_bytes, limits.max_file_size));
        let root = Inode::new_dir(1, dev, 0o1777, 0, 0, std::sync::Weak::new());
        Arc::new(Tmpfs { dev, root, next_ino: AtomicU64::new(2), tree: RwLock::new(()), shared })
    }

    /// The device number (`st_dev`) of every inode.
    pub fn dev(&self) -> u64 {
        self.dev
    }

    /// Bytes of file data held now (whole pages), for statfs.
    pub fn used_bytes(&self) -> u64 {
        self.shared.used_bytes()
    }

    fn new_ino(&self) -> u64 {
        self.next_ino.fetch_add(1, Ordering::Relaxed)
    }

    /// Walks to the last component of `path`: its directory and the component, or None for
    /// the root itself.
    fn parent_of(&self, path: &[u8]) -> Result<Resolution<(Arc<Inode>, Option<Comp>)>, Errno> {
        Ok(match Walker::new(path)?.to_parent(self.root.clone())? {
            Step::Root(d) => Resolution::Done((d, None)),
            Step::Parent(d, c) => Resolution::Done((d, Some(c))),
            Step::Escape(e) => e.into(),
        })
    }

    /// Resolves `path` to an inode, following a symlink in last place if `follow` or if the
    /// path ends in a slash (then it must be a directory).
    fn lookup(&self, path: &[u8], follow: bool) -> Result<Resolution<Arc<Inode>>, Errno> {
        let mut w = Walker::new(path)?;
        let mut dir = self.root.clone();
        loop {
            let (d, c) = match w.to_parent(dir)? {
                Step::Root(d) => return Ok(Resolution::Done(d)),
                Step::Escape(e) => return Ok(e.into()),
                Step::Parent(d, c) => (d, c),
            };
            let inode = if c.is_dot() {
                d.clone()
            } else if c.is_dotdot() {
                match w.dotdot(&d, &c) {
                    Ok(p) => p,
                    Err(e) => return Ok(e.into()),
                }
            } else {
                lock(table(&d)?).get(&c.name).ok_or(Errno::ENOENT)?
            };
            if inode.symlink().is_some() && (follow || c.must_dir) {
                if let Some(e) = w.follow(&inode, &c)? {
                    return Ok(e.into());
                }
                dir = d;
                continue;
            }
            if c.must_dir && !inode.is_dir() {
                return Err(Errno::ENOTDIR);
            }
            return Ok(Resolution::Done(inode));
        }
    }

    /// open(2) with O_CREAT/O_EXCL/O_TRUNC/O_DIRECTORY/O_NOFOLLOW/O_PATH/O_TMPFILE
    /// semantics; `mode` for creation (masked by creds.umask); returns a FileOps for regular
    /// files (read/write at offsets, seekable, size, stat, mappable) or directories
    /// (getdents with stable cursors across concurrent creates/unlinks: monotonically
    /// increasing per-directory entry cookies as d_off; "." and ".." included); its
    /// `stat()` is the inode's Stat. A symlink opened with O_PATH|O_NOFOLLOW gives a
    /// FileOps good for fstat only.
    ///
    /// Errors: ENOENT (missing component, or missing last without O_CREAT), ENOTDIR (an
    /// intermediate non-directory, O_DIRECTORY or a trailing slash on a non-directory),
    /// EEXIST (O_CREAT|O_EXCL on anything existing, symlinks included), EISDIR (a directory
    /// opened for writing or with O_TRUNC or O_CREAT, O_CREAT with a trailing slash), ELOOP
    /// (O_NOFOLLOW on a symlink, or too many symlinks), EINVAL (O_CREAT|O_DIRECTORY, or a
    /// bad O_TMPFILE combination), ENAMETOOLONG, ENOSPC.
    pub fn open(&self, path: &[u8], flags: u32, mode: u32, creds: &Creds) -> Result<Resolution<Arc<dyn FileOps>>, Errno> {
        let o = |f: i32| f as u32;
        let tmpfile_bit = o(libc::O_TMPFILE & !libc::O_DIRECTORY);
        if flags & tmpfile_bit != 0 {
            if flags & o(libc::O_TMPFILE | libc::O_CREAT) != o(libc::O_TMPFILE) {
                return Err(Errno::EINVAL);
            }
            return self.open_tmpfile(path, flags, mode, creds);
        }
        let mut flags = flags;
        if flags & o(libc::O_PATH) != 0 {
            flags &= o(libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC);
        }
        let creat = flags & o(libc::O_CREAT) != 0;
        if creat && flags & o(libc::O_DIRECTORY) != 0 {
            return Err(Errno::EINVAL);
        }
        let excl = creat && flags & o(libc::O_EXCL) != 0;
        let follow_last = flags & o(libc::O_NOFOLLOW) == 0 && !excl;
        let _r = (!creat).then(|| rlock(&self.tree));
        let _w = creat.then(|| wlock(&self.tree));

        let mut w = Walker::new(path)?;
        let mut dir = self.root.clone();
        let (inode, must_dir) = loop {
            let (d, c) = match w.to_parent(dir)? {
                Step::Root(d) => break (d, false),
                Step::Escape(e) => return Ok(e.into()),
                Step::Parent(d, c) => (d, c),
            };
            if creat && c.is_normal() && c.must_dir {
                return Err(Errno::EISDIR);
            }
            let found = if c.is_dot() {
                Some(d.clone())
            } else if c.is_dotdot() {
                match w.dotdot(&d, &c) {
                    Ok(p) => Some(p),
                    Err(e) => return Ok(e.into()),
                }
            } else {
                lock(table(&d)?).get(&c.name)
            };
            let inode = match found {
                Some(i) => i,
                None if creat => return Ok(Resolution::Done(self.create_file(&d, c.name, mode, creds, path)?)),
                None => return Err(Errno::ENOENT),
            };
            if excl {
                return Err(Errno::EEXIST);
            }
            if inode.symlink().is_some() {
                if follow_last || c.must_dir {
                    if let Some(e) = w.follow(&inode, &c)? {
                        return Ok(e.into());
                    }
                    dir = d;
                    continue;
                }
                if flags & o(libc::O_PATH) != 0 {
                    if flags & o(libc::O_DIRECTORY) != 0 {
                        return Err(Errno::ENOTDIR);
                    }
                    return Ok(Resolution::Done(Arc::new(LinkFile { inode })));
                }
                return Err(Errno::ELOOP);
            }
            break (inode, c.must_dir);
        };
        if excl {
            return Err(Errno::EEXIST);
        }
        if creat && inode.is_dir() {
            return Err(Errno::EISDIR);
        }
        if (must_dir || flags & o(libc::O_DIRECTORY) != 0) && !inode.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        let name = String::from_utf8_lossy(path).into_owned();
        if flags & o(libc::O_PATH) != 0 {
            return Ok(Resolution::Done(match inode.kind {
                Kind::Dir(_) => Arc::new(DirFile { inode }),
                _ => Arc::new(RegFile { inode, name }),
            }));
        }
        let trunc = flags & o(libc::O_TRUNC) != 0;
        match &inode.kind {
            Kind::Dir(_) => {
                if flags & o(libc::O_ACCMODE) != o(libc::O_RDONLY) || trunc {
                    return Err(Errno::EISDIR);
                }
                Ok(Resolution::Done(Arc::new(DirFile { inode })))
            }
            Kind::File(data) => {
                if trunc {
                    wlock(data).truncate(0);
                    inode.with_meta(|m| m.modified());
                }
                Ok(Resolution::Done(Arc::new(RegFile { inode, name })))
            }
            Kind::Symlink(_) => Err(Errno::ELOOP),
        }
    }

    /// Creates regular file `name` in `dir` (tree lock held exclusively).
    fn create_file(&self, dir: &Arc<Inode>, name: Vec<u8>, mode: u32, creds: &Creds, path: &[u8]) -> Result<Arc<dyn FileOps>, Errno> {
        let (gid, _) = new_owner(dir, creds);
        let perm = mode & 0o7777 & !creds.umask;
        let inode = Inode::new_file(self.new_ino(), self.dev, perm, creds.uid, gid, 1, self.shared.clone());
        lock(table(dir)?).insert(name, inode.clone());
        dir.with_meta(|m| m.modified());
        Ok(Arc::new(RegFile { inode, name: String::from_utf8_lossy(path).into_owned() }))
    }

    /// O_TMPFILE: an unnamed regular file (nlink 0) in the directory `path`.
    fn open_tmpfile(&self, path: &[u8], flags: u32, mode: u32, creds: &Creds) -> Result<Resolution<Arc<dyn FileOps>>, Errno> {
        if flags & libc::O_ACCMODE as u32 == libc::O_RDONLY as u32 {
            return Err(Errno::EINVAL);
        }
        let _r = rlock(&self.tree);
        let dir = match self.lookup(path, true)? {
            Resolution::Done(d) => d,
            Resolution::Escape { target, rest } => return Ok(Resolution::Escape { target, rest }),
        };
        if !dir.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        let (gid, _) = new_owner(&dir, creds);
        let perm = mode & 0o7777 & !creds.umask;
        let inode = Inode::new_file(self.new_ino(), self.dev, perm, creds.uid, gid, 0, self.shared.clone());
        let name = format!("/#{}", inode.ino);
        Ok(Resolution::Done(Arc::new(RegFile { inode, name })))
    }

    /// stat(2) (`follow`) or lstat(2). A trailing slash follows a final symlink and requires a
    /// directory (ENOTDIR).
    pub fn stat(&self, path: &[u8], follow: bool) -> Result<Resolution<Stat>, Errno> {
        let _r = rlock(&self.tree);
        Ok(self.lookup(path, follow)?.map(|i| i.stat()))
    }

    /// mkdir(2): mode & 01777 & ~umask, plus S_ISGID (and the group) from a set-group-ID
    /// parent. EEXIST if the name exists (even as a dangling symlink) or is "."/".."/the
    /// root.
    pub fn mkdir(&self, path: &[u8], mode: u32, creds: &Creds) -> Result<Resolution<()>, Errno> {
        let _w = wlock(&self.tree);
        let (dir, comp) = match self.parent_of(path)? {
            Resolution::Done(v) => v,
            Resolution::Escape { target, rest } => return Ok(Resolution::Escape { target, rest }),
        };
        let comp = comp.filter(Comp::is_normal).ok_or(Errno::EEXIST)?;
        let mut t = lock(table(&dir)?);
        if t.get(&comp.name).is_some() {
            return Err(Errno::EEXIST);
        }
        let (gid, sgid) = new_owner(&dir, creds);
        let perm = (mode & 0o1777 & !creds.umask) | if sgid { libc::S_ISGID } else { 0 };
        let child = Inode::new_dir(self.new_ino(), self.dev, perm, creds.uid, gid, Arc::downgrade(&dir));
        t.insert(comp.name, child);
        drop(t);
        dir.with_meta(|m| {
            m.nlink += 1;
            m.modified();
        });
        Ok(Resolution::Done(()))
    }

    /// unlink(2): removes a non-directory name (a symlink itself, never its target). EISDIR
    /// for directories and "."/".."/the root; ENOTDIR for a trailing slash on a
    /// non-directory. Open files keep the inode alive.
    pub fn unlink(&self, path: &[u8]) -> Result<Resolution<()>, Errno> {
        let _w = wlock(&self.tree);
        let (dir, comp) = match self.parent_of(path)? {
            Resolution::Done(v) => v,
            Resolution::Escape { target, rest } => return Ok(Resolution::Escape { target, rest }),
        };
        let comp = comp.filter(Comp::is_normal).ok_or(Errno::EISDIR)?;
        let mut t = lock(table(&dir)?);
        let child = t.get(&comp.name).ok_or(Errno::ENOENT)?;
        if child.is_dir() {
            return Err(Errno::EISDIR);
        }
        if comp.must_dir {
            return Err(Errno::ENOTDIR);
        }
        t.remove(&comp.name);
        drop(t);
        child.with_meta(|m| {
            m.nlink = m.nlink.saturating_sub(1);
            m.ctime = now();
        });
        dir.with_meta(|m| m.modified());
        Ok(Resolution::Done(()))
    }

    /// rmdir(2): ENOTEMPTY (also for ".."), EBUSY for the root, EINVAL for ".", ENOTDIR for
    /// a non-directory (a symlink to a directory included).
    pub fn rmdir(&self, path: &[u8]) -> Result<Resolution<()>, Errno> {
        let _w = wlock(&self.tree);
        let (dir, comp) = match self.parent_of(path)? {
            Resolution::Done(v) => v,
            Resolution::Escape { target, rest } => return Ok(Resolution::Escape { target, rest }),
        };
        let comp = comp.ok_or(Errno::EBUSY)?;
        if comp.is_dot() {
            return Err(Errno::EINVAL);
        }
        if comp.is_dotdot() {
            return Err(Errno::ENOTEMPTY);
        }
        let mut t = lock(table(&dir)?);
        let child = t.get(&comp.name).ok_or(Errno::ENOENT)?;
        let ct = table(&child)?;
        {
            let mut c = lock(ct);
            if !c.is_empty() {
                return Err(Errno::ENOTEMPTY);
            }
            c.dead = true;
        }
        t.remove(&comp.name);
        drop(t);
        child.with_meta(|m| {
            m.nlink = 0;
            m.ctime = now();
        });
        dir.with_meta(|m| {
            m.nlink -= 1;
            m.modified();
        });
        Ok(Resolution::Done(()))
    }

    /// renameat2(2) with RENAME_NOREPLACE and RENAME_EXCHANGE. Errors as Linux: EBUSY for
    /// "."/".."/the root, ENOENT, EEXIST (NOREPLACE), ENOTDIR/EISDIR (directory over
    /// non-directory and the reverse, trailing slashes on non-directories), ENOTEMPTY (a
    /// non-empty target directory, or a target that is an ancestor of the source), EINVAL (a
    /// directory into its own subtree, bad flags, RENAME_WHITEOUT). A symlink leaving the
    /// filesystem in either path gives EXDEV: the caller's fallback (copy and delete) is
    /// then correct whichever filesystem the path really ends in.
    pub fn rename(&self, from: &[u8], to: &[u8], flags: u32) -> Result<(), Errno> {
        if flags & !(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT) != 0
            || flags & RENAME_WHITEOUT != 0
            || (flags & RENAME_EXCHANGE != 0 && flags & RENAME_NOREPLACE != 0)
        {
            return Err(Errno::EINVAL);
        }
        let exchange = flags & RENAME_EXCHANGE != 0;
        let _w = wlock(&self.tree);
        let (odir, oc) = no_escape(self.parent_of(from)?)?;
        let (ndir, nc) = no_escape(self.parent_of(to)?)?;
        let oc = oc.filter(Comp::is_normal).ok_or(Errno::EBUSY)?;
        let nc = match nc.filter(Comp::is_normal) {
            Some(c) => c,
            None if flags & RENAME_NOREPLACE != 0 => return Err(Errno::EEXIST),
            None => return Err(Errno::EBUSY),
        };
        let src = lock(table(&odir)?).get(&oc.name).ok_or(Errno::ENOENT)?;
        let dst = lock(table(&ndir)?).get(&nc.name);
        if flags & RENAME_NOREPLACE != 0 && dst.is_some() {
            return Err(Errno::EEXIST);
        }
        if exchange {
            match &dst {
                None => return Err(Errno::ENOENT),
                Some(d) if !d.is_dir() && nc.must_dir => return Err(Errno::ENOTDIR),
                _ => {}
            }
        }
        if !src.is_dir() && (oc.must_dir || (!exchange && nc.must_dir)) {
            return Err(Errno::ENOTDIR);
        }
        let same = Arc::ptr_eq(&odir, &ndir);
        if !same {
            if let Some(trap) = child_toward(&odir, &ndir) {
                if Arc::ptr_eq(&trap, &src) {
                    return Err(Errno::EINVAL);
                }
            } else if let Some(trap) = child_toward(&ndir, &odir) {
                if dst.as_ref().is_some_and(|d| Arc::ptr_eq(d, &trap)) {
                    return Err(if exchange { Errno::EINVAL } else { Errno::ENOTEMPTY });
                }
            }
        }
        if dst.as_ref().is_some_and(|d| Arc::ptr_eq(d, &src)) {
            return Ok(());
        }
        if !exchange {
            if let Some(d) = &dst {
                match (src.is_dir(), d.is_dir()) {
                    (true, false) => return Err(Errno::ENOTDIR),
                    (false, true) => return Err(Errno::EISDIR),
                    (true, true) if !lock(table(d)?).is_empty() => return Err(Errno::ENOTEMPTY),
                    _ => {}
                }
            }
        }

        // Checks done: change the tables, both at once.
        {
            let mut og = lock(table(&odir)?);
            let mut ng = if same { None } else { Some(lock(table(&ndir)?)) };
            macro_rules! nt {
                () => {
                    match ng.as_deref_mut() {
                        Some(n) => n,
                        None => &mut *og,
                    }
                };
            }
            og.remove(&oc.name);
            nt!().remove(&nc.name);
            if exchange {
                if let Some(d) = &dst {
                    og.insert(oc.name.clone(), d.clone());
                }
            }
            nt!().insert(nc.name.clone(), src.clone());
        }
        let t = now();
        let dirs_moved = |inode: &Inode| i64::from(inode.is_dir());
        // Net directories leaving odir for ndir (each holds a ".." link to its parent).
        let mut moved = dirs_moved(&src);
        if exchange {
            if let Some(d) = &dst {
                moved -= dirs_moved(d);
                if let Some(dt) = d.dir() {
                    lock(dt).parent = Arc::downgrade(&odir);
                }
                d.with_meta(|m| m.ctime = t);
            }
        } else if let Some(d) = &dst {
            if let Some(dt) = d.dir() {
                lock(dt).dead = true;
                ndir.with_meta(|m| m.nlink -= 1);
            }
            d.with_meta(|m| {
                m.nlink = if d.is_dir() { 0 } else { m.nlink.saturating_sub(1) };
                m.ctime = t;
            });
        }
        if let Some(st) = src.dir() {
            lock(st).parent = Arc::downgrade(&ndir);
        }
        src.with_meta(|m| m.ctime = t);
        if !same {
            odir.with_meta(|m| m.nlink = m.nlink.wrapping_add_signed(-moved));
            ndir.with_meta(|m| m.nlink = m.nlink.wrapping_add_signed(moved));
        }
        for d in [&odir, &ndir] {
            d.with_meta(|m| {
                m.mtime = t;
                m.ctime = t;
            });
        }
        Ok(())
    }

    /// link(2) (without AT_SYMLINK_FOLLOW: a symlink `from` is linked itself). EEXIST if
    /// `to` exists or is "."/".."/the root, ENOENT for a trailing slash on `to`, EPERM for
    /// directories. A symlink leaving the filesystem in either path gives EXDEV.
    pub fn link(&self, from: &[u8], to: &[u8]) -> Result<(), Errno> {
        let _w = wlock(&self.tree);
        let src = no_escape(self.lookup(from, false)?)?;
        let (dir, comp) = no_escape(self.parent_of(to)?)?;
        let comp = comp.filter(Comp::is_normal).ok_or(Errno::EEXIST)?;
        let mut t = lock(table(&dir)?);
        if t.get(&comp.name).is_some() {
            return Err(Errno::EEXIST);
        }
        if comp.must_dir {
            return Err(Errno::ENOENT);
        }
        if src.is_dir() {
            return Err(Errno::EPERM);
        }
        if lock(&src.meta).nlink == 0 {
            return Err(Errno::ENOENT);
        }
        t.insert(comp.name, src.clone());
        drop(t);
        src.with_meta(|m| {
            m.nlink += 1;
            m.ctime = now();
        });
        dir.with_meta(|m| m.modified());
        Ok(())
    }

    /// symlink(2): creates `path` pointing at `target` (stored as given). ENOENT for an empty
    /// target or a trailing slash on `path`, ENAMETOOLONG for a target of PATH_MAX or more,
    /// EEXIST if `path` exists.
    pub fn symlink(&self, target: &[u8], path: &[u8], creds: &Creds) -> Result<Resolution<()>, Errno> {
        if target.is_empty() {
            return Err(Errno::ENOENT);
        }
        if target.len() >= PATH_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        let _w = wlock(&self.tree);
        let (dir, comp) = match self.parent_of(path)? {
            Resolution::Done(v) => v,
            Resolution::Escape { target, rest } => return Ok(Resolution::Escape { target, rest }),
        };
        let comp = comp.filter(Comp::is_normal).ok_or(Errno::EEXIST)?;
        let mut t = lock(table(&dir)?);
        if t.get(&comp.name).is_some() {
            return Err(Errno::EEXIST);
        }
        if comp.must_dir {
            return Err(Errno::ENOENT);
        }
        let (gid, _) = new_owner(&dir, creds);
        t.insert(comp.name, Inode::new_symlink(self.new_ino(), self.dev, target.to_vec(), creds.uid, gid));
        drop(t);
        dir.with_meta(|m| m.modified());
        Ok(Resolution::Done(()))
    }

    /// readlink(2): the target of the symlink `path` (not followed). EINVAL if not a symlink.
    pub fn readlink(&self, path: &[u8]) -> Result<Resolution<Vec<u8>>, Errno> {
        let _r = rlock(&self.tree);
        let inode = match self.lookup(path, false)? {
            Resolution::Done(i) => i,
            Resolution::Escape { target, rest } => return Ok(Resolution::Escape { target, rest }),
        };
        let target = inode.symlink().ok_or(Errno::EINVAL)?;
        inode.touch_atime();
        Ok(Resolution::Done(target.to_vec()))
    }

    /// truncate(2) (follows symlinks). EINVAL for a length above i64::MAX or a non-regular
    /// file, EISDIR for a directory, EFBIG beyond the size limit. mtime and ctime change only
    /// if the size does.
    pub fn truncate(&self, path: &[u8], len: u64) -> Result<Resolution<()>, Errno> {
        if len > i64::MAX as u64 {
            return Err(Errno::EINVAL);
        }
        let _r = rlock(&self.tree);
        let inode = match self.lookup(path, true)? {
            Resolution::Done(i) => i,
            Resolution::Escape { target, rest } => return Ok(Resolution::Escape { target, rest }),
        };
        let data = match &inode.kind {
            Kind::File(d) => d,
            Kind::Dir(_) => return Err(Errno::EISDIR),
            Kind::Symlink(_) => return Err(Errno::EINVAL),
        };
        if len > self.shared.max_file_size {
            return Err(Errno::EFBIG);
        }
        let mut d = wlock(data);
        if d.size != len {
            d.truncate(len);
            inode.with_meta(|m| m.modified());
        }
        Ok(Resolution::Done(()))
    }

    /// Runs `f` on the attributes of the inode `path` names (tree lock shared).
    fn setattr(&self, path: &[u8], follow: bool, f: impl FnOnce(&mut inode::Meta)) -> Result<Resolution<()>, Errno> {
        let _r = rlock(&self.tree);
        Ok(self.lookup(path, follow)?.map(|i| i.with_meta(f)))
    }

    /// chmod(2) (follows symlinks): sets the permission bits (07777 of `mode`).
    pub fn chmod(&self, path: &[u8], mode: u32) -> Result<Resolution<()>, Errno> {
        self.setattr(path, true, |m| {
            m.mode = (m.mode & libc::S_IFMT) | (mode & 0o7777);
            m.ctime = now();
        })
    }

    /// chown(2) (follows symlinks): None leaves the owner or group as is. As Linux does,
    /// clears set-user-ID, and set-group-ID if group-executable, on non-directories.
    pub fn chown(&self, path: &[u8], uid: Option<u32>, gid: Option<u32>) -> Result<Resolution<()>, Errno> {
        self.chown_at(path, true, uid, gid)
    }

    /// lchown(2): as [`Tmpfs::chown`], without following a final symlink.
    pub fn lchown(&self, path: &[u8], uid: Option<u32>, gid: Option<u32>) -> Result<Resolution<()>, Errno> {
        self.chown_at(path, false, uid, gid)
    }

    fn chown_at(&self, path: &[u8], follow: bool, uid: Option<u32>, gid: Option<u32>) -> Result<Resolution<()>, Errno> {
        self.setattr(path, follow, |m| {
            m.uid = uid.unwrap_or(m.uid);
            m.gid = gid.unwrap_or(m.gid);
            if m.mode & libc::S_IFMT != libc::S_IFDIR {
                m.mode &= !libc::S_ISUID;
                if m.mode & libc::S_IXGRP != 0 {
                    m.mode &= !libc::S_ISGID;
                }
            }
            m.ctime = now();
        })
    }

    /// utimensat(2) (follows symlinks): None (or nanoseconds [`UTIME_OMIT`]) leaves a time
    /// as is, nanoseconds [`UTIME_NOW`] sets the current time. ctime becomes now. EINVAL for
    /// nanoseconds out of range; with both times omitted nothing is done, not even a lookup
    /// (as Linux).
    pub fn utimens(&self, path: &[u8], atime: Option<(i64, i64)>, mtime: Option<(i64, i64)>) -> Result<Resolution<()>, Errno> {
        self.utimens_at(path, true, atime, mtime)
    }

    /// utimensat(2) with AT_SYMLINK_NOFOLLOW: as [`Tmpfs::utimens`], on a final symlink
    /// itself.
    pub fn lutimens(&self, path: &[u8], atime: Option<(i64, i64)>, mtime: Option<(i64, i64)>) -> Result<Resolution<()>, Errno> {
        self.utimens_at(path, false, atime, mtime)
    }

    fn utimens_at(&self, path: &[u8], follow: bool, atime: Option<(i64, i64)>, mtime: Option<(i64, i64)>) -> Result<Resolution<()>, Errno> {
        check_time(atime)?;
        check_time(mtime)?;
        let omitted = |t: Option<(i64, i64)>| matches!(t, None | Some((_, UTIME_OMIT)));
        if omitted(atime) && omitted(mtime) {
            return Ok(Resolution::Done(()));
        }
        self.setattr(path, follow, |m| {
            let t = now();
            m.atime = new_time(atime, m.atime, t);
            m.mtime = new_time(mtime, m.mtime, t);
            m.ctime = t;
        })
    }
}

impl Drop for Tmpfs {
    /// Tears the tree down without recursion (deep trees would overflow the stack);
    /// directories still open elsewhere are left whole.
    fn drop(&mut self) {
        let mut stack = match self.root.dir() {
            Some(d) => lock(d).drain(),
            None => Vec::new(),
        };
        while let Some(i) = stack.pop() {
            if Arc::strong_count(&i) == 1 {
                if let Some(d) = i.dir() {
                    stack.extend(lock(d).drain());
                }
            }
        }
    }
}
