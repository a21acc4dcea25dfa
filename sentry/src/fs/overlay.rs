//! The overlay root: a tmpfs upper layer over the gofer's read-only lower layer. Writes
//! never reach the host: a file is copied up into the upper layer (its directories first)
//! when it is changed, a removed lower entry leaves a whiteout, and a directory made where a
//! removed one was is opaque (its lower contents stay hidden). Directory listings merge
//! both layers, live, with stable cursors (`fs::merged_dir`).
//!
//! Permission checks: the caller's are made on the merged view, before any copy-up, when
//! removing, renaming or changing attributes, and by the upper layer when creating; the
//! overlay's own work on the upper layer (copy-up, placeholders) runs as root. A walk needs
//! search permission on every directory of the merged view it looks a name up in.
//!
//! Paths are walked here component by component over both layers, symlinks followed by the
//! Sentry: a component is looked for in the upper layer when its directory exists there,
//! else (the common case, a path nobody wrote under) the rest of the path is walked in the
//! lower layer in one request. A symlink that leads into another mount (/tmp, /proc) escapes
//! to the caller, which resolves it there.
//!
//! Renaming a directory that exists in the lower layer gives EXDEV, as overlayfs does
//! without redirect_dir; `mv` then copies.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use super::file::{list_dir, FileOps, Stat};
use super::host::{HostRoot, PATH_MAX};
use super::merged_dir::MergedDir;
use super::perm::{self, Attr};
use super::tmpfs::{Creds, Resolution, Tmpfs};
use super::vfs;
use crate::errno::Errno;

/// Symlinks followed in one walk, as Linux's MAXSYMLINKS.
const MAX_SYMLINKS: u32 = 40;

/// Where a path leads.
#[derive(Debug)]
pub enum Node {
    /// In the upper layer (its status there).
    Upper(Stat),
    /// Only in the lower layer.
    Lower(libc::stat),
    /// Nowhere, but its directory exists: it may be created.
    Missing,
}

/// A walked path: the node and its physical path (symlinks resolved, no `.` or `..`).
pub struct Found {
    pub node: Node,
    /// Absolute physical path ("/" for the root).
    pub path: Vec<u8>,
    /// The lower layer's node, held, when the walk ended there.
    pub lower: Option<super::host::Lookup>,
}

/// The writable layer and what it hides.
pub struct Overlay {
    upper: Arc<Tmpfs>,
    /// Shared with open merged directories, which filter their listings through it.
    state: Arc<Mutex<Hidden>>,
    /// Whether the upper root has the lower root's owner and mode yet (it stands for the
    /// merged root in permission checks).
    root_synced: Mutex<bool>,
}

/// What the upper layer hides of the lower one.
#[derive(Default)]
pub(super) struct Hidden {
    /// Lower entries removed (absolute physical paths).
    pub(super) whiteouts: HashSet<Vec<u8>>,
    /// Upper directories whose lower counterparts are hidden.
    pub(super) opaque: HashSet<Vec<u8>>,
}

impl Hidden {
    /// Whether `dir` or a directory above it is opaque (hides the lower layer below it).
    pub(super) fn opaque_at(&self, dir: &[u8]) -> bool {
        !self.opaque.is_empty() && self.at_or_above(dir, &self.opaque)
    }

    /// Whether `abs` or a directory above it was removed.
    pub(super) fn whited_out_at(&self, abs: &[u8]) -> bool {
        !self.whiteouts.is_empty() && self.at_or_above(abs, &self.whiteouts)
    }

    fn at_or_above(&self, abs: &[u8], set: &HashSet<Vec<u8>>) -> bool {
        let mut p = abs.to_vec();
        loop {
            if set.contains(&p) {
                return true;
            }
            if p == b"/" || p.is_empty() {
                return false;
            }
            p = parent_of(&p);
        }
    }
}

/// Mode, owner and group of a walked node (None for a missing one).
pub fn attr_of(node: &Node) -> Option<Attr> {
    match node {
        Node::Upper(st) => Some(Attr::from(st)),
        Node::Lower(st) => Some(Attr::from(st)),
        Node::Missing => None,
    }
}

/// The upper-layer path of an absolute physical path.
fn up(abs: &[u8]) -> &[u8] {
    abs.strip_prefix(b"/").unwrap_or(abs)
}

fn join(comps: &[Vec<u8>]) -> Vec<u8> {
    let mut p = Vec::new();
    for c in comps {
        p.push(b'/');
        p.extend_from_slice(c);
    }
    if p.is_empty() {
        p.push(b'/');
    }
    p
}

fn split(path: &[u8]) -> Vec<Vec<u8>> {
    path.split(|&b| b == b'/')
        .filter(|c| !c.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

fn parent_of(abs: &[u8]) -> Vec<u8> {
    let mut c = split(abs);
    c.pop();
    join(&c)
}

fn done<T>(r: Result<Resolution<T>, Errno>) -> Result<T, Errno> {
    match r? {
        Resolution::Done(v) => Ok(v),
        // Physical paths hold no symlinks: the upper layer never escapes on them.
        Resolution::Escape { .. } => Err(Errno::EIO),
    }
}

/// The overlay's own work on the upper layer (copy-up, whiteout bookkeeping) runs as root,
/// after the caller's permission was checked on the merged view.
fn root_creds() -> Creds {
    Creds::ROOT
}

impl Overlay {
    /// An empty upper layer in the memory file of `upper`.
    pub fn new(upper: Arc<Tmpfs>) -> Overlay {
        Overlay {
            upper,
            state: Arc::default(),
            root_synced: Mutex::new(false),
        }
    }

    /// The upper layer (a tmpfs).
    pub fn upper(&self) -> &Arc<Tmpfs> {
        &self.upper
    }

    fn hidden(&self) -> std::sync::MutexGuard<'_, Hidden> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn upper_stat(&self, abs: &[u8]) -> Option<Stat> {
        match self.upper.stat(up(abs), false, &root_creds()) {
            Ok(Resolution::Done(st)) => Some(st),
            _ => None,
        }
    }

    /// Whether the upper layer has directory `abs` (the root always).
    pub fn upper_is_dir(&self, abs: &[u8]) -> bool {
        self.upper_stat(abs)
            .is_some_and(|st| st.mode & libc::S_IFMT == libc::S_IFDIR)
    }

    /// Walks `path` (absolute) over both layers as `creds` (search permission on the
    /// merged view's directories, EACCES); a symlink leading where `mounts` puts another
    /// filesystem (or another part of this one) ends the walk with an escape.
    pub fn walk(
        &self,
        lower: &HostRoot,
        mounts: &vfs::Mounts,
        path: &[u8],
        follow_last: bool,
        creds: &Creds,
    ) -> Result<Resolution<Found>, Errno> {
        if path.len() >= PATH_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        let trailing_slash = path.ends_with(b"/");
        let mut pending: Vec<Vec<u8>> = split(path);
        pending.reverse();
        let mut cur: Vec<Vec<u8>> = Vec::new();
        let mut links = 0;
        // Search permission: the merged attributes of `cur`, when known.
        let check = !creds.searches_all();
        let mut cur_attr: Option<Attr> = None;
        while let Some(c) = pending.pop() {
            if check {
                let a = match cur_attr {
                    Some(a) => a,
                    None => self.dir_attr(lower, &join(&cur))?,
                };
                perm::may_search(creds, &a)?;
                cur_attr = Some(a);
            }
            if c == b"." {
                continue;
            }
            if c == b".." {
                cur.pop();
                cur_attr = None;
                continue;
            }
            let cur_abs = join(&cur);
            let mut child = cur.clone();
            child.push(c.clone());
            let child_abs = join(&child);
            let last = pending.is_empty();
            if self.hidden().whiteouts.contains(&child_abs) {
                return if last {
                    Ok(Resolution::Done(Found {
                        node: Node::Missing,
                        path: child_abs,
                        lower: None,
                    }))
                } else {
                    Err(Errno::ENOENT)
                };
            }
            // This component in the upper layer, if its directory is there.
            let in_upper = if self.upper_is_dir(&cur_abs) {
                self.upper_stat(&child_abs)
            } else {
                None
            };
            let (stat_mode, link, node) = if let Some(st) = in_upper {
                let link = if st.mode & libc::S_IFMT == libc::S_IFLNK {
                    Some(done(self.upper.readlink(up(&child_abs), &root_creds()))?)
                } else {
                    None
                };
                (st.mode, link, Node::Upper(st))
            } else if self.opaque_at(&cur_abs) {
                (0, None, Node::Missing)
            } else {
                // The lower layer: this component, and with it the following plain ones,
                // since nothing of the upper layer (nor a whiteout) lies below a name the
                // upper layer does not have.
                let mut run = vec![c.clone()];
                while let Some(n) = pending.last() {
                    if n == b"." || n == b".." {
                        break;
                    }
                    run.push(pending.pop().unwrap_or_default());
                }
                let mut all = cur.clone();
                all.extend(run.iter().cloned());
                let w = lower.walk_run(&all)?;
                // Components of `cur` resolved again are directories already walked.
                let skip = cur.len();
                let got = w.stats.len().saturating_sub(skip);
                if check {
                    // Each component of the run after the first was looked up in the one
                    // before it.
                    let n = got.min(run.len().saturating_sub(1));
                    for d in w.stats.iter().skip(skip).take(n) {
                        if d.st_mode & libc::S_IFMT == libc::S_IFDIR {
                            perm::may_search(creds, &Attr::from(d))?;
                        }
                    }
                }
                // Put back what was not walked, after the last resolved component.
                for r in run.iter().skip(got.max(1)).rev() {
                    pending.push(r.clone());
                }
                if got == 0 {
                    let e = w.error.unwrap_or(Errno::ENOENT);
                    if e == Errno::ENOENT && pending.is_empty() {
                        return Ok(Resolution::Done(Found {
                            node: Node::Missing,
                            path: child_abs,
                            lower: None,
                        }));
                    }
                    return Err(e);
                }
                // Every resolved component but the last is a directory: step into them.
                for r in run.iter().take(got - 1) {
                    cur.push(r.clone());
                }
                if got >= 2 {
                    cur_attr = Some(Attr::from(&w.stats[skip + got - 2]));
                }
                let name = run[got - 1].clone();
                let st = w.stats[skip + got - 1];
                let mut child = cur.clone();
                child.push(name);
                let child_abs = join(&child);
                let link = if st.st_mode & libc::S_IFMT == libc::S_IFLNK {
                    w.link.clone()
                } else {
                    None
                };
                if link.is_none() && got < run.len() {
                    // The walk stopped early for another reason.
                    let e = w.error.unwrap_or(Errno::ENOENT);
                    if e == Errno::ENOENT && pending.len() == 1 && got + 1 == run.len() {
                        // Only the last component is missing.
                        cur = child;
                        let name = pending.pop().unwrap_or_default();
                        let mut m = cur.clone();
                        m.push(name);
                        return Ok(Resolution::Done(Found {
                            node: Node::Missing,
                            path: join(&m),
                            lower: None,
                        }));
                    }
                    return Err(e);
                }
                let last = pending.is_empty();
                if let Some(target) = link.filter(|_| !last || follow_last || trailing_slash) {
                    links += 1;
                    if links > MAX_SYMLINKS {
                        return Err(Errno::ELOOP);
                    }
                    if target.first() == Some(&b'/') {
                        cur_attr = None;
                    }
                    if let Some(esc) = self.splice(mounts, &mut cur, &mut pending, &target) {
                        return Ok(esc);
                    }
                    continue;
                }
                if last {
                    if trailing_slash && st.st_mode & libc::S_IFMT != libc::S_IFDIR {
                        return Err(Errno::ENOTDIR);
                    }
                    return Ok(Resolution::Done(Found {
                        node: Node::Lower(st),
                        path: child_abs,
                        lower: w.last,
                    }));
                }
                if st.st_mode & libc::S_IFMT != libc::S_IFDIR {
                    return Err(Errno::ENOTDIR);
                }
                cur = child;
                cur_attr = Some(Attr::from(&st));
                continue;
            };
            if matches!(node, Node::Missing) {
                return if last {
                    Ok(Resolution::Done(Found {
                        node,
                        path: child_abs,
                        lower: None,
                    }))
                } else {
                    Err(Errno::ENOENT)
                };
            }
            if let Some(target) = link.filter(|_| !last || follow_last || trailing_slash) {
                links += 1;
                if links > MAX_SYMLINKS {
                    return Err(Errno::ELOOP);
                }
                if target.first() == Some(&b'/') {
                    cur_attr = None;
                }
                if let Some(esc) = self.splice(mounts, &mut cur, &mut pending, &target) {
                    return Ok(esc);
                }
                continue;
            }
            if last {
                if trailing_slash && stat_mode & libc::S_IFMT != libc::S_IFDIR {
                    return Err(Errno::ENOTDIR);
                }
                return Ok(Resolution::Done(Found {
                    node,
                    path: child_abs,
                    lower: None,
                }));
            }
            if stat_mode & libc::S_IFMT != libc::S_IFDIR {
                return Err(Errno::ENOTDIR);
            }
            cur_attr = attr_of(&node);
            cur = child;
        }
        // The path named a directory walked into (or the root, whose status is the lower
        // layer's).
        let path = join(&cur);
        let node = match self.upper_stat(&path).filter(|_| !cur.is_empty()) {
            Some(st) => Node::Upper(st),
            None => {
                let w = lower.walk_run(&cur)?;
                match (w.stats.last(), w.stats.len() == cur.len()) {
                    (Some(st), true) => Node::Lower(*st),
                    _ if cur.is_empty() => {
                        Node::Lower(lower.lookup(b"/", b"/", true).map(|l| l.stat)?)
                    }
                    _ => return Err(w.error.unwrap_or(Errno::ENOENT)),
                }
            }
        };
        Ok(Resolution::Done(Found {
            node,
            path,
            lower: None,
        }))
    }

    /// Follows a symlink found in directory `cur`: its target comes next. Returns an escape
    /// when what is left to walk lies in another mount.
    fn splice(
        &self,
        mounts: &vfs::Mounts,
        cur: &mut Vec<Vec<u8>>,
        pending: &mut Vec<Vec<u8>>,
        target: &[u8],
    ) -> Option<Resolution<Found>> {
        if target.first() == Some(&b'/') {
            cur.clear();
        }
        for c in split(target).into_iter().rev() {
            pending.push(c);
        }
        let mut rest: Vec<Vec<u8>> = pending.clone();
        rest.reverse();
        let mut full = join(cur);
        for r in &rest {
            full.push(b'/');
            full.extend_from_slice(r);
        }
        if mounts.is_plain_root(&vfs::normalize(b"/", &full)) {
            None
        } else {
            Some(Resolution::Escape {
                target: full,
                rest: Vec::new(),
            })
        }
    }

    /// Makes `abs` (a directory or file of the lower layer, or already in the upper one)
    /// exist in the upper layer with its owner, mode and times; directories first.
    pub fn copy_up(&self, lower: &HostRoot, abs: &[u8]) -> Result<(), Errno> {
        let comps = split(abs);
        if comps.is_empty() {
            return self.sync_root(lower);
        }
        if self.upper_stat(abs).is_some() {
            return Ok(());
        }
        let parent = parent_of(abs);
        self.copy_up(lower, &parent)?;
        let l = lower.lookup(b"/", abs, false)?;
        let st = l.stat;
        let creds = root_creds();
        let perm = st.st_mode & 0o7777;
        match st.st_mode & libc::S_IFMT {
            libc::S_IFDIR => done(self.upper.mkdir(up(abs), perm, &creds))?,
            libc::S_IFLNK => {
                let target = lower.readlink(&l)?;
                done(self.upper.symlink(&target, up(abs), &creds))?
            }
            libc::S_IFREG => {
                let src = lower.open_file(&l)?;
                let flags = (libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL) as u32;
                let dst = done(self.upper.open(up(abs), flags, perm, &creds))?;
                let mut buf = vec![0u8; 64 * 1024];
                let mut off = 0u64;
                loop {
                    let n = src.read(&mut buf, Some(off))?;
                    if n == 0 {
                        break;
                    }
                    let mut w = 0;
                    while w < n {
                        w += dst.write(&buf[w..n], Some(off + w as u64))?;
                    }
                    off += n as u64;
                }
            }
            // Devices, fifos and sockets of the host are never copied.
            _ => return Err(Errno::EPERM),
        }
        done(
            self.upper
                .lchown(up(abs), Some(st.st_uid), Some(st.st_gid), &creds),
        )?;
        if st.st_mode & libc::S_IFMT != libc::S_IFLNK {
            done(self.upper.chmod(up(abs), perm, &creds))?;
        }
        let times = (
            Some((st.st_atime, st.st_atime_nsec)),
            Some((st.st_mtime, st.st_mtime_nsec)),
        );
        done(self.upper.lutimens(up(abs), times.0, times.1, &creds))?;
        Ok(())
    }

    /// Gives the upper root the lower root's owner and mode, once (the upper root always
    /// exists, so it is never copied up).
    fn sync_root(&self, lower: &HostRoot) -> Result<(), Errno> {
        let mut synced = self.root_synced.lock().unwrap_or_else(|e| e.into_inner());
        if *synced {
            return Ok(());
        }
        let st = lower.lookup(b"/", b"/", true)?.stat;
        let creds = root_creds();
        done(
            self.upper
                .lchown(b"", Some(st.st_uid), Some(st.st_gid), &creds),
        )?;
        done(self.upper.chmod(b"", st.st_mode & 0o7777, &creds))?;
        *synced = true;
        Ok(())
    }

    /// Prepares the creation of `abs` (Missing): its directory in the upper layer, and a
    /// whiteout there is lifted (a directory made over one becomes opaque).
    fn before_create(&self, lower: &HostRoot, abs: &[u8], dir: bool) -> Result<(), Errno> {
        self.copy_up(lower, &parent_of(abs))?;
        let mut h = self.hidden();
        if h.whiteouts.remove(abs) && dir {
            h.opaque.insert(abs.to_vec());
        }
        Ok(())
    }

    /// Whether `dir` or a directory above it is opaque (hides the lower layer below it).
    fn opaque_at(&self, dir: &[u8]) -> bool {
        self.hidden().opaque_at(dir)
    }

    /// Mode, owner and group of the directory `abs` as the merged view shows it.
    fn dir_attr(&self, lower: &HostRoot, abs: &[u8]) -> Result<Attr, Errno> {
        if split(abs).is_empty() {
            self.sync_root(lower)?;
        }
        match self.upper_stat(abs) {
            Some(st) => Ok(Attr::from(&st)),
            None => lower.lookup(b"/", abs, false).map(|l| Attr::from(&l.stat)),
        }
    }

    /// Whether the lower layer (as the overlay shows it) has `abs`.
    pub fn in_lower(&self, lower: &HostRoot, abs: &[u8]) -> bool {
        if self.opaque_at(abs) {
            return false;
        }
        let comps = split(abs);
        lower
            .walk_run(&comps)
            .is_ok_and(|w| w.stats.len() == comps.len() && w.error.is_none())
    }

    /// The merged listing of directory `abs` (name, d_type).
    pub fn list(&self, lower: &HostRoot, abs: &[u8]) -> Result<Vec<(Vec<u8>, u8)>, Errno> {
        let mut names: Vec<(Vec<u8>, u8)> = Vec::new();
        let upper_dir = self.upper_is_dir(abs);
        if upper_dir {
            let d = done(self.upper.open(
                up(abs),
                (libc::O_RDONLY | libc::O_DIRECTORY) as u32,
                0,
                &root_creds(),
            ))?;
            names = list_dir(d.as_ref())?;
        }
        if !upper_dir || self.in_lower(lower, abs) {
            if let Ok(l) = lower.lookup(b"/", abs, false) {
                if l.stat.st_mode & libc::S_IFMT == libc::S_IFDIR {
                    let d = lower.open_file(&l)?;
                    let h = self.hidden();
                    let seen: HashSet<Vec<u8>> = names.iter().map(|(n, _)| n.clone()).collect();
                    for (n, t) in list_dir(d.as_ref())? {
                        let mut child = abs.to_vec();
                        if child != b"/" {
                            child.push(b'/');
                        } else {
                            child.clear();
                            child.push(b'/');
                        }
                        child.extend_from_slice(&n);
                        if !seen.contains(&n) && !h.whiteouts.contains(&child) {
                            names.push((n, t));
                        }
                    }
                }
            }
        }
        Ok(names)
    }

    /// Opens directory `abs` of the lower layer (with `st`, its status now; `held`, its
    /// lower node if the walk kept it) for a listing merged with the upper layer's, live
    /// ([`MergedDir`]).
    pub fn open_dir(
        &self,
        lower: &HostRoot,
        abs: &[u8],
        st: Stat,
        held: Option<super::host::Lookup>,
    ) -> Result<Arc<dyn FileOps>, Errno> {
        let l = match held {
            Some(l) => l,
            None => lower.lookup(b"/", abs, false)?,
        };
        if l.stat.st_mode & libc::S_IFMT != libc::S_IFDIR {
            return Err(Errno::ENOTDIR);
        }
        let dir = lower.open_file(&l)?;
        Ok(Arc::new(MergedDir::new(
            self.upper.clone(),
            self.state.clone(),
            abs.to_vec(),
            dir,
            st,
        )))
    }

    /// Whether directory `abs` holds nothing in the merged view.
    pub fn is_empty_dir(&self, lower: &HostRoot, abs: &[u8]) -> Result<bool, Errno> {
        Ok(self.list(lower, abs)?.is_empty())
    }

    /// Records that `abs` (gone from the upper layer, if it was there) must hide the lower
    /// layer's entry of that name.
    pub fn white_out(&self, lower: &HostRoot, abs: &[u8]) {
        if self.in_lower(lower, abs) {
            let mut h = self.hidden();
            h.whiteouts.insert(abs.to_vec());
            h.opaque.remove(abs);
        }
    }

    /// Creates what `abs` names through `make` (given the upper path), after preparing its
    /// directory; `dir` for directories.
    pub fn create<T>(
        &self,
        lower: &HostRoot,
        abs: &[u8],
        dir: bool,
        make: impl FnOnce(&Tmpfs, &[u8]) -> Result<Resolution<T>, Errno>,
    ) -> Result<T, Errno> {
        self.before_create(lower, abs, dir)?;
        done(make(&self.upper, up(abs)))
    }

    /// Changes what `abs` names through `change` (given the upper path) after copying it up.
    pub fn change<T>(
        &self,
        lower: &HostRoot,
        abs: &[u8],
        change: impl FnOnce(&Tmpfs, &[u8]) -> Result<Resolution<T>, Errno>,
    ) -> Result<T, Errno> {
        self.copy_up(lower, abs)?;
        done(change(&self.upper, up(abs)))
    }

    /// Removes `abs` (`dir`: rmdir) from the merged view, if `creds` may
    /// ([`perm::may_delete`]).
    pub fn remove(
        &self,
        lower: &HostRoot,
        f: &Found,
        dir: bool,
        creds: &Creds,
    ) -> Result<(), Errno> {
        let a = attr_of(&f.node).ok_or(Errno::ENOENT)?;
        if f.path != b"/" {
            perm::may_delete(creds, &self.dir_attr(lower, &parent_of(&f.path))?, &a)?;
        }
        let mode = a.mode;
        let is_dir = mode & libc::S_IFMT == libc::S_IFDIR;
        if dir && !is_dir {
            return Err(Errno::ENOTDIR);
        }
        if !dir && is_dir {
            return Err(Errno::EISDIR);
        }
        if f.path == b"/" {
            return Err(Errno::EBUSY);
        }
        if dir && !self.is_empty_dir(lower, &f.path)? {
            return Err(Errno::ENOTEMPTY);
        }
        self.copy_up(lower, &parent_of(&f.path))?;
        if let Node::Upper(_) = f.node {
            if dir {
                // Whiteouts below it go with it.
                let d = self.upper.open(
                    up(&f.path),
                    (libc::O_RDONLY | libc::O_DIRECTORY) as u32,
                    0,
                    &root_creds(),
                );
                drop(d);
                done(self.upper.rmdir(up(&f.path), &root_creds()))?;
            } else {
                done(self.upper.unlink(up(&f.path), &root_creds()))?;
            }
        }
        {
            let mut h = self.hidden();
            let prefix = [&f.path[..], b"/"].concat();
            h.whiteouts.retain(|w| !w.starts_with(&prefix));
            h.opaque.retain(|o| !o.starts_with(&prefix) && *o != f.path);
        }
        self.white_out(lower, &f.path);
        Ok(())
    }

    /// Renames `from` to `to` (both walked without following the last component), if
    /// `creds` may remove `from`, and remove `to` or add a name in its directory.
    pub fn rename(
        &self,
        lower: &HostRoot,
        from: &Found,
        to: &Found,
        flags: u32,
        creds: &Creds,
    ) -> Result<(), Errno> {
        let from_attr = attr_of(&from.node).ok_or(Errno::ENOENT)?;
        let (from_parent, to_parent) = (parent_of(&from.path), parent_of(&to.path));
        perm::may_delete(creds, &self.dir_attr(lower, &from_parent)?, &from_attr)?;
        let to_dir_attr = self.dir_attr(lower, &to_parent)?;
        match attr_of(&to.node) {
            Some(a) => perm::may_delete(creds, &to_dir_attr, &a)?,
            None => perm::may_create(creds, &to_dir_attr)?,
        }
        if from_parent != to_parent {
            perm::may_reparent(creds, &from_attr)?;
            if let Some(a) = attr_of(&to.node).filter(|_| flags & libc::RENAME_EXCHANGE != 0) {
                perm::may_reparent(creds, &a)?;
            }
        }
        let from_mode = from_attr.mode;
        let from_dir = from_mode & libc::S_IFMT == libc::S_IFDIR;
        if from_dir && (matches!(from.node, Node::Lower(_)) || self.in_lower(lower, &from.path)) {
            return Err(Errno::EXDEV);
        }
        if flags & libc::RENAME_NOREPLACE != 0 && !matches!(to.node, Node::Missing) {
            return Err(Errno::EEXIST);
        }
        if flags & libc::RENAME_EXCHANGE != 0 {
            if matches!(to.node, Node::Missing) {
                return Err(Errno::ENOENT);
            }
            if matches!(to.node, Node::Lower(st) if st.st_mode & libc::S_IFMT == libc::S_IFDIR) {
                return Err(Errno::EXDEV);
            }
            self.copy_up(lower, &to.path)?;
        }
        if let Node::Lower(st) = &to.node {
            let to_dir = st.st_mode & libc::S_IFMT == libc::S_IFDIR;
            if to_dir && !from_dir {
                return Err(Errno::EISDIR);
            }
            if !to_dir && from_dir {
                return Err(Errno::ENOTDIR);
            }
            if to_dir && !self.is_empty_dir(lower, &to.path)? {
                return Err(Errno::ENOTEMPTY);
            }
        }
        self.copy_up(lower, &from.path)?;
        self.copy_up(lower, &parent_of(&to.path))?;
        if let Node::Lower(st) = &to.node {
            // The target of the upper rename must exist there to be replaced atomically.
            if st.st_mode & libc::S_IFMT == libc::S_IFDIR {
                done(self.upper.mkdir(up(&to.path), 0o755, &root_creds()))?;
                self.hidden().opaque.insert(to.path.clone());
            }
        }
        self.upper
            .rename(up(&from.path), up(&to.path), flags, &root_creds())?;
        {
            let mut h = self.hidden();
            h.whiteouts.remove(&to.path);
        }
        if flags & libc::RENAME_EXCHANGE == 0 {
            self.white_out(lower, &from.path);
        }
        Ok(())
    }
}
