//! A socket descriptor's file: read/write, poll, ioctl and fstat of an AF_UNIX socket
//! through the FileOps every file has, and the registry that finds the socket behind a
//! descriptor for the socket syscalls.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::sock::{Sock, SockType};
use super::{Control, IoFlags, Received, Ucred};
use crate::errno::Errno;
use crate::fs::eventfd::Registry;
use crate::fs::file::IoctlReply;
use crate::fs::{FileOps, OpenFile, Stat};

/// FIONREAD (SIOCINQ).
const FIONREAD: u64 = 0x541B;
/// TIOCOUTQ (SIOCOUTQ).
const SIOCOUTQ: u64 = 0x5411;
/// Device number of sockfs in `st_dev`.
const SOCKFS_DEV: u64 = 8;

static SOCKETS: Registry<UnixSocket> = Registry::new();

/// The file of a socket descriptor (one per socket: dup and fork share it, SCM_RIGHTS passes
/// it). Closing the last reference closes the socket.
pub struct UnixSocket {
    pub sock: Arc<Sock>,
    nonblock: AtomicBool,
    /// Owner and group of the socket inode (the creator's filesystem ids).
    owner: (u32, u32),
}

impl UnixSocket {
    /// The file of `sock`, made by a task with filesystem ids `owner`, registered for
    /// [`UnixSocket::of`].
    pub fn new(sock: Arc<Sock>, nonblock: bool, owner: (u32, u32)) -> Arc<UnixSocket> {
        let s = Arc::new(UnixSocket {
            sock,
            nonblock: AtomicBool::new(nonblock),
            owner,
        });
        SOCKETS.add(&s);
        s
    }

    /// A read-write open description of `self` (O_NONBLOCK as created).
    pub fn open(self: Arc<Self>) -> Arc<OpenFile> {
        let mut flags = libc::O_RDWR as u32;
        if self.nonblocking() {
            flags |= libc::O_NONBLOCK as u32;
        }
        OpenFile::new(self, flags)
    }

    /// The socket behind a descriptor's file, if it is one.
    pub fn of(ops: &Arc<dyn FileOps>) -> Option<Arc<UnixSocket>> {
        SOCKETS.find(ops)
    }

    /// O_NONBLOCK of the description.
    pub fn nonblocking(&self) -> bool {
        self.nonblock.load(Ordering::Relaxed)
    }

    /// Receives as read(2) and recvmsg do, by type.
    pub fn recv(&self, max: usize, f: IoFlags) -> Result<Received, Errno> {
        match self.sock.ty {
            SockType::Stream => self.sock.stream_recv(max, f),
            _ => self.sock.dgram_recv(max, f),
        }
    }
}

/// The credentials a message from the running task carries by default: its process id and
/// real user and group ids.
pub fn current_cred() -> Ucred {
    match crate::kernel::signal::current_group() {
        Some(tg) => {
            let c = tg.lock().creds.clone();
            Ucred {
                pid: tg.tgid,
                uid: c.ruid,
                gid: c.rgid,
            }
        }
        None => Ucred::default(),
    }
}

impl Drop for UnixSocket {
    fn drop(&mut self) {
        SOCKETS.remove(self);
        self.sock.release(false);
    }
}

impl FileOps for UnixSocket {
    fn read(&self, buf: &mut [u8], _off: Option<u64>) -> Result<usize, Errno> {
        let f = IoFlags {
            nonblock: self.nonblocking(),
            ..IoFlags::default()
        };
        // Files passed with the data are dropped here (read(2) has no control buffer).
        let r = self.recv(buf.len(), f)?;
        let n = r.data.len().min(buf.len());
        buf[..n].copy_from_slice(&r.data[..n]);
        Ok(n)
    }

    fn write(&self, data: &[u8], _off: Option<u64>) -> Result<usize, Errno> {
        let nonblock = self.nonblocking();
        let me = current_cred();
        match self.sock.ty {
            SockType::Stream => self
                .sock
                .stream_send(data, Control::default(), me, nonblock),
            _ => self
                .sock
                .dgram_send(data.to_vec(), Control::default(), me, None, nonblock),
        }
    }

    fn whole_vectors(&self) -> bool {
        true
    }

    fn sigpipe_on_epipe(&self) -> bool {
        self.sock.ty == SockType::Stream
    }

    fn set_nonblock(&self, on: bool) {
        self.nonblock.store(on, Ordering::Relaxed);
    }

    fn event_count(&self) -> u64 {
        self.sock.event_count()
    }

    fn poll_ready(&self) -> u16 {
        self.sock.poll()
    }

    fn ioctl(&self, req: u64, _arg: u64) -> Result<IoctlReply, Errno> {
        let n = match req {
            FIONREAD => self.sock.inq()?,
            SIOCOUTQ => self.sock.outq(),
            _ => return Err(Errno::ENOTTY),
        };
        Ok(IoctlReply {
            ret: 0,
            out: (n.min(i32::MAX as usize) as i32).to_le_bytes().to_vec(),
        })
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat {
            dev: SOCKFS_DEV,
            ino: self.sock.ino,
            mode: libc::S_IFSOCK | 0o777,
            nlink: 1,
            uid: self.owner.0,
            gid: self.owner.1,
            blksize: 4096,
            ..Stat::default()
        })
    }
}
