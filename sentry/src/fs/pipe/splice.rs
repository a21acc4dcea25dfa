//! What splice(2), tee(2) and sendfile(2) need of a pipe beyond read and write: waiting for
//! room or data without moving bytes, taking bytes back, and moving or copying bytes between
//! two pipes. Waits are interruptible by signals exactly as pipe reads and writes are.

use std::sync::atomic::Ordering;
use std::sync::{Arc, MutexGuard};

use super::{PipeEnd, State};
use crate::errno::Errno;

impl PipeEnd {
    /// Whether both are ends of one pipe.
    pub fn same_pipe(&self, other: &PipeEnd) -> bool {
        Arc::ptr_eq(&self.pipe, &other.pipe)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.pipe.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn room(&self, st: &State) -> usize {
        self.capacity().saturating_sub(st.buf.len())
    }

    /// Waits until `ready` gives an answer for the pipe's state; EAGAIN instead of waiting
    /// if `nonblock`, ERESTARTSYS if a signal comes.
    fn wait_for<T>(
        &self,
        nonblock: bool,
        mut ready: impl FnMut(&mut State) -> Option<Result<T, Errno>>,
    ) -> Result<T, Errno> {
        crate::kernel::signal::with_waker(self.waker(), || {
            let mut st = self.state();
            loop {
                if let Some(r) = ready(&mut st) {
                    return r;
                }
                if nonblock {
                    return Err(Errno::EAGAIN);
                }
                let (g, ok) = self.wait(st);
                st = g;
                if !ok {
                    return Err(Errno::ERESTARTSYS);
                }
            }
        })
    }

    /// Waits for room in the pipe and returns how much there is; EPIPE without readers.
    pub fn wait_room(&self, nonblock: bool) -> Result<usize, Errno> {
        self.wait_for(nonblock, |st| {
            if st.readers == 0 {
                return Some(Err(Errno::EPIPE));
            }
            let room = self.room(st);
            (room > 0).then_some(Ok(room))
        })
    }

    /// Appends all of `data` at once, past the capacity if a writer came in since
    /// [`PipeEnd::wait_room`] (bytes already taken from a stream are never dropped); EPIPE
    /// without readers.
    pub fn put(&self, data: &[u8]) -> Result<usize, Errno> {
        if data.is_empty() {
            return Ok(0);
        }
        let mut st = self.state();
        if st.readers == 0 {
            return Err(Errno::EPIPE);
        }
        st.buf.extend(data);
        self.pipe.events.fetch_add(1, Ordering::Relaxed);
        self.pipe.cv.notify_all();
        Ok(data.len())
    }

    /// Takes up to `max` bytes once there are some; empty at end of file (no writers).
    pub fn take(&self, max: usize, nonblock: bool) -> Result<Vec<u8>, Errno> {
        self.wait_for(nonblock, |st| {
            if !st.buf.is_empty() {
                let n = max.min(st.buf.len());
                let v: Vec<u8> = st.buf.drain(..n).collect();
                self.pipe.cv.notify_all();
                return Some(Ok(v));
            }
            (st.writers == 0).then(|| Ok(Vec::new()))
        })
    }

    /// Puts bytes [`PipeEnd::take`] took but could not deliver back in front.
    pub fn untake(&self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let mut st = self.state();
        for &b in data.iter().rev() {
            st.buf.push_front(b);
        }
        self.pipe.cv.notify_all();
    }

    /// Moves (or with `keep`, copies: tee) up to `max` bytes from this pipe to `dst`, as
    /// Linux does: waits for data here (0 at end of file), then for room there (EPIPE
    /// without readers), then moves what both allow. The caller checked that the pipes
    /// differ.
    pub fn transfer(
        &self,
        dst: &PipeEnd,
        max: usize,
        nonblock: bool,
        keep: bool,
    ) -> Result<usize, Errno> {
        loop {
            // Data here, or end of file.
            self.wait_for(nonblock, |st| {
                (!st.buf.is_empty() || st.writers == 0).then_some(Ok(()))
            })?;
            // Room there, or no readers (found below).
            dst.wait_for(nonblock, |st| {
                (st.readers == 0 || dst.room(st) > 0).then_some(Ok(()))
            })?;
            // Both locks, always in address order, so that two transfers cannot deadlock.
            let src_first = Arc::as_ptr(&self.pipe) < Arc::as_ptr(&dst.pipe);
            let (mut s, mut d) = if src_first {
                let s = self.state();
                (s, dst.state())
            } else {
                let d = dst.state();
                (self.state(), d)
            };
            if d.readers == 0 {
                return Err(Errno::EPIPE);
            }
            if s.buf.is_empty() && s.writers == 0 {
                return Ok(0);
            }
            let n = max.min(s.buf.len()).min(dst.room(&d));
            if n == 0 {
                // Another reader or writer came in between: wait again.
                if nonblock {
                    return Err(Errno::EAGAIN);
                }
                continue;
            }
            if keep {
                d.buf.extend(s.buf.range(..n));
            } else {
                let moved: Vec<u8> = s.buf.drain(..n).collect();
                d.buf.extend(moved);
                self.pipe.cv.notify_all();
            }
            dst.pipe.events.fetch_add(1, Ordering::Relaxed);
            dst.pipe.cv.notify_all();
            return Ok(n);
        }
    }
}
