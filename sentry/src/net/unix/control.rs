//! Control messages (`struct cmsghdr` sequences): SCM_RIGHTS and SCM_CREDENTIALS, parsed
//! from sendmsg (Linux's __scm_send) and built for recvmsg (put_cmsg, scm_detach_fds).

use std::sync::Arc;

use super::Ucred;
use crate::errno::Errno;
use crate::fs::OpenFile;

/// `sizeof(struct cmsghdr)`: cmsg_len (size_t), cmsg_level, cmsg_type.
pub const CMSG_HDR: usize = 16;
/// Most files one message may carry (SCM_MAX_FD).
const SCM_MAX_FD: usize = 253;
const SCM_RIGHTS: i32 = 1;
const SCM_CREDENTIALS: i32 = 2;
/// `sizeof(struct ucred)`.
const UCRED_LEN: usize = 12;

/// CMSG_ALIGN.
fn align(n: usize) -> usize {
    (n + 7) & !7
}

/// What a sendmsg's control data carries.
#[derive(Default)]
pub struct Control {
    /// SCM_RIGHTS: the open descriptions passed.
    pub rights: Vec<Arc<OpenFile>>,
    /// SCM_CREDENTIALS: the credentials claimed (already checked).
    pub creds: Option<Ucred>,
}

fn u64_at(b: &[u8], o: usize) -> u64 {
    b.get(o..o + 8)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u64::from_le_bytes)
}

fn i32_at(b: &[u8], o: usize) -> i32 {
    b.get(o..o + 4)
        .and_then(|s| s.try_into().ok())
        .map_or(0, i32::from_le_bytes)
}

/// Parses sendmsg control data `buf` (msg_controllen bytes). `file` gives the open
/// description of a descriptor (EBADF); `check` accepts or refuses claimed credentials.
/// Errors: EINVAL for a header whose length is below a header or beyond the buffer, an
/// unknown SOL_SOCKET type, more than 253 files, or SCM_CREDENTIALS of the wrong size; EBADF
/// for a bad descriptor. Headers of other levels are skipped; a buffer shorter than a header
/// carries nothing.
pub fn parse_control(
    buf: &[u8],
    mut file: impl FnMut(i32) -> Result<Arc<OpenFile>, Errno>,
    mut check: impl FnMut(&Ucred) -> Result<(), Errno>,
) -> Result<Control, Errno> {
    let mut ctl = Control::default();
    let n = buf.len();
    let mut off = 0;
    while off + CMSG_HDR <= n {
        let len = u64_at(buf, off);
        if len < CMSG_HDR as u64 || len > (n - off) as u64 {
            return Err(Errno::EINVAL);
        }
        let len = len as usize;
        if i32_at(buf, off + 8) == libc::SOL_SOCKET {
            let data = &buf[off + CMSG_HDR..off + len];
            match i32_at(buf, off + 12) {
                SCM_RIGHTS => {
                    let num = data.len() / 4;
                    if num > SCM_MAX_FD || ctl.rights.len() + num > SCM_MAX_FD {
                        return Err(Errno::EINVAL);
                    }
                    for i in 0..num {
                        let fd = i32_at(data, 4 * i);
                        if fd < 0 {
                            return Err(Errno::EBADF);
                        }
                        ctl.rights.push(file(fd)?);
                    }
                }
                SCM_CREDENTIALS => {
                    if data.len() != UCRED_LEN {
                        return Err(Errno::EINVAL);
                    }
                    let c = Ucred {
                        pid: i32_at(data, 0),
                        uid: i32_at(data, 4) as u32,
                        gid: i32_at(data, 8) as u32,
                    };
                    check(&c)?;
                    ctl.creds = Some(c);
                }
                _ => return Err(Errno::EINVAL),
            }
        }
        off += align(len);
    }
    Ok(ctl)
}

/// One control message into `out` (put_cmsg): cut to the `left` bytes there are (MSG_CTRUNC),
/// nothing if not even a header fits. Returns the bytes used (the aligned size, or all that
/// was left) and whether it was cut.
fn put(out: &mut Vec<u8>, left: usize, ty: i32, data: &[u8]) -> (usize, bool) {
    if left < CMSG_HDR {
        return (0, true);
    }
    let full = CMSG_HDR + data.len();
    let len = full.min(left);
    let start = out.len();
    out.extend_from_slice(&(len as u64).to_le_bytes());
    out.extend_from_slice(&libc::SOL_SOCKET.to_le_bytes());
    out.extend_from_slice(&ty.to_le_bytes());
    out.extend_from_slice(&data[..len - CMSG_HDR]);
    let used = align(full).min(left);
    out.resize(start + used, 0);
    (used, len < full)
}

/// Builds recvmsg's control data for a buffer of `space` bytes (`has_buffer` false when
/// msg_control is NULL): SCM_CREDENTIALS when `creds` (the receiver has SO_PASSCRED), then
/// SCM_RIGHTS with as many of `rights` as fit, each installed by `install` (which stops at
/// its first failure, such as EMFILE). Files not installed are dropped. Returns the bytes
/// and whether anything was cut (MSG_CTRUNC).
pub fn encode_control(
    space: usize,
    has_buffer: bool,
    creds: Option<Ucred>,
    rights: Vec<Arc<OpenFile>>,
    mut install: impl FnMut(Arc<OpenFile>) -> Result<i32, Errno>,
) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    if !has_buffer {
        return (out, creds.is_some() || !rights.is_empty());
    }
    let mut left = space;
    let mut cut = false;
    if let Some(c) = creds {
        let (used, c) = put(&mut out, left, SCM_CREDENTIALS, &c.to_bytes());
        left -= used;
        cut |= c;
    }
    if !rights.is_empty() {
        let fit = if left <= CMSG_HDR {
            0
        } else {
            (left - CMSG_HDR) / 4
        };
        let mut fds = Vec::new();
        for f in rights.iter().take(fit) {
            match install(f.clone()) {
                Ok(fd) => fds.extend_from_slice(&fd.to_le_bytes()),
                Err(_) => break,
            }
        }
        let installed = fds.len() / 4;
        if installed > 0 {
            put(&mut out, left, SCM_RIGHTS, &fds);
        }
        cut |= installed < rights.len();
    }
    (out, cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hdr(len: u64, level: i32, ty: i32) -> Vec<u8> {
        let mut v = len.to_le_bytes().to_vec();
        v.extend_from_slice(&level.to_le_bytes());
        v.extend_from_slice(&ty.to_le_bytes());
        v
    }

    fn no_file(_: i32) -> Result<Arc<OpenFile>, Errno> {
        Err(Errno::EBADF)
    }

    #[test]
    fn parse_errors() {
        let ok = |_: &Ucred| Ok(());
        assert!(parse_control(&[0u8; 8], no_file, ok).is_ok());
        assert_eq!(
            parse_control(&hdr(8, 1, 1), no_file, ok).err(),
            Some(Errno::EINVAL)
        );
        assert_eq!(
            parse_control(&hdr(17, 1, 1), no_file, ok).err(),
            Some(Errno::EINVAL)
        );
        assert!(parse_control(&hdr(16, 1, 1), no_file, ok).is_ok());
        assert_eq!(
            parse_control(&hdr(16, 1, 9), no_file, ok).err(),
            Some(Errno::EINVAL)
        );
        assert!(parse_control(&hdr(16, 7, 9), no_file, ok).is_ok());
        let mut v = hdr(20, 1, 1);
        v.extend_from_slice(&3i32.to_le_bytes());
        assert_eq!(parse_control(&v, no_file, ok).err(), Some(Errno::EBADF));
        let mut v = hdr(28, 1, 2);
        v.extend_from_slice(&[0u8; 12]);
        let c = parse_control(&v, no_file, ok).ok().and_then(|c| c.creds);
        assert_eq!(c, Some(Ucred::default()));
        assert_eq!(
            parse_control(&v, no_file, |_| Err(Errno::EPERM)).err(),
            Some(Errno::EPERM)
        );
    }

    #[test]
    fn encode_credentials() {
        let c = Ucred {
            pid: 5,
            uid: 6,
            gid: 7,
        };
        let (b, cut) = encode_control(64, true, Some(c), Vec::new(), |_| Ok(0));
        assert_eq!(b.len(), 32);
        assert!(!cut);
        assert_eq!(u64_at(&b, 0), 28);
        let (b, cut) = encode_control(20, true, Some(c), Vec::new(), |_| Ok(0));
        assert_eq!((b.len(), cut, u64_at(&b, 0)), (20, true, 20));
        let (b, cut) = encode_control(8, true, Some(c), Vec::new(), |_| Ok(0));
        assert_eq!((b.len(), cut), (0, true));
        let (b, cut) = encode_control(0, false, Some(c), Vec::new(), |_| Ok(0));
        assert_eq!((b.len(), cut), (0, true));
    }
}
