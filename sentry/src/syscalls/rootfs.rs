//! Path syscalls on the root filesystem: the overlay of a tmpfs upper layer over the
//! gofer's read-only lower layer (`fs::overlay`), or with a write-through root
//! (`--overlay=none`) the gofer's writable tree (`writethrough`). Each function answers for
//! one `Place::Host` path, or escapes when a symlink leads into another mount.

use std::sync::Arc;

use crate::errno::Errno;
use crate::fs::file::{FileOps, Stat};
use crate::fs::overlay::{attr_of, Found, Node};
use crate::fs::perm::{self, Attr};
use crate::fs::tmpfs::{Creds, Resolution, Tmpfs};
use crate::kernel::Task;

/// Walks `abs` in the root as the caller (search permission along the way).
pub(super) fn walk(t: &Task, abs: &[u8], follow: bool) -> Result<Resolution<Found>, Errno> {
    let c = super::file::creds(t);
    t.kernel
        .overlay
        .walk(&t.kernel.root, &t.mounts(), abs, follow, &c)
}

/// Walks `abs` in the root; `f` gets what it found.
fn with<T>(
    t: &Task,
    abs: &[u8],
    follow: bool,
    f: impl FnOnce(Found) -> Result<T, Errno>,
) -> Result<Resolution<T>, Errno> {
    match super::rootfs::walk(t, abs, follow)? {
        Resolution::Escape { target, rest } => Ok(Resolution::Escape { target, rest }),
        Resolution::Done(found) => f(found).map(Resolution::Done),
    }
}

fn mode_of(n: &Node) -> Option<u32> {
    match n {
        Node::Upper(st) => Some(st.mode),
        Node::Lower(st) => Some(st.st_mode),
        Node::Missing => None,
    }
}

/// stat(2): the physical path and the status.
pub fn stat(t: &Task, abs: &[u8], follow: bool) -> Result<Resolution<(Vec<u8>, Stat)>, Errno> {
    with(t, abs, follow, |f| match f.node {
        Node::Upper(st) => Ok((f.path, st)),
        Node::Lower(st) => Ok((f.path, Stat::from_host(&st))),
        Node::Missing => Err(Errno::ENOENT),
    })
}

/// readlink(2).
pub fn readlink(t: &Task, abs: &[u8]) -> Result<Resolution<Vec<u8>>, Errno> {
    with(t, abs, false, |f| match f.node {
        Node::Upper(st) if st.mode & libc::S_IFMT == libc::S_IFLNK => {
            match t
                .kernel
                .overlay
                .upper()
                .readlink(up(&f.path), &Creds::ROOT)?
            {
                Resolution::Done(v) => Ok(v),
                Resolution::Escape { .. } => Err(Errno::EIO),
            }
        }
        Node::Lower(st) if st.st_mode & libc::S_IFMT == libc::S_IFLNK => {
            let l = t.kernel.root.lookup(b"/", &f.path, false)?;
            t.kernel.root.readlink(&l)
        }
        Node::Missing => Err(Errno::ENOENT),
        _ => Err(Errno::EINVAL),
    })
}

fn up(abs: &[u8]) -> &[u8] {
    abs.strip_prefix(b"/").unwrap_or(abs)
}

/// An opened file and the physical path it was found at.
pub type Opened = (Arc<dyn FileOps>, Vec<u8>);

/// open(2): the file and the physical path it was found at. `check` vets an existing
/// file's status against the caller's access (before O_TRUNC can act).
pub fn open(
    t: &Task,
    abs: &[u8],
    flags: u32,
    mode: u32,
    creds: &Creds,
    check: impl FnOnce(&Stat) -> Result<(), Errno>,
) -> Result<Resolution<Opened>, Errno> {
    if t.kernel.root.write_through_at(abs) {
        return super::writethrough::open(t, abs, flags, mode, creds, check);
    }
    let o = |f: i32| f as u32;
    let follow = flags & o(libc::O_NOFOLLOW) == 0
        && flags & o(libc::O_CREAT | libc::O_EXCL) != o(libc::O_CREAT | libc::O_EXCL);
    let ov = &t.kernel.overlay;
    let root = &t.kernel.root;
    let write = flags & o(libc::O_ACCMODE) != o(libc::O_RDONLY) || flags & o(libc::O_TRUNC) != 0;
    with(t, abs, follow, |f| {
        let path = f.path.clone();
        match f.node {
            Node::Missing => {
                if flags & o(libc::O_CREAT) == 0 {
                    return Err(Errno::ENOENT);
                }
                if flags & o(libc::O_DIRECTORY) != 0 {
                    return Err(Errno::EISDIR);
                }
                let file = ov.create(root, &path, false, |fs, p| fs.open(p, flags, mode, creds))?;
                Ok((file, path))
            }
            Node::Upper(st) => {
                if flags & o(libc::O_CREAT | libc::O_EXCL) == o(libc::O_CREAT | libc::O_EXCL) {
                    return Err(Errno::EEXIST);
                }
                check(&st)?;
                let is_dir = st.mode & libc::S_IFMT == libc::S_IFDIR;
                if is_dir && !write && flags & o(libc::O_PATH) == 0 && ov.in_lower(root, &path) {
                    return Ok((ov.open_dir(root, &path, st, None)?, path));
                }
                let file =
                    match ov
                        .upper()
                        .open(up(&path), flags & !o(libc::O_CREAT), mode, creds)?
                    {
                        Resolution::Done(file) => file,
                        Resolution::Escape { .. } => return Err(Errno::EIO),
                    };
                Ok((file, path))
            }
            Node::Lower(lst) => {
                if flags & o(libc::O_CREAT | libc::O_EXCL) == o(libc::O_CREAT | libc::O_EXCL) {
                    return Err(Errno::EEXIST);
                }
                let st = Stat::from_host(&lst);
                let kind = st.mode & libc::S_IFMT;
                if flags & o(libc::O_DIRECTORY) != 0 && kind != libc::S_IFDIR {
                    return Err(Errno::ENOTDIR);
                }
                if kind == libc::S_IFLNK {
                    return Err(Errno::ELOOP);
                }
                check(&st)?;
                // Its listing merges what the upper layer has or will have.
                if kind == libc::S_IFDIR && !write && flags & o(libc::O_PATH) == 0 {
                    return Ok((ov.open_dir(root, &path, st, f.lower)?, path));
                }
                if write {
                    if kind == libc::S_IFDIR {
                        return Err(Errno::EISDIR);
                    }
                    let file = ov.change(root, &path, |fs: &Tmpfs, p| {
                        fs.open(p, flags & !o(libc::O_CREAT), mode, creds)
                    })?;
                    return Ok((file, path));
                }
                let l = match f.lower {
                    Some(l) => l,
                    None => root.lookup(b"/", &path, false)?,
                };
                Ok((root.open_file(&l)? as Arc<dyn FileOps>, path))
            }
        }
    })
}

/// The physical path `abs` leads to (for chdir).
pub fn real_path(t: &Task, abs: &[u8]) -> Result<Resolution<Vec<u8>>, Errno> {
    with(t, abs, true, |f| match f.node {
        Node::Missing => Err(Errno::ENOENT),
        _ => Ok(f.path),
    })
}

/// mkdir(2).
pub fn mkdir(t: &Task, abs: &[u8], mode: u32, creds: &Creds) -> Result<Resolution<()>, Errno> {
    if t.kernel.root.write_through_at(abs) {
        return super::writethrough::mkdir(t, abs, mode, creds);
    }
    with(t, abs, false, |f| match f.node {
        Node::Missing => t
            .kernel
            .overlay
            .create(&t.kernel.root, &f.path, true, |fs, p| {
                fs.mkdir(p, mode, creds)
            }),
        _ => Err(Errno::EEXIST),
    })
}

/// symlink(2).
pub fn symlink(
    t: &Task,
    target: &[u8],
    abs: &[u8],
    creds: &Creds,
) -> Result<Resolution<()>, Errno> {
    if t.kernel.root.write_through_at(abs) {
        return super::writethrough::symlink(t, target, abs, creds);
    }
    with(t, abs, false, |f| match f.node {
        Node::Missing => t
            .kernel
            .overlay
            .create(&t.kernel.root, &f.path, false, |fs, p| {
                fs.symlink(target, p, creds)
            }),
        _ => Err(Errno::EEXIST),
    })
}

/// unlink(2) and rmdir(2).
pub fn remove(t: &Task, abs: &[u8], dir: bool) -> Result<Resolution<()>, Errno> {
    if t.kernel.root.write_through_at(abs) {
        return super::writethrough::remove(t, abs, dir);
    }
    with(t, abs, false, |f| {
        if f.path == b"/" {
            return Err(if dir { Errno::EBUSY } else { Errno::EISDIR });
        }
        let c = super::file::creds(t);
        t.kernel.overlay.remove(&t.kernel.root, &f, dir, &c)
    })
}

/// A change to an existing file (truncate, chmod, chown, utimens): `check` vets the
/// caller's permission on its attributes (before a copy-up), then it is copied up and `op`
/// does it.
pub fn change(
    t: &Task,
    abs: &[u8],
    follow: bool,
    check: impl FnOnce(&Attr) -> Result<(), Errno>,
    op: impl FnOnce(&Tmpfs, &[u8]) -> Result<Resolution<()>, Errno>,
) -> Result<Resolution<()>, Errno> {
    with(t, abs, follow, |f| match attr_of(&f.node) {
        None => Err(Errno::ENOENT),
        Some(a) => {
            check(&a)?;
            t.kernel.overlay.change(&t.kernel.root, &f.path, op)
        }
    })
}

/// rename(2) and renameat2(2) within the root.
pub fn rename(t: &Task, from: &[u8], to: &[u8], flags: u32) -> Result<(), Errno> {
    // A bind mount written through and the overlay around it are two mounts.
    if t.kernel.root.write_through_at(from) != t.kernel.root.write_through_at(to) {
        return Err(Errno::EXDEV);
    }
    if t.kernel.root.write_through_at(from) {
        return super::writethrough::rename(t, from, to, flags);
    }
    let walk = |p: &[u8]| match super::rootfs::walk(t, p, false)? {
        Resolution::Done(f) => Ok(f),
        Resolution::Escape { .. } => Err(Errno::EXDEV),
    };
    let (a, b) = (walk(from)?, walk(to)?);
    if a.path == b"/" || b.path == b"/" {
        return Err(Errno::EBUSY);
    }
    if a.path == b.path {
        return mode_of(&a.node).map(|_| ()).ok_or(Errno::ENOENT);
    }
    if b.path.starts_with(&[&a.path[..], b"/"].concat()) {
        return Err(Errno::EINVAL);
    }
    let c = super::file::creds(t);
    t.kernel.overlay.rename(&t.kernel.root, &a, &b, flags, &c)
}

/// link(2) within the root: the file is copied up and linked there.
pub fn link(t: &Task, from: &[u8], to: &[u8]) -> Result<(), Errno> {
    if t.kernel.root.write_through_at(from) != t.kernel.root.write_through_at(to) {
        return Err(Errno::EXDEV);
    }
    if t.kernel.root.write_through_at(from) {
        return super::writethrough::link(t, from, to);
    }
    let walk = |p: &[u8]| match super::rootfs::walk(t, p, false)? {
        Resolution::Done(f) => Ok(f),
        Resolution::Escape { .. } => Err(Errno::EXDEV),
    };
    let (a, b) = (walk(from)?, walk(to)?);
    match mode_of(&a.node) {
        None => return Err(Errno::ENOENT),
        Some(m) if m & libc::S_IFMT == libc::S_IFDIR => return Err(Errno::EPERM),
        _ => {}
    }
    if !matches!(b.node, Node::Missing) {
        return Err(Errno::EEXIST);
    }
    let c = super::file::creds(t);
    if let Some(attr) = attr_of(&a.node) {
        perm::may_link(&c, &attr)?;
    }
    let ov = &t.kernel.overlay;
    ov.copy_up(&t.kernel.root, &a.path)?;
    ov.create(&t.kernel.root, &b.path, false, |fs, p| {
        fs.link(up(&a.path), p, &c).map(Resolution::Done)
    })
}
