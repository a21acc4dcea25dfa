//! Identity, time and system information.

use std::time::Duration;

use crate::errno::{Errno, SysResult};
use crate::kernel::Task;

fn utsname_field(s: &[u8]) -> [u8; 65] {
    let mut f = [0u8; 65];
    let n = s.len().min(64);
    f[..n].copy_from_slice(&s[..n]);
    f
}

pub fn uname(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (host, domain) = t.uts.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let mut b = Vec::with_capacity(65 * 6);
    for f in [
        &b"Linux"[..],
        &host,
        b"6.1.0-rvisor",
        b"#1 SMP PREEMPT_DYNAMIC rvisor",
        b"x86_64",
        &domain,
    ] {
        b.extend_from_slice(&utsname_field(f));
    }
    t.write_mem(a[0], &b).map(|_| 0)
}

/// Reads a new host or domain name (at most 64 bytes) if the caller may set it.
fn uts_name_arg(t: &Task, a: [u64; 6]) -> Result<Vec<u8>, Errno> {
    if a[1] > 64 {
        return Err(Errno::EINVAL);
    }
    if !t.creds.has_cap(crate::kernel::creds::CAP_SYS_ADMIN) {
        return Err(Errno::EPERM);
    }
    let mut b = vec![0u8; a[1] as usize];
    t.read_mem(a[0], &mut b)?;
    Ok(b)
}

pub fn sethostname(t: &mut Task, a: [u64; 6]) -> SysResult {
    let name = uts_name_arg(t, a)?;
    t.uts.lock().unwrap_or_else(|e| e.into_inner()).0 = name;
    Ok(0)
}

pub fn umask(t: &mut Task, a: [u64; 6]) -> SysResult {
    let old = t.umask;
    t.umask = a[0] as u32 & 0o777;
    Ok(old as u64)
}

/// The host's reading of `clock`.
pub(crate) fn clock_now(clock: i32) -> Result<Duration, Errno> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec.
    if unsafe { libc::clock_gettime(clock, &mut ts) } < 0 {
        return Err(Errno::EINVAL);
    }
    Ok(Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
}

fn host_clock(clock: u64) -> Result<i32, Errno> {
    match clock as i32 {
        c @ (libc::CLOCK_REALTIME
        | libc::CLOCK_MONOTONIC
        | libc::CLOCK_MONOTONIC_RAW
        | libc::CLOCK_REALTIME_COARSE
        | libc::CLOCK_MONOTONIC_COARSE
        | libc::CLOCK_BOOTTIME
        | libc::CLOCK_PROCESS_CPUTIME_ID
        | libc::CLOCK_THREAD_CPUTIME_ID) => Ok(c),
        _ => Err(Errno::EINVAL),
    }
}

fn timespec_bytes(d: Duration) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&(d.as_secs() as i64).to_le_bytes());
    b[8..].copy_from_slice(&(d.subsec_nanos() as i64).to_le_bytes());
    b
}

/// A CPU-time clock: CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID, or a clock id made
/// by clock_getcpuclockid/pthread_getcpuclockid (negative: `~pid << 3 | kind`). Threads
/// report their process's time (the platform measures per address space).
fn cpu_clock(t: &Task, clock: u64) -> Result<Option<Duration>, Errno> {
    let c = clock as i32;
    if c == libc::CLOCK_PROCESS_CPUTIME_ID || c == libc::CLOCK_THREAD_CPUTIME_ID {
        return Ok(Some(t.process_cpu()));
    }
    if c >= 0 {
        return Ok(None);
    }
    let id = !(c >> 3);
    let kind = c & 3;
    if kind == 3 {
        return Err(Errno::EINVAL);
    }
    let thread = c & 4 != 0;
    let known = if id == 0 {
        true
    } else if thread {
        t.tg.lock().threads.contains_key(&id)
    } else {
        t.kernel.group(id).is_some()
    };
    if !known {
        return Err(Errno::EINVAL);
    }
    if id == 0 || id == t.tg.tgid || (thread && t.tg.lock().threads.contains_key(&id)) {
        return Ok(Some(t.process_cpu()));
    }
    // Another process: what it has banked so far.
    Ok(t.kernel.group(id).map(|g| g.lock().cpu_base))
}

pub fn clock_gettime(t: &mut Task, a: [u64; 6]) -> SysResult {
    let now = match cpu_clock(t, a[0])? {
        Some(d) => d,
        None => clock_now(host_clock(a[0])?)?,
    };
    t.write_mem(a[1], &timespec_bytes(now)).map(|_| 0)
}

pub fn clock_getres(t: &mut Task, a: [u64; 6]) -> SysResult {
    if cpu_clock(t, a[0])?.is_some() {
        if a[1] != 0 {
            t.write_mem(a[1], &timespec_bytes(Duration::from_nanos(1)))?;
        }
        return Ok(0);
    }
    let c = host_clock(a[0])?;
    if a[1] != 0 {
        let res = if c == libc::CLOCK_REALTIME_COARSE || c == libc::CLOCK_MONOTONIC_COARSE {
            Duration::from_millis(4)
        } else {
            Duration::from_nanos(1)
        };
        t.write_mem(a[1], &timespec_bytes(res))?;
    }
    Ok(0)
}

pub fn gettimeofday(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[0] != 0 {
        let now = clock_now(libc::CLOCK_REALTIME)?;
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&(now.as_secs() as i64).to_le_bytes());
        b[8..].copy_from_slice(&(now.subsec_micros() as i64).to_le_bytes());
        t.write_mem(a[0], &b)?;
    }
    if a[1] != 0 {
        t.write_mem(a[1], &[0u8; 8])?;
    }
    Ok(0)
}

pub fn time(t: &mut Task, a: [u64; 6]) -> SysResult {
    let s = clock_now(libc::CLOCK_REALTIME)?.as_secs();
    if a[0] != 0 {
        t.write_mem(a[0], &s.to_le_bytes())?;
    }
    Ok(s)
}

/// `d` from now; None when that lies beyond what the clock can represent (an
/// application-chosen timeout that large means "never").
pub(crate) fn after(d: Duration) -> Option<std::time::Instant> {
    std::time::Instant::now().checked_add(d)
}

/// Reads a `struct timespec` duration (EINVAL if negative or not normalized).
pub(crate) fn read_timespec(t: &Task, addr: u64) -> Result<Duration, Errno> {
    let mut b = [0u8; 16];
    t.read_mem(addr, &mut b)?;
    let sec = i64::from_le_bytes(b[..8].try_into().unwrap_or_default());
    let nsec = i64::from_le_bytes(b[8..].try_into().unwrap_or_default());
    if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
        return Err(Errno::EINVAL);
    }
    Ok(Duration::new(sec as u64, nsec as u32))
}

/// Sleeps until `until`, or until a signal: then EINTR with the time left written to `rem`.
fn sleep_until(t: &Task, until: Option<std::time::Instant>, rem: u64) -> SysResult {
    if crate::kernel::signal::sleep_interruptible(until) {
        return Ok(0);
    }
    if rem != 0 {
        let left = until.map(|u| u.saturating_duration_since(std::time::Instant::now()));
        t.write_mem(rem, &timespec_bytes(left.unwrap_or(Duration::MAX)))?;
    }
    Err(Errno::EINTR)
}

pub fn nanosleep(t: &mut Task, req: u64, rem: u64) -> SysResult {
    let d = read_timespec(t, req)?;
    sleep_until(t, after(d), rem)
}

pub fn clock_nanosleep(t: &mut Task, a: [u64; 6]) -> SysResult {
    let c = host_clock(a[0])?;
    if c == libc::CLOCK_THREAD_CPUTIME_ID {
        return Err(Errno::EINVAL);
    }
    let d = read_timespec(t, a[2])?;
    let abs = a[1] as i32 & libc::TIMER_ABSTIME != 0;
    let d = if abs {
        d.saturating_sub(clock_now(c)?)
    } else {
        d
    };
    sleep_until(t, after(d), if abs { 0 } else { a[3] })
}

pub fn getrandom(t: &mut Task, a: [u64; 6]) -> SysResult {
    const GRND_RANDOM: u64 = 2;
    const GRND_INSECURE: u64 = 4;
    if a[2] & !7 != 0 || a[2] & (GRND_RANDOM | GRND_INSECURE) == GRND_RANDOM | GRND_INSECURE {
        return Err(Errno::EINVAL);
    }
    let mut b = vec![0u8; (a[1] as usize).min(1 << 20)];
    crate::fs::dev::random_bytes(&mut b)?;
    t.write_mem(a[0], &b)?;
    Ok(b.len() as u64)
}

pub fn sysinfo(t: &mut Task, a: [u64; 6]) -> SysResult {
    let mut b = [0u8; 112];
    let up = clock_now(libc::CLOCK_BOOTTIME)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(1);
    b[..8].copy_from_slice(&up.to_le_bytes());
    let total: u64 = 2 << 30;
    b[32..40].copy_from_slice(&total.to_le_bytes());
    b[40..48].copy_from_slice(&(total / 2).to_le_bytes());
    let procs = t.kernel.groups().len() as u16;
    b[80..82].copy_from_slice(&procs.to_le_bytes());
    b[104..108].copy_from_slice(&1u32.to_le_bytes());
    t.write_mem(a[0], &b).map(|_| 0)
}

/// CPUs of the host the sandbox may use, found once (the answer needs host files the
/// confined Sentry may not open).
pub fn host_cpus() -> usize {
    static N: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *N.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

pub fn sched_getaffinity(t: &mut Task, a: [u64; 6]) -> SysResult {
    sched_pid(t, a[0])?;
    let n = host_cpus().min(64);
    if a[1] < 8 || !a[1].is_multiple_of(8) {
        return Err(Errno::EINVAL);
    }
    let mask: u64 = if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
    t.write_mem(a[2], &mask.to_le_bytes())?;
    Ok(8)
}

pub fn getrusage(t: &mut Task, a: [u64; 6]) -> SysResult {
    match a[0] as i32 {
        libc::RUSAGE_SELF | libc::RUSAGE_CHILDREN | libc::RUSAGE_THREAD => {}
        _ => return Err(Errno::EINVAL),
    }
    let cpu = match a[0] as i32 {
        libc::RUSAGE_CHILDREN => t.tg.lock().children_cpu,
        _ => t.process_cpu(),
    };
    let maxrss = t.rss_kb() as i64;
    let mut b = [0u8; 144];
    // ru_utime (the platform cannot split user and system time: all of it is user time).
    b[..8].copy_from_slice(&(cpu.as_secs() as i64).to_le_bytes());
    b[8..16].copy_from_slice(&(cpu.subsec_micros() as i64).to_le_bytes());
    b[32..40].copy_from_slice(&maxrss.to_le_bytes());
    t.write_mem(a[1], &b).map(|_| 0)
}

pub fn times(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[0] != 0 {
        let ticks = |d: Duration| (d.as_millis() / 10) as i64;
        let own = ticks(t.process_cpu());
        let children = ticks(t.tg.lock().children_cpu);
        let mut b = [0u8; 32];
        b[..8].copy_from_slice(&own.to_le_bytes());
        b[16..24].copy_from_slice(&children.to_le_bytes());
        t.write_mem(a[0], &b)?;
    }
    Ok(t.kernel.boot.elapsed().as_millis() as u64 / 10)
}

/// The process a sched_* call names (0 = the caller); ESRCH if none, EINVAL if negative.
pub fn sched_pid(t: &Task, pid: u64) -> Result<(), Errno> {
    let pid = pid as i32;
    if pid < 0 {
        return Err(Errno::EINVAL);
    }
    if pid != 0
        && pid != t.tid
        && !t
            .kernel
            .groups()
            .iter()
            .any(|g| g.lock().threads.contains_key(&pid))
    {
        return Err(Errno::ESRCH);
    }
    Ok(())
}

pub fn sched_setaffinity(t: &mut Task, a: [u64; 6]) -> SysResult {
    sched_pid(t, a[0])?;
    let mut b = vec![0u8; (a[1] as usize).min(128)];
    t.read_mem(a[2], &mut b)?;
    let n = host_cpus();
    let any_online = b
        .iter()
        .enumerate()
        .any(|(i, &byte)| (0..8).any(|bit| byte & (1 << bit) != 0 && i * 8 + bit < n));
    if !any_online {
        return Err(Errno::EINVAL);
    }
    Ok(0)
}

pub fn sched_setscheduler(t: &mut Task, a: [u64; 6]) -> SysResult {
    sched_pid(t, a[0])?;
    let mut b = [0u8; 4];
    t.read_mem(a[2], &mut b)?;
    let prio = i32::from_le_bytes(b);
    match a[1] as i32 & !0x4000_0000 {
        libc::SCHED_OTHER | libc::SCHED_BATCH | libc::SCHED_IDLE if prio == 0 => Ok(0),
        libc::SCHED_FIFO | libc::SCHED_RR if (1..=99).contains(&prio) => Err(Errno::EPERM),
        _ => Err(Errno::EINVAL),
    }
}

pub fn sched_getparam(t: &mut Task, a: [u64; 6]) -> SysResult {
    sched_pid(t, a[0])?;
    t.write_mem(a[1], &0i32.to_le_bytes()).map(|_| 0)
}

pub fn sched_setparam(t: &mut Task, a: [u64; 6]) -> SysResult {
    sched_pid(t, a[0])?;
    let mut b = [0u8; 4];
    t.read_mem(a[1], &mut b)?;
    if i32::from_le_bytes(b) != 0 {
        return Err(Errno::EINVAL);
    }
    Ok(0)
}

pub fn sched_priority(policy: u64, max: bool) -> SysResult {
    match policy as i32 {
        libc::SCHED_FIFO | libc::SCHED_RR => Ok(if max { 99 } else { 1 }),
        libc::SCHED_OTHER | libc::SCHED_BATCH | libc::SCHED_IDLE => Ok(0),
        _ => Err(Errno::EINVAL),
    }
}

pub fn getpriority(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[0] > 2 {
        return Err(Errno::EINVAL);
    }
    if a[0] == libc::PRIO_PROCESS as u64 {
        sched_pid(t, a[1])?;
    }
    // The kernel's encoding: 20 - nice.
    Ok(20 - t.nice as u64)
}

pub fn setpriority(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[0] > 2 {
        return Err(Errno::EINVAL);
    }
    if a[0] == libc::PRIO_PROCESS as u64 {
        sched_pid(t, a[1])?;
    }
    let nice = (a[2] as i32).clamp(-20, 19);
    if nice < t.nice && !t.creds.has_cap(crate::kernel::creds::CAP_SYS_NICE) {
        return Err(Errno::EACCES);
    }
    t.nice = nice;
    Ok(0)
}

pub fn setdomainname(t: &mut Task, a: [u64; 6]) -> SysResult {
    let name = uts_name_arg(t, a)?;
    t.uts.lock().unwrap_or_else(|e| e.into_inner()).1 = name;
    Ok(0)
}

/// clock_settime: only CLOCK_REALTIME is settable, and the sandbox may not set the host's
/// clock (no CAP_SYS_TIME).
pub fn clock_settime(t: &mut Task, a: [u64; 6]) -> SysResult {
    let mut b = [0u8; 16];
    t.read_mem(a[1], &mut b)?;
    let nsec = i64::from_le_bytes(b[8..].try_into().unwrap_or_default());
    if !(0..1_000_000_000).contains(&nsec) {
        return Err(Errno::EINVAL);
    }
    match host_clock(a[0])? {
        libc::CLOCK_REALTIME => Err(Errno::EPERM),
        _ => Err(Errno::EINVAL),
    }
}

/// sched_rr_get_interval: the round-robin quantum Linux reports (100 ms).
pub fn sched_rr_get_interval(t: &mut Task, a: [u64; 6]) -> SysResult {
    sched_pid(t, a[0])?;
    t.write_mem(a[1], &timespec_bytes(Duration::from_millis(100)))
        .map(|_| 0)
}
