//! alarm, setitimer, getitimer (ITIMER_REAL; the CPU-time timers are accepted and never fire).

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::errno::{Errno, SysResult};
use crate::kernel::signal::{self, SigInfo};
use crate::kernel::{Task, ThreadGroup};

/// si_code of ITIMER_REAL's SIGALRM (the kernel sends it as SI_KERNEL).
const SI_KERNEL: i32 = 0x80;

fn timeval(b: &[u8]) -> Result<Duration, Errno> {
    let s = i64::from_le_bytes(b[..8].try_into().unwrap_or_default());
    let us = i64::from_le_bytes(b[8..16].try_into().unwrap_or_default());
    if s < 0 || !(0..1_000_000).contains(&us) {
        return Err(Errno::EINVAL);
    }
    Ok(Duration::new(s as u64, us as u32 * 1000))
}

fn timeval_bytes(d: Duration) -> [u8; 16] {
    let mut b = [0u8; 16];
    // A timer about to fire reads as 1 microsecond, never as disarmed.
    let (s, us) = (d.as_secs() as i64, d.subsec_micros() as i64);
    let us = if s == 0 && us == 0 && !d.is_zero() {
        1
    } else {
        us
    };
    b[..8].copy_from_slice(&s.to_le_bytes());
    b[8..].copy_from_slice(&us.to_le_bytes());
    b
}

/// Current (remaining, interval) of ITIMER_REAL.
fn current(tg: &ThreadGroup) -> (Duration, Duration) {
    let it = tg.itimer.lock().unwrap_or_else(|e| e.into_inner());
    let left = it
        .deadline
        .map(|d| d.saturating_duration_since(Instant::now()))
        .unwrap_or_default();
    (left, it.interval)
}

/// Arms ITIMER_REAL (a zero `value` disarms it).
fn arm(tg: &Arc<ThreadGroup>, value: Duration, interval: Duration) {
    let generation = {
        let mut it = tg.itimer.lock().unwrap_or_else(|e| e.into_inner());
        it.generation += 1;
        it.deadline = (!value.is_zero()).then(|| Instant::now() + value);
        it.interval = interval;
        it.generation
    };
    if value.is_zero() {
        return;
    }
    let weak = Arc::downgrade(tg);
    let _ = std::thread::Builder::new()
        .name("itimer".into())
        .spawn(move || loop {
            let deadline = {
                let Some(tg) = weak.upgrade() else { return };
                let it = tg.itimer.lock().unwrap_or_else(|e| e.into_inner());
                match it.deadline {
                    Some(d) if it.generation == generation => d,
                    _ => return,
                }
            };
            let now = Instant::now();
            if now < deadline {
                std::thread::sleep((deadline - now).min(Duration::from_millis(50)));
                continue;
            }
            let Some(tg) = weak.upgrade() else { return };
            {
                let mut it = tg.itimer.lock().unwrap_or_else(|e| e.into_inner());
                if it.generation != generation {
                    return;
                }
                it.deadline = (!it.interval.is_zero()).then(|| deadline + it.interval);
            }
            if tg.lock().exit_status.is_some() {
                return;
            }
            signal::send(
                &tg,
                None,
                SigInfo {
                    signo: libc::SIGALRM,
                    code: SI_KERNEL,
                    ..Default::default()
                },
            );
        });
}

pub fn alarm(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (left, _) = current(&t.tg);
    arm(
        &t.tg,
        Duration::from_secs(a[0] as u32 as u64),
        Duration::ZERO,
    );
    // Remaining seconds, rounded to nearest, at least 1 if armed.
    let mut s = left.as_secs() + u64::from(left.subsec_millis() >= 500);
    if s == 0 && !left.is_zero() {
        s = 1;
    }
    Ok(s)
}

pub fn getitimer(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (left, interval) = match a[0] as i32 {
        libc::ITIMER_REAL => current(&t.tg),
        libc::ITIMER_VIRTUAL | libc::ITIMER_PROF => (Duration::ZERO, Duration::ZERO),
        _ => return Err(Errno::EINVAL),
    };
    let mut b = [0u8; 32];
    b[..16].copy_from_slice(&timeval_bytes(interval));
    b[16..].copy_from_slice(&timeval_bytes(left));
    t.write_mem(a[1], &b).map(|_| 0)
}

pub fn setitimer(t: &mut Task, a: [u64; 6]) -> SysResult {
    let which = a[0] as i32;
    if !matches!(
        which,
        libc::ITIMER_REAL | libc::ITIMER_VIRTUAL | libc::ITIMER_PROF
    ) {
        return Err(Errno::EINVAL);
    }
    let new = if a[1] != 0 {
        let mut b = [0u8; 32];
        t.read_mem(a[1], &mut b)?;
        Some((timeval(&b[..16])?, timeval(&b[16..])?))
    } else {
        None
    };
    if a[2] != 0 {
        getitimer(t, [a[0], a[2], 0, 0, 0, 0])?;
    }
    if let Some((interval, value)) = new {
        if which == libc::ITIMER_REAL {
            arm(&t.tg, value, interval);
        } else {
            tracing::debug!(
                which,
                "CPU-time interval timers are accepted but never fire"
            );
        }
    }
    Ok(0)
}
