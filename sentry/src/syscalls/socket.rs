//! socket, socketpair, bind, listen, accept, accept4, connect, getsockname, getpeername,
//! sendto, recvfrom, sendmsg, recvmsg, sendmmsg, recvmmsg, shutdown, setsockopt, getsockopt.
//!
//! AF_UNIX only (`crate::net::unix`); other families answer EAFNOSUPPORT until the netstack.
//! Everything the application passes is checked here, as Linux's net/socket.c does: address
//! lengths (at most `sockaddr_storage`, then `sockaddr_un`), iovec counts (UIO_MAXIOV) and
//! lengths, control data sizes (optmem_max); bad pointers give EFAULT. Names in the
//! filesystem are made and found here, through the VFS: a socket file in the sandbox's
//! tmpfs, EROFS on the read-only host root.

use std::any::Any;
use std::sync::Arc;
use std::time::Instant;

use crate::errno::{Errno, SysResult};
use crate::fs::procfs;
use crate::fs::tmpfs::Resolution;
use crate::fs::vfs::Place;
use crate::fs::{OpenFile, Stat};
use crate::kernel::signal::{self, SigInfo};
use crate::kernel::Task;
use crate::net::unix::{
    encode_control, parse_addr, parse_control, Addr, IoFlags, Received, Sock, SockType, Ucred,
    UnixSocket,
};

const SOCK_TYPE_MASK: i32 = 0xf;
/// Socket types are below this (SOCK_MAX).
const SOCK_MAX: i32 = 11;
/// Address families are below this (NPROTO).
const NPROTO: i32 = 46;
/// `sizeof(struct sockaddr_storage)`: the most address bytes a call takes.
const SOCKADDR_MAX: usize = 128;
/// Most iovecs one call takes.
const UIO_MAXIOV: u64 = 1024;
/// Control data sendmsg takes (net.core.optmem_max).
const OPTMEM_MAX: u64 = 131_072;
/// Most bytes one read or write moves (MAX_RW_COUNT).
const MAX_RW_COUNT: usize = 0x7fff_f000;
/// A stream send copies the application's data in rounds of this size.
const SEND_ROUND: usize = 1 << 20;
/// End of the user address range (access_ok).
const TASK_SIZE: u64 = (1 << 47) - 4096;
/// `sizeof(struct msghdr)` and `sizeof(struct mmsghdr)`.
const MSGHDR_LEN: usize = 56;
const MMSGHDR_LEN: u64 = 64;

const MSG_OOB: u64 = 1;
const MSG_PEEK: u64 = 2;
const MSG_CTRUNC: i32 = 8;
const MSG_TRUNC: u64 = 0x20;
const MSG_DONTWAIT: u64 = 0x40;
const MSG_WAITALL: u64 = 0x100;
const MSG_NOSIGNAL: u64 = 0x4000;
const MSG_WAITFORONE: u64 = 0x10000;
const MSG_CMSG_CLOEXEC: u64 = 0x4000_0000;

/// The socket behind descriptor `fd`: EBADF, or ENOTSOCK for other files.
fn sock_of(t: &Task, fd: u64) -> Result<Arc<UnixSocket>, Errno> {
    let f = t.fds().get(fd as i32)?;
    UnixSocket::of(&f.ops).ok_or(Errno(libc::ENOTSOCK))
}

/// The credentials messages carry by default: process id, real user and group.
fn msg_cred(t: &Task) -> Ucred {
    Ucred {
        pid: t.tg.tgid,
        uid: t.creds.ruid,
        gid: t.creds.rgid,
    }
}

/// The credentials SO_PEERCRED reports of the caller: process id, effective user and group.
fn peer_cred(t: &Task) -> Ucred {
    Ucred {
        pid: t.tg.tgid,
        uid: t.creds.euid,
        gid: t.creds.egid,
    }
}

/// A new open description for `sock`.
fn new_file(t: &Task, sock: Arc<Sock>, nonblock: bool) -> Arc<OpenFile> {
    UnixSocket::new(sock, nonblock, (t.creds.fsuid, t.creds.fsgid)).open()
}

fn read_i32(t: &Task, addr: u64) -> Result<i32, Errno> {
    let mut b = [0u8; 4];
    t.read_mem(addr, &mut b)?;
    Ok(i32::from_le_bytes(b))
}

/// An address argument (move_addr_to_kernel): EINVAL for a negative length or one beyond
/// `sockaddr_storage`.
fn read_sockaddr(t: &Task, addr: u64, len: u64) -> Result<Vec<u8>, Errno> {
    let len = len as i32;
    if len < 0 || len as usize > SOCKADDR_MAX {
        return Err(Errno::EINVAL);
    }
    let mut b = vec![0u8; len as usize];
    t.read_mem(addr, &mut b)?;
    Ok(b)
}

/// Returns an address (move_addr_to_user): copies what fits in the length at `lenp` (EINVAL
/// if negative) and stores the full length there.
fn write_sockaddr(t: &Task, addr: u64, lenp: u64, sa: &[u8]) -> Result<(), Errno> {
    let len = read_i32(t, lenp)?;
    let n = (len as i64).min(sa.len() as i64);
    if n < 0 {
        return Err(Errno::EINVAL);
    }
    t.write_mem(addr, &sa[..n as usize])?;
    t.write_mem(lenp, &(sa.len() as i32).to_le_bytes())
}

/// What getsockname reports for an optional name.
fn sockaddr_of(a: Option<Addr>) -> Vec<u8> {
    a.map_or_else(
        || (libc::AF_UNIX as u16).to_le_bytes().to_vec(),
        |a| a.to_sockaddr(),
    )
}

/// The socket an address names for a socket of type `ty`: ECONNREFUSED when nothing live of
/// that type is bound there; for paths also the walk's errors (ENOENT...), EACCES without
/// write permission on the file, EPROTOTYPE for a socket of another type.
fn find_target(t: &Task, addr: &Addr, ty: SockType) -> Result<Arc<Sock>, Errno> {
    let refused = Errno(libc::ECONNREFUSED);
    let path = match addr {
        Addr::Abstract(name) => return t.kernel.unix_names.lookup(ty, name).ok_or(refused),
        Addr::Path(p) => p,
    };
    let cwd = t.cwd();
    let c = super::file::creds(t);
    let (st, bound) = t.mounts().resolve(&cwd, path, |place| match place {
        Place::Tmp(rel) => rel.fs.bound_socket(&rel, &c),
        Place::Host(abs) => {
            // Host sockets are not reachable from the sandbox.
            let l = t.kernel.root.lookup(b"/", &abs, true)?;
            Ok(Resolution::Done((Stat::from_host(&l.stat), None)))
        }
        Place::Proc(rel) => match procfs::lookup(t, &rel, true)? {
            Resolution::Escape { target, rest } => Ok(Resolution::Escape { target, rest }),
            Resolution::Done(f) => Ok(Resolution::Done((procfs::stat(&f)?, None))),
        },
    })?;
    if !super::file::may_access(&t.creds, &st, false, true, false) {
        return Err(Errno::EACCES);
    }
    if st.mode & libc::S_IFMT != libc::S_IFSOCK {
        return Err(refused);
    }
    let sock = bound
        .and_then(|b| b.downcast::<Sock>().ok())
        .filter(|s| !s.is_dead())
        .ok_or(refused)?;
    if sock.ty != ty {
        return Err(Errno(libc::EPROTOTYPE));
    }
    Ok(sock)
}

/// bind to a path: a socket file (EADDRINUSE if the name exists), then the name (EINVAL if
/// the socket had one: the new file is removed again).
fn bind_path(t: &Task, sock: &Arc<Sock>, path: Vec<u8>) -> Result<(), Errno> {
    let cwd = t.cwd();
    let creds = super::file::creds(t);
    let obj: Arc<dyn Any + Send + Sync> = sock.clone();
    let bound = Arc::downgrade(&obj);
    let mut made = None;
    let r = t.mounts().resolve(&cwd, &path, |place| match place {
        Place::Tmp(rel) => {
            let r = rel.fs.mksock(&rel, 0o777, &creds, bound.clone())?;
            if r == Resolution::Done(()) {
                made = Some(rel);
            }
            Ok(r)
        }
        Place::Host(abs) => super::path::host_readonly(t, &abs, false),
        Place::Proc(rel) => super::path::proc_readonly(t, &rel, false),
    });
    match r {
        Err(Errno::EEXIST) => return Err(Errno(libc::EADDRINUSE)),
        Err(e) => return Err(e),
        Ok(()) => {}
    }
    if let Err(e) = sock.set_path(path) {
        if let Some(rel) = made {
            // Undoing our own bind: the kernel's work.
            let _ = rel.fs.unlink(&rel, &crate::fs::perm::Creds::ROOT);
        }
        return Err(e);
    }
    Ok(())
}

/// Installs a new descriptor.
fn install(t: &Task, f: Arc<OpenFile>, cloexec: bool) -> Result<i32, Errno> {
    t.fds().insert(f, cloexec, 0)
}

/// The type argument: (type, nonblock, cloexec); EINVAL for unknown flags.
fn split_type(raw: i32) -> Result<(i32, bool, bool), Errno> {
    let flags = raw & !SOCK_TYPE_MASK;
    if flags & !(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC) != 0 {
        return Err(Errno::EINVAL);
    }
    Ok((
        raw & SOCK_TYPE_MASK,
        flags & libc::SOCK_NONBLOCK != 0,
        flags & libc::SOCK_CLOEXEC != 0,
    ))
}

/// The checks socket and socketpair share: the family's range (EAFNOSUPPORT), the type's
/// (EINVAL), then for AF_UNIX the protocol (EPROTONOSUPPORT) and the type (ESOCKTNOSUPPORT).
/// `Ok(None)` for a family that is not AF_UNIX.
fn check_args(family: i32, ty: i32, proto: i32) -> Result<Option<SockType>, Errno> {
    if !(0..NPROTO).contains(&family) {
        return Err(Errno(libc::EAFNOSUPPORT));
    }
    if !(0..SOCK_MAX).contains(&ty) {
        return Err(Errno::EINVAL);
    }
    if family != libc::AF_UNIX {
        return Ok(None);
    }
    if proto != 0 && proto != libc::AF_UNIX {
        return Err(Errno(libc::EPROTONOSUPPORT));
    }
    SockType::from_raw(ty)
        .map(Some)
        .ok_or(Errno(libc::ESOCKTNOSUPPORT))
}

pub fn socket(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (ty, nonblock, cloexec) = split_type(a[1] as i32)?;
    let Some(ty) = check_args(a[0] as i32, ty, a[2] as i32)? else {
        return Err(Errno(libc::EAFNOSUPPORT));
    };
    let f = new_file(t, Sock::new(ty, t.kernel.unix_names.clone()), nonblock);
    Ok(install(t, f, cloexec)? as u64)
}

pub fn socketpair(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (ty, nonblock, cloexec) = split_type(a[1] as i32)?;
    let family = a[0] as i32;
    let Some(ty) = check_args(family, ty, a[2] as i32)? else {
        // Families Linux has but cannot pair.
        return Err(Errno(match family {
            libc::AF_INET | libc::AF_INET6 | libc::AF_NETLINK | libc::AF_PACKET => libc::EOPNOTSUPP,
            _ => libc::EAFNOSUPPORT,
        }));
    };
    let (x, y) = Sock::pair(ty, peer_cred(t), t.kernel.unix_names.clone());
    let (fx, fy) = (new_file(t, x, nonblock), new_file(t, y, nonblock));
    let (dx, dy) = {
        let mut fds = t.fds();
        let dx = fds.insert(fx, cloexec, 0)?;
        match fds.insert(fy, cloexec, 0) {
            Ok(dy) => (dx, dy),
            Err(e) => {
                let _ = fds.remove(dx);
                return Err(e);
            }
        }
    };
    let mut b = [0u8; 8];
    b[..4].copy_from_slice(&dx.to_le_bytes());
    b[4..].copy_from_slice(&dy.to_le_bytes());
    if let Err(e) = t.write_mem(a[3], &b) {
        let mut fds = t.fds();
        let _ = fds.remove(dx);
        let _ = fds.remove(dy);
        return Err(e);
    }
    Ok(0)
}

pub fn bind(t: &mut Task, a: [u64; 6]) -> SysResult {
    let s = sock_of(t, a[0])?;
    let raw = read_sockaddr(t, a[1], a[2])?;
    // Only the family: autobind.
    if raw == (libc::AF_UNIX as u16).to_le_bytes() {
        s.sock.autobind()?;
        return Ok(0);
    }
    match parse_addr(&raw)? {
        Addr::Abstract(name) => s.sock.bind_abstract(&name)?,
        Addr::Path(p) => bind_path(t, &s.sock, p)?,
    }
    Ok(0)
}

pub fn listen(t: &mut Task, a: [u64; 6]) -> SysResult {
    let s = sock_of(t, a[0])?;
    // As Linux: capped at net.core.somaxconn, a negative backlog taken as unsigned.
    let backlog = (a[1] as i32 as u32).min(t.kernel.sysctl.somaxconn());
    s.sock.listen(backlog as usize, peer_cred(t))?;
    Ok(0)
}

/// accept(fd, addr, addrlen) is accept4 with no flags.
pub fn accept4(t: &mut Task, a: [u64; 6], flags: u64) -> SysResult {
    let flags = flags as i32;
    if flags & !(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC) != 0 {
        return Err(Errno::EINVAL);
    }
    let s = sock_of(t, a[0])?;
    let conn = s.sock.accept(s.nonblocking())?;
    let peer = conn.peer_name().unwrap_or(None);
    let f = new_file(t, conn, flags & libc::SOCK_NONBLOCK != 0);
    if a[1] != 0 {
        // A fault here closes the new connection, as on Linux.
        write_sockaddr(t, a[1], a[2], &sockaddr_of(peer))?;
    }
    Ok(install(t, f, flags & libc::SOCK_CLOEXEC != 0)? as u64)
}

pub fn connect(t: &mut Task, a: [u64; 6]) -> SysResult {
    let s = sock_of(t, a[0])?;
    let raw = read_sockaddr(t, a[1], a[2])?;
    let ty = s.sock.ty;
    if ty == SockType::Dgram {
        if raw.len() < 2 {
            return Err(Errno::EINVAL);
        }
        if u16::from_le_bytes([raw[0], raw[1]]) == libc::AF_UNSPEC as u16 {
            s.sock.connect_dgram(None)?;
            return Ok(0);
        }
        let target = find_target(t, &parse_addr(&raw)?, ty)?;
        s.sock.connect_dgram(Some(&target))?;
        return Ok(0);
    }
    let target = find_target(t, &parse_addr(&raw)?, ty)?;
    s.sock
        .connect_stream(&target, peer_cred(t), s.nonblocking())?;
    Ok(0)
}

/// getsockname (`peer` false) and getpeername.
pub fn getname(t: &mut Task, a: [u64; 6], peer: bool) -> SysResult {
    let s = sock_of(t, a[0])?;
    let name = if peer {
        s.sock.peer_name()?
    } else {
        s.sock.name()
    };
    write_sockaddr(t, a[1], a[2], &sockaddr_of(name))?;
    Ok(0)
}

pub fn shutdown(t: &mut Task, a: [u64; 6]) -> SysResult {
    let s = sock_of(t, a[0])?;
    s.sock.shutdown(a[1] as i32)?;
    Ok(0)
}

pub fn setsockopt(t: &mut Task, a: [u64; 6]) -> SysResult {
    let s = sock_of(t, a[0])?;
    if a[1] as i32 != libc::SOL_SOCKET {
        return Err(Errno::EOPNOTSUPP);
    }
    let len = a[4] as i32;
    if len < 0 {
        return Err(Errno::EINVAL);
    }
    // No SOL_SOCKET option is longer than a timeval.
    let mut v = vec![0u8; (len as usize).min(16)];
    t.read_mem(a[3], &mut v)?;
    let net_admin = t.creds.has_cap(crate::kernel::creds::CAP_NET_ADMIN);
    s.sock.setsockopt(a[2] as i32, &v, net_admin)?;
    Ok(0)
}

pub fn getsockopt(t: &mut Task, a: [u64; 6]) -> SysResult {
    let s = sock_of(t, a[0])?;
    if a[1] as i32 != libc::SOL_SOCKET {
        return Err(Errno::EOPNOTSUPP);
    }
    let len = read_i32(t, a[4])?;
    if len < 0 {
        return Err(Errno::EINVAL);
    }
    let v = s.sock.getsockopt(a[2] as i32)?;
    let n = (len as usize).min(v.len());
    t.write_mem(a[3], &v[..n])?;
    t.write_mem(a[4], &(n as i32).to_le_bytes())?;
    Ok(0)
}

/// Raises SIGPIPE for an EPIPE from a stream send without MSG_NOSIGNAL (datagram and
/// seqpacket sockets never raise it).
fn sigpipe(t: &Task, s: &UnixSocket, r: &Result<usize, Errno>, flags: u64) {
    if *r == Err(Errno::EPIPE) && flags & MSG_NOSIGNAL == 0 && s.sock.ty == SockType::Stream {
        signal::send(
            &t.tg,
            Some(t.tid),
            SigInfo {
                signo: libc::SIGPIPE,
                pid: t.tg.tgid,
                uid: t.creds.ruid,
                ..Default::default()
            },
        );
    }
}

/// An iovec array: EMSGSIZE beyond UIO_MAXIOV, EINVAL for a negative length, EFAULT for a
/// range outside user memory. The total is cut to MAX_RW_COUNT.
fn read_iovecs(t: &Task, addr: u64, cnt: u64) -> Result<Vec<(u64, usize)>, Errno> {
    if cnt > UIO_MAXIOV {
        return Err(Errno(libc::EMSGSIZE));
    }
    let mut raw = vec![0u8; cnt as usize * 16];
    t.read_mem(addr, &mut raw)?;
    let mut v = Vec::with_capacity(cnt as usize);
    let mut total = 0usize;
    for e in raw.chunks_exact(16) {
        let base = u64::from_le_bytes(e[..8].try_into().unwrap_or_default());
        let len = i64::from_le_bytes(e[8..].try_into().unwrap_or_default());
        if len < 0 {
            return Err(Errno::EINVAL);
        }
        if base
            .checked_add(len as u64)
            .is_none_or(|end| end > TASK_SIZE)
        {
            return Err(Errno::EFAULT);
        }
        let len = (len as usize).min(MAX_RW_COUNT - total);
        total += len;
        v.push((base, len));
    }
    Ok(v)
}

/// Copies up to `max` bytes in from the iovecs, starting `skip` bytes in.
fn gather(t: &Task, iov: &[(u64, usize)], skip: usize, max: usize) -> Result<Vec<u8>, Errno> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    for &(base, len) in iov {
        if out.len() >= max {
            break;
        }
        let (start, end) = (pos, pos + len);
        pos = end;
        if end <= skip {
            continue;
        }
        let from = skip.max(start) - start;
        let n = (len - from).min(max - out.len());
        let at = out.len();
        out.resize(at + n, 0);
        t.read_mem(base + from as u64, &mut out[at..])?;
    }
    Ok(out)
}

/// Copies `data` out into the iovecs.
fn scatter(t: &Task, iov: &[(u64, usize)], data: &[u8]) -> Result<(), Errno> {
    let mut off = 0;
    for &(base, len) in iov {
        if off >= data.len() {
            break;
        }
        let n = len.min(data.len() - off);
        t.write_mem(base, &data[off..off + n])?;
        off += n;
    }
    Ok(())
}

/// Claimed SCM_CREDENTIALS (scm_check_creds): EINVAL for the id -1; EPERM unless each is
/// the caller's own (its pid, any of its real, effective, saved ids) or the caller holds the
/// capability to claim another (CAP_SYS_ADMIN, CAP_SETUID, CAP_SETGID); ESRCH for a
/// process that does not exist.
fn check_creds(t: &Task, c: &Ucred) -> Result<(), Errno> {
    if c.uid == u32::MAX || c.gid == u32::MAX {
        return Err(Errno::EINVAL);
    }
    let me = &t.creds;
    use crate::kernel::creds::{CAP_SETGID, CAP_SETUID, CAP_SYS_ADMIN};
    let ok = (c.pid == t.tg.tgid || me.has_cap(CAP_SYS_ADMIN))
        && ([me.ruid, me.euid, me.suid].contains(&c.uid) || me.has_cap(CAP_SETUID))
        && ([me.rgid, me.egid, me.sgid].contains(&c.gid) || me.has_cap(CAP_SETGID));
    if !ok {
        return Err(Errno::EPERM);
    }
    let exists = c.pid == t.tg.tgid
        || t.kernel.group(c.pid).is_some()
        || t.kernel
            .groups()
            .iter()
            .any(|g| g.lock().threads.contains_key(&c.pid));
    if !exists {
        return Err(Errno::ESRCH);
    }
    Ok(())
}

/// One send: to the address `name` (empty for none), the data of `iov`, the control data
/// `ctl`.
fn send_one(
    t: &Task,
    s: &UnixSocket,
    name: &[u8],
    iov: &[(u64, usize)],
    ctl: &[u8],
    flags: u64,
) -> Result<usize, Errno> {
    let ctl = parse_control(ctl, |fd| t.fds().get(fd), |c| check_creds(t, c))?;
    if flags & MSG_OOB != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    let nonblock = s.nonblocking() || flags & MSG_DONTWAIT != 0;
    let me = msg_cred(t);
    let total: usize = iov.iter().map(|v| v.1).sum();
    let sock = &s.sock;
    match sock.ty {
        SockType::Stream => {
            if !name.is_empty() {
                return Err(Errno(if sock.is_connected() {
                    libc::EISCONN
                } else {
                    libc::EOPNOTSUPP
                }));
            }
            // In rounds, the files with the first; a short round ends the call.
            let mut ctl = Some(ctl);
            let mut sent = 0;
            loop {
                let data = match gather(t, iov, sent, SEND_ROUND) {
                    Ok(d) => d,
                    Err(e) if sent == 0 => return Err(e),
                    Err(_) => break,
                };
                let n = data.len();
                match sock.stream_send(&data, ctl.take().unwrap_or_default(), me, nonblock) {
                    Ok(k) => {
                        sent += k;
                        if k < n || sent >= total {
                            break;
                        }
                    }
                    Err(e) if sent == 0 => return Err(e),
                    Err(_) => break,
                }
            }
            Ok(sent)
        }
        _ => {
            // A seqpacket socket ignores the address.
            let to = match (sock.ty, name.is_empty()) {
                (SockType::Dgram, false) => Some(parse_addr(name)?),
                _ => None,
            };
            if total > sock.sndbuf().saturating_sub(32) {
                return Err(Errno(libc::EMSGSIZE));
            }
            let data = gather(t, iov, 0, total)?;
            match &to {
                Some(addr) => {
                    let mut lookup = || find_target(t, addr, sock.ty);
                    sock.dgram_send(data, ctl, me, Some(&mut lookup), nonblock)
                }
                None => sock.dgram_send(data, ctl, me, None, nonblock),
            }
        }
    }
}

/// One receive into `iov`.
fn recv_one(t: &Task, s: &UnixSocket, iov: &[(u64, usize)], flags: u64) -> Result<Received, Errno> {
    if flags & MSG_OOB != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    let f = IoFlags {
        nonblock: s.nonblocking() || flags & MSG_DONTWAIT != 0,
        peek: flags & MSG_PEEK != 0,
        waitall: flags & MSG_WAITALL != 0,
        trunc: flags & MSG_TRUNC != 0,
    };
    let total: usize = iov.iter().map(|v| v.1).sum();
    let r = s.recv(total, f)?;
    scatter(t, iov, &r.data)?;
    Ok(r)
}

pub fn sendto(t: &mut Task, a: [u64; 6]) -> SysResult {
    let s = sock_of(t, a[0])?;
    let name = if a[4] != 0 {
        read_sockaddr(t, a[4], a[5])?
    } else {
        Vec::new()
    };
    let iov = read_iovecs_single(a[1], a[2])?;
    let r = send_one(t, &s, &name, &iov, &[], a[3]);
    sigpipe(t, &s, &r, a[3]);
    Ok(r? as u64)
}

/// The one buffer of send/recv/sendto/recvfrom as an iovec.
fn read_iovecs_single(base: u64, len: u64) -> Result<Vec<(u64, usize)>, Errno> {
    let len = (len as usize).min(MAX_RW_COUNT);
    if base
        .checked_add(len as u64)
        .is_none_or(|end| end > TASK_SIZE)
    {
        return Err(Errno::EFAULT);
    }
    Ok(vec![(base, len)])
}

pub fn recvfrom(t: &mut Task, a: [u64; 6]) -> SysResult {
    let s = sock_of(t, a[0])?;
    let iov = read_iovecs_single(a[1], a[2])?;
    let r = recv_one(t, &s, &iov, a[3])?;
    if a[4] != 0 {
        let sa = r.from.as_ref().map(Addr::to_sockaddr).unwrap_or_default();
        write_sockaddr(t, a[4], a[5], &sa)?;
    }
    Ok(r.ret as u64)
}

/// A `struct msghdr`.
struct MsgHdr {
    name: u64,
    namelen: i32,
    iov: u64,
    iovlen: u64,
    control: u64,
    controllen: u64,
}

fn read_msghdr(t: &Task, addr: u64) -> Result<MsgHdr, Errno> {
    let mut b = [0u8; MSGHDR_LEN];
    t.read_mem(addr, &mut b)?;
    let u = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap_or_default());
    let h = MsgHdr {
        name: u(0),
        namelen: u(8) as u32 as i32,
        iov: u(16),
        iovlen: u(24),
        control: u(32),
        controllen: u(40),
    };
    if h.namelen < 0 {
        return Err(Errno::EINVAL);
    }
    Ok(h)
}

/// sendmsg of the msghdr at `addr`.
fn sendmsg_at(t: &Task, s: &UnixSocket, addr: u64, flags: u64) -> Result<usize, Errno> {
    let h = read_msghdr(t, addr)?;
    let namelen = if h.name == 0 {
        0
    } else {
        (h.namelen as usize).min(SOCKADDR_MAX)
    };
    let name = read_sockaddr(t, h.name, namelen as u64)?;
    let iov = read_iovecs(t, h.iov, h.iovlen)?;
    if h.controllen > i32::MAX as u64 || h.controllen >= OPTMEM_MAX {
        return Err(Errno(libc::ENOBUFS));
    }
    let mut ctl = vec![0u8; h.controllen as usize];
    t.read_mem(h.control, &mut ctl)?;
    let r = send_one(t, s, &name, &iov, &ctl, flags);
    sigpipe(t, s, &r, flags);
    r
}

/// recvmsg into the msghdr at `addr`: data, then the sender's address, the control data
/// (installing passed files) and msg_flags.
fn recvmsg_at(t: &Task, s: &UnixSocket, addr: u64, flags: u64) -> Result<usize, Errno> {
    let h = read_msghdr(t, addr)?;
    let iov = read_iovecs(t, h.iov, h.iovlen)?;
    let r = recv_one(t, s, &iov, flags)?;
    let mut out_flags = if r.truncated { MSG_TRUNC as i32 } else { 0 };
    if h.name != 0 {
        let sa = r.from.as_ref().map(Addr::to_sockaddr).unwrap_or_default();
        write_sockaddr(t, h.name, addr + 8, &sa)?;
    }
    let cloexec = flags & MSG_CMSG_CLOEXEC != 0;
    let mut installed = Vec::new();
    let (ctl, cut) = encode_control(
        h.controllen.min(i32::MAX as u64) as usize,
        h.control != 0,
        r.creds,
        r.rights,
        |f| {
            let fd = install(t, f, cloexec)?;
            installed.push(fd);
            Ok(fd)
        },
    );
    if cut {
        out_flags |= MSG_CTRUNC;
    }
    let wrote = t
        .write_mem(h.control, &ctl)
        .and_then(|()| t.write_mem(addr + 40, &(ctl.len() as u64).to_le_bytes()))
        .and_then(|()| t.write_mem(addr + 48, &out_flags.to_le_bytes()));
    if let Err(e) = wrote {
        let mut fds = t.fds();
        for fd in installed {
            let _ = fds.remove(fd);
        }
        return Err(e);
    }
    Ok(r.ret)
}

pub fn sendmsg(t: &mut Task, a: [u64; 6]) -> SysResult {
    let s = sock_of(t, a[0])?;
    Ok(sendmsg_at(t, &s, a[1], a[2])? as u64)
}

pub fn recvmsg(t: &mut Task, a: [u64; 6]) -> SysResult {
    let s = sock_of(t, a[0])?;
    Ok(recvmsg_at(t, &s, a[1], a[2])? as u64)
}

pub fn sendmmsg(t: &mut Task, a: [u64; 6]) -> SysResult {
    let s = sock_of(t, a[0])?;
    let mut n = 0u64;
    for i in 0..a[2].min(UIO_MAXIOV) {
        let at = a[1].wrapping_add(i * MMSGHDR_LEN);
        let r = sendmsg_at(t, &s, at, a[3])
            .and_then(|len| t.write_mem(at + MSGHDR_LEN as u64, &(len as u32).to_le_bytes()));
        match r {
            Ok(()) => n += 1,
            Err(e) if n == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(n)
}

pub fn recvmmsg(t: &mut Task, a: [u64; 6]) -> SysResult {
    let s = sock_of(t, a[0])?;
    let deadline: Option<Instant> = if a[4] != 0 {
        let d = super::misc::read_timespec(t, a[4])?;
        super::misc::after(d)
    } else {
        None
    };
    let mut flags = a[3];
    let mut n = 0u64;
    for i in 0..a[2].min(UIO_MAXIOV) {
        let at = a[1].wrapping_add(i * MMSGHDR_LEN);
        let r = recvmsg_at(t, &s, at, flags)
            .and_then(|len| t.write_mem(at + MSGHDR_LEN as u64, &(len as u32).to_le_bytes()));
        match r {
            Ok(()) => n += 1,
            Err(e) if n == 0 => return Err(e),
            Err(_) => break,
        }
        if flags & MSG_WAITFORONE != 0 {
            flags |= MSG_DONTWAIT;
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
    }
    if let Some(d) = deadline {
        let left = d.saturating_duration_since(Instant::now());
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&(left.as_secs() as i64).to_le_bytes());
        b[8..].copy_from_slice(&i64::from(left.subsec_nanos()).to_le_bytes());
        t.write_mem(a[4], &b)?;
    }
    Ok(n)
}
