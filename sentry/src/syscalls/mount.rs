//! mount(2) and umount2(2) inside the sandbox: new tmpfs, proc and sysfs mounts, bind
//! mounts (recursive too) of anything the sandbox sees, remounts changing the per-mount
//! flags, moves, and propagation changes (accepted: there is one namespace tree and no
//! peer group to propagate to). Nothing here reaches the host: a mount only changes the
//! Sentry's table (`fs::vfs`), and a bind mount's source is resolved in the sandbox.
//!
//! And the mounts a container's spec asks for before its first process runs: its own
//! mounts ([`mount_at_boot`]), then its masked ([`mask_at_boot`]) and read-only
//! ([`readonly_at_boot`]) paths, as runc makes them.

use std::sync::atomic::{AtomicU64, Ordering};

use super::file::stat_of;
use super::openat2::real_path;
use crate::errno::{Errno, SysResult};
use crate::fs::file::Stat;
use crate::fs::tmpfs::{Limits, Tmpfs};
use crate::fs::vfs::{self, Mount, MountFs, Mounts, PseudoFs};
use crate::kernel::creds::CAP_SYS_ADMIN;
use crate::kernel::{Kernel, Task};

const MS_MGC_MSK: u64 = 0xffff_0000;
const MS_MGC_VAL: u64 = 0xc0ed_0000;
const MS_RDONLY: u64 = libc::MS_RDONLY;
const MS_REMOUNT: u64 = libc::MS_REMOUNT;
const MS_BIND: u64 = libc::MS_BIND;
const MS_MOVE: u64 = libc::MS_MOVE;
const MS_REC: u64 = libc::MS_REC;
const PROPAGATION: u64 = libc::MS_SHARED | libc::MS_PRIVATE | libc::MS_SLAVE | libc::MS_UNBINDABLE;

/// Device numbers of the tmpfs mounts made inside the sandbox.
static NEXT_TMPFS_DEV: AtomicU64 = AtomicU64::new(0x40);

/// The mount whose root is at `abs` (the last one made there), by index.
fn mount_at(m: &[Mount], abs: &[u8]) -> Option<usize> {
    m.iter().rposition(|x| x.point == abs)
}

/// `abs` without a trailing slash (but "/").
fn trim(abs: &[u8]) -> Vec<u8> {
    let n = vfs::normalize(b"/", abs);
    match n.strip_suffix(b"/") {
        Some(s) if !s.is_empty() => s.to_vec(),
        _ => n,
    }
}

/// Whether `p` is `dir` or under it.
fn under(p: &[u8], dir: &[u8]) -> bool {
    dir == b"/" || p == dir || (p.starts_with(dir) && p.get(dir.len()) == Some(&b'/'))
}

pub fn mount(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (src_ptr, target_ptr, type_ptr, mut flags, data_ptr) = (a[0], a[1], a[2], a[3], a[4]);
    if !t.creds.has_cap(CAP_SYS_ADMIN) {
        return Err(Errno::EPERM);
    }
    if flags & MS_MGC_MSK == MS_MGC_VAL {
        flags &= !MS_MGC_MSK;
    }
    let flags = default_atime(flags);
    let target = t.read_path(target_ptr)?;
    let target = trim(&real_path(t, &target, true)?);
    let target_st = stat_of(t, libc::AT_FDCWD as u64, &target, true)?;
    let is_dir = |mode: u32| mode & libc::S_IFMT == libc::S_IFDIR;
    if flags & MS_REMOUNT != 0 {
        return remount(t, &target, flags);
    }
    if flags & MS_BIND != 0 {
        let src = t.read_path(src_ptr)?;
        let src = trim(&real_path(t, &src, true)?);
        let src_st = stat_of(t, libc::AT_FDCWD as u64, &src, true)?;
        if is_dir(src_st.mode) != is_dir(target_st.mode) {
            return Err(Errno::ENOTDIR);
        }
        return bind(t, &src, &target, flags & MS_REC != 0);
    }
    if flags & PROPAGATION != 0 {
        // One flag at a time, as Linux asks.
        if (flags & PROPAGATION).count_ones() != 1 {
            return Err(Errno::EINVAL);
        }
        let m = t.mounts();
        return match mount_at(m.list(), &target) {
            Some(_) => Ok(0),
            None => Err(Errno::EINVAL),
        };
    }
    if flags & MS_MOVE != 0 {
        let src = t.read_path(src_ptr)?;
        let src = trim(&real_path(t, &src, true)?);
        return move_mount(t, &src, &target);
    }
    if type_ptr == 0 {
        return Err(Errno::EINVAL);
    }
    let fstype = t.mm().read_cstring(type_ptr, 4095)?;
    let data = if data_ptr == 0 {
        Vec::new()
    } else {
        t.mm().read_cstring(data_ptr, 4095)?
    };
    let source = if src_ptr == 0 {
        b"none".to_vec()
    } else {
        t.mm().read_cstring(src_ptr, 4095)?
    };
    if !is_dir(target_st.mode) {
        return Err(Errno::ENOTDIR);
    }
    let (fs, options) = match &fstype[..] {
        b"tmpfs" => new_tmpfs(&t.kernel, &data)?,
        b"proc" => (MountFs::Pseudo(PseudoFs::Proc), String::new()),
        b"sysfs" => (MountFs::Pseudo(PseudoFs::Sys), String::new()),
        b"mqueue" => (MountFs::Pseudo(PseudoFs::Mqueue), String::new()),
        _ => return Err(Errno::ENODEV),
    };
    let m = Mount::new(&target, fs, flags & vfs::MOUNT_FLAGS, &source, &options);
    t.mnt.update(|tab| {
        tab.push(m);
        Ok(0)
    })
}

/// Access times default to relatime unless the flags name another way, as mount(2) has it.
fn default_atime(flags: u64) -> u64 {
    if flags & (libc::MS_NOATIME | libc::MS_STRICTATIME) == 0 {
        flags | libc::MS_RELATIME
    } else {
        flags
    }
}

/// A mount made before the first process runs (from a container's spec): a new tmpfs,
/// proc or sysfs at `target` (absolute), with mount(2)'s flags and data; or, for "cgroup"
/// and "cgroup2", the sandbox's cgroup v2 view (sysfs's `fs/cgroup`, the one cgroup the
/// sandbox is), always read-only, shown as a `cgroup2` mount.
pub fn mount_at_boot(
    kernel: &Kernel,
    target: &[u8],
    fstype: &str,
    flags: u64,
    data: &[u8],
) -> Result<(), Errno> {
    if target.first() != Some(&b'/') {
        return Err(Errno::EINVAL);
    }
    // The Sentry's /dev (its devices, /dev/pts) stands for the tmpfs a spec puts there.
    if fstype == "tmpfs" && trim(target) == b"/dev" {
        return Ok(());
    }
    let (fs, options) = match fstype {
        "tmpfs" => new_tmpfs(kernel, data)?,
        "proc" => (MountFs::Pseudo(PseudoFs::Proc), String::new()),
        "sysfs" => (MountFs::Pseudo(PseudoFs::Sys), String::new()),
        "cgroup" | "cgroup2" => (MountFs::Pseudo(PseudoFs::Cgroup), String::new()),
        "mqueue" => (MountFs::Pseudo(PseudoFs::Mqueue), String::new()),
        _ => return Err(Errno::ENODEV),
    };
    let flags = default_atime(match fs {
        MountFs::Pseudo(PseudoFs::Cgroup) => flags | MS_RDONLY,
        _ => flags,
    });
    let m = Mount::new(
        &trim(target),
        fs,
        flags & vfs::MOUNT_FLAGS,
        fstype.as_bytes(),
        &options,
    );
    kernel.mounts.update(|tab| {
        // The same filesystem at the same place as a mount the sandbox starts with (its
        // /proc, /sys): that one is kept, with these flags.
        // /proc, /sys: that one is kept, with these flags; a tmpfs (/dev/shm) is replaced.
        if let Some(i) = mount_at(tab, &m.point) {
            if tab[i].fs.type_name() == fstype {
                if fstype != "tmpfs" {
                    tab[i].flags = m.flags;
                    return Ok(());
                }
                tab.remove(i);
            }
        }
        tab.push(m);
        Ok(())
    })
}

/// Where a boot-time change of `path` (absolute) applies, with symlinks followed as
/// mount(2) follows them, and what is there; None when nothing is.
fn boot_target(t: &Task, path: &[u8]) -> Result<Option<(Vec<u8>, Stat)>, Errno> {
    if path.first() != Some(&b'/') {
        return Err(Errno::EINVAL);
    }
    let target = match real_path(t, path, true) {
        Ok(p) => trim(&p),
        Err(Errno::ENOENT) => return Ok(None),
        Err(e) => return Err(e),
    };
    match stat_of(t, libc::AT_FDCWD as u64, &target, true) {
        Ok(st) => Ok(Some((target, st))),
        Err(Errno::ENOENT) => Ok(None),
        Err(e) => Err(e),
    }
}

/// One `linux.maskedPaths` entry, before the first process runs, as runc's maskPath: if
/// `path` exists, a directory gets an empty read-only tmpfs over it, anything else a bind
/// of the sandbox's /dev/null (reads find nothing, writes vanish). `t` is the first process,
/// not yet running (its root and mount namespace; it should have every capability). Returns
/// where the mask was made (None: nothing was there).
pub fn mask_at_boot(t: &Task, path: &[u8]) -> Result<Option<Vec<u8>>, Errno> {
    let Some((target, st)) = boot_target(t, path)? else {
        return Ok(None);
    };
    let m = if st.mode & libc::S_IFMT == libc::S_IFDIR {
        let (fs, options) = new_tmpfs(&t.kernel, b"")?;
        Mount::new(
            &target,
            fs,
            MS_RDONLY | libc::MS_RELATIME,
            b"tmpfs",
            &options,
        )
    } else {
        let mut null = bind_source(&t.mounts(), b"/dev/null")?;
        null.point = target.clone();
        null
    };
    t.mnt.update(|tab| {
        tab.push(m);
        Ok(())
    })?;
    Ok(Some(target))
}

/// One `linux.readonlyPaths` entry, before the first process runs, as runc's readonlyPath:
/// if `path` exists, a recursive bind of it onto itself whose top is then remounted
/// read-only (keeping nosuid, nodev and noexec): changes there fail with EROFS. `t` as for
/// [`mask_at_boot`]. Returns where the bind was made (None: nothing was there).
pub fn readonly_at_boot(t: &Task, path: &[u8]) -> Result<Option<Vec<u8>>, Errno> {
    let Some((target, _)) = boot_target(t, path)? else {
        return Ok(None);
    };
    bind(t, &target, &target, true)?;
    t.mnt.update(|tab| {
        let i = mount_at(tab, &target).ok_or(Errno::EINVAL)?;
        let keep = tab[i].flags & (libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC);
        tab[i].flags = keep | MS_RDONLY | libc::MS_RELATIME;
        Ok(())
    })?;
    Ok(Some(target))
}

/// A new tmpfs from the options of mount(2)'s data: size (bytes, k, m, g, or % of the
/// default 2 GiB), mode, uid, gid; nr_inodes and the like are accepted and not enforced.
fn new_tmpfs(kernel: &Kernel, data: &[u8]) -> Result<(MountFs, String), Errno> {
    let mut limits = Limits::default();
    let mut mode = None;
    let (mut uid, mut gid) = (None, None);
    let mut shown = Vec::new();
    let text = std::str::from_utf8(data).map_err(|_| Errno::EINVAL)?;
    for opt in text.split(',').filter(|o| !o.is_empty()) {
        let (k, v) = opt.split_once('=').unwrap_or((opt, ""));
        match k {
            "size" => {
                let bytes = parse_size(v, limits.max_bytes).ok_or(Errno::EINVAL)?;
                limits.max_bytes = bytes.div_ceil(4096) * 4096;
                shown.push(format!("size={}k", limits.max_bytes / 1024));
            }
            "mode" => {
                let m = u32::from_str_radix(v, 8).map_err(|_| Errno::EINVAL)?;
                mode = Some(m & 0o7777);
                shown.push(format!("mode={:o}", m & 0o7777));
            }
            "uid" | "gid" => {
                let id: u32 = v.parse().map_err(|_| Errno::EINVAL)?;
                // An id the sandbox's user namespace does not map (-1 included) is EINVAL.
                if !kernel.ids.of(k == "gid").covers(id) {
                    return Err(Errno::EINVAL);
                }
                if k == "uid" {
                    uid = Some(id);
                } else {
                    gid = Some(id);
                }
                shown.push(format!("{k}={id}"));
            }
            "nr_inodes" | "nr_blocks" | "huge" | "mpol" | "inode32" | "inode64" => {
                shown.push(opt.to_string());
            }
            _ => return Err(Errno::EINVAL),
        }
    }
    let dev = NEXT_TMPFS_DEV.fetch_add(1, Ordering::Relaxed);
    let fs = Tmpfs::with_limits(dev, kernel.platform.memory_file().clone(), limits);
    if let Some(m) = mode {
        fs.chmod(b"", m, &crate::fs::perm::Creds::ROOT)?;
    }
    if uid.is_some() || gid.is_some() {
        fs.chown(b"", uid, gid, &crate::fs::perm::Creds::ROOT)?;
    }
    Ok((MountFs::Tmpfs(fs), shown.join(",")))
}

/// A tmpfs size option: a number of bytes with an optional k, m, g suffix, or a percentage
/// of `whole`.
fn parse_size(v: &str, whole: u64) -> Option<u64> {
    let (num, mult) = match v.as_bytes().last()? {
        b'k' | b'K' => (&v[..v.len() - 1], 1u64 << 10),
        b'm' | b'M' => (&v[..v.len() - 1], 1 << 20),
        b'g' | b'G' => (&v[..v.len() - 1], 1 << 30),
        b'%' => {
            let pct: u64 = v[..v.len() - 1].parse().ok()?;
            return (pct <= 100).then(|| whole / 100 * pct);
        }
        _ => (v, 1),
    };
    num.parse::<u64>().ok()?.checked_mul(mult)
}

/// The filesystem and root a bind of `src` (a resolved path in the namespace) shows.
fn bind_source(mounts: &Mounts, src: &[u8]) -> Result<Mount, Errno> {
    let (m, rest) = mounts.find(src).ok_or(Errno::EINVAL)?;
    let mut b = m.clone();
    b.id = vfs::new_mount_id();
    b.root = match &m.fs {
        MountFs::Root => trim(&[&m.root[..], b"/", rest].concat()),
        // /dev is devices over the root's /dev directory, looked up by path: a bind of
        // something in it shows the same path of the root.
        MountFs::Dev | MountFs::Devpts => {
            b.fs = MountFs::Root;
            src.to_vec()
        }
        _ => {
            let r = vfs::normalize(b"/", &[&m.root[..], b"/", rest].concat());
            r.strip_prefix(b"/").unwrap_or(&r).to_vec()
        }
    };
    let r = b.root.strip_suffix(b"/").unwrap_or(&b.root).to_vec();
    if !r.is_empty() {
        b.root = r;
    }
    Ok(b)
}

fn bind(t: &Task, src: &[u8], target: &[u8], recursive: bool) -> SysResult {
    let mounts = t.mounts();
    let mut new = vec![];
    let mut top = bind_source(&mounts, src)?;
    top.point = target.to_vec();
    new.push(top);
    if recursive {
        for m in mounts.list() {
            if m.point != src && under(&m.point, src) && m.point != b"/" {
                let mut c = m.clone();
                c.id = vfs::new_mount_id();
                let suffix = if src == b"/" {
                    &m.point[..]
                } else {
                    &m.point[src.len()..]
                };
                c.point = trim(&[target, b"/", suffix].concat());
                new.push(c);
            }
        }
    }
    t.mnt.update(|tab| {
        tab.extend(new);
        Ok(0)
    })
}

fn remount(t: &Task, target: &[u8], flags: u64) -> SysResult {
    t.mnt.update(|tab| {
        let i = mount_at(tab, target).ok_or(Errno::EINVAL)?;
        let keep = if flags & MS_BIND != 0 {
            0
        } else {
            // A remount of the filesystem keeps the access-time flags it is not given.
            tab[i].flags & (libc::MS_NOATIME | libc::MS_NODIRATIME | libc::MS_RELATIME)
        };
        tab[i].flags = (flags & vfs::MOUNT_FLAGS) | keep;
        if flags & MS_RDONLY == 0 {
            tab[i].flags &= !MS_RDONLY;
        }
        Ok(0)
    })
}

fn move_mount(t: &Task, src: &[u8], target: &[u8]) -> SysResult {
    t.mnt.update(|tab| {
        let i = mount_at(tab, src).ok_or(Errno::EINVAL)?;
        if src == b"/" || under(target, src) {
            return Err(Errno::EINVAL);
        }
        let old = tab[i].point.clone();
        for m in tab.iter_mut() {
            if under(&m.point, &old) {
                let suffix = m.point[old.len()..].to_vec();
                m.point = trim(&[target, &suffix[..]].concat());
            }
        }
        // The moved mount comes last among those at its new place.
        let m = tab.remove(i);
        tab.push(m);
        Ok(0)
    })
}

/// What a syscall does to a name, for the read-only check.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Change {
    /// Makes a new name (EEXIST wins over EROFS).
    Create,
    /// Changes or removes what is there (ENOENT wins over EROFS).
    Modify,
    /// Makes the name or replaces what is there (rename's and O_CREAT's target).
    Replace,
}

/// EROFS when `p` (from `cwd`) lies in a mount made read-only and the change would be made,
/// after the errors Linux gives first (a missing file or directory, an existing name).
/// procfs and sysfs mounted whole keep their own answers (a read-only bind of a part of
/// them, as `readonlyPaths` makes, and the cgroup view do not). The mount is found from the
/// path as written.
pub(super) fn writable(t: &Task, cwd: &[u8], p: &[u8], change: Change) -> Result<(), Errno> {
    let abs = vfs::normalize(cwd, p);
    let mounts = t.mounts();
    let own_answers = |m: &Mount| {
        matches!(m.fs, MountFs::Pseudo(PseudoFs::Proc | PseudoFs::Sys)) && m.root.is_empty()
    };
    match mounts.mount_of(&abs) {
        Some(m) if m.flags & MS_RDONLY != 0 && !own_answers(m) => {}
        _ => return Ok(()),
    }
    let at = libc::AT_FDCWD as u64;
    let exists = stat_of(t, at, &abs, false);
    match (change, exists) {
        (Change::Create, Ok(_)) => Err(Errno::EEXIST),
        (Change::Modify | Change::Replace, Ok(_)) => Err(Errno::EROFS),
        (Change::Modify, Err(e)) => Err(e),
        (Change::Create | Change::Replace, Err(_)) => {
            let parent = vfs::normalize(&abs, b"..");
            let st = stat_of(t, at, &parent, true)?;
            if st.mode & libc::S_IFMT != libc::S_IFDIR {
                return Err(Errno::ENOTDIR);
            }
            Err(Errno::EROFS)
        }
    }
}

/// The read-only check of open(2): a write, truncation or creation in a read-only mount.
pub(super) fn writable_open(t: &Task, cwd: &[u8], p: &[u8], flags: u32) -> Result<(), Errno> {
    let writes = flags & libc::O_ACCMODE as u32 != libc::O_RDONLY as u32
        || flags & libc::O_TRUNC as u32 != 0;
    if writes {
        return writable(t, cwd, p, Change::Modify).or_else(|e| {
            // A missing name O_CREAT would make.
            if e == Errno::ENOENT && flags & libc::O_CREAT as u32 != 0 {
                writable(t, cwd, p, Change::Replace)
            } else {
                Err(e)
            }
        });
    }
    if flags & libc::O_CREAT as u32 != 0 {
        let abs = vfs::normalize(cwd, p);
        if stat_of(t, libc::AT_FDCWD as u64, &abs, true).is_err() {
            return writable(t, cwd, p, Change::Replace);
        }
    }
    Ok(())
}

/// EACCES for executing a file of a noexec mount.
pub(super) fn executable(t: &Task, cwd: &[u8], p: &[u8]) -> Result<(), Errno> {
    let abs = vfs::normalize(cwd, p);
    match t.mounts().mount_of(&abs) {
        Some(m) if m.flags & libc::MS_NOEXEC != 0 => Err(Errno::EACCES),
        _ => Ok(()),
    }
}

pub fn umount2(t: &mut Task, a: [u64; 6]) -> SysResult {
    const MNT_FORCE: u64 = 1;
    const MNT_DETACH: u64 = 2;
    const MNT_EXPIRE: u64 = 4;
    const UMOUNT_NOFOLLOW: u64 = 8;
    let flags = a[1];
    if flags & !(MNT_FORCE | MNT_DETACH | MNT_EXPIRE | UMOUNT_NOFOLLOW) != 0
        || (flags & MNT_EXPIRE != 0 && flags & (MNT_FORCE | MNT_DETACH) != 0)
    {
        return Err(Errno::EINVAL);
    }
    if !t.creds.has_cap(CAP_SYS_ADMIN) {
        return Err(Errno::EPERM);
    }
    let p = t.read_path(a[0])?;
    let target = trim(&real_path(t, &p, flags & UMOUNT_NOFOLLOW == 0)?);
    stat_of(t, libc::AT_FDCWD as u64, &target, false)?;
    if flags & MNT_EXPIRE != 0 {
        // Nothing here marks a mount unused between two calls.
        return Err(Errno::EAGAIN);
    }
    t.mnt.update(|tab| {
        let i = mount_at(tab, &target).ok_or(Errno::EINVAL)?;
        if i == 0 {
            return Err(Errno::EINVAL);
        }
        let id = tab[i].id;
        let point = tab[i].point.clone();
        // Mounts on top of this one: made later, at or below its point.
        let covered = |j: usize, m: &Mount| j > i && under(&m.point, &point);
        if flags & MNT_DETACH == 0 && tab.iter().enumerate().any(|(j, m)| covered(j, m)) {
            return Err(Errno::EBUSY);
        }
        let mut j = 0;
        tab.retain(|m| {
            let keep = !(m.id == id || covered(j, m));
            j += 1;
            keep
        });
        Ok(0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1024", 0), Some(1024));
        assert_eq!(parse_size("4k", 0), Some(4096));
        assert_eq!(parse_size("2M", 0), Some(2 << 20));
        assert_eq!(parse_size("1g", 0), Some(1 << 30));
        assert_eq!(parse_size("50%", 200), Some(100));
        assert_eq!(parse_size("101%", 200), None);
        assert_eq!(parse_size("x", 0), None);
        assert_eq!(parse_size("", 0), None);
        assert_eq!(parse_size("99999999999999999999g", 0), None);
    }

    #[test]
    fn paths() {
        assert_eq!(trim(b"/a/b/"), b"/a/b");
        assert_eq!(trim(b"/"), b"/");
        assert!(under(b"/a/b", b"/a"));
        assert!(!under(b"/ab", b"/a"));
        assert!(under(b"/x", b"/"));
    }
}
