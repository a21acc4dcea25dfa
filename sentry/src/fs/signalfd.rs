//! signalfd(2): pending signals read as 128-byte `signalfd_siginfo` records.
//!
//! As on Linux, a read or poll looks at the signals of the *calling* thread and its
//! process, not of the creator: a forked child reading an inherited signalfd gets its own
//! signals. `FileOps` carries no task, so the calling task is found from the host thread,
//! which runs one task for its whole life: the syscall layer records the task when it calls
//! `note_current` (signalfd4, epoll_wait); otherwise the thread's name, `task-<tid>` (see
//! `kernel::task::spawn_task`), leads to its `TaskSignals` in its thread group's `signals`
//! table. Either way the answer is kept for the thread.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use super::eventfd::{anon_ino, anon_open, anon_stat, FileLink, Registry, TICK};
use super::file::{FileOps, OpenFile, Stat};
use crate::errno::Errno;
use crate::kernel::signal::{self, SigInfo, TaskSignals, UNBLOCKABLE};
use crate::kernel::{Kernel, ThreadGroup};

/// Size of `struct signalfd_siginfo`.
pub const SIGINFO_SIZE: usize = 128;

const SI_USER: i32 = 0;
const SI_KERNEL: i32 = 0x80;
const SI_TIMER: i32 = -2;
const SI_SIGIO: i32 = -5;

/// The `signalfd_siginfo` record for `i`: which fields are filled depends on the signal and
/// its si_code, as for siginfo_t.
pub fn siginfo_bytes(i: &SigInfo) -> [u8; SIGINFO_SIZE] {
    let mut b = [0u8; SIGINFO_SIZE];
    let mut put = |o: usize, v: &[u8]| b[o..o + v.len()].copy_from_slice(v);
    put(0, &(i.signo as u32).to_le_bytes());
    put(8, &i.code.to_le_bytes());
    let kernel_code = i.code > SI_USER && i.code < SI_KERNEL;
    let fault = matches!(
        i.signo,
        libc::SIGSEGV | libc::SIGBUS | libc::SIGILL | libc::SIGFPE | libc::SIGTRAP
    );
    if kernel_code && fault {
        put(72, &i.addr.to_le_bytes());
    } else if kernel_code && i.signo == libc::SIGCHLD {
        put(12, &(i.pid as u32).to_le_bytes());
        put(16, &i.uid.to_le_bytes());
        put(40, &i.status.to_le_bytes());
    } else if (kernel_code && i.signo == libc::SIGPOLL) || i.code == SI_SIGIO {
        // band and fd: not recorded by the Sentry.
    } else if i.code == SI_TIMER {
        put(44, &(i.value as i32).to_le_bytes());
        put(48, &i.value.to_le_bytes());
    } else if i.code < 0 {
        // sigqueue, tgkill, mq_notify: sender and value.
        put(12, &(i.pid as u32).to_le_bytes());
        put(16, &i.uid.to_le_bytes());
        put(44, &(i.value as i32).to_le_bytes());
        put(48, &i.value.to_le_bytes());
    } else {
        put(12, &(i.pid as u32).to_le_bytes());
        put(16, &i.uid.to_le_bytes());
    }
    b
}

/// The calling task: its signal state and process.
type Current = (Arc<TaskSignals>, Arc<ThreadGroup>);

thread_local! {
    /// The task on this host thread, once known.
    static CURRENT: RefCell<Option<(Weak<TaskSignals>, Weak<ThreadGroup>)>> = const { RefCell::new(None) };
}

/// Records that the task with signal state `sig` in process `tg` runs on this host thread.
pub fn note_current(sig: &Arc<TaskSignals>, tg: &Arc<ThreadGroup>) {
    CURRENT.with(|c| *c.borrow_mut() = Some((Arc::downgrade(sig), Arc::downgrade(tg))));
}

fn current_tid() -> Option<i32> {
    std::thread::current()
        .name()?
        .strip_prefix("task-")?
        .parse()
        .ok()
}

/// A signalfd object.
pub struct SignalFd {
    mask: AtomicU64,
    link: FileLink,
    ino: u64,
    creator: Weak<ThreadGroup>,
    kernel: Weak<Kernel>,
}

static SIGNALFDS: Registry<SignalFd> = Registry::new();

impl SignalFd {
    /// A new signalfd for the signals of `mask`, created by a task of `creator`.
    pub fn open(
        mask: u64,
        nonblock: bool,
        creator: &Arc<ThreadGroup>,
        kernel: &Arc<Kernel>,
    ) -> Arc<OpenFile> {
        let s = Arc::new(SignalFd {
            mask: AtomicU64::new(mask & !UNBLOCKABLE),
            link: FileLink::default(),
            ino: anon_ino(),
            creator: Arc::downgrade(creator),
            kernel: Arc::downgrade(kernel),
        });
        SIGNALFDS.add(&s);
        anon_open(s.clone(), &s.link, nonblock)
    }

    /// The signalfd behind `f`, if it is one.
    pub fn of(f: &OpenFile) -> Option<Arc<SignalFd>> {
        SIGNALFDS.find(&f.ops)
    }

    /// Replaces the set of signals it reports (signalfd on an existing descriptor).
    pub fn set_mask(&self, mask: u64) {
        self.mask.store(mask & !UNBLOCKABLE, Ordering::SeqCst);
    }

    /// The signals it reports.
    pub fn mask(&self) -> u64 {
        self.mask.load(Ordering::SeqCst)
    }

    /// The task running on this host thread, if any.
    fn current(&self) -> Option<Current> {
        let known = CURRENT.with(|c| {
            let c = c.borrow();
            let (s, tg) = c.as_ref()?;
            Some((s.upgrade()?, tg.upgrade()?))
        });
        if known.is_some() {
            return known;
        }
        let tid = current_tid()?;
        let find = |tg: Arc<ThreadGroup>| {
            let s = tg.lock().signals.get(&tid).cloned();
            s.map(|s| (s, tg))
        };
        let found = self
            .creator
            .upgrade()
            .and_then(find)
            .or_else(|| self.kernel.upgrade()?.groups().into_iter().find_map(find))?;
        note_current(&found.0, &found.1);
        Some(found)
    }

    /// Takes up to `max` signals of the mask from the calling task's queues, then its
    /// process's.
    fn dequeue(&self, cur: &Current, out: &mut [u8]) -> usize {
        let mask = self.mask();
        let mut n = 0;
        for rec in out.chunks_exact_mut(SIGINFO_SIZE) {
            let Some(info) = signal::take(&cur.0.pending, &cur.0.infos, mask)
                .or_else(|| signal::take(&cur.1.sig.pending, &cur.1.sig.infos, mask))
            else {
                break;
            };
            rec.copy_from_slice(&siginfo_bytes(&info));
            n += 1;
        }
        n
    }
}

impl Drop for SignalFd {
    fn drop(&mut self) {
        SIGNALFDS.remove(self);
    }
}

impl FileOps for SignalFd {
    fn read(&self, buf: &mut [u8], _off: Option<u64>) -> Result<usize, Errno> {
        if buf.len() < SIGINFO_SIZE {
            return Err(Errno::EINVAL);
        }
        loop {
            let cur = self.current();
            // Wake-ups counted before looking, so one that comes in between is not missed.
            let seen = cur
                .as_ref()
                .map(|c| *c.0.wake.0.lock().unwrap_or_else(|e| e.into_inner()));
            if let Some(c) = &cur {
                let n = self.dequeue(c, buf);
                if n > 0 {
                    return Ok(n * SIGINFO_SIZE);
                }
            }
            if self.link.nonblocking() {
                return Err(Errno::EAGAIN);
            }
            match (&cur, seen) {
                (Some(c), Some(seen)) => {
                    let g = c.0.wake.0.lock().unwrap_or_else(|e| e.into_inner());
                    if *g == seen {
                        let _ = c.0.wake.1.wait_timeout(g, TICK);
                    }
                }
                _ => std::thread::sleep(TICK),
            }
            if signal::interrupted() {
                return Err(Errno::ERESTARTSYS);
            }
        }
    }

    fn poll_ready(&self) -> u16 {
        let Some((ts, tg)) = self.current() else {
            return 0;
        };
        let pending = ts.pending.load(Ordering::SeqCst) | tg.sig.pending.load(Ordering::SeqCst);
        if pending & self.mask() != 0 {
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
    use std::sync::Mutex;

    fn u32_at(b: &[u8], o: usize) -> u32 {
        u32::from_le_bytes(b[o..o + 4].try_into().unwrap_or_default())
    }

    fn u64_at(b: &[u8], o: usize) -> u64 {
        u64::from_le_bytes(b[o..o + 8].try_into().unwrap_or_default())
    }

    #[test]
    fn kill_record() {
        let b = siginfo_bytes(&SigInfo {
            signo: libc::SIGUSR1,
            code: 0,
            pid: 42,
            uid: 7,
            value: 9,
            ..Default::default()
        });
        assert_eq!(u32_at(&b, 0), libc::SIGUSR1 as u32);
        assert_eq!(u32_at(&b, 8), 0);
        assert_eq!(u32_at(&b, 12), 42);
        assert_eq!(u32_at(&b, 16), 7);
        // kill(2) carries no value.
        assert_eq!(u64_at(&b, 48), 0);
    }

    #[test]
    fn sigqueue_record() {
        let b = siginfo_bytes(&SigInfo {
            signo: 40,
            code: -1,
            pid: 5,
            value: 0x1_0000_0002,
            ..Default::default()
        });
        assert_eq!(u32_at(&b, 12), 5);
        assert_eq!(u32_at(&b, 44), 2);
        assert_eq!(u64_at(&b, 48), 0x1_0000_0002);
    }

    #[test]
    fn child_and_fault_records() {
        let b = siginfo_bytes(&SigInfo {
            signo: libc::SIGCHLD,
            code: 1,
            pid: 3,
            status: 4,
            ..Default::default()
        });
        assert_eq!((u32_at(&b, 12), u32_at(&b, 40)), (3, 4));
        let b = siginfo_bytes(&SigInfo {
            signo: libc::SIGSEGV,
            code: 1,
            addr: 0xdead,
            ..Default::default()
        });
        assert_eq!(u64_at(&b, 72), 0xdead);
        assert_eq!(u32_at(&b, 12), 0);
    }

    #[test]
    fn take_queues_realtime_only() {
        let pending = AtomicU64::new(0);
        let infos = Mutex::new(Vec::new());
        for (sig, v) in [(libc::SIGUSR1, 1), (libc::SIGUSR1, 2), (40, 3), (40, 4)] {
            infos
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(SigInfo {
                    signo: sig,
                    value: v,
                    ..Default::default()
                });
            pending.fetch_or(signal::bit(sig), Ordering::SeqCst);
        }
        let all = u64::MAX;
        assert_eq!(
            signal::take(&pending, &infos, signal::bit(40)).map(|i| i.value),
            Some(3)
        );
        assert_eq!(
            signal::take(&pending, &infos, all).map(|i| i.value),
            Some(1)
        );
        assert_eq!(
            signal::take(&pending, &infos, all).map(|i| i.value),
            Some(4)
        );
        assert!(signal::take(&pending, &infos, all).is_none());
    }
}
