//! Parsing and validating ELF64 x86-64 executables, as Linux's `load_elf_binary` does.
//!
//! [`parse`] reads the ELF header and program header table and returns what the loader
//! needs to map the program. Where Linux accepts a file and only fails later (after the
//! point of no return, killing the task with SIGSEGV), or never checks at all, this module
//! is stricter and rejects the file up front with [`LoadError::BadElf`]; each such place is
//! documented on [`parse`].

use super::{read_full, LoadError, ReadAt};
use std::io;

/// The page size of x86-64 that ELF segments are mapped with.
pub const PAGE_SIZE: u64 = 4096;
/// Linux's `TASK_SIZE` on x86-64 with 4-level paging: the end of the user address space.
/// A PT_LOAD must end at or below it (Linux: `p_vaddr + p_memsz <= TASK_SIZE`).
pub const TASK_SIZE: u64 = (1 << 47) - PAGE_SIZE;
/// Size of an ELF64 program header (`sizeof(Elf64_Phdr)`).
pub const PHDR_SIZE: u16 = 56;
/// Most program headers Linux accepts: the table may be at most 64 KiB.
pub const MAX_PHNUM: u16 = (65536 / PHDR_SIZE as u32) as u16;
/// Longest PT_INTERP (with its NUL) Linux accepts: `PATH_MAX`.
pub const MAX_INTERP_LEN: u64 = 4096;

const EHDR_SIZE: usize = 64;
const ELFMAG: &[u8; 4] = b"\x7fELF";
const EI_CLASS: usize = 4;
const EI_DATA: usize = 5;
const EI_VERSION: usize = 6;
const ELFCLASS64: u8 = 2;
const ELFDATA2LSB: u8 = 1;
const EV_CURRENT: u8 = 1;
const ET_EXEC: u16 = 2;
const ET_DYN: u16 = 3;
const EM_X86_64: u16 = 62;

const PT_LOAD: u32 = 1;
const PT_INTERP: u32 = 3;
const PT_PHDR: u32 = 6;
const PT_GNU_STACK: u32 = 0x6474_e551;
const PF_X: u32 = 1;
const PF_W: u32 = 2;
const PF_R: u32 = 4;

/// Memory protection of a loadable segment, from its `p_flags`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SegProt {
    /// `PF_R`.
    pub read: bool,
    /// `PF_W`.
    pub write: bool,
    /// `PF_X`.
    pub exec: bool,
}

impl SegProt {
    fn from_flags(flags: u32) -> SegProt {
        SegProt {
            read: flags & PF_R != 0,
            write: flags & PF_W != 0,
            exec: flags & PF_X != 0,
        }
    }
}

/// One validated PT_LOAD program header.
///
/// Guarantees: `filesz <= memsz`; `vaddr + memsz <= TASK_SIZE`; `align` is 0 or a power of
/// two; if `filesz > 0`, `offset + filesz` lies within the file and
/// `offset % PAGE_SIZE == vaddr % PAGE_SIZE`. If `filesz == 0`, `offset` is meaningless
/// (Linux maps such a segment as anonymous memory and never looks at it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadSegment {
    /// `p_vaddr`: where the segment starts, before the load bias.
    pub vaddr: u64,
    /// `p_memsz`: bytes of memory; those past `filesz` are zero (.bss).
    pub memsz: u64,
    /// `p_filesz`: bytes backed by the file.
    pub filesz: u64,
    /// `p_offset`: where the file bytes start in the file.
    pub offset: u64,
    /// `p_align` (0 or a power of two).
    pub align: u64,
    /// Protection from `p_flags`.
    pub prot: SegProt,
}

/// The ELF object type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElfKind {
    /// `ET_EXEC`: loaded at its link addresses (load bias 0).
    Exec,
    /// `ET_DYN`: position independent (PIE or the dynamic loader); loaded at a chosen bias.
    Dyn,
}

/// What the loader needs to know about a validated executable.
#[derive(Clone, Debug)]
pub struct ElfInfo {
    /// `e_type`.
    pub kind: ElfKind,
    /// `e_entry`, before the load bias (not validated, as Linux does not validate it before
    /// the point of no return either).
    pub entry: u64,
    /// `e_phoff`: file offset of the program header table.
    pub phoff: u64,
    /// `e_phnum`, in `1..=MAX_PHNUM` (for `AT_PHNUM`).
    pub phnum: u16,
    /// `e_phentsize`, always [`PHDR_SIZE`] (for `AT_PHENT`).
    pub phentsize: u16,
    /// Virtual address (before load bias) where the program headers are mapped, for
    /// `AT_PHDR`. As Linux 5.18+ does, this is computed from the PT_LOAD whose file bytes
    /// contain offset `e_phoff` (`e_phoff - p_offset + p_vaddr`; the last such segment in
    /// file order wins, as in Linux's loop). Linux itself ignores PT_PHDR; only when no
    /// PT_LOAD contains the table do we fall back to PT_PHDR's `p_vaddr` (Linux would pass
    /// the bare load bias). `None` if neither exists.
    pub phdr_vaddr: Option<u64>,
    /// The PT_LOAD segments, in file order. Linux requires neither sorting nor
    /// non-overlap: it maps them in file order with `MAP_FIXED`, so where two overlap, the
    /// later one wins. Map them the same way.
    pub segments: Vec<LoadSegment>,
    /// The PT_INTERP path without its NUL (never empty, no NUL inside). When parsing the
    /// interpreter itself, ignore this field as Linux does.
    pub interp: Option<Vec<u8>>,
    /// Whether the stack is executable: PF_X of the last PT_GNU_STACK; `false` if there is
    /// none (on x86-64 Linux an absent PT_GNU_STACK means a non-executable stack unless the
    /// READ_IMPLIES_EXEC personality is set, which is the caller's business).
    pub exec_stack: bool,
    /// Lowest `p_vaddr` over PT_LOAD, rounded down to a page.
    pub min_vaddr: u64,
    /// Highest `p_vaddr + p_memsz` over PT_LOAD, rounded up to a page (`<= TASK_SIZE`).
    pub max_vaddr: u64,
}

/// Returns `Err(LoadError::BadElf(format!(...)))`.
macro_rules! bail {
    ($($arg:tt)*) => {
        return Err(LoadError::BadElf(format!($($arg)*)))
    };
}

/// Returns `Err(LoadError::Unsupported(format!(...)))`.
macro_rules! unsupported {
    ($($arg:tt)*) => {
        return Err(LoadError::Unsupported(format!($($arg)*)))
    };
}

fn u16_at(b: &[u8], off: usize) -> u16 {
    let mut a = [0u8; 2];
    if let Some(s) = b.get(off..off.saturating_add(2)) {
        a.copy_from_slice(s);
    }
    u16::from_le_bytes(a)
}

fn u32_at(b: &[u8], off: usize) -> u32 {
    let mut a = [0u8; 4];
    if let Some(s) = b.get(off..off.saturating_add(4)) {
        a.copy_from_slice(s);
    }
    u32::from_le_bytes(a)
}

fn u64_at(b: &[u8], off: usize) -> u64 {
    let mut a = [0u8; 8];
    if let Some(s) = b.get(off..off.saturating_add(8)) {
        a.copy_from_slice(s);
    }
    u64::from_le_bytes(a)
}

/// One raw program header.
#[derive(Clone, Copy)]
struct Phdr {
    p_type: u32,
    flags: u32,
    offset: u64,
    vaddr: u64,
    filesz: u64,
    memsz: u64,
    align: u64,
}

impl Phdr {
    fn decode(b: &[u8]) -> Phdr {
        Phdr {
            p_type: u32_at(b, 0),
            flags: u32_at(b, 4),
            offset: u64_at(b, 8),
            vaddr: u64_at(b, 16),
            filesz: u64_at(b, 32),
            memsz: u64_at(b, 40),
            align: u64_at(b, 48),
        }
    }
}

/// Validates the ELF header; returns the object kind.
fn check_header(eh: &[u8], got: usize) -> Result<ElfKind, LoadError> {
    if got < ELFMAG.len() || eh.get(..4) != Some(&ELFMAG[..]) {
        return Err(LoadError::NotElf);
    }
    if got < EHDR_SIZE {
        bail!("truncated ELF header ({got} of {EHDR_SIZE} bytes)");
    }
    let (class, data, version) = (eh[EI_CLASS], eh[EI_DATA], eh[EI_VERSION]);
    if class != ELFCLASS64 {
        unsupported!("ELF class {class} (1 is 32-bit; only ELFCLASS64 = 2 is supported)");
    }
    if data != ELFDATA2LSB {
        unsupported!("ELF data encoding {data} (2 is big-endian; only ELFDATA2LSB = 1)");
    }
    if version != EV_CURRENT {
        bail!("e_ident[EI_VERSION] is {version}, not EV_CURRENT");
    }
    let kind = match u16_at(eh, 16) {
        ET_EXEC => ElfKind::Exec,
        ET_DYN => ElfKind::Dyn,
        t => unsupported!("e_type {t} (only ET_EXEC = 2 and ET_DYN = 3 can be executed)"),
    };
    let machine = u16_at(eh, 18);
    if machine != EM_X86_64 {
        unsupported!("e_machine {machine} (only EM_X86_64 = 62 is supported)");
    }
    let phentsize = u16_at(eh, 54);
    if phentsize != PHDR_SIZE {
        bail!("e_phentsize is {phentsize}, not {PHDR_SIZE}");
    }
    let phnum = u16_at(eh, 56);
    if phnum == 0 || phnum > MAX_PHNUM {
        bail!("e_phnum is {phnum}, not in 1..={MAX_PHNUM}");
    }
    Ok(kind)
}

/// Reads and validates the PT_INTERP path at `ph`.
fn read_interp(file: &dyn ReadAt, ph: &Phdr) -> Result<Vec<u8>, LoadError> {
    let (offset, size) = (ph.offset, ph.filesz);
    if !(2..=MAX_INTERP_LEN).contains(&size) {
        bail!("PT_INTERP size {size} is not in 2..={MAX_INTERP_LEN}");
    }
    // size <= 4096, so this allocation is bounded and the cast cannot truncate.
    let mut path = vec![0u8; size as usize];
    if read_full(file, offset, &mut path)? < path.len() {
        // Linux's elf_read fails with EIO here (and execve returns EIO).
        let msg = format!("PT_INTERP (offset {offset:#x}, {size} bytes) extends past end of file");
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, msg).into());
    }
    if path.pop() != Some(0) {
        bail!("PT_INTERP path is not NUL-terminated");
    }
    if path.contains(&0) {
        bail!("PT_INTERP path contains a NUL byte before its end");
    }
    Ok(path)
}

/// Validates PT_LOAD number `index` (counting all program headers) of a file of `file_size`.
fn check_load(ph: &Phdr, index: usize, file_size: u64) -> Result<LoadSegment, LoadError> {
    let Phdr {
        offset,
        vaddr,
        filesz,
        memsz,
        align,
        ..
    } = *ph;
    let what = format!("PT_LOAD (program header {index})");
    if filesz > memsz {
        bail!("{what}: p_filesz {filesz:#x} is larger than p_memsz {memsz:#x}");
    }
    let Some(end) = vaddr.checked_add(memsz) else {
        bail!("{what}: p_vaddr {vaddr:#x} + p_memsz {memsz:#x} overflows");
    };
    if end > TASK_SIZE {
        bail!("{what}: [{vaddr:#x}, {end:#x}) goes past the end of user space {TASK_SIZE:#x}");
    }
    if align > 1 && !align.is_power_of_two() {
        bail!("{what}: p_align {align:#x} is not a power of two");
    }
    if filesz > 0 {
        let Some(file_end) = offset.checked_add(filesz) else {
            bail!("{what}: p_offset {offset:#x} + p_filesz {filesz:#x} overflows");
        };
        if file_end > file_size {
            bail!("{what}: file bytes [{offset:#x}, {file_end:#x}) go past the end of the file");
        }
        if offset % PAGE_SIZE != vaddr % PAGE_SIZE {
            bail!(
                "{what}: p_offset {offset:#x} and p_vaddr {vaddr:#x} differ modulo the page size"
            );
        }
    }
    let prot = SegProt::from_flags(ph.flags);
    Ok(LoadSegment {
        vaddr,
        memsz,
        filesz,
        offset,
        align,
        prot,
    })
}

/// Parses and validates an ELF64 little-endian x86-64 executable (`ET_EXEC` or `ET_DYN`).
///
/// Checks, in order (first failure wins):
/// - the magic (`NotElf`), a complete 64-byte header (`BadElf`);
/// - `ELFCLASS64`, `ELFDATA2LSB` (`Unsupported`), `e_ident[EI_VERSION] == EV_CURRENT`;
/// - `e_type` is `ET_EXEC` or `ET_DYN`, `e_machine` is `EM_X86_64` (`Unsupported`);
/// - `e_phentsize == 56`, `e_phnum` in `1..=1170`, the table entirely in the file;
/// - at most one PT_INTERP, of 2..=4096 bytes, NUL-terminated with no NUL inside (a
///   short read of it is `Io(UnexpectedEof)`, i.e. `EIO`, as in Linux);
/// - every PT_LOAD as documented on [`LoadSegment`]; at least one PT_LOAD.
///
/// Where this is stricter than Linux 6.x (which we checked on a 6.18 kernel):
/// - Linux never checks `EI_CLASS`, `EI_DATA` or `EI_VERSION` (only `e_machine`), so it
///   runs an x86-64 ELF with a corrupted class or data byte; we reject it.
/// - Linux uses the first PT_INTERP and ignores later ones, and uses the path up to its
///   first NUL; we reject both oddities.
/// - Linux skips a non-power-of-two `p_align` when choosing the alignment; we reject it.
/// - Linux does not check PT_LOAD file ranges against the file size (touching the pages
///   past the end faults later), nor `filesz <= memsz`, page congruence or the address
///   range before the point of no return (the task dies with SIGSEGV instead of execve
///   failing); we reject all of these with `ENOEXEC`.
/// - A file without PT_LOAD is rejected (Linux would kill the task or jump into nothing).
pub fn parse(file: &dyn ReadAt) -> Result<ElfInfo, LoadError> {
    let mut eh = [0u8; EHDR_SIZE];
    let got = read_full(file, 0, &mut eh)?;
    let kind = check_header(&eh, got)?;
    let entry = u64_at(&eh, 24);
    let phoff = u64_at(&eh, 32);
    let phnum = u16_at(&eh, 56);

    // At most 1170 * 56 bytes: a bounded allocation.
    let table_len = usize::from(phnum) * usize::from(PHDR_SIZE);
    if phoff.checked_add(table_len as u64).is_none() {
        bail!("e_phoff {phoff:#x} + program header table size overflows");
    }
    let mut table = vec![0u8; table_len];
    if read_full(file, phoff, &mut table)? < table_len {
        // Linux fails this with ENOEXEC too (load_elf_phdrs' EIO is not propagated).
        bail!("program header table (offset {phoff:#x}, {table_len} bytes) is past end of file");
    }

    let file_size = file.size();
    let mut segments = Vec::new();
    let mut interp = None;
    let mut exec_stack = false;
    let mut pt_phdr = None;
    for (index, raw) in table.chunks_exact(usize::from(PHDR_SIZE)).enumerate() {
        let ph = Phdr::decode(raw);
        match ph.p_type {
            PT_LOAD => segments.push(check_load(&ph, index, file_size)?),
            PT_INTERP => {
                if interp.is_some() {
                    bail!("more than one PT_INTERP");
                }
                interp = Some(read_interp(file, &ph)?);
            }
            PT_GNU_STACK => exec_stack = ph.flags & PF_X != 0,
            PT_PHDR if pt_phdr.is_none() => pt_phdr = Some(ph.vaddr),
            _ => {}
        }
    }
    if segments.is_empty() {
        bail!("no PT_LOAD segment");
    }

    // Validated above: vaddr + memsz <= TASK_SIZE, which is page aligned, so none of the
    // following can overflow.
    let lo = segments.iter().map(|s| s.vaddr).min().unwrap_or(0);
    let hi = segments
        .iter()
        .map(|s| s.vaddr.saturating_add(s.memsz))
        .max()
        .unwrap_or(0);
    let min_vaddr = lo & !(PAGE_SIZE - 1);
    let max_vaddr = hi.saturating_add(PAGE_SIZE - 1) & !(PAGE_SIZE - 1);

    let mut phdr_vaddr = None;
    for s in &segments {
        // filesz > 0 implies offset + filesz <= file size, so the sums cannot overflow.
        if s.filesz > 0 && s.offset <= phoff && phoff - s.offset < s.filesz {
            phdr_vaddr = s.vaddr.checked_add(phoff - s.offset);
        }
    }
    let phdr_vaddr = phdr_vaddr.or(pt_phdr);

    Ok(ElfInfo {
        kind,
        entry,
        phoff,
        phnum,
        phentsize: PHDR_SIZE,
        phdr_vaddr,
        segments,
        interp,
        exec_stack,
        min_vaddr,
        max_vaddr,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A program header for building test images: (type, flags, offset, vaddr, filesz, memsz, align).
    type P = (u32, u32, u64, u64, u64, u64, u64);
    const LOAD: P = (PT_LOAD, PF_R | PF_X, 0, 0x40_0000, 0x1000, 0x2000, 0x1000);
    const STACK: P = (PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, 16);

    /// A 4096-byte ELF image: header, program headers at 64, `tail` at 0x800.
    fn image(phdrs: &[P], tail: &[u8]) -> Vec<u8> {
        let mut b = vec![0u8; 4096];
        b[..4].copy_from_slice(ELFMAG);
        b[4..8].copy_from_slice(&[ELFCLASS64, ELFDATA2LSB, EV_CURRENT, 0]);
        b[16..18].copy_from_slice(&ET_EXEC.to_le_bytes());
        b[18..20].copy_from_slice(&EM_X86_64.to_le_bytes());
        b[20..24].copy_from_slice(&1u32.to_le_bytes());
        b[24..32].copy_from_slice(&0x40_0100u64.to_le_bytes());
        b[32..40].copy_from_slice(&64u64.to_le_bytes());
        b[52..54].copy_from_slice(&64u16.to_le_bytes());
        b[54..56].copy_from_slice(&PHDR_SIZE.to_le_bytes());
        b[56..58].copy_from_slice(&(phdrs.len() as u16).to_le_bytes());
        for (i, p) in phdrs.iter().enumerate() {
            let o = 64 + 56 * i;
            b[o..o + 4].copy_from_slice(&p.0.to_le_bytes());
            b[o + 4..o + 8].copy_from_slice(&p.1.to_le_bytes());
            for (j, v) in [p.2, p.3, p.3, p.4, p.5, p.6].iter().enumerate() {
                b[o + 8 + 8 * j..o + 16 + 8 * j].copy_from_slice(&v.to_le_bytes());
            }
        }
        b[0x800..0x800 + tail.len()].copy_from_slice(tail);
        b
    }

    fn interp(len: u64) -> P {
        (PT_INTERP, PF_R, 0x800, 0x40_0800, len, len, 1)
    }

    fn bad_elf(b: &[u8], needle: &str) {
        match parse(&b) {
            Err(LoadError::BadElf(m)) => assert!(m.contains(needle), "{m:?} lacks {needle:?}"),
            other => panic!("expected BadElf({needle}), got {other:?}"),
        }
    }

    #[test]
    fn minimal_image() {
        let info = parse(&image(&[LOAD, STACK], &[])).unwrap();
        assert_eq!(info.kind, ElfKind::Exec);
        assert_eq!(
            (info.entry, info.phoff, info.phnum, info.phentsize),
            (0x40_0100, 64, 2, 56)
        );
        assert_eq!(info.segments.len(), 1);
        let prot = SegProt {
            read: true,
            write: false,
            exec: true,
        };
        assert_eq!(info.segments[0].prot, prot);
        assert_eq!((info.min_vaddr, info.max_vaddr), (0x40_0000, 0x40_2000));
        assert_eq!(info.phdr_vaddr, Some(0x40_0040));
        assert!(info.interp.is_none() && !info.exec_stack);
    }

    #[test]
    fn header_rejections() {
        let good = image(&[LOAD], &[]);
        for len in 0..64 {
            match parse(&&good[..len]) {
                Err(LoadError::NotElf) => assert!(len < 4),
                Err(LoadError::BadElf(_)) => assert!(len >= 4),
                other => panic!("truncated to {len}: {other:?}"),
            }
        }
        let patch = |off: usize, bytes: &[u8]| {
            let mut b = good.clone();
            b[off..off + bytes.len()].copy_from_slice(bytes);
            parse(&b)
        };
        assert!(matches!(patch(0, b"\x7fELG"), Err(LoadError::NotElf)));
        assert!(matches!(patch(4, &[1]), Err(LoadError::Unsupported(_))));
        assert!(matches!(patch(5, &[2]), Err(LoadError::Unsupported(_))));
        assert!(matches!(patch(6, &[0]), Err(LoadError::BadElf(_))));
        assert!(matches!(patch(16, &[1, 0]), Err(LoadError::Unsupported(_))));
        assert!(matches!(
            patch(16, &[3, 0]),
            Ok(ElfInfo {
                kind: ElfKind::Dyn,
                ..
            })
        ));
        assert!(matches!(patch(18, &[3, 0]), Err(LoadError::Unsupported(_))));
        assert!(matches!(patch(54, &[32, 0]), Err(LoadError::BadElf(_))));
        assert!(matches!(patch(56, &[0, 0]), Err(LoadError::BadElf(_))));
        assert!(matches!(
            patch(56, &(MAX_PHNUM + 1).to_le_bytes()),
            Err(LoadError::BadElf(_))
        ));
        for phoff in [u64::MAX - 10, 1 << 40, 4096 - 55] {
            assert!(matches!(
                patch(32, &phoff.to_le_bytes()),
                Err(LoadError::BadElf(_))
            ));
        }
        assert_eq!(patch(4, &[1]).unwrap_err().errno(), 8);
    }

    #[test]
    fn segment_rejections() {
        let with = |f: &dyn Fn(&mut P)| {
            let mut l = LOAD;
            f(&mut l);
            image(&[STACK, l], &[])
        };
        bad_elf(&with(&|l| l.4 = 0x3000), "larger than p_memsz");
        bad_elf(
            &with(&|l| (l.2, l.4, l.5) = (u64::MAX - 0xfff, 0x2000, 0x2000)),
            "overflows",
        );
        bad_elf(&with(&|l| l.4 = 0x1001), "past the end of the file");
        bad_elf(&with(&|l| l.3 = u64::MAX - 0xfff), "overflows");
        bad_elf(&with(&|l| l.3 = TASK_SIZE - 0x1000), "end of user space");
        assert!(parse(&with(&|l| l.3 = TASK_SIZE - 0x2000)).is_ok());
        bad_elf(&with(&|l| l.6 = 0x3000), "power of two");
        assert!(parse(&with(&|l| l.6 = 0)).is_ok());
        bad_elf(&with(&|l| (l.2, l.4) = (8, 0x100)), "differ modulo");
        // filesz == 0: the offset is never used, so Linux accepts any offset.
        assert!(parse(&with(&|l| (l.2, l.4) = (u64::MAX, 0))).is_ok());
        bad_elf(&image(&[STACK], &[]), "no PT_LOAD");
    }

    #[test]
    fn interp_rules() {
        let path = b"/lib64/ld-linux-x86-64.so.2\0";
        let ok = parse(&image(&[interp(28), LOAD], path)).unwrap();
        assert_eq!(ok.interp.as_deref(), Some(&path[..27]));
        bad_elf(&image(&[interp(27), LOAD], path), "not NUL-terminated");
        bad_elf(
            &image(&[interp(28), interp(28), LOAD], path),
            "more than one",
        );
        bad_elf(&image(&[interp(1), LOAD], b"\0"), "not in 2..=4096");
        bad_elf(&image(&[interp(4097), LOAD], path), "not in 2..=4096");
        bad_elf(&image(&[interp(5), LOAD], b"/a\0b\0"), "NUL byte before");
        let mut eof = interp(28);
        eof.2 = 4090;
        let err = parse(&image(&[eof, LOAD], path)).unwrap_err();
        assert!(
            matches!(err, LoadError::Io(_)) && err.errno() == 5,
            "{err:?}"
        );
    }

    #[test]
    fn phdr_stack_and_layout() {
        // Unsorted, overlapping segments are accepted (Linux maps them in file order).
        let hi = (PT_LOAD, PF_R | PF_W, 0x1000, 0x60_1000, 0, 0x5000, 0x1000);
        let lo = (PT_LOAD, PF_R, 0, 0x40_0000, 0x40, 0x40, 0x1000);
        let info = parse(&image(&[hi, LOAD, lo, STACK], &[])).unwrap();
        assert_eq!(info.segments[0].vaddr, 0x60_1000);
        assert_eq!((info.min_vaddr, info.max_vaddr), (0x40_0000, 0x60_6000));
        // The table starts at 64: `lo` only holds 0x40 bytes, so the LOAD holding it wins.
        assert_eq!(info.phdr_vaddr, Some(0x40_0040));
        let exec = (PT_GNU_STACK, PF_R | PF_W | PF_X, 0, 0, 0, 0, 16);
        assert!(parse(&image(&[LOAD, STACK, exec], &[])).unwrap().exec_stack);
        assert!(!parse(&image(&[LOAD, exec, STACK], &[])).unwrap().exec_stack);
        // Program headers outside every PT_LOAD: PT_PHDR, else nothing.
        let far = (PT_LOAD, PF_R, 0x1000, 0x40_1000, 0, 0x1000, 0x1000);
        let phdr = (PT_PHDR, PF_R, 64, 0x7000, 112, 112, 8);
        assert_eq!(
            parse(&image(&[far, phdr], &[])).unwrap().phdr_vaddr,
            Some(0x7000)
        );
        assert_eq!(parse(&image(&[far], &[])).unwrap().phdr_vaddr, None);
    }
}
