//! Pseudo-terminals inside the Sentry, as Linux's devpts: /dev/ptmx opens a new master,
//! /dev/pts/N its slave (once unlocked), /dev/pts lists the live slaves, /dev/tty is the
//! caller's controlling terminal. Nothing of the host's terminals is reachable; /dev/console
//! is the sandbox's stdout for now.

pub mod console;
mod ctl;
mod ioctl;
mod ldisc;
mod pty;
pub mod termios;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, Weak};

use crate::errno::Errno;
use crate::fs::file::{put_dirent, FileOps, Stat};
use crate::kernel::{Kernel, Task};
pub use ctl::process_exit;
pub use pty::Pty;
use pty::{MasterFile, SlaveFile, DEVPTS_DEV};

/// Most pairs at once (Linux's kernel.pty.max).
const PTY_MAX: u32 = 4096;
/// Group of the slaves (tty), as devpts mounted with gid=5.
const TTY_GID: u32 = 5;

/// The sandbox's devpts: its pairs by number.
#[derive(Default)]
pub struct DevPts {
    ptys: Mutex<BTreeMap<u32, Weak<Pty>>>,
}

impl DevPts {
    /// A new pair with the lowest free number.
    fn alloc(&self, kernel: &Arc<Kernel>, uid: u32) -> Result<Arc<Pty>, Errno> {
        let mut m = self.ptys.lock().unwrap_or_else(|e| e.into_inner());
        m.retain(|_, w| w.strong_count() > 0);
        let index = (0..PTY_MAX)
            .find(|i| !m.contains_key(i))
            .ok_or(Errno::ENOSPC)?;
        let pty = Pty::new(index, Arc::downgrade(kernel), uid, TTY_GID);
        m.insert(index, Arc::downgrade(&pty));
        Ok(pty)
    }

    /// The pair whose slave /dev/pts/`index` names (its master is open).
    fn get(&self, index: u32) -> Option<Arc<Pty>> {
        let m = self.ptys.lock().unwrap_or_else(|e| e.into_inner());
        m.get(&index)
            .and_then(Weak::upgrade)
            .filter(|p| p.lock().master_open)
    }

    /// Pairs listed in /dev/pts, by number.
    fn live(&self) -> Vec<Arc<Pty>> {
        let m = self.ptys.lock().unwrap_or_else(|e| e.into_inner());
        m.values()
            .filter_map(Weak::upgrade)
            .filter(|p| p.lock().master_open)
            .collect()
    }
}

/// A name of ours under /dev.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Node {
    /// /dev/ptmx, or /dev/pts/ptmx (`in_pts`).
    Ptmx {
        in_pts: bool,
    },
    PtsDir,
    Pts(u32),
    /// A name in /dev/pts that does not exist.
    Missing,
    Tty,
    Console,
}

/// The node `path` (absolute) names, and whether it had a trailing slash.
fn node(path: &[u8]) -> Option<(Node, bool)> {
    let p = crate::fs::vfs::normalize(b"/", path);
    let slash = p.len() > 1 && p.ends_with(b"/");
    let p = if slash { &p[..p.len() - 1] } else { &p[..] };
    let n = match p {
        b"/dev/ptmx" => Node::Ptmx { in_pts: false },
        b"/dev/tty" => Node::Tty,
        b"/dev/console" => Node::Console,
        b"/dev/pts" => Node::PtsDir,
        b"/dev/pts/ptmx" => Node::Ptmx { in_pts: true },
        _ => {
            let name = p.strip_prefix(b"/dev/pts/")?;
            let canonical = !name.is_empty()
                && name.iter().all(u8::is_ascii_digit)
                && (name == b"0" || name[0] != b'0');
            match std::str::from_utf8(name).ok().and_then(|s| s.parse().ok()) {
                Some(n) if canonical => Node::Pts(n),
                _ => Node::Missing,
            }
        }
    };
    Some((n, slash))
}

fn dir_stat() -> Stat {
    Stat {
        dev: DEVPTS_DEV,
        ino: 1,
        mode: libc::S_IFDIR | 0o755,
        nlink: 2,
        blksize: 1024,
        ..Stat::default()
    }
}

fn node_stat(t: &Task, n: Node) -> Result<Stat, Errno> {
    Ok(match n {
        Node::Ptmx { in_pts: false } => pty::ptmx_stat(),
        Node::Ptmx { in_pts: true } => Stat {
            dev: DEVPTS_DEV,
            ino: 2,
            mode: libc::S_IFCHR | 0o666,
            ..pty::ptmx_stat()
        },
        Node::PtsDir => dir_stat(),
        Node::Pts(i) => t.kernel.devpts.get(i).ok_or(Errno::ENOENT)?.slave_stat(),
        Node::Missing => return Err(Errno::ENOENT),
        Node::Tty => pty::tty_stat(),
        Node::Console => Stat {
            dev: 5,
            ino: 201,
            mode: libc::S_IFCHR | 0o600,
            nlink: 1,
            rdev: libc::makedev(5, 1),
            blksize: 4096,
            ..Stat::default()
        },
    })
}

/// stat(2) of `path` if it is one of ours.
pub fn stat(t: &Task, path: &[u8]) -> Option<Result<Stat, Errno>> {
    let (n, slash) = node(path)?;
    Some(node_stat(t, n).and_then(|st| {
        if slash && st.mode & libc::S_IFMT != libc::S_IFDIR {
            Err(Errno::ENOTDIR)
        } else {
            Ok(st)
        }
    }))
}

/// Discretionary access to a node with `st` for the caller (`fs::perm::permission`).
fn may_open(t: &Task, st: &Stat, flags: u32) -> bool {
    use crate::fs::perm;
    let acc = flags & libc::O_ACCMODE as u32;
    let mut want = 0;
    if acc != libc::O_WRONLY as u32 {
        want |= perm::MAY_READ;
    }
    if acc != libc::O_RDONLY as u32 {
        want |= perm::MAY_WRITE;
    }
    perm::permission(&perm::Creds::of(&t.creds, 0), &st.into(), want).is_ok()
}

/// A slave description of `pty` for the caller; a session leader without a controlling
/// terminal that opens it without O_NOCTTY (and readable) acquires it.
fn open_slave(
    t: &Task,
    pty: &Arc<Pty>,
    flags: u32,
    dev_tty: bool,
) -> Result<Arc<SlaveFile>, Errno> {
    let nonblock = flags & libc::O_NONBLOCK as u32 != 0;
    let admin = t.creds.has_cap(crate::kernel::creds::CAP_SYS_ADMIN);
    let f = pty.open_slave(nonblock, dev_tty, admin)?;
    let readable = flags & libc::O_ACCMODE as u32 != libc::O_WRONLY as u32;
    if flags & libc::O_NOCTTY as u32 == 0 && readable && !dev_tty {
        ctl::maybe_acquire(&t.tg, pty);
    }
    Ok(f)
}

/// open(2) of `path` if it is one of ours: the file, or the error.
pub fn open(t: &Task, path: &[u8], flags: u32) -> Option<Result<Arc<dyn FileOps>, Errno>> {
    let (n, slash) = node(path)?;
    Some(open_node(t, n, slash, flags))
}

fn open_node(t: &Task, n: Node, slash: bool, flags: u32) -> Result<Arc<dyn FileOps>, Errno> {
    let st = node_stat(t, n).map_err(|e| {
        if e == Errno::ENOENT && flags & libc::O_CREAT as u32 != 0 {
            Errno::EACCES
        } else {
            e
        }
    })?;
    let is_dir = n == Node::PtsDir;
    if flags & (libc::O_CREAT | libc::O_EXCL) as u32 == (libc::O_CREAT | libc::O_EXCL) as u32 {
        return Err(Errno::EEXIST);
    }
    if (slash || flags & libc::O_DIRECTORY as u32 != 0) && !is_dir {
        return Err(Errno::ENOTDIR);
    }
    let acc = flags & libc::O_ACCMODE as u32;
    if is_dir && (acc != libc::O_RDONLY as u32 || flags & libc::O_CREAT as u32 != 0) {
        return Err(Errno::EISDIR);
    }
    if flags & libc::O_PATH as u32 != 0 {
        return Ok(Arc::new(PathOnly(st)));
    }
    if !may_open(t, &st, flags) {
        return Err(Errno::EACCES);
    }
    let nonblock = flags & libc::O_NONBLOCK as u32 != 0;
    Ok(match n {
        Node::Ptmx { .. } => {
            let pty = t.kernel.devpts.alloc(&t.kernel, t.creds.fsuid)?;
            MasterFile::new(pty, nonblock)
        }
        Node::Pts(i) => {
            let pty = t.kernel.devpts.get(i).ok_or(Errno::ENOENT)?;
            open_slave(t, &pty, flags, false)?
        }
        Node::Tty => {
            let ctty = t.tg.lock().ctty.clone().ok_or(Errno::ENXIO)?;
            open_slave(t, &ctty, flags, true)?
        }
        Node::Console => t.fds().get(1).map_err(|_| Errno::ENXIO)?.ops.clone(),
        Node::PtsDir => Arc::new(PtsDir {
            kernel: Arc::downgrade(&t.kernel),
        }),
        Node::Missing => return Err(Errno::ENOENT),
    })
}

/// An O_PATH description of one of our nodes.
struct PathOnly(Stat);

impl FileOps for PathOnly {
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.0)
    }
}

/// /dev/pts opened as a directory.
struct PtsDir {
    kernel: Weak<Kernel>,
}

impl FileOps for PtsDir {
    fn read(&self, _buf: &mut [u8], _off: Option<u64>) -> Result<usize, Errno> {
        Err(Errno::EISDIR)
    }
    fn seekable(&self) -> bool {
        true
    }
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(dir_stat())
    }
    /// ".", "..", "ptmx", then the live slaves by number; cursor 3 + N resumes at slave N.
    fn getdents(&self, buf: &mut [u8], pos: u64) -> Result<(usize, u64), Errno> {
        const DT_DIR: u8 = 4;
        const DT_CHR: u8 = 2;
        let mut entries: Vec<(u64, u64, u8, Vec<u8>)> = vec![
            (0, 1, DT_DIR, b".".to_vec()),
            (1, 1, DT_DIR, b"..".to_vec()),
            (2, 2, DT_CHR, b"ptmx".to_vec()),
        ];
        if let Some(k) = self.kernel.upgrade() {
            for p in k.devpts.live() {
                let i = u64::from(p.index);
                entries.push((3 + i, i + 3, DT_CHR, i.to_string().into_bytes()));
            }
        }
        let mut used = 0;
        let mut next = pos;
        for (at, ino, dtype, name) in entries.into_iter().filter(|e| e.0 >= pos) {
            if !put_dirent(buf, &mut used, ino, at + 1, dtype, &name) {
                if used == 0 {
                    return Err(Errno::EINVAL);
                }
                break;
            }
            next = at + 1;
        }
        Ok((used, next))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes() {
        assert_eq!(
            node(b"/dev/ptmx"),
            Some((Node::Ptmx { in_pts: false }, false))
        );
        assert_eq!(node(b"/dev/pts/"), Some((Node::PtsDir, true)));
        assert_eq!(node(b"/dev/pts/12"), Some((Node::Pts(12), false)));
        assert_eq!(node(b"/dev/pts/../pts/0"), Some((Node::Pts(0), false)));
        assert_eq!(node(b"/dev/pts/012"), Some((Node::Missing, false)));
        assert_eq!(node(b"/dev/pts/99999999999"), Some((Node::Missing, false)));
        assert_eq!(node(b"/dev/pts/x"), Some((Node::Missing, false)));
        assert_eq!(node(b"/dev/tty/"), Some((Node::Tty, true)));
        assert_eq!(node(b"/dev/tty0"), None);
        assert_eq!(node(b"/dev/null"), None);
    }
}
