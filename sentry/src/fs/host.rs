//! The container's root, reached only through the gofer (a separate, confined process):
//! the Sentry walks paths one batch of components at a time, gets symlinks back as
//! symlinks and follows them itself, so the host never follows one for the application and
//! `..` never leaves the root. Opened files come back as host descriptors the gofer
//! donates; only regular files and directories are opened for I/O.
//!
//! How the root takes changes is its [`RootMode`]: by default they stay in the Sentry (the
//! overlay, `fs::overlay`); in write-through mode (`rvisor do --overlay=none`) they are
//! asked of a writable gofer (`host_write`) and files opened for writing are written by the
//! Sentry through the descriptors the gofer donates.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::Arc;

use gofer::protocol::{NodeId, ROOT};
use gofer::Client;

use super::file::{FileOps, Stat};
use crate::errno::Errno;
use crate::mm::MappableFile;

/// Symlinks followed in one lookup, as Linux's MAXSYMLINKS.
const MAX_SYMLINKS: u32 = 40;
/// Top-level host directories the sandbox never sees (the Sentry serves its own).
const HIDDEN: [&[u8]; 2] = [b"proc", b"sys"];
/// Longest path accepted.
pub const PATH_MAX: usize = 4096;

/// Nodes released but not yet closed at the gofer: they go in one request per batch.
const CLOSE_BATCH: usize = 64;

/// Where changes to the root filesystem go.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RootMode {
    /// A tmpfs upper layer over the gofer's read-only root: nothing reaches the host.
    #[default]
    Overlay,
    /// Through a writable gofer to the host (`--overlay=none`).
    WriteThrough,
}

/// The root directory the sandbox sees, served by a gofer.
#[derive(Debug)]
pub struct HostRoot {
    pub(super) client: Arc<Client>,
    /// Nodes to close with the next batch.
    pub(super) unused: Arc<std::sync::Mutex<Vec<NodeId>>>,
    mode: RootMode,
    /// Directories (absolute, normalized) whose changes go to the host even over an
    /// overlay: a container's bind mounts (volumes).
    through: Arc<Vec<Vec<u8>>>,
    /// The sandbox's user namespace mappings, for the owners of the descriptors the gofer
    /// donates (the gofer applies the same to what it reports).
    ids: Arc<gofer::IdMaps>,
}

/// What [`HostRoot::walk_run`] found.
#[derive(Default)]
pub struct LowerRun {
    /// The status of each component resolved.
    pub stats: Vec<libc::stat>,
    /// The target of the last one, when it is a symlink.
    pub link: Option<Vec<u8>>,
    /// Why the walk stopped before the end, if it did.
    pub error: Option<Errno>,
    /// The last component, held, when every component was resolved.
    pub last: Option<Lookup>,
}

/// Where a lookup ended: a gofer node, held until this is dropped.
pub struct Lookup {
    pub(super) node: NodeId,
    client: Arc<Client>,
    unused: Arc<std::sync::Mutex<Vec<NodeId>>>,
    /// Its status.
    pub stat: libc::stat,
    /// Its absolute path inside the sandbox.
    pub path: Vec<u8>,
}

impl Drop for Lookup {
    fn drop(&mut self) {
        release(&self.client, &self.unused, &[self.node]);
    }
}

/// Queues `nodes` for closing; sends the batch once it is full.
pub(super) fn release(client: &Client, unused: &std::sync::Mutex<Vec<NodeId>>, nodes: &[NodeId]) {
    let batch = {
        let mut u = unused.lock().unwrap_or_else(|e| e.into_inner());
        u.extend(nodes.iter().filter(|&&n| n != ROOT));
        if u.len() < CLOSE_BATCH {
            return;
        }
        std::mem::take(&mut *u)
    };
    let _ = client.close(&batch);
}

pub(super) fn gofer_errno(e: gofer::Error) -> Errno {
    Errno(e.errno())
}

/// A gofer status as `struct stat`.
pub(super) fn host_stat(g: &gofer::protocol::Stat) -> libc::stat {
    // SAFETY: stat is plain data; all zeros is a valid value.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    st.st_dev = g.dev;
    st.st_ino = g.ino;
    st.st_nlink = g.nlink;
    st.st_mode = g.mode;
    st.st_uid = g.uid;
    st.st_gid = g.gid;
    st.st_rdev = g.rdev;
    st.st_size = g.size;
    st.st_blksize = g.blksize;
    st.st_blocks = g.blocks;
    st.st_atime = g.atime.sec;
    st.st_atime_nsec = i64::from(g.atime.nsec);
    st.st_mtime = g.mtime.sec;
    st.st_mtime_nsec = i64::from(g.mtime.nsec);
    st.st_ctime = g.ctime.sec;
    st.st_ctime_nsec = i64::from(g.ctime.nsec);
    st
}

/// The status of host descriptor `fd`, with its owner and group as host ids.
fn fstat(fd: RawFd) -> Result<libc::stat, Errno> {
    // SAFETY: stat is plain data; fstat fills it.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: valid descriptor and pointer.
    if unsafe { libc::fstat(fd, &mut st) } < 0 {
        return Err(Errno::from(std::io::Error::last_os_error()));
    }
    Ok(st)
}

/// The status of host descriptor `fd` as the sandbox sees it: its owner and group as the
/// sandbox's ids under `ids`.
fn sandbox_stat(fd: RawFd, ids: &gofer::IdMaps) -> Result<Stat, Errno> {
    let mut st = fstat(fd)?;
    (st.st_uid, st.st_gid) = ids.from_host(st.st_uid, st.st_gid);
    Ok(Stat::from_host(&st))
}

fn is_type(st: &libc::stat, t: u32) -> bool {
    st.st_mode & libc::S_IFMT == t
}

impl HostRoot {
    /// The root a gofer serves on `sock` (one end of a SOCK_SEQPACKET pair).
    pub fn connect(sock: OwnedFd) -> HostRoot {
        HostRoot {
            client: Arc::new(Client::new(sock)),
            unused: Arc::default(),
            mode: RootMode::Overlay,
            through: Arc::default(),
            ids: Arc::default(),
        }
    }

    /// The same root, in a sandbox with the user namespace mappings `ids`.
    pub fn with_ids(self, ids: gofer::IdMaps) -> HostRoot {
        HostRoot {
            ids: Arc::new(ids),
            ..self
        }
    }

    /// The sandbox's user namespace mappings.
    pub fn ids(&self) -> &Arc<gofer::IdMaps> {
        &self.ids
    }

    /// The same root, with changes under `dirs` written through to the host (the gofer
    /// must be writable).
    pub fn with_write_through(self, dirs: Vec<Vec<u8>>) -> HostRoot {
        HostRoot {
            through: Arc::new(dirs),
            ..self
        }
    }

    /// Whether a change at `abs` (a path of the root) goes to the host.
    pub fn write_through_at(&self, abs: &[u8]) -> bool {
        if self.mode == RootMode::WriteThrough {
            return true;
        }
        if self.through.is_empty() {
            return false;
        }
        let n = crate::fs::vfs::normalize(b"/", abs);
        let n = n.strip_suffix(b"/").filter(|s| !s.is_empty()).unwrap_or(&n);
        self.through
            .iter()
            .any(|d| n == &d[..] || (n.starts_with(d) && n.get(d.len()) == Some(&b'/')))
    }

    /// The same root, taking changes as `mode` says (the gofer must be writable for
    /// [`RootMode::WriteThrough`], else every change is EROFS).
    pub fn with_mode(self, mode: RootMode) -> HostRoot {
        HostRoot { mode, ..self }
    }

    /// Where changes go.
    pub fn mode(&self) -> RootMode {
        self.mode
    }

    /// Whether changes go through the gofer to the host.
    pub fn write_through(&self) -> bool {
        self.mode == RootMode::WriteThrough
    }

    /// Resolves `path` (relative paths against the absolute `cwd`).
    pub fn lookup(&self, cwd: &[u8], path: &[u8], follow_last: bool) -> Result<Lookup, Errno> {
        let mut held = Vec::new();
        let r = self.walk(cwd, path, follow_last, &mut held);
        // Every node but the one handed out goes back to the gofer.
        let keep = r.as_ref().map_or(ROOT, |l| l.node);
        held.retain(|&n| n != ROOT && n != keep);
        release(&self.client, &self.unused, &held);
        r
    }

    fn walk(
        &self,
        cwd: &[u8],
        path: &[u8],
        follow_last: bool,
        held: &mut Vec<NodeId>,
    ) -> Result<Lookup, Errno> {
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
        // The directories walked, with their stats: stack[0] is the root.
        // The root's status is asked for only when the path ends there.
        // SAFETY: stat is plain data; all zeros is a valid value.
        let unknown: libc::stat = unsafe { std::mem::zeroed() };
        let mut stack: Vec<(NodeId, Vec<u8>, libc::stat)> = vec![(ROOT, Vec::new(), unknown)];
        let mut links = 0;
        pending.reverse();
        while let Some(comp) = pending.pop() {
            if comp == b"." {
                continue;
            }
            if comp == b".." {
                if stack.len() > 1 {
                    stack.pop();
                }
                continue;
            }
            // A batch of plain components, walked in one request.
            let mut batch = vec![comp];
            while let Some(c) = pending.last() {
                if c == b"." || c == b".." || batch.len() >= 64 {
                    break;
                }
                batch.push(pending.pop().unwrap_or_default());
            }
            for c in &batch {
                if c.len() > 255 {
                    return Err(Errno::ENAMETOOLONG);
                }
            }
            // The host's /proc and /sys describe the host: never shown to the sandbox.
            if stack.len() == 1 && HIDDEN.contains(&batch[0].as_slice()) {
                return Err(Errno::ENOENT);
            }
            let dir = stack.last().map_or(ROOT, |d| d.0);
            let names: Vec<&[u8]> = batch.iter().map(Vec::as_slice).collect();
            let w = self.client.walk(dir, &names).map_err(gofer_errno)?;
            held.extend(w.entries.iter().map(|(n, _)| *n));
            for (i, (node, gst)) in w.entries.iter().enumerate() {
                let st = host_stat(gst);
                let name = &batch[i];
                let last = pending.is_empty() && i + 1 == batch.len();
                if gst.is_symlink() && (!last || follow_last || trailing_slash) {
                    links += 1;
                    if links > MAX_SYMLINKS {
                        return Err(Errno::ELOOP);
                    }
                    let target = self.client.readlink(*node).map_err(gofer_errno)?;
                    // The rest of this batch comes after the link's target.
                    for c in batch[i + 1..].iter().rev() {
                        pending.push(c.clone());
                    }
                    let mut comps = Vec::new();
                    push_components(&mut comps, &target);
                    for c in comps.into_iter().rev() {
                        pending.push(c);
                    }
                    if target.first() == Some(&b'/') {
                        stack.truncate(1);
                    }
                    break;
                }
                let mut p = stack.last().map(|d| d.1.clone()).unwrap_or_default();
                p.push(b'/');
                p.extend_from_slice(name);
                if last {
                    if trailing_slash && !is_type(&st, libc::S_IFDIR) {
                        return Err(Errno::ENOTDIR);
                    }
                    return Ok(Lookup {
                        node: *node,
                        client: self.client.clone(),
                        unused: self.unused.clone(),
                        stat: st,
                        path: p,
                    });
                }
                if !is_type(&st, libc::S_IFDIR) {
                    return Err(Errno::ENOTDIR);
                }
                stack.push((*node, p, st));
                if i + 1 == w.entries.len() && w.entries.len() < batch.len() {
                    // The gofer stopped early: why.
                    return Err(w.error.map_or(Errno::ENOENT, |e| Errno(e.0)));
                }
            }
            if w.entries.is_empty() {
                return Err(w.error.map_or(Errno::ENOENT, |e| Errno(e.0)));
            }
        }
        // The path named a directory we walked into (or the root).
        let (node, p, st) = stack.pop().ok_or(Errno::ENOENT)?;
        let st = if node == ROOT {
            host_stat(&self.client.stat(ROOT).map_err(gofer_errno)?)
        } else {
            st
        };
        let path = if p.is_empty() { b"/".to_vec() } else { p };
        Ok(Lookup {
            node,
            client: self.client.clone(),
            unused: self.unused.clone(),
            stat: st,
            path,
        })
    }

    /// Walks the plain components `comps` (no "." or "..") from the root without following
    /// any symlink: the status of each component resolved, in order, stopping after a
    /// symlink (whose target is returned) or before the component that failed (and why).
    pub fn walk_run(&self, comps: &[Vec<u8>]) -> Result<LowerRun, Errno> {
        let mut run = LowerRun::default();
        if comps.is_empty() {
            return Ok(run);
        }
        if HIDDEN.contains(&comps[0].as_slice()) {
            run.error = Some(Errno::ENOENT);
            return Ok(run);
        }
        for c in comps {
            if c.len() > 255 {
                return Err(Errno::ENAMETOOLONG);
            }
        }
        let mut held = Vec::new();
        let mut dir = ROOT;
        let mut done = 0;
        let r = (|| {
            while done < comps.len() {
                let batch: Vec<&[u8]> = comps[done..comps.len().min(done + 64)]
                    .iter()
                    .map(Vec::as_slice)
                    .collect();
                // A walk whose first component fails is answered with that errno.
                let w = match self.client.walk(dir, &batch) {
                    Ok(w) => w,
                    Err(gofer::Error::Errno(e)) => {
                        run.error = Some(Errno(e.0));
                        return Ok(());
                    }
                    Err(e) => return Err(gofer_errno(e)),
                };
                held.extend(w.entries.iter().map(|(n, _)| *n));
                for (node, gst) in &w.entries {
                    run.stats.push(host_stat(gst));
                    done += 1;
                    if gst.is_symlink() {
                        run.link = Some(self.client.readlink(*node).map_err(gofer_errno)?);
                        return Ok(());
                    }
                    dir = *node;
                }
                if w.entries.len() < batch.len() {
                    run.error = Some(w.error.map_or(Errno::ENOENT, |e| Errno(e.0)));
                    return Ok(());
                }
            }
            Ok(())
        })();
        if r.is_ok() && run.error.is_none() && run.stats.len() == comps.len() {
            if let (Some(&node), Some(&stat)) = (held.last(), run.stats.last()) {
                held.pop();
                let mut path = Vec::new();
                for c in comps {
                    path.push(b'/');
                    path.extend_from_slice(c);
                }
                run.last = Some(Lookup {
                    node,
                    client: self.client.clone(),
                    unused: self.unused.clone(),
                    stat,
                    path,
                });
            }
        }
        release(&self.client, &self.unused, &held);
        r.map(|()| run)
    }

    /// Opens what `l` names for reading (regular files and directories only).
    pub fn open_file(&self, l: &Lookup) -> Result<Arc<HostFile>, Errno> {
        self.open_file_as(l, libc::O_RDONLY)
    }

    /// Opens what `l` names with `flags` (`O_ACCMODE` and the gofer's `OPEN_FLAGS`; a
    /// directory only for reading): regular files and directories only.
    pub fn open_file_as(&self, l: &Lookup, flags: i32) -> Result<Arc<HostFile>, Errno> {
        let dir = is_type(&l.stat, libc::S_IFDIR);
        if !dir && !is_type(&l.stat, libc::S_IFREG) {
            return Err(Errno::EACCES);
        }
        let flags = flags | if dir { libc::O_DIRECTORY } else { 0 };
        let fd = self.client.open(l.node, flags).map_err(gofer_errno)?;
        let st = fstat(fd.as_raw_fd())?;
        if st.st_dev != l.stat.st_dev || st.st_ino != l.stat.st_ino {
            // Swapped under us: retry is the caller's business.
            return Err(Errno::EAGAIN);
        }
        Ok(Arc::new(HostFile::new(fd, &l.path, self.ids.clone())))
    }

    /// The target of the symlink `l` names.
    pub fn readlink(&self, l: &Lookup) -> Result<Vec<u8>, Errno> {
        if !is_type(&l.stat, libc::S_IFLNK) {
            return Err(Errno::EINVAL);
        }
        self.client.readlink(l.node).map_err(gofer_errno)
    }
}

fn push_components(out: &mut Vec<Vec<u8>>, path: &[u8]) {
    out.extend(
        path.split(|&b| b == b'/')
            .filter(|c| !c.is_empty())
            .map(<[u8]>::to_vec),
    );
}

/// A host regular file or directory, opened by the gofer (for writing only in
/// write-through mode; the host refuses a write on a descriptor opened read-only).
#[derive(Debug)]
pub struct HostFile {
    fd: OwnedFd,
    name: String,
    /// The sandbox's user namespace mappings, for its owner.
    ids: Arc<gofer::IdMaps>,
}

fn last_errno() -> Errno {
    Errno::from(std::io::Error::last_os_error())
}

impl HostFile {
    /// The file open as `fd`, found at `path`, in a sandbox with the mappings `ids`.
    pub(super) fn new(fd: OwnedFd, path: &[u8], ids: Arc<gofer::IdMaps>) -> HostFile {
        HostFile {
            fd,
            name: String::from_utf8_lossy(path).into_owned(),
            ids,
        }
    }

    fn pwrite(&self, data: &[u8], off: u64) -> Result<usize, Errno> {
        let off = libc::off_t::try_from(off).map_err(|_| Errno::EFBIG)?;
        loop {
            // SAFETY: pwrite from a valid buffer of its length.
            let n =
                unsafe { libc::pwrite(self.fd.as_raw_fd(), data.as_ptr().cast(), data.len(), off) };
            if n >= 0 {
                return Ok(n as usize);
            }
            let e = last_errno();
            if e != Errno::EINTR {
                return Err(e);
            }
        }
    }

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
    fn write(&self, data: &[u8], off: Option<u64>) -> Result<usize, Errno> {
        self.pwrite(data, off.unwrap_or(0))
    }
    fn seekable(&self) -> bool {
        true
    }
    fn size(&self) -> Result<u64, Errno> {
        Ok(fstat(self.fd.as_raw_fd())?.st_size as u64)
    }
    fn truncate(&self, len: u64) -> Result<(), Errno> {
        let len = libc::off_t::try_from(len).map_err(|_| Errno::EFBIG)?;
        // SAFETY: ftruncate of our own descriptor (EINVAL/EBADF unless open for writing).
        if unsafe { libc::ftruncate(self.fd.as_raw_fd(), len) } < 0 {
            return Err(match last_errno() {
                Errno::EBADF => Errno::EINVAL,
                e => e,
            });
        }
        Ok(())
    }
    fn fallocate(&self, mode: u32, off: u64, len: u64) -> Result<(), Errno> {
        let off = libc::off_t::try_from(off).map_err(|_| Errno::EFBIG)?;
        let len = libc::off_t::try_from(len).map_err(|_| Errno::EFBIG)?;
        // SAFETY: fallocate on our own descriptor; the host checks mode and range.
        if unsafe { libc::fallocate(self.fd.as_raw_fd(), mode as i32, off, len) } < 0 {
            return Err(last_errno());
        }
        Ok(())
    }
    fn sync(&self, data_only: bool) -> Result<(), Errno> {
        // SAFETY: fsync/fdatasync of our own descriptor.
        let r = unsafe {
            if data_only {
                libc::fdatasync(self.fd.as_raw_fd())
            } else {
                libc::fsync(self.fd.as_raw_fd())
            }
        };
        if r < 0 {
            return Err(last_errno());
        }
        Ok(())
    }
    fn stat(&self) -> Result<Stat, Errno> {
        sandbox_stat(self.fd.as_raw_fd(), &self.ids)
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
                ids: self.ids.clone(),
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
    /// The sandbox's user namespace mappings, for its owner.
    ids: Arc<gofer::IdMaps>,
}

impl HostStream {
    /// A stream over a host descriptor the caller hands over, in a sandbox with the
    /// mappings `ids`.
    pub fn new(fd: OwnedFd, ids: Arc<gofer::IdMaps>) -> HostStream {
        HostStream { fd, ids }
    }

    /// Duplicates host descriptor `fd`, for a sandbox with the mappings `ids`.
    pub fn dup(fd: RawFd, ids: Arc<gofer::IdMaps>) -> std::io::Result<HostStream> {
        // SAFETY: F_DUPFD_CLOEXEC on a descriptor number; failure is reported.
        let n = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
        if n < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: a fresh descriptor we own.
        let fd = unsafe { OwnedFd::from_raw_fd(n) };
        Ok(HostStream { fd, ids })
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
        sandbox_stat(self.fd.as_raw_fd(), &self.ids)
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
