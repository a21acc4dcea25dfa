//! The root in write-through mode (`rvisor do --overlay=none`, `RootMode::WriteThrough`):
//! what changes the root is asked of the writable gofer, after the permission checks Linux
//! makes with the caller's credentials (`fs::perm`; the gofer acts as the host's root and
//! gives new files the caller's owner). Paths are walked as in overlay mode, symlinks
//! followed by the Sentry, escapes into other mounts handed back; the overlay's upper
//! layer stays empty in this mode, so every walk ends in the gofer's tree. A file opened
//! for writing is a host descriptor the gofer donates, which the Sentry writes with pwrite.

use std::sync::Arc;

use gofer::protocol::{Owner, SetAttr, SetTime, Timespec};

use super::rootfs::Opened;
use crate::errno::Errno;
use crate::fs::file::{FileOps, Stat};
use crate::fs::host::Lookup;
use crate::fs::overlay::{Found, Node};
use crate::fs::perm::{self, Attr, Creds};
use crate::fs::tmpfs::{NodeType, Resolution, UTIME_NOW, UTIME_OMIT};
use crate::kernel::Task;

/// A change to an existing file of the root.
#[derive(Clone, Copy, Debug)]
pub enum Change {
    /// truncate(2).
    Truncate(u64),
    /// chmod(2): the permission bits.
    Chmod(u32),
    /// chown(2) (lchown without following): None keeps one.
    Chown(Option<u32>, Option<u32>),
    /// utimensat(2): (seconds, nanoseconds), nanoseconds UTIME_NOW or UTIME_OMIT as the
    /// call gives them; None omits one.
    Times(Option<(i64, i64)>, Option<(i64, i64)>),
}

/// Walks of an open whose O_CREAT lost a race for the name to another creation.
const CREATE_RETRIES: usize = 8;

const fn o(f: i32) -> u32 {
    f as u32
}

/// `f` on what `abs` leads to in the root, unless a symlink leads into another mount.
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

/// Walks `p` without following its last component; another mount is EXDEV.
fn walk_here(t: &Task, p: &[u8]) -> Result<Found, Errno> {
    match super::rootfs::walk(t, p, false)? {
        Resolution::Done(f) => Ok(f),
        Resolution::Escape { .. } => Err(Errno::EXDEV),
    }
}

fn attr(st: &libc::stat) -> Attr {
    Attr {
        mode: st.st_mode,
        uid: st.st_uid,
        gid: st.st_gid,
    }
}

fn kind(st: &libc::stat) -> u32 {
    st.st_mode & libc::S_IFMT
}

/// The status of what a walk found (ENOENT if nothing).
fn found_stat(f: &Found) -> Result<libc::stat, Errno> {
    match &f.node {
        Node::Lower(st) => Ok(*st),
        Node::Missing => Err(Errno::ENOENT),
        // The upper layer is never written in this mode.
        Node::Upper(_) => Err(Errno::EIO),
    }
}

/// The directory holding the physical path `path`, held, and the last component.
fn parent(t: &Task, path: &[u8]) -> Result<(Lookup, Vec<u8>), Errno> {
    let cut = path.iter().rposition(|&b| b == b'/').ok_or(Errno::ENOENT)?;
    let name = &path[cut + 1..];
    if name.is_empty() {
        return Err(Errno::EBUSY);
    }
    let dir: &[u8] = if cut == 0 { b"/" } else { &path[..cut] };
    let l = t.kernel.root.lookup(b"/", dir, false)?;
    if kind(&l.stat) != libc::S_IFDIR {
        return Err(Errno::ENOTDIR);
    }
    Ok((l, name.to_vec()))
}

/// What a walk found, held: the walk's own node, or looked up again by its physical path.
fn held(t: &Task, f: Found) -> Result<Lookup, Errno> {
    match f.lower {
        Some(l) => Ok(l),
        None => t.kernel.root.lookup(b"/", &f.path, false),
    }
}

/// The owner and permission bits of a new inode `c` makes in `dir` asking for `bits`
/// (before the umask), once `c` may add a name there (EACCES).
fn new_inode(c: &Creds, dir: &Lookup, bits: u32, is_dir: bool) -> Result<(Owner, u32), Errno> {
    let d = attr(&dir.stat);
    perm::may_create(c, &d)?;
    let (gid, bits) = perm::new_inode(c, &d, bits & !c.umask, is_dir);
    Ok((Owner { uid: c.uid, gid }, bits))
}

/// The host open flags for an application's `flags`: the access mode, truncation and
/// synchronous writes (appends are placed by the Sentry, which knows the size).
fn host_flags(flags: u32) -> i32 {
    (flags & o(libc::O_ACCMODE | libc::O_TRUNC | libc::O_SYNC | libc::O_DSYNC)) as i32
}

/// open(2) of a root path (see `rootfs::open`): an existing file is opened by the gofer
/// with the access asked for; O_CREAT makes a new one with the caller's owner.
pub fn open(
    t: &Task,
    abs: &[u8],
    flags: u32,
    mode: u32,
    creds: &Creds,
    check: impl FnOnce(&Stat) -> Result<(), Errno>,
) -> Result<Resolution<Opened>, Errno> {
    let excl = flags & o(libc::O_CREAT | libc::O_EXCL) == o(libc::O_CREAT | libc::O_EXCL);
    let follow = flags & o(libc::O_NOFOLLOW) == 0 && !excl;
    let mut check = Some(check);
    for _ in 0..CREATE_RETRIES {
        let f = match super::rootfs::walk(t, abs, follow)? {
            Resolution::Escape { target, rest } => return Ok(Resolution::Escape { target, rest }),
            Resolution::Done(f) => f,
        };
        if let Node::Missing = f.node {
            if flags & o(libc::O_CREAT) == 0 {
                return Err(Errno::ENOENT);
            }
            if flags & o(libc::O_DIRECTORY) != 0 || abs.ends_with(b"/") {
                return Err(Errno::EISDIR);
            }
            match create(t, &f.path, flags, mode, creds) {
                // Made by someone else meanwhile: open what is there now.
                Err(Errno::EEXIST) if !excl => continue,
                r => return r.map(|file| Resolution::Done((file, f.path))),
            }
        }
        let check = check.take().ok_or(Errno::EIO)?;
        return open_existing(t, f, flags, creds, check).map(Resolution::Done);
    }
    Err(Errno::EEXIST)
}

fn create(
    t: &Task,
    path: &[u8],
    flags: u32,
    mode: u32,
    creds: &Creds,
) -> Result<Arc<dyn FileOps>, Errno> {
    let (dir, name) = parent(t, path)?;
    let (owner, bits) = new_inode(creds, &dir, mode & 0o7777, false)?;
    let flags = host_flags(flags & !o(libc::O_TRUNC));
    Ok(t.kernel.root.create(&dir, &name, flags, bits, owner)?)
}

fn open_existing(
    t: &Task,
    f: Found,
    flags: u32,
    creds: &Creds,
    check: impl FnOnce(&Stat) -> Result<(), Errno>,
) -> Result<Opened, Errno> {
    if flags & o(libc::O_CREAT | libc::O_EXCL) == o(libc::O_CREAT | libc::O_EXCL) {
        return Err(Errno::EEXIST);
    }
    let lst = found_stat(&f)?;
    let st = Stat::from_host(&lst);
    let k = kind(&lst);
    if flags & o(libc::O_DIRECTORY) != 0 && k != libc::S_IFDIR {
        return Err(Errno::ENOTDIR);
    }
    if k == libc::S_IFLNK {
        return Err(Errno::ELOOP);
    }
    check(&st)?;
    let acc = flags & o(libc::O_ACCMODE);
    let trunc = flags & o(libc::O_TRUNC) != 0 && flags & o(libc::O_PATH) == 0;
    let write = (acc != o(libc::O_RDONLY) || trunc) && flags & o(libc::O_PATH) == 0;
    if k == libc::S_IFDIR && write {
        return Err(Errno::EISDIR);
    }
    let path = f.path.clone();
    let l = held(t, f)?;
    let root = &t.kernel.root;
    if !write {
        return Ok((root.open_file(&l)? as Arc<dyn FileOps>, path));
    }
    let file = root.open_file_as(&l, host_flags(flags))?;
    if trunc && k == libc::S_IFREG {
        // A truncation by a caller without CAP_FSETID takes set-user-ID away, and Linux
        // truncates on O_RDONLY | O_TRUNC too.
        let mode = perm::after_write(creds, &attr(&lst));
        if acc == o(libc::O_RDONLY) || mode.is_some() {
            root.setattr(
                &l,
                SetAttr {
                    size: Some(0),
                    mode: mode.map(|m| m & 0o7777),
                    ..Default::default()
                },
            )?;
        }
    }
    Ok((file as Arc<dyn FileOps>, path))
}

/// mkdir(2).
pub fn mkdir(t: &Task, abs: &[u8], mode: u32, creds: &Creds) -> Result<Resolution<()>, Errno> {
    with(t, abs, false, |f| match f.node {
        Node::Missing => {
            let (dir, name) = parent(t, &f.path)?;
            let (owner, bits) = new_inode(creds, &dir, mode & 0o1777, true)?;
            t.kernel.root.mkdir(&dir, &name, bits, owner)
        }
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
    if target.is_empty() {
        return Err(Errno::ENOENT);
    }
    with(t, abs, false, |f| match f.node {
        Node::Missing if abs.ends_with(b"/") => Err(Errno::ENOENT),
        Node::Missing => {
            let (dir, name) = parent(t, &f.path)?;
            let (owner, _) = new_inode(creds, &dir, 0o777, false)?;
            t.kernel.root.symlink(&dir, &name, target, owner)
        }
        _ => Err(Errno::EEXIST),
    })
}

/// mknod(2): regular files, fifos and sockets; never devices (EPERM).
pub fn mknod(
    t: &Task,
    abs: &[u8],
    ty: NodeType,
    mode: u32,
    creds: &Creds,
) -> Result<Resolution<()>, Errno> {
    with(t, abs, false, |f| {
        let ty = match (f.node, ty) {
            (Node::Missing, _) if abs.ends_with(b"/") => return Err(Errno::ENOENT),
            (Node::Missing, NodeType::Regular) => libc::S_IFREG,
            (Node::Missing, NodeType::Fifo) => libc::S_IFIFO,
            (Node::Missing, NodeType::Socket) => libc::S_IFSOCK,
            (Node::Missing, NodeType::Device) => return Err(Errno::EPERM),
            _ => return Err(Errno::EEXIST),
        };
        let (dir, name) = parent(t, &f.path)?;
        let (owner, bits) = new_inode(creds, &dir, mode & 0o7777, false)?;
        t.kernel.root.mknod(&dir, &name, ty | bits, owner)
    })
}

/// unlink(2) and rmdir(2).
pub fn remove(t: &Task, abs: &[u8], dir: bool) -> Result<Resolution<()>, Errno> {
    let last = abs.split(|&b| b == b'/').rfind(|c| !c.is_empty());
    if dir && last == Some(b".") {
        return Err(Errno::EINVAL);
    }
    if dir && last == Some(b"..") {
        return Err(Errno::ENOTEMPTY);
    }
    let creds = super::file::creds(t);
    with(t, abs, false, |f| {
        if f.path == b"/" {
            return Err(if dir { Errno::EBUSY } else { Errno::EISDIR });
        }
        let st = found_stat(&f)?;
        let is_dir = kind(&st) == libc::S_IFDIR;
        if dir && !is_dir {
            return Err(Errno::ENOTDIR);
        }
        if !dir && is_dir {
            return Err(Errno::EISDIR);
        }
        let (d, name) = parent(t, &f.path)?;
        perm::may_delete(&creds, &attr(&d.stat), &attr(&st))?;
        t.kernel.root.unlink(&d, &name, dir)
    })
}

/// A change to an existing file, as the caller (following a final symlink with `follow`).
pub fn change(t: &Task, abs: &[u8], follow: bool, change: Change) -> Result<Resolution<()>, Errno> {
    let creds = &super::file::creds(t);
    if let Change::Times(a, m) = change {
        let omitted = |t: Option<(i64, i64)>| matches!(t, None | Some((_, UTIME_OMIT)));
        if omitted(a) && omitted(m) {
            return Ok(Resolution::Done(()));
        }
    }
    with(t, abs, follow, |f| {
        let st = found_stat(&f)?;
        let a = attr(&st);
        let set = match change {
            Change::Truncate(len) => {
                match kind(&st) {
                    libc::S_IFREG => {}
                    libc::S_IFDIR => return Err(Errno::EISDIR),
                    _ => return Err(Errno::EINVAL),
                }
                if len > i64::MAX as u64 {
                    return Err(Errno::EINVAL);
                }
                perm::permission(creds, &a, perm::MAY_WRITE)?;
                SetAttr {
                    size: Some(len),
                    mode: perm::after_write(creds, &a).map(|m| m & 0o7777),
                    ..Default::default()
                }
            }
            Change::Chmod(mode) => SetAttr {
                mode: Some(perm::chmod_bits(creds, &a, mode)?),
                ..Default::default()
            },
            Change::Chown(uid, gid) => {
                // The gofer's chown (as the host's root) keeps what Linux would take from
                // this caller: the mode Linux leaves is set after it.
                let mode = perm::chown_mode(creds, &a, uid, gid)?;
                SetAttr {
                    uid,
                    gid,
                    mode: (kind(&st) != libc::S_IFLNK).then_some(mode & 0o7777),
                    ..Default::default()
                }
            }
            Change::Times(at, mt) => {
                for (_, ns) in [at, mt].into_iter().flatten() {
                    if !(0..1_000_000_000).contains(&ns) && ns != UTIME_NOW && ns != UTIME_OMIT {
                        return Err(Errno::EINVAL);
                    }
                }
                let touch = matches!((at, mt), (Some((_, UTIME_NOW)), Some((_, UTIME_NOW))));
                perm::may_set_times(creds, &a, touch)?;
                SetAttr {
                    atime: set_time(at),
                    mtime: set_time(mt),
                    ..Default::default()
                }
            }
        };
        let l = held(t, f)?;
        t.kernel.root.setattr(&l, set).map(drop)
    })
}

fn set_time(t: Option<(i64, i64)>) -> Option<SetTime> {
    match t {
        None | Some((_, UTIME_OMIT)) => None,
        Some((_, UTIME_NOW)) => Some(SetTime::Now),
        Some((sec, nsec)) => Some(SetTime::At(Timespec {
            sec,
            nsec: nsec as u32,
        })),
    }
}

/// rename(2) and renameat2(2) within the root (RENAME_NOREPLACE, RENAME_EXCHANGE).
pub fn rename(t: &Task, from: &[u8], to: &[u8], flags: u32) -> Result<(), Errno> {
    let known = libc::RENAME_NOREPLACE | libc::RENAME_EXCHANGE;
    if flags & !known != 0 || flags == known {
        return Err(Errno::EINVAL);
    }
    let (a, b) = (walk_here(t, from)?, walk_here(t, to)?);
    if a.path == b"/" || b.path == b"/" {
        return Err(Errno::EBUSY);
    }
    let ast = found_stat(&a)?;
    if a.path == b.path {
        return Ok(());
    }
    if b.path.starts_with(&[&a.path[..], b"/"].concat()) {
        return Err(Errno::EINVAL);
    }
    let c = super::file::creds(t);
    let (ad, an) = parent(t, &a.path)?;
    let (bd, bn) = parent(t, &b.path)?;
    perm::may_delete(&c, &attr(&ad.stat), &attr(&ast))?;
    match &b.node {
        Node::Lower(bst) => perm::may_delete(&c, &attr(&bd.stat), &attr(bst))?,
        _ => perm::may_create(&c, &attr(&bd.stat))?,
    }
    if ad.path != bd.path {
        perm::may_reparent(&c, &attr(&ast))?;
        if let (Node::Lower(bst), true) = (&b.node, flags & libc::RENAME_EXCHANGE != 0) {
            perm::may_reparent(&c, &attr(bst))?;
        }
    }
    t.kernel.root.rename(&ad, &an, &bd, &bn, flags)
}

/// link(2) within the root.
pub fn link(t: &Task, from: &[u8], to: &[u8]) -> Result<(), Errno> {
    let (a, b) = (walk_here(t, from)?, walk_here(t, to)?);
    let ast = found_stat(&a)?;
    if kind(&ast) == libc::S_IFDIR {
        return Err(Errno::EPERM);
    }
    match b.node {
        Node::Missing if to.ends_with(b"/") => return Err(Errno::ENOENT),
        Node::Missing => {}
        _ => return Err(Errno::EEXIST),
    }
    let c = super::file::creds(t);
    perm::may_link(&c, &attr(&ast))?;
    let (bd, bn) = parent(t, &b.path)?;
    perm::may_create(&c, &attr(&bd.stat))?;
    let src = held(t, a)?;
    t.kernel.root.link(&bd, &bn, &src)
}
