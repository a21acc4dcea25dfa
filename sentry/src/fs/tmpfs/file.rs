//! Open tmpfs files: regular files, directories, and symlinks opened with O_PATH.

use std::sync::Arc;

use super::inode::{lock, rlock, wlock, Inode, Kind, FIRST_COOKIE};
use crate::errno::Errno;
use crate::fs::file::{put_dirent, FileOps, Stat};
use crate::mm::{MappableFile, SharedObject};

/// An open regular file. Holding it keeps the inode (and its data) alive after unlink.
pub(super) struct RegFile {
    pub inode: Arc<Inode>,
    /// The path it was opened by, for /proc/PID/maps.
    pub name: String,
}

impl RegFile {
    fn data(&self) -> Result<&std::sync::RwLock<super::inode::FileData>, Errno> {
        match &self.inode.kind {
            Kind::File(d) => Ok(d),
            _ => Err(Errno::EINVAL),
        }
    }
}

impl FileOps for RegFile {
    fn read(&self, buf: &mut [u8], off: Option<u64>) -> Result<usize, Errno> {
        let off = off.ok_or(Errno::ESPIPE)?;
        let n = rlock(self.data()?).read(off, buf)?;
        if !buf.is_empty() {
            self.inode.touch_atime();
        }
        Ok(n)
    }

    fn write(&self, data: &[u8], off: Option<u64>) -> Result<usize, Errno> {
        let off = off.ok_or(Errno::ESPIPE)?;
        if data.is_empty() {
            return Ok(0);
        }
        self.inode.clear_setid_for_current();
        let mut d = wlock(self.data()?);
        let n = d.write(off, data)?;
        self.inode.with_meta(|m| m.modified());
        Ok(n)
    }

    fn seekable(&self) -> bool {
        true
    }

    fn size(&self) -> Result<u64, Errno> {
        Ok(rlock(self.data()?).size)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.inode.stat())
    }

    fn truncate(&self, len: u64) -> Result<(), Errno> {
        if len > i64::MAX as u64 {
            return Err(Errno::EINVAL);
        }
        self.inode.clear_setid_for_current();
        let mut d = wlock(self.data()?);
        if d.size != len {
            d.truncate(len);
            self.inode.with_meta(|m| m.modified());
        }
        Ok(())
    }

    fn fallocate(&self, mode: u32, off: u64, len: u64) -> Result<(), Errno> {
        const KEEP_SIZE: u32 = libc::FALLOC_FL_KEEP_SIZE as u32;
        const PUNCH: u32 = libc::FALLOC_FL_PUNCH_HOLE as u32;
        let punch = match mode {
            0 | KEEP_SIZE => false,
            m if m == PUNCH | KEEP_SIZE => true,
            _ => return Err(Errno::EOPNOTSUPP),
        };
        self.inode.clear_setid_for_current();
        let mut d = wlock(self.data()?);
        let size = d.size;
        d.fallocate(off, len, punch, mode & KEEP_SIZE != 0)?;
        if punch || d.size != size {
            self.inode.with_meta(|m| m.modified());
        }
        Ok(())
    }

    fn mappable(&self) -> Option<Arc<dyn MappableFile>> {
        Some(Arc::new(Mapped {
            inode: self.inode.clone(),
            name: self.name.clone(),
        }))
    }

    fn shared_object(&self) -> Option<Arc<SharedObject>> {
        self.data().ok().map(|d| rlock(d).obj.clone())
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

/// A tmpfs file as a mapping sees it: its current contents and size (a shared mapping
/// maps the pages of [`RegFile::shared_object`] and uses this for its name and size).
struct Mapped {
    inode: Arc<Inode>,
    name: String,
}

impl std::fmt::Debug for Mapped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "tmpfs:{}:{}", self.inode.ino, self.name)
    }
}

impl MappableFile for Mapped {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
        match &self.inode.kind {
            Kind::File(d) => rlock(d)
                .read(offset, buf)
                .map_err(|e| std::io::Error::from_raw_os_error(e.0)),
            _ => Err(std::io::Error::from_raw_os_error(libc::EINVAL)),
        }
    }

    fn size(&self) -> u64 {
        match &self.inode.kind {
            Kind::File(d) => rlock(d).size,
            _ => 0,
        }
    }

    fn name(&self) -> String {
        if lock(&self.inode.meta).nlink == 0 {
            format!("{} (deleted)", self.name)
        } else {
            self.name.clone()
        }
    }
}

/// An open directory. Its getdents cursor is a cookie: 0 is ".", 1 is "..", and from
/// [`FIRST_COOKIE`] on, the entry with that cookie or the next larger one. Each record's
/// `d_off` is the cursor just past it.
pub(super) struct DirFile {
    pub inode: Arc<Inode>,
}

impl FileOps for DirFile {
    fn read(&self, _buf: &mut [u8], _off: Option<u64>) -> Result<usize, Errno> {
        Err(Errno::EISDIR)
    }

    fn write(&self, _data: &[u8], _off: Option<u64>) -> Result<usize, Errno> {
        Err(Errno::EISDIR)
    }

    fn seekable(&self) -> bool {
        true
    }

    fn size(&self) -> Result<u64, Errno> {
        Ok(self.inode.stat().size as u64)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.inode.stat())
    }

    fn getdents(&self, buf: &mut [u8], pos: u64) -> Result<(usize, u64), Errno> {
        let table = self.inode.dir().ok_or(Errno::ENOTDIR)?;
        let mut used = 0;
        let mut pos = pos;
        let mut full = false;
        {
            let d = lock(table);
            if d.dead {
                return Err(Errno::ENOENT);
            }
            if pos == 0 {
                if put_dirent(buf, &mut used, self.inode.ino, 1, libc::DT_DIR, b".") {
                    pos = 1;
                } else {
                    full = true;
                }
            }
            if pos == 1 && !full {
                let parent = d.parent.upgrade().map_or(self.inode.ino, |p| p.ino);
                if put_dirent(buf, &mut used, parent, FIRST_COOKIE, libc::DT_DIR, b"..") {
                    pos = FIRST_COOKIE;
                } else {
                    full = true;
                }
            }
            if !full {
                for (&cookie, e) in d.entries_from(pos) {
                    if !put_dirent(
                        buf,
                        &mut used,
                        e.inode.ino,
                        cookie + 1,
                        e.inode.dtype(),
                        &e.name,
                    ) {
                        full = true;
                        break;
                    }
                    pos = cookie + 1;
                }
            }
        }
        if full && used == 0 {
            return Err(Errno::EINVAL);
        }
        self.inode.touch_atime();
        Ok((used, pos))
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

/// A symlink opened with O_PATH|O_NOFOLLOW: good for fstat only.
pub(super) struct LinkFile {
    pub inode: Arc<Inode>,
}

impl FileOps for LinkFile {
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.inode.stat())
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}
