//! Operations on attributes: stat, readlink, truncate, chmod, chown, utimens.

use super::inode::{now, rlock, wlock, Kind, Meta};
use super::{Creds, Resolution, Tmpfs, UTIME_NOW, UTIME_OMIT};
use crate::errno::Errno;
use crate::fs::file::Stat;
use crate::fs::perm;

/// Validates one utimensat timestamp.
fn check_time(t: Option<(i64, i64)>) -> Result<(), Errno> {
    match t {
        Some((_, ns))
            if !(0..1_000_000_000).contains(&ns) && ns != UTIME_NOW && ns != UTIME_OMIT =>
        {
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

impl Tmpfs {
    /// stat(2) (`follow`) or lstat(2) by `creds` (search permission). A trailing slash
    /// follows a final symlink and requires a directory (ENOTDIR).
    pub fn stat(
        &self,
        path: &[u8],
        follow: bool,
        creds: &Creds,
    ) -> Result<Resolution<Stat>, Errno> {
        let _r = rlock(&self.tree);
        Ok(self.lookup(path, follow, creds)?.map(|i| i.stat()))
    }

    /// readlink(2) by `creds`: the target of the symlink `path` (not followed). EINVAL if
    /// not a symlink.
    pub fn readlink(&self, path: &[u8], creds: &Creds) -> Result<Resolution<Vec<u8>>, Errno> {
        let _r = rlock(&self.tree);
        let inode = match self.lookup(path, false, creds)? {
            Resolution::Done(i) => i,
            Resolution::Escape { target, rest } => return Ok(Resolution::Escape { target, rest }),
        };
        let target = inode.symlink().ok_or(Errno::EINVAL)?;
        inode.touch_atime();
        Ok(Resolution::Done(target.to_vec()))
    }

    /// truncate(2) (follows symlinks). EINVAL for a length above i64::MAX or a non-regular
    /// file, EISDIR for a directory, EACCES without write permission, EFBIG beyond the size
    /// limit. mtime and ctime change only if the size does; set-user-ID goes as a write by
    /// `creds` takes it.
    pub fn truncate(&self, path: &[u8], len: u64, creds: &Creds) -> Result<Resolution<()>, Errno> {
        if len > i64::MAX as u64 {
            return Err(Errno::EINVAL);
        }
        let _r = rlock(&self.tree);
        let inode = match self.lookup(path, true, creds)? {
            Resolution::Done(i) => i,
            Resolution::Escape { target, rest } => return Ok(Resolution::Escape { target, rest }),
        };
        let data = match &inode.kind {
            Kind::File(d) => d,
            Kind::Dir(_) => return Err(Errno::EISDIR),
            Kind::Symlink(_)
            | Kind::Socket(_)
            | Kind::Fifo(_)
            | Kind::CharDev(_)
            | Kind::BlockDev(_) => return Err(Errno::EINVAL),
        };
        perm::permission(creds, &inode.attr(), perm::MAY_WRITE)?;
        if len > self.shared.max_file_size {
            return Err(Errno::EFBIG);
        }
        inode.clear_setid_for(creds);
        let mut d = wlock(data);
        if d.size != len {
            d.truncate(len);
            inode.with_meta(|m| m.modified());
        }
        Ok(Resolution::Done(()))
    }

    /// Runs `f` on the attributes of the inode `path` names as `creds` finds it (tree lock
    /// shared).
    fn setattr(
        &self,
        path: &[u8],
        follow: bool,
        creds: &Creds,
        f: impl FnOnce(&mut Meta) -> Result<(), Errno>,
    ) -> Result<Resolution<()>, Errno> {
        let _r = rlock(&self.tree);
        match self.lookup(path, follow, creds)? {
            Resolution::Done(i) => i.with_meta(f).map(Resolution::Done),
            Resolution::Escape { target, rest } => Ok(Resolution::Escape { target, rest }),
        }
    }

    /// chmod(2) (follows symlinks): sets the permission bits (07777 of `mode`) as
    /// [`perm::chmod_bits`] allows `creds` (EPERM for a non-owner).
    pub fn chmod(&self, path: &[u8], mode: u32, creds: &Creds) -> Result<Resolution<()>, Errno> {
        self.setattr(path, true, creds, |m| chmod_meta(m, mode, creds))
    }

    /// chown(2) (follows symlinks): None leaves the owner or group as is. As Linux does,
    /// clears set-user-ID, and set-group-ID if group-executable, on non-directories; EPERM
    /// for what `creds` may not change ([`perm::chown_mode`]).
    pub fn chown(
        &self,
        path: &[u8],
        uid: Option<u32>,
        gid: Option<u32>,
        creds: &Creds,
    ) -> Result<Resolution<()>, Errno> {
        self.setattr(path, true, creds, |m| chown_meta(m, uid, gid, creds))
    }

    /// lchown(2): as [`Tmpfs::chown`], without following a final symlink.
    pub fn lchown(
        &self,
        path: &[u8],
        uid: Option<u32>,
        gid: Option<u32>,
        creds: &Creds,
    ) -> Result<Resolution<()>, Errno> {
        self.setattr(path, false, creds, |m| chown_meta(m, uid, gid, creds))
    }

    /// utimensat(2) (follows symlinks): None (or nanoseconds [`UTIME_OMIT`]) leaves a time
    /// as is, nanoseconds [`UTIME_NOW`] sets the current time. ctime becomes now. EINVAL for
    /// nanoseconds out of range; with both times omitted nothing is done, not even a lookup
    /// (as Linux). Both times [`UTIME_NOW`] need ownership or write permission (EACCES),
    /// anything else ownership (EPERM), or CAP_FOWNER.
    pub fn utimens(
        &self,
        path: &[u8],
        atime: Option<(i64, i64)>,
        mtime: Option<(i64, i64)>,
        creds: &Creds,
    ) -> Result<Resolution<()>, Errno> {
        self.utimens_at(path, true, atime, mtime, creds)
    }

    /// utimensat(2) with AT_SYMLINK_NOFOLLOW: as [`Tmpfs::utimens`], on a final symlink
    /// itself.
    pub fn lutimens(
        &self,
        path: &[u8],
        atime: Option<(i64, i64)>,
        mtime: Option<(i64, i64)>,
        creds: &Creds,
    ) -> Result<Resolution<()>, Errno> {
        self.utimens_at(path, false, atime, mtime, creds)
    }

    fn utimens_at(
        &self,
        path: &[u8],
        follow: bool,
        atime: Option<(i64, i64)>,
        mtime: Option<(i64, i64)>,
        creds: &Creds,
    ) -> Result<Resolution<()>, Errno> {
        check_time(atime)?;
        check_time(mtime)?;
        let omitted = |t: Option<(i64, i64)>| matches!(t, None | Some((_, UTIME_OMIT)));
        if omitted(atime) && omitted(mtime) {
            return Ok(Resolution::Done(()));
        }
        let touch = matches!((atime, mtime), (Some((_, UTIME_NOW)), Some((_, UTIME_NOW))));
        self.setattr(path, follow, creds, |m| {
            perm::may_set_times(creds, &m.attr(), touch)?;
            let t = now();
            m.atime = new_time(atime, m.atime, t);
            m.mtime = new_time(mtime, m.mtime, t);
            m.ctime = t;
            Ok(())
        })
    }
}

/// chmod of the attributes `m` by `creds` (see [`Tmpfs::chmod`]).
pub(super) fn chmod_meta(m: &mut Meta, mode: u32, creds: &Creds) -> Result<(), Errno> {
    let bits = perm::chmod_bits(creds, &m.attr(), mode)?;
    m.mode = (m.mode & libc::S_IFMT) | bits;
    m.ctime = now();
    Ok(())
}

/// chown of the attributes `m` by `creds` (see [`Tmpfs::chown`]).
pub(super) fn chown_meta(
    m: &mut Meta,
    uid: Option<u32>,
    gid: Option<u32>,
    creds: &Creds,
) -> Result<(), Errno> {
    m.mode = perm::chown_mode(creds, &m.attr(), uid, gid)?;
    m.uid = uid.unwrap_or(m.uid);
    m.gid = gid.unwrap_or(m.gid);
    m.ctime = now();
    Ok(())
}
