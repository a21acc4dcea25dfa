//! What operations on names tell inotify (`crate::fs::inotify`): the directory and child
//! inodes are at hand here. Called with the tree lock held, after the operation can no longer
//! fail; none of these take a tmpfs lock.

use std::any::Any;
use std::sync::Arc;

use super::inode::{lock, Inode};
use super::walk::Comp;
use crate::fs::inotify::{self, Fate, Ident, Replaced};

fn id(i: &Inode) -> Ident {
    (i.dev, i.ino)
}

/// What became of `child` once it lost a name; the caller holds one reference to it.
fn fate(child: &Arc<Inode>) -> Fate {
    if lock(&child.meta).nlink > 0 {
        Fate::Linked
    } else if Arc::strong_count(child) <= 1 {
        Fate::Gone
    } else {
        let any: Arc<dyn Any + Send + Sync> = child.clone();
        Fate::Held(Arc::downgrade(&any))
    }
}

/// `name` is being created in `dir` (mkdir, symlink, bind).
pub(super) fn created(dir: &Inode, name: &[u8], is_dir: bool) {
    if inotify::active() {
        inotify::created(id(dir), name, is_dir);
    }
}

/// open(O_CREAT) is creating `name` in `dir`: `file`.
pub(super) fn created_file(dir: &Inode, name: &[u8], file: &Inode) {
    if inotify::active() {
        inotify::mark_created(id(file));
        inotify::created(id(dir), name, false);
    }
}

/// link(2) is giving `src` the name `name` in `dir`.
pub(super) fn linked(dir: &Inode, name: &[u8], src: &Inode) {
    if inotify::active() {
        inotify::linked(id(dir), name, id(src));
    }
}

/// unlink(2) or rmdir(2) removed `name` (which named `child`) from `dir`.
pub(super) fn unlinked(dir: &Inode, name: &[u8], child: &Arc<Inode>) {
    if inotify::active() {
        inotify::removed(id(dir), name, id(child), child.is_dir(), fate(child));
    }
}

/// rename(2) moved `src` from `oc` in `odir` to `nc` in `ndir`; `dst` is what `nc` named
/// before (swapped into `oc` by RENAME_EXCHANGE, else replaced).
pub(super) fn renamed(
    odir: &Inode,
    oc: &Comp,
    ndir: &Inode,
    nc: &Comp,
    src: &Arc<Inode>,
    dst: &Option<Arc<Inode>>,
    exchange: bool,
) {
    if !inotify::active() {
        return;
    }
    let (from, to) = ((id(odir), &oc.name[..]), (id(ndir), &nc.name[..]));
    if exchange {
        inotify::moved(from, to, id(src), src.is_dir(), None);
        if let Some(d) = dst {
            inotify::moved(to, from, id(d), d.is_dir(), None);
        }
        return;
    }
    let target = dst.as_ref().map(|d| Replaced {
        id: id(d),
        is_dir: d.is_dir(),
        fate: fate(d),
    });
    inotify::moved(from, to, id(src), src.is_dir(), target);
}
