//! Operations on names: mkdir, unlink, rmdir, rename, symlink, link, truncate, chmod, chown,
//! utimensat. The private /tmp is writable; the root is read-only (EROFS).

use super::file::{base_dir, creds};
use crate::errno::{Errno, SysResult};
use crate::fs::inotify;
use crate::fs::tmpfs::Resolution;
use crate::fs::vfs::{self, resolve, Place};
use crate::kernel::Task;

/// What a write to the read-only root answers: ENOENT if the parent is missing, else EROFS.
pub(super) fn host_readonly(
    t: &Task,
    abs: &[u8],
    must_exist: bool,
) -> Result<Resolution<()>, Errno> {
    match t.kernel.root.lookup(b"/", abs, false) {
        Ok(_) if !must_exist => Err(Errno::EEXIST),
        Ok(_) => Err(Errno::EROFS),
        Err(Errno::ENOENT) if !must_exist => {
            let parent = vfs::normalize(abs, b"..");
            t.kernel.root.lookup(b"/", &parent, true)?;
            Err(Errno::EROFS)
        }
        Err(e) => Err(e),
    }
}

/// What changing something under /proc gives: EEXIST or EPERM if it is there (after
/// following links on the way), else ENOENT.
pub(super) fn proc_readonly(
    t: &Task,
    rel: &vfs::PseudoPath,
    must_exist: bool,
) -> Result<Resolution<()>, Errno> {
    let found = match crate::fs::procfs::lookup(t, rel, false) {
        // sysfs refuses new names in a directory that exists with EPERM (procfs: ENOENT).
        Err(Errno::ENOENT) if !must_exist && rel.fs == vfs::PseudoFs::Sys => {
            let parent = vfs::PseudoPath {
                fs: rel.fs,
                rel: vfs::normalize(b"/", &[b"/", &rel.rel[..], b"/.."].concat()),
            };
            return match crate::fs::procfs::lookup(t, &parent, true) {
                Ok(_) => Err(Errno::EPERM),
                Err(e) => Err(e),
            };
        }
        r => r?,
    };
    match found {
        Resolution::Escape { target, rest } => Ok(Resolution::Escape { target, rest }),
        Resolution::Done(_) if !must_exist => Err(Errno::EEXIST),
        Resolution::Done(_) => Err(Errno::EPERM),
    }
}

fn path_arg(t: &Task, dirfd: u64, addr: u64) -> Result<(Vec<u8>, Vec<u8>), Errno> {
    let p = t.read_path(addr)?;
    let cwd = base_dir(t, dirfd, &p)?;
    Ok((cwd, p))
}

pub fn mkdirat(t: &mut Task, dirfd: u64, path: u64, mode: u64) -> SysResult {
    let (cwd, p) = path_arg(t, dirfd, path)?;
    let c = creds(t);
    resolve(&cwd, &p, |pl| match pl {
        Place::Tmp(rel) if rel.is_empty() => Err(Errno::EEXIST),
        Place::Tmp(rel) => t.kernel.fs_of(&rel).mkdir(&rel, mode as u32 & 0o7777, &c),
        Place::Host(abs) => super::rootfs::mkdir(t, &abs, mode as u32 & 0o7777, &c),
        Place::Proc(rel) => proc_readonly(t, &rel, false),
    })
    .map(|_| 0)
}

pub fn unlinkat(t: &mut Task, dirfd: u64, path: u64, flags: u64) -> SysResult {
    if flags & !(libc::AT_REMOVEDIR as u64) != 0 {
        return Err(Errno::EINVAL);
    }
    let dir = flags != 0;
    let (cwd, p) = path_arg(t, dirfd, path)?;
    resolve(&cwd, &p, |pl| match pl {
        Place::Tmp(rel) if rel.is_empty() => Err(if dir { Errno::EBUSY } else { Errno::EISDIR }),
        Place::Tmp(rel) if dir => t.kernel.fs_of(&rel).rmdir(&rel),
        Place::Tmp(rel) => t.kernel.fs_of(&rel).unlink(&rel),
        Place::Host(abs) => super::rootfs::remove(t, &abs, dir),
        Place::Proc(rel) => proc_readonly(t, &rel, true),
    })
    .map(|_| 0)
}

pub fn renameat2(
    t: &mut Task,
    olddir: u64,
    old: u64,
    newdir: u64,
    new: u64,
    flags: u64,
) -> SysResult {
    let (ocwd, op) = path_arg(t, olddir, old)?;
    let (ncwd, np) = path_arg(t, newdir, new)?;
    let (oa, na) = (vfs::normalize(&ocwd, &op), vfs::normalize(&ncwd, &np));
    match (vfs::place(&oa), vfs::place(&na)) {
        (Place::Tmp(o), Place::Tmp(n)) if o.mount == n.mount => {
            if o.is_empty() || n.is_empty() {
                return Err(Errno::EBUSY);
            }
            t.kernel.fs_of(&o).rename(&o, &n, flags as u32).map(|_| 0)
        }
        (Place::Tmp(_), Place::Tmp(_)) => {
            stat_exists(t, &oa)?;
            Err(Errno::EXDEV)
        }
        (Place::Tmp(_), Place::Host(_)) | (Place::Host(_), Place::Tmp(_)) => {
            stat_exists(t, &oa)?;
            Err(Errno::EXDEV)
        }
        (Place::Host(o), Place::Host(n)) => {
            super::rootfs::rename(t, &o, &n, flags as u32).map(|_| 0)
        }
        (Place::Proc(_), Place::Proc(_)) => {
            stat_exists(t, &oa)?;
            Err(Errno::EPERM)
        }
        (Place::Proc(_), _) | (_, Place::Proc(_)) => {
            stat_exists(t, &oa)?;
            Err(Errno::EXDEV)
        }
    }
}

fn stat_exists(t: &Task, abs: &[u8]) -> Result<(), Errno> {
    super::file::stat_of(t, libc::AT_FDCWD as u64, abs, false).map(|_| ())
}

pub fn symlinkat(t: &mut Task, target: u64, dirfd: u64, path: u64) -> SysResult {
    let target = t.read_path(target)?;
    let (cwd, p) = path_arg(t, dirfd, path)?;
    let c = creds(t);
    resolve(&cwd, &p, |pl| match pl {
        Place::Tmp(rel) if rel.is_empty() => Err(Errno::EEXIST),
        Place::Tmp(rel) => t.kernel.fs_of(&rel).symlink(&target, &rel, &c),
        Place::Host(abs) => super::rootfs::symlink(t, &target, &abs, &c),
        Place::Proc(rel) => proc_readonly(t, &rel, false),
    })
    .map(|_| 0)
}

pub fn linkat(t: &mut Task, olddir: u64, old: u64, newdir: u64, new: u64, flags: u64) -> SysResult {
    if flags & !((libc::AT_SYMLINK_FOLLOW | libc::AT_EMPTY_PATH) as u64) != 0 {
        return Err(Errno::EINVAL);
    }
    if let Some(r) = super::tmpfile::linkat_open(t, olddir, old, newdir, new, flags) {
        return r;
    }
    let (ocwd, op) = path_arg(t, olddir, old)?;
    let (ncwd, np) = path_arg(t, newdir, new)?;
    let (oa, na) = (vfs::normalize(&ocwd, &op), vfs::normalize(&ncwd, &np));
    match (vfs::place(&oa), vfs::place(&na)) {
        (Place::Tmp(o), Place::Tmp(n)) if o.mount == n.mount => {
            t.kernel.fs_of(&o).link(&o, &n).map(|_| 0)
        }
        (Place::Host(o), Place::Host(n)) => super::rootfs::link(t, &o, &n).map(|_| 0),
        _ => {
            stat_exists(t, &oa)?;
            Err(Errno::EXDEV)
        }
    }
}

pub fn truncate(t: &mut Task, path: u64, len: u64) -> SysResult {
    if (len as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    let (cwd, p) = path_arg(t, libc::AT_FDCWD as u64, path)?;
    resolve(&cwd, &p, |pl| match pl {
        Place::Tmp(rel) => t.kernel.fs_of(&rel).truncate(&rel, len),
        Place::Host(abs) => super::rootfs::change(t, &abs, true, |fs, p| fs.truncate(p, len)),
        Place::Proc(rel) => proc_readonly(t, &rel, true),
    })?;
    inotify::path_event(&cwd, &p, true, inotify::IN_MODIFY);
    Ok(0)
}

pub fn fchmodat(t: &mut Task, dirfd: u64, path: u64, mode: u64) -> SysResult {
    let (cwd, p) = path_arg(t, dirfd, path)?;
    resolve(&cwd, &p, |pl| match pl {
        Place::Tmp(rel) => t.kernel.fs_of(&rel).chmod(&rel, mode as u32 & 0o7777),
        Place::Host(abs) => {
            super::rootfs::change(t, &abs, true, |fs, p| fs.chmod(p, mode as u32 & 0o7777))
        }
        Place::Proc(rel) => proc_readonly(t, &rel, true),
    })?;
    inotify::path_event(&cwd, &p, true, inotify::IN_ATTRIB);
    Ok(0)
}

pub fn fchownat(t: &mut Task, dirfd: u64, path: u64, uid: u64, gid: u64, flags: u64) -> SysResult {
    let (cwd, p) = path_arg(t, dirfd, path)?;
    let id = |v: u64| {
        if v as u32 == u32::MAX {
            None
        } else {
            Some(v as u32)
        }
    };
    let follow = flags & libc::AT_SYMLINK_NOFOLLOW as u64 == 0;
    resolve(&cwd, &p, |pl| match pl {
        Place::Tmp(rel) if follow => t.kernel.fs_of(&rel).chown(&rel, id(uid), id(gid)),
        Place::Tmp(rel) => t.kernel.fs_of(&rel).lchown(&rel, id(uid), id(gid)),
        Place::Host(abs) => super::rootfs::change(t, &abs, follow, |fs, p| {
            if follow {
                fs.chown(p, id(uid), id(gid))
            } else {
                fs.lchown(p, id(uid), id(gid))
            }
        }),
        Place::Proc(rel) => proc_readonly(t, &rel, true),
    })?;
    inotify::path_event(&cwd, &p, follow, inotify::chown_mask(uid, gid));
    Ok(0)
}

pub fn utimensat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (dirfd, path, times, flags) = (a[0], a[1], a[2], a[3]);
    if path == 0 {
        return Err(Errno::ENOSYS);
    }
    const UTIME_NOW: i64 = (1 << 30) - 1;
    const UTIME_OMIT: i64 = (1 << 30) - 2;
    let now = super::misc::clock_now(libc::CLOCK_REALTIME)?;
    let now = (now.as_secs() as i64, now.subsec_nanos() as i64);
    let (at, mt) = if times == 0 {
        (Some(now), Some(now))
    } else {
        let mut b = [0u8; 32];
        t.read_mem(times, &mut b)?;
        let f = |o: usize| i64::from_le_bytes(b[o..o + 8].try_into().unwrap_or_default());
        let one = |s: i64, ns: i64| -> Result<Option<(i64, i64)>, Errno> {
            match ns {
                UTIME_NOW => Ok(Some(now)),
                UTIME_OMIT => Ok(None),
                n if (0..1_000_000_000).contains(&n) => Ok(Some((s, n))),
                _ => Err(Errno::EINVAL),
            }
        };
        (one(f(0), f(8))?, one(f(16), f(24))?)
    };
    let (cwd, p) = path_arg(t, dirfd, path)?;
    let follow = flags & libc::AT_SYMLINK_NOFOLLOW as u64 == 0;
    resolve(&cwd, &p, |pl| match pl {
        Place::Tmp(rel) if follow => t.kernel.fs_of(&rel).utimens(&rel, at, mt),
        Place::Tmp(rel) => t.kernel.fs_of(&rel).lutimens(&rel, at, mt),
        Place::Host(abs) => super::rootfs::change(t, &abs, follow, |fs, p| {
            if follow {
                fs.utimens(p, at, mt)
            } else {
                fs.lutimens(p, at, mt)
            }
        }),
        Place::Proc(rel) => proc_readonly(t, &rel, true),
    })?;
    inotify::path_event(&cwd, &p, follow, inotify::utimes_mask(at, mt));
    Ok(0)
}

pub fn ftruncate(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds().get(a[0] as i32)?;
    if (a[1] as i64) < 0 || !f.writable() {
        return Err(Errno::EINVAL);
    }
    let limit = t.tg.lock().rlimits[libc::RLIMIT_FSIZE as usize].0;
    if a[1] > limit {
        let tg = t.tg.clone();
        t.signal_group(&tg, libc::SIGXFSZ);
        return Err(Errno::EFBIG);
    }
    f.ops.truncate(a[1])?;
    inotify::fd_event(&f, inotify::IN_MODIFY);
    if let Some(obj) = f.ops.shared_object() {
        obj.unmap_beyond(a[1]);
    }
    Ok(0)
}

/// fsync, fdatasync, syncfs: everything the Sentry holds is already coherent.
pub fn fsync(t: &mut Task, a: [u64; 6]) -> SysResult {
    t.fds().get(a[0] as i32).map(|_| 0)
}

/// fchmod and fchown act on the path the descriptor was opened by.
fn fd_path(t: &Task, fd: u64) -> Result<Vec<u8>, Errno> {
    t.fds()
        .get(fd as i32)?
        .path
        .get()
        .cloned()
        .ok_or(Errno::EPERM)
}

pub fn fchmod(t: &mut Task, a: [u64; 6]) -> SysResult {
    // A tmpfs file is changed directly: it may have no name left.
    let f = t.fds().get(a[0] as i32)?;
    if f.flags() & libc::O_PATH as u32 != 0 {
        return Err(Errno::EBADF);
    }
    if crate::fs::tmpfs::chmod_open(&*f.ops, a[1] as u32 & 0o7777).is_some() {
        inotify::fd_event(&f, inotify::IN_ATTRIB);
        return Ok(0);
    }
    let p = fd_path(t, a[0])?;
    resolve(b"/", &p, |pl| match pl {
        Place::Tmp(rel) => t.kernel.fs_of(&rel).chmod(&rel, a[1] as u32 & 0o7777),
        Place::Host(abs) => {
            super::rootfs::change(t, &abs, true, |fs, p| fs.chmod(p, a[1] as u32 & 0o7777))
        }
        Place::Proc(_) => Err(Errno::EPERM),
    })?;
    inotify::fd_event(&f, inotify::IN_ATTRIB);
    Ok(0)
}

pub fn fchown(t: &mut Task, a: [u64; 6]) -> SysResult {
    let id = |v: u64| {
        if v as u32 == u32::MAX {
            None
        } else {
            Some(v as u32)
        }
    };
    let f = t.fds().get(a[0] as i32)?;
    if f.flags() & libc::O_PATH as u32 != 0 {
        return Err(Errno::EBADF);
    }
    if crate::fs::tmpfs::chown_open(&*f.ops, id(a[1]), id(a[2])).is_some() {
        inotify::fd_event(&f, inotify::chown_mask(a[1], a[2]));
        return Ok(0);
    }
    let p = fd_path(t, a[0])?;
    resolve(b"/", &p, |pl| match pl {
        Place::Tmp(rel) => t.kernel.fs_of(&rel).chown(&rel, id(a[1]), id(a[2])),
        Place::Host(abs) => {
            super::rootfs::change(t, &abs, true, |fs, p| fs.chown(p, id(a[1]), id(a[2])))
        }
        Place::Proc(_) => Err(Errno::EPERM),
    })?;
    inotify::fd_event(&f, inotify::chown_mask(a[1], a[2]));
    Ok(0)
}

/// The 120 bytes of `struct statfs` for the filesystem at `abs`.
fn statfs_bytes(abs: &[u8]) -> [u8; 120] {
    const TMPFS_MAGIC: u64 = 0x0102_1994;
    const OVERLAYFS_SUPER_MAGIC: u64 = 0x794c_7630;
    const PROC_SUPER_MAGIC: u64 = 0x9fa0;
    const SYSFS_MAGIC: u64 = 0x6265_6572;
    let mut b = [0u8; 120];
    let (kind, flags) = match vfs::place(abs) {
        Place::Tmp(_) => (TMPFS_MAGIC, libc::ST_NOSUID | libc::ST_NODEV),
        Place::Host(_) => (OVERLAYFS_SUPER_MAGIC, 0),
        Place::Proc(p) if p.fs == vfs::PseudoFs::Sys => (
            SYSFS_MAGIC,
            libc::ST_NOSUID | libc::ST_NODEV | libc::ST_NOEXEC,
        ),
        Place::Proc(_) => (
            PROC_SUPER_MAGIC,
            libc::ST_NOSUID | libc::ST_NODEV | libc::ST_NOEXEC,
        ),
    };
    let fields: [u64; 7] = [kind, 4096, 1 << 20, 1 << 19, 1 << 19, 1 << 20, 1 << 19];
    for (i, v) in fields.iter().enumerate() {
        b[i * 8..i * 8 + 8].copy_from_slice(&v.to_le_bytes());
    }
    b[64..72].copy_from_slice(&255u64.to_le_bytes()); // f_namelen
    b[72..80].copy_from_slice(&4096u64.to_le_bytes()); // f_frsize
    b[80..88].copy_from_slice(&flags.to_le_bytes());
    b
}

pub fn statfs(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (cwd, p) = path_arg(t, libc::AT_FDCWD as u64, a[0])?;
    super::file::stat_of(t, libc::AT_FDCWD as u64, &vfs::normalize(&cwd, &p), true)?;
    t.write_mem(a[1], &statfs_bytes(&vfs::normalize(&cwd, &p)))
        .map(|_| 0)
}

pub fn fstatfs(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds().get(a[0] as i32)?;
    let p = f.path.get().cloned().unwrap_or_else(|| b"/".to_vec());
    t.write_mem(a[1], &statfs_bytes(&p)).map(|_| 0)
}

/// statx(2): the basic fields, from the same stat as fstatat.
pub fn statx(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (dirfd, path, flags, _mask, buf) = (a[0], a[1], a[2], a[3], a[4]);
    const AT_STATX_SYNC_TYPE: u64 = 0x6000;
    let known = (libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW | libc::AT_NO_AUTOMOUNT) as u64
        | AT_STATX_SYNC_TYPE;
    if flags & !known != 0 || flags & AT_STATX_SYNC_TYPE == AT_STATX_SYNC_TYPE {
        return Err(Errno::EINVAL);
    }
    let p = t.mm().read_cstring(path, 4095)?;
    let st = if p.is_empty() {
        if flags & libc::AT_EMPTY_PATH as u64 == 0 {
            return Err(Errno::ENOENT);
        }
        if dirfd as i32 == libc::AT_FDCWD {
            super::file::stat_of(t, dirfd, b".", true)?
        } else {
            t.fds().get(dirfd as i32)?.ops.stat()?
        }
    } else {
        super::file::stat_of(t, dirfd, &p, flags & libc::AT_SYMLINK_NOFOLLOW as u64 == 0)?
    };
    const STATX_BASIC_STATS: u32 = 0x7ff;
    let mut b = [0u8; 256];
    let mut put = |o: usize, v: &[u8]| b[o..o + v.len()].copy_from_slice(v);
    put(0, &STATX_BASIC_STATS.to_le_bytes());
    put(4, &(st.blksize as u32).to_le_bytes());
    put(16, &(st.nlink as u32).to_le_bytes());
    put(20, &st.uid.to_le_bytes());
    put(24, &st.gid.to_le_bytes());
    put(28, &(st.mode as u16).to_le_bytes());
    put(32, &st.ino.to_le_bytes());
    put(40, &(st.size as u64).to_le_bytes());
    put(48, &(st.blocks as u64).to_le_bytes());
    for (o, (s, ns)) in [(64, st.atime), (96, st.ctime), (112, st.mtime)] {
        put(o, &s.to_le_bytes());
        put(o + 8, &(ns as u32).to_le_bytes());
    }
    put(128, &libc::major(st.rdev).to_le_bytes());
    put(132, &libc::minor(st.rdev).to_le_bytes());
    put(136, &libc::major(st.dev).to_le_bytes());
    put(140, &libc::minor(st.dev).to_le_bytes());
    t.write_mem(buf, &b).map(|_| 0)
}

/// The xattr family: no file carries extended attributes yet. Reads answer ENODATA (the
/// file must exist), lists are empty, and setting one is not supported.
/// Which file an xattr call names.
#[derive(Clone, Copy)]
pub enum XattrTarget {
    Fd,
    Path { follow: bool },
}

/// What an xattr call does.
#[derive(Clone, Copy)]
pub enum XattrKind {
    Get,
    Set,
    List,
    Remove,
}

/// One xattr syscall.
#[derive(Clone, Copy)]
pub struct XattrOp {
    pub target: XattrTarget,
    pub kind: XattrKind,
}
