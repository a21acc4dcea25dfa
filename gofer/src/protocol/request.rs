//! Requests: validation, encoding, decoding.

use super::codec::{header, Reader, Writer};
use super::*;

const SETATTR_MODE: u32 = 1;
const SETATTR_UID: u32 = 2;
const SETATTR_GID: u32 = 4;
const SETATTR_SIZE: u32 = 8;
const SETATTR_ATIME: u32 = 16;
const SETATTR_MTIME: u32 = 32;
const SETATTR_ATIME_NOW: u32 = 64;
const SETATTR_MTIME_NOW: u32 = 128;

fn check_setattr(a: &SetAttr) -> PResult<()> {
    for t in [a.atime, a.mtime] {
        if let Some(SetTime::At(t)) = t {
            if t.nsec >= 1_000_000_000 {
                return Err(ProtocolError::Invalid("nanoseconds"));
            }
        }
    }
    Ok(())
}

impl Request {
    /// Its operation.
    pub fn op(&self) -> Op {
        match self {
            Request::Walk { .. } => Op::Walk,
            Request::Stat { .. } => Op::Stat,
            Request::Open { .. } => Op::Open,
            Request::Readlink { .. } => Op::Readlink,
            Request::Getdents { .. } => Op::Getdents,
            Request::Create { .. } => Op::Create,
            Request::Mkdir { .. } => Op::Mkdir,
            Request::Mknod { .. } => Op::Mknod,
            Request::Symlink { .. } => Op::Symlink,
            Request::Link { .. } => Op::Link,
            Request::Unlink { .. } => Op::Unlink,
            Request::Rename { .. } => Op::Rename,
            Request::Setattr { .. } => Op::Setattr,
            Request::Statfs { .. } => Op::Statfs,
            Request::Fsync { .. } => Op::Fsync,
            Request::Getxattr { .. } => Op::Getxattr,
            Request::Setxattr { .. } => Op::Setxattr,
            Request::Listxattr { .. } => Op::Listxattr,
            Request::Removexattr { .. } => Op::Removexattr,
            Request::Close { .. } => Op::Close,
        }
    }

    /// Whether it changes the filesystem (refused with EROFS by a read-only gofer; an open
    /// is judged by its flags).
    pub fn mutates(&self) -> bool {
        matches!(
            self.op(),
            Op::Create
                | Op::Mkdir
                | Op::Mknod
                | Op::Symlink
                | Op::Link
                | Op::Unlink
                | Op::Rename
                | Op::Setattr
                | Op::Setxattr
                | Op::Removexattr
        )
    }

    /// Checks every field against the protocol's limits (breaking one is a protocol error:
    /// not sent by a client, closes the connection at a server).
    pub fn validate(&self) -> PResult<()> {
        match self {
            Request::Walk { names, .. } => check_len("walk components", names.len(), MAX_WALK),
            Request::Getdents { max_bytes, .. } => {
                check_len("getdents size", *max_bytes as usize, MAX_GETDENTS as usize)
            }
            Request::Symlink { target, .. } => check_target(target),
            Request::Setattr { attr, .. } => check_setattr(attr),
            Request::Getxattr { name, .. } | Request::Removexattr { name, .. } => {
                check_xattr_name(name)
            }
            Request::Setxattr { name, value, .. } => {
                check_xattr_name(name)?;
                check_len("xattr value", value.len(), MAX_XATTR_VALUE)
            }
            Request::Close { nodes } => check_len("close list", nodes.len(), MAX_CLOSE),
            _ => Ok(()),
        }
    }

    /// Whether its flags and modes are ones the gofer accepts; a server answers EINVAL
    /// otherwise (these often come from the application, so they never close the
    /// connection).
    pub fn flags_valid(&self) -> bool {
        let open_ok = |f: u32| {
            f & libc::O_ACCMODE as u32 != libc::O_ACCMODE as u32
                && f & !(OPEN_FLAGS | libc::O_ACCMODE as u32) == 0
        };
        match self {
            Request::Open { flags, .. } => open_ok(*flags),
            Request::Create { flags, mode, .. } => {
                open_ok(*flags) && flags & libc::O_DIRECTORY as u32 == 0 && mode & !0o7777 == 0
            }
            Request::Mkdir { mode, .. } => mode & !0o7777 == 0,
            Request::Mknod { mode, .. } => mode & !(0o7777 | libc::S_IFMT) == 0,
            Request::Unlink { flags, .. } => flags & !(libc::AT_REMOVEDIR as u32) == 0,
            Request::Rename { flags, .. } => flags & !RENAME_FLAGS == 0 && *flags != RENAME_FLAGS,
            Request::Setattr { attr, .. } => {
                !matches!(attr.mode, Some(m) if m & !0o7777 != 0)
                    && !matches!(attr.size, Some(s) if s > i64::MAX as u64)
            }
            Request::Setxattr { flags, .. } => flags & !XATTR_FLAGS == 0 && *flags != XATTR_FLAGS,
            _ => true,
        }
    }

    /// The message for this request.
    pub fn encode(&self, tag: u32) -> PResult<Vec<u8>> {
        self.validate()?;
        let mut w = Writer::new(tag, self.op());
        match self {
            Request::Walk { node, names } => {
                w.u64(*node);
                w.u32(names.len() as u32);
                for n in names {
                    w.bytes16(n.as_bytes());
                }
            }
            Request::Stat { node }
            | Request::Readlink { node }
            | Request::Statfs { node }
            | Request::Listxattr { node } => w.u64(*node),
            Request::Open { node, flags } => {
                w.u64(*node);
                w.u32(*flags);
            }
            Request::Getdents {
                node,
                offset,
                max_bytes,
            } => {
                w.u64(*node);
                w.u64(*offset);
                w.u32(*max_bytes);
            }
            Request::Create {
                dir,
                name,
                flags,
                mode,
                owner,
            } => {
                w.u64(*dir);
                w.bytes16(name.as_bytes());
                w.u32(*flags);
                w.u32(*mode);
                w.owner(*owner);
            }
            Request::Mkdir {
                dir,
                name,
                mode,
                owner,
            }
            | Request::Mknod {
                dir,
                name,
                mode,
                owner,
            } => {
                w.u64(*dir);
                w.bytes16(name.as_bytes());
                w.u32(*mode);
                w.owner(*owner);
            }
            Request::Symlink {
                dir,
                name,
                target,
                owner,
            } => {
                w.u64(*dir);
                w.bytes16(name.as_bytes());
                w.bytes16(target);
                w.owner(*owner);
            }
            Request::Link { dir, name, target } => {
                w.u64(*dir);
                w.bytes16(name.as_bytes());
                w.u64(*target);
            }
            Request::Unlink { dir, name, flags } => {
                w.u64(*dir);
                w.bytes16(name.as_bytes());
                w.u32(*flags);
            }
            Request::Rename {
                old_dir,
                old_name,
                new_dir,
                new_name,
                flags,
            } => {
                w.u64(*old_dir);
                w.bytes16(old_name.as_bytes());
                w.u64(*new_dir);
                w.bytes16(new_name.as_bytes());
                w.u32(*flags);
            }
            Request::Setattr { node, attr } => {
                w.u64(*node);
                encode_setattr(&mut w, attr);
            }
            Request::Fsync { node, datasync } => {
                w.u64(*node);
                w.u8(*datasync as u8);
            }
            Request::Getxattr { node, name } | Request::Removexattr { node, name } => {
                w.u64(*node);
                w.bytes16(name);
            }
            Request::Setxattr {
                node,
                name,
                value,
                flags,
            } => {
                w.u64(*node);
                w.bytes16(name);
                w.bytes32(value);
                w.u32(*flags);
            }
            Request::Close { nodes } => {
                w.u32(nodes.len() as u32);
                for n in nodes {
                    w.u64(*n);
                }
            }
        }
        w.finish()
    }

    /// Parses a request message: its tag and the request.
    pub fn decode(packet: &[u8]) -> PResult<(u32, Request)> {
        let (mut r, tag, op) = header(packet)?;
        let r = &mut r;
        let req = match op {
            Op::Walk => {
                let node = r.u64("node")?;
                let n = r.count("walk components", MAX_WALK, 3)?;
                let mut names = Vec::with_capacity(n);
                for _ in 0..n {
                    names.push(r.name()?);
                }
                Request::Walk { node, names }
            }
            Op::Stat => Request::Stat {
                node: r.u64("node")?,
            },
            Op::Readlink => Request::Readlink {
                node: r.u64("node")?,
            },
            Op::Statfs => Request::Statfs {
                node: r.u64("node")?,
            },
            Op::Listxattr => Request::Listxattr {
                node: r.u64("node")?,
            },
            Op::Open => Request::Open {
                node: r.u64("node")?,
                flags: r.u32("flags")?,
            },
            Op::Getdents => Request::Getdents {
                node: r.u64("node")?,
                offset: r.u64("offset")?,
                max_bytes: r.u32("size")?,
            },
            Op::Create => Request::Create {
                dir: r.u64("node")?,
                name: r.name()?,
                flags: r.u32("flags")?,
                mode: r.u32("mode")?,
                owner: r.owner()?,
            },
            Op::Mkdir => Request::Mkdir {
                dir: r.u64("node")?,
                name: r.name()?,
                mode: r.u32("mode")?,
                owner: r.owner()?,
            },
            Op::Mknod => Request::Mknod {
                dir: r.u64("node")?,
                name: r.name()?,
                mode: r.u32("mode")?,
                owner: r.owner()?,
            },
            Op::Symlink => Request::Symlink {
                dir: r.u64("node")?,
                name: r.name()?,
                target: r.bytes16("symlink target", MAX_SYMLINK_TARGET)?,
                owner: r.owner()?,
            },
            Op::Link => Request::Link {
                dir: r.u64("node")?,
                name: r.name()?,
                target: r.u64("node")?,
            },
            Op::Unlink => Request::Unlink {
                dir: r.u64("node")?,
                name: r.name()?,
                flags: r.u32("flags")?,
            },
            Op::Rename => Request::Rename {
                old_dir: r.u64("node")?,
                old_name: r.name()?,
                new_dir: r.u64("node")?,
                new_name: r.name()?,
                flags: r.u32("flags")?,
            },
            Op::Setattr => Request::Setattr {
                node: r.u64("node")?,
                attr: decode_setattr(r)?,
            },
            Op::Fsync => Request::Fsync {
                node: r.u64("node")?,
                datasync: match r.u8("datasync")? {
                    0 => false,
                    1 => true,
                    _ => return Err(ProtocolError::Invalid("datasync")),
                },
            },
            Op::Getxattr => Request::Getxattr {
                node: r.u64("node")?,
                name: r.bytes16("xattr name", MAX_XATTR_NAME)?,
            },
            Op::Removexattr => Request::Removexattr {
                node: r.u64("node")?,
                name: r.bytes16("xattr name", MAX_XATTR_NAME)?,
            },
            Op::Setxattr => Request::Setxattr {
                node: r.u64("node")?,
                name: r.bytes16("xattr name", MAX_XATTR_NAME)?,
                value: r.bytes32("xattr value", MAX_XATTR_VALUE)?,
                flags: r.u32("flags")?,
            },
            Op::Close => {
                let n = r.count("close list", MAX_CLOSE, 8)?;
                let mut nodes = Vec::with_capacity(n);
                for _ in 0..n {
                    nodes.push(r.u64("node")?);
                }
                Request::Close { nodes }
            }
        };
        r.finish()?;
        req.validate()?;
        Ok((tag, req))
    }
}

fn encode_setattr(w: &mut Writer, a: &SetAttr) {
    let mut mask = 0;
    let bit = |set: bool, b: u32| if set { b } else { 0 };
    mask |= bit(a.mode.is_some(), SETATTR_MODE);
    mask |= bit(a.uid.is_some(), SETATTR_UID);
    mask |= bit(a.gid.is_some(), SETATTR_GID);
    mask |= bit(a.size.is_some(), SETATTR_SIZE);
    mask |= bit(a.atime.is_some(), SETATTR_ATIME);
    mask |= bit(a.mtime.is_some(), SETATTR_MTIME);
    mask |= bit(a.atime == Some(SetTime::Now), SETATTR_ATIME_NOW);
    mask |= bit(a.mtime == Some(SetTime::Now), SETATTR_MTIME_NOW);
    w.u32(mask);
    w.u32(a.mode.unwrap_or(0));
    w.u32(a.uid.unwrap_or(0));
    w.u32(a.gid.unwrap_or(0));
    w.u64(a.size.unwrap_or(0));
    for t in [a.atime, a.mtime] {
        match t {
            Some(SetTime::At(t)) => w.time(t),
            _ => w.time(Timespec::default()),
        }
    }
}

fn decode_setattr(r: &mut Reader<'_>) -> PResult<SetAttr> {
    let mask = r.u32("setattr mask")?;
    if mask & !0xff != 0
        || (mask & SETATTR_ATIME_NOW != 0 && mask & SETATTR_ATIME == 0)
        || (mask & SETATTR_MTIME_NOW != 0 && mask & SETATTR_MTIME == 0)
    {
        return Err(ProtocolError::Invalid("setattr mask"));
    }
    let on = |b: u32| mask & b != 0;
    let mode = r.u32("mode")?;
    let uid = r.u32("uid")?;
    let gid = r.u32("gid")?;
    let size = r.u64("size")?;
    let atime = r.time()?;
    let mtime = r.time()?;
    let time = |set: u32, now: u32, t: Timespec| match (on(set), on(now)) {
        (false, _) => None,
        (true, true) => Some(SetTime::Now),
        (true, false) => Some(SetTime::At(t)),
    };
    Ok(SetAttr {
        mode: on(SETATTR_MODE).then_some(mode),
        uid: on(SETATTR_UID).then_some(uid),
        gid: on(SETATTR_GID).then_some(gid),
        size: on(SETATTR_SIZE).then_some(size),
        atime: time(SETATTR_ATIME, SETATTR_ATIME_NOW, atime),
        mtime: time(SETATTR_MTIME, SETATTR_MTIME_NOW, mtime),
    })
}
