//! Futexes: wait queues keyed by address space and address.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::errno::{Errno, SysResult};
use crate::kernel::Task;

struct Waiter {
    woken: Mutex<bool>,
    cv: Condvar,
    bitset: u32,
}

type Key = (usize, u64);

/// A waiter is woken by FUTEX_WAKE or by a signal (its waker); this bounds a wait should a
/// wake-up ever be missed.
const TICK: Duration = Duration::from_secs(1);

fn table() -> &'static Mutex<HashMap<Key, Vec<Arc<Waiter>>>> {
    static T: std::sync::OnceLock<Mutex<HashMap<Key, Vec<Arc<Waiter>>>>> =
        std::sync::OnceLock::new();
    T.get_or_init(Default::default)
}

thread_local! {
    /// Whether the futex operation being served is FUTEX_PRIVATE_FLAG.
    static PRIVATE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The wait-queue key of `addr`: the address space and address for private futexes (and
/// private memory); the shared object and offset for shared futexes in MAP_SHARED memory,
/// so that processes mapping it meet.
fn key(t: &Task, addr: u64) -> Key {
    if !PRIVATE.with(|p| p.get()) {
        let mm = t.mm();
        if let Some(v) = mm.find(addr) {
            if let crate::mm::Backing::Shared { obj, offset, .. } = &v.backing {
                return (Arc::as_ptr(obj) as usize, offset + (addr - v.start));
            }
        }
    }
    (Arc::as_ptr(&t.mm) as usize, addr)
}

/// Wakes up to `n` waiters on `addr` whose bitset intersects `bits`.
fn wake_bits(t: &Task, addr: u64, n: usize, bits: u32) -> usize {
    let mut tab = table().lock().unwrap_or_else(|e| e.into_inner());
    let k = key(t, addr);
    let Some(q) = tab.get_mut(&k) else { return 0 };
    let mut woken = 0;
    q.retain(|w| {
        if woken < n && w.bitset & bits != 0 {
            *w.woken.lock().unwrap_or_else(|e| e.into_inner()) = true;
            w.cv.notify_one();
            woken += 1;
            false
        } else {
            true
        }
    });
    if q.is_empty() {
        tab.remove(&k);
    }
    woken
}

/// Wakes up to `n` waiters on `addr`.
pub fn wake(t: &Task, addr: u64, n: usize) -> usize {
    wake_bits(t, addr, n, u32::MAX)
}

fn read_u32(t: &Task, addr: u64) -> Result<u32, Errno> {
    let mut b = [0u8; 4];
    t.read_mem(addr, &mut b)?;
    Ok(u32::from_le_bytes(b))
}

fn timeout(t: &Task, addr: u64, absolute: bool, realtime: bool) -> Result<Option<Instant>, Errno> {
    if addr == 0 {
        return Ok(None);
    }
    let d = super::misc::read_timespec(t, addr)?;
    if !absolute {
        return Ok(super::misc::after(d));
    }
    let now = super::misc::clock_now(if realtime {
        libc::CLOCK_REALTIME
    } else {
        libc::CLOCK_MONOTONIC
    })?;
    Ok(super::misc::after(d.saturating_sub(now)))
}

fn wait(t: &Task, addr: u64, val: u32, deadline: Option<Instant>, bitset: u32) -> SysResult {
    if !addr.is_multiple_of(4) {
        return Err(Errno::EINVAL);
    }
    let w = Arc::new(Waiter {
        woken: Mutex::new(false),
        cv: Condvar::new(),
        bitset,
    });
    {
        let mut tab = table().lock().unwrap_or_else(|e| e.into_inner());
        if read_u32(t, addr)? != val {
            return Err(Errno::EAGAIN);
        }
        tab.entry(key(t, addr)).or_default().push(w.clone());
    }
    let waker: crate::kernel::signal::Waker = {
        let w = w.clone();
        Arc::new(move || {
            let _g = w.woken.lock().unwrap_or_else(|e| e.into_inner());
            w.cv.notify_all();
        })
    };
    let mut interrupted = false;
    let woken = crate::kernel::signal::with_waker(waker, || {
        let mut woken = w.woken.lock().unwrap_or_else(|e| e.into_inner());
        // The signal check is made under the waiter's lock, which the waker takes.
        while !*woken {
            if crate::kernel::signal::interrupted() {
                interrupted = true;
                break;
            }
            let now = Instant::now();
            if deadline.is_some_and(|d| now >= d) {
                break;
            }
            let slice = deadline.map(|d| d - now).unwrap_or(TICK).min(TICK);
            woken =
                w.cv.wait_timeout(woken, slice)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
        }
        woken
    });
    if *woken {
        return Ok(0);
    }
    drop(woken);
    let mut tab = table().lock().unwrap_or_else(|e| e.into_inner());
    if let Some(q) = tab.get_mut(&key(t, addr)) {
        q.retain(|x| !Arc::ptr_eq(x, &w));
    }
    if *w.woken.lock().unwrap_or_else(|e| e.into_inner()) {
        return Ok(0);
    }
    Err(if interrupted {
        Errno::EINTR
    } else {
        Errno::ETIMEDOUT
    })
}

fn requeue(t: &Task, from: u64, to: u64, nwake: usize, nmove: usize) -> usize {
    let woken = wake(t, from, nwake);
    let mut tab = table().lock().unwrap_or_else(|e| e.into_inner());
    let kf = key(t, from);
    let mut moved = Vec::new();
    if let Some(q) = tab.get_mut(&kf) {
        let n = nmove.min(q.len());
        moved.extend(q.drain(..n));
        if q.is_empty() {
            tab.remove(&kf);
        }
    }
    let count = moved.len();
    if count > 0 {
        tab.entry(key(t, to)).or_default().extend(moved);
    }
    woken + count
}

pub fn futex(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (addr, op, val) = (a[0], a[1] as i32, a[2] as u32);
    PRIVATE.with(|p| p.set(op & libc::FUTEX_PRIVATE_FLAG != 0));
    if !addr.is_multiple_of(4) {
        return Err(Errno::EINVAL);
    }
    let cmd = op & 0x7f;
    let realtime = op & libc::FUTEX_CLOCK_REALTIME != 0;
    match cmd {
        libc::FUTEX_WAIT => {
            let d = timeout(t, a[3], false, false)?;
            wait(t, addr, val, d, u32::MAX)
        }
        libc::FUTEX_WAIT_BITSET => {
            if a[5] as u32 == 0 {
                return Err(Errno::EINVAL);
            }
            let d = timeout(t, a[3], true, realtime)?;
            wait(t, addr, val, d, a[5] as u32)
        }
        libc::FUTEX_WAKE => Ok(wake(t, addr, val as usize) as u64),
        libc::FUTEX_WAKE_BITSET => {
            if a[5] as u32 == 0 {
                return Err(Errno::EINVAL);
            }
            Ok(wake_bits(t, addr, val as usize, a[5] as u32) as u64)
        }
        libc::FUTEX_REQUEUE => Ok(requeue(t, addr, a[4], val as usize, a[3] as usize) as u64),
        libc::FUTEX_CMP_REQUEUE if (val as i32) < 0 || (a[3] as i32) < 0 => Err(Errno::EINVAL),
        libc::FUTEX_CMP_REQUEUE => {
            if read_u32(t, addr)? != a[5] as u32 {
                return Err(Errno::EAGAIN);
            }
            Ok(requeue(t, addr, a[4], val as usize, a[3] as usize) as u64)
        }
        libc::FUTEX_WAKE_OP => {
            let (addr2, encoded) = (a[4], a[5] as u32);
            let oparg_shift = encoded & (8 << 28) != 0;
            let fop = (encoded >> 28) & 7;
            let cmp = (encoded >> 24) & 15;
            let mut oparg = ((encoded << 8) as i32 >> 20) as u32;
            let cmparg = ((encoded << 20) as i32 >> 20) as u32;
            if oparg_shift {
                oparg = 1u32.checked_shl(oparg).unwrap_or(0);
            }
            let old = read_u32(t, addr2)?;
            let new = match fop {
                0 => oparg,
                1 => old.wrapping_add(oparg),
                2 => old | oparg,
                3 => old & !oparg,
                4 => old ^ oparg,
                _ => return Err(Errno::ENOSYS),
            };
            t.write_mem(addr2, &new.to_le_bytes())?;
            let mut n = wake(t, addr, val as usize);
            let hit = match cmp {
                0 => old == cmparg,
                1 => old != cmparg,
                2 => (old as i32) < cmparg as i32,
                3 => (old as i32) <= cmparg as i32,
                4 => (old as i32) > cmparg as i32,
                5 => (old as i32) >= cmparg as i32,
                _ => return Err(Errno::ENOSYS),
            };
            if hit {
                n += wake(t, addr2, a[3] as usize);
            }
            Ok(n as u64)
        }
        _ => Err(Errno::ENOSYS),
    }
}
