//! POSIX per-process timers: timer_create, timer_settime, timer_gettime, timer_getoverrun,
//! timer_delete. Each armed timer has a host thread that sleeps until expiry (CPU-time
//! clocks are approximated by their wall-clock counterpart).

use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use crate::errno::{Errno, SysResult};
use crate::kernel::signal::{self, SigInfo, SI_TIMER};
use crate::kernel::{Task, ThreadGroup};

const SIGEV_SIGNAL: i32 = 0;
const SIGEV_NONE: i32 = 1;
const SIGEV_THREAD_ID: i32 = 4;
/// Timers per process (RLIMIT_SIGPENDING in spirit).
const MAX_TIMERS: usize = 4096;

#[derive(Default)]
struct State {
    generation: u64,
    deadline: Option<Instant>,
    interval: Duration,
    last_overrun: i32,
}

/// One timer.
pub struct PosixTimer {
    id: i32,
    notify: i32,
    signo: i32,
    value: u64,
    tid: i32,
    state: Mutex<State>,
}

impl PosixTimer {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Called when a timer's signal is dequeued: its overrun becomes timer_getoverrun's answer.
pub fn delivered(tg: &ThreadGroup, id: i32, overrun: i32) {
    if let Some(t) = tg.lock().timers.get(&id) {
        t.lock().last_overrun = overrun;
    }
}

fn timer(t: &Task, id: u64) -> Result<Arc<PosixTimer>, Errno> {
    t.tg.lock()
        .timers
        .get(&(id as i32))
        .cloned()
        .ok_or(Errno::EINVAL)
}

pub fn timer_create(t: &mut Task, a: [u64; 6]) -> SysResult {
    let clock = a[0] as i32;
    if !matches!(
        clock,
        libc::CLOCK_REALTIME
            | libc::CLOCK_MONOTONIC
            | libc::CLOCK_BOOTTIME
            | libc::CLOCK_PROCESS_CPUTIME_ID
            | libc::CLOCK_THREAD_CPUTIME_ID
            | libc::CLOCK_REALTIME_ALARM
            | libc::CLOCK_BOOTTIME_ALARM
    ) {
        return Err(Errno::EINVAL);
    }
    let (notify, signo, value, tid) = if a[1] == 0 {
        (SIGEV_SIGNAL, libc::SIGALRM, u64::MAX, 0)
    } else {
        let mut b = [0u8; 24];
        t.read_mem(a[1], &mut b)?;
        let value = u64::from_le_bytes(b[..8].try_into().unwrap_or_default());
        let signo = i32::from_le_bytes(b[8..12].try_into().unwrap_or_default());
        let notify = i32::from_le_bytes(b[12..16].try_into().unwrap_or_default());
        let tid = i32::from_le_bytes(b[16..20].try_into().unwrap_or_default());
        (notify, signo, value, tid)
    };
    match notify {
        SIGEV_NONE => {}
        SIGEV_SIGNAL | SIGEV_THREAD_ID => {
            if !(1..=64).contains(&signo) {
                return Err(Errno::EINVAL);
            }
            if notify == SIGEV_THREAD_ID && !t.tg.lock().threads.contains_key(&tid) {
                return Err(Errno::EINVAL);
            }
        }
        _ => return Err(Errno::EINVAL),
    }
    let mut st = t.tg.lock();
    if st.timers.len() >= MAX_TIMERS {
        return Err(Errno::EAGAIN);
    }
    let id = (0..).find(|i| !st.timers.contains_key(i)).unwrap_or(0);
    let value = if a[1] == 0 { id as u64 } else { value };
    st.timers.insert(
        id,
        Arc::new(PosixTimer {
            id,
            notify,
            signo,
            value,
            tid,
            state: Mutex::default(),
        }),
    );
    drop(st);
    t.write_mem(a[2], &id.to_le_bytes())?;
    Ok(0)
}

fn read_its(t: &Task, addr: u64) -> Result<(Duration, Duration), Errno> {
    let mut b = [0u8; 32];
    t.read_mem(addr, &mut b)?;
    let f = |o: usize| i64::from_le_bytes(b[o..o + 8].try_into().unwrap_or_default());
    let d = |s: i64, ns: i64| -> Result<Duration, Errno> {
        if s < 0 || !(0..1_000_000_000).contains(&ns) {
            return Err(Errno::EINVAL);
        }
        Ok(Duration::new(s as u64, ns as u32))
    };
    Ok((d(f(0), f(8))?, d(f(16), f(24))?))
}

fn its_bytes(interval: Duration, value: Duration) -> [u8; 32] {
    let mut b = [0u8; 32];
    for (i, d) in [interval, value].iter().enumerate() {
        b[i * 16..i * 16 + 8].copy_from_slice(&(d.as_secs() as i64).to_le_bytes());
        b[i * 16 + 8..i * 16 + 16].copy_from_slice(&(d.subsec_nanos() as i64).to_le_bytes());
    }
    b
}

fn current(tm: &PosixTimer) -> (Duration, Duration) {
    let st = tm.lock();
    let left = st
        .deadline
        .map(|d| d.saturating_duration_since(Instant::now()))
        .unwrap_or_default();
    let left = if st.deadline.is_some() && left.is_zero() {
        Duration::from_nanos(1)
    } else {
        left
    };
    (st.interval, left)
}

pub fn timer_gettime(t: &mut Task, a: [u64; 6]) -> SysResult {
    let tm = timer(t, a[0])?;
    let (interval, left) = current(&tm);
    t.write_mem(a[1], &its_bytes(interval, left)).map(|_| 0)
}

pub fn timer_settime(t: &mut Task, a: [u64; 6]) -> SysResult {
    let tm = timer(t, a[0])?;
    let (interval, value) = read_its(t, a[2])?;
    if a[3] != 0 {
        let (i, l) = current(&tm);
        t.write_mem(a[3], &its_bytes(i, l))?;
    }
    let value = if a[1] as i32 & libc::TIMER_ABSTIME != 0 && !value.is_zero() {
        let clock = libc::CLOCK_REALTIME;
        value
            .saturating_sub(super::misc::clock_now(clock)?)
            .max(Duration::from_nanos(1))
    } else {
        value
    };
    let generation = {
        let mut st = tm.lock();
        st.generation += 1;
        st.deadline = if value.is_zero() {
            None
        } else {
            Instant::now().checked_add(value)
        };
        st.interval = interval;
        st.generation
    };
    if !value.is_zero() && tm.notify != SIGEV_NONE {
        let tg = Arc::downgrade(&t.tg);
        let weak = Arc::downgrade(&tm);
        let _ = std::thread::Builder::new()
            .name("posix-timer".into())
            .spawn(move || run(weak, tg, generation));
    } else if !value.is_zero() {
        // SIGEV_NONE: nothing to send; the deadline just counts down (and re-arms).
    }
    Ok(0)
}

fn run(timer: Weak<PosixTimer>, tg: Weak<ThreadGroup>, generation: u64) {
    loop {
        let Some(tm) = timer.upgrade() else { return };
        let deadline = {
            let st = tm.lock();
            match st.deadline {
                Some(d) if st.generation == generation => d,
                _ => return,
            }
        };
        let now = Instant::now();
        if now < deadline {
            drop(tm);
            std::thread::sleep((deadline - now).min(Duration::from_millis(50)));
            continue;
        }
        let Some(tg) = tg.upgrade() else { return };
        {
            let mut st = tm.lock();
            if st.generation != generation {
                return;
            }
            st.deadline = if st.interval.is_zero() {
                None
            } else {
                deadline.checked_add(st.interval)
            };
        }
        if tg.lock().exit_status.is_some() {
            return;
        }
        let target = (tm.notify == SIGEV_THREAD_ID).then_some(tm.tid);
        let ts = target.and_then(|tid| tg.lock().signals.get(&tid).cloned());
        if !signal::bump_overrun(&tg, ts.as_deref(), tm.signo, tm.id) {
            let info = SigInfo {
                signo: tm.signo,
                code: SI_TIMER,
                value: tm.value,
                timer_id: tm.id,
                ..Default::default()
            };
            signal::send(&tg, target, info);
        }
    }
}

pub fn timer_getoverrun(t: &mut Task, a: [u64; 6]) -> SysResult {
    let tm = timer(t, a[0])?;
    let n = tm.lock().last_overrun;
    Ok(n.max(0) as u64)
}

pub fn timer_delete(t: &mut Task, a: [u64; 6]) -> SysResult {
    let tm =
        t.tg.lock()
            .timers
            .remove(&(a[0] as i32))
            .ok_or(Errno::EINVAL)?;
    tm.lock().generation += 1;
    Ok(0)
}
