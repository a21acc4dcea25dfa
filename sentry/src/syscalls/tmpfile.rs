//! O_TMPFILE and naming open files: open(2) of an unnamed regular file in a directory, and
//! linkat(2) of an open file (AT_EMPTY_PATH with an empty path, or AT_SYMLINK_FOLLOW through
//! a /proc/PID/fd/N link), which is how such a file gets a name.

use std::sync::Arc;

use super::file::{base_dir, creds};
use super::path::proc_readonly;
use crate::errno::{Errno, SysResult};
use crate::fs::overlay::Node;
use crate::fs::procfs;
use crate::fs::tmpfs::Resolution;
use crate::fs::vfs::{self, Place};
use crate::fs::OpenFile;
use crate::kernel::Task;

/// The O_TMPFILE bit without O_DIRECTORY (Linux's __O_TMPFILE).
pub const O_TMPFILE_BIT: u32 = (libc::O_TMPFILE & !libc::O_DIRECTORY) as u32;

/// open(2) with O_TMPFILE (its flag rules already checked): an unnamed regular file (nlink
/// 0) in the directory `path`, on the filesystem of that directory. /proc has none
/// (EOPNOTSUPP). The description's path is `DIR/#INO`, which /proc/PID/fd shows with
/// " (deleted)" as Linux does.
pub(super) fn open(
    t: &Task,
    dirfd: u64,
    path: &[u8],
    flags: u32,
    mode: u32,
) -> Result<Arc<OpenFile>, Errno> {
    let status = flags
        & !(libc::O_CLOEXEC | libc::O_CREAT | libc::O_EXCL | libc::O_NOCTTY | libc::O_TRUNC) as u32;
    let cwd = base_dir(t, dirfd, path)?;
    let c = creds(t);
    let mut dir_at = Vec::new();
    let ops = t.mounts().resolve(&cwd, path, |place| match place {
        Place::Tmp(rel) => {
            dir_at = rel.abs();
            rel.fs.open(&rel, flags, mode, &c)
        }
        // A write-through root has no unnamed files (the gofer makes none).
        Place::Host(ref h) if t.kernel.root.write_through_at(h) => Err(Errno::EOPNOTSUPP),
        Place::Host(abs) => match super::rootfs::walk(t, &abs, true)? {
            Resolution::Escape { target, rest } => Ok(Resolution::Escape { target, rest }),
            Resolution::Done(f) => {
                let kind = match f.node {
                    Node::Missing => return Err(Errno::ENOENT),
                    Node::Upper(st) => st.mode & libc::S_IFMT,
                    Node::Lower(st) => st.st_mode & libc::S_IFMT,
                };
                if kind != libc::S_IFDIR {
                    return Err(Errno::ENOTDIR);
                }
                dir_at = f.path;
                // A file with no name needs no directory in the upper layer: it is made at
                // the upper layer's root, and copied directories come when it is linked.
                t.kernel.overlay.upper().open(b"", flags, mode, &c)
            }
        },
        Place::Proc(rel) => match procfs::lookup(t, &rel, true)? {
            Resolution::Escape { target, rest } => Ok(Resolution::Escape { target, rest }),
            Resolution::Done(f) => {
                if procfs::stat(&f)?.mode & libc::S_IFMT == libc::S_IFDIR {
                    Err(Errno::EOPNOTSUPP)
                } else {
                    Err(Errno::ENOTDIR)
                }
            }
        },
    })?;
    let ino = ops.stat()?.ino;
    let f = OpenFile::new(ops, status);
    let mut dir = vfs::normalize(b"/", &dir_at);
    if dir.len() > 1 && dir.ends_with(b"/") {
        dir.pop();
    }
    if dir == b"/" {
        dir.clear();
    }
    let _ = f
        .path
        .set([&dir[..], format!("/#{ino}").as_bytes()].concat());
    Ok(f)
}

/// linkat(2) when it names an open file: AT_EMPTY_PATH with an empty `old` (the file of
/// `olddir`), or AT_SYMLINK_FOLLOW with `old` a /proc/PID/fd/N link. None when it is an
/// ordinary linkat of paths.
pub(super) fn linkat_open(
    t: &Task,
    olddir: u64,
    old: u64,
    newdir: u64,
    new: u64,
    flags: u64,
) -> Option<SysResult> {
    let file = if flags & libc::AT_EMPTY_PATH as u64 != 0 {
        let p = match t.mm().read_cstring(old, crate::fs::host::PATH_MAX - 1) {
            Ok(p) => p,
            Err(e) => return Some(Err(e)),
        };
        if !p.is_empty() {
            return None;
        }
        if olddir as i32 == libc::AT_FDCWD {
            // The working directory: a directory is never linked.
            return Some(Err(Errno::EPERM));
        }
        match t.fds().get(olddir as i32) {
            Ok(f) => f,
            Err(e) => return Some(Err(e)),
        }
    } else if flags & libc::AT_SYMLINK_FOLLOW as u64 != 0 {
        proc_fd_file(t, olddir, old)?
    } else {
        return None;
    };
    Some(link_file(t, &file, newdir, new))
}

/// The open file a /proc/PID/fd/N path names, if `old` is one.
fn proc_fd_file(t: &Task, olddir: u64, old: u64) -> Option<Arc<OpenFile>> {
    let p = t.read_path(old).ok()?;
    let cwd = base_dir(t, olddir, &p).ok()?;
    t.mounts()
        .resolve(&cwd, &p, |place| match place {
            Place::Proc(rel) => match procfs::lookup(t, &rel, false)? {
                Resolution::Escape { target, rest } => Ok(Resolution::Escape { target, rest }),
                Resolution::Done(f) => Ok(Resolution::Done(match f.node {
                    procfs::Node::Fd(_, file) => Some(file),
                    _ => None,
                })),
            },
            _ => Ok(Resolution::Done(None)),
        })
        .ok()
        .flatten()
}

/// Links the open `file` at `new` (relative to `newdir`): EEXIST, ENOENT, EXDEV (another
/// filesystem), EPERM (a directory), ENOENT (no links left, unless an O_TMPFILE file).
fn link_file(t: &Task, file: &OpenFile, newdir: u64, new: u64) -> SysResult {
    let np = t.read_path(new)?;
    let ncwd = base_dir(t, newdir, &np)?;
    let na = vfs::normalize(&ncwd, &np);
    match t.mounts().place(&na) {
        Place::Tmp(n) if n.is_empty() => Err(Errno::EEXIST),
        Place::Tmp(n) => n.fs.link_open(&*file.ops, &n, &creds(t)).map(|_| 0),
        // Open files of a write-through root are host files: none lives in the Sentry.
        Place::Host(ref h) if t.kernel.root.write_through_at(h) => Err(Errno::EXDEV),
        Place::Host(n) => match super::rootfs::walk(t, &n, false)? {
            Resolution::Escape { .. } => Err(Errno::EXDEV),
            Resolution::Done(f) => match f.node {
                Node::Missing if n.ends_with(b"/") => Err(Errno::ENOENT),
                Node::Missing => t
                    .kernel
                    .overlay
                    .create(&t.kernel.root, &f.path, false, |fs, p| {
                        fs.link_open(&*file.ops, p, &creds(t)).map(Resolution::Done)
                    })
                    .map(|_| 0),
                _ => Err(Errno::EEXIST),
            },
        },
        Place::Proc(n) => proc_readonly(t, &n, false).map(|_| 0),
    }
}
