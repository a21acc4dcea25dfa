//! The client side, for the Sentry: a method per request, blocking, thread-safe (one
//! request in flight at a time on one connection).

use std::os::fd::{AsFd, OwnedFd};
use std::sync::Mutex;

use crate::protocol::*;
use crate::wire;
use crate::Error;

/// What a walk resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Walked {
    /// A node and its status per component resolved, in order. The walk stops after a
    /// symlink (the last entry then has `S_IFLNK`; the client follows it, the host never
    /// does).
    pub entries: Vec<(NodeId, Stat)>,
    /// Why the component after the last entry could not be resolved.
    pub error: Option<Errno>,
}

struct Conn {
    sock: OwnedFd,
    next_tag: u32,
    buf: Vec<u8>,
    broken: bool,
}

/// How long a caller polls for a reply before sleeping: most requests are answered
/// within it.
const CLIENT_SPIN: std::time::Duration = std::time::Duration::from_micros(100);

/// A connection to a gofer.
pub struct Client {
    conn: Mutex<Conn>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").finish_non_exhaustive()
    }
}

fn name(b: &[u8]) -> Result<Name, Error> {
    Name::new(b).map_err(Error::Request)
}

fn unexpected(tag: u32, op: Op) -> Error {
    Error::Reply(ProtocolError::Unexpected { tag, op: op as u16 })
}

impl Client {
    /// A client on `sock`, one end of a `SOCK_SEQPACKET` pair whose other end a gofer serves.
    pub fn new(sock: OwnedFd) -> Client {
        Client {
            conn: Mutex::new(Conn {
                sock,
                next_tag: 1,
                buf: vec![0u8; MAX_MESSAGE],
                broken: false,
            }),
        }
    }

    /// Sends `req`, waits for its reply. A reply that breaks the protocol, or a failed
    /// socket, leaves the connection unusable (later calls get [`Error::Disconnected`]).
    pub fn call(&self, req: &Request) -> Result<(Reply, Option<OwnedFd>), Error> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        if conn.broken {
            return Err(Error::Disconnected);
        }
        let tag = conn.next_tag;
        conn.next_tag = conn.next_tag.wrapping_add(1);
        let msg = req.encode(tag).map_err(Error::Request)?;
        let r = Self::exchange(&mut conn, tag, req.op(), &msg);
        if matches!(
            r,
            Err(Error::Reply(_) | Error::Host { .. } | Error::Disconnected)
        ) {
            conn.broken = true;
        }
        r
    }

    fn exchange(
        conn: &mut Conn,
        tag: u32,
        op: Op,
        msg: &[u8],
    ) -> Result<(Reply, Option<OwnedFd>), Error> {
        if let Err(source) = wire::send(conn.sock.as_fd(), msg, None) {
            return Err(match source.raw_os_error() {
                Some(libc::EPIPE) | Some(libc::ECONNRESET) => Error::Disconnected,
                _ => Error::Host {
                    what: "sending a gofer request",
                    source,
                },
            });
        }
        let Conn { sock, buf, .. } = conn;
        let pkt = match wire::recv_spin(sock.as_fd(), buf, CLIENT_SPIN) {
            Ok(Some(p)) => p,
            Ok(None) => return Err(Error::Disconnected),
            Err(source) if source.raw_os_error() == Some(libc::ECONNRESET) => {
                return Err(Error::Disconnected)
            }
            Err(source) => {
                return Err(Error::Host {
                    what: "receiving a gofer reply",
                    source,
                })
            }
        };
        if pkt.truncated {
            return Err(Error::Reply(ProtocolError::TooLong));
        }
        let (rtag, rop, result) = decode_reply(&buf[..pkt.len]).map_err(Error::Reply)?;
        if rtag != tag || rop != op {
            return Err(unexpected(rtag, rop));
        }
        let mut fds = pkt.fds;
        let want_fd = result.is_ok() && carries_fd(op);
        if pkt.fds_truncated || fds.len() != want_fd as usize {
            return Err(Error::Reply(ProtocolError::Fds(fds.len())));
        }
        match result {
            Ok(r) => Ok((r, fds.pop())),
            Err(e) => Err(Error::Errno(e)),
        }
    }

    fn plain(&self, req: Request) -> Result<Reply, Error> {
        let op = req.op();
        match self.call(&req)? {
            (r, None) => Ok(r),
            (_, Some(_)) => Err(unexpected(0, op)),
        }
    }

    fn node_reply(&self, req: Request) -> Result<(NodeId, Stat), Error> {
        let op = req.op();
        match self.plain(req)? {
            Reply::Node(id, st) => Ok((id, st)),
            _ => Err(unexpected(0, op)),
        }
    }

    fn done(&self, req: Request) -> Result<(), Error> {
        let op = req.op();
        match self.plain(req)? {
            Reply::Done => Ok(()),
            _ => Err(unexpected(0, op)),
        }
    }

    /// Resolves `names` one by one from the directory `node`.
    pub fn walk(&self, node: NodeId, names: &[&[u8]]) -> Result<Walked, Error> {
        let names = names.iter().map(|n| name(n)).collect::<Result<_, _>>()?;
        match self.plain(Request::Walk { node, names })? {
            Reply::Walk { entries, error } => Ok(Walked { entries, error }),
            _ => Err(unexpected(0, Op::Walk)),
        }
    }

    /// The status of `node`.
    pub fn stat(&self, node: NodeId) -> Result<Stat, Error> {
        match self.plain(Request::Stat { node })? {
            Reply::Stat(st) => Ok(st),
            _ => Err(unexpected(0, Op::Stat)),
        }
    }

    /// Opens `node` for I/O (`O_RDONLY`/`O_WRONLY`/`O_RDWR` | [`OPEN_FLAGS`]); the host
    /// descriptor is ours.
    pub fn open(&self, node: NodeId, flags: i32) -> Result<OwnedFd, Error> {
        match self.call(&Request::Open {
            node,
            flags: flags as u32,
        })? {
            (Reply::Opened, Some(fd)) => Ok(fd),
            _ => Err(unexpected(0, Op::Open)),
        }
    }

    /// The target of the symlink `node`.
    pub fn readlink(&self, node: NodeId) -> Result<Vec<u8>, Error> {
        match self.plain(Request::Readlink { node })? {
            Reply::Target(t) => Ok(t),
            _ => Err(unexpected(0, Op::Readlink)),
        }
    }

    /// Entries of the directory `node` from `offset` (0 for the start; then the `off` of
    /// the last entry got), reading at most `max_bytes` (<= [`MAX_GETDENTS`]) of host
    /// dirents. Empty at the end.
    pub fn getdents(
        &self,
        node: NodeId,
        offset: u64,
        max_bytes: u32,
    ) -> Result<Vec<Dirent>, Error> {
        let req = Request::Getdents {
            node,
            offset,
            max_bytes: max_bytes.min(MAX_GETDENTS),
        };
        match self.plain(req)? {
            Reply::Dirents(d) => Ok(d),
            _ => Err(unexpected(0, Op::Getdents)),
        }
    }

    /// Creates (exclusively) and opens the regular file `name` in `dir`.
    pub fn create(
        &self,
        dir: NodeId,
        name_: &[u8],
        flags: i32,
        mode: u32,
        owner: Owner,
    ) -> Result<(NodeId, Stat, OwnedFd), Error> {
        let req = Request::Create {
            dir,
            name: name(name_)?,
            flags: flags as u32,
            mode,
            owner,
        };
        match self.call(&req)? {
            (Reply::Node(id, st), Some(fd)) => Ok((id, st, fd)),
            _ => Err(unexpected(0, Op::Create)),
        }
    }

    /// Makes the directory `name` in `dir`.
    pub fn mkdir(
        &self,
        dir: NodeId,
        name_: &[u8],
        mode: u32,
        owner: Owner,
    ) -> Result<(NodeId, Stat), Error> {
        let name = name(name_)?;
        self.node_reply(Request::Mkdir {
            dir,
            name,
            mode,
            owner,
        })
    }

    /// Makes a regular file, fifo or socket (`mode` holds the type) `name` in `dir`.
    pub fn mknod(
        &self,
        dir: NodeId,
        name_: &[u8],
        mode: u32,
        owner: Owner,
    ) -> Result<(NodeId, Stat), Error> {
        let name = name(name_)?;
        self.node_reply(Request::Mknod {
            dir,
            name,
            mode,
            owner,
        })
    }

    /// Makes the symlink `name` in `dir` pointing at `target`.
    pub fn symlink(
        &self,
        dir: NodeId,
        name_: &[u8],
        target: &[u8],
        owner: Owner,
    ) -> Result<(NodeId, Stat), Error> {
        let name = name(name_)?;
        self.node_reply(Request::Symlink {
            dir,
            name,
            target: target.to_vec(),
            owner,
        })
    }

    /// Gives the file `target` the new name `name` in `dir`.
    pub fn link(&self, dir: NodeId, name_: &[u8], target: NodeId) -> Result<(NodeId, Stat), Error> {
        let name = name(name_)?;
        self.node_reply(Request::Link { dir, name, target })
    }

    /// Removes `name` from `dir` (`flags`: 0 or `AT_REMOVEDIR`).
    pub fn unlink(&self, dir: NodeId, name_: &[u8], flags: i32) -> Result<(), Error> {
        let name = name(name_)?;
        self.done(Request::Unlink {
            dir,
            name,
            flags: flags as u32,
        })
    }

    /// Renames (`flags`: `RENAME_NOREPLACE`, `RENAME_EXCHANGE`).
    pub fn rename(
        &self,
        old_dir: NodeId,
        old_name: &[u8],
        new_dir: NodeId,
        new_name: &[u8],
        flags: u32,
    ) -> Result<(), Error> {
        self.done(Request::Rename {
            old_dir,
            old_name: name(old_name)?,
            new_dir,
            new_name: name(new_name)?,
            flags,
        })
    }

    /// Changes attributes; the status after.
    pub fn setattr(&self, node: NodeId, attr: SetAttr) -> Result<Stat, Error> {
        match self.plain(Request::Setattr { node, attr })? {
            Reply::Stat(st) => Ok(st),
            _ => Err(unexpected(0, Op::Setattr)),
        }
    }

    /// The status of the filesystem holding `node`.
    pub fn statfs(&self, node: NodeId) -> Result<StatFs, Error> {
        match self.plain(Request::Statfs { node })? {
            Reply::StatFs(s) => Ok(s),
            _ => Err(unexpected(0, Op::Statfs)),
        }
    }

    /// Flushes `node` (a regular file or directory) to disk.
    pub fn fsync(&self, node: NodeId, datasync: bool) -> Result<(), Error> {
        self.done(Request::Fsync { node, datasync })
    }

    /// The value of the extended attribute `name` (`user.*` only).
    pub fn getxattr(&self, node: NodeId, name: &[u8]) -> Result<Vec<u8>, Error> {
        let req = Request::Getxattr {
            node,
            name: name.to_vec(),
        };
        match self.plain(req)? {
            Reply::Value(v) => Ok(v),
            _ => Err(unexpected(0, Op::Getxattr)),
        }
    }

    /// Sets the extended attribute `name` (`flags`: `XATTR_CREATE`, `XATTR_REPLACE`).
    pub fn setxattr(
        &self,
        node: NodeId,
        name: &[u8],
        value: &[u8],
        flags: i32,
    ) -> Result<(), Error> {
        self.done(Request::Setxattr {
            node,
            name: name.to_vec(),
            value: value.to_vec(),
            flags: flags as u32,
        })
    }

    /// The `user.*` extended attribute names of `node`.
    pub fn listxattr(&self, node: NodeId) -> Result<Vec<Vec<u8>>, Error> {
        match self.plain(Request::Listxattr { node })? {
            Reply::Names(n) => Ok(n),
            _ => Err(unexpected(0, Op::Listxattr)),
        }
    }

    /// Removes the extended attribute `name`.
    pub fn removexattr(&self, node: NodeId, name: &[u8]) -> Result<(), Error> {
        self.done(Request::Removexattr {
            node,
            name: name.to_vec(),
        })
    }

    /// Forgets `nodes` (in batches of [`MAX_CLOSE`]); the root is never closed.
    pub fn close(&self, nodes: &[NodeId]) -> Result<(), Error> {
        for chunk in nodes.chunks(MAX_CLOSE) {
            self.done(Request::Close {
                nodes: chunk.to_vec(),
            })?;
        }
        Ok(())
    }
}
