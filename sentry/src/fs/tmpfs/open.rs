//! open(2) on tmpfs: lookup of the last component with O_CREAT/O_EXCL/O_TRUNC/O_PATH rules,
//! file creation, O_TMPFILE.

use std::sync::Arc;

use super::file::{DirFile, LinkFile, RegFile};
use super::inode::{lock, rlock, wlock, Inode, Kind};
use super::walk::{Step, Walker};
use super::{new_owner, table, Creds, Resolution, Tmpfs};
use crate::errno::Errno;
use crate::fs::file::FileOps;

impl Tmpfs {
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
    /// bad O_TMPFILE combination), ENAMETOOLONG, ENOSPC, EACCES (creating without write and
    /// search permission on the directory). Permission to open an existing file is the
    /// caller's to check; O_TRUNC clears set-user-ID as a write by `creds` does.
    pub fn open(
        &self,
        path: &[u8],
        flags: u32,
        mode: u32,
        creds: &Creds,
    ) -> Result<Resolution<Arc<dyn FileOps>>, Errno> {
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

        let mut w = Walker::new(path, creds)?;
        let mut dir = self.root.clone();
        let (inode, must_dir) = loop {
            let (d, c) = match w.walk_to_last(dir)? {
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
                None if creat => {
                    return Ok(Resolution::Done(
                        self.create_file(&d, c.name, mode, creds, path)?,
                    ))
                }
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
                    inode.clear_setid_for(creds);
                    wlock(data).truncate(0);
                    inode.with_meta(|m| m.modified());
                }
                Ok(Resolution::Done(Arc::new(RegFile { inode, name })))
            }
            Kind::Symlink(_) => Err(Errno::ELOOP),
            // Sockets are reached with connect(2), never opened.
            Kind::Socket(_) => Err(Errno::ENXIO),
            // The Sentry's own devices; others (a terminal) are opened by the caller first.
            Kind::CharDev(rdev) => crate::fs::dev::Device::by_rdev(*rdev)
                .map(|d| Resolution::Done(d.open()))
                .ok_or(Errno::ENXIO),
            Kind::BlockDev(_) => Err(Errno::ENXIO),
            Kind::Fifo(_) => {
                // Opening a FIFO may wait for the other side: not with the tree locked.
                drop(_r);
                drop(_w);
                self.open_fifo(inode.clone(), flags).map(Resolution::Done)
            }
        }
    }

    /// Creates regular file `name` in `dir` (tree lock held exclusively).
    fn create_file(
        &self,
        dir: &Arc<Inode>,
        name: Vec<u8>,
        mode: u32,
        creds: &Creds,
        path: &[u8],
    ) -> Result<Arc<dyn FileOps>, Errno> {
        let (gid, perm) = new_owner(dir, creds, mode & 0o7777 & !creds.umask, false)?;
        let inode = Inode::new_file(
            self.new_ino(),
            self.dev,
            perm,
            creds.uid,
            gid,
            1,
            self.shared.clone(),
        );
        super::notify::created_file(dir, &name, &inode);
        lock(table(dir)?).insert(name, inode.clone());
        dir.with_meta(|m| m.modified());
        Ok(Arc::new(RegFile {
            inode,
            name: String::from_utf8_lossy(path).into_owned(),
        }))
    }

    /// O_TMPFILE: an unnamed regular file (nlink 0) in the directory `path`.
    fn open_tmpfile(
        &self,
        path: &[u8],
        flags: u32,
        mode: u32,
        creds: &Creds,
    ) -> Result<Resolution<Arc<dyn FileOps>>, Errno> {
        if flags & libc::O_ACCMODE as u32 == libc::O_RDONLY as u32 {
            return Err(Errno::EINVAL);
        }
        let _r = rlock(&self.tree);
        let dir = match self.lookup(path, true, creds)? {
            Resolution::Done(d) => d,
            Resolution::Escape { target, rest } => return Ok(Resolution::Escape { target, rest }),
        };
        if !dir.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        let (gid, perm) = new_owner(&dir, creds, mode & 0o7777 & !creds.umask, false)?;
        let inode = Inode::new_file(
            self.new_ino(),
            self.dev,
            perm,
            creds.uid,
            gid,
            0,
            self.shared.clone(),
        );
        // Without O_EXCL, linkat(AT_EMPTY_PATH) may give it a name.
        inode.with_meta(|m| m.linkable = flags & libc::O_EXCL as u32 == 0);
        let name = format!("/#{}", inode.ino);
        Ok(Resolution::Done(Arc::new(RegFile { inode, name })))
    }

    /// memfd_create(2): an unnamed regular file (nlink 0, mode 0777, owned by `creds`)
    /// whose mappings are named `/memfd:NAME (deleted)`. Its data counts against this
    /// filesystem's limits. The caller checks the name's length and the flags.
    pub fn memfd(&self, name: &[u8], creds: &Creds) -> Arc<dyn FileOps> {
        let inode = Inode::new_file(
            self.new_ino(),
            self.dev,
            0o777,
            creds.uid,
            creds.gid,
            0,
            self.shared.clone(),
        );
        let name = format!("/memfd:{}", String::from_utf8_lossy(name));
        Arc::new(RegFile { inode, name })
    }
}
