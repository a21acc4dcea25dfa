//! Open directories of the overlay root that the lower layer has (whether or not the upper
//! layer has them too): their getdents merges both layers, live, with cursors that stay good
//! whatever is created, removed or copied up meanwhile.
//!
//! Cursors. The lower layer never changes under the sandbox, so its entries are listed once
//! per open directory (on first use) and numbered: cursor `2 + i` is the lower entry `i`.
//! The upper layer is a tmpfs directory whose entries carry cookies that never change
//! (`fs::tmpfs`): cursor `UPPER + c` is the upper entry of cookie `c` or the next one. 0 and
//! 1 are "." and "..". A listing runs through the lower part, then the upper part.
//!
//! Which part shows a name is decided once for the open directory, by the lower listing: a
//! name the lower layer has is shown in the lower part (with the upper layer's inode and type
//! once it is copied up or made again there, and not at all while it is whited out); every
//! other name in the upper part. A copy-up or a whiteout never moves a name from one part to
//! the other, so no name is seen twice and no name that stays is missed; a name removed and
//! made again may be seen again, which POSIX allows. Entries made after the cursor passed
//! their place are not seen, also as POSIX allows; after a rewind everything is.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use super::file::{put_dirent, FileOps, Stat, DIRENT_HEADER};
use super::overlay::Hidden;
use super::perm::Creds;
use super::tmpfs::{Resolution, Tmpfs};
use crate::errno::Errno;

/// Cursor of the first upper entry (plus its cookie): far above any lower listing.
const UPPER: u64 = 1 << 62;
/// First cookie of a tmpfs directory entry (0 and 1 are "." and "..").
const FIRST_COOKIE: u64 = 2;

/// One record of a `linux_dirent64` buffer.
struct Dirent {
    ino: u64,
    /// The cursor just past it.
    off: u64,
    dtype: u8,
    name: Vec<u8>,
}

/// The records of a `linux_dirent64` buffer.
fn parse(buf: &[u8]) -> Vec<Dirent> {
    let mut out = Vec::new();
    let mut i = 0;
    while i + DIRENT_HEADER <= buf.len() {
        let u64_at = |o: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&buf[o..o + 8]);
            u64::from_le_bytes(b)
        };
        let reclen = u16::from_le_bytes([buf[i + 16], buf[i + 17]]) as usize;
        if reclen < DIRENT_HEADER || i + reclen > buf.len() {
            break;
        }
        let name = &buf[i + DIRENT_HEADER..i + reclen];
        let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
        out.push(Dirent {
            ino: u64_at(i),
            off: u64_at(i + 8),
            dtype: buf[i + 18],
            name: name.to_vec(),
        });
        i += reclen;
    }
    out
}

/// Every record of directory `dir` from cursor `pos` on.
fn read_from(dir: &dyn FileOps, mut pos: u64) -> Result<Vec<Dirent>, Errno> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        let (n, next) = dir.getdents(&mut buf, pos)?;
        if n == 0 {
            return Ok(out);
        }
        out.extend(parse(&buf[..n]));
        pos = next;
    }
}

/// `dir/name`.
fn child(dir: &[u8], name: &[u8]) -> Vec<u8> {
    let mut p = dir.to_vec();
    if p.last() != Some(&b'/') {
        p.push(b'/');
    }
    p.extend_from_slice(name);
    p
}

/// A getdents buffer being filled, and the cursor past what it holds.
struct Out<'a> {
    buf: &'a mut [u8],
    used: usize,
    /// A record did not fit: nothing more goes in.
    full: bool,
    pos: u64,
}

impl Out<'_> {
    /// Adds a record whose cursor past it is `off`.
    fn put(&mut self, ino: u64, off: u64, dtype: u8, name: &[u8]) {
        if !self.full && put_dirent(self.buf, &mut self.used, ino, off, dtype, name) {
            self.pos = off;
        } else {
            self.full = true;
        }
    }
}

/// The lower layer's entries, as first listed.
struct Lower {
    entries: Vec<Dirent>,
    names: HashSet<Vec<u8>>,
    /// The inode of "..".
    parent_ino: Option<u64>,
}

struct State {
    lower: Option<Arc<Lower>>,
    /// The upper layer's directory, once it exists (held: a rename or removal of the
    /// directory is seen by the tmpfs inode).
    upper: Option<Arc<dyn FileOps>>,
}

/// An open directory of the overlay root that the lower layer has.
pub struct MergedDir {
    upper_fs: Arc<Tmpfs>,
    hidden: Arc<Mutex<Hidden>>,
    /// Absolute physical path.
    path: Vec<u8>,
    /// The lower layer's directory, open.
    lower_dir: Arc<dyn FileOps>,
    /// Status when opened (used until the upper layer has the directory).
    stat: Stat,
    state: Mutex<State>,
}

impl MergedDir {
    /// The directory `path` of the overlay whose upper layer is `upper_fs`, hiding what
    /// `hidden` says, over the open lower directory `lower_dir`; `stat` is its status now.
    pub(super) fn new(
        upper_fs: Arc<Tmpfs>,
        hidden: Arc<Mutex<Hidden>>,
        path: Vec<u8>,
        lower_dir: Arc<dyn FileOps>,
        stat: Stat,
    ) -> MergedDir {
        MergedDir {
            upper_fs,
            hidden,
            path,
            lower_dir,
            stat,
            state: Mutex::new(State {
                lower: None,
                upper: None,
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn hidden(&self) -> MutexGuard<'_, Hidden> {
        self.hidden.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The upper layer's directory, opened when it appears there; ENOENT when the directory
    /// was removed (and perhaps made again: another directory).
    fn upper_dir(&self, st: &mut State) -> Result<Option<Arc<dyn FileOps>>, Errno> {
        if let Some(u) = &st.upper {
            return Ok(Some(u.clone()));
        }
        {
            let h = self.hidden();
            if h.whited_out_at(&self.path) || h.opaque_at(&self.path) {
                return Err(Errno::ENOENT);
            }
        }
        let up = self.path.strip_prefix(b"/").unwrap_or(&self.path);
        let flags = (libc::O_RDONLY | libc::O_DIRECTORY) as u32;
        match self.upper_fs.open(up, flags, 0, &Creds::ROOT) {
            Ok(Resolution::Done(d)) => {
                st.upper = Some(d.clone());
                Ok(Some(d))
            }
            _ => Ok(None),
        }
    }

    /// The lower listing, made on first use.
    fn lower(&self, st: &mut State) -> Result<Arc<Lower>, Errno> {
        if let Some(l) = &st.lower {
            return Ok(l.clone());
        }
        let mut entries = read_from(self.lower_dir.as_ref(), 0)?;
        let parent_ino = entries.iter().find(|d| d.name == b"..").map(|d| d.ino);
        entries.retain(|d| d.name != b"." && d.name != b"..");
        let names = entries.iter().map(|d| d.name.clone()).collect();
        let l = Arc::new(Lower {
            entries,
            names,
            parent_ino,
        });
        st.lower = Some(l.clone());
        Ok(l)
    }
}

impl FileOps for MergedDir {
    fn read(&self, _buf: &mut [u8], _off: Option<u64>) -> Result<usize, Errno> {
        Err(Errno::EISDIR)
    }

    fn write(&self, _data: &[u8], _off: Option<u64>) -> Result<usize, Errno> {
        Err(Errno::EISDIR)
    }

    fn seekable(&self) -> bool {
        true
    }

    fn size(&self) -> Result<u64, Errno> {
        Ok(self.stat()?.size.max(0) as u64)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        match self.upper_dir(&mut self.state()) {
            Ok(Some(u)) => u.stat(),
            _ => Ok(self.stat),
        }
    }

    fn getdents(&self, buf: &mut [u8], pos: u64) -> Result<(usize, u64), Errno> {
        let (lower, upper) = {
            let mut st = self.state();
            (self.lower(&mut st)?, self.upper_dir(&mut st)?)
        };
        let up_entries = match &upper {
            Some(u) => read_from(u.as_ref(), FIRST_COOKIE)?,
            None => Vec::new(),
        };
        let ino = upper.as_ref().map_or(Ok(self.stat), |u| u.stat())?.ino;
        let mut out = Out {
            buf,
            used: 0,
            full: false,
            pos,
        };
        if out.pos == 0 {
            out.put(ino, 1, libc::DT_DIR, b".");
        }
        if out.pos == 1 {
            out.put(lower.parent_ino.unwrap_or(ino), 2, libc::DT_DIR, b"..");
        }
        let lower_end = 2 + lower.entries.len() as u64;
        if (2..lower_end).contains(&out.pos) {
            let copied: HashMap<&[u8], &Dirent> = up_entries
                .iter()
                .filter(|d| lower.names.contains(&d.name))
                .map(|d| (d.name.as_slice(), d))
                .collect();
            let h = self.hidden();
            let skip = (out.pos - 2) as usize;
            for (i, d) in lower.entries.iter().enumerate().skip(skip) {
                let next = 2 + i as u64 + 1;
                match copied.get(d.name.as_slice()) {
                    Some(u) => out.put(u.ino, next, u.dtype, &d.name),
                    None if h.whiteouts.contains(&child(&self.path, &d.name)) => out.pos = next,
                    None => out.put(d.ino, next, d.dtype, &d.name),
                }
                if out.full {
                    break;
                }
            }
        }
        if out.pos >= lower_end && !out.full {
            let from = out.pos.saturating_sub(UPPER).max(FIRST_COOKIE);
            for d in up_entries.iter().filter(|d| d.off > from) {
                let next = UPPER + d.off;
                if lower.names.contains(&d.name) {
                    out.pos = next;
                } else {
                    out.put(d.ino, next, d.dtype, &d.name);
                }
                if out.full {
                    break;
                }
            }
        }
        if out.full && out.used == 0 {
            return Err(Errno::EINVAL);
        }
        Ok((out.used, out.pos))
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}
