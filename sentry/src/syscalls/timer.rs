//! alarm, setitimer, getitimer. ITIMER_REAL counts wall-clock time; ITIMER_VIRTUAL and
//! ITIMER_PROF count the process's CPU time as the platform measures it (user and system
//! time together), checked every few milliseconds.

use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use crate::errno::{Errno, SysResult};
use crate::kernel::signal::{self, SigInfo};
use crate::kernel::{Task, ThreadGroup};
use crate::mm::MemoryManager;

/// si_code of an interval timer's signal (the kernel sends it as SI_KERNEL).
const SI_KERNEL: i32 = 0x80;
/// How often CPU-time timers look at the clock.
const CPU_TICK: Duration = Duration::from_millis(2);

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

/// The process CPU time as seen through `mm` (the address space the timer was set from).
fn cpu_now(tg: &ThreadGroup, mm: &Mutex<MemoryManager>) -> Duration {
    let now = mm
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .aspace()
        .cpu_time()
        .unwrap_or_default();
    tg.lock().cpu_base + now
}

fn signal_of(which: usize) -> i32 {
    [libc::SIGALRM, libc::SIGVTALRM, libc::SIGPROF][which]
}

/// Current (remaining, interval) of timer `which`.
fn current(t: &Task, which: usize) -> (Duration, Duration) {
    let it = &t.tg.itimer.lock().unwrap_or_else(|e| e.into_inner())[which];
    let left = if which == 0 {
        it.deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
            .unwrap_or_default()
    } else {
        match it.cpu_deadline {
            Some(d) => d
                .saturating_sub(cpu_now(&t.tg, &t.mm))
                .max(Duration::from_micros(1)),
            None => Duration::ZERO,
        }
    };
    (left, it.interval)
}

/// Arms timer `which` (a zero `value` disarms it).
fn arm(t: &Task, which: usize, value: Duration, interval: Duration) {
    let cpu = (which != 0).then(|| cpu_now(&t.tg, &t.mm));
    let generation = {
        let mut timers = t.tg.itimer.lock().unwrap_or_else(|e| e.into_inner());
        let it = &mut timers[which];
        it.generation += 1;
        it.deadline = if which == 0 && !value.is_zero() {
            Instant::now().checked_add(value)
        } else {
            None
        };
        it.cpu_deadline = cpu
            .filter(|_| !value.is_zero())
            .and_then(|c| c.checked_add(value));
        it.interval = interval;
        it.generation
    };
    if value.is_zero() {
        return;
    }
    let tg = Arc::downgrade(&t.tg);
    let mm = Arc::downgrade(&t.mm);
    let _ = std::thread::Builder::new()
        .name("itimer".into())
        .spawn(move || run(tg, mm, which, generation));
}

fn run(weak: Weak<ThreadGroup>, mm: Weak<Mutex<MemoryManager>>, which: usize, generation: u64) {
    loop {
        let Some(tg) = weak.upgrade() else { return };
        // How long until it fires, on its own clock.
        let wait = {
            let timers = tg.itimer.lock().unwrap_or_else(|e| e.into_inner());
            let it = &timers[which];
            if it.generation != generation {
                return;
            }
            if which == 0 {
                match it.deadline {
                    Some(d) => d.saturating_duration_since(Instant::now()),
                    None => return,
                }
            } else {
                let Some(d) = it.cpu_deadline else { return };
                drop(timers);
                let Some(mm) = mm.upgrade() else { return };
                d.saturating_sub(cpu_now(&tg, &mm))
            }
        };
        if !wait.is_zero() {
            drop(tg);
            let step = if which == 0 {
                Duration::from_millis(50)
            } else {
                CPU_TICK
            };
            std::thread::sleep(wait.min(step));
            continue;
        }
        {
            let mut timers = tg.itimer.lock().unwrap_or_else(|e| e.into_inner());
            let it = &mut timers[which];
            if it.generation != generation {
                return;
            }
            let interval = it.interval;
            if which == 0 {
                it.deadline = it
                    .deadline
                    .filter(|_| !interval.is_zero())
                    .and_then(|d| d.checked_add(interval));
            } else {
                it.cpu_deadline = it
                    .cpu_deadline
                    .filter(|_| !interval.is_zero())
                    .and_then(|d| d.checked_add(interval));
            }
        }
        if tg.lock().exit_status.is_some() {
            return;
        }
        signal::send(
            &tg,
            None,
            SigInfo {
                signo: signal_of(which),
                code: SI_KERNEL,
                ..Default::default()
            },
        );
    }
}

pub fn alarm(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (left, _) = current(t, 0);
    arm(
        t,
        0,
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

fn which_of(v: u64) -> Result<usize, Errno> {
    match v as i32 {
        libc::ITIMER_REAL => Ok(0),
        libc::ITIMER_VIRTUAL => Ok(1),
        libc::ITIMER_PROF => Ok(2),
        _ => Err(Errno::EINVAL),
    }
}

pub fn getitimer(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (left, interval) = current(t, which_of(a[0])?);
    let mut b = [0u8; 32];
    b[..16].copy_from_slice(&timeval_bytes(interval));
    b[16..].copy_from_slice(&timeval_bytes(left));
    t.write_mem(a[1], &b).map(|_| 0)
}

pub fn setitimer(t: &mut Task, a: [u64; 6]) -> SysResult {
    let which = which_of(a[0])?;
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
        arm(t, which, value, interval);
    }
    Ok(0)
}
