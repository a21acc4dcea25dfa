//! Process descriptors (pidfd_open, CLONE_PIDFD): readable once the process has exited.

use std::sync::Arc;

use super::file::{FileOps, Stat};
use crate::errno::Errno;
use crate::kernel::ThreadGroup;

/// A descriptor naming a process.
pub struct PidFd {
    pub tg: Arc<ThreadGroup>,
}

impl FileOps for PidFd {
    fn poll_ready(&self) -> u16 {
        if self.tg.lock().exit_status.is_some() {
            (libc::POLLIN | libc::POLLRDNORM) as u16
        } else {
            0
        }
    }

    fn pidfd_target(&self) -> Option<i32> {
        Some(self.tg.tgid)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat {
            dev: 13,
            ino: self.tg.tgid as u64,
            mode: 0o600,
            nlink: 1,
            blksize: 4096,
            ..Stat::default()
        })
    }
}
