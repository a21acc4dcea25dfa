//! Device files the Sentry implements itself. Nothing of the host's devices is reachable.

use std::sync::Arc;

use super::file::{FileOps, Stat};
use crate::errno::Errno;

/// The devices of /dev.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Device {
    Null,
    Zero,
    Full,
    Random,
    Urandom,
}

impl Device {
    /// The device called `name` in /dev.
    pub fn by_name(name: &[u8]) -> Option<Device> {
        Some(match name {
            b"null" => Device::Null,
            b"zero" => Device::Zero,
            b"full" => Device::Full,
            b"random" => Device::Random,
            b"urandom" => Device::Urandom,
            _ => return None,
        })
    }

    /// Major and minor numbers, as on Linux.
    fn rdev(self) -> (u64, u64) {
        match self {
            Device::Null => (1, 3),
            Device::Zero => (1, 5),
            Device::Full => (1, 7),
            Device::Random => (1, 8),
            Device::Urandom => (1, 9),
        }
    }

    /// An open instance.
    pub fn open(self) -> Arc<dyn FileOps> {
        Arc::new(self)
    }
}

/// Fills `buf` with random bytes from the host.
pub fn random_bytes(buf: &mut [u8]) -> Result<(), Errno> {
    let mut done = 0;
    while done < buf.len() {
        // SAFETY: getrandom writes at most the given length into the buffer.
        let n = unsafe { libc::getrandom(buf[done..].as_mut_ptr().cast(), buf.len() - done, 0) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return Err(Errno::from(e));
        }
        done += n as usize;
    }
    Ok(())
}

impl FileOps for Device {
    fn read(&self, buf: &mut [u8], _off: Option<u64>) -> Result<usize, Errno> {
        match self {
            Device::Null => Ok(0),
            Device::Zero | Device::Full => {
                buf.fill(0);
                Ok(buf.len())
            }
            Device::Random | Device::Urandom => {
                random_bytes(buf)?;
                Ok(buf.len())
            }
        }
    }
    fn write(&self, data: &[u8], _off: Option<u64>) -> Result<usize, Errno> {
        match self {
            Device::Full => Err(Errno::ENOSPC),
            _ => Ok(data.len()),
        }
    }
    fn seekable(&self) -> bool {
        true
    }
    fn seek_zero(&self) -> bool {
        true
    }
    fn stat(&self) -> Result<Stat, Errno> {
        let (ma, mi) = self.rdev();
        Ok(Stat {
            dev: 5,
            ino: 100 + mi,
            mode: libc::S_IFCHR | 0o666,
            nlink: 1,
            rdev: libc::makedev(ma as u32, mi as u32),
            blksize: 4096,
            ..Stat::default()
        })
    }
}
