//! Virtual memory areas.

use std::sync::Arc;

use platform::Prot;

use super::frame::SharedObject;

/// A file a private mapping copies its pages from.
pub trait MappableFile: Send + Sync + std::fmt::Debug {
    /// Reads at `offset`; short reads past the end leave the rest zero.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize>;
    /// Name for /proc/PID/maps.
    fn name(&self) -> String;
    /// Current size in bytes (pages wholly past it raise SIGBUS when touched through a
    /// mapping); `u64::MAX` if unknown.
    fn size(&self) -> u64 {
        u64::MAX
    }
}

/// What backs a mapping.
#[derive(Clone, Debug)]
pub enum Backing {
    /// Private anonymous memory.
    Anon,
    /// Private copy of a file (`offset` is the file offset of the VMA's start).
    File {
        file: Arc<dyn MappableFile>,
        offset: u64,
    },
    /// Shared pages of an object (`offset` in bytes of the VMA's start within it); `file` is
    /// the file the object holds the data of, if any (for SIGBUS past its end).
    Shared {
        obj: Arc<SharedObject>,
        offset: u64,
        file: Option<Arc<dyn MappableFile>>,
    },
}

/// One mapping `[start, end)`.
#[derive(Clone, Debug)]
pub struct Vma {
    pub start: u64,
    pub end: u64,
    pub prot: Prot,
    /// The most `mprotect` may grant (a read-only file cannot become shared-writable).
    pub max_prot: Prot,
    pub backing: Backing,
    /// Grows down (the stack).
    pub grows_down: bool,
    /// Label for /proc/PID/maps ("[heap]", "[stack]").
    pub label: Option<&'static str>,
}

impl Vma {
    /// Whether the mapping is MAP_SHARED.
    pub fn shared(&self) -> bool {
        matches!(self.backing, Backing::Shared { .. })
    }

    /// The part of `self` in `[start, end)`, with offsets adjusted.
    pub fn slice(&self, start: u64, end: u64) -> Vma {
        let mut v = self.clone();
        let delta = start - self.start;
        v.start = start;
        v.end = end;
        match &mut v.backing {
            Backing::Anon => {}
            Backing::File { offset, .. } | Backing::Shared { offset, .. } => *offset += delta,
        }
        v
    }
}
