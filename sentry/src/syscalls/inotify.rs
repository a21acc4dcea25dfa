//! inotify_init, inotify_init1, inotify_add_watch, inotify_rm_watch (the instance and the
//! events are in `fs::inotify`).

use crate::errno::{Errno, SysResult};
use crate::fs::inotify::{
    self, Inotify, IN_DONT_FOLLOW, IN_MASK_ADD, IN_MASK_CREATE, IN_ONLYDIR, IN_VALID_BITS,
};
use crate::kernel::Task;

/// inotify_init1(flags); inotify_init() is flags 0.
pub fn inotify_init1(t: &mut Task, flags: u64) -> SysResult {
    let known = (libc::IN_CLOEXEC | libc::IN_NONBLOCK) as u64;
    if flags & !known != 0 {
        return Err(Errno::EINVAL);
    }
    inotify::register_kernel(&t.kernel);
    let f = Inotify::open(flags & libc::IN_NONBLOCK as u64 != 0)?;
    Ok(t.fds().insert(f, flags & libc::IN_CLOEXEC as u64 != 0, 0)? as u64)
}

/// inotify_add_watch(fd, pathname, mask). Checked in Linux's order: the mask (EINVAL), the
/// descriptor (EBADF; EINVAL if not an instance), then the path (IN_DONT_FOLLOW, IN_ONLYDIR).
pub fn inotify_add_watch(t: &mut Task, a: [u64; 6]) -> SysResult {
    let mask = a[2] as u32;
    if mask & !IN_VALID_BITS != 0 || mask & IN_VALID_BITS == 0 {
        return Err(Errno::EINVAL);
    }
    let f = t.fds().get(a[0] as i32)?;
    if mask & IN_MASK_ADD != 0 && mask & IN_MASK_CREATE != 0 {
        return Err(Errno::EINVAL);
    }
    let inst = Inotify::of(&f).ok_or(Errno::EINVAL)?;
    let p = t.read_path(a[1])?;
    let follow = mask & IN_DONT_FOLLOW == 0;
    let st = super::file::stat_of(t, libc::AT_FDCWD as u64, &p, follow)?;
    let is_dir = st.mode & libc::S_IFMT == libc::S_IFDIR;
    if mask & IN_ONLYDIR != 0 && !is_dir {
        return Err(Errno::ENOTDIR);
    }
    if !super::file::may_access(&t.creds, &st, true, false, false) {
        return Err(Errno::EACCES);
    }
    inst.add_watch((st.dev, st.ino), is_dir, mask)
        .map(|wd| wd as u64)
}

/// inotify_rm_watch(fd, wd): IN_IGNORED is queued for the watch.
pub fn inotify_rm_watch(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds().get(a[0] as i32)?;
    let inst = Inotify::of(&f).ok_or(Errno::EINVAL)?;
    inst.rm_watch(a[1] as i32).map(|_| 0)
}
