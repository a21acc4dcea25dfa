//! Guest page tables: a 4-level tree per address space in system memory, kept in step with
//! `AddressSpace::map` and `unmap`, and the TLB shootdown that makes a removal final.
//!
//! Leaf entries carry the user bit, the write bit when the mapping is writable and NX
//! when it is not executable; accessed and dirty are preset so the CPU never writes a
//! table. Intermediate entries allow everything (the leaf decides). Table pages of an
//! address space are kept until it is dropped.
//!
//! The host writes the tables directly. Adding a mapping needs nothing more: a TLB (or a
//! hypervisor's shadow page table) never caches an absent entry. Removing or narrowing
//! one needs two things before `unmap`/`map` may return:
//!
//! - a hypervisor that shadows guest page tables (KVM without EPT/NPT, PVM) does not see
//!   host writes to them, so every leaf table whose present entries changed is queued for
//!   the stub to "touch" (a 2-byte store, which KVM's shadow MMU treats as a misaligned
//!   page-table write and answers by dropping its shadows of that table); the queue is
//!   drained before any vCPU next runs application code (`Vm::apply_touches`);
//! - every vCPU running in the address space is kicked out of the guest and waited for;
//!   any vCPU entering it with an older generation reloads CR3 (a TLB flush) first.

use std::any::Any;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::layout::*;
use super::vm::Vm;
use crate::{AddressSpace, PlatformError, Prot, Result};

/// Present.
pub const PTE_P: u64 = 1 << 0;
/// Writable.
pub const PTE_RW: u64 = 1 << 1;
/// User accessible.
pub const PTE_US: u64 = 1 << 2;
/// Large page (in a page-directory entry).
pub const PTE_PS: u64 = 1 << 7;
/// Accessed and dirty.
pub const PTE_AD: u64 = (1 << 5) | (1 << 6);
/// No execute.
pub const PTE_NX: u64 = 1 << 63;
/// Physical address bits of an entry.
const PTE_ADDR: u64 = 0x000f_ffff_ffff_f000;
/// An intermediate entry of the kernel half.
pub const KERNEL_TABLE: u64 = PTE_P | PTE_RW | (1 << 5);
/// An intermediate entry of the user half.
const USER_TABLE: u64 = PTE_P | PTE_RW | PTE_US | (1 << 5);

/// The leaf entry mapping guest-physical `gpa` with `prot` (0: not present).
fn leaf(gpa: u64, prot: Prot) -> u64 {
    if !(prot.read || prot.write || prot.exec) {
        return 0;
    }
    let mut e = gpa | PTE_P | PTE_US | PTE_AD;
    if prot.write {
        e |= PTE_RW;
    }
    if !prot.exec {
        e |= PTE_NX;
    }
    e
}

const fn index(va: u64, level: u32) -> u64 {
    (va >> (12 + 9 * level)) & 511
}

/// An address space of the kvm platform.
pub struct KvmAddressSpace {
    pub(crate) vm: Arc<Vm>,
    /// Unique among the VM's address spaces, never 0.
    pub(crate) id: u64,
    /// Guest-physical address of the PML4.
    pub(crate) root: u64,
    /// Table pages (root included); the lock serialises changes.
    tables: Mutex<Vec<u64>>,
    /// Bumped by every change that removes or narrows a mapping; a vCPU entering with an
    /// older generation flushes its TLB first.
    pub(crate) generation: AtomicU64,
    /// Nanoseconds vCPUs spent running in this address space (runs that ended).
    pub(crate) cpu_ns: AtomicU64,
    /// The largest CPU time reported so far: what is read stays monotonic even when a run
    /// ends between the two loads of `cpu_time`.
    reported_ns: AtomicU64,
}

impl KvmAddressSpace {
    pub(crate) fn new(vm: Arc<Vm>) -> Result<Self> {
        let root = vm.new_root()?;
        Ok(KvmAddressSpace {
            id: vm.next_as_id(),
            vm,
            root,
            tables: Mutex::new(vec![root]),
            generation: AtomicU64::new(0),
            cpu_ns: AtomicU64::new(0),
            reported_ns: AtomicU64::new(0),
        })
    }

    fn check_range(addr: u64, len: u64) -> Result<()> {
        let ok = addr.is_multiple_of(PAGE)
            && len.is_multiple_of(PAGE)
            && len > 0
            && addr
                .checked_add(len)
                .is_some_and(|end| end <= MAX_USER_ADDRESS);
        if ok {
            Ok(())
        } else {
            Err(PlatformError::InvalidArgument(format!(
                "range {addr:#x}+{len:#x}"
            )))
        }
    }

    /// The leaf table and entry for `va`, creating missing tables when `create`; when a
    /// table on the way is missing (and not created), `Err(span)`: the bytes from the
    /// aligned start of `va`'s span that it would have mapped, all unmapped.
    fn walk(
        &self,
        tables: &mut Vec<u64>,
        va: u64,
        create: bool,
    ) -> Result<std::result::Result<(u64, &AtomicU64), u64>> {
        let mut table = self.root;
        for level in (1..=3).rev() {
            let e = self.vm.entry(table + 8 * index(va, level))?;
            let v = e.load(Ordering::Acquire);
            table = if v & PTE_P != 0 {
                v & PTE_ADDR
            } else if create {
                let t = self.vm.alloc_table()?;
                tables.push(t);
                e.store(t | USER_TABLE, Ordering::Release);
                t
            } else {
                return Ok(Err(PAGE << (9 * level)));
            };
        }
        Ok(Ok((table, self.vm.entry(table + 8 * index(va, 0))?)))
    }

    /// Makes every vCPU that may hold stale translations of this address space drop them
    /// before it runs application code again; returns once none can use them. `changed`
    /// are the leaf tables whose present entries changed: the hypervisor may keep shadow
    /// copies of them that host writes do not update, so they are queued for the stub to
    /// touch (which makes KVM drop those copies) before any vCPU runs again.
    fn shootdown(&self, changed: &[u64]) {
        self.vm.queue_touch(changed);
        let gen = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        for v in self.vm.all_vcpus() {
            let mut spins = 0u32;
            while v.running_in(self.id) && v.entered_generation() < gen {
                v.kick();
                spins += 1;
                if spins < 64 {
                    std::thread::yield_now();
                } else {
                    std::thread::sleep(Duration::from_micros(50));
                }
            }
        }
    }
}

impl AddressSpace for KvmAddressSpace {
    fn map(&self, addr: u64, len: u64, file_offset: u64, prot: Prot) -> Result<()> {
        Self::check_range(addr, len)?;
        let in_file = file_offset.is_multiple_of(PAGE)
            && file_offset
                .checked_add(len)
                .is_some_and(|end| end <= self.vm.memfile.size());
        if !in_file {
            return Err(PlatformError::InvalidArgument(format!(
                "memory file range {file_offset:#x}+{len:#x}"
            )));
        }
        let mut changed = Vec::new();
        {
            let mut tables = self.tables.lock().unwrap_or_else(|e| e.into_inner());
            for off in (0..len).step_by(PAGE as usize) {
                let new = leaf(MEM_GPA + file_offset + off, prot);
                if let Ok((table, e)) = self.walk(&mut tables, addr + off, new != 0)? {
                    let old = e.swap(new, Ordering::AcqRel);
                    if old & PTE_P != 0 && old != new && changed.last() != Some(&table) {
                        changed.push(table);
                    }
                }
            }
        }
        if !changed.is_empty() {
            self.shootdown(&changed);
        }
        Ok(())
    }

    fn unmap(&self, addr: u64, len: u64) -> Result<()> {
        Self::check_range(addr, len)?;
        let mut changed = Vec::new();
        {
            let mut tables = self.tables.lock().unwrap_or_else(|e| e.into_inner());
            let end = addr + len;
            let mut va = addr;
            while va < end {
                match self.walk(&mut tables, va, false)? {
                    Ok((table, e)) => {
                        if e.swap(0, Ordering::AcqRel) & PTE_P != 0
                            && changed.last() != Some(&table)
                        {
                            changed.push(table);
                        }
                        va += PAGE;
                    }
                    // Nothing mapped in this table's span: skip it.
                    Err(span) => va = (va | (span - 1)) + 1,
                }
            }
        }
        if !changed.is_empty() {
            self.shootdown(&changed);
        }
        Ok(())
    }

    fn cpu_time(&self) -> Option<Duration> {
        let mut ns = self.cpu_ns.load(Ordering::SeqCst);
        let now = super::vcpu::now_ns();
        for v in self.vm.all_vcpus() {
            let since = v.run_since.load(Ordering::SeqCst);
            if since != 0 && v.running_in(self.id) {
                ns += now.saturating_sub(since);
            }
        }
        let before = self.reported_ns.fetch_max(ns, Ordering::SeqCst);
        Some(Duration::from_nanos(ns.max(before)))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Drop for KvmAddressSpace {
    fn drop(&mut self) {
        // No vCPU runs here (each switch holds an Arc of the address space); one that ran
        // here last loads another CR3 (synced segment registers, then the stub's flush
        // path) before it runs again. The pages are reused only once the hypervisor has
        // dropped its shadows of them.
        let tables = std::mem::take(self.tables.get_mut().unwrap_or_else(|e| e.into_inner()));
        self.vm.retire_tables(&tables);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaf_bits() {
        assert_eq!(leaf(0x5000, Prot::NONE), 0);
        assert_eq!(leaf(0x5000, Prot::READ), 0x5000 | 0x65 | PTE_NX);
        assert_eq!(leaf(0x5000, Prot::READ_WRITE), 0x5000 | 0x67 | PTE_NX);
        assert_eq!(leaf(0x5000, Prot::READ_EXEC), 0x5000 | 0x65);
        assert_eq!(index(0x7fff_ffff_f000, 3), 255);
        assert_eq!(index(KERNEL_VA, 3), 511);
    }
}
