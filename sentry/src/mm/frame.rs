//! Pages of the memory file owned by the Sentry, reference counted: a private page shared
//! after fork is copied on the first write (copy-on-write is a Sentry matter).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

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
}

impl Drop for Frame {
    fn drop(&mut self) {
        self.mf.free(self.range);
    }
}

/// Pages shared by every mapping of one object (MAP_SHARED anonymous memory, and later
/// tmpfs files and memfds), indexed by page number in the object.
#[derive(Debug, Default)]
pub struct SharedObject {
    pages: Mutex<BTreeMap<u64, Arc<Frame>>>,
}

impl SharedObject {
    /// Whether the page at `index` exists.
    pub fn has_page(&self, index: u64) -> bool {
        self.pages
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(&index)
    }

    /// The page at `index`, created zero-filled on first use.
    pub fn page(&self, mf: &Arc<MemoryFile>, index: u64) -> Result<Arc<Frame>, Errno> {
        let mut p = self.pages.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(f) = p.get(&index) {
            return Ok(f.clone());
        }
        let f = Frame::zeroed(mf)?;
        p.insert(index, f.clone());
        Ok(f)
    }
}
