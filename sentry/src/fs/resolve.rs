//! Path resolution under openat2(2)'s RESOLVE_* restrictions, one component at a time.
//!
//! The walk keeps the path resolved so far as real directories (no symlink, no `.` or
//! `..`), so `..` is a step up from a real directory, and each component is looked at with
//! lstat before it is entered: a symlink is read and its target put in front of what is
//! left (from the resolution root when absolute), counting at most 40. What the flags
//! forbid ends the walk: any symlink followed (NO_SYMLINKS: ELOOP), a procfs magic link
//! (NO_MAGICLINKS: ELOOP; BENEATH, IN_ROOT and NO_XDEV: EXDEV), a mount crossed (NO_XDEV:
//! EXDEV), leaving the starting directory by `..`, an absolute path or an absolute symlink
//! (BENEATH: EXDEV). With IN_ROOT the starting directory is the root: `..` stops there and
//! absolute paths start there.
//!
//! The result is a path the caller opens the ordinary way (its last component not followed
//! again), or, when an allowed magic link was met, the path through that link for the
//! caller to open as it stands.

use std::collections::VecDeque;

use crate::errno::Errno;
use crate::fs::file::Stat;

/// Fail on a mount point crossed (bind mounts included).
pub const RESOLVE_NO_XDEV: u64 = 0x01;
/// Fail on a procfs magic link followed.
pub const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
/// Fail on any symlink followed.
pub const RESOLVE_NO_SYMLINKS: u64 = 0x04;
/// Never leave the starting directory.
pub const RESOLVE_BENEATH: u64 = 0x08;
/// Treat the starting directory as the root.
pub const RESOLVE_IN_ROOT: u64 = 0x10;
/// Only what the cache resolves (everything here is resolved the same way).
pub const RESOLVE_CACHED: u64 = 0x20;
/// Every RESOLVE_* flag.
pub const VALID_RESOLVE_FLAGS: u64 = 0x3f;

/// Symlinks followed in one walk, as Linux's MAXSYMLINKS.
const MAX_SYMLINKS: u32 = 40;

/// What the walk asks of the filesystems, for absolute paths whose directories are real
/// directories (only the last component may be a symlink).
pub trait Lookup {
    /// lstat(2).
    fn lstat(&self, abs: &[u8]) -> Result<Stat, Errno>;
    /// readlink(2).
    fn readlink(&self, abs: &[u8]) -> Result<Vec<u8>, Errno>;
    /// Which mount `abs` is in (RESOLVE_NO_XDEV compares them); by default the sandbox's
    /// initial mounts.
    fn mount_of(&self, abs: &[u8]) -> Vec<u8> {
        mount_of(abs).to_vec()
    }
}

/// Where a walk ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Walked {
    /// An absolute path with nothing left to follow: its directories are real directories
    /// and its last component is missing, or is not a symlink, or is a symlink not to be
    /// followed. `must_dir`: a trailing slash asks for a directory there.
    Path { abs: Vec<u8>, must_dir: bool },
    /// A procfs magic link met on the way, which the flags allow: the path through it (and
    /// the rest after it), to be opened as it stands.
    Magic(Vec<u8>),
}

/// One component still to resolve.
#[derive(Clone, Debug)]
struct Comp {
    name: Vec<u8>,
    /// Followed by a slash: must be a directory (a symlink there is followed).
    must_dir: bool,
}

fn comps(path: &[u8]) -> VecDeque<Comp> {
    let mut v: VecDeque<Comp> = path
        .split(|&b| b == b'/')
        .filter(|c| !c.is_empty())
        .map(|c| Comp {
            name: c.to_vec(),
            must_dir: false,
        })
        .collect();
    if path.ends_with(b"/") {
        if let Some(c) = v.back_mut() {
            c.must_dir = true;
        }
    }
    v
}

fn join(parts: &[Vec<u8>]) -> Vec<u8> {
    if parts.is_empty() {
        return b"/".to_vec();
    }
    let mut p = Vec::new();
    for c in parts {
        p.push(b'/');
        p.extend_from_slice(c);
    }
    p
}

/// The mount point of the mount an absolute, resolved path is in (the sandbox's mounts:
/// the root, /dev, /dev/pts, /dev/shm, /proc, /sys, /tmp).
pub fn mount_of(abs: &[u8]) -> &'static [u8] {
    const MOUNTS: [&[u8]; 6] = [
        b"/dev/shm",
        b"/dev/pts",
        b"/tmp",
        b"/proc",
        b"/sys",
        b"/dev",
    ];
    for m in MOUNTS {
        if abs == m || (abs.starts_with(m) && abs.get(m.len()) == Some(&b'/')) {
            return m;
        }
    }
    b"/"
}

/// Whether the symlink at `abs` (resolved) is a procfs magic link: anything in a process's
/// directory (fd/N, exe, cwd, root, ...). /proc/self, /proc/thread-self, /proc/mounts and
/// /proc/net are ordinary symlinks.
pub fn is_magic(abs: &[u8]) -> bool {
    abs.strip_prefix(b"/proc/")
        .is_some_and(|rest| rest.split(|&b| b == b'/').filter(|c| !c.is_empty()).count() >= 2)
}

/// Resolves `path` from the directory `base` (absolute and resolved) under the `resolve`
/// flags; `follow_last`: a symlink in last place is followed (a trailing slash follows it
/// anyway).
pub fn walk(
    fs: &impl Lookup,
    base: &[u8],
    path: &[u8],
    resolve: u64,
    follow_last: bool,
) -> Result<Walked, Errno> {
    let has = |f: u64| resolve & f != 0;
    let scoped = has(RESOLVE_BENEATH | RESOLVE_IN_ROOT);
    let base: Vec<Vec<u8>> = comps(base).into_iter().map(|c| c.name).collect();
    let root: Vec<Vec<u8>> = if scoped { base.clone() } else { Vec::new() };
    let mut cur = if path.first() == Some(&b'/') {
        if has(RESOLVE_BENEATH) {
            return Err(Errno::EXDEV);
        }
        root.clone()
    } else {
        base
    };
    let mut queue = comps(path);
    let mut links = 0;
    let mut must_dir = false;
    while let Some(c) = queue.pop_front() {
        let last = queue.is_empty();
        if last {
            must_dir = c.must_dir;
        }
        if c.name == b"." {
            continue;
        }
        if c.name == b".." {
            if cur.len() <= root.len() {
                if has(RESOLVE_BENEATH) {
                    return Err(Errno::EXDEV);
                }
                // IN_ROOT (or "/" itself): ".." stays at the root.
                continue;
            }
            let from = fs.mount_of(&join(&cur));
            cur.pop();
            if has(RESOLVE_NO_XDEV) && fs.mount_of(&join(&cur)) != from {
                return Err(Errno::EXDEV);
            }
            continue;
        }
        let from = fs.mount_of(&join(&cur));
        cur.push(c.name.clone());
        let abs = join(&cur);
        if has(RESOLVE_NO_XDEV) && fs.mount_of(&abs) != from {
            return Err(Errno::EXDEV);
        }
        let st = match fs.lstat(&abs) {
            Ok(st) => st,
            Err(Errno::ENOENT) if last => return Ok(Walked::Path { abs, must_dir }),
            Err(e) => return Err(e),
        };
        match st.mode & libc::S_IFMT {
            libc::S_IFLNK if !last || follow_last || c.must_dir => {
                if has(RESOLVE_NO_SYMLINKS) {
                    return Err(Errno::ELOOP);
                }
                if is_magic(&abs) {
                    if has(RESOLVE_NO_MAGICLINKS) {
                        return Err(Errno::ELOOP);
                    }
                    if scoped || has(RESOLVE_NO_XDEV) {
                        return Err(Errno::EXDEV);
                    }
                    let mut p = abs;
                    for q in &queue {
                        p.push(b'/');
                        p.extend_from_slice(&q.name);
                    }
                    if queue.back().map_or(c.must_dir, |q| q.must_dir) {
                        p.push(b'/');
                    }
                    return Ok(Walked::Magic(p));
                }
                links += 1;
                if links > MAX_SYMLINKS {
                    return Err(Errno::ELOOP);
                }
                let target = fs.readlink(&abs)?;
                cur.pop();
                if target.first() == Some(&b'/') {
                    if has(RESOLVE_BENEATH) {
                        return Err(Errno::EXDEV);
                    }
                    let from = fs.mount_of(&join(&cur));
                    cur = root.clone();
                    if has(RESOLVE_NO_XDEV) && fs.mount_of(&join(&cur)) != from {
                        return Err(Errno::EXDEV);
                    }
                }
                let mut tc = comps(&target);
                if c.must_dir {
                    if let Some(t) = tc.back_mut() {
                        t.must_dir = true;
                    }
                }
                if last && tc.is_empty() {
                    // A link to "/": the root is where the walk ends.
                    must_dir = false;
                }
                for t in tc.into_iter().rev() {
                    queue.push_front(t);
                }
            }
            libc::S_IFLNK => {
                return Ok(Walked::Path {
                    abs,
                    must_dir: false,
                })
            }
            libc::S_IFDIR => {}
            _ if !last || c.must_dir => return Err(Errno::ENOTDIR),
            _ => {}
        }
    }
    Ok(Walked::Path {
        abs: join(&cur),
        must_dir,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A tree of absolute paths: directories, files and symlinks.
    struct Fake(HashMap<Vec<u8>, Option<Vec<u8>>>, Vec<Vec<u8>>);

    impl Fake {
        fn new() -> Fake {
            let mut f = Fake(HashMap::new(), Vec::new());
            for d in ["/", "/r", "/r/a", "/tmp", "/proc", "/proc/1", "/proc/1/fd"] {
                f.1.push(d.as_bytes().to_vec());
            }
            for p in ["/r/file", "/r/a/file", "/outside", "/tmp/t"] {
                f.0.insert(p.as_bytes().to_vec(), None);
            }
            for (p, t) in [
                ("/r/rel", "a/file"),
                ("/r/up", "../outside"),
                ("/r/abs", "/r/file"),
                ("/r/slash", "/file"),
                ("/r/dir", "a"),
                ("/r/loop", "loop"),
                ("/r/totmp", "/tmp/t"),
                ("/proc/self", "1"),
                ("/proc/1/fd/3", "/r/file"),
                ("/proc/1/cwd", "/r"),
            ] {
                f.0.insert(p.as_bytes().to_vec(), Some(t.as_bytes().to_vec()));
            }
            f
        }
    }

    impl Lookup for Fake {
        fn lstat(&self, abs: &[u8]) -> Result<Stat, Errno> {
            let mode = if self.1.iter().any(|d| d == abs) {
                libc::S_IFDIR
            } else {
                match self.0.get(abs) {
                    Some(None) => libc::S_IFREG,
                    Some(Some(_)) => libc::S_IFLNK,
                    None => return Err(Errno::ENOENT),
                }
            };
            Ok(Stat {
                mode,
                ..Stat::default()
            })
        }
        fn readlink(&self, abs: &[u8]) -> Result<Vec<u8>, Errno> {
            self.0.get(abs).cloned().flatten().ok_or(Errno::EINVAL)
        }
    }

    fn w(path: &str, resolve: u64) -> Result<Walked, Errno> {
        walk(&Fake::new(), b"/r", path.as_bytes(), resolve, true)
    }

    fn at(p: &str) -> Result<Walked, Errno> {
        Ok(Walked::Path {
            abs: p.as_bytes().to_vec(),
            must_dir: false,
        })
    }

    #[test]
    fn plain() {
        assert_eq!(w("rel", 0), at("/r/a/file"));
        assert_eq!(w("up", 0), at("/outside"));
        assert_eq!(w("dir/../file", 0), at("/r/file"));
        assert_eq!(w("../../..", 0), at("/"));
        assert_eq!(w("loop", 0), Err(Errno::ELOOP));
        assert_eq!(w("file/x", 0), Err(Errno::ENOTDIR));
        assert_eq!(w("missing/x", 0), Err(Errno::ENOENT));
        assert_eq!(w("new", 0), at("/r/new"));
        assert_eq!(
            w("a/", 0),
            Ok(Walked::Path {
                abs: b"/r/a".to_vec(),
                must_dir: true
            })
        );
        assert_eq!(w("file/", 0), Err(Errno::ENOTDIR));
        assert_eq!(walk(&Fake::new(), b"/r", b"rel", 0, false), at("/r/rel"));
    }

    #[test]
    fn scoped() {
        let b = RESOLVE_BENEATH;
        assert_eq!(w("a/../file", b), at("/r/file"));
        assert_eq!(w("..", b), Err(Errno::EXDEV));
        assert_eq!(w("up", b), Err(Errno::EXDEV));
        assert_eq!(w("abs", b), Err(Errno::EXDEV));
        assert_eq!(w("/r/file", b), Err(Errno::EXDEV));
        assert_eq!(w("rel", b), at("/r/a/file"));
        let i = RESOLVE_IN_ROOT;
        assert_eq!(w("../../file", i), at("/r/file"));
        assert_eq!(w("/file", i), at("/r/file"));
        assert_eq!(w("slash", i), at("/r/file"));
        assert_eq!(w("up", i), at("/r/outside"));
        assert_eq!(w("abs", i), Err(Errno::ENOENT));
        assert_eq!(w("rel", RESOLVE_NO_SYMLINKS), Err(Errno::ELOOP));
        assert_eq!(
            walk(&Fake::new(), b"/r", b"rel", RESOLVE_NO_SYMLINKS, false),
            at("/r/rel")
        );
    }

    #[test]
    fn mounts_and_magic() {
        assert_eq!(w("totmp", RESOLVE_NO_XDEV), Err(Errno::EXDEV));
        assert_eq!(w("/tmp/t", RESOLVE_NO_XDEV), Err(Errno::EXDEV));
        assert_eq!(w("totmp", 0), at("/tmp/t"));
        assert_eq!(
            w("/proc/self/fd/3", 0),
            Ok(Walked::Magic(b"/proc/1/fd/3".to_vec()))
        );
        assert_eq!(
            w("/proc/self/cwd/a/", 0),
            Ok(Walked::Magic(b"/proc/1/cwd/a/".to_vec()))
        );
        assert_eq!(
            w("/proc/self/fd/3", RESOLVE_NO_MAGICLINKS),
            Err(Errno::ELOOP)
        );
        assert_eq!(w("/proc/self/fd/3", RESOLVE_IN_ROOT), Err(Errno::ENOENT));
        assert_eq!(
            walk(&Fake::new(), b"/proc", b"self/fd/3", RESOLVE_BENEATH, true),
            Err(Errno::EXDEV)
        );
        assert_eq!(mount_of(b"/dev/shm/x"), b"/dev/shm");
        assert_eq!(mount_of(b"/tmpx"), b"/");
        assert!(!is_magic(b"/proc/self"));
        assert!(is_magic(b"/proc/1/exe"));
    }
}
