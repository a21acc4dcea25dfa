//! The gofer: the file broker process and its wire protocol.
//!
//! One gofer per container serves the Sentry the container's files over a unix
//! `SOCK_SEQPACKET` socket ([`protocol`]): it walks one component at a time with
//! `openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS)` and
//! `O_NOFOLLOW`, returns symlinks as symlinks (never following one on the host), and donates
//! opened host descriptors with `SCM_RIGHTS`. [`server`] is the gofer's side, [`client`] the
//! Sentry's, [`seccomp`] the gofer's host syscall allow-list.

pub mod client;
mod host;
pub mod idmap;
pub mod protocol;
pub mod seccomp;
pub mod server;
mod wire;

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

pub use client::{Client, Walked};
pub use idmap::{IdMap, IdMaps};
pub use protocol::{Errno, ProtocolError};
pub use server::Server;
pub use wire::socketpair;

/// The gofer's errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The gofer answered with a Linux errno.
    #[error("gofer: {0}")]
    Errno(Errno),
    /// A request that breaks the protocol's limits (not sent).
    #[error("invalid gofer request: {0}")]
    Request(ProtocolError),
    /// A reply that breaks the protocol (the connection is dropped).
    #[error("malformed gofer reply: {0}")]
    Reply(ProtocolError),
    /// A request that breaks the protocol (the server closed the connection).
    #[error("malformed gofer request: {0}")]
    Malformed(ProtocolError),
    /// The peer hung up.
    #[error("the gofer connection is closed")]
    Disconnected,
    /// A host call failed.
    #[error("{what}")]
    Host {
        /// What was being done.
        what: &'static str,
        /// The host's error.
        #[source]
        source: std::io::Error,
    },
    /// The root given is not a directory.
    #[error("the gofer's root is not a directory")]
    RootNotDir,
    /// The socket given is not a unix `SOCK_SEQPACKET` socket.
    #[error("the gofer's socket is not a unix SOCK_SEQPACKET socket")]
    NotSeqpacket,
    /// Building or installing the seccomp filter failed.
    #[error("gofer seccomp filter: {0}")]
    Filter(String),
}

impl Error {
    /// The errno to give an application for this error.
    pub fn errno(&self) -> i32 {
        match self {
            Error::Errno(e) => e.0,
            Error::Request(ProtocolError::TooBig { field, .. })
                if field.contains("name") || field.contains("target") =>
            {
                libc::ENAMETOOLONG
            }
            Error::Request(_) => libc::EINVAL,
            _ => libc::EIO,
        }
    }
}

/// Opens `path` as a root for [`serve`] (`O_PATH | O_DIRECTORY`).
pub fn open_root(path: &std::path::Path) -> std::io::Result<OwnedFd> {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes())
        .map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: a valid NUL-terminated path.
    let fd = unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Checks that `fd` is an open descriptor of this process (before taking ownership of an
/// inherited one).
pub fn check_fd(fd: RawFd) -> Result<(), Error> {
    // SAFETY: F_GETFD reads descriptor flags; an invalid fd just fails with EBADF.
    if fd < 0 || unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
        return Err(Error::Host {
            what: "checking an inherited descriptor",
            source: std::io::Error::from_raw_os_error(libc::EBADF),
        });
    }
    Ok(())
}

fn check_seqpacket(sock: &OwnedFd) -> Result<(), Error> {
    let mut ty: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into `ty`.
    let r = unsafe {
        libc::getsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_TYPE,
            &mut ty as *mut libc::c_int as *mut libc::c_void,
            &mut len,
        )
    };
    if r < 0 || ty != libc::SOCK_SEQPACKET {
        return Err(Error::NotSeqpacket);
    }
    Ok(())
}

/// The gofer process's main loop: confines the whole process with the [`seccomp`] filter,
/// then serves `sock` over `root` until the peer hangs up. With `read_only`, every request
/// that would change a file gets EROFS, and the filter allows no host call that changes one
/// ([`seccomp::Mode::ReadOnly`]).
/// `ids`: the sandbox's user namespace mappings, applied to every id in either direction.
pub fn serve(root: OwnedFd, sock: OwnedFd, read_only: bool, ids: IdMaps) -> Result<(), Error> {
    check_seqpacket(&sock)?;
    let server = Server::new(root, read_only)?.with_ids(ids);
    serve_server(server, sock, read_only, true)
}

/// [`serve`], with the seccomp filter optional (`confine`).
pub fn serve_with(
    root: OwnedFd,
    sock: OwnedFd,
    read_only: bool,
    confine: bool,
) -> Result<(), Error> {
    check_seqpacket(&sock)?;
    serve_server(Server::new(root, read_only)?, sock, read_only, confine)
}

fn serve_server(
    server: Server,
    sock: OwnedFd,
    read_only: bool,
    confine: bool,
) -> Result<(), Error> {
    // Modes arrive with the application's umask already applied.
    // SAFETY: umask only sets the process's file mode creation mask.
    unsafe { libc::umask(0) };
    if confine {
        seccomp::install(if read_only {
            seccomp::Mode::ReadOnly
        } else {
            seccomp::Mode::Writable
        })?;
    }
    tracing::debug!(read_only, confine, "gofer: serving");
    server.serve_connection(sock)
}
