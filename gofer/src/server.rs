//! The server side: one connection, one node table.
//!
//! A node is an `O_PATH` descriptor for one file, plus the directory and name it was found
//! under. Every component is resolved with `openat2(parent, name, O_PATH | O_NOFOLLOW,
//! RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS)`, so the host never
//! follows a symlink and never leaves the root; everything else is done on the node's own
//! descriptor (`AT_EMPTY_PATH`) or relative to its parent's. A file is opened for I/O by
//! name from its parent (with `O_NONBLOCK`, so a fifo swapped in cannot block us) and
//! checked to be the same inode as the node, else ESTALE.

use std::collections::BTreeMap;
use std::ffi::CString;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;

use crate::host;
use crate::idmap::IdMaps;
use crate::protocol::*;
use crate::wire;
use crate::Error;

/// Most nodes one connection may hold.
pub const MAX_NODES: usize = 1 << 20;

use libc::{S_IFDIR, S_IFLNK, S_IFREG, S_IFSOCK};

fn e(n: i32) -> Errno {
    Errno(n)
}

/// Serves connections over one root.
#[derive(Debug)]
pub struct Server {
    root: Arc<OwnedFd>,
    root_stat: Stat,
    read_only: bool,
    /// The sandbox's user namespace mappings.
    ids: IdMaps,
}

/// Where a node was found: its directory and its name there.
#[derive(Clone, Debug)]
struct Parent {
    fd: Arc<OwnedFd>,
    dev: u64,
    ino: u64,
    name: CString,
}

impl Parent {
    fn same(&self, o: &Parent) -> bool {
        self.dev == o.dev && self.ino == o.ino && self.name == o.name
    }
}

#[derive(Debug)]
struct Node {
    fd: Arc<OwnedFd>,
    dev: u64,
    ino: u64,
    kind: u32,
    parent: Option<Parent>,
    /// The directory opened for reading, kept for getdents.
    dir: Option<OwnedFd>,
}

/// What [`Conn::adopt`] expects to find under the name just made.
#[derive(Clone, Copy)]
enum Made<'a> {
    /// This inode (a created or linked file).
    Inode(&'a Stat),
    /// A file of this type (`S_IF*`) made by `mkdirat`, `mknodat`, `symlinkat`.
    Kind(u32),
}

fn cname(name: &Name) -> Result<CString, Errno> {
    CString::new(name.as_bytes()).map_err(|_| e(libc::EINVAL))
}

/// Opens the file `n` for I/O (or for an operation `O_PATH` cannot do).
fn reopen(n: &Node, flags: i32) -> Result<OwnedFd, Errno> {
    let fd = match n.kind {
        S_IFDIR => host::open_beneath(n.fd.as_fd(), c".", flags | libc::O_DIRECTORY, 0)?,
        S_IFREG => {
            let p = n.parent.as_ref().ok_or(e(libc::ESTALE))?;
            host::open_beneath(p.fd.as_fd(), &p.name, flags | libc::O_NONBLOCK, 0)?
        }
        S_IFLNK => return Err(e(libc::ELOOP)),
        S_IFSOCK => return Err(e(libc::ENXIO)),
        _ => return Err(e(libc::EPERM)),
    };
    let st = host::fstat(fd.as_fd())?;
    if (st.dev, st.ino) != (n.dev, n.ino) {
        return Err(e(libc::ESTALE));
    }
    if n.kind == S_IFREG && flags & libc::O_NONBLOCK == 0 {
        host::clear_nonblock(fd.as_fd())?;
    }
    Ok(fd)
}

fn xattr_name(name: &[u8]) -> Result<CString, Errno> {
    if !name.starts_with(b"user.") || name.len() == 5 {
        return Err(e(libc::EOPNOTSUPP));
    }
    CString::new(name).map_err(|_| e(libc::EINVAL))
}

impl Server {
    /// A server over `root` (a directory, `O_PATH` or not).
    pub fn new(root: OwnedFd, read_only: bool) -> Result<Server, Error> {
        let root_stat = host::fstat(root.as_fd()).map_err(|e| Error::Host {
            what: "fstat of the root",
            source: std::io::Error::from_raw_os_error(e.0),
        })?;
        if !root_stat.is_dir() {
            return Err(Error::RootNotDir);
        }
        Ok(Server {
            root: Arc::new(root),
            root_stat,
            read_only,
            ids: IdMaps::identity(),
        })
    }

    /// The server with the sandbox's user namespace mappings `ids`: requests give sandbox
    /// ids, replies show them, the host sees only the ids they stand for.
    pub fn with_ids(mut self, ids: IdMaps) -> Server {
        self.ids = ids;
        self
    }

    /// Serves `sock` until the peer hangs up (`Ok`). A malformed message, or a failure of
    /// the socket, is logged and closes the connection (`Err`); the server can go on to
    /// serve another.
    pub fn serve_connection(&self, sock: OwnedFd) -> Result<(), Error> {
        // Requests come in bursts (a walk, then an open): poll a while for the next one
        // before sleeping.
        const SERVER_SPIN: std::time::Duration = std::time::Duration::from_micros(200);
        let mut conn = Conn::new(self);
        let mut buf = vec![0u8; MAX_MESSAGE];
        loop {
            let pkt = match wire::recv_spin(sock.as_fd(), &mut buf, SERVER_SPIN) {
                Ok(None) => {
                    tracing::debug!("gofer: peer hung up");
                    return Ok(());
                }
                Ok(Some(p)) => p,
                Err(source) => {
                    tracing::warn!(error = %source, "gofer: receiving a request failed");
                    return Err(Error::Host {
                        what: "receiving a request",
                        source,
                    });
                }
            };
            let decoded = if pkt.truncated {
                Err(ProtocolError::TooLong)
            } else if !pkt.fds.is_empty() || pkt.fds_truncated {
                Err(ProtocolError::Fds(pkt.fds.len()))
            } else {
                Request::decode(&buf[..pkt.len])
            };
            drop(pkt.fds);
            let (tag, req) = match decoded {
                Ok(d) => d,
                Err(err) => {
                    tracing::warn!(error = %err, "gofer: malformed request; closing the connection");
                    return Err(Error::Malformed(err));
                }
            };
            let op = req.op();
            tracing::trace!(?req, "gofer: request");
            let (result, fd) = conn.handle(req);
            let (msg, fd) = match encode_reply(tag, op, &result) {
                Ok(m) => (m, fd),
                Err(err) => {
                    tracing::warn!(error = %err, ?op, "gofer: reply does not fit the protocol");
                    (
                        encode_reply(tag, op, &Err(e(libc::EIO))).map_err(Error::Malformed)?,
                        None,
                    )
                }
            };
            if let Err(source) = wire::send(sock.as_fd(), &msg, fd.as_ref().map(|f| f.as_fd())) {
                if source.raw_os_error() == Some(libc::EPIPE) {
                    tracing::debug!("gofer: peer hung up before the reply");
                    return Ok(());
                }
                tracing::warn!(error = %source, "gofer: sending a reply failed");
                return Err(Error::Host {
                    what: "sending a reply",
                    source,
                });
            }
        }
    }
}

struct Conn<'s> {
    server: &'s Server,
    nodes: BTreeMap<NodeId, Node>,
    next: NodeId,
}

type Res = Result<Reply, Errno>;

impl<'s> Conn<'s> {
    fn new(server: &'s Server) -> Conn<'s> {
        let mut nodes = BTreeMap::new();
        let st = &server.root_stat;
        nodes.insert(
            ROOT,
            Node {
                fd: server.root.clone(),
                dev: st.dev,
                ino: st.ino,
                kind: S_IFDIR,
                parent: None,
                dir: None,
            },
        );
        Conn {
            server,
            nodes,
            next: ROOT + 1,
        }
    }

    fn node(&self, id: NodeId) -> Result<&Node, Errno> {
        self.nodes.get(&id).ok_or(e(libc::EBADF))
    }

    /// The directory `dir` and `name` in it, as the parent of a file to be made or changed.
    fn parent(&self, dir: NodeId, name: &Name) -> Result<Parent, Errno> {
        let d = self.node(dir)?;
        if d.kind != S_IFDIR {
            return Err(e(libc::ENOTDIR));
        }
        Ok(Parent {
            fd: d.fd.clone(),
            dev: d.dev,
            ino: d.ino,
            name: cname(name)?,
        })
    }

    fn room(&self) -> Result<(), Errno> {
        if self.nodes.len() >= MAX_NODES {
            return Err(e(libc::ENFILE));
        }
        Ok(())
    }

    fn insert(&mut self, fd: OwnedFd, st: &Stat, parent: Parent) -> NodeId {
        let id = self.next;
        self.next += 1;
        self.nodes.insert(
            id,
            Node {
                fd: Arc::new(fd),
                dev: st.dev,
                ino: st.ino,
                kind: st.file_type(),
                parent: Some(parent),
                dir: None,
            },
        );
        id
    }

    fn handle(&mut self, mut req: Request) -> (Res, Option<OwnedFd>) {
        if let Err(err) = self.server.ids.request_in(&mut req) {
            return (Err(err), None);
        }
        let (mut res, fd) = self.handle_host(req);
        if let Ok(reply) = res.as_mut() {
            self.server.ids.reply_out(reply);
        }
        (res, fd)
    }

    /// [`Conn::handle`] in host ids.
    fn handle_host(&mut self, req: Request) -> (Res, Option<OwnedFd>) {
        if !req.flags_valid() {
            return (Err(e(libc::EINVAL)), None);
        }
        if self.server.read_only && req.mutates() {
            return (Err(e(libc::EROFS)), None);
        }
        match req {
            Request::Open { node, flags } => match self.open(node, flags as i32) {
                Ok(fd) => (Ok(Reply::Opened), Some(fd)),
                Err(err) => (Err(err), None),
            },
            Request::Create {
                dir,
                name,
                flags,
                mode,
                owner,
            } => match self.create(dir, &name, flags as i32, mode, owner) {
                Ok((id, st, fd)) => (Ok(Reply::Node(id, st)), Some(fd)),
                Err(err) => (Err(err), None),
            },
            other => (self.handle_plain(other), None),
        }
    }

    fn handle_plain(&mut self, req: Request) -> Res {
        match req {
            Request::Walk { node, names } => self.walk(node, &names),
            Request::Stat { node } => Ok(Reply::Stat(host::fstat(self.node(node)?.fd.as_fd())?)),
            Request::Readlink { node } => {
                let n = self.node(node)?;
                if n.kind != S_IFLNK {
                    return Err(e(libc::EINVAL));
                }
                Ok(Reply::Target(host::readlink(n.fd.as_fd())?))
            }
            Request::Getdents {
                node,
                offset,
                max_bytes,
            } => self.getdents(node, offset, max_bytes),
            Request::Mkdir {
                dir,
                name,
                mode,
                owner,
            } => {
                let p = self.parent(dir, &name)?;
                self.room()?;
                host::mkdirat(p.fd.as_fd(), &p.name, mode & 0o7777)?;
                self.adopt(p, owner, libc::AT_REMOVEDIR, Made::Kind(S_IFDIR))
            }
            Request::Mknod {
                dir,
                name,
                mode,
                owner,
            } => {
                let kind = match mode & libc::S_IFMT {
                    0 | S_IFREG => S_IFREG,
                    k @ (libc::S_IFIFO | S_IFSOCK) => k,
                    _ => return Err(e(libc::EPERM)),
                };
                let p = self.parent(dir, &name)?;
                self.room()?;
                host::mknodat(p.fd.as_fd(), &p.name, kind | (mode & 0o7777))?;
                self.adopt(p, owner, 0, Made::Kind(kind))
            }
            Request::Symlink {
                dir,
                name,
                target,
                owner,
            } => {
                let p = self.parent(dir, &name)?;
                self.room()?;
                let t = CString::new(target).map_err(|_| e(libc::EINVAL))?;
                host::symlinkat(&t, p.fd.as_fd(), &p.name)?;
                self.adopt(p, owner, 0, Made::Kind(S_IFLNK))
            }
            Request::Link { dir, name, target } => self.link(dir, &name, target),
            Request::Unlink { dir, name, flags } => {
                let p = self.parent(dir, &name)?;
                host::unlinkat(p.fd.as_fd(), &p.name, flags as i32)?;
                Ok(Reply::Done)
            }
            Request::Rename {
                old_dir,
                old_name,
                new_dir,
                new_name,
                flags,
            } => self.rename(old_dir, &old_name, new_dir, &new_name, flags),
            Request::Setattr { node, attr } => self.setattr(node, &attr),
            Request::Statfs { node } => {
                Ok(Reply::StatFs(host::fstatfs(self.node(node)?.fd.as_fd())?))
            }
            Request::Fsync { node, datasync } => {
                let n = self.node(node)?;
                if n.kind != S_IFREG && n.kind != S_IFDIR {
                    return Err(e(libc::EINVAL));
                }
                // Nothing was written through a read-only gofer: nothing to flush (and its
                // filter has no fsync).
                if self.server.read_only {
                    return Ok(Reply::Done);
                }
                host::fsync(reopen(n, libc::O_RDONLY)?.as_fd(), datasync)?;
                Ok(Reply::Done)
            }
            Request::Getxattr { node, name } => self.getxattr(node, &name),
            Request::Setxattr {
                node,
                name,
                value,
                flags,
            } => {
                let c = xattr_name(&name)?;
                let f = self.xattr_fd(node, libc::EPERM)?;
                host::fsetxattr(f.as_fd(), &c, &value, flags as i32)?;
                Ok(Reply::Done)
            }
            Request::Removexattr { node, name } => {
                let c = xattr_name(&name)?;
                let f = self.xattr_fd(node, libc::EPERM)?;
                host::fremovexattr(f.as_fd(), &c)?;
                Ok(Reply::Done)
            }
            Request::Listxattr { node } => self.listxattr(node),
            Request::Close { nodes } => {
                let mut unknown = false;
                for id in nodes {
                    if id != ROOT && self.nodes.remove(&id).is_none() {
                        unknown = true;
                    }
                }
                if unknown {
                    return Err(e(libc::EBADF));
                }
                Ok(Reply::Done)
            }
            Request::Open { .. } | Request::Create { .. } => Err(e(libc::EINVAL)),
        }
    }

    fn walk(&mut self, start: NodeId, names: &[Name]) -> Res {
        let d = self.node(start)?;
        if d.kind != S_IFDIR {
            return Err(e(libc::ENOTDIR));
        }
        let (mut fd, mut dev, mut ino) = (d.fd.clone(), d.dev, d.ino);
        let mut entries = Vec::new();
        let mut error = None;
        for (i, name) in names.iter().enumerate() {
            if let Err(err) = self.room() {
                error = Some(err);
                break;
            }
            let c = cname(name)?;
            let found = host::open_beneath(fd.as_fd(), &c, libc::O_PATH, 0)
                .and_then(|f| Ok((host::fstat(f.as_fd())?, f)));
            let (st, child) = match found {
                Ok(x) => x,
                Err(err) => {
                    error = Some(err);
                    break;
                }
            };
            let parent = Parent {
                fd: fd.clone(),
                dev,
                ino,
                name: c,
            };
            let id = self.insert(child, &st, parent);
            entries.push((id, st));
            if !st.is_dir() {
                if !st.is_symlink() && i + 1 < names.len() {
                    error = Some(e(libc::ENOTDIR));
                }
                break;
            }
            fd = self.node(id)?.fd.clone();
            (dev, ino) = (st.dev, st.ino);
        }
        match (entries.is_empty(), error) {
            (true, Some(err)) => Err(err),
            (_, error) => Ok(Reply::Walk { entries, error }),
        }
    }

    fn open(&mut self, id: NodeId, flags: i32) -> Result<OwnedFd, Errno> {
        let acc = flags & libc::O_ACCMODE;
        if self.server.read_only && (acc != libc::O_RDONLY || flags & libc::O_TRUNC != 0) {
            return Err(e(libc::EROFS));
        }
        let n = self.node(id)?;
        if flags & libc::O_DIRECTORY != 0 && n.kind != S_IFDIR {
            return Err(e(libc::ENOTDIR));
        }
        if n.kind == S_IFDIR && acc != libc::O_RDONLY {
            return Err(e(libc::EISDIR));
        }
        let fd = reopen(n, flags & !(libc::O_TRUNC | libc::O_CLOEXEC | O_LARGEFILE))?;
        if flags & libc::O_TRUNC != 0 && acc != libc::O_RDONLY && n.kind == S_IFREG {
            host::ftruncate(fd.as_fd(), 0)?;
        }
        Ok(fd)
    }

    fn create(
        &mut self,
        dir: NodeId,
        name: &Name,
        flags: i32,
        mode: u32,
        owner: Owner,
    ) -> Result<(NodeId, Stat, OwnedFd), Errno> {
        if flags & libc::O_DIRECTORY != 0 {
            return Err(e(libc::EINVAL));
        }
        let p = self.parent(dir, name)?;
        self.room()?;
        let flags = (flags & !(libc::O_TRUNC | libc::O_CLOEXEC | O_LARGEFILE))
            | libc::O_CREAT
            | libc::O_EXCL;
        let fd = host::open_beneath(p.fd.as_fd(), &p.name, flags, mode & 0o7777)?;
        let st = host::fstat(fd.as_fd())?;
        match self.adopt(p, owner, 0, Made::Inode(&st))? {
            Reply::Node(id, st) => Ok((id, st, fd)),
            _ => Err(e(libc::EIO)),
        }
    }

    /// Makes a node of the file just made as `p`, giving it `owner`; if that fails the
    /// file is removed (`unlinkat` with `remove_flags`). The file found under the name must
    /// be what was made (`made`): that inode, or at least that type, else ESTALE and nothing
    /// is changed or removed.
    fn adopt(&mut self, p: Parent, owner: Owner, remove_flags: i32, made: Made<'_>) -> Res {
        let made = host::open_beneath(p.fd.as_fd(), &p.name, libc::O_PATH, 0).and_then(|fd| {
            let st = host::fstat(fd.as_fd())?;
            let same = match made {
                Made::Inode(x) => (x.dev, x.ino) == (st.dev, st.ino),
                Made::Kind(k) => st.file_type() == k,
            };
            if !same {
                return Err(e(libc::ESTALE));
            }
            // Only the ids that differ: any chown takes S_ISUID (and an executable
            // S_ISGID) from a non-directory, and a new file keeps the mode it was made with.
            let differ = |want: u32, have: u32| if want == have { KEEP_ID } else { want };
            host::chown(
                fd.as_fd(),
                differ(owner.uid, st.uid),
                differ(owner.gid, st.gid),
            )?;
            let now = host::fstat(fd.as_fd())?;
            if now.mode != st.mode && !st.is_symlink() {
                match host::chmod_empty_path(fd.as_fd(), st.mode & 0o7777) {
                    // Before Linux 6.6 the bits chown took stay taken.
                    Err(Errno(libc::ENOSYS)) => return Ok((now, fd)),
                    r => r?,
                }
                return Ok((host::fstat(fd.as_fd())?, fd));
            }
            Ok((now, fd))
        });
        match made {
            Ok((st, fd)) => Ok(Reply::Node(self.insert(fd, &st, p), st)),
            Err(err) => {
                if err.0 != libc::ESTALE {
                    let _ = host::unlinkat(p.fd.as_fd(), &p.name, remove_flags);
                }
                Err(err)
            }
        }
    }

    fn link(&mut self, dir: NodeId, name: &Name, target: NodeId) -> Res {
        let t = self.node(target)?;
        if t.kind == S_IFDIR {
            return Err(e(libc::EPERM));
        }
        let p = self.parent(dir, name)?;
        self.room()?;
        let (tfd, tparent) = (t.fd.clone(), t.parent.clone());
        let want = Stat {
            dev: t.dev,
            ino: t.ino,
            ..Stat::default()
        };
        match host::linkat(tfd.as_fd(), c"", p.fd.as_fd(), &p.name, libc::AT_EMPTY_PATH) {
            // Without CAP_DAC_READ_SEARCH: link the name it was found under (checked next).
            Err(Errno(libc::ENOENT)) => {
                let tp = tparent.ok_or(e(libc::ENOENT))?;
                host::linkat(tp.fd.as_fd(), &tp.name, p.fd.as_fd(), &p.name, 0)?;
            }
            r => r?,
        }
        let r = self.adopt(p.clone(), Owner::KEEP, 0, Made::Inode(&want));
        if r == Err(e(libc::ESTALE)) {
            let _ = host::unlinkat(p.fd.as_fd(), &p.name, 0);
        }
        r
    }

    fn rename(&mut self, od: NodeId, on: &Name, nd: NodeId, nn: &Name, flags: u32) -> Res {
        let old = self.parent(od, on)?;
        let new = self.parent(nd, nn)?;
        host::renameat2(old.fd.as_fd(), &old.name, new.fd.as_fd(), &new.name, flags)?;
        // Nodes found under the old name now live under the new one (and back for an
        // exchange); nodes of a replaced file keep a name that reopen will find stale.
        let exchange = flags & libc::RENAME_EXCHANGE != 0;
        for n in self.nodes.values_mut() {
            if let Some(p) = &mut n.parent {
                if p.same(&old) {
                    *p = new.clone();
                } else if exchange && p.same(&new) {
                    *p = old.clone();
                }
            }
        }
        Ok(Reply::Done)
    }

    fn setattr(&mut self, id: NodeId, a: &SetAttr) -> Res {
        let n = self.node(id)?;
        let fd = n.fd.as_fd();
        if a.uid.is_some() || a.gid.is_some() {
            host::chown(fd, a.uid.unwrap_or(KEEP_ID), a.gid.unwrap_or(KEEP_ID))?;
        }
        if let Some(size) = a.size {
            match n.kind {
                S_IFREG => host::ftruncate(reopen(n, libc::O_WRONLY)?.as_fd(), size as i64)?,
                S_IFDIR => return Err(e(libc::EISDIR)),
                _ => return Err(e(libc::EINVAL)),
            }
        }
        if let Some(mode) = a.mode {
            if n.kind == S_IFLNK {
                return Err(e(libc::EOPNOTSUPP));
            }
            match host::chmod_empty_path(fd, mode) {
                Err(Errno(libc::ENOSYS)) => {
                    host::fchmod(reopen(n, libc::O_RDONLY)?.as_fd(), mode)?;
                }
                r => r?,
            }
        }
        if a.atime.is_some() || a.mtime.is_some() {
            let ts = |t: Option<SetTime>| match t {
                None => libc::timespec {
                    tv_sec: 0,
                    tv_nsec: libc::UTIME_OMIT,
                },
                Some(SetTime::Now) => libc::timespec {
                    tv_sec: 0,
                    tv_nsec: libc::UTIME_NOW,
                },
                Some(SetTime::At(t)) => libc::timespec {
                    tv_sec: t.sec,
                    tv_nsec: t.nsec as libc::c_long,
                },
            };
            host::utimens(fd, &[ts(a.atime), ts(a.mtime)])?;
        }
        Ok(Reply::Stat(host::fstat(fd)?))
    }

    fn getdents(&mut self, id: NodeId, offset: u64, max_bytes: u32) -> Res {
        let n = self.nodes.get_mut(&id).ok_or(e(libc::EBADF))?;
        if n.kind != S_IFDIR {
            return Err(e(libc::ENOTDIR));
        }
        if n.dir.is_none() {
            n.dir = Some(reopen(n, libc::O_RDONLY)?);
        }
        let dir = n.dir.as_ref().ok_or(e(libc::EBADF))?;
        host::seek(dir.as_fd(), offset)?;
        let mut buf = vec![0u8; max_bytes as usize];
        let len = host::getdents64(dir.as_fd(), &mut buf)?;
        let buf = &buf[..len.min(buf.len())];
        let mut out = Vec::new();
        let mut pos = 0;
        // struct linux_dirent64: u64 ino, i64 off, u16 reclen, u8 type, name NUL-terminated.
        while buf.len() - pos >= 19 {
            let rec = &buf[pos..];
            let u64_at = |i: usize| {
                let mut a = [0u8; 8];
                a.copy_from_slice(&rec[i..i + 8]);
                u64::from_ne_bytes(a)
            };
            let reclen = u16::from_ne_bytes([rec[16], rec[17]]) as usize;
            if reclen < 20 || reclen > rec.len() {
                return Err(e(libc::EIO));
            }
            let name = &rec[19..reclen];
            let name = &name[..name.iter().position(|&c| c == 0).unwrap_or(name.len())];
            out.push(Dirent {
                ino: u64_at(0),
                off: u64_at(8),
                d_type: rec[18],
                name: name.to_vec(),
            });
            pos += reclen;
        }
        Ok(Reply::Dirents(out))
    }

    /// A descriptor for xattr calls on `id`: regular files and directories only (Linux
    /// allows `user.*` on nothing else); others fail with `other`.
    fn xattr_fd(&self, id: NodeId, other: i32) -> Result<OwnedFd, Errno> {
        let n = self.node(id)?;
        match n.kind {
            S_IFREG | S_IFDIR => reopen(n, libc::O_RDONLY),
            _ => Err(e(other)),
        }
    }

    fn getxattr(&self, id: NodeId, name: &[u8]) -> Res {
        let c = xattr_name(name)?;
        let f = self.xattr_fd(id, libc::ENODATA)?;
        let mut buf = vec![0u8; MAX_XATTR_VALUE];
        match host::fgetxattr(f.as_fd(), &c, &mut buf) {
            Err(Errno(libc::ERANGE)) => Err(e(libc::E2BIG)),
            r => {
                buf.truncate(r?);
                Ok(Reply::Value(buf))
            }
        }
    }

    fn listxattr(&self, id: NodeId) -> Res {
        let f = match self.xattr_fd(id, libc::ENODATA) {
            Err(Errno(libc::ENODATA)) => return Ok(Reply::Names(Vec::new())),
            r => r?,
        };
        let mut buf = vec![0u8; 64 * 1024];
        let len = match host::flistxattr(f.as_fd(), &mut buf) {
            Err(Errno(libc::ERANGE)) => return Err(e(libc::E2BIG)),
            r => r?,
        };
        let mut names = Vec::new();
        let mut bytes = 0;
        for n in buf[..len.min(buf.len())].split(|&c| c == 0) {
            if n.starts_with(b"user.") && n.len() > 5 && n.len() <= MAX_XATTR_NAME {
                bytes += n.len() + 2;
                names.push(n.to_vec());
            }
        }
        if bytes > MAX_MESSAGE - 64 {
            return Err(e(libc::E2BIG));
        }
        Ok(Reply::Names(names))
    }
}
