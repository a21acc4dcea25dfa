//! mq_open, mq_unlink, mq_timedsend, mq_timedreceive, mq_notify, mq_getsetattr: the
//! arguments; the queues are in `fs::mqueue`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::errno::{Errno, SysResult};
use crate::fs::mqueue::{self, MqFile, Queue};
use crate::fs::OpenFile;
use crate::kernel::Task;

/// Longest message copied at once is the queue's msgsize (at most 16 MiB).
fn queue_of(t: &Task, fd: u64) -> Result<(Arc<OpenFile>, Arc<Queue>), Errno> {
    let f = t.fds().get(fd as i32)?;
    let q = MqFile::of(&f).ok_or(Errno::EBADF)?;
    Ok((f, q))
}

/// The deadline of an absolute CLOCK_REALTIME timeout at `addr` (none if 0); EINVAL for a
/// malformed timespec.
fn timeout(t: &Task, addr: u64) -> Result<Option<Instant>, Errno> {
    if addr == 0 {
        return Ok(None);
    }
    let mut b = [0u8; 16];
    t.read_mem(addr, &mut b)?;
    let s = i64::from_le_bytes(b[..8].try_into().unwrap_or_default());
    let ns = i64::from_le_bytes(b[8..].try_into().unwrap_or_default());
    if s < 0 || !(0..1_000_000_000).contains(&ns) {
        return Err(Errno::EINVAL);
    }
    Ok(mqueue::deadline_of(Duration::new(s as u64, ns as u32)))
}

fn nonblocking(f: &OpenFile) -> bool {
    f.flags() & libc::O_NONBLOCK as u32 != 0
}

/// mq_open(name, oflag, mode, attr).
pub fn mq_open(t: &mut Task, a: [u64; 6]) -> SysResult {
    let attr = if a[3] != 0 {
        let mut b = [0u8; 64];
        t.read_mem(a[3], &mut b)?;
        let f = |o: usize| i64::from_le_bytes(b[o..o + 8].try_into().unwrap_or_default());
        Some((f(8), f(16)))
    } else {
        None
    };
    let name = t.read_path(a[0])?;
    let oflag = a[1] as u32;
    let c = super::file::creds(t);
    let q = mqueue::open(&name, oflag, a[2] as u32, attr, &c, charge(t))?;
    let f = MqFile::open(q, oflag);
    // Linux makes every queue descriptor close-on-exec, O_CLOEXEC or not.
    Ok(t.fds().insert(f, true, 0)? as u64)
}

/// The caller's real uid and RLIMIT_MSGQUEUE, and the sandbox's queue limits.
pub(super) fn charge(t: &Task) -> mqueue::Charge {
    mqueue::Charge {
        ruid: t.creds.ruid,
        limit: t.tg.lock().rlimits[libc::RLIMIT_MSGQUEUE as usize].0,
        limits: t.kernel.sysctl.mqueue(),
    }
}

/// mq_unlink(name).
pub fn mq_unlink(t: &mut Task, a: [u64; 6]) -> SysResult {
    let name = t.read_path(a[0])?;
    mqueue::unlink(&name, &super::file::creds(t)).map(|_| 0)
}

/// mq_timedsend(mqdes, msg_ptr, msg_len, msg_prio, abs_timeout).
pub fn mq_timedsend(t: &mut Task, a: [u64; 6]) -> SysResult {
    let deadline = timeout(t, a[4])?;
    if a[3] >= mqueue::MQ_PRIO_MAX {
        return Err(Errno::EINVAL);
    }
    let (f, q) = queue_of(t, a[0])?;
    if !f.writable() {
        return Err(Errno::EBADF);
    }
    if a[2] > q.attrs().msgsize as u64 {
        return Err(mqueue::EMSGSIZE);
    }
    let mut msg = vec![0u8; a[2] as usize];
    t.read_mem(a[1], &mut msg)?;
    let sender = (t.tg.tgid, t.creds.ruid);
    q.send(msg, a[3] as u32, nonblocking(&f), deadline, sender)
        .map(|_| 0)
}

/// mq_timedreceive(mqdes, msg_ptr, msg_len, msg_prio, abs_timeout).
pub fn mq_timedreceive(t: &mut Task, a: [u64; 6]) -> SysResult {
    let deadline = timeout(t, a[4])?;
    let (f, q) = queue_of(t, a[0])?;
    if !f.readable() {
        return Err(Errno::EBADF);
    }
    let (msg, prio) = q.receive(a[2], nonblocking(&f), deadline)?;
    // Like Linux, a message that cannot be copied out is lost.
    t.write_mem(a[1], &msg)?;
    if a[3] != 0 {
        t.write_mem(a[3], &prio.to_le_bytes())?;
    }
    Ok(msg.len() as u64)
}

/// mq_notify(mqdes, sevp).
pub fn mq_notify(t: &mut Task, a: [u64; 6]) -> SysResult {
    let reg = if a[1] == 0 {
        None
    } else {
        let mut b = [0u8; 16];
        t.read_mem(a[1], &mut b)?;
        let value = u64::from_le_bytes(b[..8].try_into().unwrap_or_default());
        let signo = i32::from_le_bytes(b[8..12].try_into().unwrap_or_default());
        let kind = i32::from_le_bytes(b[12..16].try_into().unwrap_or_default());
        match kind {
            mqueue::SIGEV_NONE => {}
            mqueue::SIGEV_SIGNAL if (0..=64).contains(&signo) => {}
            mqueue::SIGEV_SIGNAL => return Err(Errno::EINVAL),
            mqueue::SIGEV_THREAD => {
                // The notification goes to a netlink socket, which the Sentry lacks.
                t.fds().get(signo)?;
                return Err(mqueue::ENOTSOCK);
            }
            _ => return Err(Errno::EINVAL),
        }
        Some((kind, signo, value))
    };
    let (_, q) = queue_of(t, a[0])?;
    q.notify(&t.tg, reg).map(|_| 0)
}

/// mq_getsetattr(mqdes, newattr, oldattr).
pub fn mq_getsetattr(t: &mut Task, a: [u64; 6]) -> SysResult {
    let new_flags = if a[1] == 0 {
        None
    } else {
        let mut b = [0u8; 64];
        t.read_mem(a[1], &mut b)?;
        let flags = i64::from_le_bytes(b[..8].try_into().unwrap_or_default());
        if flags & !(libc::O_NONBLOCK as i64) != 0 {
            return Err(Errno::EINVAL);
        }
        Some(flags)
    };
    let (f, q) = queue_of(t, a[0])?;
    let attrs = q.attrs();
    let old = (f.flags() & libc::O_NONBLOCK as u32) as i64;
    if let Some(flags) = new_flags {
        let nb = libc::O_NONBLOCK as u32;
        if flags != 0 {
            f.flags.fetch_or(nb, std::sync::atomic::Ordering::Relaxed);
        } else {
            f.flags.fetch_and(!nb, std::sync::atomic::Ordering::Relaxed);
        }
    }
    if a[2] != 0 {
        let mut b = [0u8; 64];
        for (i, v) in [old, attrs.maxmsg, attrs.msgsize, attrs.curmsgs]
            .iter()
            .enumerate()
        {
            b[i * 8..i * 8 + 8].copy_from_slice(&v.to_le_bytes());
        }
        t.write_mem(a[2], &b)?;
    }
    Ok(0)
}
