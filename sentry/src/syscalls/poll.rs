//! poll, ppoll, select, pselect6.
//!
//! Readiness is sampled: a blocking call re-checks its files every millisecond until one is
//! ready or the timeout passes. (Wait queues per file come with epoll.)

use std::time::{Duration, Instant};

use crate::errno::{Errno, SysResult};
use crate::kernel::Task;

/// Most descriptors one call may watch.
const MAX_POLL: u64 = 1024;

fn wait_ready(
    t: &Task,
    deadline: Option<Instant>,
    mut check: impl FnMut(&Task) -> Result<usize, Errno>,
) -> SysResult {
    loop {
        let n = check(t)?;
        if n > 0 {
            return Ok(n as u64);
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(0);
        }
        if crate::kernel::signal::interrupted() {
            return Err(Errno::EINTR);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// An optional relative timespec as a deadline.
fn read_timespec(t: &Task, addr: u64) -> Result<Option<Instant>, Errno> {
    if addr == 0 {
        return Ok(None);
    }
    Ok(super::misc::after(super::misc::read_timespec(t, addr)?))
}

fn do_poll(t: &mut Task, fds_addr: u64, nfds: u64, deadline: Option<Instant>) -> SysResult {
    if nfds > MAX_POLL {
        return Err(Errno::EINVAL);
    }
    let mut raw = vec![0u8; nfds as usize * 8];
    t.read_mem(fds_addr, &mut raw)?;
    let r = wait_ready(t, deadline, |t| {
        let mut n = 0;
        for e in raw.chunks_exact_mut(8) {
            let fd = i32::from_le_bytes(e[..4].try_into().unwrap_or_default());
            let events = u16::from_le_bytes(e[4..6].try_into().unwrap_or_default());
            let rev = if fd < 0 {
                0
            } else {
                match t.fds().get(fd) {
                    Ok(f) => {
                        let always = (libc::POLLERR | libc::POLLHUP) as u16;
                        f.ops.poll_ready() & (events | always)
                    }
                    Err(_) => libc::POLLNVAL as u16,
                }
            };
            e[6..8].copy_from_slice(&rev.to_le_bytes());
            if rev != 0 {
                n += 1;
            }
        }
        Ok(n)
    })?;
    t.write_mem(fds_addr, &raw)?;
    Ok(r)
}

pub fn poll(t: &mut Task, a: [u64; 6]) -> SysResult {
    let ms = a[2] as i32;
    let deadline = if ms < 0 {
        None
    } else {
        Some(Instant::now() + Duration::from_millis(ms as u64))
    };
    do_poll(t, a[0], a[1], deadline)
}

/// Runs `f` with the signal mask at `mask_addr` (if any), as ppoll and pselect6 do: if a
/// signal interrupts, its handler runs with that mask and the old one comes back at
/// sigreturn; otherwise the old mask is restored at once.
fn with_sigmask(t: &mut Task, mask_addr: u64, f: impl FnOnce(&mut Task) -> SysResult) -> SysResult {
    use std::sync::atomic::Ordering;
    if mask_addr == 0 {
        return f(t);
    }
    let new = t.read_u64(mask_addr)? & !crate::kernel::signal::UNBLOCKABLE;
    let old = t.sig.mask.swap(new, Ordering::SeqCst);
    let r = f(t);
    if r == Err(Errno::EINTR) && crate::kernel::signal::interrupted() {
        *t.sig.saved_mask.lock().unwrap_or_else(|e| e.into_inner()) = Some(old);
    } else {
        t.sig.mask.store(old, Ordering::SeqCst);
    }
    r
}

pub fn ppoll(t: &mut Task, a: [u64; 6]) -> SysResult {
    let deadline = read_timespec(t, a[2])?;
    if a[3] != 0 && a[4] != 8 {
        return Err(Errno::EINVAL);
    }
    with_sigmask(t, a[3], |t| do_poll(t, a[0], a[1], deadline))
}

fn read_set(t: &Task, addr: u64, bytes: usize) -> Result<Vec<u8>, Errno> {
    let mut v = vec![0u8; bytes];
    if addr != 0 {
        t.read_mem(addr, &mut v)?;
    }
    Ok(v)
}

fn do_select(t: &mut Task, a: [u64; 6], deadline: Option<Instant>) -> SysResult {
    let nfds = a[0] as i32;
    if !(0..=MAX_POLL as i32).contains(&nfds) {
        return Err(Errno::EINVAL);
    }
    let bytes = (nfds as usize).div_ceil(64) * 8;
    let sets = [
        read_set(t, a[1], bytes)?,
        read_set(t, a[2], bytes)?,
        read_set(t, a[3], bytes)?,
    ];
    // Every named descriptor must be open.
    for fd in 0..nfds {
        let named = sets
            .iter()
            .any(|s| s[fd as usize / 8] & (1 << (fd % 8)) != 0);
        if named {
            t.fds().get(fd)?;
        }
    }
    let mut out = sets.clone();
    let n = wait_ready(t, deadline, |t| {
        let mut n = 0;
        for o in out.iter_mut() {
            o.fill(0);
        }
        for fd in 0..nfds {
            let (byte, bit) = (fd as usize / 8, 1u8 << (fd % 8));
            if !sets.iter().any(|s| s[byte] & bit != 0) {
                continue;
            }
            let ready = t.fds().get(fd)?.ops.poll_ready();
            let conds = [
                (libc::POLLIN | libc::POLLHUP | libc::POLLERR) as u16,
                (libc::POLLOUT | libc::POLLERR) as u16,
                libc::POLLPRI as u16,
            ];
            for i in 0..3 {
                if sets[i][byte] & bit != 0 && ready & conds[i] != 0 {
                    out[i][byte] |= bit;
                    n += 1;
                }
            }
        }
        Ok(n)
    })?;
    for (i, addr) in [a[1], a[2], a[3]].into_iter().enumerate() {
        if addr != 0 {
            t.write_mem(addr, &out[i])?;
        }
    }
    Ok(n)
}

pub fn select(t: &mut Task, a: [u64; 6]) -> SysResult {
    let deadline = if a[4] == 0 {
        None
    } else {
        let mut b = [0u8; 16];
        t.read_mem(a[4], &mut b)?;
        let sec = i64::from_le_bytes(b[..8].try_into().unwrap_or_default());
        let usec = i64::from_le_bytes(b[8..].try_into().unwrap_or_default());
        if sec < 0 || !(0..1_000_000).contains(&usec) {
            return Err(Errno::EINVAL);
        }
        super::misc::after(Duration::new(sec as u64, usec as u32 * 1000))
    };
    let r = do_select(t, a, deadline);
    // select(2) reports the time left in its timeout argument.
    if let Some(d) = deadline {
        let left = d.saturating_duration_since(Instant::now());
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&(left.as_secs() as i64).to_le_bytes());
        b[8..].copy_from_slice(&(left.subsec_micros() as i64).to_le_bytes());
        t.write_mem(a[4], &b)?;
    }
    r
}

pub fn pselect6(t: &mut Task, a: [u64; 6]) -> SysResult {
    let deadline = read_timespec(t, a[4])?;
    // The sixth argument points at { const sigset_t *ss; size_t ss_len; }.
    let mask_addr = if a[5] != 0 {
        let ss = t.read_u64(a[5])?;
        let len = t.read_u64(a[5] + 8)?;
        if ss != 0 && len != 8 {
            return Err(Errno::EINVAL);
        }
        ss
    } else {
        0
    };
    let r = with_sigmask(t, mask_addr, |t| do_select(t, a, deadline));
    // Like the kernel, report the time left (glibc's select relies on it).
    if let Some(d) = deadline {
        let left = d.saturating_duration_since(Instant::now());
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&(left.as_secs() as i64).to_le_bytes());
        b[8..].copy_from_slice(&(left.subsec_nanos() as i64).to_le_bytes());
        t.write_mem(a[4], &b)?;
    }
    r
}
