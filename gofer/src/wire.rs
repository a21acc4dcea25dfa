//! Packets over a unix `SOCK_SEQPACKET` socket, with descriptors passed by `SCM_RIGHTS`.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use crate::protocol::MAX_MESSAGE;

/// Most descriptors accepted beside one packet; more are a protocol error (the kernel
/// closes any that did not fit).
const MAX_FDS: usize = 4;

/// Control buffer, aligned for `cmsghdr`.
#[repr(C, align(8))]
struct Cmsg([u8; 64]);

/// What one `recv` got.
#[derive(Debug)]
pub struct Packet {
    /// Bytes received into the buffer.
    pub len: usize,
    /// Descriptors received beside it.
    pub fds: Vec<OwnedFd>,
    /// The packet was longer than the buffer (the rest is lost).
    pub truncated: bool,
    /// Descriptors were dropped by the kernel for want of room.
    pub fds_truncated: bool,
}

/// A fresh `SOCK_SEQPACKET` socket pair, close-on-exec.
pub fn socketpair() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: socketpair writes two descriptors into the array we pass.
    let r = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both are fresh descriptors we own.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Sends `msg` as one packet, with `fd` beside it if given.
pub fn send(sock: BorrowedFd<'_>, msg: &[u8], fd: Option<BorrowedFd<'_>>) -> io::Result<()> {
    if msg.len() > MAX_MESSAGE {
        return Err(io::Error::from_raw_os_error(libc::EMSGSIZE));
    }
    let mut iov = libc::iovec {
        iov_base: msg.as_ptr() as *mut libc::c_void,
        iov_len: msg.len(),
    };
    let mut cmsg = Cmsg([0; 64]);
    // SAFETY: msghdr is plain data; all-zero is a valid empty header.
    let mut hdr: libc::msghdr = unsafe { std::mem::zeroed() };
    hdr.msg_iov = &mut iov;
    hdr.msg_iovlen = 1;
    if let Some(fd) = fd {
        // SAFETY: CMSG_SPACE only computes a size.
        let space = unsafe { libc::CMSG_SPACE(std::mem::size_of::<RawFd>() as u32) } as usize;
        hdr.msg_control = cmsg.0.as_mut_ptr() as *mut libc::c_void;
        hdr.msg_controllen = space;
        // SAFETY: the control buffer is 64 aligned bytes, room for one cmsghdr and one
        // descriptor (space <= 64), so CMSG_FIRSTHDR is non-null and CMSG_DATA points
        // inside it; the unaligned write copes with any data alignment.
        unsafe {
            let c = libc::CMSG_FIRSTHDR(&hdr);
            (*c).cmsg_level = libc::SOL_SOCKET;
            (*c).cmsg_type = libc::SCM_RIGHTS;
            (*c).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<RawFd>() as u32) as usize;
            std::ptr::write_unaligned(libc::CMSG_DATA(c) as *mut RawFd, fd.as_raw_fd());
        }
    }
    loop {
        // SAFETY: hdr points at live buffers (msg, iov, cmsg) for the whole call.
        let n = unsafe { libc::sendmsg(sock.as_raw_fd(), &hdr, libc::MSG_NOSIGNAL) };
        if n >= 0 {
            return if n as usize == msg.len() {
                Ok(())
            } else {
                Err(io::Error::from_raw_os_error(libc::EMSGSIZE))
            };
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(e);
        }
    }
}

/// [`recv`], polling without blocking for up to `spin` first: a peer that answers within
/// that time is heard without the cost of a sleep and a cross-CPU wake-up (tens of
/// microseconds on these machines).
pub fn recv_spin(
    sock: BorrowedFd<'_>,
    buf: &mut [u8],
    spin: std::time::Duration,
) -> io::Result<Option<Packet>> {
    let deadline = std::time::Instant::now() + spin;
    loop {
        match recv_flags(sock, buf, libc::MSG_DONTWAIT) {
            Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => {
                if std::time::Instant::now() >= deadline {
                    break;
                }
                std::hint::spin_loop();
            }
            r => return r,
        }
    }
    recv(sock, buf)
}

/// Receives one packet into `buf`; `None` when the peer hung up.
pub fn recv(sock: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<Option<Packet>> {
    recv_flags(sock, buf, 0)
}

fn recv_flags(sock: BorrowedFd<'_>, buf: &mut [u8], flags: i32) -> io::Result<Option<Packet>> {
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr() as *mut libc::c_void,
        iov_len: buf.len(),
    };
    let mut cmsg = Cmsg([0; 64]);
    // SAFETY: msghdr is plain data; all-zero is a valid empty header.
    let mut hdr: libc::msghdr = unsafe { std::mem::zeroed() };
    hdr.msg_iov = &mut iov;
    hdr.msg_iovlen = 1;
    hdr.msg_control = cmsg.0.as_mut_ptr() as *mut libc::c_void;
    // SAFETY: CMSG_SPACE only computes a size.
    let space = unsafe { libc::CMSG_SPACE((MAX_FDS * std::mem::size_of::<RawFd>()) as u32) };
    hdr.msg_controllen = (space as usize).min(cmsg.0.len());
    let n = loop {
        // SAFETY: hdr points at live buffers (buf, iov, cmsg) for the whole call.
        let n =
            unsafe { libc::recvmsg(sock.as_raw_fd(), &mut hdr, libc::MSG_CMSG_CLOEXEC | flags) };
        if n >= 0 {
            break n as usize;
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(e);
        }
    };
    let mut fds = Vec::new();
    // SAFETY: the kernel filled hdr.msg_control with msg_controllen bytes of well-formed
    // cmsghdrs; CMSG_FIRSTHDR/CMSG_NXTHDR stay inside them, and each SCM_RIGHTS payload
    // holds (cmsg_len - CMSG_LEN(0)) / 4 descriptors now owned by us.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&hdr);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_RIGHTS {
                let data = libc::CMSG_DATA(c) as *const RawFd;
                let bytes = (*c).cmsg_len - libc::CMSG_LEN(0) as usize;
                for i in 0..bytes / std::mem::size_of::<RawFd>() {
                    fds.push(OwnedFd::from_raw_fd(std::ptr::read_unaligned(data.add(i))));
                }
            }
            c = libc::CMSG_NXTHDR(&hdr, c);
        }
    }
    if n == 0 && fds.is_empty() && hdr.msg_flags & libc::MSG_TRUNC == 0 {
        return Ok(None);
    }
    Ok(Some(Packet {
        len: n.min(buf.len()),
        fds,
        truncated: hdr.msg_flags & libc::MSG_TRUNC != 0,
        fds_truncated: hdr.msg_flags & libc::MSG_CTRUNC != 0,
    }))
}
