//! The memory manager: an application address space as the Sentry sees it (VMAs and pages
//! in the memory file), kept in step with the platform's address space, which is only a
//! cache of it.

mod fastpath;
mod frame;
mod vma;

use std::collections::BTreeMap;
use std::sync::Arc;

use platform::{Access, AddressSpace, MemoryFile, Platform, Prot, PAGE_SIZE};

use crate::errno::Errno;
pub use fastpath::IdsPage;
pub use frame::{Frame, SharedObject};
pub use vma::{Backing, MappableFile, Vma};

/// Default stack size (RLIMIT_STACK).
pub const STACK_SIZE: u64 = 8 << 20;
/// Load address of position-independent executables.
pub const PIE_BASE: u64 = 0x5555_5555_4000;

/// `si_code` of a SIGSEGV the application earns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SegvCode {
    /// No mapping there (SEGV_MAPERR).
    MapErr,
    /// Mapping forbids the access (SEGV_ACCERR).
    AccErr,
    /// A file mapping past the file's end (SIGBUS, BUS_ADRERR).
    Bus,
}

/// Rounds up to a page; None on overflow.
pub fn page_up(v: u64) -> Option<u64> {
    v.checked_add(PAGE_SIZE - 1).map(|x| x & !(PAGE_SIZE - 1))
}

/// Rounds down to a page.
pub fn page_down(v: u64) -> u64 {
    v & !(PAGE_SIZE - 1)
}

/// Where a new mapping may go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Anywhere; the address is a hint.
    Hint(u64),
    /// Exactly here, replacing what is there (MAP_FIXED).
    Fixed(u64),
    /// Exactly here, failing with EEXIST if anything is there (MAP_FIXED_NOREPLACE).
    FixedNoReplace(u64),
}

/// One application address space.
pub struct MemoryManager {
    mf: Arc<MemoryFile>,
    aspace: Arc<dyn AddressSpace>,
    vmas: BTreeMap<u64, Vma>,
    /// Private pages by page address.
    pages: BTreeMap<u64, Arc<Frame>>,
    /// Shared pages the platform may map, by page address (kept alive until unmapped).
    shared_mapped: BTreeMap<u64, Arc<Frame>>,
    /// One past the highest mappable address.
    limit: u64,
    /// Top of the initial stack.
    pub stack_top: u64,
    /// Top-down allocation starts below this.
    mmap_top: u64,
    /// Start of the heap; `brk` is its current end.
    pub brk_start: u64,
    pub brk: u64,
    /// argv and envp strings on the initial stack (for /proc).
    pub arg_range: (u64, u64),
    pub env_range: (u64, u64),
    /// Patched syscall sites and their trampolines (see `fastpath`).
    fast: Option<fastpath::FastPath>,
}

impl std::fmt::Debug for MemoryManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryManager")
            .field("vmas", &self.vmas.len())
            .finish()
    }
}

impl MemoryManager {
    /// An empty address space on `platform`.
    pub fn new(platform: &dyn Platform) -> Result<Self, Errno> {
        let aspace = platform.new_address_space().map_err(|e| {
            tracing::warn!("creating address space: {e}");
            Errno::ENOMEM
        })?;
        let limit = platform.max_user_address();
        let stack_top = page_down(limit - 0x1000_0000);
        Ok(MemoryManager {
            mf: platform.memory_file().clone(),
            aspace,
            vmas: BTreeMap::new(),
            pages: BTreeMap::new(),
            shared_mapped: BTreeMap::new(),
            limit,
            stack_top,
            mmap_top: stack_top - STACK_SIZE - (1 << 30),
            brk_start: 0,
            brk: 0,
            arg_range: (0, 0),
            env_range: (0, 0),
            fast: None,
        })
    }

    /// The platform address space.
    pub fn aspace(&self) -> &Arc<dyn AddressSpace> {
        &self.aspace
    }

    /// One past the highest mappable address.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// The VMAs in address order.
    pub fn vmas(&self) -> impl Iterator<Item = &Vma> {
        self.vmas.values()
    }

    /// The VMA containing `addr`.
    pub fn find(&self, addr: u64) -> Option<&Vma> {
        self.vmas
            .range(..=addr)
            .next_back()
            .map(|(_, v)| v)
            .filter(|v| addr < v.end)
    }

    fn overlaps(&self, start: u64, end: u64) -> bool {
        self.vmas
            .range(..end)
            .next_back()
            .is_some_and(|(_, v)| v.end > start)
    }

    /// A free range of `len` bytes, searched top-down from below the stack.
    fn find_free(&self, len: u64, hint: u64) -> Result<u64, Errno> {
        if hint != 0 {
            if let Some(end) = hint.checked_add(len) {
                if hint.is_multiple_of(PAGE_SIZE) && end <= self.limit && !self.overlaps(hint, end)
                {
                    return Ok(hint);
                }
            }
        }
        let mut top = self.mmap_top;
        // Walk VMAs below `top` from the highest down, looking for a gap.
        for (_, v) in self.vmas.range(..self.mmap_top).rev() {
            if v.end <= top && top - v.end >= len {
                return Ok(top - len);
            }
            top = top.min(v.start);
        }
        if top >= len + 0x10000 {
            return Ok(top - len);
        }
        Err(Errno::ENOMEM)
    }

    /// Splits VMAs so that `addr` is a boundary.
    fn split_at(&mut self, addr: u64) {
        let Some((&start, v)) = self.vmas.range(..addr).next_back() else {
            return;
        };
        if v.end <= addr {
            return;
        }
        let v = v.clone();
        self.vmas.insert(start, v.slice(start, addr));
        self.vmas.insert(addr, v.slice(addr, v.end));
    }

    /// Removes every VMA and page in `[start, end)` and drops them from the platform.
    fn remove_range(&mut self, start: u64, end: u64) -> Result<(), Errno> {
        self.fastpath_release(start, end, true);
        self.split_at(start);
        self.split_at(end);
        let keys: Vec<u64> = self.vmas.range(start..end).map(|(k, _)| *k).collect();
        for k in keys {
            if let Some(v) = self.vmas.remove(&k) {
                self.aspace
                    .unmap(v.start, v.end - v.start)
                    .map_err(|_| Errno::ENOMEM)?;
            }
        }
        let pages: Vec<u64> = self.pages.range(start..end).map(|(k, _)| *k).collect();
        for p in pages {
            self.pages.remove(&p);
        }
        self.forget_shared(start, end);
        Ok(())
    }

    /// mmap: creates a mapping and returns its address. Pages come on first touch.
    pub fn map(
        &mut self,
        place: Placement,
        len: u64,
        prot: Prot,
        backing: Backing,
        label: Option<&'static str>,
    ) -> Result<u64, Errno> {
        let len = page_up(len).filter(|&l| l > 0).ok_or(Errno::ENOMEM)?;
        let start = match place {
            Placement::Hint(h) => self.find_free(len, page_down(h))?,
            Placement::Fixed(a) | Placement::FixedNoReplace(a) => {
                if !a.is_multiple_of(PAGE_SIZE) {
                    return Err(Errno::EINVAL);
                }
                let end = a.checked_add(len).ok_or(Errno::ENOMEM)?;
                if end > self.limit {
                    return Err(Errno::ENOMEM);
                }
                if self.overlaps(a, end) {
                    if matches!(place, Placement::FixedNoReplace(_)) {
                        return Err(Errno::EEXIST);
                    }
                    self.remove_range(a, end)?;
                }
                a
            }
        };
        let max_prot = Prot::ALL;
        let vma = Vma {
            start,
            end: start + len,
            prot,
            max_prot,
            backing,
            grows_down: false,
            label,
        };
        self.vmas.insert(start, vma);
        Ok(start)
    }

    /// munmap.
    pub fn unmap(&mut self, addr: u64, len: u64) -> Result<(), Errno> {
        let len = page_up(len).ok_or(Errno::EINVAL)?;
        let end = addr.checked_add(len).ok_or(Errno::EINVAL)?;
        if !addr.is_multiple_of(PAGE_SIZE) || len == 0 || end > self.limit {
            return Err(Errno::EINVAL);
        }
        self.remove_range(addr, end)
    }

    /// mprotect.
    pub fn protect(&mut self, addr: u64, len: u64, prot: Prot) -> Result<(), Errno> {
        let len = page_up(len).ok_or(Errno::ENOMEM)?;
        let end = addr.checked_add(len).ok_or(Errno::ENOMEM)?;
        if !addr.is_multiple_of(PAGE_SIZE) {
            return Err(Errno::EINVAL);
        }
        if len == 0 {
            return Ok(());
        }
        self.check_mapped(addr, len)?;
        if self.in_table(addr, end) {
            self.fastpath_release(addr, end, false);
        }
        self.split_at(addr);
        self.split_at(end);
        for (_, v) in self.vmas.range_mut(addr..end) {
            v.prot = prot;
        }
        self.aspace.unmap(addr, len).map_err(|_| Errno::ENOMEM)?;
        self.forget_shared(addr, end);
        Ok(())
    }

    /// Drops the shared frames kept for `[start, end)` once the platform no longer maps them.
    fn forget_shared(&mut self, start: u64, end: u64) {
        let keys: Vec<u64> = self
            .shared_mapped
            .range(start..end)
            .map(|(k, _)| *k)
            .collect();
        for k in keys {
            self.shared_mapped.remove(&k);
        }
    }

    /// brk: moves the end of the heap; returns the new (or unchanged) break.
    pub fn set_brk(&mut self, new: u64) -> u64 {
        if new < self.brk_start || new > self.limit {
            return self.brk;
        }
        let (Some(old_end), Some(new_end)) = (page_up(self.brk), page_up(new)) else {
            return self.brk;
        };
        if new_end > old_end {
            if self.overlaps(old_end, new_end) {
                return self.brk;
            }
            let heap = Vma {
                start: old_end,
                end: new_end,
                prot: Prot::READ_WRITE,
                max_prot: Prot::ALL,
                backing: Backing::Anon,
                grows_down: false,
                label: Some("[heap]"),
            };
            self.vmas.insert(old_end, heap);
        } else if new_end < old_end && self.remove_range(new_end, old_end).is_err() {
            return self.brk;
        }
        self.brk = new;
        self.brk
    }

    /// Whether `page` of a file mapping lies wholly past the file's end (SIGBUS).
    fn past_eof(v: &Vma, page: u64) -> bool {
        let (file, offset) = match &v.backing {
            Backing::File { file, offset } => (Some(file), *offset),
            Backing::Shared { file, offset, .. } => (file.as_ref(), *offset),
            Backing::Anon => (None, 0),
        };
        file.is_some_and(|f| offset + (page - v.start) >= page_up(f.size()).unwrap_or(u64::MAX))
    }

    fn readable(v: &Vma) -> bool {
        v.prot.read || v.prot.write || v.prot.exec
    }

    /// The frame behind `page` (page-aligned) of `v`, created or un-shared as `write` needs.
    /// Returns it and whether the application may write it now.
    fn frame(&mut self, page: u64, write: bool) -> Result<(Arc<Frame>, bool), Errno> {
        let v = self.find(page).ok_or(Errno::EFAULT)?.clone();
        match &v.backing {
            Backing::Shared { obj, offset, .. } => {
                if Self::past_eof(&v, page) {
                    return Err(Errno::EFAULT);
                }
                let f = obj.page(&self.mf, (offset + (page - v.start)) / PAGE_SIZE)?;
                // Keep the frame while the platform may map it: a file truncated under a
                // mapping must not free a page an address space can still reach.
                self.shared_mapped.insert(page, f.clone());
                Ok((f, v.prot.write))
            }
            Backing::Anon | Backing::File { .. } => {
                if Self::past_eof(&v, page) {
                    return Err(Errno::EFAULT);
                }
                if !self.pages.contains_key(&page) {
                    let f = Frame::zeroed(&self.mf)?;
                    if let Backing::File { file, offset } = &v.backing {
                        let mut buf = vec![0u8; PAGE_SIZE as usize];
                        let mut got = 0;
                        let at = offset + (page - v.start);
                        while got < buf.len() {
                            match file.read_at(at + got as u64, &mut buf[got..]) {
                                Ok(0) => break,
                                Ok(n) => got += n,
                                Err(_) => return Err(Errno::EIO),
                            }
                        }
                        self.mf
                            .write(f.offset(), &buf[..got])
                            .map_err(|_| Errno::EFAULT)?;
                    }
                    self.pages.insert(page, f);
                }
                let shared_now = self.pages.get(&page).map(Arc::strong_count).unwrap_or(1) > 1;
                if write && shared_now {
                    let copy = self.pages[&page].copy()?;
                    self.pages.insert(page, copy);
                    // The platform may still map the old frame here.
                    self.aspace
                        .unmap(page, PAGE_SIZE)
                        .map_err(|_| Errno::EFAULT)?;
                }
                let f = self.pages[&page].clone();
                let exclusive = Arc::strong_count(&f) == 2; // ours + the table's
                Ok((f, v.prot.write && exclusive))
            }
        }
    }

    /// Handles an application fault at `addr`: maps the page, or says which SIGSEGV.
    pub fn fault(&mut self, addr: u64, access: Access) -> Result<(), SegvCode> {
        let v = self.find(addr).ok_or(SegvCode::MapErr)?;
        let allowed = match access {
            Access::Read => Self::readable(v),
            Access::Write => v.prot.write,
            Access::Execute => v.prot.exec,
        };
        if !allowed {
            return Err(SegvCode::AccErr);
        }
        let prot = v.prot;
        let page = page_down(addr);
        if Self::past_eof(v, page) {
            return Err(SegvCode::Bus);
        }
        let (f, writable) = self
            .frame(page, access == Access::Write)
            .map_err(|_| SegvCode::MapErr)?;
        let prot = Prot {
            write: prot.write && writable,
            ..prot
        };
        self.aspace
            .map(page, PAGE_SIZE, f.offset(), prot)
            .map_err(|_| SegvCode::MapErr)
    }

    /// Copies application memory at `addr` into `buf` (copy_from_user).
    pub fn copy_in(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
        let mut done = 0usize;
        while done < buf.len() {
            let a = addr.checked_add(done as u64).ok_or(Errno::EFAULT)?;
            let v = self.find(a).ok_or(Errno::EFAULT)?;
            if !Self::readable(v) {
                return Err(Errno::EFAULT);
            }
            let page = page_down(a);
            let n = ((page + PAGE_SIZE - a) as usize).min(buf.len() - done);
            let (f, _) = self.frame(page, false)?;
            self.mf
                .read(f.offset() + (a - page), &mut buf[done..done + n])
                .map_err(|_| Errno::EFAULT)?;
            done += n;
        }
        Ok(())
    }

    /// Copies `data` into application memory at `addr` (copy_to_user).
    pub fn copy_out(&mut self, addr: u64, data: &[u8]) -> Result<(), Errno> {
        self.write_pages(addr, data, true)
    }

    /// Writes `data` at `addr` page by page (copy-on-write broken as needed); with
    /// `check_prot`, every page must be mapped writable.
    fn write_pages(&mut self, addr: u64, data: &[u8], check_prot: bool) -> Result<(), Errno> {
        let mut done = 0usize;
        while done < data.len() {
            let a = addr.checked_add(done as u64).ok_or(Errno::EFAULT)?;
            if check_prot && !self.find(a).ok_or(Errno::EFAULT)?.prot.write {
                return Err(Errno::EFAULT);
            }
            let page = page_down(a);
            let n = ((page + PAGE_SIZE - a) as usize).min(data.len() - done);
            let (f, _) = self.frame(page, true)?;
            self.mf
                .write(f.offset() + (a - page), &data[done..done + n])
                .map_err(|_| Errno::EFAULT)?;
            done += n;
        }
        Ok(())
    }

    /// Copies as much of `data` as fits before the first unwritable page; returns the count.
    pub fn copy_out_partial(&mut self, addr: u64, data: &[u8]) -> usize {
        let mut done = 0usize;
        while done < data.len() {
            let a = addr.wrapping_add(done as u64);
            let n = ((page_down(a) + PAGE_SIZE - a) as usize).min(data.len() - done);
            if self.copy_out(a, &data[done..done + n]).is_err() {
                break;
            }
            done += n;
        }
        done
    }

    /// ENOMEM unless every page of `[addr, addr + len)` is mapped (madvise, msync, mlock,
    /// mincore, mprotect).
    pub fn check_mapped(&self, addr: u64, len: u64) -> Result<(), Errno> {
        let end = addr
            .checked_add(page_up(len).ok_or(Errno::ENOMEM)?)
            .ok_or(Errno::ENOMEM)?;
        let mut at = addr;
        while at < end {
            at = self.find(at).ok_or(Errno::ENOMEM)?.end;
        }
        Ok(())
    }

    /// Bytes of address space mapped (RLIMIT_AS).
    pub fn mapped_bytes(&self) -> u64 {
        self.vmas.values().map(|v| v.end - v.start).sum()
    }

    /// Drops the platform mappings (and kept frames) of `obj`'s pages at or past `len`.
    pub fn drop_object_pages_beyond(&mut self, obj: &Arc<SharedObject>, len: u64) {
        let end_page = page_up(len).unwrap_or(u64::MAX);
        let ranges: Vec<(u64, u64)> = self
            .vmas
            .values()
            .filter_map(|v| match &v.backing {
                Backing::Shared { obj: o, offset, .. } if Arc::ptr_eq(o, obj) => {
                    // The VMA's first address whose file offset is at or past the end.
                    let cut = if *offset >= end_page {
                        v.start
                    } else {
                        v.start.saturating_add(end_page - offset)
                    };
                    (cut < v.end).then_some((cut, v.end))
                }
                _ => None,
            })
            .collect();
        for (start, end) in ranges {
            let _ = self.aspace.unmap(start, end - start);
            self.forget_shared(start, end);
        }
    }

    /// Private pages in use.
    pub fn resident_pages(&self) -> usize {
        self.pages.len()
    }

    /// Whether the page at `addr` has memory behind it (mincore).
    pub fn resident(&self, addr: u64) -> bool {
        let page = page_down(addr);
        match self.find(page).map(|v| &v.backing) {
            Some(Backing::Shared { obj, offset, .. }) => {
                let v = self.find(page).map(|v| v.start).unwrap_or(page);
                obj.has_page((offset + (page - v)) / PAGE_SIZE)
            }
            Some(_) => self.pages.contains_key(&page),
            None => false,
        }
    }

    /// Writes memory regardless of protection (the loader filling read-only segments).
    pub fn poke(&mut self, addr: u64, data: &[u8]) -> Result<(), Errno> {
        self.write_pages(addr, data, false)
    }

    /// Reads a NUL-terminated string of at most `max` bytes (without the NUL).
    pub fn read_cstring(&mut self, addr: u64, max: usize) -> Result<Vec<u8>, Errno> {
        let mut out = Vec::new();
        let mut a = addr;
        loop {
            let page_end = page_down(a) + PAGE_SIZE;
            let mut chunk = vec![0u8; (page_end - a) as usize];
            self.copy_in(a, &mut chunk)?;
            if let Some(i) = chunk.iter().position(|&b| b == 0) {
                out.extend_from_slice(&chunk[..i]);
                if out.len() > max {
                    return Err(Errno::ENAMETOOLONG);
                }
                return Ok(out);
            }
            out.extend_from_slice(&chunk);
            if out.len() > max {
                return Err(Errno::ENAMETOOLONG);
            }
            a = page_end;
        }
    }

    /// A copy of this address space for a forked child: VMAs copied, private pages shared
    /// copy-on-write, shared mappings shared.
    pub fn fork(&mut self, platform: &dyn Platform) -> Result<MemoryManager, Errno> {
        let mut child = MemoryManager::new(platform)?;
        child.vmas = self.vmas.clone();
        child.pages = self.pages.clone();
        child.stack_top = self.stack_top;
        child.mmap_top = self.mmap_top;
        child.brk_start = self.brk_start;
        child.brk = self.brk;
        child.arg_range = self.arg_range;
        child.env_range = self.env_range;
        self.fork_fastpath(&mut child)?;
        // Our writable private pages must fault again so that writes copy.
        for v in self.vmas.values() {
            if !v.shared() && v.prot.write {
                self.aspace
                    .unmap(v.start, v.end - v.start)
                    .map_err(|_| Errno::ENOMEM)?;
            }
        }
        Ok(child)
    }
}
