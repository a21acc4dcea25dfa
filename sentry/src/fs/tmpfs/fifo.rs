//! mknod(2) on tmpfs: named pipes, empty regular files and socket inodes; opening a named
//! pipe.

use std::sync::{Arc, Weak};

use super::inode::{Inode, Kind};
use super::sock::BoundSocket;
use super::{Creds, Resolution, Tmpfs};
use crate::errno::Errno;
use crate::fs::file::FileOps;
use crate::fs::pipe::named::NamedPipe;

/// What mknod(2) makes, from the S_IFMT bits of its mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeType {
    /// S_IFREG or 0: an empty regular file.
    Regular,
    /// S_IFIFO: a named pipe.
    Fifo,
    /// S_IFSOCK: a socket inode no socket is bound to (connect is refused).
    Socket,
    /// S_IFCHR or S_IFBLK: refused (EPERM), the sandbox never makes device nodes.
    Device,
}

impl NodeType {
    /// The type mknod's `mode` asks for: EPERM for a directory, EINVAL for a type mknod
    /// does not make (as Linux's may_mknod).
    pub fn from_mode(mode: u32) -> Result<NodeType, Errno> {
        match mode & libc::S_IFMT {
            0 | libc::S_IFREG => Ok(NodeType::Regular),
            libc::S_IFIFO => Ok(NodeType::Fifo),
            libc::S_IFSOCK => Ok(NodeType::Socket),
            libc::S_IFCHR | libc::S_IFBLK => Ok(NodeType::Device),
            libc::S_IFDIR => Err(Errno::EPERM),
            _ => Err(Errno::EINVAL),
        }
    }
}

impl Tmpfs {
    /// mknod(2): makes `path` of type `ty` with permission bits `mode & 07777 & ~umask`.
    /// EEXIST if the name exists (a dangling symlink, ".", ".." and the root included),
    /// ENOENT for a missing directory or a trailing slash, ENOTDIR for a non-directory on
    /// the way, EPERM for device nodes (after those checks, as Linux's CAP_MKNOD check).
    pub fn mknod(
        &self,
        path: &[u8],
        ty: NodeType,
        mode: u32,
        creds: &Creds,
    ) -> Result<Resolution<()>, Errno> {
        let perm = mode & 0o7777 & !creds.umask;
        let (dev, uid) = (self.dev, creds.uid);
        self.create_leaf(path, creds, perm, |ino, gid, perm| {
            Ok(match ty {
                NodeType::Device => return Err(Errno::EPERM),
                NodeType::Regular => {
                    Inode::new_file(ino, dev, perm, uid, gid, 1, self.shared.clone())
                }
                NodeType::Fifo => Inode::new_node(
                    ino,
                    dev,
                    libc::S_IFIFO | perm,
                    uid,
                    gid,
                    Kind::Fifo(NamedPipe::default()),
                ),
                NodeType::Socket => {
                    let none: BoundSocket = Weak::<()>::new();
                    Inode::new_node(
                        ino,
                        dev,
                        libc::S_IFSOCK | perm,
                        uid,
                        gid,
                        Kind::Socket(none),
                    )
                }
            })
        })
    }

    /// Makes the character device `path` (kernel-internal: filling /dev), owned by root.
    pub fn make_char_device(&self, path: &[u8], perm: u32, rdev: u64) -> Result<(), Errno> {
        self.make_device(path, perm, rdev, false)
    }

    /// Makes the character (or, `block`, block) device `path` (kernel-internal: filling
    /// /dev), owned by root.
    pub fn make_device(&self, path: &[u8], perm: u32, rdev: u64, block: bool) -> Result<(), Errno> {
        let dev = self.dev;
        let (ty, kind) = if block {
            (libc::S_IFBLK, Kind::BlockDev(rdev))
        } else {
            (libc::S_IFCHR, Kind::CharDev(rdev))
        };
        match self.create_leaf(path, &Creds::ROOT, perm, |ino, gid, perm| {
            Ok(Inode::new_node(ino, dev, ty | perm, 0, gid, kind))
        })? {
            Resolution::Done(()) => Ok(()),
            Resolution::Escape { .. } => Err(Errno::EXDEV),
        }
    }

    /// Opens the named pipe `inode` (no lock held: this may wait for the other side).
    pub(super) fn open_fifo(
        &self,
        inode: Arc<Inode>,
        flags: u32,
    ) -> Result<Arc<dyn FileOps>, Errno> {
        let Kind::Fifo(pipe) = &inode.kind else {
            return Err(Errno::EINVAL);
        };
        let of = inode.clone();
        pipe.open(flags, Arc::new(move || of.stat()))
    }
}
