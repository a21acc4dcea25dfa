//! The syscall fast path: register-only syscalls answered without leaving the application.
//!
//! When `getpid` or `getppid` traps from the common `mov $N, %eax; syscall` sequence (seven
//! bytes, as glibc and musl emit them), the Sentry rewrites those bytes into
//! `jmp *abs32`, through a pointer in a table it maps below 2 GiB, to a trampoline of its
//! own. The trampoline loads the answer from a page of ids the Sentry keeps current and
//! jumps back; when the page says "not valid" (0) it makes the real syscall, which traps as
//! before. Linux's vDSO answers time the same way: application code the kernel writes,
//! reading data the kernel keeps.
//!
//! Rules that keep it exact:
//! - Only private executable mappings are patched, and only when one task uses the address
//!   space (nobody else can be executing the bytes being rewritten).
//! - The ids page belongs to one address space. A process sharing it without being its
//!   owner (a vfork or CLONE_VM child) turns the answers off until it leaves.
//! - Reparenting rewrites the ppid at once, so a child polling getppid() sees it change.
//! - Patched bytes are restored before the code moves (mremap) and when the application
//!   unmaps or reprotects the table.

use std::sync::{Arc, Mutex};

use platform::{MemoryFile, Prot, PAGE_SIZE};

use super::{Backing, Frame, MemoryManager, Placement};
use crate::errno::Errno;

/// Size of the table: the ids page, then one entry per patched site.
pub const TABLE_SIZE: u64 = 0x10000;
/// Bytes per site entry: the trampoline's address, then the trampoline.
const ENTRY_SIZE: u64 = 64;
/// Sites one address space may have patched.
const MAX_SITES: usize = ((TABLE_SIZE - PAGE_SIZE) / ENTRY_SIZE) as usize;
/// The patched `jmp *abs32` sign-extends its address: the table must lie below 2 GiB.
const TABLE_CEILING: u64 = 0x8000_0000;
/// Lowest address tried for the table.
const TABLE_FLOOR: u64 = 0x1000_0000;
/// Length of `mov $imm32, %eax; syscall`.
const SITE_LEN: u64 = 7;
/// Label in /proc/PID/maps.
const LABEL: &str = "[rvisor-fastpath]";

/// The slot of the ids page that answers syscall `nr`, if it is answered there.
fn slot(nr: u64) -> Option<u64> {
    match nr as i64 {
        libc::SYS_getpid => Some(0),
        libc::SYS_getppid => Some(1),
        _ => None,
    }
}

/// The page the trampolines read their answers from. Each slot holds the value plus one,
/// or 0 when the trampolines must make the real syscall.
#[derive(Debug)]
pub struct IdsPage {
    frame: Arc<Frame>,
    st: Mutex<IdsState>,
}

#[derive(Debug, Default)]
struct IdsState {
    pid: i32,
    ppid: i32,
    /// Tasks of other processes running in this address space.
    guests: u32,
}

impl IdsPage {
    fn new(mf: &Arc<MemoryFile>) -> Result<Arc<IdsPage>, Errno> {
        Ok(Arc::new(IdsPage {
            frame: Frame::zeroed(mf)?,
            st: Mutex::default(),
        }))
    }

    fn state(&self) -> std::sync::MutexGuard<'_, IdsState> {
        self.st.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Publishes the owner's pid and parent pid.
    pub fn set(&self, pid: i32, ppid: i32) {
        let mut st = self.state();
        st.pid = pid;
        st.ppid = ppid;
        self.publish(&st);
    }

    /// The owner was reparented.
    pub fn set_ppid(&self, ppid: i32) {
        let mut st = self.state();
        st.ppid = ppid;
        self.publish(&st);
    }

    /// A task of another process starts running in this address space.
    pub fn add_guest(&self) {
        let mut st = self.state();
        st.guests += 1;
        self.publish(&st);
    }

    /// That task left (exec or exit).
    pub fn remove_guest(&self) {
        let mut st = self.state();
        st.guests = st.guests.saturating_sub(1);
        self.publish(&st);
    }

    fn publish(&self, st: &IdsState) {
        let valid = st.guests == 0 && st.pid > 0;
        let enc = |v: i32| if valid { v as u64 + 1 } else { 0 };
        // Each slot is one atomic store and each trampoline reads one slot, so a reader
        // sees an old or a new value, never a mix.
        let _ = self.frame.store_u64(0, enc(st.pid));
        let _ = self.frame.store_u64(8, enc(st.ppid));
    }
}

/// One patched site.
#[derive(Clone, Debug)]
struct Site {
    addr: u64,
    orig: [u8; SITE_LEN as usize],
    entry: u64,
}

impl Site {
    /// The bytes the site holds while patched: `jmp *entry`.
    fn patched(&self) -> [u8; SITE_LEN as usize] {
        let e = (self.entry as u32).to_le_bytes();
        [0xff, 0x24, 0x25, e[0], e[1], e[2], e[3]]
    }
}

/// The fast-path state of one address space.
#[derive(Clone, Debug)]
pub struct FastPath {
    base: u64,
    sites: Vec<Site>,
    ids: Arc<IdsPage>,
}

/// The trampoline of a site whose syscall `nr` is answered from `value_addr`, returning to
/// `ret` (the address after the original `syscall`). Flags are left alone and rcx ends as
/// the return address, as after a real syscall.
fn trampoline(value_addr: u32, nr: u32, ret: u64) -> Vec<u8> {
    let mut t = Vec::with_capacity(48);
    t.extend([0x48, 0x8b, 0x0c, 0x25]); // mov rcx, [value_addr]
    t.extend(value_addr.to_le_bytes());
    t.extend([0xe3, 0x10]); // jrcxz slow (16 bytes on)
    t.extend([0x48, 0x8d, 0x41, 0xff]); // lea rax, [rcx - 1]
    t.extend([0x48, 0xb9]); // movabs rcx, ret
    t.extend(ret.to_le_bytes());
    t.extend([0xff, 0xe1]); // jmp rcx
    t.push(0xb8); // slow: mov eax, nr
    t.extend(nr.to_le_bytes());
    t.extend([0x0f, 0x05]); // syscall
    t.extend([0x48, 0xb9]); // movabs rcx, ret
    t.extend(ret.to_le_bytes());
    t.extend([0xff, 0xe1]); // jmp rcx
    t
}

impl MemoryManager {
    /// The ids page of this address space, once a site was patched.
    pub fn fast_ids(&self) -> Option<&Arc<IdsPage>> {
        self.fast.as_ref().map(|f| &f.ids)
    }

    pub(super) fn in_table(&self, start: u64, end: u64) -> bool {
        self.fast
            .as_ref()
            .is_some_and(|f| start < f.base + TABLE_SIZE && f.base < end)
    }

    /// Rewrites the syscall site that just trapped with `nr`, returning to `rip`, into a
    /// jump to a trampoline, if it has the expected shape and `nr` is answered there.
    /// The caller guarantees that no other task uses this address space.
    pub fn patch_syscall(&mut self, rip: u64, nr: u64) -> Result<bool, Errno> {
        let Some(slot) = slot(nr) else {
            return Ok(false);
        };
        let Some(site) = rip.checked_sub(SITE_LEN) else {
            return Ok(false);
        };
        if self.in_table(site, rip) {
            return Ok(false);
        }
        let Some(v) = self.find(site) else {
            return Ok(false);
        };
        if rip > v.end || !v.prot.exec || !matches!(v.backing, Backing::Anon | Backing::File { .. })
        {
            return Ok(false);
        }
        let mut orig = [0u8; SITE_LEN as usize];
        self.copy_in(site, &mut orig)?;
        let n = (nr as u32).to_le_bytes();
        if orig != [0xb8, n[0], n[1], n[2], n[3], 0x0f, 0x05] {
            return Ok(false);
        }
        // A REX prefix before would make the bytes part of another instruction
        // (`mov $imm32, %r8d`, say).
        let mut before = [0u8; 1];
        if site > 0 && self.copy_in(site - 1, &mut before).is_ok() && before[0] & 0xf0 == 0x40 {
            return Ok(false);
        }
        self.ensure_table()?;
        let Some(fast) = self.fast.as_mut() else {
            return Ok(false);
        };
        let base = fast.base;
        let entry = match fast.sites.iter().position(|s| s.addr == site) {
            Some(i) => {
                fast.sites[i].orig = orig;
                fast.sites[i].entry
            }
            None if fast.sites.len() < MAX_SITES => {
                let entry = base + PAGE_SIZE + fast.sites.len() as u64 * ENTRY_SIZE;
                fast.sites.push(Site {
                    addr: site,
                    orig,
                    entry,
                });
                entry
            }
            None => return Ok(false),
        };
        let code = trampoline((base + slot * 8) as u32, nr as u32, rip);
        let mut bytes = (entry + 8).to_le_bytes().to_vec();
        bytes.extend(code);
        self.poke(entry, &bytes)?;
        let s = Site {
            addr: site,
            orig,
            entry,
        };
        self.poke(site, &s.patched())?;
        tracing::trace!(site, nr, "syscall site patched");
        Ok(true)
    }

    /// Maps the table if there is none yet, at the highest free place below 2 GiB.
    fn ensure_table(&mut self) -> Result<(), Errno> {
        if self.fast.is_some() {
            return Ok(());
        }
        let ceiling = TABLE_CEILING.min(self.limit());
        let mut base = ceiling.checked_sub(TABLE_SIZE).ok_or(Errno::ENOMEM)?;
        while self.overlaps(base, base + TABLE_SIZE) {
            base = base.checked_sub(0x10_0000).ok_or(Errno::ENOMEM)?;
            if base < TABLE_FLOOR {
                return Err(Errno::ENOMEM);
            }
        }
        let ids = IdsPage::new(&self.mf)?;
        self.map(
            Placement::FixedNoReplace(base),
            TABLE_SIZE,
            Prot::READ_EXEC,
            Backing::Anon,
            Some(LABEL),
        )?;
        self.pages.insert(base, ids.frame.clone());
        self.fast = Some(FastPath {
            base,
            sites: Vec::new(),
            ids,
        });
        Ok(())
    }

    /// Called before `[start, end)` is unmapped, replaced or reprotected: if the table is
    /// touched, every site gets its original bytes back and the fast path is gone; sites
    /// inside the range are forgotten (when `removing`) or restored.
    pub(super) fn fastpath_release(&mut self, start: u64, end: u64, removing: bool) {
        let Some(fast) = self.fast.as_ref() else {
            return;
        };
        let all = start < fast.base + TABLE_SIZE && fast.base < end;
        let (touched, kept): (Vec<Site>, Vec<Site>) = fast
            .sites
            .iter()
            .cloned()
            .partition(|s| all || (s.addr < end && start < s.addr + SITE_LEN));
        for s in touched {
            if removing && !all && s.addr >= start && s.addr + SITE_LEN <= end {
                continue; // the code goes away with the range
            }
            self.restore_site(&s);
        }
        if all {
            self.fast = None;
        } else if let Some(f) = self.fast.as_mut() {
            f.sites = kept;
        }
    }

    /// Puts back the original bytes of `s` if the patch is still there.
    fn restore_site(&mut self, s: &Site) {
        let mut now = [0u8; SITE_LEN as usize];
        if self.copy_in(s.addr, &mut now).is_ok() && now == s.patched() {
            let _ = self.poke(s.addr, &s.orig);
        }
    }

    /// Restores the patched sites in `[start, end)` before their code moves (mremap).
    pub fn unpatch_range(&mut self, start: u64, end: u64) {
        self.fastpath_release(start, end, false);
    }

    /// The fast path of a forked child: the same table and sites, with an ids page of its
    /// own (not valid until the caller sets it).
    pub(super) fn fork_fastpath(&self, child: &mut MemoryManager) -> Result<(), Errno> {
        if let Some(f) = &self.fast {
            let ids = IdsPage::new(&self.mf)?;
            child.pages.insert(f.base, ids.frame.clone());
            child.fast = Some(FastPath {
                base: f.base,
                sites: f.sites.clone(),
                ids,
            });
        }
        Ok(())
    }
}
