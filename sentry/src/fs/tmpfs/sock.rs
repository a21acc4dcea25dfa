//! Socket files: the names AF_UNIX sockets bind to (bind(2) creates one, connect(2) finds the
//! socket behind it). The inode holds the socket weakly: once the socket is closed the file
//! stays, and connecting to it is refused, as on Linux.

use std::any::Any;
use std::sync::{Arc, Weak};

use super::inode::{rlock, Inode, Kind};
use super::{Creds, Resolution, Tmpfs};
use crate::errno::Errno;
use crate::fs::file::Stat;

/// What a socket file's inode refers to.
pub type BoundSocket = Weak<dyn Any + Send + Sync>;

impl Tmpfs {
    /// mknod(S_IFSOCK) for bind(2): a socket file at `path` (mode & 0777 & ~umask) bound to
    /// `bound`. EEXIST if the name exists (a dangling symlink included), ENOENT for a missing
    /// directory or a trailing slash, ENOTDIR for a non-directory on the way.
    pub fn mksock(
        &self,
        path: &[u8],
        mode: u32,
        creds: &Creds,
        bound: BoundSocket,
    ) -> Result<Resolution<()>, Errno> {
        let perm = mode & 0o777 & !creds.umask;
        self.create_leaf(path, creds, perm, |ino, gid, perm| {
            Ok(Inode::new_socket(
                ino, self.dev, perm, creds.uid, gid, bound,
            ))
        })
    }

    /// The socket bound to the socket file `path` (symlinks followed) as `creds` finds it,
    /// with the file's stat; None if the file is not a socket file or its socket is gone.
    #[allow(clippy::type_complexity)]
    pub fn bound_socket(
        &self,
        path: &[u8],
        creds: &Creds,
    ) -> Result<Resolution<(Stat, Option<Arc<dyn Any + Send + Sync>>)>, Errno> {
        let _r = rlock(&self.tree);
        Ok(self.lookup(path, true, creds)?.map(|inode| {
            let bound = match &inode.kind {
                Kind::Socket(w) => w.upgrade(),
                _ => None,
            };
            (inode.stat(), bound)
        }))
    }
}
