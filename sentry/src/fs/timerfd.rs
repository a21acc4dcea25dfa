//! timerfd(2): a timer whose expirations are read as a 64-bit count.
//!
//! No host timer runs: the expirations are counted from the deadline and interval whenever
//! the file is read, polled or queried, which gives the same counts as a timer that fires.
//! Every clock is tracked on the host's monotonic clock; the syscall layer turns an absolute
//! time on CLOCK_REALTIME or CLOCK_BOOTTIME into a delay before arming.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::eventfd::{anon_ino, anon_open, anon_stat, wait_tick, FileLink, Registry};
use super::file::{FileOps, OpenFile, Stat};
use crate::errno::Errno;

/// `ns` nanoseconds as a Duration (saturating).
fn nanos(ns: u128) -> Duration {
    Duration::new(
        u64::try_from(ns / 1_000_000_000).unwrap_or(u64::MAX),
        (ns % 1_000_000_000) as u32,
    )
}

/// A timer's state: next expiration, period, and expirations not yet read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timer {
    pub deadline: Option<Instant>,
    pub interval: Duration,
    pub ticks: u64,
}

impl Timer {
    /// Counts the expirations that happened up to `now`.
    pub fn update(&mut self, now: Instant) {
        let Some(d) = self.deadline else { return };
        if now < d {
            return;
        }
        if self.interval.is_zero() {
            self.ticks = self.ticks.saturating_add(1);
            self.deadline = None;
            return;
        }
        let period = self.interval.as_nanos();
        let n = 1 + (now - d).as_nanos() / period;
        self.ticks = self
            .ticks
            .saturating_add(u64::try_from(n).unwrap_or(u64::MAX));
        self.deadline = d.checked_add(nanos(period.saturating_mul(n)));
    }

    /// (time to the next expiration, interval) as timerfd_gettime reports them.
    pub fn get(&mut self, now: Instant) -> (Duration, Duration) {
        self.update(now);
        let left = self
            .deadline
            .map_or(Duration::ZERO, |d| d.saturating_duration_since(now));
        // An armed timer never reads as disarmed.
        let left = if self.deadline.is_some() && left.is_zero() {
            Duration::from_nanos(1)
        } else {
            left
        };
        (left, self.interval)
    }

    /// Arms the timer to expire first `first` nanoseconds from `now` (negative: that long
    /// ago, and the periods missed since count as expirations); None disarms it. Unread
    /// expirations are forgotten. Returns the previous setting.
    pub fn set(
        &mut self,
        now: Instant,
        first: Option<i128>,
        interval: Duration,
    ) -> (Duration, Duration) {
        let old = self.get(now);
        self.ticks = 0;
        self.interval = interval;
        self.deadline = match first {
            None => {
                self.interval = Duration::ZERO;
                None
            }
            Some(ns) if ns >= 0 => now.checked_add(nanos(ns as u128)),
            Some(_) if interval.is_zero() => Some(now),
            Some(ns) => {
                let (late, period) = (ns.unsigned_abs(), interval.as_nanos());
                let n = 1 + late / period;
                self.ticks = u64::try_from(n).unwrap_or(u64::MAX);
                now.checked_add(nanos(period.saturating_mul(n) - late))
            }
        };
        old
    }

    /// Takes the unread expirations.
    pub fn take(&mut self, now: Instant) -> u64 {
        self.update(now);
        std::mem::take(&mut self.ticks)
    }
}

/// A timerfd object.
pub struct TimerFd {
    timer: Mutex<Timer>,
    cv: Condvar,
    clock: i32,
    link: FileLink,
    ino: u64,
}

static TIMERS: Registry<TimerFd> = Registry::new();

impl TimerFd {
    /// A new, disarmed timerfd on `clock`.
    pub fn open(clock: i32, nonblock: bool) -> Arc<OpenFile> {
        let t = Arc::new(TimerFd {
            timer: Mutex::new(Timer::default()),
            cv: Condvar::new(),
            clock,
            link: FileLink::default(),
            ino: anon_ino(),
        });
        TIMERS.add(&t);
        anon_open(t.clone(), &t.link, nonblock)
    }

    /// The timerfd behind `f`, if it is one.
    pub fn of(f: &OpenFile) -> Option<Arc<TimerFd>> {
        TIMERS.find(&f.ops)
    }

    /// The clock it was created on.
    pub fn clock(&self) -> i32 {
        self.clock
    }

    fn lock(&self) -> MutexGuard<'_, Timer> {
        self.timer.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// timerfd_settime: first expiration `first` nanoseconds from now (negative: in the
    /// past; None disarms), then every `interval`; returns the old (value, interval).
    pub fn settime(&self, first: Option<i128>, interval: Duration) -> (Duration, Duration) {
        let old = self.lock().set(Instant::now(), first, interval);
        self.cv.notify_all();
        old
    }

    /// timerfd_gettime: (time left, interval).
    pub fn gettime(&self) -> (Duration, Duration) {
        self.lock().get(Instant::now())
    }
}

impl Drop for TimerFd {
    fn drop(&mut self) {
        TIMERS.remove(self);
    }
}

impl FileOps for TimerFd {
    fn read(&self, buf: &mut [u8], _off: Option<u64>) -> Result<usize, Errno> {
        if buf.len() < 8 {
            return Err(Errno::EINVAL);
        }
        let mut g = self.lock();
        loop {
            let now = Instant::now();
            let n = g.take(now);
            if n > 0 {
                buf[..8].copy_from_slice(&n.to_ne_bytes());
                return Ok(8);
            }
            if self.link.nonblocking() {
                return Err(Errno::EAGAIN);
            }
            let left = g.deadline.map(|d| d.saturating_duration_since(now));
            g = wait_tick(&self.cv, g, left)?;
        }
    }

    fn poll_ready(&self) -> u16 {
        let mut g = self.lock();
        g.update(Instant::now());
        if g.ticks > 0 {
            libc::POLLIN as u16
        } else {
            0
        }
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(anon_stat(self.ino))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn one_shot_fires_once() {
        let t0 = Instant::now();
        let mut t = Timer::default();
        t.set(t0, Some(ns(100)), Duration::ZERO);
        assert_eq!(t.take(t0 + ms(99)), 0);
        assert_eq!(t.take(t0 + ms(100)), 1);
        assert_eq!(t.take(t0 + ms(1000)), 0);
        assert_eq!(t.get(t0 + ms(1000)), (Duration::ZERO, Duration::ZERO));
    }

    #[test]
    fn periodic_counts_every_period() {
        let t0 = Instant::now();
        let mut t = Timer::default();
        t.set(t0, Some(ns(50)), ms(20));
        assert_eq!(t.take(t0 + ms(49)), 0);
        // 50, 70, 90, 110 have passed at 115.
        assert_eq!(t.take(t0 + ms(115)), 4);
        assert_eq!(t.get(t0 + ms(115)), (ms(15), ms(20)));
        assert_eq!(t.take(t0 + ms(129)), 0);
        assert_eq!(t.take(t0 + ms(130)), 1);
    }

    /// `n` milliseconds in nanoseconds.
    fn ns(n: i128) -> i128 {
        n * 1_000_000
    }

    #[test]
    fn first_expiration_in_the_past() {
        let t0 = Instant::now();
        let mut t = Timer::default();
        t.set(t0, Some(ns(-30)), Duration::ZERO);
        assert_eq!(t.take(t0), 1);
        // Expirations at -95, -75, ..., -15 have passed; the next is at +5.
        t.set(t0, Some(ns(-95)), ms(20));
        assert_eq!(t.get(t0), (ms(5), ms(20)));
        assert_eq!(t.take(t0 + ms(4)), 5);
        assert_eq!(t.take(t0 + ms(5)), 1);
    }

    #[test]
    fn expirations_accumulate_until_read() {
        let t0 = Instant::now();
        let mut t = Timer::default();
        t.set(t0, Some(ns(10)), ms(10));
        t.update(t0 + ms(25));
        t.update(t0 + ms(45));
        assert_eq!(t.take(t0 + ms(45)), 4);
    }

    #[test]
    fn rearming_forgets_unread_and_returns_old() {
        let t0 = Instant::now();
        let mut t = Timer::default();
        t.set(t0, Some(ns(10)), ms(100));
        let old = t.set(t0 + ms(30), Some(ns(5)), Duration::ZERO);
        assert_eq!(old, (ms(80), ms(100)));
        assert_eq!(t.ticks, 0);
        assert_eq!(t.set(t0 + ms(31), None, ms(7)), (ms(4), Duration::ZERO));
        assert_eq!(t.take(t0 + ms(1000)), 0);
        assert_eq!(t.deadline, None);
    }

    #[test]
    fn file_reads_count() {
        let f = TimerFd::open(libc::CLOCK_MONOTONIC, true);
        let tfd = TimerFd::of(&f).expect("registered");
        let mut b = [0u8; 8];
        assert_eq!(f.read(&mut b), Err(Errno::EAGAIN));
        assert_eq!(f.read(&mut [0u8; 7]), Err(Errno::EINVAL));
        tfd.settime(Some(ns(1)), Duration::ZERO);
        std::thread::sleep(ms(5));
        assert_eq!(f.ops.poll_ready(), libc::POLLIN as u16);
        assert_eq!(f.read(&mut b), Ok(8));
        assert_eq!(u64::from_ne_bytes(b), 1);
        assert_eq!(f.ops.poll_ready(), 0);
        // Blocking read waits for the expiration.
        f.flags
            .store(libc::O_RDWR as u32, std::sync::atomic::Ordering::Relaxed);
        tfd.settime(Some(ns(20)), Duration::ZERO);
        let start = Instant::now();
        assert_eq!(f.read(&mut b), Ok(8));
        assert!(start.elapsed() >= ms(19));
        assert_eq!(u64::from_ne_bytes(b), 1);
    }
}
