//! Host syscalls the server makes, each relative to a directory descriptor, never following
//! a symlink. Errors are Linux errnos.

use std::ffi::CStr;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use crate::protocol::{Errno, Stat, StatFs};

type R<T> = Result<T, Errno>;

fn cvt(r: libc::c_long) -> R<libc::c_long> {
    if r < 0 {
        Err(Errno::last())
    } else {
        Ok(r)
    }
}

fn cvt_int(r: libc::c_int) -> R<libc::c_int> {
    if r < 0 {
        Err(Errno::last())
    } else {
        Ok(r)
    }
}

/// `struct open_how` (libc's is non-exhaustive).
#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

/// How a component is resolved: beneath the directory, no symlink of any kind anywhere.
const RESOLVE: u64 =
    libc::RESOLVE_BENEATH | libc::RESOLVE_NO_MAGICLINKS | libc::RESOLVE_NO_SYMLINKS;

/// Retries of an openat2 that the kernel answered EAGAIN (a rename raced the lookup).
const EAGAIN_RETRIES: usize = 64;

/// `openat2(dir, name, flags | O_NOFOLLOW | O_CLOEXEC [| O_NOCTTY], mode, RESOLVE_BENEATH |
/// RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS)`: never leaves `dir`, never follows a
/// symlink (with `O_PATH`, a symlink named by `name` is opened itself).
pub fn open_beneath(dir: BorrowedFd<'_>, name: &CStr, flags: i32, mode: u32) -> R<OwnedFd> {
    // openat2 refuses O_NOCTTY beside O_PATH.
    let noctty = if flags & libc::O_PATH == 0 {
        libc::O_NOCTTY
    } else {
        0
    };
    let how = OpenHow {
        flags: (flags | libc::O_NOFOLLOW | libc::O_CLOEXEC | noctty) as u32 as u64,
        mode: mode as u64,
        resolve: RESOLVE,
    };
    let mut tries = 0;
    loop {
        // SAFETY: openat2 reads a NUL-terminated name and an open_how of the size we pass.
        let r = unsafe {
            libc::syscall(
                libc::SYS_openat2,
                dir.as_raw_fd(),
                name.as_ptr(),
                &how as *const OpenHow,
                std::mem::size_of::<OpenHow>(),
            )
        };
        match cvt(r) {
            // SAFETY: a fresh descriptor we own.
            Ok(fd) => return Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) }),
            Err(Errno(libc::EAGAIN) | Errno(libc::EINTR)) if tries < EAGAIN_RETRIES => tries += 1,
            Err(e) => return Err(e),
        }
    }
}

/// `fstat` (works on `O_PATH` descriptors).
pub fn fstat(fd: BorrowedFd<'_>) -> R<Stat> {
    // SAFETY: stat is plain data; all-zero is valid.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: a valid descriptor and a pointer to a stat we own.
    cvt_int(unsafe { libc::fstat(fd.as_raw_fd(), &mut st) })?;
    Ok(Stat::from(&st))
}

/// `fstatfs` (works on `O_PATH` descriptors).
pub fn fstatfs(fd: BorrowedFd<'_>) -> R<StatFs> {
    // SAFETY: statfs64 is plain data; all-zero is valid.
    let mut s: libc::statfs64 = unsafe { std::mem::zeroed() };
    // SAFETY: a valid descriptor and a pointer to a statfs64 we own.
    cvt_int(unsafe { libc::fstatfs64(fd.as_raw_fd(), &mut s) })?;
    // SAFETY: fsid_t is two ints; reading its bytes as a u64 reads initialized memory.
    let fsid: u64 = unsafe { std::mem::transmute_copy(&s.f_fsid) };
    Ok(StatFs {
        fs_type: s.f_type as u64,
        bsize: s.f_bsize as u64,
        blocks: s.f_blocks,
        bfree: s.f_bfree,
        bavail: s.f_bavail,
        files: s.f_files,
        ffree: s.f_ffree,
        fsid,
        namelen: s.f_namelen as u64,
        frsize: s.f_frsize as u64,
        flags: s.f_flags as u64,
    })
}

/// `readlinkat(fd, "")`: the target of the symlink `fd` (an `O_PATH` descriptor).
pub fn readlink(fd: BorrowedFd<'_>) -> R<Vec<u8>> {
    let mut buf = vec![0u8; libc::PATH_MAX as usize + 1];
    // SAFETY: an empty NUL-terminated path and a buffer of the length we pass.
    let n = unsafe {
        libc::readlinkat(
            fd.as_raw_fd(),
            c"".as_ptr(),
            buf.as_mut_ptr() as *mut libc::c_char,
            buf.len(),
        )
    };
    let n = cvt(n as libc::c_long)? as usize;
    if n >= buf.len() {
        return Err(Errno(libc::ENAMETOOLONG));
    }
    buf.truncate(n);
    Ok(buf)
}

/// `mkdirat`.
pub fn mkdirat(dir: BorrowedFd<'_>, name: &CStr, mode: u32) -> R<()> {
    // SAFETY: a valid descriptor and NUL-terminated name.
    cvt_int(unsafe { libc::mkdirat(dir.as_raw_fd(), name.as_ptr(), mode) }).map(drop)
}

/// `mknodat` without a device number.
pub fn mknodat(dir: BorrowedFd<'_>, name: &CStr, mode: u32) -> R<()> {
    // SAFETY: a valid descriptor and NUL-terminated name.
    cvt_int(unsafe { libc::mknodat(dir.as_raw_fd(), name.as_ptr(), mode, 0) }).map(drop)
}

/// `symlinkat(target, dir, name)`.
pub fn symlinkat(target: &CStr, dir: BorrowedFd<'_>, name: &CStr) -> R<()> {
    // SAFETY: valid NUL-terminated strings and descriptor.
    cvt_int(unsafe { libc::symlinkat(target.as_ptr(), dir.as_raw_fd(), name.as_ptr()) }).map(drop)
}

/// `linkat(old_dir, old_name, new_dir, new_name, flags)`.
pub fn linkat(
    old_dir: BorrowedFd<'_>,
    old_name: &CStr,
    new_dir: BorrowedFd<'_>,
    new_name: &CStr,
    flags: i32,
) -> R<()> {
    // SAFETY: valid NUL-terminated names and descriptors.
    cvt_int(unsafe {
        libc::linkat(
            old_dir.as_raw_fd(),
            old_name.as_ptr(),
            new_dir.as_raw_fd(),
            new_name.as_ptr(),
            flags,
        )
    })
    .map(drop)
}

/// `unlinkat`.
pub fn unlinkat(dir: BorrowedFd<'_>, name: &CStr, flags: i32) -> R<()> {
    // SAFETY: a valid descriptor and NUL-terminated name.
    cvt_int(unsafe { libc::unlinkat(dir.as_raw_fd(), name.as_ptr(), flags) }).map(drop)
}

/// `renameat2`.
pub fn renameat2(
    old_dir: BorrowedFd<'_>,
    old_name: &CStr,
    new_dir: BorrowedFd<'_>,
    new_name: &CStr,
    flags: u32,
) -> R<()> {
    // SAFETY: valid NUL-terminated names and descriptors.
    cvt(unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            old_dir.as_raw_fd(),
            old_name.as_ptr(),
            new_dir.as_raw_fd(),
            new_name.as_ptr(),
            flags,
        )
    })
    .map(drop)
}

/// `fchownat(fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)`; `u32::MAX` keeps one.
pub fn chown(fd: BorrowedFd<'_>, uid: u32, gid: u32) -> R<()> {
    if uid == u32::MAX && gid == u32::MAX {
        return Ok(());
    }
    // SAFETY: a valid descriptor and an empty NUL-terminated path.
    cvt_int(unsafe {
        libc::fchownat(
            fd.as_raw_fd(),
            c"".as_ptr(),
            uid,
            gid,
            libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW,
        )
    })
    .map(drop)
}

/// `fchmodat2(fd, "", mode, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)`: the mode of the file `fd`
/// (an `O_PATH` descriptor) itself, no path walked, no symlink followed (a symlink gives
/// EOPNOTSUPP); ENOSYS before Linux 6.6.
pub fn chmod_empty_path(fd: BorrowedFd<'_>, mode: u32) -> R<()> {
    // SAFETY: a valid descriptor and an empty NUL-terminated path.
    cvt(unsafe {
        libc::syscall(
            libc::SYS_fchmodat2,
            fd.as_raw_fd(),
            c"".as_ptr(),
            mode,
            libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW,
        )
    })
    .map(drop)
}

/// `fchmod` on an opened (not `O_PATH`) descriptor.
pub fn fchmod(fd: BorrowedFd<'_>, mode: u32) -> R<()> {
    // SAFETY: a valid descriptor.
    cvt_int(unsafe { libc::fchmod(fd.as_raw_fd(), mode) }).map(drop)
}

/// `ftruncate`.
pub fn ftruncate(fd: BorrowedFd<'_>, size: i64) -> R<()> {
    // SAFETY: a valid descriptor.
    cvt_int(unsafe { libc::ftruncate(fd.as_raw_fd(), size) }).map(drop)
}

/// `utimensat(fd, "", times, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)`.
pub fn utimens(fd: BorrowedFd<'_>, times: &[libc::timespec; 2]) -> R<()> {
    // SAFETY: a valid descriptor, an empty NUL-terminated path and two timespecs.
    cvt_int(unsafe {
        libc::utimensat(
            fd.as_raw_fd(),
            c"".as_ptr(),
            times.as_ptr(),
            libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW,
        )
    })
    .map(drop)
}

/// `fsync` or `fdatasync`.
pub fn fsync(fd: BorrowedFd<'_>, datasync: bool) -> R<()> {
    // SAFETY: a valid descriptor.
    let r = unsafe {
        if datasync {
            libc::fdatasync(fd.as_raw_fd())
        } else {
            libc::fsync(fd.as_raw_fd())
        }
    };
    cvt_int(r).map(drop)
}

/// `fcntl(F_GETFL)` then `F_SETFL` without `O_NONBLOCK`.
pub fn clear_nonblock(fd: BorrowedFd<'_>) -> R<()> {
    // SAFETY: F_GETFL on a valid descriptor.
    let fl = cvt_int(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) })?;
    // SAFETY: F_SETFL on a valid descriptor.
    cvt_int(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, fl & !libc::O_NONBLOCK) }).map(drop)
}

/// `lseek(fd, off, SEEK_SET)`.
pub fn seek(fd: BorrowedFd<'_>, off: u64) -> R<()> {
    // SAFETY: a valid descriptor.
    cvt(unsafe { libc::lseek(fd.as_raw_fd(), off as i64, libc::SEEK_SET) }).map(drop)
}

/// `getdents64` into `buf`: bytes filled.
pub fn getdents64(fd: BorrowedFd<'_>, buf: &mut [u8]) -> R<usize> {
    // SAFETY: a valid descriptor and a buffer of the length we pass.
    let n = unsafe {
        libc::syscall(
            libc::SYS_getdents64,
            fd.as_raw_fd(),
            buf.as_mut_ptr(),
            buf.len(),
        )
    };
    cvt(n).map(|n| n as usize)
}

/// `fgetxattr` into `buf`: bytes filled.
pub fn fgetxattr(fd: BorrowedFd<'_>, name: &CStr, buf: &mut [u8]) -> R<usize> {
    // SAFETY: a valid descriptor, a NUL-terminated name and a buffer of the length we pass.
    let n = unsafe {
        libc::fgetxattr(
            fd.as_raw_fd(),
            name.as_ptr(),
            buf.as_mut_ptr() as *mut libc::c_void,
            buf.len(),
        )
    };
    cvt(n as libc::c_long).map(|n| n as usize)
}

/// `fsetxattr`.
pub fn fsetxattr(fd: BorrowedFd<'_>, name: &CStr, value: &[u8], flags: i32) -> R<()> {
    // SAFETY: a valid descriptor, a NUL-terminated name and a value of the length we pass.
    cvt_int(unsafe {
        libc::fsetxattr(
            fd.as_raw_fd(),
            name.as_ptr(),
            value.as_ptr() as *const libc::c_void,
            value.len(),
            flags,
        )
    })
    .map(drop)
}

/// `flistxattr` into `buf`: bytes filled.
pub fn flistxattr(fd: BorrowedFd<'_>, buf: &mut [u8]) -> R<usize> {
    // SAFETY: a valid descriptor and a buffer of the length we pass.
    let n = unsafe {
        libc::flistxattr(
            fd.as_raw_fd(),
            buf.as_mut_ptr() as *mut libc::c_char,
            buf.len(),
        )
    };
    cvt(n as libc::c_long).map(|n| n as usize)
}

/// `fremovexattr`.
pub fn fremovexattr(fd: BorrowedFd<'_>, name: &CStr) -> R<()> {
    // SAFETY: a valid descriptor and a NUL-terminated name.
    cvt_int(unsafe { libc::fremovexattr(fd.as_raw_fd(), name.as_ptr()) }).map(drop)
}
