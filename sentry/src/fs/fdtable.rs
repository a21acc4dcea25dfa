//! Descriptor tables: shared between tasks with CLONE_FILES, copied otherwise.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::file::OpenFile;
use crate::errno::Errno;

/// Highest descriptor number + 1 (RLIMIT_NOFILE).
pub const MAX_FDS: i32 = 1 << 20;

#[derive(Clone)]
struct Entry {
    file: Arc<OpenFile>,
    cloexec: bool,
}

/// One descriptor table.
#[derive(Clone)]
pub struct FdTable {
    fds: BTreeMap<i32, Entry>,
    /// RLIMIT_NOFILE: descriptors are below it.
    limit: i32,
}

impl Default for FdTable {
    fn default() -> Self {
        FdTable {
            fds: BTreeMap::new(),
            limit: 1024,
        }
    }
}

impl FdTable {
    /// Sets RLIMIT_NOFILE.
    pub fn set_limit(&mut self, limit: u64) {
        self.limit = limit.min(MAX_FDS as u64) as i32;
    }

    /// RLIMIT_NOFILE.
    pub fn limit(&self) -> i32 {
        self.limit
    }

    /// The file at `fd`.
    /// Every open descriptor, in order.
    pub fn entries(&self) -> Vec<(i32, Arc<OpenFile>)> {
        self.fds
            .iter()
            .map(|(&fd, e)| (fd, e.file.clone()))
            .collect()
    }

    pub fn get(&self, fd: i32) -> Result<Arc<OpenFile>, Errno> {
        self.fds
            .get(&fd)
            .map(|e| e.file.clone())
            .ok_or(Errno::EBADF)
    }

    /// Installs `file` at the lowest free descriptor >= `min`.
    pub fn insert(&mut self, file: Arc<OpenFile>, cloexec: bool, min: i32) -> Result<i32, Errno> {
        let mut fd = min.max(0);
        for (&k, _) in self.fds.range(fd..) {
            if k != fd {
                break;
            }
            fd += 1;
        }
        if fd >= self.limit.min(MAX_FDS) {
            return Err(Errno::EMFILE);
        }
        self.fds.insert(fd, Entry { file, cloexec });
        Ok(fd)
    }

    /// Installs `file` at exactly `fd`, closing what was there.
    pub fn set(&mut self, fd: i32, file: Arc<OpenFile>, cloexec: bool) -> Result<(), Errno> {
        if !(0..self.limit.min(MAX_FDS)).contains(&fd) {
            return Err(Errno::EBADF);
        }
        if let Some(old) = self.fds.insert(fd, Entry { file, cloexec }) {
            super::lock::fd_closed(&old.file);
        }
        Ok(())
    }

    /// Closes `fd`.
    pub fn remove(&mut self, fd: i32) -> Result<Arc<OpenFile>, Errno> {
        let file = self.fds.remove(&fd).map(|e| e.file).ok_or(Errno::EBADF)?;
        super::lock::fd_closed(&file);
        Ok(file)
    }

    /// FD_CLOEXEC of `fd`.
    pub fn cloexec(&self, fd: i32) -> Result<bool, Errno> {
        self.fds.get(&fd).map(|e| e.cloexec).ok_or(Errno::EBADF)
    }

    /// Sets FD_CLOEXEC of `fd`.
    pub fn set_cloexec(&mut self, fd: i32, on: bool) -> Result<(), Errno> {
        self.fds
            .get_mut(&fd)
            .map(|e| e.cloexec = on)
            .ok_or(Errno::EBADF)
    }

    /// Closes every close-on-exec descriptor (execve).
    pub fn close_on_exec(&mut self) {
        self.fds.retain(|_, e| {
            if e.cloexec {
                super::lock::fd_closed(&e.file);
            }
            !e.cloexec
        });
    }

    /// Closes descriptors in `[lo, hi]` (close_range), or marks them close-on-exec.
    pub fn close_range(&mut self, lo: i32, hi: i32, cloexec_only: bool) {
        let keys: Vec<i32> = self.fds.range(lo..=hi).map(|(k, _)| *k).collect();
        for k in keys {
            if cloexec_only {
                let _ = self.set_cloexec(k, true);
            } else if let Some(e) = self.fds.remove(&k) {
                super::lock::fd_closed(&e.file);
            }
        }
    }
}
