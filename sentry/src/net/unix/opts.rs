//! SOL_SOCKET options of AF_UNIX sockets (Linux's sk_getsockopt and sk_setsockopt).

use std::time::Duration;

use super::sock::{Sock, MAX_BUF, MIN_RCVBUF, MIN_SNDBUF};
use crate::errno::Errno;

/// The value of an option that takes an int.
fn int(v: i32) -> Vec<u8> {
    v.to_le_bytes().to_vec()
}

/// A `struct timeval` (the SO_RCVTIMEO_OLD layout); no timeout is 0.
fn timeval(t: Option<Duration>) -> Vec<u8> {
    let t = t.unwrap_or_default();
    let mut v = (t.as_secs() as i64).to_le_bytes().to_vec();
    v.extend_from_slice(&i64::from(t.subsec_micros()).to_le_bytes());
    v
}

/// Parses a SO_RCVTIMEO/SO_SNDTIMEO value: EINVAL if short, EDOM for microseconds out of
/// range; a negative time is "do not wait", zero is "wait forever" (None).
fn parse_timeval(b: &[u8]) -> Result<Option<Duration>, Errno> {
    let (Some(s), Some(u)) = (b.get(..8), b.get(8..16)) else {
        return Err(Errno::EINVAL);
    };
    let sec = i64::from_le_bytes(s.try_into().unwrap_or_default());
    let usec = i64::from_le_bytes(u.try_into().unwrap_or_default());
    if !(0..1_000_000).contains(&usec) {
        return Err(Errno(libc::EDOM));
    }
    if sec < 0 {
        return Ok(Some(Duration::ZERO));
    }
    if sec == 0 && usec == 0 {
        return Ok(None);
    }
    Ok(Some(Duration::new(sec as u64, usec as u32 * 1000)))
}

/// SO_SNDBUF/SO_RCVBUF: the value doubled (for bookkeeping overhead, as Linux), within
/// [min, 2 * MAX_BUF] unless forced by a privileged caller.
fn buf_size(val: i32, min: usize, force: bool) -> usize {
    let v = val as u32 as usize;
    let v = if force {
        v.min(i32::MAX as usize / 2)
    } else {
        v.min(MAX_BUF)
    };
    (v * 2).max(min)
}

impl Sock {
    /// getsockopt(SOL_SOCKET, `name`): the option's bytes, which the caller cuts to the
    /// application's length. ENOPROTOOPT for options AF_UNIX lacks.
    pub fn getsockopt(&self, name: i32) -> Result<Vec<u8>, Errno> {
        if name == libc::SO_ERROR {
            return Ok(int(self.take_error()));
        }
        let st = self.lock();
        let o = &st.opts;
        Ok(match name {
            libc::SO_TYPE => int(self.ty.raw()),
            libc::SO_DOMAIN => int(libc::AF_UNIX),
            libc::SO_PROTOCOL => int(0),
            libc::SO_ACCEPTCONN => int(st.listening() as i32),
            libc::SO_PASSCRED => int(o.passcred as i32),
            libc::SO_SNDBUF => int(o.sndbuf as i32),
            libc::SO_RCVBUF => int(o.rcvbuf as i32),
            libc::SO_REUSEADDR => int(o.reuseaddr as i32),
            libc::SO_REUSEPORT => int(o.reuseport as i32),
            libc::SO_KEEPALIVE => int(o.keepalive as i32),
            libc::SO_BROADCAST => int(o.broadcast as i32),
            libc::SO_DONTROUTE => int(o.dontroute as i32),
            libc::SO_OOBINLINE => int(o.oobinline as i32),
            libc::SO_PRIORITY => int(o.priority),
            libc::SO_RCVLOWAT => int(o.rcvlowat),
            libc::SO_SNDLOWAT => int(1),
            libc::SO_LINGER => {
                let mut v = int(o.linger.0);
                v.extend_from_slice(&o.linger.1.to_le_bytes());
                v
            }
            libc::SO_RCVTIMEO => timeval(o.rcvtimeo),
            libc::SO_SNDTIMEO => timeval(o.sndtimeo),
            libc::SO_PEERCRED => {
                // Never connected: pid 0 and the ids -1, as Linux.
                let c = st.peercred.unwrap_or(super::Ucred {
                    pid: 0,
                    uid: u32::MAX,
                    gid: u32::MAX,
                });
                c.to_bytes().to_vec()
            }
            _ => return Err(Errno(libc::ENOPROTOOPT)),
        })
    }

    /// setsockopt(SOL_SOCKET, `name`, `val`): EINVAL for a value shorter than an int (or
    /// than the option's structure), ENOPROTOOPT for options that cannot be set.
    /// `privileged` callers may set SO_SNDBUFFORCE/SO_RCVBUFFORCE.
    pub fn setsockopt(&self, name: i32, val: &[u8], privileged: bool) -> Result<(), Errno> {
        let Some(v) = val.get(..4) else {
            return Err(Errno::EINVAL);
        };
        let v = i32::from_le_bytes(v.try_into().unwrap_or_default());
        let on = v != 0;
        let mut st = self.lock();
        let o = &mut st.opts;
        match name {
            libc::SO_PASSCRED => o.passcred = on,
            libc::SO_SNDBUF => o.sndbuf = buf_size(v, MIN_SNDBUF, false),
            libc::SO_RCVBUF => o.rcvbuf = buf_size(v, MIN_RCVBUF, false),
            libc::SO_SNDBUFFORCE | libc::SO_RCVBUFFORCE if !privileged => return Err(Errno::EPERM),
            libc::SO_SNDBUFFORCE => o.sndbuf = buf_size(v, MIN_SNDBUF, true),
            libc::SO_RCVBUFFORCE => o.rcvbuf = buf_size(v, MIN_RCVBUF, true),
            libc::SO_REUSEADDR => o.reuseaddr = on,
            libc::SO_REUSEPORT => o.reuseport = on,
            libc::SO_KEEPALIVE => o.keepalive = on,
            libc::SO_BROADCAST => o.broadcast = on,
            libc::SO_DONTROUTE => o.dontroute = on,
            libc::SO_OOBINLINE => o.oobinline = on,
            libc::SO_PRIORITY => {
                if !(0..=6).contains(&v) && !privileged {
                    return Err(Errno::EPERM);
                }
                o.priority = v;
            }
            libc::SO_RCVLOWAT => o.rcvlowat = if v < 0 { i32::MAX } else { v.max(1) },
            libc::SO_LINGER => {
                let Some(l) = val.get(4..8) else {
                    return Err(Errno::EINVAL);
                };
                let l = i32::from_le_bytes(l.try_into().unwrap_or_default());
                if on {
                    o.linger = (1, l.max(0));
                } else {
                    o.linger.0 = 0;
                }
            }
            libc::SO_RCVTIMEO => o.rcvtimeo = parse_timeval(val)?,
            libc::SO_SNDTIMEO => o.sndtimeo = parse_timeval(val)?,
            _ => return Err(Errno(libc::ENOPROTOOPT)),
        }
        drop(st);
        // A bigger send buffer may make room for a blocked sender.
        self.changed();
        Ok(())
    }
}
