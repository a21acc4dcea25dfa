//! Descriptors and files: read/write, open/close, stat, dup, fcntl, pipes, directories.

use std::sync::Arc;

use crate::errno::{Errno, SysResult};
use crate::fs::dev::Device;
use crate::fs::file::IoctlReply;
use crate::fs::perm;
use crate::fs::pipe::new_pipe;
use crate::fs::procfs;
use crate::fs::tmpfs::{Creds, Resolution};
use crate::fs::vfs::{self, Place};
use crate::fs::{FileOps, OpenFile, Stat};
use crate::kernel::Task;

/// Largest single read/write buffer the Sentry copies at once.
const MAX_RW: usize = 1 << 20;

fn fd_of(v: u64) -> i32 {
    v as i32
}

pub fn read(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds().get(fd_of(a[0]))?;
    let mut buf = vec![0u8; (a[2] as usize).min(MAX_RW)];
    let n = f.read(&mut buf)?;
    crate::fs::inotify::io_done(&f, false, n);
    // Like Linux, a buffer that runs into unmapped memory gets what fits before it.
    let copied = t.mm().copy_out_partial(a[1], &buf[..n]);
    if copied == 0 && n > 0 {
        return Err(Errno::EFAULT);
    }
    Ok(copied as u64)
}

/// RLIMIT_FSIZE: how many of `len` bytes may be written at `pos` of a regular file; at or
/// past the limit, SIGXFSZ and EFBIG.
pub(super) fn fsize_allowance(
    t: &Task,
    f: &OpenFile,
    pos: Option<u64>,
    len: usize,
) -> Result<usize, Errno> {
    let limit = t.tg.lock().rlimits[libc::RLIMIT_FSIZE as usize].0;
    if limit == u64::MAX || !f.ops.seekable() {
        return Ok(len);
    }
    if f.ops
        .stat()
        .map(|s| s.mode & libc::S_IFMT != libc::S_IFREG)
        .unwrap_or(true)
    {
        return Ok(len);
    }
    let pos = match pos {
        Some(p) => p,
        None if f.flags() & libc::O_APPEND as u32 != 0 => f.ops.size()?,
        None => *f.offset.lock().unwrap_or_else(|e| e.into_inner()),
    };
    if pos >= limit {
        let tg = t.tg.clone();
        t.signal_group(&tg, libc::SIGXFSZ);
        return Err(Errno::EFBIG);
    }
    Ok(len.min((limit - pos) as usize))
}

pub fn write(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds().get(fd_of(a[0]))?;
    let n = fsize_allowance(t, &f, None, (a[2] as usize).min(MAX_RW))?;
    let mut buf = vec![0u8; n];
    t.read_mem(a[1], &mut buf)?;
    let r = f.write(&buf);
    crate::fs::inotify::io_done(&f, true, *r.as_ref().unwrap_or(&0));
    sigpipe(t, &f, &r);
    Ok(r? as u64)
}

/// SIGPIPE for a write that failed with EPIPE, if the file raises it.
fn sigpipe(t: &Task, f: &OpenFile, r: &Result<usize, Errno>) {
    if *r == Err(Errno::EPIPE) && f.ops.sigpipe_on_epipe() {
        let tg = t.tg.clone();
        t.signal_group(&tg, libc::SIGPIPE);
    }
}

fn iovecs(t: &Task, addr: u64, cnt: u64) -> Result<Vec<(u64, usize)>, Errno> {
    if cnt > 1024 {
        return Err(Errno::EINVAL);
    }
    let mut v = Vec::with_capacity(cnt as usize);
    let mut total: usize = 0;
    for i in 0..cnt {
        let base = t.read_u64(addr + 16 * i)?;
        let len = t.read_u64(addr + 16 * i + 8)?;
        if len > isize::MAX as u64 {
            return Err(Errno::EINVAL);
        }
        total = total.checked_add(len as usize).ok_or(Errno::EINVAL)?;
        v.push((base, len as usize));
    }
    Ok(v)
}

pub fn readv(t: &mut Task, a: [u64; 6], write: bool) -> SysResult {
    readv_at(t, a, write, None)
}

/// preadv/pwritev (and their v2 forms; an offset of -1 means the file position).
pub fn preadv(t: &mut Task, a: [u64; 6], write: bool, v2: bool) -> SysResult {
    let off = a[3] as i64;
    if v2 && off == -1 {
        if a[5] & !0x1f != 0 {
            return Err(Errno::EOPNOTSUPP);
        }
        return readv_at(t, a, write, None);
    }
    if off < 0 {
        return Err(Errno::EINVAL);
    }
    readv_at(t, a, write, Some(off as u64))
}

fn readv_at(t: &mut Task, a: [u64; 6], write: bool, at: Option<u64>) -> SysResult {
    let f = t.fds().get(fd_of(a[0]))?;
    let iov = iovecs(t, a[1], a[2])?;
    if at.is_some() {
        if !f.ops.seekable() {
            return Err(Errno::ESPIPE);
        }
        if (write && !f.writable()) || (!write && !f.readable()) {
            return Err(Errno::EBADF);
        }
    }
    if at.is_none() && f.ops.whole_vectors() {
        return readv_whole(t, &f, &iov, write);
    }
    let mut done = 0u64;
    for (base, len) in iov {
        let len = len.min(MAX_RW);
        let mut buf = vec![0u8; len];
        let pos = at.map(|o| o + done);
        let n = if write {
            t.read_mem(base, &mut buf)?;
            let r = match pos {
                Some(p) => f.ops.write(&buf, Some(p)),
                None => f.write(&buf),
            };
            match r {
                Ok(n) => n,
                Err(e) if done == 0 => {
                    sigpipe(t, &f, &Err(e));
                    return Err(e);
                }
                Err(_) => break,
            }
        } else {
            let r = match pos {
                Some(p) => f.ops.read(&mut buf, Some(p)),
                None => f.read(&mut buf),
            };
            let n = match r {
                Ok(n) => n,
                Err(e) if done == 0 => return Err(e),
                Err(_) => break,
            };
            t.write_mem(base, &buf[..n])?;
            n
        };
        done += n as u64;
        if n < len {
            break;
        }
    }
    crate::fs::inotify::io_done(&f, write, done as usize);
    Ok(done)
}

/// readv/writev as one read or write of the whole vector (at most MAX_RW bytes).
fn readv_whole(t: &Task, f: &OpenFile, iov: &[(u64, usize)], write: bool) -> SysResult {
    let total = iov.iter().map(|v| v.1).sum::<usize>().min(MAX_RW);
    let mut buf = vec![0u8; total];
    if write {
        let mut off = 0;
        for &(base, len) in iov {
            let n = len.min(total - off);
            t.read_mem(base, &mut buf[off..off + n])?;
            off += n;
        }
        let r = f.write(&buf);
        crate::fs::inotify::io_done(f, true, *r.as_ref().unwrap_or(&0));
        sigpipe(t, f, &r);
        return Ok(r? as u64);
    }
    let n = f.read(&mut buf)?;
    crate::fs::inotify::io_done(f, false, n);
    let mut off = 0;
    for &(base, len) in iov {
        let k = len.min(n - off);
        t.write_mem(base, &buf[off..off + k])?;
        off += k;
    }
    Ok(n as u64)
}

pub fn pread(t: &mut Task, a: [u64; 6], write: bool) -> SysResult {
    let f = t.fds().get(fd_of(a[0]))?;
    if (a[3] as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    if !f.ops.seekable() {
        return Err(Errno::ESPIPE);
    }
    let mut buf = vec![0u8; (a[2] as usize).min(MAX_RW)];
    if write {
        if !f.writable() {
            return Err(Errno::EBADF);
        }
        t.read_mem(a[1], &mut buf)?;
        let n = f.ops.write(&buf, Some(a[3]))?;
        crate::fs::inotify::io_done(&f, true, n);
        Ok(n as u64)
    } else {
        if !f.readable() {
            return Err(Errno::EBADF);
        }
        let n = f.ops.read(&mut buf, Some(a[3]))?;
        crate::fs::inotify::io_done(&f, false, n);
        t.write_mem(a[1], &buf[..n])?;
        Ok(n as u64)
    }
}

/// The device a /dev path names, for the descriptors of `t` (/dev/stdin ...).
fn dev_path(t: &Task, path: &[u8]) -> Option<Result<Arc<OpenFile>, Errno>> {
    let name = path.strip_prefix(b"/dev/")?;
    if let Some(d) = Device::by_name(name) {
        return Some(Ok(OpenFile::new(d.open(), libc::O_RDWR as u32)));
    }
    let fd = match name {
        b"stdin" => 0,
        b"stdout" => 1,
        b"stderr" => 2,
        _ => std::str::from_utf8(name.strip_prefix(b"fd/")?)
            .ok()?
            .parse()
            .ok()?,
    };
    Some(t.fds().get(fd))
}

/// The directory `path` is relative to: the working directory, or `dirfd`'s path.
pub(super) fn base_dir(t: &Task, dirfd: u64, path: &[u8]) -> Result<Vec<u8>, Errno> {
    if path.first() == Some(&b'/') || dirfd as i32 == libc::AT_FDCWD {
        return Ok(t.cwd());
    }
    let f = t.fds().get(fd_of(dirfd))?;
    let st = f.ops.stat()?;
    if st.mode & libc::S_IFMT != libc::S_IFDIR {
        return Err(Errno::ENOTDIR);
    }
    f.path.get().cloned().ok_or(Errno::ENOTDIR)
}

/// The caller's filesystem credentials (fsuid, fsgid, supplementary groups, umask).
pub(super) fn creds(t: &Task) -> Creds {
    Creds::of(&t.creds, t.umask)
}

/// Discretionary access control on `st` for the caller's filesystem ids
/// ([`perm::permission`]): root may read and write anything and execute what has an
/// execute bit; others need the owner, group or other bits.
pub(super) fn may_access(
    c: &crate::kernel::creds::Credentials,
    st: &Stat,
    r: bool,
    w: bool,
    x: bool,
) -> bool {
    let want = [
        (r, perm::MAY_READ),
        (w, perm::MAY_WRITE),
        (x, perm::MAY_EXEC),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .fold(0, |acc, (_, bit)| acc | bit);
    perm::permission(&Creds::of(c, 0), &st.into(), want).is_ok()
}

pub fn openat(t: &mut Task, dirfd: u64, path: u64, flags: u64, mode: u64) -> SysResult {
    let path = t.read_path(path)?;
    // As Linux's build_open_how: unknown bits dropped, O_PATH keeps only its companions, the
    // mode only matters when creating.
    let mut flags = flags as u32 & super::openat2::VALID_OPEN_FLAGS;
    if flags & libc::O_PATH as u32 != 0 {
        flags &= super::openat2::O_PATH_FLAGS;
    }
    let cloexec = flags & libc::O_CLOEXEC as u32 != 0;
    let file = open_path(t, dirfd, &path, flags, mode as u32 & 0o7777)?;
    t.fds().insert(file, cloexec, 0).map(|fd| fd as u64)
}

/// open(2) of `path` relative to `dirfd` with `flags` (unknown bits already dropped).
pub(super) fn open_path(
    t: &Task,
    dirfd: u64,
    path: &[u8],
    flags: u32,
    mode: u32,
) -> Result<Arc<OpenFile>, Errno> {
    let o = |f: i32| f as u32;
    if flags & o(libc::O_CREAT | libc::O_DIRECTORY) == o(libc::O_CREAT | libc::O_DIRECTORY) {
        return Err(Errno::EINVAL);
    }
    if flags & super::tmpfile::O_TMPFILE_BIT != 0 {
        if flags & o(libc::O_DIRECTORY) == 0 || flags & o(libc::O_ACCMODE) == o(libc::O_RDONLY) {
            return Err(Errno::EINVAL);
        }
        return super::tmpfile::open(t, dirfd, path, flags, mode);
    }
    let status = flags
        & !(libc::O_CLOEXEC | libc::O_CREAT | libc::O_EXCL | libc::O_NOCTTY | libc::O_TRUNC) as u32;
    if let Some(r) = dev_path(t, path) {
        let f = r?;
        // /dev/stdin and friends reopen the same file; devices are fresh.
        return Ok(OpenFile::new(f.ops.clone(), status));
    }
    let cwd = base_dir(t, dirfd, path)?;
    super::mount::writable_open(t, &cwd, path, flags)?;
    let follow = flags & libc::O_NOFOLLOW as u32 == 0;
    let creds = creds(t);
    let mut opened_at = Vec::new();
    let ops = t.mounts().resolve(&cwd, path, |place| match place {
        Place::Tmp(rel) => {
            opened_at = rel.abs();
            // /dev/tty, /dev/ptmx, /dev/console: terminals of the caller's.
            if let Some(r) = crate::fs::devpts::open(t, &opened_at, flags) {
                return r.map(Resolution::Done);
            }
            // Permission to open an existing file, checked before O_TRUNC can act.
            match rel.fs.stat(&rel, follow, &creds) {
                Ok(Resolution::Done(st)) => check_open_access(t, &st, flags)?,
                Ok(Resolution::Escape { target, rest }) => {
                    return Ok(Resolution::Escape { target, rest })
                }
                Err(_) => {}
            }
            rel.fs.open(&rel, flags, mode, &creds)
        }
        Place::Host(abs) => {
            opened_at = abs.clone();
            if let Some(r) = host_device(t, &abs, flags) {
                return r.map(Resolution::Done);
            }
            let check = |st: &Stat| check_open_access(t, st, flags);
            match super::rootfs::open(t, &abs, flags, mode, &creds, check)? {
                Resolution::Escape { target, rest } => Ok(Resolution::Escape { target, rest }),
                Resolution::Done((file, path)) => {
                    opened_at = path;
                    Ok(Resolution::Done(file))
                }
            }
        }
        Place::Proc(rel) => {
            opened_at = [&rel.point[..], b"/", &rel].concat();
            if rel.fs == vfs::PseudoFs::Mqueue {
                if let Some(r) =
                    crate::fs::mqueue::fs_open(&rel, flags, mode, &creds, super::mqueue::charge(t))
                {
                    return r.map(Resolution::Done);
                }
            }
            match procfs::lookup(t, &rel, follow)? {
                Resolution::Escape { target, rest } => Ok(Resolution::Escape { target, rest }),
                Resolution::Done(_)
                    if flags & (libc::O_CREAT | libc::O_EXCL) as u32
                        == (libc::O_CREAT | libc::O_EXCL) as u32 =>
                {
                    Err(Errno::EEXIST)
                }
                Resolution::Done(f) => procfs::open(f, flags).map(Resolution::Done),
            }
        }
    })?;
    let f = OpenFile::new(ops, status);
    let _ = f.path.set(vfs::normalize(b"/", &opened_at));
    crate::fs::inotify::opened(&f, flags);
    Ok(f)
}

/// The Sentry's device a root path under /dev names (pseudo-terminals, /dev/null...), if
/// any: device nodes of the root are never opened on the host.
fn host_device(t: &Task, abs: &[u8], flags: u32) -> Option<Result<Arc<dyn FileOps>, Errno>> {
    if let Some(r) = crate::fs::devpts::open(t, abs, flags) {
        return Some(r);
    }
    if !abs.starts_with(b"/dev/") {
        return None;
    }
    let follow = flags & libc::O_NOFOLLOW as u32 == 0;
    match super::rootfs::stat(t, abs, follow) {
        Ok(Resolution::Done((path, _))) => dev_path(t, &path).map(|r| r.map(|f| f.ops.clone())),
        _ => None,
    }
}

/// EACCES unless the caller may open a file with `st` as `flags` asks.
fn check_open_access(t: &Task, st: &Stat, flags: u32) -> Result<(), Errno> {
    let acc = flags & libc::O_ACCMODE as u32;
    let want_read = acc != libc::O_WRONLY as u32 && flags & libc::O_PATH as u32 == 0;
    let want_write = acc != libc::O_RDONLY as u32 || flags & libc::O_TRUNC as u32 != 0;
    if may_access(&t.creds, st, want_read, want_write, false) {
        Ok(())
    } else {
        Err(Errno::EACCES)
    }
}

pub fn close(t: &mut Task, a: [u64; 6]) -> SysResult {
    t.fds().remove(fd_of(a[0]))?;
    Ok(0)
}

pub fn close_range(t: &mut Task, a: [u64; 6]) -> SysResult {
    const CLOSE_RANGE_CLOEXEC: u64 = 4;
    const CLOSE_RANGE_UNSHARE: u64 = 2;
    if a[2] & !(CLOSE_RANGE_CLOEXEC | CLOSE_RANGE_UNSHARE) != 0 || a[0] > a[1] {
        return Err(Errno::EINVAL);
    }
    let hi = a[1].min(i32::MAX as u64) as i32;
    t.fds().close_range(
        a[0].min(i32::MAX as u64) as i32,
        hi,
        a[2] & CLOSE_RANGE_CLOEXEC != 0,
    );
    Ok(0)
}

fn put_stat(t: &Task, addr: u64, s: &Stat) -> SysResult {
    t.write_mem(addr, &s.to_bytes())?;
    Ok(0)
}

pub fn fstat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds().get(fd_of(a[0]))?;
    let s = f.ops.stat()?;
    put_stat(t, a[1], &s)
}

pub fn stat_path(t: &mut Task, dirfd: u64, path: u64, buf: u64, flags: u64) -> SysResult {
    let p = t.mm().read_cstring(path, 4095)?;
    if p.is_empty() {
        if flags & libc::AT_EMPTY_PATH as u64 != 0 {
            return fstat(t, [dirfd, buf, 0, 0, 0, 0]);
        }
        return Err(Errno::ENOENT);
    }
    let follow = flags & libc::AT_SYMLINK_NOFOLLOW as u64 == 0;
    let s = stat_of(t, dirfd, &p, follow)?;
    put_stat(t, buf, &s)
}

/// stat(2) of a path.
pub(super) fn stat_of(t: &Task, dirfd: u64, p: &[u8], follow: bool) -> Result<Stat, Errno> {
    let cwd = base_dir(t, dirfd, p)?;
    let c = creds(t);
    t.mounts().resolve(&cwd, p, |place| match place {
        Place::Tmp(rel) => rel.fs.stat(&rel, follow, &c),
        Place::Host(abs) => {
            if let Some(r) = crate::fs::devpts::stat(t, &abs) {
                return r.map(Resolution::Done);
            }
            match super::rootfs::stat(t, &abs, follow)? {
                Resolution::Escape { target, rest } => Ok(Resolution::Escape { target, rest }),
                Resolution::Done((path, st)) => {
                    if let Some(r) = dev_path(t, &path) {
                        return Ok(Resolution::Done(r?.ops.stat()?));
                    }
                    Ok(Resolution::Done(st))
                }
            }
        }
        Place::Proc(rel) => match procfs::lookup(t, &rel, follow)? {
            Resolution::Escape { target, rest } => Ok(Resolution::Escape { target, rest }),
            Resolution::Done(f) if follow => procfs::stat(&f).map(Resolution::Done),
            Resolution::Done(f) => Ok(Resolution::Done(f.stat())),
        },
    })
}

pub fn lseek(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds().get(fd_of(a[0]))?;
    f.seek(a[1] as i64, a[2] as i32)
}

pub fn getdents64(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds().get(fd_of(a[0]))?;
    let mut buf = vec![0u8; (a[2] as usize).min(MAX_RW)];
    let mut off = f.offset.lock().unwrap_or_else(|e| e.into_inner());
    let (n, pos) = f.ops.getdents(&mut buf, *off)?;
    crate::fs::inotify::listed(&f);
    t.write_mem(a[1], &buf[..n])?;
    *off = pos;
    Ok(n as u64)
}

pub fn dup(t: &mut Task, a: [u64; 6]) -> SysResult {
    let mut fds = t.fds();
    let f = fds.get(fd_of(a[0]))?;
    fds.insert(f, false, 0).map(|fd| fd as u64)
}

pub fn dup3(t: &mut Task, old: u64, new: u64, flags: u64, dup2: bool) -> SysResult {
    let mut fds = t.fds();
    let f = fds.get(fd_of(old))?;
    if old == new {
        return if dup2 { Ok(new) } else { Err(Errno::EINVAL) };
    }
    if flags & !(libc::O_CLOEXEC as u64) != 0 {
        return Err(Errno::EINVAL);
    }
    fds.set(fd_of(new), f, flags != 0)?;
    Ok(new)
}

pub fn fcntl(t: &mut Task, a: [u64; 6]) -> SysResult {
    let fd = fd_of(a[0]);
    let mut fds = t.fds();
    let f = fds.get(fd)?;
    match a[1] as i32 {
        libc::F_DUPFD | libc::F_DUPFD_CLOEXEC => {
            if a[2] >= fds.limit() as u64 {
                return Err(Errno::EINVAL);
            }
            fds.insert(f, a[1] as i32 == libc::F_DUPFD_CLOEXEC, a[2] as i32)
                .map(|fd| fd as u64)
        }
        libc::F_GETFD => Ok(fds.cloexec(fd)? as u64),
        libc::F_SETFD => fds.set_cloexec(fd, a[2] & 1 != 0).map(|_| 0),
        libc::F_GETFL => Ok(f.flags() as u64),
        super::locks::F_GETLK
        | super::locks::F_SETLK
        | super::locks::F_SETLKW
        | super::locks::F_OFD_GETLK
        | super::locks::F_OFD_SETLK
        | super::locks::F_OFD_SETLKW => {
            // F_SETLKW sleeps: not with the descriptor table locked.
            drop(fds);
            super::locks::fcntl(t, &f, a[1] as i32, a[2])
        }
        libc::F_GETPIPE_SZ => f.ops.pipe_size().map(|n| n as u64).ok_or(Errno::EBADF),
        libc::F_SETPIPE_SZ => {
            if a[2] > 1 << 20 {
                return Err(Errno::EPERM);
            }
            f.ops.set_pipe_size(a[2] as usize).map(|n| n as u64)
        }
        libc::F_SETFL => {
            let settable = (libc::O_APPEND
                | libc::O_NONBLOCK
                | libc::O_ASYNC
                | libc::O_DIRECT
                | libc::O_NOATIME) as u32;
            let old = f.flags();
            f.ops
                .set_nonblock(a[2] as u32 & libc::O_NONBLOCK as u32 != 0);
            f.flags.store(
                (old & !settable) | (a[2] as u32 & settable),
                std::sync::atomic::Ordering::Relaxed,
            );
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

pub fn pipe2(t: &mut Task, addr: u64, flags: u64) -> SysResult {
    if flags & !((libc::O_CLOEXEC | libc::O_NONBLOCK | libc::O_DIRECT) as u64) != 0 {
        return Err(Errno::EINVAL);
    }
    let nonblock = flags & libc::O_NONBLOCK as u64 != 0;
    let cloexec = flags & libc::O_CLOEXEC as u64 != 0;
    let (r, w) = new_pipe(nonblock);
    let st = if nonblock { libc::O_NONBLOCK as u32 } else { 0 };
    let (rf, wf) = (
        OpenFile::new(r, st),
        OpenFile::new(w, st | libc::O_WRONLY as u32),
    );
    let (rfd, wfd) = {
        let mut fds = t.fds();
        let rfd = fds.insert(rf, cloexec, 0)?;
        match fds.insert(wf, cloexec, 0) {
            Ok(w) => (rfd, w),
            Err(e) => {
                let _ = fds.remove(rfd);
                return Err(e);
            }
        }
    };
    let mut b = [0u8; 8];
    b[..4].copy_from_slice(&rfd.to_le_bytes());
    b[4..].copy_from_slice(&wfd.to_le_bytes());
    if let Err(e) = t.write_mem(addr, &b) {
        let mut fds = t.fds();
        let _ = fds.remove(rfd);
        let _ = fds.remove(wfd);
        return Err(e);
    }
    Ok(0)
}

pub fn ioctl(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds().get(fd_of(a[0]))?;
    match a[1] {
        // FIONBIO
        0x5421 => {
            let mut b = [0u8; 4];
            t.read_mem(a[2], &mut b)?;
            let on = u32::from_le_bytes(b) != 0;
            f.ops.set_nonblock(on);
            let fl = f.flags();
            let nb = libc::O_NONBLOCK as u32;
            f.flags.store(
                if on { fl | nb } else { fl & !nb },
                std::sync::atomic::Ordering::Relaxed,
            );
            Ok(0)
        }
        // FIOCLEX / FIONCLEX
        0x5451 | 0x5450 => t.fds().set_cloexec(fd_of(a[0]), a[1] == 0x5451).map(|_| 0),
        req => {
            if let Some(r) = f.ops.ioctl_task(t, &f, req, a[2]) {
                return r;
            }
            let IoctlReply { ret, out } = f.ops.ioctl(req, a[2])?;
            if !out.is_empty() {
                t.write_mem(a[2], &out)?;
            }
            Ok(ret)
        }
    }
}

/// faccessat2(2): the walk and the check (R_OK, W_OK, X_OK) are made with the real ids
/// and their capabilities (`kernel::caps::access_creds`), or with AT_EACCESS the
/// effective ones.
pub fn faccessat(t: &mut Task, dirfd: u64, path: u64, mode: u64, flags: u64) -> SysResult {
    const AT_EACCESS: u64 = 0x200;
    let nofollow = libc::AT_SYMLINK_NOFOLLOW as u64;
    if mode & !7 != 0 || flags & !(AT_EACCESS | nofollow | libc::AT_EMPTY_PATH as u64) != 0 {
        return Err(Errno::EINVAL);
    }
    let p = t.read_path(path)?;
    let saved = (flags & AT_EACCESS == 0).then(|| t.creds.clone());
    if let Some(c) = &saved {
        t.creds = crate::kernel::caps::access_creds(c);
    }
    let r = stat_of(t, dirfd, &p, flags & nofollow == 0)
        .and_then(|st| perm::permission(&creds(t), &(&st).into(), mode as u32));
    if let Some(c) = saved {
        t.creds = c;
    }
    r.map(|_| 0)
}

pub fn readlinkat(t: &mut Task, dirfd: u64, path: u64, buf: u64, size: u64) -> SysResult {
    let p = t.read_path(path)?;
    if size as i64 <= 0 {
        return Err(Errno::EINVAL);
    }
    let target = readlink_of(t, dirfd, &p)?;
    let n = target.len().min(size as usize);
    t.write_mem(buf, &target[..n])?;
    Ok(n as u64)
}

/// readlink(2) of a path.
pub(super) fn readlink_of(t: &Task, dirfd: u64, p: &[u8]) -> Result<Vec<u8>, Errno> {
    let cwd = base_dir(t, dirfd, p)?;
    let c = creds(t);
    t.mounts().resolve(&cwd, p, |place| match place {
        Place::Tmp(rel) => rel.fs.readlink(&rel, &c),
        Place::Host(abs) => super::rootfs::readlink(t, &abs),
        Place::Proc(rel) => match procfs::lookup(t, &rel, false)? {
            Resolution::Escape { target, rest } => Ok(Resolution::Escape { target, rest }),
            Resolution::Done(f) => procfs::readlink(&f).map(Resolution::Done),
        },
    })
}

pub fn getcwd(t: &mut Task, a: [u64; 6]) -> SysResult {
    let mut c = t.cwd();
    if c.is_empty() {
        c = b"/".to_vec();
    }
    c.push(0);
    if (a[1] as usize) < c.len() {
        return Err(Errno::ERANGE);
    }
    t.write_mem(a[0], &c)?;
    Ok(c.len() as u64)
}

fn set_cwd(t: &Task, dirfd: u64, path: &[u8]) -> SysResult {
    let st = stat_of(t, dirfd, path, true)?;
    if st.mode & libc::S_IFMT != libc::S_IFDIR {
        return Err(Errno::ENOTDIR);
    }
    perm::permission(&creds(t), &(&st).into(), perm::MAY_EXEC)?;
    let abs = vfs::normalize(&base_dir(t, dirfd, path)?, path);
    let abs = match abs.strip_suffix(b"/") {
        Some(a) if !a.is_empty() => a.to_vec(),
        _ => abs,
    };
    // Host paths: record where the walk really ended (symlinks resolved).
    let abs = match t.mounts().place(&abs) {
        Place::Host(h) => match super::rootfs::real_path(t, &h) {
            Ok(Resolution::Done(p)) => p,
            _ => h,
        },
        Place::Tmp(_) | Place::Proc(_) => abs,
    };
    *t.cwd.lock().unwrap_or_else(|e| e.into_inner()) =
        if abs.is_empty() { b"/".to_vec() } else { abs };
    Ok(0)
}

pub fn chdir(t: &mut Task, a: [u64; 6]) -> SysResult {
    let p = t.read_path(a[0])?;
    set_cwd(t, libc::AT_FDCWD as u64, &p)
}

pub fn fchdir(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds().get(fd_of(a[0]))?;
    let p = f.path.get().cloned().ok_or(Errno::ENOTDIR)?;
    set_cwd(t, libc::AT_FDCWD as u64, &p)
}

/// Descriptors 0-2 of the first process: the host's own stdio.
/// `ids`: the sandbox's user namespace mappings.
pub fn host_stdio(ids: Arc<gofer::IdMaps>) -> std::io::Result<Vec<(i32, Arc<OpenFile>)>> {
    let mut v = Vec::new();
    for (fd, fl) in [
        (0, libc::O_RDONLY),
        (1, libc::O_WRONLY),
        (2, libc::O_WRONLY),
    ] {
        let s = crate::fs::host::HostStream::dup(fd, ids.clone())?;
        v.push((
            fd,
            OpenFile::new(Arc::new(s) as Arc<dyn FileOps>, fl as u32),
        ));
    }
    Ok(v)
}

/// memfd_create: an unnamed tmpfs file.
pub fn memfd_create(t: &mut Task, a: [u64; 6]) -> SysResult {
    const MFD_CLOEXEC: u64 = 1;
    const MFD_ALLOW_SEALING: u64 = 2;
    const MFD_NOEXEC_SEAL: u64 = 8;
    const MFD_EXEC: u64 = 0x10;
    if a[1] & !(MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL | MFD_EXEC) != 0 {
        return Err(Errno::EINVAL);
    }
    let name = t.mm().read_cstring(a[0], 249).map_err(|e| {
        if e == Errno::ENAMETOOLONG {
            Errno::EINVAL
        } else {
            e
        }
    })?;
    let ops = t.kernel.tmpfs.memfd(&name, &creds(t));
    let f = OpenFile::new(ops, libc::O_RDWR as u32);
    let _ = f.path.set([b"/memfd:".as_slice(), &name].concat());
    t.fds()
        .insert(f, a[1] & MFD_CLOEXEC != 0, 0)
        .map(|fd| fd as u64)
}
