//! Operations on names: mkdir, unlink, rmdir, rename, symlink, link, truncate, chmod, chown,
//! utimensat. The private /tmp is writable; the root is read-only (EROFS).

use super::file::{base_dir, creds};
use super::writethrough::Change;
use crate::errno::{Errno, SysResult};
use crate::fs::inotify;
use crate::fs::perm;
use crate::fs::tmpfs::{Creds, Resolution};
use crate::fs::vfs::{self, MountFs, Place};
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
        Err(Errno::ENOENT)
            if !must_exist && matches!(rel.fs, vfs::PseudoFs::Sys | vfs::PseudoFs::Mqueue) =>
        {
            let parent = vfs::PseudoPath {
                fs: rel.fs,
                point: rel.point.clone(),
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
    super::mount::writable(t, &cwd, &p, super::mount::Change::Create)?;
    let c = creds(t);
    t.mounts()
        .resolve(&cwd, &p, |pl| match pl {
            Place::Tmp(rel) if rel.is_empty() => Err(Errno::EEXIST),
            Place::Tmp(rel) => rel.fs.mkdir(&rel, mode as u32 & 0o7777, &c),
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
    super::mount::writable(t, &cwd, &p, super::mount::Change::Replace)?;
    let c = creds(t);
    t.mounts()
        .resolve(&cwd, &p, |pl| match pl {
            Place::Tmp(rel) if rel.is_empty() => {
                Err(if dir { Errno::EBUSY } else { Errno::EISDIR })
            }
            Place::Tmp(rel) if dir => rel.fs.rmdir(&rel, &c),
            Place::Tmp(rel) => rel.fs.unlink(&rel, &c),
            Place::Host(abs) => super::rootfs::remove(t, &abs, dir),
            Place::Proc(rel) if rel.fs == vfs::PseudoFs::Mqueue && !dir => {
                crate::fs::mqueue::fs_unlink(&rel, &c)
            }
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
    super::mount::writable(t, &ocwd, &op, super::mount::Change::Replace)?;
    super::mount::writable(t, &ncwd, &np, super::mount::Change::Replace)?;
    let (oa, na) = (vfs::normalize(&ocwd, &op), vfs::normalize(&ncwd, &np));
    match (t.mounts().place(&oa), t.mounts().place(&na)) {
        (Place::Tmp(o), Place::Tmp(n)) if o.same_mount(&n) => {
            if o.is_empty() || n.is_empty() {
                return Err(Errno::EBUSY);
            }
            o.fs.rename(&o, &n, flags as u32, &creds(t)).map(|_| 0)
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
    super::mount::writable(t, &cwd, &p, super::mount::Change::Create)?;
    let c = creds(t);
    t.mounts()
        .resolve(&cwd, &p, |pl| match pl {
            Place::Tmp(rel) if rel.is_empty() => Err(Errno::EEXIST),
            Place::Tmp(rel) => rel.fs.symlink(&target, &rel, &c),
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
    super::mount::writable(t, &ncwd, &np, super::mount::Change::Create)?;
    let (oa, na) = (vfs::normalize(&ocwd, &op), vfs::normalize(&ncwd, &np));
    match (t.mounts().place(&oa), t.mounts().place(&na)) {
        (Place::Tmp(o), Place::Tmp(n)) if o.same_mount(&n) => {
            o.fs.link(&o, &n, &creds(t)).map(|_| 0)
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
    super::mount::writable(t, &cwd, &p, super::mount::Change::Modify)?;
    let c = creds(t);
    t.mounts().resolve(&cwd, &p, |pl| match pl {
        Place::Tmp(rel) => rel.fs.truncate(&rel, len, &c),
        Place::Host(abs) if t.kernel.root.write_through_at(&abs) => {
            super::writethrough::change(t, &abs, true, Change::Truncate(len))
        }
        Place::Host(abs) => super::rootfs::change(
            t,
            &abs,
            true,
            |a| perm::may_truncate(&c, a),
            |fs, p| fs.truncate(p, len, &c),
        ),
        Place::Proc(rel) => proc_readonly(t, &rel, true),
    })?;
    inotify::path_event(&cwd, &p, true, inotify::IN_MODIFY);
    Ok(0)
}

pub fn fchmodat(t: &mut Task, dirfd: u64, path: u64, mode: u64) -> SysResult {
    let (cwd, p) = path_arg(t, dirfd, path)?;
    super::mount::writable(t, &cwd, &p, super::mount::Change::Modify)?;
    let (c, mode) = (creds(t), mode as u32 & 0o7777);
    t.mounts().resolve(&cwd, &p, |pl| match pl {
        Place::Tmp(rel) => rel.fs.chmod(&rel, mode, &c),
        Place::Host(abs) => root_chmod(t, &abs, mode, &c),
        Place::Proc(rel) => proc_readonly(t, &rel, true),
    })?;
    inotify::path_event(&cwd, &p, true, inotify::IN_ATTRIB);
    Ok(0)
}

pub fn fchownat(t: &mut Task, dirfd: u64, path: u64, uid: u64, gid: u64, flags: u64) -> SysResult {
    let (cwd, p) = path_arg(t, dirfd, path)?;
    super::mount::writable(t, &cwd, &p, super::mount::Change::Modify)?;
    let follow = flags & libc::AT_SYMLINK_NOFOLLOW as u64 == 0;
    let (c, ids) = (creds(t), chown_ids(t, uid, gid)?);
    t.mounts().resolve(&cwd, &p, |pl| match pl {
        Place::Tmp(rel) if follow => rel.fs.chown(&rel, ids.0, ids.1, &c),
        Place::Tmp(rel) => rel.fs.lchown(&rel, ids.0, ids.1, &c),
        Place::Host(abs) => root_chown(t, &abs, follow, ids, &c),
        Place::Proc(rel) => proc_readonly(t, &rel, true),
    })?;
    inotify::path_event(&cwd, &p, follow, inotify::chown_mask(uid, gid));
    Ok(0)
}

/// chmod of a path of the root filesystem, checked before a copy-up.
fn root_chmod(t: &Task, abs: &[u8], mode: u32, c: &Creds) -> Result<Resolution<()>, Errno> {
    if t.kernel.root.write_through_at(abs) {
        return super::writethrough::change(t, abs, true, Change::Chmod(mode));
    }
    super::rootfs::change(
        t,
        abs,
        true,
        |a| perm::chmod_bits(c, a, mode).map(drop),
        |fs, p| fs.chmod(p, mode, c),
    )
}

/// chown (`follow`) or lchown of a path of the root filesystem, checked before a copy-up.
fn root_chown(
    t: &Task,
    abs: &[u8],
    follow: bool,
    (uid, gid): (Option<u32>, Option<u32>),
    c: &Creds,
) -> Result<Resolution<()>, Errno> {
    if t.kernel.root.write_through_at(abs) {
        return super::writethrough::change(t, abs, follow, Change::Chown(uid, gid));
    }
    super::rootfs::change(
        t,
        abs,
        follow,
        |a| perm::chown_mode(c, a, uid, gid).map(drop),
        |fs, p| {
            if follow {
                fs.chown(p, uid, gid, c)
            } else {
                fs.lchown(p, uid, gid, c)
            }
        },
    )
}

pub fn utimensat(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (dirfd, path, times, flags) = (a[0], a[1], a[2], a[3]);
    if path == 0 {
        return Err(Errno::ENOSYS);
    }
    const UTIME_NOW: i64 = (1 << 30) - 1;
    const UTIME_OMIT: i64 = (1 << 30) - 2;
    // "Now" stays UTIME_NOW for the filesystem: both times now need less permission.
    let now = (0, UTIME_NOW);
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
    if at.is_none() && mt.is_none() {
        // Nothing to do: Linux does not even look the path up.
        return Ok(0);
    }
    let (cwd, p) = path_arg(t, dirfd, path)?;
    super::mount::writable(t, &cwd, &p, super::mount::Change::Modify)?;
    let follow = flags & libc::AT_SYMLINK_NOFOLLOW as u64 == 0;
    let c = creds(t);
    let touch = at == Some(now) && mt == Some(now);
    t.mounts().resolve(&cwd, &p, |pl| match pl {
        Place::Tmp(rel) if follow => rel.fs.utimens(&rel, at, mt, &c),
        Place::Tmp(rel) => rel.fs.lutimens(&rel, at, mt, &c),
        Place::Host(abs) if t.kernel.root.write_through_at(&abs) => {
            super::writethrough::change(t, &abs, follow, Change::Times(at, mt))
        }
        Place::Host(abs) => super::rootfs::change(
            t,
            &abs,
            follow,
            |a| perm::may_set_times(&c, a, touch),
            |fs, p| {
                if follow {
                    fs.utimens(p, at, mt, &c)
                } else {
                    fs.lutimens(p, at, mt, &c)
                }
            },
        ),
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

/// fsync and syncfs: everything the Sentry holds is already coherent; a host file written
/// through (`--overlay=none`) is flushed on the host.
pub fn fsync(t: &mut Task, a: [u64; 6]) -> SysResult {
    t.fds().get(a[0] as i32)?.ops.sync(false).map(|_| 0)
}

/// fdatasync: as [`fsync`], the data only.
pub fn fdatasync(t: &mut Task, a: [u64; 6]) -> SysResult {
    t.fds().get(a[0] as i32)?.ops.sync(true).map(|_| 0)
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
    let (c, mode) = (creds(t), a[1] as u32 & 0o7777);
    if let Some(r) = crate::fs::tmpfs::chmod_open(&*f.ops, mode, &c) {
        r?;
        inotify::fd_event(&f, inotify::IN_ATTRIB);
        return Ok(0);
    }
    let p = fd_path(t, a[0])?;
    t.mounts().resolve(b"/", &p, |pl| match pl {
        Place::Tmp(rel) => rel.fs.chmod(&rel, mode, &c),
        Place::Host(abs) => root_chmod(t, &abs, mode, &c),
        Place::Proc(_) => Err(Errno::EPERM),
    })?;
    inotify::fd_event(&f, inotify::IN_ATTRIB);
    Ok(0)
}

/// The owner and group a chown asks for: -1 keeps one (None); an id with no mapping in
/// the sandbox's user namespace is EINVAL.
fn chown_ids(t: &Task, uid: u64, gid: u64) -> Result<(Option<u32>, Option<u32>), Errno> {
    let pick = |v: u64, map: &gofer::IdMap| match v as u32 {
        u32::MAX => Ok(None),
        id if map.covers(id) => Ok(Some(id)),
        _ => Err(Errno::EINVAL),
    };
    Ok((pick(uid, &t.kernel.ids.uid)?, pick(gid, &t.kernel.ids.gid)?))
}

pub fn fchown(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds().get(a[0] as i32)?;
    if f.flags() & libc::O_PATH as u32 != 0 {
        return Err(Errno::EBADF);
    }
    let (c, (uid, gid)) = (creds(t), chown_ids(t, a[1], a[2])?);
    if let Some(r) = crate::fs::tmpfs::chown_open(&*f.ops, uid, gid, &c) {
        r?;
        inotify::fd_event(&f, inotify::chown_mask(a[1], a[2]));
        return Ok(0);
    }
    let p = fd_path(t, a[0])?;
    t.mounts().resolve(b"/", &p, |pl| match pl {
        Place::Tmp(rel) => rel.fs.chown(&rel, uid, gid, &c),
        Place::Host(abs) => root_chown(t, &abs, true, (uid, gid), &c),
        Place::Proc(_) => Err(Errno::EPERM),
    })?;
    inotify::fd_event(&f, inotify::chown_mask(a[1], a[2]));
    Ok(0)
}

/// The 120 bytes of `struct statfs` for the filesystem at `abs`.
fn statfs_bytes(t: &Task, abs: &[u8]) -> [u8; 120] {
    const TMPFS_MAGIC: u64 = 0x0102_1994;
    const OVERLAYFS_SUPER_MAGIC: u64 = 0x794c_7630;
    const PROC_SUPER_MAGIC: u64 = 0x9fa0;
    const SYSFS_MAGIC: u64 = 0x6265_6572;
    const DEVPTS_SUPER_MAGIC: u64 = 0x1cd1;
    const CGROUP2_SUPER_MAGIC: u64 = 0x6367_7270;
    let mut b = [0u8; 120];
    let mounts = t.mounts();
    let Some(m) = mounts.mount_of(abs) else {
        return b;
    };
    let kind = match m.fs {
        MountFs::Tmpfs(_) | MountFs::Dev => TMPFS_MAGIC,
        MountFs::Root => OVERLAYFS_SUPER_MAGIC,
        MountFs::Pseudo(vfs::PseudoFs::Sys) => SYSFS_MAGIC,
        MountFs::Pseudo(vfs::PseudoFs::Proc) => PROC_SUPER_MAGIC,
        MountFs::Pseudo(vfs::PseudoFs::Cgroup) => CGROUP2_SUPER_MAGIC,
        MountFs::Pseudo(vfs::PseudoFs::Mqueue) => crate::fs::mqueue::MQUEUE_MAGIC,
        MountFs::Devpts => DEVPTS_SUPER_MAGIC,
    };
    // ST_RDONLY, ST_NOSUID, ST_NODEV and ST_NOEXEC have the values of the MS_ flags.
    let flags = m.flags & 0xf;
    let (blocks, free) = match &m.fs {
        MountFs::Tmpfs(fs) => {
            let (max, used) = fs.pages();
            (max, max.saturating_sub(used))
        }
        _ => (1 << 20, 1 << 19),
    };
    let fields: [u64; 7] = [kind, 4096, blocks, free, free, 1 << 20, 1 << 19];
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
    t.write_mem(a[1], &statfs_bytes(t, &vfs::normalize(&cwd, &p)))
        .map(|_| 0)
}

pub fn fstatfs(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds().get(a[0] as i32)?;
    let p = f.path.get().cloned().unwrap_or_else(|| b"/".to_vec());
    t.write_mem(a[1], &statfs_bytes(t, &p)).map(|_| 0)
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
    let (uid, gid) = st.shown_ids();
    put(20, &uid.to_le_bytes());
    put(24, &gid.to_le_bytes());
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
