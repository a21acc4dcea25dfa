//! openat2(2): open with a `struct open_how` (flags, mode, resolve), validated strictly, and
//! path resolution restricted by the RESOLVE_* flags (`fs::resolve`).

use super::file::{base_dir, open_path, readlink_of, stat_of};
use crate::errno::{Errno, SysResult};
use crate::fs::file::Stat;
use crate::fs::resolve::{
    self, Lookup, Walked, RESOLVE_BENEATH, RESOLVE_CACHED, RESOLVE_IN_ROOT, VALID_RESOLVE_FLAGS,
};
use crate::kernel::Task;

/// The kernel's O_LARGEFILE (glibc defines it as 0 on x86-64).
const O_LARGEFILE: u32 = 0o100000;

/// Every open flag Linux knows (its VALID_OPEN_FLAGS).
pub const VALID_OPEN_FLAGS: u32 = (libc::O_RDONLY
    | libc::O_WRONLY
    | libc::O_RDWR
    | libc::O_CREAT
    | libc::O_EXCL
    | libc::O_NOCTTY
    | libc::O_TRUNC
    | libc::O_APPEND
    | libc::O_NONBLOCK
    | libc::O_SYNC
    | libc::O_DSYNC
    | libc::O_ASYNC
    | libc::O_DIRECT
    | libc::O_DIRECTORY
    | libc::O_NOFOLLOW
    | libc::O_NOATIME
    | libc::O_CLOEXEC
    | libc::O_PATH
    | libc::O_TMPFILE) as u32
    | O_LARGEFILE;

/// The flags O_PATH keeps.
pub const O_PATH_FLAGS: u32 =
    (libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_PATH | libc::O_CLOEXEC) as u32;

/// Size of the first version of `struct open_how`.
const OPEN_HOW_SIZE_VER0: u64 = 24;
/// Largest `struct open_how` accepted (a page, as copy_struct_from_user).
const OPEN_HOW_MAX: u64 = 4096;

/// openat2(dirfd, path, how, size).
pub fn openat2(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (dirfd, path, how, size) = (a[0], a[1], a[2], a[3]);
    if size < OPEN_HOW_SIZE_VER0 {
        return Err(Errno::EINVAL);
    }
    if size > OPEN_HOW_MAX {
        return Err(Errno::E2BIG);
    }
    let mut b = vec![0u8; size as usize];
    t.read_mem(how, &mut b)?;
    if b[OPEN_HOW_SIZE_VER0 as usize..].iter().any(|&x| x != 0) {
        return Err(Errno::E2BIG);
    }
    let field = |i: usize| {
        let mut v = [0u8; 8];
        v.copy_from_slice(&b[i * 8..i * 8 + 8]);
        u64::from_le_bytes(v)
    };
    let (flags, mode, res) = (field(0), field(1), field(2));
    let flags = check_how(flags, mode, res)?;
    let mode = mode as u32;
    let p = t.read_path(path)?;
    let cloexec = flags & libc::O_CLOEXEC as u32 != 0;
    let file = if res & !RESOLVE_CACHED == 0 {
        open_path(t, dirfd, &p, flags, mode)?
    } else {
        open_resolved(t, dirfd, &p, flags, mode, res)?
    };
    t.fds().insert(file, cloexec, 0).map(|fd| fd as u64)
}

/// Linux's build_open_flags checks: the flags as open(2) takes them, or EINVAL (EAGAIN for
/// RESOLVE_CACHED with what must create or truncate).
fn check_how(flags: u64, mode: u64, res: u64) -> Result<u32, Errno> {
    let o = |f: i32| f as u32;
    if flags & !u64::from(VALID_OPEN_FLAGS) != 0 {
        return Err(Errno::EINVAL);
    }
    let flags = flags as u32;
    if res & !VALID_RESOLVE_FLAGS != 0 {
        return Err(Errno::EINVAL);
    }
    if res & (RESOLVE_BENEATH | RESOLVE_IN_ROOT) == RESOLVE_BENEATH | RESOLVE_IN_ROOT {
        return Err(Errno::EINVAL);
    }
    let tmpfile = flags & super::tmpfile::O_TMPFILE_BIT != 0;
    if flags & o(libc::O_CREAT) != 0 || tmpfile {
        if mode & !0o7777 != 0 {
            return Err(Errno::EINVAL);
        }
    } else if mode != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & o(libc::O_CREAT | libc::O_DIRECTORY) == o(libc::O_CREAT | libc::O_DIRECTORY) {
        return Err(Errno::EINVAL);
    }
    if tmpfile
        && (flags & o(libc::O_DIRECTORY) == 0 || flags & o(libc::O_ACCMODE) == o(libc::O_RDONLY))
    {
        return Err(Errno::EINVAL);
    }
    if flags & o(libc::O_PATH) != 0 && flags & !O_PATH_FLAGS != 0 {
        return Err(Errno::EINVAL);
    }
    if res & RESOLVE_CACHED != 0 && (flags & o(libc::O_TRUNC | libc::O_CREAT) != 0 || tmpfile) {
        return Err(Errno::EAGAIN);
    }
    Ok(flags)
}

/// The filesystems as the resolution walk sees them.
struct Paths<'a>(&'a Task);

impl Lookup for Paths<'_> {
    fn lstat(&self, abs: &[u8]) -> Result<Stat, Errno> {
        stat_of(self.0, libc::AT_FDCWD as u64, abs, false)
    }

    fn readlink(&self, abs: &[u8]) -> Result<Vec<u8>, Errno> {
        readlink_of(self.0, libc::AT_FDCWD as u64, abs)
    }

    fn mount_of(&self, abs: &[u8]) -> Vec<u8> {
        let m = self.0.mounts();
        m.mount_of(abs)
            .map_or_else(Vec::new, |m| m.id.to_le_bytes().to_vec())
    }
}

/// Opens `p` resolved under the RESOLVE_* flags `res`.
fn open_resolved(
    t: &Task,
    dirfd: u64,
    p: &[u8],
    flags: u32,
    mode: u32,
    res: u64,
) -> Result<std::sync::Arc<crate::fs::OpenFile>, Errno> {
    let o = |f: i32| f as u32;
    let paths = Paths(t);
    let at_cwd = libc::AT_FDCWD as u64;
    // The starting directory (unused for an absolute path outside IN_ROOT), made physical
    // so that ".." and the scope are those of real directories.
    let base = if p.first() == Some(&b'/') && res & RESOLVE_IN_ROOT == 0 {
        b"/".to_vec()
    } else {
        let b = base_dir(t, dirfd, b".")?;
        match resolve::walk(&paths, b"/", &b, 0, true)? {
            Walked::Path { abs, .. } => abs,
            Walked::Magic(_) => b,
        }
    };
    let follow_last = flags & o(libc::O_NOFOLLOW) == 0
        && flags & o(libc::O_CREAT | libc::O_EXCL) != o(libc::O_CREAT | libc::O_EXCL);
    match resolve::walk(&paths, &base, p, res, follow_last)? {
        Walked::Magic(path) => open_path(t, at_cwd, &path, flags, mode),
        Walked::Path { mut abs, must_dir } => {
            if must_dir {
                abs.push(b'/');
            }
            // Nothing is left to follow: should the last component have become a symlink
            // meanwhile, it is not followed out of the scope.
            let f = open_path(t, at_cwd, &abs, flags | o(libc::O_NOFOLLOW), mode)?;
            if flags & o(libc::O_NOFOLLOW) == 0 {
                f.flags
                    .fetch_and(!o(libc::O_NOFOLLOW), std::sync::atomic::Ordering::Relaxed);
            }
            Ok(f)
        }
    }
}

/// `p` (from the working directory) with every symlink on the way resolved, and the last
/// one too with `follow`: the path of the file in the sandbox's namespace. It need not
/// exist; its directories do.
pub(super) fn real_path(t: &Task, p: &[u8], follow: bool) -> Result<Vec<u8>, Errno> {
    let paths = Paths(t);
    let cwd = base_dir(t, libc::AT_FDCWD as u64, b".")?;
    let base = match resolve::walk(&paths, b"/", &cwd, 0, true)? {
        Walked::Path { abs, .. } => abs,
        Walked::Magic(_) => cwd,
    };
    match resolve::walk(&paths, &base, p, 0, follow)? {
        Walked::Path { abs, .. } => Ok(abs),
        Walked::Magic(_) => Err(Errno::EINVAL),
    }
}
