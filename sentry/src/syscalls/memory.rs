//! Memory: mmap, munmap, mprotect, brk, mremap, madvise and friends.

use std::sync::Arc;

use platform::{Prot, PAGE_SIZE};

use crate::errno::{Errno, SysResult};
use crate::kernel::Task;
use crate::mm::{page_up, Backing, Placement, SharedObject};

fn prot(bits: u64) -> Result<Prot, Errno> {
    if bits & !7 != 0 {
        return Err(Errno::EINVAL);
    }
    Ok(Prot {
        read: bits & libc::PROT_READ as u64 != 0,
        write: bits & libc::PROT_WRITE as u64 != 0,
        exec: bits & libc::PROT_EXEC as u64 != 0,
    })
}

pub fn mmap(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (addr, len, p, flags, fd, off) = (a[0], a[1], a[2], a[3] as i32, a[4] as i32, a[5]);
    let prot = prot(p)?;
    if len == 0 || !off.is_multiple_of(PAGE_SIZE) {
        return Err(Errno::EINVAL);
    }
    let len = page_up(len).ok_or(Errno::ENOMEM)?;
    let as_limit = t.tg.lock().rlimits[libc::RLIMIT_AS as usize].0;
    if as_limit != u64::MAX && t.mm().mapped_bytes().saturating_add(len) > as_limit {
        return Err(Errno::ENOMEM);
    }
    let kind = flags & 0xf;
    let shared = kind == libc::MAP_SHARED || kind == libc::MAP_SHARED_VALIDATE;
    if !shared && kind != libc::MAP_PRIVATE {
        return Err(Errno::EINVAL);
    }
    let place = if flags & libc::MAP_FIXED_NOREPLACE != 0 {
        Placement::FixedNoReplace(addr)
    } else if flags & libc::MAP_FIXED != 0 {
        Placement::Fixed(addr)
    } else {
        Placement::Hint(addr)
    };
    let backing = if flags & libc::MAP_ANONYMOUS != 0 {
        if shared {
            Backing::Shared {
                obj: Arc::new(SharedObject::default()),
                offset: 0,
                file: None,
            }
        } else {
            Backing::Anon
        }
    } else {
        let f = t.fds().get(fd)?;
        if !f.readable() {
            return Err(Errno::EACCES);
        }
        // /dev/zero maps as anonymous memory.
        let st = f.ops.stat()?;
        if st.mode & libc::S_IFMT == libc::S_IFCHR && st.rdev == libc::makedev(1, 5) {
            let backing = if shared {
                Backing::Shared {
                    obj: Arc::new(SharedObject::default()),
                    offset: 0,
                    file: None,
                }
            } else {
                Backing::Anon
            };
            return t.mm().map(place, len, prot, backing, None);
        }
        let file = f.ops.mappable().ok_or(Errno::ENODEV)?;
        // Files whose pages live in the memory file (tmpfs, memfd) map shared for real.
        if shared {
            if let Some(obj) = f.ops.shared_object() {
                if prot.write && !f.writable() {
                    return Err(Errno::EACCES);
                }
                obj.add_mapper(&t.mm);
                let backing = Backing::Shared {
                    obj,
                    offset: off,
                    file: Some(file),
                };
                return t.mm().map(place, len, prot, backing, None);
            }
        }
        // The root is read-only: a writable shared mapping cannot be. A read-only shared
        // mapping of an unchanging file reads like a private one.
        if shared && prot.write {
            return Err(Errno::EACCES);
        }
        Backing::File { file, offset: off }
    };
    t.mm().map(place, len, prot, backing, None)
}

pub fn munmap(t: &mut Task, a: [u64; 6]) -> SysResult {
    t.mm().unmap(a[0], a[1]).map(|_| 0)
}

pub fn mprotect(t: &mut Task, a: [u64; 6]) -> SysResult {
    let p = prot(a[2] & !(libc::PROT_GROWSDOWN | libc::PROT_GROWSUP) as u64)?;
    t.mm().protect(a[0], a[1], p).map(|_| 0)
}

pub fn brk(t: &mut Task, a: [u64; 6]) -> SysResult {
    Ok(t.mm().set_brk(a[0]))
}

pub fn madvise(t: &mut Task, a: [u64; 6]) -> SysResult {
    if !a[0].is_multiple_of(PAGE_SIZE) {
        return Err(Errno::EINVAL);
    }
    page_up(a[1])
        .and_then(|l| a[0].checked_add(l))
        .ok_or(Errno::EINVAL)?;
    t.mm().check_mapped(a[0], a[1])?;
    match a[2] as i32 {
        libc::MADV_DONTNEED => {
            let mut mm = t.mm();
            let len = page_up(a[1]).ok_or(Errno::EINVAL)?;
            // Drop private pages: the next touch sees zeros (or the file again).
            let end = a[0].checked_add(len).ok_or(Errno::EINVAL)?;
            let mut at = a[0];
            while at < end {
                let v = mm.find(at).ok_or(Errno::ENOMEM)?.clone();
                let stop = v.end.min(end);
                if !v.shared() {
                    let (p, l) = (at, stop - at);
                    let vma = v.clone();
                    mm.unmap(p, l)?;
                    let backing = vma.slice(p, stop).backing;
                    mm.map(Placement::Fixed(p), l, vma.prot, backing, vma.label)?;
                }
                at = stop;
            }
            Ok(0)
        }
        libc::MADV_NORMAL
        | libc::MADV_RANDOM
        | libc::MADV_SEQUENTIAL
        | libc::MADV_WILLNEED
        | libc::MADV_FREE
        | libc::MADV_HUGEPAGE
        | libc::MADV_NOHUGEPAGE
        | libc::MADV_DONTFORK
        | libc::MADV_DOFORK => Ok(0),
        _ => Err(Errno::EINVAL),
    }
}

pub fn mremap(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (old, old_len, new_len, flags, new_addr) = (a[0], a[1], a[2], a[3] as i32, a[4]);
    let maymove = flags & libc::MREMAP_MAYMOVE != 0;
    let fixed = flags & libc::MREMAP_FIXED != 0;
    if !old.is_multiple_of(PAGE_SIZE)
        || flags & !(libc::MREMAP_MAYMOVE | libc::MREMAP_FIXED) != 0
        || (fixed && !maymove)
    {
        return Err(Errno::EINVAL);
    }
    let old_len = page_up(old_len).ok_or(Errno::EINVAL)?;
    let new_len = page_up(new_len).filter(|&l| l > 0).ok_or(Errno::EINVAL)?;
    let mut mm = t.mm();
    let first = mm.find(old).ok_or(Errno::EFAULT)?.clone();
    // The old range must be mapped throughout (possibly by several VMAs).
    let mut at = old;
    while at < old.checked_add(old_len).ok_or(Errno::EFAULT)? {
        at = mm.find(at).ok_or(Errno::EFAULT)?.end;
    }
    if old_len == 0 {
        return Err(Errno::EINVAL);
    }
    let v = mm
        .find(old + old_len - PAGE_SIZE)
        .ok_or(Errno::EFAULT)?
        .clone();
    if new_len <= old_len && !fixed {
        if new_len < old_len {
            mm.unmap(old + new_len, old_len - new_len)?;
        }
        return Ok(old);
    }
    // Grow in place if the following range is free.
    if !fixed && old + old_len == v.end {
        let end = old.checked_add(new_len).ok_or(Errno::ENOMEM)?;
        if end <= mm.limit() && mm.vmas().all(|o| o.start >= end || o.end <= v.end) {
            let tail = v.slice(v.start, v.end);
            let mut ext = tail.slice(v.end - PAGE_SIZE, v.end);
            ext.start = v.end;
            ext.end = end;
            let shift = |b: Backing| -> Backing {
                match b {
                    Backing::Anon => Backing::Anon,
                    Backing::File { file, offset } => Backing::File {
                        file,
                        offset: offset + PAGE_SIZE,
                    },
                    Backing::Shared { obj, offset, file } => Backing::Shared {
                        obj,
                        offset: offset + PAGE_SIZE,
                        file,
                    },
                }
            };
            mm.map(
                Placement::Fixed(v.end),
                end - v.end,
                v.prot,
                shift(ext.backing),
                v.label,
            )?;
            return Ok(old);
        }
    }
    if !maymove {
        return Err(Errno::ENOMEM);
    }
    // Move: copy the contents to a new mapping of the same kind, then drop the old one.
    let dest = if fixed {
        if !new_addr.is_multiple_of(PAGE_SIZE) {
            return Err(Errno::EINVAL);
        }
        Placement::Fixed(new_addr)
    } else {
        Placement::Hint(0)
    };
    let backing = match &first.backing {
        Backing::Shared { .. } => first.slice(old, first.end.min(old + old_len)).backing,
        _ => Backing::Anon,
    };
    // Patched syscall sites return to fixed addresses: the code moves unpatched.
    mm.unpatch_range(old, old + old_len);
    let to = mm.map(dest, new_len, v.prot, backing, v.label)?;
    if !v.shared() {
        let mut buf = vec![0u8; PAGE_SIZE as usize];
        let mut off = 0;
        while off < old_len.min(new_len) {
            if mm.copy_in(old + off, &mut buf).is_ok() {
                mm.poke(to + off, &buf)?;
            }
            off += PAGE_SIZE;
        }
    }
    mm.unmap(old, old_len)?;
    Ok(to)
}

pub fn msync(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (ms_async, ms_sync) = (libc::MS_ASYNC as u64, libc::MS_SYNC as u64);
    if !a[0].is_multiple_of(PAGE_SIZE)
        || a[2] & !7 != 0
        || a[2] & (ms_async | ms_sync) == ms_async | ms_sync
    {
        return Err(Errno::EINVAL);
    }
    t.mm().check_mapped(a[0], a[1]).map(|_| 0)
}

pub fn mincore(t: &mut Task, a: [u64; 6]) -> SysResult {
    if !a[0].is_multiple_of(PAGE_SIZE) {
        return Err(Errno::EINVAL);
    }
    let len = page_up(a[1]).ok_or(Errno::ENOMEM)?;
    let pages = (len / PAGE_SIZE) as usize;
    t.mm().check_mapped(a[0], len)?;
    let v: Vec<u8> = {
        let mm = t.mm();
        (0..pages as u64)
            .map(|i| mm.resident(a[0] + i * PAGE_SIZE) as u8)
            .collect()
    };
    t.write_mem(a[2], &v)?;
    Ok(0)
}

pub fn mlock(t: &mut Task, a: [u64; 6]) -> SysResult {
    let start = a[0] & !(PAGE_SIZE - 1);
    let end = page_up(a[0].checked_add(a[1]).ok_or(Errno::EINVAL)?).ok_or(Errno::EINVAL)?;
    t.mm().check_mapped(start, end - start).map(|_| 0)
}

pub fn mlock2(t: &mut Task, a: [u64; 6]) -> SysResult {
    const MLOCK_ONFAULT: u64 = 1;
    if a[2] & !MLOCK_ONFAULT != 0 {
        return Err(Errno::EINVAL);
    }
    mlock(t, a)
}
