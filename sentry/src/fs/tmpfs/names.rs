//! Operations on names: mkdir, unlink, rmdir, rename, link, symlink.

use std::sync::Arc;

use super::inode::{lock, now, wlock, Inode};
use super::walk::{Comp, PATH_MAX};
use super::{child_toward, new_owner, no_escape, table, Creds, Resolution, Tmpfs};
use super::{RENAME_EXCHANGE, RENAME_NOREPLACE, RENAME_WHITEOUT};
use crate::errno::Errno;
use crate::fs::perm;

impl Tmpfs {
    /// mkdir(2): mode & 01777 & ~umask, plus S_ISGID (and the group) from a set-group-ID
    /// parent. EEXIST if the name exists (even as a dangling symlink) or is "."/".."/the
    /// root, EACCES without write and search permission on the parent.
    pub fn mkdir(&self, path: &[u8], mode: u32, creds: &Creds) -> Result<Resolution<()>, Errno> {
        let _w = wlock(&self.tree);
        let (dir, comp) = match self.parent_of(path, creds)? {
            Resolution::Done(v) => v,
            Resolution::Escape { target, rest } => return Ok(Resolution::Escape { target, rest }),
        };
        let comp = comp.filter(Comp::is_normal).ok_or(Errno::EEXIST)?;
        let mut t = lock(table(&dir)?);
        if t.get(&comp.name).is_some() {
            return Err(Errno::EEXIST);
        }
        let (gid, perm) = new_owner(&dir, creds, mode & 0o1777 & !creds.umask, true)?;
        let child = Inode::new_dir(
            self.new_ino(),
            self.dev,
            perm,
            creds.uid,
            gid,
            Arc::downgrade(&dir),
        );
        super::notify::created(&dir, &comp.name, true);
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
    /// non-directory; EACCES/EPERM as [`perm::may_delete`] says (sticky directories). Open
    /// files keep the inode alive.
    pub fn unlink(&self, path: &[u8], creds: &Creds) -> Result<Resolution<()>, Errno> {
        let _w = wlock(&self.tree);
        let (dir, comp) = match self.parent_of(path, creds)? {
            Resolution::Done(v) => v,
            Resolution::Escape { target, rest } => return Ok(Resolution::Escape { target, rest }),
        };
        let comp = comp.filter(Comp::is_normal).ok_or(Errno::EISDIR)?;
        let mut t = lock(table(&dir)?);
        let child = t.get(&comp.name).ok_or(Errno::ENOENT)?;
        perm::may_delete(creds, &dir.attr(), &child.attr())?;
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
        super::notify::unlinked(&dir, &comp.name, &child);
        Ok(Resolution::Done(()))
    }

    /// rmdir(2): ENOTEMPTY (also for ".."), EBUSY for the root, EINVAL for ".", ENOTDIR for
    /// a non-directory (a symlink to a directory included), EACCES/EPERM as
    /// [`perm::may_delete`] says.
    pub fn rmdir(&self, path: &[u8], creds: &Creds) -> Result<Resolution<()>, Errno> {
        let _w = wlock(&self.tree);
        let (dir, comp) = match self.parent_of(path, creds)? {
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
        perm::may_delete(creds, &dir.attr(), &child.attr())?;
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
        super::notify::unlinked(&dir, &comp.name, &child);
        Ok(Resolution::Done(()))
    }

    /// renameat2(2) with RENAME_NOREPLACE and RENAME_EXCHANGE. Errors as Linux: EBUSY for
    /// "."/".."/the root, ENOENT, EEXIST (NOREPLACE), ENOTDIR/EISDIR (directory over
    /// non-directory and the reverse, trailing slashes on non-directories), ENOTEMPTY (a
    /// non-empty target directory, or a target that is an ancestor of the source), EINVAL (a
    /// directory into its own subtree, bad flags, RENAME_WHITEOUT), EACCES/EPERM for what
    /// `creds` may not remove, replace or add (sticky directories included), EACCES for a
    /// directory it may not write moving to another parent. A symlink leaving the
    /// filesystem in either path gives EXDEV: the caller's fallback (copy and delete) is
    /// then correct whichever filesystem the path really ends in.
    ///
    /// A replaced name (and both names of an exchange) keeps its getdents cookie: a reader
    /// of the directory sees it once, whenever the rename happens.
    pub fn rename(&self, from: &[u8], to: &[u8], flags: u32, creds: &Creds) -> Result<(), Errno> {
        if flags & !(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT) != 0
            || flags & RENAME_WHITEOUT != 0
            || (flags & RENAME_EXCHANGE != 0 && flags & RENAME_NOREPLACE != 0)
        {
            return Err(Errno::EINVAL);
        }
        let exchange = flags & RENAME_EXCHANGE != 0;
        let _w = wlock(&self.tree);
        let (odir, oc) = no_escape(self.parent_of(from, creds)?)?;
        let (ndir, nc) = no_escape(self.parent_of(to, creds)?)?;
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
                    return Err(if exchange {
                        Errno::EINVAL
                    } else {
                        Errno::ENOTEMPTY
                    });
                }
            }
        }
        if dst.as_ref().is_some_and(|d| Arc::ptr_eq(d, &src)) {
            return Ok(());
        }
        let (oattr, nattr) = (odir.attr(), ndir.attr());
        perm::may_delete(creds, &oattr, &src.attr())?;
        match &dst {
            Some(d) => perm::may_delete(creds, &nattr, &d.attr())?,
            None => perm::may_create(creds, &nattr)?,
        }
        if !same {
            perm::may_reparent(creds, &src.attr())?;
            if let Some(d) = dst.as_ref().filter(|_| exchange) {
                perm::may_reparent(creds, &d.attr())?;
            }
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
            let mut ng = if same {
                None
            } else {
                Some(lock(table(&ndir)?))
            };
            macro_rules! nt {
                () => {
                    match ng.as_deref_mut() {
                        Some(n) => n,
                        None => &mut *og,
                    }
                };
            }
            match &dst {
                Some(d) if exchange => {
                    og.replace(&oc.name, d.clone());
                    nt!().replace(&nc.name, src.clone());
                }
                Some(_) => {
                    og.remove(&oc.name);
                    nt!().replace(&nc.name, src.clone());
                }
                None => {
                    og.remove(&oc.name);
                    nt!().insert(nc.name.clone(), src.clone());
                }
            }
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
                m.nlink = if d.is_dir() {
                    0
                } else {
                    m.nlink.saturating_sub(1)
                };
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
        super::notify::renamed(&odir, &oc, &ndir, &nc, &src, &dst, exchange);
        Ok(())
    }

    /// link(2) (without AT_SYMLINK_FOLLOW: a symlink `from` is linked itself). EEXIST if
    /// `to` exists or is "."/".."/the root, ENOENT for a trailing slash on `to`, EPERM for
    /// directories, EPERM for a file `creds` may not link ([`perm::may_link`]), EACCES
    /// without write and search permission on the new name's directory. A symlink leaving
    /// the filesystem in either path gives EXDEV.
    pub fn link(&self, from: &[u8], to: &[u8], creds: &Creds) -> Result<(), Errno> {
        let _w = wlock(&self.tree);
        let src = no_escape(self.lookup(from, false, creds)?)?;
        let (dir, comp) = no_escape(self.parent_of(to, creds)?)?;
        let comp = comp.filter(Comp::is_normal).ok_or(Errno::EEXIST)?;
        let mut t = lock(table(&dir)?);
        if t.get(&comp.name).is_some() {
            return Err(Errno::EEXIST);
        }
        if comp.must_dir {
            return Err(Errno::ENOENT);
        }
        perm::may_link(creds, &src.attr())?;
        perm::may_create(creds, &dir.attr())?;
        if src.is_dir() {
            return Err(Errno::EPERM);
        }
        if lock(&src.meta).nlink == 0 {
            return Err(Errno::ENOENT);
        }
        super::notify::linked(&dir, &comp.name, &src);
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
    pub fn symlink(
        &self,
        target: &[u8],
        path: &[u8],
        creds: &Creds,
    ) -> Result<Resolution<()>, Errno> {
        if target.is_empty() {
            return Err(Errno::ENOENT);
        }
        if target.len() >= PATH_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        self.create_leaf(path, creds, 0o777, |ino, gid, _| {
            Ok(Inode::new_symlink(
                ino,
                self.dev,
                target.to_vec(),
                creds.uid,
                gid,
            ))
        })
    }

    /// Adds a new non-directory at `path` (symlink, socket, node): EEXIST if the name
    /// exists or is "."/".."/the root, ENOENT for a trailing slash, EACCES without write and
    /// search permission on the directory; then `make` builds the inode from its number,
    /// group and permission bits (`perm` as a set-group-ID directory leaves it; its error,
    /// such as EPERM for a device, comes after those checks, as on Linux).
    pub(super) fn create_leaf(
        &self,
        path: &[u8],
        creds: &Creds,
        perm: u32,
        make: impl FnOnce(u64, u32, u32) -> Result<Arc<Inode>, Errno>,
    ) -> Result<Resolution<()>, Errno> {
        let _w = wlock(&self.tree);
        let (dir, comp) = match self.parent_of(path, creds)? {
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
        let (gid, perm) = new_owner(&dir, creds, perm, false)?;
        let inode = make(self.new_ino(), gid, perm)?;
        super::notify::created(&dir, &comp.name, false);
        t.insert(comp.name, inode);
        drop(t);
        dir.with_meta(|m| m.modified());
        Ok(Resolution::Done(()))
    }
}
