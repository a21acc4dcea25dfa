//! AF_UNIX addresses (`struct sockaddr_un`) and the sandbox's abstract namespace.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, Weak};

use super::sock::{Sock, SockType};
use crate::errno::Errno;

/// `offsetof(struct sockaddr_un, sun_path)`.
pub const PATH_OFFSET: usize = 2;
/// `sizeof(struct sockaddr_un)`.
pub const SOCKADDR_UN_LEN: usize = 110;
/// Names autobind hands out: "\0" and five hex digits, as Linux.
const AUTOBIND_NAMES: u32 = 0x10_0000;

/// A socket's name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Addr {
    /// In the abstract namespace: the bytes after the leading NUL (NULs allowed).
    Abstract(Vec<u8>),
    /// A filesystem path, as given to bind (without its NUL).
    Path(Vec<u8>),
}

impl Addr {
    /// The `sockaddr_un` bytes getsockname reports: the family, then the path and its NUL,
    /// or a NUL and the abstract name.
    pub fn to_sockaddr(&self) -> Vec<u8> {
        let mut v = (libc::AF_UNIX as u16).to_le_bytes().to_vec();
        match self {
            Addr::Abstract(n) => {
                v.push(0);
                v.extend_from_slice(n);
            }
            Addr::Path(p) => {
                v.extend_from_slice(p);
                v.push(0);
            }
        }
        v
    }
}

/// Parses the `len` bytes of a `sockaddr_un` an application gave (unix_validate_addr):
/// EINVAL unless the family is AF_UNIX and the length holds more than the family and no more
/// than the structure.
pub fn parse_addr(raw: &[u8]) -> Result<Addr, Errno> {
    if raw.len() <= PATH_OFFSET || raw.len() > SOCKADDR_UN_LEN {
        return Err(Errno::EINVAL);
    }
    if u16::from_le_bytes([raw[0], raw[1]]) != libc::AF_UNIX as u16 {
        return Err(Errno::EINVAL);
    }
    let path = &raw[PATH_OFFSET..];
    if path[0] == 0 {
        return Ok(Addr::Abstract(path[1..].to_vec()));
    }
    let end = path.iter().position(|&b| b == 0).unwrap_or(path.len());
    Ok(Addr::Path(path[..end].to_vec()))
}

/// Bound sockets by (type, name).
type NameMap = HashMap<(SockType, Vec<u8>), Weak<Sock>>;

/// The abstract namespace of one sandbox: names are per socket type, as on Linux (a stream
/// and a datagram socket may hold the same name). Entries of closed sockets are dead and
/// dropped lazily.
#[derive(Default)]
pub struct AbstractNames {
    names: Mutex<NameMap>,
    next_auto: AtomicU32,
}

impl AbstractNames {
    fn lock(&self) -> std::sync::MutexGuard<'_, NameMap> {
        self.names.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The live socket of type `ty` bound to `name`.
    pub fn lookup(&self, ty: SockType, name: &[u8]) -> Option<Arc<Sock>> {
        self.lock()
            .get(&(ty, name.to_vec()))
            .and_then(Weak::upgrade)
            .filter(|s| !s.is_dead())
    }

    /// Records `sock` under `name`; EADDRINUSE if a live socket holds it.
    pub(super) fn insert(&self, ty: SockType, name: &[u8], sock: &Arc<Sock>) -> Result<(), Errno> {
        let mut m = self.lock();
        let key = (ty, name.to_vec());
        if m.get(&key)
            .and_then(Weak::upgrade)
            .is_some_and(|s| !s.is_dead())
        {
            return Err(Errno(libc::EADDRINUSE));
        }
        if m.len() > 64 {
            m.retain(|_, w| w.upgrade().is_some_and(|s| !s.is_dead()));
        }
        m.insert(key, Arc::downgrade(sock));
        Ok(())
    }

    /// A fresh autobind name ("\0" and five hex digits) recorded for `sock`; EAGAIN once
    /// every such name is taken.
    pub(super) fn insert_auto(&self, ty: SockType, sock: &Arc<Sock>) -> Result<Vec<u8>, Errno> {
        for _ in 0..AUTOBIND_NAMES {
            let n = self.next_auto.fetch_add(1, Ordering::Relaxed) % AUTOBIND_NAMES;
            let name = format!("{n:05x}").into_bytes();
            if self.insert(ty, &name, sock).is_ok() {
                return Ok(name);
            }
        }
        Err(Errno::EAGAIN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(path: &[u8]) -> Vec<u8> {
        let mut v = vec![libc::AF_UNIX as u8, 0];
        v.extend_from_slice(path);
        v
    }

    #[test]
    fn parse_and_format() {
        assert_eq!(
            parse_addr(&raw(b"/tmp/s\0")),
            Ok(Addr::Path(b"/tmp/s".to_vec()))
        );
        assert_eq!(
            parse_addr(&raw(b"/tmp/s")),
            Ok(Addr::Path(b"/tmp/s".to_vec()))
        );
        assert_eq!(
            parse_addr(&raw(b"\0ab\0")),
            Ok(Addr::Abstract(b"ab\0".to_vec()))
        );
        assert_eq!(parse_addr(&raw(b"")), Err(Errno::EINVAL));
        assert_eq!(parse_addr(&raw(&[b'x'; 109])), Err(Errno::EINVAL));
        assert!(parse_addr(&raw(&[b'x'; 108])).is_ok());
        assert_eq!(parse_addr(&[2, 0, b'x']), Err(Errno::EINVAL));
        assert_eq!(Addr::Path(b"/a".to_vec()).to_sockaddr(), raw(b"/a\0"));
        assert_eq!(Addr::Abstract(b"q".to_vec()).to_sockaddr(), raw(b"\0q"));
    }

    #[test]
    fn abstract_names() {
        let ns = Arc::new(AbstractNames::default());
        let a = Sock::new(SockType::Stream, ns.clone());
        let b = Sock::new(SockType::Stream, ns.clone());
        assert!(ns.insert(SockType::Stream, b"n", &a).is_ok());
        assert_eq!(
            ns.insert(SockType::Stream, b"n", &b),
            Err(Errno(libc::EADDRINUSE))
        );
        assert!(ns.insert(SockType::Dgram, b"n", &b).is_ok());
        assert!(ns.lookup(SockType::Stream, b"n").is_some());
        drop(a);
        assert!(ns.lookup(SockType::Stream, b"n").is_none());
        assert!(ns.insert(SockType::Stream, b"n", &b).is_ok());
        let auto = ns.insert_auto(SockType::Stream, &b).unwrap_or_default();
        assert_eq!(auto.len(), 5);
    }
}
