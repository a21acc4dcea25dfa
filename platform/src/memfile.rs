//! The memory file: one memfd per sandbox from which all application memory is allocated.
//!
//! The Sentry maps the whole file once (a large reservation; the file grows under it) and
//! reads and writes application memory through that mapping.

use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd};
use std::sync::Mutex;

use memmap2::{MmapOptions, MmapRaw};

use crate::{PlatformError, Result, PAGE_SIZE};

/// Largest memory file: the size of the Sentry's reservation.
pub const MAX_MEMORY_FILE_SIZE: u64 = 64 << 30;
/// The file grows in steps of this many bytes.
const GROW_STEP: u64 = 2 << 20;

/// A page-aligned range of the memory file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct FileRange {
    /// Offset in the file.
    pub offset: u64,
    /// Length in bytes.
    pub len: u64,
}

#[derive(Debug, Default)]
struct Allocator {
    /// Current file size.
    size: u64,
    /// Everything at or above this offset is free.
    top: u64,
    /// Freed ranges below `top`, sorted by offset, coalesced.
    free: Vec<FileRange>,
}

/// One memfd, mapped into the Sentry.
#[derive(Debug)]
pub struct MemoryFile {
    file: File,
    map: MmapRaw,
    alloc: Mutex<Allocator>,
}

fn page_round_up(len: u64) -> Option<u64> {
    len.checked_add(PAGE_SIZE - 1).map(|l| l & !(PAGE_SIZE - 1))
}

impl MemoryFile {
    /// Creates an empty memory file named `name` (visible in /proc/PID/maps).
    pub fn new(name: &str) -> Result<Self> {
        let cname = std::ffi::CString::new(name)
            .map_err(|_| PlatformError::InvalidArgument("memory file name has a NUL".into()))?;
        // SAFETY: memfd_create reads a valid NUL-terminated string and returns a new fd or -1.
        let fd = unsafe { libc::memfd_create(cname.as_ptr(), libc::MFD_CLOEXEC) };
        if fd < 0 {
            return Err(PlatformError::last_os("memfd_create"));
        }
        // SAFETY: fd is a fresh descriptor we own.
        let file = unsafe { File::from_raw_fd(fd) };
        let map = MmapOptions::new()
            .len(MAX_MEMORY_FILE_SIZE as usize)
            .map_raw(&file)
            .map_err(|source| PlatformError::Host {
                what: "mapping the memory file",
                source,
            })?;
        Ok(MemoryFile {
            file,
            map,
            alloc: Mutex::new(Allocator::default()),
        })
    }

    /// The file descriptor (for platforms that map it elsewhere).
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }

    /// Current size of the file.
    pub fn size(&self) -> u64 {
        self.lock().size
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Allocator> {
        self.alloc.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Allocates `len` bytes (rounded up to pages), zero-filled.
    pub fn allocate(&self, len: u64) -> Result<FileRange> {
        let len = page_round_up(len)
            .filter(|&l| l > 0)
            .ok_or_else(|| PlatformError::InvalidArgument(format!("allocation of {len} bytes")))?;
        let mut a = self.lock();
        if let Some(i) = a.free.iter().position(|r| r.len >= len) {
            let r = a.free[i];
            if r.len == len {
                a.free.remove(i);
            } else {
                a.free[i] = FileRange {
                    offset: r.offset + len,
                    len: r.len - len,
                };
            }
            return Ok(FileRange {
                offset: r.offset,
                len,
            });
        }
        let offset = a.top;
        let end = offset
            .checked_add(len)
            .filter(|&e| e <= MAX_MEMORY_FILE_SIZE)
            .ok_or(PlatformError::Exhausted("memory file"))?;
        if end > a.size {
            let new_size = end.div_ceil(GROW_STEP) * GROW_STEP;
            let new_size = new_size.min(MAX_MEMORY_FILE_SIZE);
            self.file
                .set_len(new_size)
                .map_err(|source| PlatformError::Host {
                    what: "growing the memory file",
                    source,
                })?;
            a.size = new_size;
        }
        a.top = end;
        Ok(FileRange { offset, len })
    }

    /// Returns a range to the allocator; its pages are released to the host.
    pub fn free(&self, r: FileRange) {
        if r.len == 0 {
            return;
        }
        // SAFETY: punching a hole in our own memfd; the range was handed out by `allocate`.
        unsafe {
            libc::fallocate(
                self.file.as_raw_fd(),
                libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
                r.offset as libc::off_t,
                r.len as libc::off_t,
            );
        }
        let mut a = self.lock();
        let i = a.free.partition_point(|f| f.offset < r.offset);
        a.free.insert(i, r);
        // Coalesce with neighbours.
        if i + 1 < a.free.len() && a.free[i].offset + a.free[i].len == a.free[i + 1].offset {
            a.free[i].len += a.free[i + 1].len;
            a.free.remove(i + 1);
        }
        if i > 0 && a.free[i - 1].offset + a.free[i - 1].len == a.free[i].offset {
            a.free[i - 1].len += a.free[i].len;
            a.free.remove(i);
        }
        if let Some(last) = a.free.last().copied() {
            if last.offset + last.len == a.top {
                a.top = last.offset;
                a.free.pop();
            }
        }
    }

    fn check(&self, offset: u64, len: usize) -> Result<*mut u8> {
        let size = self.size();
        match offset.checked_add(len as u64) {
            Some(end) if end <= size => Ok(self.map.as_mut_ptr().wrapping_add(offset as usize)),
            _ => Err(PlatformError::InvalidArgument(format!(
                "memory file access at {offset:#x}+{len:#x} beyond {size:#x}"
            ))),
        }
    }

    /// Copies bytes out of the file.
    pub fn read(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        let p = self.check(offset, buf.len())?;
        // SAFETY: `check` proved [offset, offset+len) lies inside the file and so inside our
        // mapping. The application may write these pages concurrently; we copy bytes and never
        // form a reference to shared memory.
        unsafe { std::ptr::copy_nonoverlapping(p, buf.as_mut_ptr(), buf.len()) };
        Ok(())
    }

    /// Stores a u64 at an 8-byte aligned `offset` in one atomic write, so that application
    /// code reading it concurrently sees either the old or the new value, never a mix.
    pub fn store_u64(&self, offset: u64, value: u64) -> Result<()> {
        if !offset.is_multiple_of(8) {
            return Err(PlatformError::InvalidArgument(format!(
                "unaligned atomic store at {offset:#x}"
            )));
        }
        let p = self.check(offset, 8)?;
        // SAFETY: `check` proved the 8 bytes lie inside our writable shared mapping, and the
        // offset (and so the address, the mapping being page aligned) is 8-byte aligned as
        // AtomicU64 requires. Only atomic operations of ours touch these bytes from Rust.
        unsafe { std::sync::atomic::AtomicU64::from_ptr(p.cast::<u64>()) }
            .store(value, std::sync::atomic::Ordering::Release);
        Ok(())
    }

    /// Copies bytes into the file.
    pub fn write(&self, offset: u64, data: &[u8]) -> Result<()> {
        let p = self.check(offset, data.len())?;
        // SAFETY: as in `read`; the destination lies inside our writable shared mapping.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), p, data.len()) };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocations_are_page_aligned_zeroed_and_reused() {
        let mf = MemoryFile::new("test").unwrap();
        let a = mf.allocate(1).unwrap();
        let b = mf.allocate(5000).unwrap();
        assert_eq!((a.offset, a.len), (0, 4096));
        assert_eq!((b.offset, b.len), (4096, 8192));
        mf.write(a.offset, b"data").unwrap();
        mf.free(a);
        let c = mf.allocate(4096).unwrap();
        assert_eq!(c.offset, 0, "the freed range is reused");
        let mut buf = [1u8; 4];
        mf.read(c.offset, &mut buf).unwrap();
        assert_eq!(buf, [0; 4], "freed pages come back zeroed");
        mf.free(b);
        mf.free(c);
        assert_eq!(mf.allocate(4096).unwrap().offset, 0, "everything coalesced");
    }

    #[test]
    fn out_of_range_access_and_silly_sizes_are_errors() {
        let mf = MemoryFile::new("test").unwrap();
        let a = mf.allocate(4096).unwrap();
        let mut buf = [0u8; 16];
        assert!(mf.read(mf.size() - 8, &mut buf).is_err());
        assert!(mf.read(u64::MAX - 4, &mut buf).is_err());
        assert!(mf.write(mf.size(), b"x").is_err());
        assert!(mf.allocate(0).is_err());
        assert!(mf.allocate(u64::MAX).is_err());
        assert!(mf.allocate(MAX_MEMORY_FILE_SIZE + 1).is_err());
        mf.read(a.offset, &mut buf).unwrap();
    }
}
