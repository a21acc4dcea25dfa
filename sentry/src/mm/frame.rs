//! Pages of the memory file owned by the Sentry, reference counted: a private page shared
//! after fork is copied on the first write (copy-on-write is a Sentry matter).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use platform::{FileRange, MemoryFile, PAGE_SIZE};

use crate::errno::Errno;

/// One page of the memory file; freed when the last reference goes.
#[derive(Debug)]
pub struct Frame {
    mf: Arc<MemoryFile>,
    range: FileRange,
}

impl Frame {
    /// A new zero-filled page.
    pub fn zeroed(mf: &Arc<MemoryFile>) -> Result<Arc<Frame>, Errno> {
        let range = mf.allocate(PAGE_SIZE).map_err(|_| Errno::ENOMEM)?;
        Ok(Arc::new(Frame {
            mf: mf.clone(),
            range,
        }))
    }

    /// A new page holding a copy of `self`.
    pub fn copy(&self) -> Result<Arc<Frame>, Errno> {
        let f = Frame::zeroed(&self.mf)?;
        let mut buf = vec![0u8; PAGE_SIZE as usize];
        self.mf
            .read(self.range.offset, &mut buf)
            .map_err(|_| Errno::EFAULT)?;
        self.mf
            .write(f.range.offset, &buf)
            .map_err(|_| Errno::EFAULT)?;
        Ok(f)
    }

    /// Offset in the memory file.
    pub fn offset(&self) -> u64 {
        self.range.offset
    }

    /// Stores `value` at the 8-byte aligned offset `at` within the page, atomically.
    pub fn store_u64(&self, at: u64, value: u64) -> Result<(), Errno> {
        if at >= PAGE_SIZE {
            return Err(Errno::EINVAL);
        }
        self.mf
            .store_u64(self.range.offset + at, value)
            .map_err(|_| Errno::EINVAL)
    }
}

impl Drop for Frame {
    fn drop(&mut self) {
        self.mf.free(self.range);
    }
}

/// A page allowance shared by several objects (one tmpfs): pages in use and the most
/// allowed.
#[derive(Debug)]
struct Budget {
    used: Arc<AtomicU64>,
    max: u64,
}

impl Budget {
    /// Takes one page; false when all are in use.
    fn charge(&self) -> bool {
        self.used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |u| {
                (u < self.max).then_some(u + 1)
            })
            .is_ok()
    }

    fn release(&self, pages: u64) {
        self.used.fetch_sub(pages, Ordering::Relaxed);
    }
}

/// Pages shared by every mapping of one object (MAP_SHARED anonymous memory, tmpfs files
/// and memfds), indexed by page number in the object. Pages absent read as zeros.
///
/// The object knows nothing of a size: its owner (a tmpfs file) keeps one and cuts pages
/// past it with [`SharedObject::truncate`].
#[derive(Debug, Default)]
pub struct SharedObject {
    pages: RwLock<BTreeMap<u64, Arc<Frame>>>,
    /// Address spaces that map this object (to drop their mappings past a new end of file).
    mappers: std::sync::Mutex<Vec<std::sync::Weak<std::sync::Mutex<super::MemoryManager>>>>,
    /// Pages count against this, if any (ENOSPC when it is used up).
    budget: Option<Budget>,
}

/// Splits the byte range `[off, off + len)` into per-page pieces: (page index, offset in
/// the page, length, offset in the range).
fn pieces(off: u64, len: usize) -> impl Iterator<Item = (u64, u64, usize, usize)> {
    let mut done = 0usize;
    std::iter::from_fn(move || {
        if done >= len {
            return None;
        }
        let pos = off + done as u64;
        let in_page = pos % PAGE_SIZE;
        let n = ((PAGE_SIZE - in_page) as usize).min(len - done);
        let piece = (pos / PAGE_SIZE, in_page, n, done);
        done += n;
        Some(piece)
    })
}

impl SharedObject {
    /// An empty object whose pages are charged to `used` (a count of pages shared with
    /// other objects), which may not exceed `max_pages`.
    pub fn with_budget(used: Arc<AtomicU64>, max_pages: u64) -> SharedObject {
        SharedObject {
            pages: RwLock::default(),
            mappers: Default::default(),
            budget: Some(Budget {
                used,
                max: max_pages,
            }),
        }
    }

    fn table(&self) -> RwLockReadGuard<'_, BTreeMap<u64, Arc<Frame>>> {
        self.pages.read().unwrap_or_else(|e| e.into_inner())
    }

    fn table_mut(&self) -> RwLockWriteGuard<'_, BTreeMap<u64, Arc<Frame>>> {
        self.pages.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the page at `index` exists.
    pub fn has_page(&self, index: u64) -> bool {
        self.table().contains_key(&index)
    }

    /// The page at `index`, created zero-filled on first use. ENOSPC when the budget is
    /// used up, ENOMEM when the memory file is.
    pub fn page(&self, mf: &Arc<MemoryFile>, index: u64) -> Result<Arc<Frame>, Errno> {
        if let Some(f) = self.table().get(&index) {
            return Ok(f.clone());
        }
        let mut p = self.table_mut();
        self.get_or_create(&mut p, mf, index)
    }

    fn get_or_create(
        &self,
        p: &mut BTreeMap<u64, Arc<Frame>>,
        mf: &Arc<MemoryFile>,
        index: u64,
    ) -> Result<Arc<Frame>, Errno> {
        if let Some(f) = p.get(&index) {
            return Ok(f.clone());
        }
        if let Some(b) = &self.budget {
            if !b.charge() {
                return Err(Errno::ENOSPC);
            }
        }
        let f = match Frame::zeroed(mf) {
            Ok(f) => f,
            Err(e) => {
                if let Some(b) = &self.budget {
                    b.release(1);
                }
                return Err(e);
            }
        };
        p.insert(index, f.clone());
        Ok(f)
    }

    /// Copies `buf.len()` bytes at byte `off` of the object into `buf`; absent pages read
    /// as zeros (and stay absent).
    pub fn read(&self, off: u64, buf: &mut [u8]) -> Result<(), Errno> {
        off.checked_add(buf.len() as u64).ok_or(Errno::EFBIG)?;
        let p = self.table();
        for (index, in_page, n, at) in pieces(off, buf.len()) {
            let dst = &mut buf[at..at + n];
            match p.get(&index) {
                Some(f) => {
                    f.mf.read(f.offset() + in_page, dst)
                        .map_err(|_| Errno::EFAULT)?
                }
                None => dst.fill(0),
            }
        }
        Ok(())
    }

    /// Copies `data` to byte `off` of the object, creating pages as needed. Returns the
    /// bytes written: short when pages run out (the budget, or the memory file) after some
    /// were written; the error (ENOSPC, ENOMEM) if none were.
    pub fn write(&self, mf: &Arc<MemoryFile>, off: u64, data: &[u8]) -> Result<usize, Errno> {
        off.checked_add(data.len() as u64).ok_or(Errno::EFBIG)?;
        let mut p = self.table_mut();
        let mut written = 0;
        for (index, in_page, n, at) in pieces(off, data.len()) {
            let f = match self.get_or_create(&mut p, mf, index) {
                Ok(f) => f,
                Err(_) if written > 0 => break,
                Err(e) => return Err(e),
            };
            f.mf.write(f.offset() + in_page, &data[at..at + n])
                .map_err(|_| Errno::EFAULT)?;
            written += n;
        }
        Ok(written)
    }

    /// Cuts the object to `len` bytes: pages wholly past it are dropped (their memory is
    /// freed once no one else holds them) and the rest of the last partial page is zeroed,
    /// so that bytes past `len` read as zeros if the owner grows again.
    /// Records that `mm` maps this object.
    pub fn add_mapper(&self, mm: &Arc<std::sync::Mutex<super::MemoryManager>>) {
        let mut m = self.mappers.lock().unwrap_or_else(|e| e.into_inner());
        m.retain(|w| w.strong_count() > 0);
        if !m.iter().any(|w| std::ptr::eq(w.as_ptr(), Arc::as_ptr(mm))) {
            m.push(Arc::downgrade(mm));
        }
    }

    /// After the file shrank to `len`: every address space drops its mappings of pages past
    /// the end, so that touching them raises SIGBUS as on Linux. Call without holding any
    /// memory manager's lock.
    pub fn unmap_beyond(self: &Arc<Self>, len: u64) {
        let mappers: Vec<_> = self
            .mappers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter_map(|w| w.upgrade())
            .collect();
        for mm in mappers {
            mm.lock()
                .unwrap_or_else(|e| e.into_inner())
                .drop_object_pages_beyond(self, len);
        }
    }

    pub fn truncate(&self, len: u64) {
        let keep = len.div_ceil(PAGE_SIZE);
        let gone = {
            let mut p = self.table_mut();
            let gone = p.split_off(&keep);
            let tail = len % PAGE_SIZE;
            if tail != 0 {
                if let Some(f) = p.get(&(len / PAGE_SIZE)) {
                    let zeros = vec![0u8; (PAGE_SIZE - tail) as usize];
                    // Cannot fail: the frame lies inside the memory file.
                    let _ = f.mf.write(f.offset() + tail, &zeros);
                }
            }
            gone
        };
        if let Some(b) = &self.budget {
            b.release(gone.len() as u64);
        }
    }

    /// Pages present (for `st_blocks`).
    pub fn resident_pages(&self) -> u64 {
        self.table().len() as u64
    }

    /// Zeroes bytes `[off, off + len)` of the pages present, in place so that mappings see
    /// it; absent pages read as zeros already and stay absent (FALLOC_FL_PUNCH_HOLE).
    pub fn zero_range(&self, off: u64, len: u64) {
        let end = off.saturating_add(len);
        if end <= off {
            return;
        }
        let (first, last) = (off / PAGE_SIZE, (end - 1) / PAGE_SIZE);
        let zeros = vec![0u8; PAGE_SIZE as usize];
        for (&index, f) in self.table().range(first..=last) {
            let from = if index == first { off % PAGE_SIZE } else { 0 };
            let to = if index == last {
                (end - 1) % PAGE_SIZE + 1
            } else {
                PAGE_SIZE
            };
            // Cannot fail: the frame lies inside the memory file.
            let _ =
                f.mf.write(f.offset() + from, &zeros[..(to - from) as usize]);
        }
    }
}

impl Drop for SharedObject {
    fn drop(&mut self) {
        if let Some(b) = &self.budget {
            b.release(self.table().len() as u64);
        }
    }
}
