//! eventfd, eventfd2, timerfd_create, timerfd_settime, timerfd_gettime, signalfd, signalfd4.

use std::sync::Arc;
use std::time::Duration;

use crate::errno::{Errno, SysResult};
use crate::fs::eventfd::EventFd;
use crate::fs::signalfd::{self, SignalFd};
use crate::fs::timerfd::TimerFd;
use crate::fs::OpenFile;
use crate::kernel::Task;

fn install(t: &Task, f: Arc<OpenFile>, cloexec: bool) -> SysResult {
    Ok(t.fds().insert(f, cloexec, 0)? as u64)
}

/// eventfd2(initval, flags); eventfd(initval) is flags 0.
pub fn eventfd2(t: &mut Task, initval: u64, flags: u64) -> SysResult {
    let known = (libc::EFD_CLOEXEC | libc::EFD_NONBLOCK | libc::EFD_SEMAPHORE) as u64;
    if flags & !known != 0 {
        return Err(Errno::EINVAL);
    }
    let f = EventFd::open(
        initval as u32 as u64,
        flags & libc::EFD_SEMAPHORE as u64 != 0,
        flags & libc::EFD_NONBLOCK as u64 != 0,
    );
    install(t, f, flags & libc::EFD_CLOEXEC as u64 != 0)
}

/// The clock a timer's absolute times are read on.
fn base_clock(clock: i32) -> i32 {
    match clock {
        libc::CLOCK_REALTIME_ALARM => libc::CLOCK_REALTIME,
        libc::CLOCK_BOOTTIME_ALARM => libc::CLOCK_BOOTTIME,
        c => c,
    }
}

/// timerfd_create(clockid, flags).
pub fn timerfd_create(t: &mut Task, a: [u64; 6]) -> SysResult {
    let clock = a[0] as i32;
    let flags = a[1];
    if flags & !((libc::TFD_CLOEXEC | libc::TFD_NONBLOCK) as u64) != 0 {
        return Err(Errno::EINVAL);
    }
    if !matches!(
        clock,
        libc::CLOCK_REALTIME
            | libc::CLOCK_MONOTONIC
            | libc::CLOCK_BOOTTIME
            | libc::CLOCK_REALTIME_ALARM
            | libc::CLOCK_BOOTTIME_ALARM
    ) {
        return Err(Errno::EINVAL);
    }
    let f = TimerFd::open(clock, flags & libc::TFD_NONBLOCK as u64 != 0);
    install(t, f, flags & libc::TFD_CLOEXEC as u64 != 0)
}

/// A timespec at `b`; EINVAL unless 0 <= sec and 0 <= nsec < 1e9.
fn timespec(b: &[u8]) -> Result<Duration, Errno> {
    let s = i64::from_le_bytes(b[..8].try_into().unwrap_or_default());
    let ns = i64::from_le_bytes(b[8..16].try_into().unwrap_or_default());
    if s < 0 || !(0..1_000_000_000).contains(&ns) {
        return Err(Errno::EINVAL);
    }
    Ok(Duration::new(s as u64, ns as u32))
}

/// `struct itimerspec` bytes: interval, then value.
fn itimerspec_bytes(value: Duration, interval: Duration) -> [u8; 32] {
    let mut b = [0u8; 32];
    b[..8].copy_from_slice(&(interval.as_secs() as i64).to_le_bytes());
    b[8..16].copy_from_slice(&(interval.subsec_nanos() as i64).to_le_bytes());
    b[16..24].copy_from_slice(&(value.as_secs() as i64).to_le_bytes());
    b[24..].copy_from_slice(&(value.subsec_nanos() as i64).to_le_bytes());
    b
}

fn timerfd_of(t: &Task, fd: u64) -> Result<Arc<TimerFd>, Errno> {
    let f = t.fds().get(fd as i32)?;
    TimerFd::of(&f).ok_or(Errno::EINVAL)
}

/// timerfd_settime(fd, flags, new_value, old_value).
pub fn timerfd_settime(t: &mut Task, a: [u64; 6]) -> SysResult {
    let mut b = [0u8; 32];
    t.read_mem(a[2], &mut b)?;
    let flags = a[1];
    if flags & !((libc::TFD_TIMER_ABSTIME | libc::TFD_TIMER_CANCEL_ON_SET) as u64) != 0 {
        return Err(Errno::EINVAL);
    }
    let interval = timespec(&b[..16])?;
    let value = timespec(&b[16..])?;
    let tfd = timerfd_of(t, a[0])?;
    let first = if value.is_zero() {
        None
    } else if flags & libc::TFD_TIMER_ABSTIME as u64 != 0 {
        // TFD_TIMER_CANCEL_ON_SET never cancels: the sandbox's clock cannot be set.
        let now = super::misc::clock_now(base_clock(tfd.clock()))?;
        Some(value.as_nanos() as i128 - now.as_nanos() as i128)
    } else {
        Some(value.as_nanos() as i128)
    };
    let (old_value, old_interval) = tfd.settime(first, interval);
    if a[3] != 0 {
        t.write_mem(a[3], &itimerspec_bytes(old_value, old_interval))?;
    }
    Ok(0)
}

/// timerfd_gettime(fd, curr_value).
pub fn timerfd_gettime(t: &mut Task, a: [u64; 6]) -> SysResult {
    let tfd = timerfd_of(t, a[0])?;
    let (value, interval) = tfd.gettime();
    t.write_mem(a[1], &itimerspec_bytes(value, interval))?;
    Ok(0)
}

/// signalfd4(fd, mask, sizemask, flags); signalfd(fd, mask, sizemask) is flags 0.
pub fn signalfd4(t: &mut Task, fd: u64, mask_addr: u64, sizemask: u64, flags: u64) -> SysResult {
    if sizemask != 8 {
        return Err(Errno::EINVAL);
    }
    let mask = t.read_u64(mask_addr)?;
    if flags & !((libc::SFD_CLOEXEC | libc::SFD_NONBLOCK) as u64) != 0 {
        return Err(Errno::EINVAL);
    }
    signalfd::note_current(&t.sig, &t.tg);
    let fd = fd as i32;
    if fd == -1 {
        let f = SignalFd::open(
            mask,
            flags & libc::SFD_NONBLOCK as u64 != 0,
            &t.tg,
            &t.kernel,
        );
        return install(t, f, flags & libc::SFD_CLOEXEC as u64 != 0);
    }
    let f = t.fds().get(fd)?;
    let s = SignalFd::of(&f).ok_or(Errno::EINVAL)?;
    s.set_mask(mask);
    Ok(fd as u64)
}
