//! The control channel between the CLI (`start`, `kill`, `ps`, `exec`) and a sandbox's
//! `rvisor boot` process: a unix stream socket in the container's state directory (mode
//! 0600, under a root-only directory). One request per connection, one JSON line each way;
//! `exec` passes the new process's stdio as three descriptors with the request
//! (SCM_RIGHTS) or, for a process with a terminal (`ExecRequest::terminal`), one: the host
//! terminal the Sentry bridges the process's own terminal to (`console`).

use std::io::{BufRead, BufReader, Read as _, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::path::Path;

use anyhow::{bail, Context as _};
use serde::{Deserialize, Serialize};

/// Largest request or reply line.
pub const MAX_LINE: usize = 1 << 20;

/// What the CLI asks of the sandbox.
#[derive(Debug, Serialize, Deserialize)]
pub enum Request {
    /// Let pid 1 run.
    Start,
    /// A signal to pid 1, or to every process.
    Kill { signal: i32, all: bool },
    /// A signal to one process (an exec'd one).
    KillPid { pid: i32, signal: i32 },
    /// The processes of the sandbox.
    Ps,
    /// Start a process; its stdio come with the request.
    Exec(ExecRequest),
    /// Wait until an exec'd process ends; the reply carries its wait status.
    Wait { pid: i32 },
}

/// A process to start (from an OCI `process`).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ExecRequest {
    pub args: Vec<String>,
    pub env: Vec<String>,
    pub cwd: String,
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<u32>,
    pub umask: Option<u32>,
    /// Capability sets: effective, permitted, inheritable, bounding, ambient (None: all).
    #[serde(default)]
    pub caps: Option<[u64; 5]>,
    /// The process runs on a terminal: the one descriptor sent with the request is the
    /// host terminal to bridge it to (else three: stdin, stdout, stderr).
    #[serde(default)]
    pub terminal: bool,
    /// Resource limits set before it runs: (RLIMIT_* number, soft, hard).
    #[serde(default)]
    pub rlimits: Vec<(u32, u64, u64)>,
    /// It starts with no_new_privs set.
    #[serde(default)]
    pub no_new_privs: bool,
}

/// One process, as `ps` lists it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Process {
    pub pid: i32,
    pub ppid: i32,
    pub comm: String,
}

/// The sandbox's answer.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Reply {
    /// Why the request failed; None on success.
    pub error: Option<String>,
    /// The pid of an exec'd process.
    pub pid: Option<i32>,
    /// The wait status of an exec'd process that ended.
    pub status: Option<i32>,
    pub processes: Vec<Process>,
}

impl Reply {
    pub fn err(e: impl std::fmt::Display) -> Reply {
        Reply {
            error: Some(e.to_string()),
            ..Default::default()
        }
    }
}

/// Sends `data` on `sock` with `fds` attached.
pub fn send_with_fds(sock: RawFd, data: &[u8], fds: &[RawFd]) -> std::io::Result<()> {
    let mut iov = libc::iovec {
        iov_base: data.as_ptr() as *mut libc::c_void,
        iov_len: data.len(),
    };
    let mut cbuf = [0u64; 8];
    // SAFETY: a zeroed msghdr is valid; its pointers are set below to live buffers.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    if !fds.is_empty() {
        let bytes = std::mem::size_of_val(fds);
        // SAFETY: CMSG_SPACE is a pure computation.
        let space = unsafe { libc::CMSG_SPACE(bytes as u32) } as usize;
        if space > std::mem::size_of_val(&cbuf) {
            return Err(std::io::Error::from_raw_os_error(libc::EINVAL));
        }
        msg.msg_control = cbuf.as_mut_ptr().cast();
        msg.msg_controllen = space;
        // SAFETY: msg_control points at `space` bytes we own; CMSG_FIRSTHDR of it is
        // non-null and the data area holds `bytes` bytes.
        unsafe {
            let c = libc::CMSG_FIRSTHDR(&msg);
            (*c).cmsg_level = libc::SOL_SOCKET;
            (*c).cmsg_type = libc::SCM_RIGHTS;
            (*c).cmsg_len = libc::CMSG_LEN(bytes as u32) as usize;
            std::ptr::copy_nonoverlapping(fds.as_ptr().cast::<u8>(), libc::CMSG_DATA(c), bytes);
        }
    }
    let sent = loop {
        // SAFETY: msg points at live buffers set up above.
        let n = unsafe { libc::sendmsg(sock, &msg, libc::MSG_NOSIGNAL) };
        if n >= 0 {
            break n as usize;
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    };
    // What did not fit goes without descriptors.
    let mut rest = &data[sent..];
    while !rest.is_empty() {
        // SAFETY: send from a live buffer of its length.
        let n = unsafe { libc::send(sock, rest.as_ptr().cast(), rest.len(), libc::MSG_NOSIGNAL) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        rest = &rest[n as usize..];
    }
    Ok(())
}

/// Reads the first bytes of a request and the descriptors sent with them (at most 3).
fn recv_with_fds(sock: RawFd, buf: &mut [u8]) -> std::io::Result<(usize, Vec<OwnedFd>)> {
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    let mut cbuf = [0u64; 8];
    // SAFETY: a zeroed msghdr is valid; its pointers are set to live buffers.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&cbuf);
    let n = loop {
        // SAFETY: msg points at live buffers of the given sizes.
        let n = unsafe { libc::recvmsg(sock, &mut msg, libc::MSG_CMSG_CLOEXEC) };
        if n >= 0 {
            break n as usize;
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    };
    let mut fds = Vec::new();
    // SAFETY: walking the control messages the kernel wrote into `cbuf`, within
    // msg_controllen; each SCM_RIGHTS payload is an array of descriptors now ours.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_RIGHTS {
                let len = (*c).cmsg_len - libc::CMSG_LEN(0) as usize;
                let count = len / std::mem::size_of::<RawFd>();
                let data = libc::CMSG_DATA(c).cast::<RawFd>();
                for i in 0..count {
                    fds.push(OwnedFd::from_raw_fd(std::ptr::read_unaligned(data.add(i))));
                }
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
    }
    if msg.msg_flags & libc::MSG_CTRUNC != 0 || fds.len() > 3 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "too many descriptors with a control request",
        ));
    }
    Ok((n, fds))
}

/// A path for bind(2) or connect(2) to `sock` that fits in a `sockaddr_un` whatever the
/// length of the state root (Docker's makes the real one too long): through a descriptor
/// of its directory, `/proc/self/fd/N/NAME`. The descriptor must stay open meanwhile.
pub fn short_path(sock: &Path) -> anyhow::Result<(OwnedFd, std::path::PathBuf)> {
    let dir = sock.parent().context("a socket path without a directory")?;
    let name = sock.file_name().context("a socket path without a name")?;
    let d = std::fs::File::open(dir).with_context(|| format!("opening {}", dir.display()))?;
    let fd = OwnedFd::from(d);
    let p = Path::new("/proc/self/fd")
        .join(fd.as_raw_fd().to_string())
        .join(name);
    Ok((fd, p))
}

/// Sends `req` (with `fds`) to the sandbox listening at `sock` and returns its reply.
pub fn call(sock: &Path, req: &Request, fds: &[RawFd]) -> anyhow::Result<Reply> {
    let (_dir, path) = short_path(sock)?;
    let s = UnixStream::connect(&path).context("the sandbox is not answering")?;
    let mut line = serde_json::to_vec(req)?;
    line.push(b'\n');
    send_with_fds(s.as_raw_fd(), &line, fds).context("sending to the sandbox")?;
    let mut r = BufReader::new(s).take(MAX_LINE as u64);
    let mut text = String::new();
    r.read_line(&mut text)
        .context("reading the sandbox's reply")?;
    if text.is_empty() {
        bail!("the sandbox closed the connection");
    }
    let reply: Reply = serde_json::from_str(&text).context("a malformed reply")?;
    if let Some(e) = reply.error {
        bail!("{e}");
    }
    Ok(reply)
}

/// Reads one request (and the descriptors with it) from a connection.
pub fn read_request(s: &UnixStream) -> anyhow::Result<(Request, Vec<OwnedFd>)> {
    let mut buf = vec![0u8; 64 * 1024];
    let (n, fds) = recv_with_fds(s.as_raw_fd(), &mut buf)?;
    let mut data = buf[..n].to_vec();
    let mut rest = BufReader::new(s).take(MAX_LINE as u64);
    if n > 0 && !data.ends_with(b"\n") {
        rest.read_until(b'\n', &mut data)?;
    }
    if data.len() > MAX_LINE {
        bail!("request too long");
    }
    let req = serde_json::from_slice(&data).context("a malformed request")?;
    Ok((req, fds))
}

/// Writes a reply. With write(2), not send(2): the confined Sentry may not call sendto
/// (and ignores SIGPIPE).
pub fn write_reply(s: &UnixStream, r: &Reply) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(r)?;
    line.push(b'\n');
    std::fs::File::from(OwnedFd::from(s.try_clone()?)).write_all(&line)
}
