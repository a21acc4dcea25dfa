//! Path walking inside one tmpfs: components, symlinks, and escapes to the global namespace.
//! Looking a component up in a directory needs search permission on it (EACCES), for the
//! last component too, as Linux's may_lookup asks.

use std::collections::VecDeque;
use std::sync::Arc;

use super::inode::{lock, Inode};
use crate::errno::Errno;
use crate::fs::perm::{self, Creds};
use crate::fs::vfs::WalkView;

/// Symlinks followed in one lookup, as Linux's MAXSYMLINKS.
pub(super) const MAX_SYMLINKS: u32 = 40;
/// Longest path (with its NUL) accepted, as Linux's PATH_MAX.
pub(super) const PATH_MAX: usize = 4096;
/// Longest name of one component.
pub(super) const NAME_MAX: usize = 255;

/// One path component still to resolve.
#[derive(Clone, Debug)]
pub(super) struct Comp {
    pub name: Vec<u8>,
    /// Came from a symlink's target: a ".." of it at the root leaves the filesystem.
    pub from_link: bool,
    /// Was followed by a slash: must name a directory (and a symlink there is followed).
    pub must_dir: bool,
}

impl Comp {
    pub fn is_dot(&self) -> bool {
        self.name == b"."
    }

    pub fn is_dotdot(&self) -> bool {
        self.name == b".."
    }

    /// Neither "." nor "..".
    pub fn is_normal(&self) -> bool {
        !self.is_dot() && !self.is_dotdot()
    }
}

/// A symlink leaves the filesystem: the caller resolves `target`, then `rest`, globally.
#[derive(Debug)]
pub(super) struct Esc {
    pub target: Vec<u8>,
    pub rest: Vec<u8>,
}

/// Where a walk to the last component stopped.
pub(super) enum Step {
    /// The path names the directory itself, with no last component (an empty path).
    Root(Arc<Inode>),
    /// `comp` (possibly "." or "..") in directory `dir`.
    Parent(Arc<Inode>, Comp),
    /// A symlink leaves the filesystem.
    Escape(Esc),
}

/// Splits `path` into components (empty ones dropped); the last is `must_dir` if the path
/// ends with a slash.
fn split(path: &[u8], from_link: bool) -> Vec<Comp> {
    let mut comps: Vec<Comp> = path
        .split(|&b| b == b'/')
        .filter(|c| !c.is_empty())
        .map(|c| Comp {
            name: c.to_vec(),
            from_link,
            must_dir: false,
        })
        .collect();
    if path.last() == Some(&b'/') {
        if let Some(c) = comps.last_mut() {
            c.must_dir = true;
        }
    }
    comps
}

/// The state of one lookup: what is left to resolve, how many symlinks were followed, and
/// who looks (for search permission).
pub(super) struct Walker<'c> {
    queue: VecDeque<Comp>,
    follows: u32,
    creds: &'c Creds,
    /// The mount the walk goes through, when the VFS resolves it ([`WalkView`]).
    view: Option<WalkView>,
    /// The directory the walk is in, as components from the filesystem's root (kept only
    /// with a view).
    at: Vec<Vec<u8>>,
}

impl<'c> Walker<'c> {
    /// A walk of `path`, relative to the filesystem's root, by `creds`.
    pub fn new(path: &[u8], creds: &'c Creds) -> Result<Walker<'c>, Errno> {
        if path.len() >= PATH_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        Ok(Walker {
            queue: split(path, false).into(),
            follows: 0,
            creds,
            view: WalkView::current(),
            at: Vec::new(),
        })
    }

    /// Search permission on `dir`, where a component is looked up next (EACCES).
    fn may_search(&self, dir: &Inode) -> Result<(), Errno> {
        if self.creds.searches_all() {
            return Ok(());
        }
        perm::may_search(self.creds, &dir.attr())
    }

    /// What is left, as a relative path; ends with a slash if its last component must be a
    /// directory.
    fn rest(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, c) in self.queue.iter().enumerate() {
            if i > 0 {
                out.push(b'/');
            }
            out.extend_from_slice(&c.name);
        }
        if self.queue.back().is_some_and(|c| c.must_dir) {
            out.push(b'/');
        }
        out
    }

    /// An escape through `target` (a symlink target or ".."), reached from component `comp`.
    fn escape(&self, target: &[u8], comp: &Comp) -> Esc {
        let mut target = target.to_vec();
        let rest = self.rest();
        if rest.is_empty() && comp.must_dir && target.last() != Some(&b'/') {
            target.push(b'/');
        }
        Esc { target, rest }
    }

    /// Follows the symlink `link` met as component `comp`: its target is put in front of
    /// what is left, to be resolved from the symlink's directory. An absolute target
    /// returns the escape.
    pub fn follow(&mut self, link: &Inode, comp: &Comp) -> Result<Option<Esc>, Errno> {
        let target = link.symlink().ok_or(Errno::EINVAL)?;
        self.follows += 1;
        if self.follows > MAX_SYMLINKS {
            return Err(Errno::ELOOP);
        }
        link.touch_atime();
        if target.first() == Some(&b'/') {
            return Ok(Some(self.escape(target, comp)));
        }
        if let Some(view) = &self.view {
            // Resolved by the VFS from the link's directory, so that it crosses any mount
            // on its way (/dev/ptmx -> pts/ptmx).
            let dir = view.abs(&self.at);
            let abs = [&dir[..], b"/", target].concat();
            return Ok(Some(self.escape(&abs, comp)));
        }
        let mut comps = split(target, true);
        if comp.must_dir {
            if let Some(c) = comps.last_mut() {
                c.must_dir = true;
            }
        }
        for c in comps.into_iter().rev() {
            self.queue.push_front(c);
        }
        Ok(None)
    }

    /// Resolves ".." met as `comp` in `dir`: the parent, `dir` itself at the root, or an
    /// escape when a symlink's target climbs above the root.
    pub fn dotdot(&mut self, dir: &Arc<Inode>, comp: &Comp) -> Result<Arc<Inode>, Esc> {
        if let Some(view) = &self.view {
            // At the mount's root (a bind may show a directory below the filesystem's):
            // the parent is the mount point's, in the mount below.
            if self.at.len() <= view.root.len() {
                return Err(self.escape(b"..", comp));
            }
        }
        match dir.parent() {
            Some(p) => {
                self.at.pop();
                Ok(p)
            }
            None if comp.from_link => Err(self.escape(b"..", comp)),
            None => Ok(dir.clone()),
        }
    }

    /// The walk went down into `name`, reached as `comp`: an escape if another mount covers
    /// that directory (the walk goes on in that mount, from the VFS).
    fn enter(&mut self, name: &[u8], comp: &Comp) -> Option<Esc> {
        let view = self.view.as_ref()?;
        self.at.push(name.to_vec());
        if view.covered.contains(&self.at) {
            let abs = view.abs(&self.at);
            return Some(self.escape(&abs, comp));
        }
        None
    }

    /// Walks from `dir` through every component but the last, following symlinks.
    pub fn walk_to_last(&mut self, mut dir: Arc<Inode>) -> Result<Step, Errno> {
        loop {
            let c = match self.queue.pop_front() {
                None => return Ok(Step::Root(dir)),
                Some(c) => c,
            };
            if dir.is_dir() {
                self.may_search(&dir)?;
            }
            if c.is_normal() && c.name.len() > NAME_MAX {
                return Err(Errno::ENAMETOOLONG);
            }
            if self.queue.is_empty() {
                return Ok(Step::Parent(dir, c));
            }
            if c.is_dot() {
                continue;
            }
            if c.is_dotdot() {
                match self.dotdot(&dir, &c) {
                    Ok(p) => dir = p,
                    Err(esc) => return Ok(Step::Escape(esc)),
                }
                continue;
            }
            let table = dir.dir().ok_or(Errno::ENOTDIR)?;
            let child = lock(table).get(&c.name).ok_or(Errno::ENOENT)?;
            if child.is_dir() {
                if let Some(esc) = self.enter(&c.name, &c) {
                    return Ok(Step::Escape(esc));
                }
                dir = child;
            } else if child.symlink().is_some() {
                if let Some(esc) = self.follow(&child, &c)? {
                    return Ok(Step::Escape(esc));
                }
            } else {
                return Err(Errno::ENOTDIR);
            }
        }
    }
}
