//! AF_UNIX sockets, entirely inside the Sentry: SOCK_STREAM, SOCK_DGRAM and SOCK_SEQPACKET,
//! socketpair, names in the filesystem (socket files in the sandbox's tmpfs) and in the
//! sandbox's abstract namespace, SCM_RIGHTS and SCM_CREDENTIALS.
//!
//! The model is Linux's: every socket ([`Sock`]) has its own receive queue of messages; a
//! sender appends to the receiver's queue and is charged for the message (data plus a fixed
//! overhead) until the receiver takes it off, so that a sender blocks once SO_SNDBUF worth of
//! its data is unread. A stream connection is two sockets, each the other's peer; `listen`
//! queues the server side of every connection made to it (created by `connect`) until
//! `accept` takes it. Shutdown bits, errors and wake-ups follow af_unix.c, so that poll bits,
//! EOF, EPIPE, ECONNRESET and ECONNREFUSED come out as on Linux.
//!
//! Locking: each socket has one mutex (its state and queue) and one condition variable. No
//! code holds the locks of two existing sockets at once (connect fills in the new server
//! side under the listener's lock, before anyone else can see it), and no message (which may
//! hold the last reference to an in-flight file, whose release locks other sockets) is
//! dropped under a lock; files in flight are closed one at a time (`sock::drop_in_flight`),
//! so that a long chain of sockets queued in one another never recurses. A blocked
//! call waits on the condition variable of the socket whose state it waits for (its own for
//! a receive or an accept, the receiver's for a send or a connect) and registers it as the
//! task's signal waker, so that a signal ends the wait at once (EINTR, or a restart with
//! SA_RESTART), exactly as pipes do.
//!
//! Layout: `sock` (the socket object, its queue, waits, options, shutdown and release),
//! `stream` (listen, connect, accept, the byte stream), `dgram` (datagrams and seqpackets,
//! datagram connect), `addr` (addresses and the abstract namespace), `control` (control
//! messages), `opts` (socket options), `file` (the FileOps of a socket descriptor).

mod addr;
mod control;
mod dgram;
mod file;
mod opts;
mod sock;
mod stream;
mod table;

use std::sync::Arc;

use crate::fs::OpenFile;

pub use addr::{parse_addr, AbstractNames, Addr};
pub use control::{encode_control, parse_control, Control, CMSG_HDR};
pub use file::{current_cred, UnixSocket};
pub use sock::{Sock, SockType, MAX_BUF, MIN_RCVBUF, MIN_SNDBUF};
pub use table::proc_net_unix;

/// `struct ucred`: the credentials SO_PEERCRED and SCM_CREDENTIALS carry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ucred {
    pub pid: i32,
    pub uid: u32,
    pub gid: u32,
}

impl Ucred {
    /// The 12 bytes of `struct ucred`.
    pub fn to_bytes(self) -> [u8; 12] {
        let mut b = [0u8; 12];
        b[..4].copy_from_slice(&self.pid.to_le_bytes());
        b[4..8].copy_from_slice(&self.uid.to_le_bytes());
        b[8..].copy_from_slice(&self.gid.to_le_bytes());
        b
    }
}

/// How one send or receive behaves (from MSG_* flags and the description's O_NONBLOCK).
#[derive(Clone, Copy, Debug, Default)]
pub struct IoFlags {
    /// MSG_DONTWAIT or O_NONBLOCK.
    pub nonblock: bool,
    /// MSG_PEEK.
    pub peek: bool,
    /// MSG_WAITALL.
    pub waitall: bool,
    /// MSG_TRUNC: a datagram receive returns the datagram's real length.
    pub trunc: bool,
}

/// What a receive took.
#[derive(Default)]
pub struct Received {
    pub data: Vec<u8>,
    /// The value the call returns (the datagram's length with MSG_TRUNC).
    pub ret: usize,
    /// The datagram did not fit (MSG_TRUNC in msg_flags).
    pub truncated: bool,
    /// Files passed with SCM_RIGHTS.
    pub rights: Vec<Arc<OpenFile>>,
    /// The sender's credentials, when the receiver asked for them (SO_PASSCRED).
    pub creds: Option<Ucred>,
    /// The sender's address, if it was bound.
    pub from: Option<Addr>,
}
