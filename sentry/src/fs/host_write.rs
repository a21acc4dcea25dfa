//! Changes to the root asked of a writable gofer (write-through mode, `rvisor do
//! --overlay=none`). Each names a directory the Sentry looked up and a component in it; the
//! gofer makes the change relative to the directory it holds, never following a symlink,
//! and gives new files the owner asked for. The caller checks permissions with the
//! application's credentials first (the gofer runs as the host's root).

use std::sync::Arc;

use gofer::protocol::{NodeId, Owner, SetAttr};

use super::host::{gofer_errno, host_stat, release, HostFile, HostRoot, Lookup};
use crate::errno::Errno;

impl HostRoot {
    /// Hands back a node the gofer gave for a file just made (the Sentry walks again when
    /// it needs it), with the next batch of released nodes.
    fn forget(&self, node: NodeId) {
        release(&self.client, &self.unused, &[node]);
    }

    /// Creates (exclusively) the regular file `name` in `dir` with permission bits `mode`
    /// and `owner`, and opens it with `flags` (`O_ACCMODE` and the gofer's open flags).
    pub fn create(
        &self,
        dir: &Lookup,
        name: &[u8],
        flags: i32,
        mode: u32,
        owner: Owner,
    ) -> Result<Arc<HostFile>, Errno> {
        let (node, _, fd) = self
            .client
            .create(dir.node, name, flags, mode, owner)
            .map_err(gofer_errno)?;
        self.forget(node);
        let mut path = dir.path.clone();
        if path != b"/" {
            path.push(b'/');
        }
        path.extend_from_slice(name);
        Ok(Arc::new(HostFile::new(fd, &path, self.ids().clone())))
    }

    /// Makes the directory `name` in `dir`.
    pub fn mkdir(&self, dir: &Lookup, name: &[u8], mode: u32, owner: Owner) -> Result<(), Errno> {
        let (node, _) = self
            .client
            .mkdir(dir.node, name, mode, owner)
            .map_err(gofer_errno)?;
        self.forget(node);
        Ok(())
    }

    /// Makes a regular file, fifo or socket (`mode` holds the type) `name` in `dir`.
    pub fn mknod(&self, dir: &Lookup, name: &[u8], mode: u32, owner: Owner) -> Result<(), Errno> {
        let (node, _) = self
            .client
            .mknod(dir.node, name, mode, owner)
            .map_err(gofer_errno)?;
        self.forget(node);
        Ok(())
    }

    /// Makes the symlink `name` in `dir` pointing at `target`.
    pub fn symlink(
        &self,
        dir: &Lookup,
        name: &[u8],
        target: &[u8],
        owner: Owner,
    ) -> Result<(), Errno> {
        let (node, _) = self
            .client
            .symlink(dir.node, name, target, owner)
            .map_err(gofer_errno)?;
        self.forget(node);
        Ok(())
    }

    /// Gives the file `target` the new name `name` in `dir`.
    pub fn link(&self, dir: &Lookup, name: &[u8], target: &Lookup) -> Result<(), Errno> {
        let (node, _) = self
            .client
            .link(dir.node, name, target.node)
            .map_err(gofer_errno)?;
        self.forget(node);
        Ok(())
    }

    /// Removes `name` from `dir` (a directory with `rmdir`).
    pub fn unlink(&self, dir: &Lookup, name: &[u8], rmdir: bool) -> Result<(), Errno> {
        let flags = if rmdir { libc::AT_REMOVEDIR } else { 0 };
        self.client
            .unlink(dir.node, name, flags)
            .map_err(gofer_errno)
    }

    /// Renames `old_name` in `old_dir` to `new_name` in `new_dir` (`flags`:
    /// `RENAME_NOREPLACE` or `RENAME_EXCHANGE`).
    pub fn rename(
        &self,
        old_dir: &Lookup,
        old_name: &[u8],
        new_dir: &Lookup,
        new_name: &[u8],
        flags: u32,
    ) -> Result<(), Errno> {
        self.client
            .rename(old_dir.node, old_name, new_dir.node, new_name, flags)
            .map_err(gofer_errno)
    }

    /// Changes attributes of what `l` names (a symlink itself, not its target); its status
    /// after.
    pub fn setattr(&self, l: &Lookup, attr: SetAttr) -> Result<libc::stat, Errno> {
        self.client
            .setattr(l.node, attr)
            .map(|st| host_stat(&st))
            .map_err(gofer_errno)
    }
}
