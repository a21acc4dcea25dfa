//! The container's root, read from the host through a directory descriptor.
//!
//! Every component is resolved by us with `openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)`
//! and `O_NOFOLLOW`; symlinks are read and followed by the Sentry, so the host never follows
//! one for the application and `..` never leaves the root. Only regular files and
//! directories are ever opened for I/O: host devices, fifos and sockets are refused.
//! (The gofer will take this over; see DESIGN.md.)

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::Arc;

use super::file::{FileOps, Stat};
use crate::errno::Errno;
use crate::mm::MappableFile;

/// Symlinks followed in one lookup, as Linux's MAXSYMLINKS.
const MAX_SYMLINKS: u32 = 40;
/// Top-level host directories the sandbox never sees (the Sentry serves its own).
const HIDDEN: [&[u8]; 2] = [b"proc", b"sys"];
/// Longest path accepted.
pub const PATH_MAX: usize = 4096;

/// The root directory the sandbox sees.
#[derive(Debug)]
pub struct HostRoot {
    root: OwnedFd,
}

/// Where a lookup ended.
pub struct Lookup {
    /// The directory holding the final component.
    pub parent: OwnedFd,
    /// The final component ("." for the root itself).
    pub name: CString,
    /// Its status.
    pub stat: libc::stat,
    /// Its absolute path inside the sandbox.
    pub path: Vec<u8>,
}

fn openat2_one(dir: RawFd, name: &CString, flags: i32) -> Result<OwnedFd, Errno> {
    #[repr(C)]
    struct OpenHow {
        flags: u64,
        mode: u64,
        resolve: u64,
    }
    const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
    const RESOLVE_BENEATH: u64 = 0x08;
    let how = OpenHow {
        flags: (flags | libc::O_NOFOLLOW | libc::O_CLOEXEC) as u64,
        mode: 0,
        resolve: RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    };
    // SAFETY: openat2 reads a valid NUL-terminated name and a valid open_how of the size
    // we pass.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            dir,
            name.as_ptr(),
            &how as *const OpenHow,
            std::mem::size_of::<OpenHow>(),
        )
    };
    if fd < 0 {
        return Err(Errno::from(std::io::Error::last_os_error()));
    }
    // SAFETY: a fresh descriptor we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

fn fstat(fd: RawFd) -> Result<libc::stat, Errno> {
    // SAFETY: stat is plain data; fstat fills it.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: valid descriptor and pointer.
    if unsafe { libc::fstat(fd, &mut st) } < 0 {
        return Err(Errno::from(std::io::Error::last_os_error()));
    }
    Ok(st)
}

fn dup(fd: &OwnedFd) -> Result<OwnedFd, Errno> {
    fd.try_clone().map_err(Errno::from)
}

fn is_type(st: &libc::stat, t: u32) -> bool {
    st.st_mode & libc::S_IFMT == t
}

impl HostRoot {
    /// Opens `dir` on the host as the root.
    pub fn open(dir: &std::path::Path) -> std::io::Result<HostRoot> {
        let c = CString::new(dir.as_os_str().as_encoded_bytes())
            .map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))?;
        // SAFETY: a valid NUL-terminated path.
        let fd = unsafe {
            libc::open(
                c.as_ptr(),
                libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: a fresh descriptor we own.
        let root = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(HostRoot { root })
    }

    /// Resolves `path` (relative paths against the absolute `cwd`).
    pub fn lookup(&self, cwd: &[u8], path: &[u8], follow_last: bool) -> Result<Lookup, Errno> {
        if path.is_empty() {
            return Err(Errno::ENOENT);
        }
        if path.len() >= PATH_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        let mut pending: Vec<Vec<u8>> = Vec::new();
        let start: &[u8] = if path[0] == b'/' {
            path
        } else {
            &[cwd, b"/", path].concat()
        };
        push_components(&mut pending, start);
        let trailing_slash = path.ends_with(b"/");
        // The stack of directories walked: stack[0] is the root.
        let mut stack: Vec<(OwnedFd, Vec<u8>)> = vec![(dup(&self.root)?, Vec::new())];
        let mut links = 0;
        pending.reverse();
        while let Some(comp) = pending.pop() {
            let last = pending.is_empty();
            if comp == b"." {
                continue;
            }
            if comp == b".." {
                if stack.len() > 1 {
                    stack.pop();
                }
                continue;
            }
            if comp.len() > 255 {
                return Err(Errno::ENAMETOOLONG);
            }
            // The host's /proc and /sys describe the host: never shown to the sandbox.
            if stack.len() == 1 && HIDDEN.contains(&comp.as_slice()) {
                return Err(Errno::ENOENT);
            }
            // Every descriptor on the stack is a directory (checked when pushed).
            let (dir, _) = stack.last().ok_or(Errno::ENOENT)?;
            let name = CString::new(comp.clone()).map_err(|_| Errno::EINVAL)?;
            let fd = openat2_one(dir.as_raw_fd(), &name, libc::O_PATH)?;
            let st = fstat(fd.as_raw_fd())?;
            if is_type(&st, libc::S_IFLNK) && (!last || follow_last || trailing_slash) {
                links += 1;
                if links > MAX_SYMLINKS {
                    return Err(Errno::ELOOP);
                }
                let target = readlink(&fd)?;
                let mut comps = Vec::new();
                push_components(&mut comps, &target);
                for c in comps.into_iter().rev() {
                    pending.push(c);
                }
                if target.first() == Some(&b'/') {
                    stack.truncate(1);
                }
                continue;
            }
            if last {
                let (parent, ppath) = stack.pop().ok_or(Errno::ENOENT)?;
                if trailing_slash && !is_type(&st, libc::S_IFDIR) {
                    return Err(Errno::ENOTDIR);
                }
                let mut p = ppath;
                p.push(b'/');
                p.extend_from_slice(&comp);
                return Ok(Lookup {
                    parent,
                    name,
                    stat: st,
                    path: p,
                });
            }
            if !is_type(&st, libc::S_IFDIR) {
                return Err(Errno::ENOTDIR);
            }
            let mut p = stack.last().map(|(_, p)| p.clone()).unwrap_or_default();
            p.push(b'/');
            p.extend_from_slice(&comp);
            stack.push((fd, p));
        }
        // The path named a directory we walked into (or the root).
        let (dir, p) = stack.pop().ok_or(Errno::ENOENT)?;
        let st = fstat(dir.as_raw_fd())?;
        let parent = if let Some((pd, _)) = stack.last() {
            dup(pd)?
        } else {
            dup(&self.root)?
        };
        let name = if stack.is_empty() {
            c".".to_owned()
        } else {
            CString::new(p.rsplit(|&b| b == b'/').next().unwrap_or(b".").to_vec())
                .map_err(|_| Errno::EINVAL)?
        };
        let path = if p.is_empty() { b"/".to_vec() } else { p };
        Ok(Lookup {
            parent,
            name,
            stat: st,
            path,
        })
    }

    /// Opens what `l` names for reading (regular files and directories only).
    pub fn open_file(&self, l: &Lookup) -> Result<Arc<HostFile>, Errno> {
        let dir = is_type(&l.stat, libc::S_IFDIR);
        if !dir && !is_type(&l.stat, libc::S_IFREG) {
            return Err(Errno::EACCES);
        }
        let flags = libc::O_RDONLY | if dir { libc::O_DIRECTORY } else { 0 };
        let fd = openat2_one(l.parent.as_raw_fd(), &l.name, flags)?;
        let st = fstat(fd.as_raw_fd())?;
        if st.st_dev != l.stat.st_dev || st.st_ino != l.stat.st_ino {
            // Swapped under us: retry is the caller's business.
            return Err(Errno::EAGAIN);
        }
        Ok(Arc::new(HostFile {
            fd,
            name: String::from_utf8_lossy(&l.path).into_owned(),
        }))
    }
}

fn push_components(out: &mut Vec<Vec<u8>>, path: &[u8]) {
    out.extend(
        path.split(|&b| b == b'/')
            .filter(|c| !c.is_empty())
            .map(<[u8]>::to_vec),
    );
}

/// Reads the symlink behind an O_PATH descriptor.
pub fn readlink(fd: &OwnedFd) -> Result<Vec<u8>, Errno> {
    let mut buf = vec![0u8; PATH_MAX];
    // SAFETY: readlinkat on an O_PATH symlink fd with an empty path writes at most len bytes.
    let n = unsafe {
        libc::readlinkat(
            fd.as_raw_fd(),
            c"".as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    if n < 0 {
        return Err(Errno::from(std::io::Error::last_os_error()));
    }
    buf.truncate(n as usize);
    Ok(buf)
}

/// A host regular file or directory, open read-only.
#[derive(Debug)]
pub struct HostFile {
    fd: OwnedFd,
    name: String,
}

impl HostFile {
    fn pread(&self, buf: &mut [u8], off: u64) -> Result<usize, Errno> {
        // SAFETY: pread into a valid buffer of its length.
        let n = unsafe {
            libc::pread(
                self.fd.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                off as libc::off_t,
            )
        };
        if n < 0 {
            return Err(Errno::from(std::io::Error::last_os_error()));
        }
        Ok(n as usize)
    }
}

impl FileOps for HostFile {
    fn read(&self, buf: &mut [u8], off: Option<u64>) -> Result<usize, Errno> {
        self.pread(buf, off.unwrap_or(0))
    }
    fn write(&self, _data: &[u8], _off: Option<u64>) -> Result<usize, Errno> {
        Err(Errno::EBADF)
    }
    fn seekable(&self) -> bool {
        true
    }
    fn size(&self) -> Result<u64, Errno> {
        Ok(fstat(self.fd.as_raw_fd())?.st_size as u64)
    }
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat::from_host(&fstat(self.fd.as_raw_fd())?))
    }
    fn getdents(&self, buf: &mut [u8], pos: u64) -> Result<(usize, u64), Errno> {
        // SAFETY: seeking our own directory descriptor.
        if unsafe { libc::lseek(self.fd.as_raw_fd(), pos as libc::off_t, libc::SEEK_SET) } < 0 {
            return Err(Errno::from(std::io::Error::last_os_error()));
        }
        // SAFETY: getdents64 writes at most buf.len() bytes into buf.
        let n = unsafe {
            libc::syscall(
                libc::SYS_getdents64,
                self.fd.as_raw_fd(),
                buf.as_mut_ptr(),
                buf.len(),
            )
        };
        if n < 0 {
            return Err(Errno::from(std::io::Error::last_os_error()));
        }
        // SAFETY: reading back the directory position.
        let new = unsafe { libc::lseek(self.fd.as_raw_fd(), 0, libc::SEEK_CUR) };
        Ok((n as usize, new.max(0) as u64))
    }
    fn mappable(&self) -> Option<Arc<dyn MappableFile>> {
        self.fd.try_clone().ok().map(|fd| {
            Arc::new(HostFile {
                fd,
                name: self.name.clone(),
            }) as Arc<dyn MappableFile>
        })
    }
}

impl MappableFile for HostFile {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
        self.pread(buf, offset)
            .map_err(|e| std::io::Error::from_raw_os_error(e.0))
    }
    fn name(&self) -> String {
        self.name.clone()
    }
}

/// One of the host's standard streams, handed to the sandbox as its stdio.
pub struct HostStream {
    fd: OwnedFd,
}

impl HostStream {
    /// Duplicates host descriptor `fd`.
    pub fn dup(fd: RawFd) -> std::io::Result<HostStream> {
        // SAFETY: F_DUPFD_CLOEXEC on a descriptor number; failure is reported.
        let n = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
        if n < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: a fresh descriptor we own.
        let fd = unsafe { OwnedFd::from_raw_fd(n) };
        Ok(HostStream { fd })
    }
}

impl FileOps for HostStream {
    fn read(&self, buf: &mut [u8], _off: Option<u64>) -> Result<usize, Errno> {
        loop {
            // SAFETY: read into a valid buffer of its length.
            let n = unsafe { libc::read(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            if n >= 0 {
                return Ok(n as usize);
            }
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::EINTR) {
                return Err(Errno::from(e));
            }
        }
    }
    fn write(&self, data: &[u8], _off: Option<u64>) -> Result<usize, Errno> {
        loop {
            // SAFETY: write from a valid buffer of its length.
            let n = unsafe { libc::write(self.fd.as_raw_fd(), data.as_ptr().cast(), data.len()) };
            if n >= 0 {
                return Ok(n as usize);
            }
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::EINTR) {
                return Err(Errno::from(e));
            }
        }
    }
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat::from_host(&fstat(self.fd.as_raw_fd())?))
    }
    fn poll_ready(&self) -> u16 {
        let mut p = libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLIN | libc::POLLOUT,
            revents: 0,
        };
        // SAFETY: one valid pollfd, no waiting.
        unsafe { libc::poll(&mut p, 1, 0) };
        p.revents as u16
    }
    fn ioctl(&self, req: u64, _arg: u64) -> Result<super::file::IoctlReply, Errno> {
        // Read-only terminal queries pass through: TCGETS and TIOCGWINSZ.
        let size = match req {
            0x5401 => 60,
            0x5413 => 8,
            _ => return Err(Errno::ENOTTY),
        };
        let mut out = vec![0u8; size];
        // SAFETY: both requests write at most `size` bytes into `out`.
        let r = unsafe { libc::ioctl(self.fd.as_raw_fd(), req as _, out.as_mut_ptr()) };
        if r < 0 {
            return Err(Errno::from(std::io::Error::last_os_error()));
        }
        Ok(super::file::IoctlReply { ret: 0, out })
    }
}
