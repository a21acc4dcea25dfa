//! Which filesystem a path belongs to: the sandbox's private /tmp (tmpfs), /dev (the
//! Sentry's devices), or the root (host, read-only).
//!
//! Paths are classified lexically after joining with the working directory; a symlink inside
//! /tmp that leaves it is re-resolved from the top. (A mount table comes with the gofer.)

use crate::errno::Errno;
use crate::fs::tmpfs::Resolution;

/// Mount point of the private tmpfs.
pub const TMP: &[u8] = b"/tmp";
/// Mount point of procfs.
pub const PROC: &[u8] = b"/proc";
/// Mount point of the shared-memory tmpfs.
pub const SHM: &[u8] = b"/dev/shm";
/// Mount point of sysfs.
pub const SYS: &[u8] = b"/sys";

fn pseudo(fs: PseudoFs, rel: &[u8]) -> Place {
    Place::Proc(PseudoPath {
        fs,
        rel: rel.to_vec(),
    })
}

/// The pseudo filesystem `abs` is in, and the rest of it.
fn pseudo_mount(abs: &[u8]) -> Option<(PseudoFs, &[u8])> {
    for fs in [PseudoFs::Proc, PseudoFs::Sys] {
        if let Some(rest) = abs.strip_prefix(fs.point()) {
            if rest.is_empty() || rest == b"/" {
                return Some((fs, b""));
            }
            if let Some(r) = rest.strip_prefix(b"/") {
                return Some((fs, r));
            }
        }
    }
    None
}

fn tmp(mount: TmpMount, rel: &[u8]) -> Place {
    Place::Tmp(TmpPath {
        mount,
        rel: rel.to_vec(),
    })
}

/// The tmpfs mount `abs` is in, and the rest of it.
fn tmp_mount(abs: &[u8]) -> Option<(TmpMount, &[u8])> {
    for m in [TmpMount::Tmp, TmpMount::Shm] {
        let p = m.point();
        if let Some(rest) = abs.strip_prefix(p) {
            if rest.is_empty() || rest == b"/" {
                return Some((m, b""));
            }
            if let Some(r) = rest.strip_prefix(b"/") {
                return Some((m, r));
            }
        }
    }
    None
}

/// `path` made absolute against `cwd`, with `.` and `..` removed lexically and a trailing
/// slash kept.
pub fn normalize(cwd: &[u8], path: &[u8]) -> Vec<u8> {
    let joined: Vec<u8> = if path.first() == Some(&b'/') {
        path.to_vec()
    } else {
        [cwd, b"/", path].concat()
    };
    let mut out: Vec<&[u8]> = Vec::new();
    for c in joined.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    let mut p = Vec::with_capacity(joined.len());
    for c in &out {
        p.push(b'/');
        p.extend_from_slice(c);
    }
    if p.is_empty() || path.ends_with(b"/") {
        p.push(b'/');
    }
    p
}

/// The sandbox's in-memory filesystems.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TmpMount {
    /// The private /tmp.
    Tmp,
    /// /dev/shm (POSIX shared memory and semaphores).
    Shm,
}

impl TmpMount {
    /// Where it is mounted.
    pub fn point(self) -> &'static [u8] {
        match self {
            TmpMount::Tmp => TMP,
            TmpMount::Shm => SHM,
        }
    }
}

/// A path inside one of the tmpfs mounts; reads as the path relative to its root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TmpPath {
    pub mount: TmpMount,
    pub rel: Vec<u8>,
}

impl std::ops::Deref for TmpPath {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.rel
    }
}

/// The Sentry's synthetic filesystems.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PseudoFs {
    /// /proc.
    Proc,
    /// /sys.
    Sys,
}

impl PseudoFs {
    /// Where it is mounted.
    pub fn point(self) -> &'static [u8] {
        match self {
            PseudoFs::Proc => PROC,
            PseudoFs::Sys => SYS,
        }
    }
}

/// A path inside procfs or sysfs; reads as the path relative to its root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PseudoPath {
    pub fs: PseudoFs,
    pub rel: Vec<u8>,
}

impl std::ops::Deref for PseudoPath {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.rel
    }
}

/// Where an absolute, normalized path lives.
#[derive(Debug, PartialEq, Eq)]
pub enum Place {
    /// In a tmpfs, at this path relative to its root ("" for the mount point itself).
    Tmp(TmpPath),
    /// On the host root.
    Host(Vec<u8>),
    /// In procfs or sysfs, at this path relative to its root ("" for the mount point).
    Proc(PseudoPath),
}

/// Classifies an absolute, normalized path.
pub fn place(abs: &[u8]) -> Place {
    if let Some((m, rest)) = tmp_mount(abs) {
        return tmp(m, rest);
    }
    if let Some((fs, rest)) = pseudo_mount(abs) {
        return pseudo(fs, rest);
    }
    Place::Host(abs.to_vec())
}

/// The place of an absolute path, classified lexically (the mount point is found with `.`
/// and `..` removed) but handed on unnormalized where it can be, so that `..` is resolved
/// physically as Linux does (`file/..` is ENOTDIR).
fn physical_place(raw: &[u8]) -> Place {
    match place(&normalize(b"/", raw)) {
        Place::Host(_) => Place::Host(raw.to_vec()),
        Place::Tmp(tp) => match raw
            .strip_prefix(tp.mount.point())
            .and_then(|r| r.strip_prefix(b"/"))
        {
            Some(r) => tmp(tp.mount, r),
            None => Place::Tmp(tp),
        },
        Place::Proc(pp) => match raw
            .strip_prefix(pp.fs.point())
            .and_then(|r| r.strip_prefix(b"/"))
        {
            Some(r) => pseudo(pp.fs, r),
            None => Place::Proc(pp),
        },
    }
}

/// Runs `op` on the place `path` names, following tmpfs escapes (at most 40).
pub fn resolve<T>(
    cwd: &[u8],
    path: &[u8],
    mut op: impl FnMut(Place) -> Result<Resolution<T>, Errno>,
) -> Result<T, Errno> {
    let mut raw: Vec<u8> = if path.first() == Some(&b'/') {
        path.to_vec()
    } else {
        [cwd, b"/", path].concat()
    };
    for _ in 0..40 {
        let place = physical_place(&raw);
        // A relative escape is relative to the mount it left.
        let mount = match &place {
            Place::Tmp(tp) => tp.mount.point(),
            _ => TMP,
        };
        match op(place)? {
            Resolution::Done(v) => return Ok(v),
            Resolution::Escape { target, rest } => {
                let base = if target.first() == Some(&b'/') {
                    target
                } else {
                    [mount, b"/", &target].concat()
                };
                raw = if rest.is_empty() {
                    base
                } else {
                    [&base[..], b"/", &rest].concat()
                };
            }
        }
    }
    Err(Errno::ELOOP)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_and_place() {
        assert_eq!(normalize(b"/a/b", b"../c"), b"/a/c");
        assert_eq!(normalize(b"/", b"../../x/./y/"), b"/x/y/");
        assert_eq!(normalize(b"/tmp", b"f"), b"/tmp/f");
        assert_eq!(place(b"/tmp/f/g"), tmp(TmpMount::Tmp, b"f/g"));
        assert_eq!(place(b"/tmp"), tmp(TmpMount::Tmp, b""));
        assert_eq!(place(b"/dev/shm/sem.x"), tmp(TmpMount::Shm, b"sem.x"));
        assert_eq!(place(b"/dev/shm"), tmp(TmpMount::Shm, b""));
        assert_eq!(place(b"/dev/shmx"), Place::Host(b"/dev/shmx".to_vec()));
        assert_eq!(place(b"/sys/fs"), pseudo(PseudoFs::Sys, b"fs"));
        assert_eq!(place(b"/proc"), pseudo(PseudoFs::Proc, b""));
        assert_eq!(place(b"/system"), Place::Host(b"/system".to_vec()));
        assert_eq!(place(b"/tmpx"), Place::Host(b"/tmpx".to_vec()));
    }
}
