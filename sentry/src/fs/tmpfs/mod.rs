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
//! Order: tree, directory table, file data (its size), attributes. A file's page table
//! (its `SharedObject`) is locked innermost and briefly, alone by faults on shared mappings.
//! Only holders of the exclusive tree lock (rmdir, rename) hold two directory tables at
//! once, so they cannot deadlock.
//!
//! File data lives in pages of the sandbox's memory file, held by one `SharedObject` per
//! regular file: a MAP_SHARED mapping of the file maps those very pages, so it and
//! read/write see each other's changes. Pages are created on first write (or fault) and
//! count against the filesystem's size limit; holes read as zeros and cost nothing.
//!
//! Layout: `walk` (path components, symlinks, escapes), `inode` (inodes, directory tables,
//! file sizes over page tables), `file` (the FileOps of open files), and the operations in
//! `open` (open, O_TMPFILE, memfds), `names` (mkdir, unlink, rmdir, rename, link, symlink),
//! `attr` (stat, readlink, truncate, chmod, chown, utimens), `sock` (socket files), `fifo`
//! (mknod: named pipes, regular and socket inodes) and `tmpfile` (linkat(AT_EMPTY_PATH),
//! fchmod and fchown of open files).
//!
//! Permission (DAC) checks are made under the tree lock with the caller's [`Creds`], by the
//! rules of `fs::perm`: write and search permission on directories to add or remove names,
//! sticky directories, set-group-ID directories, ownership for chmod, chown and times,
//! set-user-ID cleared by writes, and search permission on every directory a lookup passes
//! through (`walk`).

mod attr;
mod fifo;
mod file;
mod inode;
mod names;
mod notify;
mod open;
mod sock;
#[cfg(test)]
mod tests;
mod tmpfile;
mod walk;

pub use fifo::NodeType;
pub use tmpfile::{chmod_open, chown_open};

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use platform::MemoryFile;

use self::inode::{lock, Dir, Inode, Shared};
use self::walk::{Comp, Esc, Step, Walker};
use crate::errno::Errno;
use crate::fs::perm;

/// renameat2: fail with EEXIST instead of replacing the target.
pub const RENAME_NOREPLACE: u32 = 1;
/// renameat2: swap source and target atomically.
pub const RENAME_EXCHANGE: u32 = 2;
/// renameat2: leave a whiteout at the source (not supported here: EINVAL).
pub const RENAME_WHITEOUT: u32 = 4;

pub use crate::fs::perm::Creds;

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
        Resolution::Escape {
            target: e.target,
            rest: e.rest,
        }
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
        Limits {
            max_bytes: 2 << 30,
            max_file_size: i64::MAX as u64,
        }
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

/// A lookup's last component: its directory, and the component (None for the root itself).
type Last = (Arc<Inode>, Option<Comp>);

/// Group and permission bits of a new inode `creds` makes in `dir` with `perm` (umask
/// applied), after checking that it may add a name there (EACCES).
fn new_owner(dir: &Inode, creds: &Creds, perm: u32, is_dir: bool) -> Result<(u32, u32), Errno> {
    let d = dir.attr();
    perm::may_create(creds, &d)?;
    Ok(perm::new_inode(creds, &d, perm, is_dir))
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

/// The `Done` value, or EXDEV for an escape (for operations whose result cannot carry
/// one).
fn no_escape<T>(r: Resolution<T>) -> Result<T, Errno> {
    match r {
        Resolution::Done(v) => Ok(v),
        Resolution::Escape { .. } => Err(Errno::EXDEV),
    }
}

impl Tmpfs {
    /// An empty tmpfs with device number `dev` and default [`Limits`], keeping file data in
    /// pages of `mf`; its root is mode 1777, owned by root.
    pub fn new(dev: u64, mf: Arc<MemoryFile>) -> Arc<Tmpfs> {
        Self::with_limits(dev, mf, Limits::default())
    }

    /// An empty tmpfs with the given limits.
    pub fn with_limits(dev: u64, mf: Arc<MemoryFile>, limits: Limits) -> Arc<Tmpfs> {
        let shared = Arc::new(Shared::new(limits.max_bytes, limits.max_file_size, mf));
        let root = Inode::new_dir(1, dev, 0o1777, 0, 0, std::sync::Weak::new());
        Arc::new(Tmpfs {
            dev,
            root,
            next_ino: AtomicU64::new(2),
            tree: RwLock::new(()),
            shared,
        })
    }

    /// Pages of file data the filesystem may hold, and pages it holds now (statfs).
    pub fn pages(&self) -> (u64, u64) {
        self.shared.pages()
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

    /// Walks to the last component of `path` as `creds`: its directory and the component,
    /// or None for the root itself.
    fn parent_of(&self, path: &[u8], creds: &Creds) -> Result<Resolution<Last>, Errno> {
        Ok(
            match Walker::new(path, creds)?.walk_to_last(self.root.clone())? {
                Step::Root(d) => Resolution::Done((d, None)),
                Step::Parent(d, c) => Resolution::Done((d, Some(c))),
                Step::Escape(e) => e.into(),
            },
        )
    }

    /// Resolves `path` as `creds` to an inode, following a symlink in last place if
    /// `follow` or if the path ends in a slash (then it must be a directory).
    fn lookup(
        &self,
        path: &[u8],
        follow: bool,
        creds: &Creds,
    ) -> Result<Resolution<Arc<Inode>>, Errno> {
        let mut w = Walker::new(path, creds)?;
        let mut dir = self.root.clone();
        loop {
            let (d, c) = match w.walk_to_last(dir)? {
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
}
