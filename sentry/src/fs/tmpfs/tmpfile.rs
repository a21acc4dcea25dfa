//! Operations on open tmpfs files rather than on paths: linkat(AT_EMPTY_PATH) (how an
//! O_TMPFILE file gets a name), fchmod and fchown (which must reach files that have no name).

use std::sync::Arc;

use super::file::{DirFile, LinkFile, RegFile};
use super::inode::{lock, now, wlock, Inode, Meta};
use super::walk::Comp;
use super::{no_escape, table, Tmpfs};
use crate::errno::Errno;
use crate::fs::file::FileOps;

/// The tmpfs inode behind an open file, if it is one.
fn inode_of(ops: &dyn FileOps) -> Option<&Arc<Inode>> {
    let any = ops.as_any()?;
    if let Some(f) = any.downcast_ref::<RegFile>() {
        return Some(&f.inode);
    }
    if let Some(f) = any.downcast_ref::<DirFile>() {
        return Some(&f.inode);
    }
    any.downcast_ref::<LinkFile>().map(|f| &f.inode)
}

/// Runs `f` on the attributes of the tmpfs file `ops`; None if it is not one.
fn setattr_open(ops: &dyn FileOps, f: impl FnOnce(&mut Meta)) -> Option<()> {
    inode_of(ops).map(|i| i.with_meta(f))
}

/// fchmod(2) of an open tmpfs file (named or not); None if `ops` is not one.
pub fn chmod_open(ops: &dyn FileOps, mode: u32) -> Option<()> {
    setattr_open(ops, |m| {
        m.mode = (m.mode & libc::S_IFMT) | (mode & 0o7777);
        m.ctime = now();
    })
}

/// fchown(2) of an open tmpfs file; None leaves the owner or group as is. Clears set-user-ID
/// (and set-group-ID if group-executable) on non-directories, as chown does.
pub fn chown_open(ops: &dyn FileOps, uid: Option<u32>, gid: Option<u32>) -> Option<()> {
    setattr_open(ops, |m| {
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

impl Tmpfs {
    /// linkat(fd, "", ..., AT_EMPTY_PATH): a new name `to` for the open file `ops`. EEXIST if
    /// `to` exists (or is "."/".."/the root), ENOENT for a trailing slash or a missing
    /// directory, EXDEV if `ops` is not a file of this filesystem (or `to` leaves it), EPERM
    /// for a directory, ENOENT for a file with no links left unless it is an O_TMPFILE file
    /// opened without O_EXCL and never linked.
    pub fn link_open(&self, ops: &dyn FileOps, to: &[u8]) -> Result<(), Errno> {
        let _w = wlock(&self.tree);
        let (dir, comp) = no_escape(self.parent_of(to)?)?;
        let comp = comp.filter(Comp::is_normal).ok_or(Errno::EEXIST)?;
        let mut t = lock(table(&dir)?);
        if t.get(&comp.name).is_some() {
            return Err(Errno::EEXIST);
        }
        if comp.must_dir {
            return Err(Errno::ENOENT);
        }
        let src = match inode_of(ops) {
            Some(i) if i.dev == self.dev => i.clone(),
            _ => return Err(Errno::EXDEV),
        };
        if src.is_dir() {
            return Err(Errno::EPERM);
        }
        {
            let mut m = lock(&src.meta);
            if m.nlink == 0 && !m.linkable {
                return Err(Errno::ENOENT);
            }
            m.nlink += 1;
            m.linkable = false;
            m.ctime = now();
        }
        super::notify::linked(&dir, &comp.name, &src);
        t.insert(comp.name, src);
        drop(t);
        dir.with_meta(|m| m.modified());
        Ok(())
    }
}
