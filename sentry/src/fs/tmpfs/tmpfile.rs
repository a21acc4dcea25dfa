//! Operations on open tmpfs files rather than on paths: linkat(AT_EMPTY_PATH) (how an
//! O_TMPFILE file gets a name), fchmod and fchown (which must reach files that have no name).

use std::sync::Arc;

use super::attr::{chmod_meta, chown_meta};
use super::file::{DirFile, LinkFile, RegFile};
use super::inode::{lock, now, wlock, Inode};
use super::walk::Comp;
use super::{no_escape, table, Creds, Tmpfs};
use crate::errno::Errno;
use crate::fs::file::FileOps;
use crate::fs::perm;

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

/// fchmod(2) of an open tmpfs file (named or not) by `creds` (EPERM for a non-owner); None
/// if `ops` is not one.
pub fn chmod_open(ops: &dyn FileOps, mode: u32, creds: &Creds) -> Option<Result<(), Errno>> {
    inode_of(ops).map(|i| i.with_meta(|m| chmod_meta(m, mode, creds)))
}

/// fchown(2) of an open tmpfs file by `creds`; None leaves the owner or group as is. Clears
/// set-user-ID (and set-group-ID if group-executable) on non-directories, as chown does.
pub fn chown_open(
    ops: &dyn FileOps,
    uid: Option<u32>,
    gid: Option<u32>,
    creds: &Creds,
) -> Option<Result<(), Errno>> {
    inode_of(ops).map(|i| i.with_meta(|m| chown_meta(m, uid, gid, creds)))
}

impl Tmpfs {
    /// linkat(fd, "", ..., AT_EMPTY_PATH): a new name `to` for the open file `ops`. EEXIST if
    /// `to` exists (or is "."/".."/the root), ENOENT for a trailing slash or a missing
    /// directory, EXDEV if `ops` is not a file of this filesystem (or `to` leaves it), EPERM
    /// for a directory, ENOENT for a file with no links left unless it is an O_TMPFILE file
    /// opened without O_EXCL and never linked, EACCES without write and search permission on
    /// the directory of `to`.
    pub fn link_open(&self, ops: &dyn FileOps, to: &[u8], creds: &Creds) -> Result<(), Errno> {
        let _w = wlock(&self.tree);
        let (dir, comp) = no_escape(self.parent_of(to, creds)?)?;
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
        perm::may_create(creds, &dir.attr())?;
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
