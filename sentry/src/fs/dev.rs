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

    /// The device with device number `rdev`.
    pub fn by_rdev(rdev: u64) -> Option<Device> {
        [
            Device::Null,
            Device::Zero,
            Device::Full,
            Device::Random,
            Device::Urandom,
        ]
        .into_iter()
        .find(|d| {
            let (ma, mi) = d.rdev();
            libc::makedev(ma as u32, mi as u32) == rdev
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

/// Fills `fs` as the sandbox's /dev: the Sentry's devices, the usual links and the mount
/// points of devpts, shm and mqueue. Nothing of the host's devices. (`ptmx` is the device,
/// as on a host; containers get the link to pts/ptmx runc makes: `ptmx_link`.)
pub fn populate(fs: &super::tmpfs::Tmpfs) -> Result<(), Errno> {
    use super::tmpfs::Creds;
    let dev = |ma: u32, mi: u32| libc::makedev(ma, mi);
    let _ = fs.chmod(b"", 0o755, &Creds::ROOT)?;
    for (name, perm, rdev) in [
        (&b"null"[..], 0o666, dev(1, 3)),
        (b"zero", 0o666, dev(1, 5)),
        (b"full", 0o666, dev(1, 7)),
        (b"random", 0o666, dev(1, 8)),
        (b"urandom", 0o666, dev(1, 9)),
        (b"tty", 0o666, dev(5, 0)),
        (b"console", 0o620, dev(5, 1)),
        (b"ptmx", 0o666, dev(5, 2)),
    ] {
        fs.make_char_device(name, perm, rdev)?;
    }
    for d in [&b"pts"[..], b"shm", b"mqueue"] {
        let _ = fs.mkdir(d, 0o755, &Creds::ROOT)?;
    }
    let _ = fs.chmod(b"shm", 0o1777, &Creds::ROOT)?;
    for (name, target) in [
        (&b"fd"[..], &b"/proc/self/fd"[..]),
        (b"stdin", b"/proc/self/fd/0"),
        (b"stdout", b"/proc/self/fd/1"),
        (b"stderr", b"/proc/self/fd/2"),
        (b"core", b"/proc/kcore"),
    ] {
        let _ = fs.symlink(target, name, &Creds::ROOT)?;
    }
    Ok(())
}

/// Makes /dev/ptmx the link to pts/ptmx that container runtimes make.
pub fn ptmx_link(fs: &super::tmpfs::Tmpfs) -> Result<(), Errno> {
    use super::tmpfs::Creds;
    let _ = fs.unlink(b"ptmx", &Creds::ROOT)?;
    let _ = fs.symlink(b"pts/ptmx", b"ptmx", &Creds::ROOT)?;
    Ok(())
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
