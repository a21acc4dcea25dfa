//! Pipes, entirely inside the Sentry.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};

use super::file::{FileOps, Stat};
use crate::errno::Errno;

pub mod named;
mod splice;

/// Capacity of a pipe, as Linux's default.
pub const PIPE_SIZE: usize = 65536;
/// A blocked reader or writer is woken by the other end or by a signal (its waker); this
/// bounds a wait should a wake-up ever be missed.
const TICK: std::time::Duration = std::time::Duration::from_secs(1);
/// Writes up to this size are atomic.
pub const PIPE_BUF: usize = 4096;

#[derive(Default)]
struct State {
    buf: VecDeque<u8>,
    readers: usize,
    writers: usize,
    /// Read ends ever opened (a named pipe's blocking open waits for this to move).
    read_opens: u64,
    /// Write ends ever opened.
    write_opens: u64,
}

#[derive(Default)]
struct Pipe {
    /// Writes and closes so far (edge-triggered epoll).
    events: std::sync::atomic::AtomicU64,
    /// Capacity in bytes (F_SETPIPE_SZ).
    capacity: std::sync::atomic::AtomicUsize,
    state: Mutex<State>,
    cv: Condvar,
    ino: u64,
}

/// One end of a pipe.
pub struct PipeEnd {
    pipe: Arc<Pipe>,
    write: bool,
    nonblock: std::sync::atomic::AtomicBool,
}

/// A new pipe: (read end, write end).
pub fn new_pipe(nonblock: bool) -> (Arc<PipeEnd>, Arc<PipeEnd>) {
    static INO: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1000);
    let pipe = Arc::new(Pipe {
        events: 0.into(),
        capacity: PIPE_SIZE.into(),
        state: Mutex::new(State {
            buf: VecDeque::new(),
            readers: 1,
            writers: 1,
            read_opens: 1,
            write_opens: 1,
        }),
        cv: Condvar::new(),
        ino: INO.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
    });
    (
        Arc::new(PipeEnd {
            pipe: pipe.clone(),
            write: false,
            nonblock: nonblock.into(),
        }),
        Arc::new(PipeEnd {
            pipe,
            write: true,
            nonblock: nonblock.into(),
        }),
    )
}

impl PipeEnd {
    fn capacity(&self) -> usize {
        self.pipe
            .capacity
            .load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Drop for PipeEnd {
    fn drop(&mut self) {
        self.pipe
            .events
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut st = self.pipe.state.lock().unwrap_or_else(|e| e.into_inner());
        if self.write {
            st.writers -= 1;
        } else {
            st.readers -= 1;
        }
        self.pipe.cv.notify_all();
    }
}

impl PipeEnd {
    /// Wakes this pipe's waiters; registered while the task blocks here, so that a signal
    /// ends the wait at once.
    fn waker(&self) -> crate::kernel::signal::Waker {
        let pipe = Arc::downgrade(&self.pipe);
        Arc::new(move || {
            if let Some(p) = pipe.upgrade() {
                let _g = p.state.lock().unwrap_or_else(|e| e.into_inner());
                p.cv.notify_all();
            }
        })
    }

    fn nonblocking(&self) -> bool {
        self.nonblock.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Waits for a change of the pipe; false if a signal (or exit) interrupts. The signal
    /// check happens under the pipe's lock, and the waker takes that lock: no signal is
    /// missed between the check and the wait.
    fn wait<'a>(
        &'a self,
        st: std::sync::MutexGuard<'a, State>,
    ) -> (std::sync::MutexGuard<'a, State>, bool) {
        if crate::kernel::signal::interrupted() {
            return (st, false);
        }
        let st = self
            .pipe
            .cv
            .wait_timeout(st, TICK)
            .unwrap_or_else(|e| e.into_inner())
            .0;
        (st, !crate::kernel::signal::interrupted())
    }

    fn read_blocking(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        let mut st = self.pipe.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if !st.buf.is_empty() {
                let n = buf.len().min(st.buf.len());
                for (i, b) in st.buf.drain(..n).enumerate() {
                    buf[i] = b;
                }
                self.pipe.cv.notify_all();
                return Ok(n);
            }
            if st.writers == 0 {
                return Ok(0);
            }
            if self.nonblocking() {
                return Err(Errno::EAGAIN);
            }
            let (g, ok) = self.wait(st);
            st = g;
            if !ok {
                return Err(Errno::ERESTARTSYS);
            }
        }
    }

    fn write_blocking(&self, data: &[u8]) -> Result<usize, Errno> {
        let mut st = self.pipe.state.lock().unwrap_or_else(|e| e.into_inner());
        let mut done = 0;
        while done < data.len() {
            if st.readers == 0 {
                return if done > 0 {
                    Ok(done)
                } else {
                    Err(Errno::EPIPE)
                };
            }
            let room = self.capacity().saturating_sub(st.buf.len());
            let left = data.len() - done;
            // Small writes go in whole or not at all.
            let fits = if left <= PIPE_BUF {
                room >= left
            } else {
                room > 0
            };
            if fits {
                let n = room.min(left);
                st.buf.extend(&data[done..done + n]);
                done += n;
                self.pipe
                    .events
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                self.pipe.cv.notify_all();
                continue;
            }
            if self.nonblocking() {
                return if done > 0 {
                    Ok(done)
                } else {
                    Err(Errno::EAGAIN)
                };
            }
            let (g, ok) = self.wait(st);
            st = g;
            if !ok {
                return if done > 0 {
                    Ok(done)
                } else {
                    Err(Errno::ERESTARTSYS)
                };
            }
        }
        Ok(done)
    }
}

impl FileOps for PipeEnd {
    fn as_pipe(&self) -> Option<&PipeEnd> {
        Some(self)
    }

    fn read(&self, buf: &mut [u8], _off: Option<u64>) -> Result<usize, Errno> {
        if self.write {
            return Err(Errno::EBADF);
        }
        if buf.is_empty() {
            return Ok(0);
        }
        crate::kernel::signal::with_waker(self.waker(), || self.read_blocking(buf))
    }

    fn write(&self, data: &[u8], _off: Option<u64>) -> Result<usize, Errno> {
        if !self.write {
            return Err(Errno::EBADF);
        }
        crate::kernel::signal::with_waker(self.waker(), || self.write_blocking(data))
    }

    fn set_nonblock(&self, on: bool) {
        self.nonblock
            .store(on, std::sync::atomic::Ordering::Relaxed);
    }

    fn pipe_size(&self) -> Option<usize> {
        Some(self.capacity())
    }

    fn set_pipe_size(&self, want: usize) -> Result<usize, Errno> {
        // A power of two number of pages, at least one page.
        let size = want
            .max(4096)
            .checked_next_power_of_two()
            .ok_or(Errno::EINVAL)?;
        let st = self.pipe.state.lock().unwrap_or_else(|e| e.into_inner());
        if st.buf.len() > size {
            return Err(Errno::EBUSY);
        }
        self.pipe
            .capacity
            .store(size, std::sync::atomic::Ordering::Relaxed);
        Ok(size)
    }

    fn event_count(&self) -> u64 {
        self.pipe.events.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn poll_ready(&self) -> u16 {
        let st = self.pipe.state.lock().unwrap_or_else(|e| e.into_inner());
        let mut r = 0;
        if self.write {
            if st.readers == 0 {
                r |= libc::POLLERR | libc::POLLOUT;
            } else if self.capacity().saturating_sub(st.buf.len()) >= PIPE_BUF {
                r |= libc::POLLOUT;
            }
        } else {
            if !st.buf.is_empty() {
                r |= libc::POLLIN;
            }
            if st.writers == 0 {
                r |= libc::POLLHUP;
            }
        }
        r as u16
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat {
            dev: 12,
            ino: self.pipe.ino,
            mode: libc::S_IFIFO | 0o600,
            nlink: 1,
            blksize: 4096,
            ..Stat::default()
        })
    }
}
