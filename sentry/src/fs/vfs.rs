//! The mount table and which filesystem a path belongs to.
//!
//! A mount namespace ([`MountNs`]) is a list of mounts, in the order they were made. A path,
//! made absolute and normalized, belongs to the last-made mount whose mount point is the
//! longest prefix of it (on a component boundary): mounts stacked on one point hide the
//! earlier ones, and a mount inside another wins over it. Placement is lexical: the mount
//! point is found with `.` and `..` removed, and what is left is handed to that
//! filesystem, which resolves it physically; a symlink that leads out of a filesystem comes
//! back as an escape and is placed again from the top.
//!
//! A mount is a filesystem and the directory of it that shows at the mount point (its
//! root: the whole filesystem, or a subtree for a bind mount), with per-mount flags
//! (MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC).

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, RwLock};

use crate::errno::Errno;
use crate::fs::tmpfs::{Resolution, Tmpfs};

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

/// `a` joined with the relative path `b` ("" leaves `a`).
fn join(a: &[u8], b: &[u8]) -> Vec<u8> {
    if b.is_empty() {
        return a.to_vec();
    }
    if a.is_empty() || a.ends_with(b"/") {
        return [a, b].concat();
    }
    [a, b"/", b].concat()
}

/// The Sentry's synthetic filesystems.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PseudoFs {
    /// procfs.
    Proc,
    /// sysfs.
    Sys,
    /// The sandbox's cgroup v2 view (sysfs's `fs/cgroup`, mounted as `cgroup2`).
    Cgroup,
    /// The POSIX message queues (`fs::mqueue`).
    Mqueue,
}

/// A path inside one of the tmpfs mounts; reads as the path relative to the filesystem's
/// root.
#[derive(Clone)]
pub struct TmpPath {
    /// The filesystem.
    pub fs: Arc<Tmpfs>,
    /// Where the mount is (absolute, normalized).
    pub point: Vec<u8>,
    /// The directory of the filesystem shown at `point` ("" for its root).
    pub root: Vec<u8>,
    /// The path relative to the filesystem's root.
    pub rel: Vec<u8>,
}

impl TmpPath {
    /// The path as the application names it (through the mount point).
    pub fn abs(&self) -> Vec<u8> {
        let rest = self.rel.strip_prefix(&self.root[..]).unwrap_or(&self.rel);
        let rest = rest.strip_prefix(b"/").unwrap_or(rest);
        join(&self.point, rest)
    }

    /// Whether both are in the same mount.
    pub fn same_mount(&self, o: &TmpPath) -> bool {
        Arc::ptr_eq(&self.fs, &o.fs) && self.point == o.point
    }
}

impl std::fmt::Debug for TmpPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "TmpPath(dev {:#x}, {:?})",
            self.fs.dev(),
            String::from_utf8_lossy(&self.rel)
        )
    }
}

impl PartialEq for TmpPath {
    fn eq(&self, o: &TmpPath) -> bool {
        self.same_mount(o) && self.rel == o.rel
    }
}

impl std::ops::Deref for TmpPath {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.rel
    }
}

/// A path inside procfs or sysfs; reads as the path relative to its root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PseudoPath {
    pub fs: PseudoFs,
    /// Where the mount is (absolute, normalized).
    pub point: Vec<u8>,
    pub rel: Vec<u8>,
}

impl std::ops::Deref for PseudoPath {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.rel
    }
}

/// Where an absolute path lives.
#[derive(Debug, PartialEq)]
pub enum Place {
    /// In a tmpfs, at this path relative to its root ("" for the root itself).
    Tmp(TmpPath),
    /// On the root filesystem (overlay or host), at this absolute path of it.
    Host(Vec<u8>),
    /// In procfs or sysfs, at this path relative to its root ("" for the root).
    Proc(PseudoPath),
}

/// What a mount shows.
#[derive(Clone)]
pub enum MountFs {
    /// The container's root filesystem (the overlay over the gofer, or the gofer).
    Root,
    /// An in-memory filesystem.
    Tmpfs(Arc<Tmpfs>),
    /// procfs or sysfs.
    Pseudo(PseudoFs),
    /// The Sentry's /dev (devices over the root's /dev directory).
    Dev,
    /// The pseudo-terminals.
    Devpts,
}

impl MountFs {
    /// The name /proc/mounts gives the filesystem type.
    pub fn type_name(&self) -> &'static str {
        match self {
            MountFs::Root => "overlay",
            MountFs::Tmpfs(_) | MountFs::Dev => "tmpfs",
            MountFs::Pseudo(PseudoFs::Proc) => "proc",
            MountFs::Pseudo(PseudoFs::Sys) => "sysfs",
            MountFs::Pseudo(PseudoFs::Cgroup) => "cgroup2",
            MountFs::Pseudo(PseudoFs::Mqueue) => "mqueue",
            MountFs::Devpts => "devpts",
        }
    }

    /// Whether two mounts show the same filesystem.
    pub fn same(&self, o: &MountFs) -> bool {
        match (self, o) {
            (MountFs::Tmpfs(a), MountFs::Tmpfs(b)) => Arc::ptr_eq(a, b),
            (MountFs::Pseudo(a), MountFs::Pseudo(b)) => a == b,
            (MountFs::Root, MountFs::Root)
            | (MountFs::Dev, MountFs::Dev)
            | (MountFs::Devpts, MountFs::Devpts) => true,
            _ => false,
        }
    }

    /// The device number stat and /proc/PID/mountinfo give (major 0).
    pub fn minor(&self) -> u64 {
        match self {
            MountFs::Root => 0x2c,
            MountFs::Tmpfs(fs) => fs.dev(),
            MountFs::Pseudo(PseudoFs::Proc) => 0x16,
            MountFs::Pseudo(PseudoFs::Sys) => 0x15,
            MountFs::Pseudo(PseudoFs::Cgroup) => 0x1a,
            MountFs::Pseudo(PseudoFs::Mqueue) => 0x13,
            MountFs::Dev => 0x2,
            MountFs::Devpts => 0x18,
        }
    }
}

/// One mount.
#[derive(Clone)]
pub struct Mount {
    /// Its id (/proc/PID/mountinfo).
    pub id: u32,
    /// The id of the mount it is on (itself for the root).
    pub parent: u32,
    /// Where it is (absolute, normalized, no trailing slash but for "/").
    pub point: Vec<u8>,
    /// The filesystem.
    pub fs: MountFs,
    /// The directory of the filesystem shown at `point`: relative to the filesystem's root
    /// ("" for all of it), absolute for the root filesystem ("/" for all of it).
    pub root: Vec<u8>,
    /// MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_NOATIME, MS_NODIRATIME, MS_RELATIME.
    pub flags: u64,
    /// The source /proc/mounts shows.
    pub source: Vec<u8>,
    /// Filesystem options /proc/mounts shows after rw/ro (e.g. "size=1024k,mode=755").
    pub options: String,
    /// What mountinfo shows as the mount's root when not `root` (a host bind mount: the
    /// source's path in its own filesystem, as the host shows it).
    pub shown_root: Option<Vec<u8>>,
}

/// The per-mount flags a mount keeps.
pub const MOUNT_FLAGS: u64 = libc::MS_RDONLY
    | libc::MS_NOSUID
    | libc::MS_NODEV
    | libc::MS_NOEXEC
    | libc::MS_NOATIME
    | libc::MS_NODIRATIME
    | libc::MS_RELATIME;

static NEXT_MOUNT_ID: AtomicU32 = AtomicU32::new(1);

/// A fresh mount id.
pub fn new_mount_id() -> u32 {
    NEXT_MOUNT_ID.fetch_add(1, Ordering::Relaxed)
}

impl Mount {
    /// A mount of `fs` (all of it) at `point`.
    pub fn new(point: &[u8], fs: MountFs, flags: u64, source: &[u8], options: &str) -> Mount {
        let root = match fs {
            MountFs::Root => b"/".to_vec(),
            _ => Vec::new(),
        };
        Mount {
            id: new_mount_id(),
            parent: 0,
            point: point.to_vec(),
            fs,
            root,
            flags,
            source: source.to_vec(),
            options: options.to_string(),
            shown_root: None,
        }
    }

    /// Whether `abs` (normalized) is at or under the mount point; the rest if so.
    fn rest_of<'a>(&self, abs: &'a [u8]) -> Option<&'a [u8]> {
        if self.point == b"/" {
            return Some(abs.strip_prefix(b"/").unwrap_or(abs));
        }
        let rest = abs.strip_prefix(&self.point[..])?;
        if rest.is_empty() {
            return Some(rest);
        }
        rest.strip_prefix(b"/")
    }

    /// The place of `rest`, a path relative to the mount point.
    fn place_of(&self, rest: &[u8]) -> Place {
        match &self.fs {
            MountFs::Root => Place::Host(normalize_keep(&join(&self.root, rest))),
            MountFs::Dev | MountFs::Devpts => Place::Host(join(&self.point, rest)),
            MountFs::Tmpfs(fs) => Place::Tmp(TmpPath {
                fs: fs.clone(),
                point: self.point.clone(),
                root: self.root.clone(),
                rel: join(&self.root, rest),
            }),
            MountFs::Pseudo(p) => Place::Proc(PseudoPath {
                fs: *p,
                point: self.point.clone(),
                rel: join(&self.root, rest),
            }),
        }
    }
}

/// An absolute path with a leading slash (for the root filesystem).
fn normalize_keep(p: &[u8]) -> Vec<u8> {
    if p.first() == Some(&b'/') {
        p.to_vec()
    } else {
        [b"/", p].concat()
    }
}

/// A mount namespace.
pub struct MountNs {
    table: RwLock<Arc<Vec<Mount>>>,
}

impl MountNs {
    /// A namespace with these mounts (the first one is the root).
    pub fn new(mut mounts: Vec<Mount>) -> Arc<MountNs> {
        link_parents(&mut mounts);
        Arc::new(MountNs {
            table: RwLock::new(Arc::new(mounts)),
        })
    }

    /// The mounts as they are now.
    pub fn snapshot(&self) -> Mounts {
        Mounts(self.table.read().unwrap_or_else(|e| e.into_inner()).clone())
    }

    /// A new namespace with a copy of the mounts (unshare(CLONE_NEWNS)); the copies get new
    /// ids and show the same filesystems.
    pub fn copy(&self) -> Arc<MountNs> {
        let mut m: Vec<Mount> = (*self.snapshot().0).clone();
        for x in &mut m {
            x.id = new_mount_id();
        }
        MountNs::new(m)
    }

    /// Changes the table under the lock; parents are linked again afterwards.
    pub fn update<T>(
        &self,
        f: impl FnOnce(&mut Vec<Mount>) -> Result<T, Errno>,
    ) -> Result<T, Errno> {
        let mut g = self.table.write().unwrap_or_else(|e| e.into_inner());
        let mut m: Vec<Mount> = (**g).clone();
        let r = f(&mut m)?;
        link_parents(&mut m);
        *g = Arc::new(m);
        Ok(r)
    }
}

/// Sets each mount's parent: the mount its point lies in, among those made before it.
fn link_parents(m: &mut [Mount]) {
    for i in 0..m.len() {
        let parent = (0..i)
            .filter_map(|j| m[j].rest_of(&m[i].point).map(|_| (j, m[j].point.len())))
            .max_by_key(|&(j, len)| (len, j))
            .map(|(j, _)| m[j].id);
        m[i].parent = parent.unwrap_or(m[i].id);
    }
}

/// A snapshot of a mount namespace's table.
#[derive(Clone)]
pub struct Mounts(Arc<Vec<Mount>>);

impl Mounts {
    /// The mounts, oldest first.
    pub fn list(&self) -> &[Mount] {
        &self.0
    }

    /// The mount `abs` (absolute, normalized) is in, and the rest of the path after its
    /// mount point.
    pub fn find<'a>(&self, abs: &'a [u8]) -> Option<(&Mount, &'a [u8])> {
        let mut best: Option<(&Mount, &[u8])> = None;
        for m in self.0.iter() {
            if let Some(rest) = m.rest_of(abs) {
                let longer = match best {
                    None => true,
                    Some((b, _)) => m.point.len() >= b.point.len(),
                };
                if longer {
                    best = Some((m, rest));
                }
            }
        }
        best
    }

    /// The mount a path (absolute, normalized) is in.
    pub fn mount_of(&self, abs: &[u8]) -> Option<&Mount> {
        self.find(&normalize(b"/", abs)).map(|(m, _)| m)
    }

    /// Classifies an absolute, normalized path.
    pub fn place(&self, abs: &[u8]) -> Place {
        match self.find(abs) {
            Some((m, rest)) => m.place_of(rest.strip_suffix(b"/").unwrap_or(rest)),
            None => Place::Host(abs.to_vec()),
        }
    }

    /// Whether `abs` (normalized) lies in the root filesystem exactly where the root
    /// filesystem has it (not under another mount, nor under a bind of part of it).
    pub fn is_plain_root(&self, abs: &[u8]) -> bool {
        matches!(self.find(abs), Some((m, _)) if matches!(m.fs, MountFs::Root) && m.root == b"/" && m.point == b"/")
    }

    /// The place of an absolute path: the mount is the one whose point the path's leading
    /// plain components name (up to the first `.` or `..`), and the rest is handed on as it
    /// is, so that `..` is resolved physically as Linux does (`file/..` is ENOTDIR), by the
    /// filesystem's walk, which hands back what leaves the mount. Returns the mount point
    /// too.
    fn physical_place(&self, raw: &[u8]) -> (Place, Vec<u8>) {
        let comps: Vec<&[u8]> = raw
            .split(|&b| b == b'/')
            .filter(|c| !c.is_empty())
            .collect();
        let plain = comps
            .iter()
            .position(|c| *c == b"." || *c == b"..")
            .unwrap_or(comps.len());
        let mut prefix = Vec::new();
        for c in &comps[..plain] {
            prefix.push(b'/');
            prefix.extend_from_slice(c);
        }
        if prefix.is_empty() {
            prefix.push(b'/');
        }
        let Some((m, _)) = self.find(&prefix) else {
            return (Place::Host(raw.to_vec()), b"/".to_vec());
        };
        let depth = components(&m.point).len();
        let mut rest = comps[depth.min(comps.len())..].join(&b'/');
        if raw.last() == Some(&b'/') && !rest.is_empty() {
            rest.push(b'/');
        }
        (m.place_of(&rest), m.point.clone())
    }

    /// The directories of the filesystem mounted at `point` (showing its `root`) that other
    /// mounts cover, as components from the filesystem's root.
    fn covered_below(&self, point: &[u8], root: &[u8]) -> Vec<Vec<Vec<u8>>> {
        self.list()
            .iter()
            .filter_map(|m| {
                let below = if point == b"/" {
                    m.point.strip_prefix(b"/")
                } else {
                    m.point.strip_prefix(point)?.strip_prefix(b"/")
                }?;
                (!below.is_empty()).then(|| [components(root), components(below)].concat())
            })
            .collect()
    }

    /// Runs `op` on the place `path` names, following escapes out of filesystems (at most
    /// 40). While `op` runs on a tmpfs place, the walk knows the mount it goes through
    /// ([`WalkView`]): its relative symlinks and a `..` at the mount's root come back here
    /// as escapes, so that they cross mount points as Linux's walk does.
    pub fn resolve<T>(
        &self,
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
            // A relative escape is relative to the mount it left.
            let (place, point) = self.physical_place(&raw);
            let _view = match &place {
                Place::Tmp(t) => Some(WalkView::enter(
                    &t.point,
                    &t.root,
                    self.covered_below(&t.point, &t.root),
                )),
                _ => None,
            };
            match op(place)? {
                Resolution::Done(v) => return Ok(v),
                Resolution::Escape { target, rest } => {
                    let base = if target.first() == Some(&b'/') {
                        target
                    } else {
                        // `..` (or `../`): the parent of the mount point.
                        let dir = target.ends_with(b"/");
                        let mut b = normalize(&point, &target);
                        if dir && b.last() != Some(&b'/') {
                            b.push(b'/');
                        }
                        b
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
}

/// The components of `p` (slashes and `.` dropped).
pub(crate) fn components(p: &[u8]) -> Vec<Vec<u8>> {
    p.split(|&b| b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
        .map(<[u8]>::to_vec)
        .collect()
}

/// The mount a tmpfs walk goes through, for the walk to hand back what must cross mount
/// points: set by [`Mounts::resolve`] on its thread while its operation runs on a tmpfs
/// place (saved and restored, so nested resolutions keep their own), read by the tmpfs
/// walker when it starts. A walk with none (a filesystem used directly) stays inside its
/// filesystem, as before.
#[derive(Clone, Debug)]
pub struct WalkView {
    /// Where the mount is (absolute, normalized).
    pub point: Vec<u8>,
    /// The directory of the filesystem shown there, as components ("" for its root).
    pub root: Vec<Vec<u8>>,
    /// Directories of the filesystem other mounts cover, as components from its root: a
    /// walk entering one continues in the mount on top.
    pub covered: Vec<Vec<Vec<u8>>>,
}

thread_local! {
    static VIEW: std::cell::RefCell<Option<WalkView>> = const { std::cell::RefCell::new(None) };
}

/// Restores the view that was current when it was made.
pub struct ViewGuard(Option<WalkView>);

impl WalkView {
    fn enter(point: &[u8], root: &[u8], covered: Vec<Vec<Vec<u8>>>) -> ViewGuard {
        let view = WalkView {
            covered,
            point: point.to_vec(),
            root: components(root),
        };
        ViewGuard(VIEW.with(|v| v.replace(Some(view))))
    }

    /// The view of the resolution running on this thread, if any.
    pub fn current() -> Option<WalkView> {
        VIEW.with(|v| v.borrow().clone())
    }

    /// The absolute path of `comps` (components from the filesystem's root, below the
    /// mount's root).
    pub fn abs(&self, comps: &[Vec<u8>]) -> Vec<u8> {
        let mut p = self.point.clone();
        for c in comps.iter().skip(self.root.len()) {
            if p.last() != Some(&b'/') {
                p.push(b'/');
            }
            p.extend_from_slice(c);
        }
        p
    }
}

impl Drop for ViewGuard {
    fn drop(&mut self) {
        let prev = self.0.take();
        VIEW.with(|v| *v.borrow_mut() = prev);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> (Mounts, Arc<Tmpfs>, Arc<Tmpfs>) {
        let mf = Arc::new(platform::MemoryFile::new("test").unwrap());
        let tmp = Tmpfs::new(0x2a, mf.clone());
        let shm = Tmpfs::new(0x2b, mf);
        let ns = MountNs::new(vec![
            Mount::new(b"/", MountFs::Root, 0, b"none", ""),
            Mount::new(b"/dev", MountFs::Dev, 0, b"none", ""),
            Mount::new(b"/proc", MountFs::Pseudo(PseudoFs::Proc), 0, b"proc", ""),
            Mount::new(b"/tmp", MountFs::Tmpfs(tmp.clone()), 0, b"none", ""),
            Mount::new(b"/dev/shm", MountFs::Tmpfs(shm.clone()), 0, b"none", ""),
            Mount::new(b"/sys", MountFs::Pseudo(PseudoFs::Sys), 0, b"sysfs", ""),
        ]);
        (ns.snapshot(), tmp, shm)
    }

    fn rel_of(p: Place) -> (u64, Vec<u8>) {
        match p {
            Place::Tmp(t) => (t.fs.dev(), t.rel),
            Place::Host(h) => (0, h),
            Place::Proc(p) => (if p.fs == PseudoFs::Proc { 1 } else { 2 }, p.rel),
        }
    }

    #[test]
    fn normalize_and_place() {
        assert_eq!(normalize(b"/a/b", b"../c"), b"/a/c");
        assert_eq!(normalize(b"/", b"../../x/./y/"), b"/x/y/");
        assert_eq!(normalize(b"/tmp", b"f"), b"/tmp/f");
        let (m, _, _) = table();
        assert_eq!(rel_of(m.place(b"/tmp/f/g")), (0x2a, b"f/g".to_vec()));
        assert_eq!(rel_of(m.place(b"/tmp")), (0x2a, b"".to_vec()));
        assert_eq!(
            rel_of(m.place(b"/dev/shm/sem.x")),
            (0x2b, b"sem.x".to_vec())
        );
        assert_eq!(rel_of(m.place(b"/dev/shm")), (0x2b, b"".to_vec()));
        assert_eq!(rel_of(m.place(b"/dev/shmx")), (0, b"/dev/shmx".to_vec()));
        assert_eq!(rel_of(m.place(b"/sys/fs")), (2, b"fs".to_vec()));
        assert_eq!(rel_of(m.place(b"/proc")), (1, b"".to_vec()));
        assert_eq!(rel_of(m.place(b"/system")), (0, b"/system".to_vec()));
        assert_eq!(rel_of(m.place(b"/tmpx")), (0, b"/tmpx".to_vec()));
        assert_eq!(rel_of(m.place(b"/")), (0, b"/".to_vec()));
    }

    #[test]
    fn binds_and_stacking() {
        let (m, tmp, _) = table();
        let ns = MountNs::new(m.list().to_vec());
        let other = Tmpfs::new(0x40, Arc::new(platform::MemoryFile::new("test").unwrap()));
        ns.update(|t| {
            let mut b = Mount::new(b"/mnt/usr", MountFs::Root, 0, b"/usr", "");
            b.root = b"/usr".to_vec();
            t.push(b);
            let mut b = Mount::new(b"/mnt/t", MountFs::Tmpfs(tmp.clone()), 0, b"none", "");
            b.root = b"d".to_vec();
            t.push(b);
            t.push(Mount::new(
                b"/tmp",
                MountFs::Tmpfs(other.clone()),
                0,
                b"x",
                "",
            ));
            Ok(())
        })
        .unwrap();
        let m = ns.snapshot();
        assert_eq!(
            rel_of(m.place(b"/mnt/usr/bin/sh")),
            (0, b"/usr/bin/sh".to_vec())
        );
        assert_eq!(rel_of(m.place(b"/mnt/usr")), (0, b"/usr".to_vec()));
        assert_eq!(rel_of(m.place(b"/mnt/t/x")), (0x2a, b"d/x".to_vec()));
        assert_eq!(rel_of(m.place(b"/tmp/a")), (0x40, b"a".to_vec()));
        assert!(!m.is_plain_root(b"/mnt/usr/x"));
        assert!(m.is_plain_root(b"/mnt/x"));
        match m.place(b"/mnt/t/x") {
            Place::Tmp(t) => assert_eq!(t.abs(), b"/mnt/t/x"),
            _ => unreachable!(),
        }
        let ids: Vec<_> = m
            .list()
            .iter()
            .map(|x| (x.point.clone(), x.parent))
            .collect();
        let root_id = m.list()[0].id;
        assert_eq!(ids[0].1, root_id);
        assert_eq!(ids.last().map(|x| x.1), Some(m.list()[3].id));
    }
}
