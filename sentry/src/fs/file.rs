//! Open file descriptions and the operations every kind of file provides.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use crate::errno::Errno;
use crate::mm::MappableFile;

/// The subset of `struct stat` the Sentry reports.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stat {
    pub dev: u64,
    pub ino: u64,
    pub mode: u32,
    pub nlink: u64,
    pub uid: u32,
    pub gid: u32,
    pub rdev: u64,
    pub size: i64,
    pub blksize: i64,
    pub blocks: i64,
    pub atime: (i64, i64),
    pub mtime: (i64, i64),
    pub ctime: (i64, i64),
}

impl Stat {
    /// From a host `struct stat`.
    pub fn from_host(s: &libc::stat) -> Stat {
        Stat {
            dev: s.st_dev,
            ino: s.st_ino,
            mode: s.st_mode,
            nlink: s.st_nlink,
            uid: s.st_uid,
            gid: s.st_gid,
            rdev: s.st_rdev,
            size: s.st_size,
            blksize: s.st_blksize,
            blocks: s.st_blocks,
            atime: (s.st_atime, s.st_atime_nsec),
            mtime: (s.st_mtime, s.st_mtime_nsec),
            ctime: (s.st_ctime, s.st_ctime_nsec),
        }
    }

    /// The owner and group as the application sees them: one with no mapping in the
    /// sandbox's user namespace shows as the overflow id, as on Linux.
    pub fn shown_ids(&self) -> (u32, u32) {
        let show = |id: u32| {
            if id == gofer::idmap::NO_ID {
                gofer::idmap::OVERFLOW_ID
            } else {
                id
            }
        };
        (show(self.uid), show(self.gid))
    }

    /// The 144 bytes of x86-64 `struct stat`.
    pub fn to_bytes(&self) -> [u8; 144] {
        let (uid, gid) = self.shown_ids();
        let mut b = [0u8; 144];
        let mut put = |o: usize, v: &[u8]| b[o..o + v.len()].copy_from_slice(v);
        put(0, &self.dev.to_le_bytes());
        put(8, &self.ino.to_le_bytes());
        put(16, &self.nlink.to_le_bytes());
        put(24, &self.mode.to_le_bytes());
        put(28, &uid.to_le_bytes());
        put(32, &gid.to_le_bytes());
        put(40, &self.rdev.to_le_bytes());
        put(48, &self.size.to_le_bytes());
        put(56, &self.blksize.to_le_bytes());
        put(64, &self.blocks.to_le_bytes());
        put(72, &self.atime.0.to_le_bytes());
        put(80, &self.atime.1.to_le_bytes());
        put(88, &self.mtime.0.to_le_bytes());
        put(96, &self.mtime.1.to_le_bytes());
        put(104, &self.ctime.0.to_le_bytes());
        put(112, &self.ctime.1.to_le_bytes());
        b
    }
}

/// What a kind of file can do. Defaults are what Linux answers for files that lack the
/// operation.
pub trait FileOps: Send + Sync {
    /// Reads at the description's offset (`off`), or from a stream when `off` is None.
    fn read(&self, _buf: &mut [u8], _off: Option<u64>) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }
    /// Writes at `off`, or to a stream.
    fn write(&self, _data: &[u8], _off: Option<u64>) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }
    /// Whether the file has offsets (regular files, directories) or is a stream.
    fn seekable(&self) -> bool {
        false
    }
    /// O_NONBLOCK changed by fcntl(F_SETFL) or FIONBIO.
    fn set_nonblock(&self, _on: bool) {}
    /// Capacity, for a pipe (F_GETPIPE_SZ).
    fn pipe_size(&self) -> Option<usize> {
        None
    }
    /// F_SETPIPE_SZ: returns the new capacity.
    fn set_pipe_size(&self, _size: usize) -> Result<usize, Errno> {
        Err(Errno::EBADF)
    }
    /// A counter that moves whenever new input arrives or the file's state changes
    /// (edge-triggered epoll reports each such event); 0 if the file does not count.
    fn event_count(&self) -> u64 {
        0
    }
    /// The process a pidfd names.
    fn pidfd_target(&self) -> Option<i32> {
        None
    }
    /// Whether readv/writev move the whole vector in one read or write (a socket sends one
    /// datagram per call) rather than one per buffer.
    fn whole_vectors(&self) -> bool {
        false
    }
    /// Whether EPIPE from a write raises SIGPIPE (datagram and seqpacket sockets never do).
    fn sigpipe_on_epipe(&self) -> bool {
        true
    }
    /// Whether lseek always answers 0 and keeps no offset (/dev/null, /dev/zero).
    fn seek_zero(&self) -> bool {
        false
    }
    /// File size, for SEEK_END.
    fn size(&self) -> Result<u64, Errno> {
        Ok(0)
    }
    /// fstat.
    fn stat(&self) -> Result<Stat, Errno>;
    /// ioctl.
    fn ioctl(&self, _req: u64, _arg: u64) -> Result<IoctlReply, Errno> {
        Err(Errno::ENOTTY)
    }
    /// ioctl requests that need the caller (its memory, its process, its descriptors), as
    /// terminals have; None falls back to `ioctl`.
    fn ioctl_task(
        &self,
        _t: &mut crate::kernel::Task,
        _file: &Arc<OpenFile>,
        _req: u64,
        _arg: u64,
    ) -> Option<Result<u64, Errno>> {
        None
    }
    /// getdents64 into `buf` from directory cursor `pos`; returns bytes used and new cursor.
    fn getdents(&self, _buf: &mut [u8], _pos: u64) -> Result<(usize, u64), Errno> {
        Err(Errno::ENOTDIR)
    }
    /// poll(2) readiness: `POLLIN | POLLOUT | POLLHUP | POLLERR` bits that hold now.
    fn poll_ready(&self) -> u16 {
        (libc::POLLIN | libc::POLLOUT) as u16
    }
    /// ftruncate(2): sets the size (regular files of writable filesystems only).
    fn truncate(&self, _len: u64) -> Result<(), Errno> {
        Err(Errno::EINVAL)
    }
    /// The file's contents for a private mapping.
    fn mappable(&self) -> Option<Arc<dyn MappableFile>> {
        None
    }
    /// The pages a MAP_SHARED mapping of the file shares with read/write on it (tmpfs
    /// files, memfds); None if the file has no such pages.
    fn shared_object(&self) -> Option<Arc<crate::mm::SharedObject>> {
        None
    }
    /// The concrete object, for the filesystem that made it to find its inode again
    /// (linkat with AT_EMPTY_PATH, fchmod of an unlinked file); None for other files.
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        None
    }
    /// The pipe this file is an end of (splice, tee). Any end of the pipe will do: its
    /// splice helpers work on the pipe whatever the end, the description's access mode
    /// tells the direction (a FIFO opened O_RDWR may answer either).
    fn as_pipe(&self) -> Option<&super::pipe::PipeEnd> {
        None
    }
    /// fallocate(2) of a regular file; `mode` is 0, FALLOC_FL_KEEP_SIZE or
    /// FALLOC_FL_PUNCH_HOLE|FALLOC_FL_KEEP_SIZE or one the filesystem refuses.
    fn fallocate(&self, _mode: u32, _off: u64, _len: u64) -> Result<(), Errno> {
        Err(Errno::EOPNOTSUPP)
    }
    /// fsync(2) (`data_only`: fdatasync): files whose data the Sentry holds are always
    /// coherent; host files written through (`--overlay=none`) are flushed on the host.
    fn sync(&self, _data_only: bool) -> Result<(), Errno> {
        Ok(())
    }
}

/// The answer to an ioctl: a return value and bytes to copy to the argument pointer.
pub struct IoctlReply {
    pub ret: u64,
    pub out: Vec<u8>,
}

/// An open file description (shared by dup'd descriptors and across fork).
pub struct OpenFile {
    pub ops: Arc<dyn FileOps>,
    /// O_* status flags (O_APPEND, O_NONBLOCK, access mode).
    pub flags: AtomicU32,
    pub offset: Mutex<u64>,
    /// Absolute path it was opened by (for *at() calls relative to a directory descriptor).
    pub path: std::sync::OnceLock<Vec<u8>>,
}

impl OpenFile {
    pub fn new(ops: Arc<dyn FileOps>, flags: u32) -> Arc<OpenFile> {
        Arc::new(OpenFile {
            ops,
            flags: AtomicU32::new(flags),
            offset: Mutex::new(0),
            path: Default::default(),
        })
    }

    pub fn flags(&self) -> u32 {
        self.flags.load(Ordering::Relaxed)
    }

    fn access(&self) -> u32 {
        self.flags() & libc::O_ACCMODE as u32
    }

    pub fn readable(&self) -> bool {
        self.access() != libc::O_WRONLY as u32 && self.flags() & libc::O_PATH as u32 == 0
    }

    pub fn writable(&self) -> bool {
        self.access() != libc::O_RDONLY as u32 && self.flags() & libc::O_PATH as u32 == 0
    }

    /// read(2).
    pub fn read(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        if !self.readable() {
            return Err(Errno::EBADF);
        }
        if self.ops.seekable() {
            let mut off = self.offset.lock().unwrap_or_else(|e| e.into_inner());
            let n = self.ops.read(buf, Some(*off))?;
            *off += n as u64;
            Ok(n)
        } else {
            self.ops.read(buf, None)
        }
    }

    /// write(2).
    pub fn write(&self, data: &[u8]) -> Result<usize, Errno> {
        if !self.writable() {
            return Err(Errno::EBADF);
        }
        if self.ops.seekable() {
            let mut off = self.offset.lock().unwrap_or_else(|e| e.into_inner());
            if self.flags() & libc::O_APPEND as u32 != 0 {
                *off = self.ops.size()?;
            }
            let n = self.ops.write(data, Some(*off))?;
            *off += n as u64;
            Ok(n)
        } else {
            self.ops.write(data, None)
        }
    }

    /// lseek(2).
    pub fn seek(&self, offset: i64, whence: i32) -> Result<u64, Errno> {
        if !self.ops.seekable() {
            return Err(Errno::ESPIPE);
        }
        if self.ops.seek_zero() {
            return Ok(0);
        }
        let mut off = self.offset.lock().unwrap_or_else(|e| e.into_inner());
        let base = match whence {
            libc::SEEK_SET => 0,
            libc::SEEK_CUR => *off as i64,
            libc::SEEK_END => self.ops.size()? as i64,
            _ => return Err(Errno::EINVAL),
        };
        let new = base
            .checked_add(offset)
            .filter(|&n| n >= 0)
            .ok_or(Errno::EINVAL)?;
        *off = new as u64;
        Ok(new as u64)
    }
}

/// The (name, d_type) of every record in a `linux_dirent64` buffer, "." and ".." left out.
pub fn parse_dirents(buf: &[u8]) -> Vec<(Vec<u8>, u8)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i + DIRENT_HEADER <= buf.len() {
        let reclen = u16::from_le_bytes([buf[i + 16], buf[i + 17]]) as usize;
        if reclen < DIRENT_HEADER || i + reclen > buf.len() {
            break;
        }
        let dtype = buf[i + 18];
        let name = &buf[i + DIRENT_HEADER..i + reclen];
        let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
        if name != b"." && name != b".." {
            out.push((name.to_vec(), dtype));
        }
        i += reclen;
    }
    out
}

/// Every entry of an open directory (name, d_type), "." and ".." left out.
pub fn list_dir(dir: &dyn FileOps) -> Result<Vec<(Vec<u8>, u8)>, Errno> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 32 * 1024];
    let mut pos = 0;
    loop {
        let (n, next) = dir.getdents(&mut buf, pos)?;
        if n == 0 {
            return Ok(out);
        }
        out.extend(parse_dirents(&buf[..n]));
        pos = next;
    }
}

/// Size of the fixed part of `struct linux_dirent64` (d_ino, d_off, d_reclen, d_type).
pub const DIRENT_HEADER: usize = 19;

/// Appends one `linux_dirent64` to `buf` at `*used`; false if it does not fit.
pub fn put_dirent(
    buf: &mut [u8],
    used: &mut usize,
    ino: u64,
    off: u64,
    dtype: u8,
    name: &[u8],
) -> bool {
    let reclen = (DIRENT_HEADER + name.len() + 1).next_multiple_of(8);
    if buf.len() - *used < reclen {
        return false;
    }
    let rec = &mut buf[*used..*used + reclen];
    rec[0..8].copy_from_slice(&ino.to_le_bytes());
    rec[8..16].copy_from_slice(&off.to_le_bytes());
    rec[16..18].copy_from_slice(&(reclen as u16).to_le_bytes());
    rec[18] = dtype;
    rec[DIRENT_HEADER..DIRENT_HEADER + name.len()].copy_from_slice(name);
    rec[DIRENT_HEADER + name.len()..].fill(0);
    *used += reclen;
    true
}

impl Drop for OpenFile {
    fn drop(&mut self) {
        super::inotify::closed(self);
        // The description's last reference: its flock and OFD locks go with it.
        super::lock::description_closed(self);
    }
}
