//! Loading Linux x86-64 programs: ELF executables, `#!` scripts and the initial process stack.
//!
//! Everything here is pure: it reads an executable through [`ReadAt`], validates it as Linux's
//! `fs/binfmt_elf.c` / `fs/binfmt_script.c` do, and describes what to map and what to put on
//! the stack. Mapping memory and switching the task's image is the caller's business.
//!
//! All functions are safe on hostile input: they never panic, never allocate more than a
//! small bounded amount decided by the file (at most 64 KiB of program headers and a 4 KiB
//! interpreter path), and use checked arithmetic on every file-controlled value.

pub mod elf;
pub mod shebang;
pub mod stack;

use std::io;

// errno values of Linux x86-64 (kept local: this module needs no libc).
const ENOENT: i32 = 2;
const EIO: i32 = 5;
const E2BIG: i32 = 7;
const ENOEXEC: i32 = 8;
const ENOMEM: i32 = 12;
const EACCES: i32 = 13;
const EINVAL: i32 = 22;

/// Why an executable could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file does not start with the ELF magic (execve: `ENOEXEC`).
    #[error("not an ELF file")]
    NotElf,
    /// The ELF file is malformed; the message names the problem (execve: `ENOEXEC`).
    #[error("malformed ELF file: {0}")]
    BadElf(String),
    /// A well-formed ELF file for another class, byte order, machine or object type
    /// (execve: `ENOEXEC`).
    #[error("unsupported ELF file: {0}")]
    Unsupported(String),
    /// A `#!` line without a usable interpreter name (execve: `ENOEXEC`).
    #[error("malformed #! line: {0}")]
    BadScript(String),
    /// The argument and environment strings do not fit (execve: `E2BIG`).
    #[error("argument list too long")]
    TooBig,
    /// Reading the file failed, or it ended where Linux would have failed a read
    /// (execve: the underlying errno, `EIO` when there is none).
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
}

impl LoadError {
    /// The errno Linux's execve would fail with for this error (a positive value).
    pub fn errno(&self) -> i32 {
        match self {
            LoadError::NotElf
            | LoadError::BadElf(_)
            | LoadError::Unsupported(_)
            | LoadError::BadScript(_) => ENOEXEC,
            LoadError::TooBig => E2BIG,
            LoadError::Io(e) => match e.raw_os_error() {
                Some(n) if n > 0 => n,
                _ => match e.kind() {
                    io::ErrorKind::NotFound => ENOENT,
                    io::ErrorKind::PermissionDenied => EACCES,
                    io::ErrorKind::OutOfMemory => ENOMEM,
                    io::ErrorKind::InvalidInput => EINVAL,
                    _ => EIO,
                },
            },
        }
    }
}

/// Random-access reading of an executable.
pub trait ReadAt {
    /// Reads up to `buf.len()` bytes at `offset`; returns how many were read, 0 at or past
    /// the end of the file. Like `pread(2)`, it may return fewer bytes than asked for.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize>;
    /// The size of the file in bytes.
    fn size(&self) -> u64;
}

impl ReadAt for [u8] {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let Ok(start) = usize::try_from(offset) else {
            return Ok(0);
        };
        let Some(src) = self.get(start..) else {
            return Ok(0);
        };
        let n = src.len().min(buf.len());
        buf[..n].copy_from_slice(&src[..n]);
        Ok(n)
    }

    fn size(&self) -> u64 {
        self.len() as u64
    }
}

/// Lets a `Vec<u8>` be passed directly as `&dyn ReadAt` (a bare `[u8]` cannot coerce).
impl ReadAt for Vec<u8> {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        self.as_slice().read_at(offset, buf)
    }

    fn size(&self) -> u64 {
        self.len() as u64
    }
}

/// Lets any reference to a reader be a reader, so `&&[u8]` (i.e. `parse(&slice)`) works.
impl<T: ReadAt + ?Sized> ReadAt for &T {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        (**self).read_at(offset, buf)
    }

    fn size(&self) -> u64 {
        (**self).size()
    }
}

impl ReadAt for std::fs::File {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        std::os::unix::fs::FileExt::read_at(self, buf, offset)
    }

    /// The file's current length; 0 if it cannot be stat'ed (every later read then fails
    /// the bounds checks, so the error still surfaces as a rejected executable).
    fn size(&self) -> u64 {
        self.metadata().map(|m| m.len()).unwrap_or(0)
    }
}

/// Reads into `buf` at `offset` until it is full or the file ends; returns the count read.
/// `EINTR` is retried; a reader claiming more bytes than asked for is not trusted.
pub(crate) fn read_full(file: &dyn ReadAt, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0usize;
    while filled < buf.len() {
        let Some(pos) = offset.checked_add(filled as u64) else {
            break;
        };
        let rest = &mut buf[filled..];
        match file.read_at(pos, rest) {
            Ok(0) => break,
            Ok(n) => filled += n.min(rest.len()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::elf::{ElfKind, LoadSegment, SegProt, PAGE_SIZE};
    use super::*;
    use std::process::Command;

    #[test]
    fn errno_mapping() {
        assert_eq!(LoadError::NotElf.errno(), ENOEXEC);
        assert_eq!(LoadError::BadElf("x".into()).errno(), ENOEXEC);
        assert_eq!(LoadError::Unsupported("x".into()).errno(), ENOEXEC);
        assert_eq!(LoadError::BadScript("x".into()).errno(), ENOEXEC);
        assert_eq!(LoadError::TooBig.errno(), E2BIG);
        assert_eq!(
            LoadError::Io(io::Error::from_raw_os_error(EACCES)).errno(),
            EACCES
        );
        assert_eq!(
            LoadError::Io(io::ErrorKind::UnexpectedEof.into()).errno(),
            EIO
        );
        assert_eq!(
            LoadError::Io(io::ErrorKind::NotFound.into()).errno(),
            ENOENT
        );
        assert_eq!(
            LoadError::Io(io::ErrorKind::PermissionDenied.into()).errno(),
            EACCES
        );
    }

    #[test]
    fn slice_and_file_readers() {
        let data: &[u8] = b"hello world";
        let mut buf = [0u8; 5];
        assert_eq!(data.read_at(6, &mut buf).unwrap(), 5);
        assert_eq!(&buf, b"world");
        assert_eq!(data.read_at(9, &mut buf).unwrap(), 2);
        assert_eq!(data.read_at(11, &mut buf).unwrap(), 0);
        assert_eq!(data.read_at(u64::MAX, &mut buf).unwrap(), 0);
        assert_eq!(data.size(), 11);
        let r: &dyn ReadAt = &data;
        let mut big = [0u8; 32];
        assert_eq!(read_full(r, 0, &mut big).unwrap(), 11);
        assert_eq!(read_full(r, u64::MAX, &mut big).unwrap(), 0);

        let f = std::fs::File::open("/proc/self/exe").unwrap();
        let mut magic = [0u8; 4];
        assert_eq!(read_full(&f, 0, &mut magic).unwrap(), 4);
        assert_eq!(&magic, b"\x7fELF");
        assert!(ReadAt::size(&f) > 64);
    }

    /// Compares `parse` with `readelf -lW` on a real binary.
    fn check_real(path: &str, kind: ElfKind, interp: Option<&str>, phdr_vaddr: u64) {
        let Ok(file) = std::fs::File::open(path) else {
            eprintln!("skipping {path}: not present (apt-get install busybox-static)");
            return;
        };
        let info = elf::parse(&file).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(info.kind, kind, "{path}");
        assert_eq!(info.interp.as_deref(), interp.map(str::as_bytes), "{path}");
        assert_eq!(info.phdr_vaddr, Some(phdr_vaddr), "{path}");
        assert!(!info.exec_stack);
        let Ok(out) = Command::new("readelf").args(["-lW", path]).output() else {
            eprintln!("skipping readelf comparison for {path}: no readelf");
            return;
        };
        let text = String::from_utf8_lossy(&out.stdout);
        let hex = |s: &str| u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap();
        let mut loads = Vec::new();
        for line in text.lines() {
            let t: Vec<&str> = line.split_whitespace().collect();
            if t.first() == Some(&"LOAD") {
                let flags = t[6..t.len() - 1].concat();
                let prot = SegProt {
                    read: flags.contains('R'),
                    write: flags.contains('W'),
                    exec: flags.contains('E'),
                };
                let (offset, vaddr, filesz, memsz) = (hex(t[1]), hex(t[2]), hex(t[4]), hex(t[5]));
                let align = hex(t[t.len() - 1]);
                loads.push(LoadSegment {
                    vaddr,
                    memsz,
                    filesz,
                    offset,
                    align,
                    prot,
                });
            } else if let Some(e) = line.strip_prefix("Entry point ") {
                assert_eq!(info.entry, hex(e), "{path}");
            } else if let Some(rest) = line.strip_prefix("There are ") {
                let want = format!(
                    "{} program headers, starting at offset {}",
                    info.phnum, info.phoff
                );
                assert_eq!(rest, want, "{path}");
            } else if let Some(t) = line.strip_prefix("Elf file type is ") {
                assert_eq!(t.starts_with("DYN"), info.kind == ElfKind::Dyn, "{path}");
            }
        }
        assert_eq!(info.segments, loads, "{path}");
        let hi = loads.iter().map(|s| s.vaddr + s.memsz).max().unwrap();
        assert_eq!(info.max_vaddr, hi.next_multiple_of(PAGE_SIZE));
    }

    #[test]
    fn real_binaries() {
        check_real("/bin/busybox", ElfKind::Exec, None, 0x40_0040);
        check_real(
            "/bin/ls",
            ElfKind::Dyn,
            Some("/lib64/ld-linux-x86-64.so.2"),
            0x40,
        );
        check_real("/lib64/ld-linux-x86-64.so.2", ElfKind::Dyn, None, 0x40);
    }

    /// Random byte flips must never panic (results are not checked).
    #[test]
    fn fuzz_never_panics() {
        let mut whole = std::fs::read("/bin/busybox")
            .or_else(|_| std::fs::read("/proc/self/exe"))
            .unwrap();
        let head = whole[..4096].to_vec();
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut accepted = 0;
        for i in 0..20_000 {
            let mut b = head.clone();
            for _ in 0..1 + next() % 4 {
                // Bias half the flips towards the ELF header and program headers.
                let span = if next() % 2 == 0 {
                    64 + 56 * 12
                } else {
                    b.len()
                };
                let at = (next() % span as u64) as usize;
                b[at] ^= 1 << (next() % 8);
                if i % 3 == 0 {
                    b[at] = next() as u8;
                }
            }
            let _ = elf::parse(&b);
            // The same flips on the whole file, where segment bounds can pass.
            whole[..4096].copy_from_slice(&b);
            if let Ok(info) = elf::parse(&whole) {
                accepted += 1;
                assert!(!info.segments.is_empty() && info.phnum > 0);
                assert!(info.min_vaddr <= info.max_vaddr && info.max_vaddr <= elf::TASK_SIZE);
                assert!(info.segments.iter().all(|s| s.filesz <= s.memsz));
            }
        }
        assert!(
            accepted > 0,
            "no mutant was ever accepted: the fuzzer tests nothing"
        );
    }
}
