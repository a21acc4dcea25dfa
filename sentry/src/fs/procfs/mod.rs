//! procfs: the sandbox's own view of its processes and of the system. Nothing here comes
//! from the host's /proc, which stays hidden.
//!
//! A lookup turns a path under /proc into a [`Node`]: a directory listing, a file's bytes
//! (generated when it is opened, as a snapshot), a symlink, or a descriptor of the process
//! (`fd/N`, which opens the very file the descriptor holds, as Linux's magic links do).

mod pid;
mod sysctl;
mod system;

/// Reads what procfs needs from the host, before the Sentry is confined.
pub fn warm() {
    let _ = system::cpuinfo();
}

use std::sync::{Arc, Mutex};

use crate::errno::Errno;
use crate::fs::file::{put_dirent, FileOps, OpenFile, Stat};
use crate::fs::perm::{self, Attr, Creds};
use crate::fs::tmpfs::Resolution;
use crate::fs::vfs::{PseudoFs, PseudoPath};
use crate::fs::FdTable;
use crate::kernel::{Task, ThreadGroup};
use crate::mm::MemoryManager;

/// Device number procfs reports.
const PROC_DEV: u64 = 0x16;

/// What a /proc path names.
pub enum Node {
    /// A directory and its entries (name, DT_* type).
    Dir(Vec<(Vec<u8>, u8)>),
    /// A directory whose entries are listed when it is read (fd/: the descriptor that
    /// reads it is among them).
    LiveDir(Lister),
    /// A file's contents.
    File(Vec<u8>),
    /// A file's contents, and what a write to it does (a tunable: oom_score_adj).
    Tunable(Vec<u8>, Setter),
    /// A symlink (its text: absolute, or relative to its directory).
    Link(Vec<u8>),
    /// A descriptor of a process (`fd/N`): what readlink shows and the open file.
    Fd(Vec<u8>, Arc<OpenFile>),
}

/// Lists a directory's entries.
pub type Lister = Box<dyn Fn() -> Vec<(Vec<u8>, u8)> + Send + Sync>;

/// Takes what is written to a tunable file (by whom: `Task` of the writer is not needed,
/// the node was made for the opener).
pub type Setter = Arc<dyn Fn(&[u8]) -> Result<(), Errno> + Send + Sync>;

/// A node with its attributes.
pub struct Found {
    pub node: Node,
    pub ino: u64,
    /// Permission bits (the type comes from the node).
    pub perm: u32,
    pub uid: u32,
    pub gid: u32,
    /// Opening it for writing fails with EACCES (a sysctl the opener may not write).
    pub deny_write: bool,
}

impl Found {
    pub(crate) fn new(node: Node, ino: u64, perm: u32) -> Found {
        Found {
            node,
            ino,
            perm,
            uid: 0,
            gid: 0,
            deny_write: false,
        }
    }

    /// stat(2) of the node itself (not what a link points at).
    pub fn stat(&self) -> Stat {
        let (kind, nlink, size) = match &self.node {
            Node::Dir(e) => (libc::S_IFDIR, 2 + e.len() as u64, 0),
            Node::LiveDir(_) => (libc::S_IFDIR, 2, 0),
            Node::File(_) | Node::Tunable(..) => (libc::S_IFREG, 1, 0),
            Node::Link(t) | Node::Fd(t, _) => (libc::S_IFLNK, 1, t.len() as i64),
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let ts = (now.as_secs() as i64, now.subsec_nanos() as i64);
        Stat {
            dev: PROC_DEV,
            ino: self.ino,
            mode: kind | self.perm,
            nlink,
            uid: self.uid,
            gid: self.gid,
            rdev: 0,
            size,
            blksize: 1024,
            blocks: 0,
            atime: ts,
            mtime: ts,
            ctime: ts,
        }
    }
}

/// What procfs needs to know of a process.
pub struct ProcessView {
    pub tg: Arc<ThreadGroup>,
    pub mm: Option<Arc<Mutex<MemoryManager>>>,
    pub fds: Option<Arc<Mutex<FdTable>>>,
    pub cwd: Vec<u8>,
    pub exe: Vec<u8>,
    pub comm: [u8; 16],
    pub umask: u32,
    pub creds: crate::kernel::creds::Credentials,
    /// The signal mask of the thread shown (the caller's own, or 0).
    pub sigmask: u64,
    pub pending: u64,
}

/// The process `pid` as `t` may see it: `t`'s own from its live state, another from what
/// its leader published.
fn view(t: &Task, pid: i32) -> Option<ProcessView> {
    if pid == t.tg.tgid {
        return Some(ProcessView {
            tg: t.tg.clone(),
            mm: Some(t.mm.clone()),
            fds: Some(t.fds.clone()),
            cwd: t.cwd(),
            exe: t.exe.clone(),
            comm: t.comm,
            umask: t.umask,
            creds: t.creds.clone(),
            sigmask: t.sig.mask.load(std::sync::atomic::Ordering::Relaxed),
            pending: t.sig.pending.load(std::sync::atomic::Ordering::Relaxed),
        });
    }
    let tg = t.kernel.group(pid)?;
    let st = tg.lock();
    let v = st.view.clone();
    let creds = st.creds.clone();
    drop(st);
    let v = v?;
    let cwd = v.cwd.lock().unwrap_or_else(|e| e.into_inner()).clone();
    Some(ProcessView {
        mm: v.mm.upgrade(),
        fds: v.fds.upgrade(),
        cwd,
        exe: v.exe,
        comm: v.comm,
        umask: v.umask,
        creds,
        sigmask: 0,
        pending: 0,
        tg,
    })
}

/// Inode number of a path's node: stable for a path, distinct across paths (FNV-1a).
fn ino_of(comps: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for c in comps {
        for &b in c.iter().chain(b"/") {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h | 1
}

/// DT_* of a directory entry.
pub(crate) const DT_DIR: u8 = 4;
pub(crate) const DT_REG: u8 = 8;
pub(crate) const DT_LNK: u8 = 10;

/// The node at `comps` (components under /proc).
fn node_at(t: &Task, comps: &[&[u8]]) -> Result<Found, Errno> {
    let ino = ino_of(comps);
    match comps {
        [] => {
            let mut e: Vec<(Vec<u8>, u8)> = vec![
                (b"self".to_vec(), DT_LNK),
                (b"thread-self".to_vec(), DT_LNK),
            ];
            e.extend(system::TOP.iter().map(|(n, d)| (n.to_vec(), *d)));
            let mut pids: Vec<i32> = t
                .kernel
                .groups()
                .iter()
                .filter(|g| g.lock().exit_status.is_none())
                .map(|g| g.tgid)
                .collect();
            pids.sort_unstable();
            e.extend(pids.iter().map(|p| (p.to_string().into_bytes(), DT_DIR)));
            Ok(Found::new(Node::Dir(e), ino, 0o555))
        }
        [b"self", ..] if comps.len() == 1 => Ok(Found::new(
            Node::Link(t.tg.tgid.to_string().into_bytes()),
            ino,
            0o777,
        )),
        [b"thread-self"] => Ok(Found::new(
            Node::Link(format!("{}/task/{}", t.tg.tgid, t.tid).into_bytes()),
            ino,
            0o777,
        )),
        [p, rest @ ..] if p.iter().all(u8::is_ascii_digit) => {
            let pid: i32 = std::str::from_utf8(p)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or(Errno::ENOENT)?;
            let v = view(t, pid).ok_or(Errno::ENOENT)?;
            if v.tg.lock().exit_status.is_some() && !rest.is_empty() {
                return Err(Errno::ENOENT);
            }
            let mut f = pid::node(t, &v, pid, rest)?;
            f.ino = ino;
            f.uid = v.creds.euid;
            f.gid = v.creds.egid;
            Ok(f)
        }
        _ => {
            let mut f = system::node(t, comps)?;
            f.ino = ino;
            Ok(f)
        }
    }
}

/// Finds the node at some components under a mount point.
type NodeAt = fn(&Task, &[&[u8]]) -> Result<Found, Errno>;

/// Resolves `p`, a path under /proc or /sys (no leading slash), for `t`. A symlink on the way (or
/// at the end, with `follow`) escapes to its absolute target with the rest of the path.
pub fn lookup(t: &Task, p: &PseudoPath, follow: bool) -> Result<Resolution<Found>, Errno> {
    let (node_at, base): (NodeAt, &[u8]) = match p.fs {
        PseudoFs::Proc => (node_at, &p.point[..]),
        PseudoFs::Sys => (crate::fs::sysfs::node_at, &p.point[..]),
        PseudoFs::Cgroup => (crate::fs::sysfs::cgroup_node_at, &p.point[..]),
        PseudoFs::Mqueue => (crate::fs::mqueue::node_at, &p.point[..]),
    };
    let rel: &[u8] = p;
    let mut comps: Vec<&[u8]> = Vec::new();
    let parts: Vec<&[u8]> = rel
        .split(|&b| b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
        .collect();
    let trailing_slash = rel.ends_with(b"/");
    let creds = Creds::of(&t.creds, 0);
    for (i, c) in parts.iter().enumerate() {
        if *c == b".." {
            if comps.pop().is_none() {
                // Above the mount point: the rest is resolved from its parent.
                let rest = parts[i + 1..].join(&b'/');
                return Ok(Resolution::Escape {
                    target: b"..".to_vec(),
                    rest,
                });
            }
            continue;
        }
        comps.push(c);
        let last = i + 1 == parts.len();
        let f = node_at(t, &comps)?;
        match f.node {
            Node::Link(text) if !last || follow || trailing_slash => {
                let target = if text.first() == Some(&b'/') {
                    text
                } else {
                    let dir = &comps[..comps.len() - 1];
                    let mut t = base.to_vec();
                    for c in dir {
                        t.push(b'/');
                        t.extend_from_slice(c);
                    }
                    [&t[..], b"/", &text].concat()
                };
                return Ok(Resolution::Escape {
                    target,
                    rest: parts[i + 1..].join(&b'/'),
                });
            }
            Node::Fd(..) if !last => return Err(Errno::ENOTDIR),
            Node::File(_) | Node::Tunable(..) if !last => return Err(Errno::ENOTDIR),
            _ if last => return Ok(Resolution::Done(f)),
            // A directory to look the next name up in (/proc/PID/fd is its owner's alone).
            _ if !creds.searches_all() => {
                let dir = Attr {
                    mode: libc::S_IFDIR | f.perm,
                    uid: f.uid,
                    gid: f.gid,
                };
                perm::may_search(&creds, &dir)?;
            }
            _ => {}
        }
    }
    node_at(t, &comps).map(Resolution::Done)
}

/// An open procfs file: a snapshot of its contents.
pub struct ProcFile {
    data: Vec<u8>,
    stat: Stat,
    /// What a write does; None: the file takes writes as written (if writable) and keeps
    /// nothing.
    set: Option<Setter>,
}

impl FileOps for ProcFile {
    fn read(&self, buf: &mut [u8], off: Option<u64>) -> Result<usize, Errno> {
        let off = off.unwrap_or(0).min(self.data.len() as u64) as usize;
        let n = buf.len().min(self.data.len() - off);
        buf[..n].copy_from_slice(&self.data[off..off + n]);
        Ok(n)
    }
    fn write(&self, data: &[u8], _off: Option<u64>) -> Result<usize, Errno> {
        match &self.set {
            Some(set) => set(data).map(|()| data.len()),
            None if self.stat.mode & 0o200 != 0 => Ok(data.len()),
            None => Err(Errno::EINVAL),
        }
    }
    fn seekable(&self) -> bool {
        true
    }
    fn size(&self) -> Result<u64, Errno> {
        Ok(self.data.len() as u64)
    }
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.stat)
    }
}

/// An open procfs directory.
pub struct ProcDir {
    entries: Mutex<Vec<(Vec<u8>, u8)>>,
    /// Relists the entries each time reading starts over.
    live: Option<Lister>,
    stat: Stat,
}

impl ProcDir {
    /// A directory listing `entries` (name, DT_* type), with `stat` (also used by the
    /// overlay root for merged directories).
    pub fn new(entries: Vec<(Vec<u8>, u8)>, stat: Stat) -> ProcDir {
        ProcDir {
            entries: Mutex::new(entries),
            live: None,
            stat,
        }
    }
}

impl FileOps for ProcDir {
    fn read(&self, _buf: &mut [u8], _off: Option<u64>) -> Result<usize, Errno> {
        Err(Errno::EISDIR)
    }
    fn seekable(&self) -> bool {
        true
    }
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.stat)
    }
    fn getdents(&self, buf: &mut [u8], pos: u64) -> Result<(usize, u64), Errno> {
        if let (Some(list), 0) = (&self.live, pos) {
            *self.entries.lock().unwrap_or_else(|e| e.into_inner()) = list();
        }
        let entries = self
            .entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let mut used = 0;
        let mut pos = pos;
        let dots: [(&[u8], u8); 2] = [(b".", DT_DIR), (b"..", DT_DIR)];
        let all = dots.iter().map(|(n, d)| (n.to_vec(), *d)).chain(entries);
        for (i, (name, dt)) in all.enumerate().skip(pos as usize) {
            let ino = ino_of(&[&self.stat.ino.to_le_bytes(), &name]);
            if !put_dirent(buf, &mut used, ino, i as u64 + 1, dt, &name) {
                if used == 0 {
                    return Err(Errno::EINVAL);
                }
                break;
            }
            pos = i as u64 + 1;
        }
        Ok((used, pos))
    }
}

/// Opens what `f` names (after links were followed): the snapshot of a file, a directory,
/// or the very file a descriptor holds.
pub fn open(f: Found, flags: u32) -> Result<Arc<dyn FileOps>, Errno> {
    let acc = flags & libc::O_ACCMODE as u32;
    let stat = f.stat();
    if f.deny_write && acc != libc::O_RDONLY as u32 {
        return Err(Errno::EACCES);
    }
    match f.node {
        Node::Fd(_, file) => Ok(file.ops.clone()),
        Node::Link(_) => Err(Errno::ELOOP),
        Node::Dir(entries) => {
            if acc != libc::O_RDONLY as u32 {
                return Err(Errno::EISDIR);
            }
            Ok(Arc::new(ProcDir {
                entries: Mutex::new(entries),
                live: None,
                stat,
            }))
        }
        Node::LiveDir(list) => {
            if acc != libc::O_RDONLY as u32 {
                return Err(Errno::EISDIR);
            }
            Ok(Arc::new(ProcDir {
                entries: Mutex::default(),
                live: Some(list),
                stat,
            }))
        }
        Node::File(data) => {
            if flags & libc::O_DIRECTORY as u32 != 0 {
                return Err(Errno::ENOTDIR);
            }
            Ok(Arc::new(ProcFile {
                data,
                stat,
                set: None,
            }))
        }
        Node::Tunable(data, set) => {
            if flags & libc::O_DIRECTORY as u32 != 0 {
                return Err(Errno::ENOTDIR);
            }
            Ok(Arc::new(ProcFile {
                data,
                stat,
                set: Some(set),
            }))
        }
    }
}

/// stat(2) of a resolved node: a descriptor link followed gives the file's own stat.
pub fn stat(f: &Found) -> Result<Stat, Errno> {
    match &f.node {
        Node::Fd(_, file) => file.ops.stat(),
        _ => Ok(f.stat()),
    }
}

/// readlink(2) of a resolved node.
pub fn readlink(f: &Found) -> Result<Vec<u8>, Errno> {
    match &f.node {
        Node::Link(t) | Node::Fd(t, _) => Ok(t.clone()),
        _ => Err(Errno::EINVAL),
    }
}
