//! Named pipes (FIFOs): the pipe behind a FIFO inode, shared by everyone who opens it.
//!
//! The pipe is made by the first open and goes, with whatever it still holds, when its last
//! end closes (as Linux frees `i_pipe`). Opening follows Linux's `fifo_open`: O_RDONLY waits
//! until a writer opens (at once with O_NONBLOCK), O_WRONLY waits until a reader opens
//! (ENXIO with O_NONBLOCK when there is none), O_RDWR never waits. A waiting opener already
//! counts as a reader or writer, so a non-blocking open from the other side succeeds; a
//! signal ends the wait (ERESTARTSYS) and takes the opener back out.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};

use super::{Pipe, PipeEnd, State, PIPE_SIZE};
use crate::errno::Errno;
use crate::fs::file::{FileOps, Stat};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// What a FIFO inode holds: its pipe while any end is open.
#[derive(Default)]
pub struct NamedPipe {
    pipe: Mutex<Weak<Pipe>>,
}

impl std::fmt::Debug for NamedPipe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NamedPipe")
    }
}

/// The stat(2) of the FIFO's inode, for fstat on an open end.
pub type StatFn = Arc<dyn Fn() -> Stat + Send + Sync>;

impl NamedPipe {
    /// The pipe, made now if no end is open.
    fn pipe(&self) -> Arc<Pipe> {
        let mut slot = lock(&self.pipe);
        if let Some(p) = slot.upgrade() {
            return p;
        }
        let p = Arc::new(Pipe {
            events: 0.into(),
            capacity: PIPE_SIZE.into(),
            state: Mutex::new(State::default()),
            cv: Condvar::new(),
            ino: 0,
        });
        *slot = Arc::downgrade(&p);
        p
    }

    /// open(2) of the FIFO with `flags` (access mode and O_NONBLOCK), as Linux's fifo_open;
    /// the open file reports `stat` (the inode's) to fstat. May block until the other side
    /// opens.
    pub fn open(&self, flags: u32, stat: StatFn) -> Result<Arc<dyn FileOps>, Errno> {
        let nonblock = flags & libc::O_NONBLOCK as u32 != 0;
        let pipe = self.pipe();
        let acc = flags & libc::O_ACCMODE as u32;
        let attach = |st: &mut State, write: bool| {
            if write {
                st.writers += 1;
                st.write_opens += 1;
            } else {
                st.readers += 1;
                st.read_opens += 1;
            }
            pipe.cv.notify_all();
            PipeEnd {
                pipe: pipe.clone(),
                write,
                nonblock: nonblock.into(),
            }
        };
        let mut st = lock(&pipe.state);
        match acc {
            a if a == libc::O_RDONLY as u32 => {
                let r = attach(&mut st, false);
                let mut hup_after = None;
                if st.writers == 0 {
                    let seen = st.write_opens;
                    if nonblock {
                        hup_after = Some(seen);
                    } else {
                        drop(st);
                        wait_partner(&r, |s| s.write_opens != seen)?;
                    }
                }
                Ok(Arc::new(FifoFile {
                    r: Some(r),
                    w: None,
                    hup_after,
                    stat,
                }))
            }
            a if a == libc::O_WRONLY as u32 => {
                if nonblock && st.readers == 0 {
                    return Err(Errno::ENXIO);
                }
                let w = attach(&mut st, true);
                if st.readers == 0 {
                    let seen = st.read_opens;
                    drop(st);
                    wait_partner(&w, |s| s.read_opens != seen)?;
                }
                Ok(Arc::new(FifoFile {
                    r: None,
                    w: Some(w),
                    hup_after: None,
                    stat,
                }))
            }
            _ => {
                let r = attach(&mut st, false);
                let w = attach(&mut st, true);
                Ok(Arc::new(FifoFile {
                    r: Some(r),
                    w: Some(w),
                    hup_after: None,
                    stat,
                }))
            }
        }
    }
}

/// Waits until `done` holds for the pipe of `end`: interruptible by signals (ERESTARTSYS);
/// on error `end` is dropped by the caller, which takes the opener back out.
fn wait_partner(end: &PipeEnd, done: impl Fn(&State) -> bool) -> Result<(), Errno> {
    crate::kernel::signal::with_waker(end.waker(), || {
        let mut st = lock(&end.pipe.state);
        loop {
            if done(&st) {
                return Ok(());
            }
            let (g, ok) = end.wait(st);
            st = g;
            if !ok {
                return Err(Errno::ERESTARTSYS);
            }
        }
    })
}

/// An open FIFO: its read end, its write end, or both (O_RDWR).
struct FifoFile {
    r: Option<PipeEnd>,
    w: Option<PipeEnd>,
    /// A reader that opened with O_NONBLOCK while no writer had the FIFO open sees no
    /// POLLHUP until a writer has come (Linux keeps the write-open count of then).
    hup_after: Option<u64>,
    stat: StatFn,
}

impl FifoFile {
    fn any_end(&self) -> Option<&PipeEnd> {
        self.r.as_ref().or(self.w.as_ref())
    }
}

impl FileOps for FifoFile {
    fn as_pipe(&self) -> Option<&PipeEnd> {
        self.any_end()
    }

    fn read(&self, buf: &mut [u8], off: Option<u64>) -> Result<usize, Errno> {
        self.r.as_ref().ok_or(Errno::EBADF)?.read(buf, off)
    }

    fn write(&self, data: &[u8], off: Option<u64>) -> Result<usize, Errno> {
        self.w.as_ref().ok_or(Errno::EBADF)?.write(data, off)
    }

    fn set_nonblock(&self, on: bool) {
        for e in [&self.r, &self.w].into_iter().flatten() {
            e.set_nonblock(on);
        }
    }

    fn pipe_size(&self) -> Option<usize> {
        self.any_end().and_then(|e| e.pipe_size())
    }

    fn set_pipe_size(&self, size: usize) -> Result<usize, Errno> {
        self.any_end().ok_or(Errno::EBADF)?.set_pipe_size(size)
    }

    fn event_count(&self) -> u64 {
        self.any_end().map_or(0, |e| e.event_count())
    }

    fn poll_ready(&self) -> u16 {
        let mut m = 0;
        for e in [&self.r, &self.w].into_iter().flatten() {
            m |= e.poll_ready();
        }
        if let (Some(seen), Some(r)) = (self.hup_after, &self.r) {
            if lock(&r.pipe.state).write_opens == seen {
                m &= !(libc::POLLHUP as u16);
            }
        }
        m
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok((self.stat)())
    }
}
