//! Replies: encoding and decoding.

use super::codec::{header, Writer};
use super::*;

/// Whether `reply` is a shape `op` may answer with.
fn reply_fits(op: Op, reply: &Reply) -> bool {
    matches!(
        (op, reply),
        (Op::Walk, Reply::Walk { .. })
            | (Op::Stat | Op::Setattr, Reply::Stat(_))
            | (Op::Open, Reply::Opened)
            | (Op::Readlink, Reply::Target(_))
            | (Op::Getdents, Reply::Dirents(_))
            | (
                Op::Create | Op::Mkdir | Op::Mknod | Op::Symlink | Op::Link,
                Reply::Node(..)
            )
            | (
                Op::Unlink | Op::Rename | Op::Fsync | Op::Setxattr | Op::Removexattr | Op::Close,
                Reply::Done
            )
            | (Op::Statfs, Reply::StatFs(_))
            | (Op::Getxattr, Reply::Value(_))
            | (Op::Listxattr, Reply::Names(_))
    )
}

/// Whether a successful reply to `op` carries a descriptor.
pub fn carries_fd(op: Op) -> bool {
    matches!(op, Op::Open | Op::Create)
}

const DIRENT_MIN: usize = 8 + 8 + 1 + 2 + 1;
const STAT_LEN: usize = 3 * 8 + 3 * 4 + 8 + 3 * 8 + 3 * 12;

/// The message answering request `tag` of `op`.
pub fn encode_reply(tag: u32, op: Op, result: &Result<Reply, Errno>) -> PResult<Vec<u8>> {
    let mut w = Writer::new(tag, op);
    let reply = match result {
        Err(e) => {
            if !(1..=4095).contains(&e.0) {
                return Err(ProtocolError::Invalid("errno"));
            }
            w.u32(e.0 as u32);
            return w.finish();
        }
        Ok(r) => r,
    };
    if !reply_fits(op, reply) {
        return Err(ProtocolError::Invalid("reply shape for this op"));
    }
    w.u32(0);
    match reply {
        Reply::Walk { entries, error } => {
            check_len("walk entries", entries.len(), MAX_WALK)?;
            w.u32(error.map_or(0, |e| e.0 as u32));
            w.u32(entries.len() as u32);
            for (id, st) in entries {
                w.u64(*id);
                w.stat(st);
            }
        }
        Reply::Stat(st) => w.stat(st),
        Reply::Opened | Reply::Done => {}
        Reply::Target(t) => {
            check_target(t)?;
            w.bytes16(t);
        }
        Reply::Dirents(ds) => {
            w.u32(ds.len() as u32);
            for d in ds {
                check_name(&d.name, MAX_NAME, "dirent name")?;
                w.u64(d.ino);
                w.u64(d.off);
                w.u8(d.d_type);
                w.bytes16(&d.name);
            }
        }
        Reply::Node(id, st) => {
            w.u64(*id);
            w.stat(st);
        }
        Reply::StatFs(s) => {
            for v in [
                s.fs_type, s.bsize, s.blocks, s.bfree, s.bavail, s.files, s.ffree, s.fsid,
                s.namelen, s.frsize, s.flags,
            ] {
                w.u64(v);
            }
        }
        Reply::Value(v) => {
            check_len("xattr value", v.len(), MAX_XATTR_VALUE)?;
            w.bytes32(v);
        }
        Reply::Names(ns) => {
            w.u32(ns.len() as u32);
            for n in ns {
                check_xattr_name(n)?;
                w.bytes16(n);
            }
        }
    }
    w.finish()
}

/// Parses a reply message: its tag, op and result.
pub fn decode_reply(packet: &[u8]) -> PResult<(u32, Op, Result<Reply, Errno>)> {
    let (mut r, tag, op) = header(packet)?;
    let r = &mut r;
    if let Some(e) = r.errno()? {
        r.finish()?;
        return Ok((tag, op, Err(e)));
    }
    let reply = match op {
        Op::Walk => {
            let error = r.errno()?;
            let n = r.count("walk entries", MAX_WALK, 8 + STAT_LEN)?;
            let mut entries = Vec::with_capacity(n);
            for _ in 0..n {
                entries.push((r.u64("node")?, r.stat()?));
            }
            Reply::Walk { entries, error }
        }
        Op::Stat | Op::Setattr => Reply::Stat(r.stat()?),
        Op::Open => Reply::Opened,
        Op::Readlink => {
            let t = r.bytes16("symlink target", MAX_SYMLINK_TARGET)?;
            check_target(&t)?;
            Reply::Target(t)
        }
        Op::Getdents => {
            let n = r.count("dirents", MAX_MESSAGE, DIRENT_MIN)?;
            let mut ds = Vec::with_capacity(n);
            for _ in 0..n {
                let ino = r.u64("dirent")?;
                let off = r.u64("dirent")?;
                let d_type = r.u8("dirent")?;
                let name = r.bytes16("dirent name", MAX_NAME)?;
                check_name(&name, MAX_NAME, "dirent name")?;
                ds.push(Dirent {
                    ino,
                    off,
                    d_type,
                    name,
                });
            }
            Reply::Dirents(ds)
        }
        Op::Create | Op::Mkdir | Op::Mknod | Op::Symlink | Op::Link => {
            Reply::Node(r.u64("node")?, r.stat()?)
        }
        Op::Unlink | Op::Rename | Op::Fsync | Op::Setxattr | Op::Removexattr | Op::Close => {
            Reply::Done
        }
        Op::Statfs => Reply::StatFs(StatFs {
            fs_type: r.u64("statfs")?,
            bsize: r.u64("statfs")?,
            blocks: r.u64("statfs")?,
            bfree: r.u64("statfs")?,
            bavail: r.u64("statfs")?,
            files: r.u64("statfs")?,
            ffree: r.u64("statfs")?,
            fsid: r.u64("statfs")?,
            namelen: r.u64("statfs")?,
            frsize: r.u64("statfs")?,
            flags: r.u64("statfs")?,
        }),
        Op::Getxattr => Reply::Value(r.bytes32("xattr value", MAX_XATTR_VALUE)?),
        Op::Listxattr => {
            let n = r.count("xattr names", MAX_MESSAGE, 3)?;
            let mut ns = Vec::with_capacity(n);
            for _ in 0..n {
                let name = r.bytes16("xattr name", MAX_XATTR_NAME)?;
                check_xattr_name(&name)?;
                ns.push(name);
            }
            Reply::Names(ns)
        }
    };
    r.finish()?;
    Ok((tag, op, Ok(reply)))
}
