//! The initial process stack, laid out as Linux's execve (`fs/exec.c`) and
//! `create_elf_tables` (`fs/binfmt_elf.c`) lay it out on x86-64.
//!
//! From `top` downwards (checked against a Linux 6.18 process):
//!
//! ```text
//! top      8 zero bytes (Linux starts copying at vm_end - sizeof(void *))
//!          execfn string                      <- AT_EXECFN            (= env_end)
//!          envp strings, envp[0] lowest       <- env_start            (= arg_end)
//!          argv strings, argv[0] lowest       <- arg_start
//!          zero padding down to a 16-byte boundary
//!          "x86_64\0"                         <- AT_PLATFORM (ends 16-aligned)
//!          16 random bytes                    <- AT_RANDOM
//!          zero padding (0..16 bytes)
//!          auxv pairs, ending with AT_NULL
//!          NULL, envp pointers
//!          NULL, argv pointers
//! sp       argc                               (sp % 16 == 0)
//! ```
//!
//! One deviation: Linux's `arch_align_stack` also moves the platform string down by a random
//! 0..8 KiB below the strings; we do not randomize inside the image (randomize `top`).

use super::LoadError;

/// End of the auxiliary vector.
pub const AT_NULL: u64 = 0;
/// Entry to be ignored.
pub const AT_IGNORE: u64 = 1;
/// File descriptor of the program (binfmt_misc).
pub const AT_EXECFD: u64 = 2;
/// Address of the program headers of the program.
pub const AT_PHDR: u64 = 3;
/// Size of one program header.
pub const AT_PHENT: u64 = 4;
/// Number of program headers.
pub const AT_PHNUM: u64 = 5;
/// System page size.
pub const AT_PAGESZ: u64 = 6;
/// Load address of the interpreter (0 without one).
pub const AT_BASE: u64 = 7;
/// Flags (`AT_FLAGS_PRESERVE_ARGV0` = 1 for binfmt_misc).
pub const AT_FLAGS: u64 = 8;
/// Entry point of the program (not of the interpreter).
pub const AT_ENTRY: u64 = 9;
/// Program is not ELF.
pub const AT_NOTELF: u64 = 10;
/// Real uid.
pub const AT_UID: u64 = 11;
/// Effective uid.
pub const AT_EUID: u64 = 12;
/// Real gid.
pub const AT_GID: u64 = 13;
/// Effective gid.
pub const AT_EGID: u64 = 14;
/// Address of the platform string (`"x86_64"`).
pub const AT_PLATFORM: u64 = 15;
/// CPU capabilities (CPUID 1 EDX on x86).
pub const AT_HWCAP: u64 = 16;
/// Frequency of `times()` (100).
pub const AT_CLKTCK: u64 = 17;
/// Secure mode (setuid/setgid/capabilities gained).
pub const AT_SECURE: u64 = 23;
/// Address of the base platform string (not on x86).
pub const AT_BASE_PLATFORM: u64 = 24;
/// Address of 16 random bytes.
pub const AT_RANDOM: u64 = 25;
/// More CPU capabilities (x86: ring-3 MONITOR/MWAIT, FSGSBASE).
pub const AT_HWCAP2: u64 = 26;
/// rseq feature size supported by the kernel.
pub const AT_RSEQ_FEATURE_SIZE: u64 = 27;
/// rseq area alignment required.
pub const AT_RSEQ_ALIGN: u64 = 28;
/// Even more CPU capabilities.
pub const AT_HWCAP3: u64 = 29;
/// Yet more CPU capabilities.
pub const AT_HWCAP4: u64 = 30;
/// Address of the file name the program was executed by.
pub const AT_EXECFN: u64 = 31;
/// i386 only: the vsyscall entry point.
pub const AT_SYSINFO: u64 = 32;
/// Address of the vDSO's ELF header.
pub const AT_SYSINFO_EHDR: u64 = 33;
/// Minimal stack size for signal delivery.
pub const AT_MINSIGSTKSZ: u64 = 51;

/// Longest argument or environment string, with its NUL (Linux: 32 pages).
pub const MAX_ARG_STRLEN: usize = 32 * 4096;
/// Most argument or environment strings.
pub const MAX_ARG_STRINGS: usize = 0x7fff_ffff;
/// The platform string of x86-64 (`ELF_PLATFORM`), with its NUL.
pub const PLATFORM: &[u8] = b"x86_64\0";

/// The argv+envp budget Linux derives from the stack rlimit (`bprm_stack_limits`): a quarter
/// of `RLIMIT_STACK`, at most 6 MiB (3/4 of `_STK_LIM`), at least 128 KiB (`ARG_MAX`).
/// Pass the result as `max_size` to [`build`].
pub fn arg_limit(rlimit_stack_cur: u64) -> u64 {
    (rlimit_stack_cur / 4).clamp(128 << 10, 6 << 20)
}

/// The initial stack contents and where its pieces are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackImage {
    /// Bytes to write at `[sp, top)`.
    pub bytes: Vec<u8>,
    /// The initial rsp: 16-byte aligned, pointing at argc.
    pub sp: u64,
    /// Address of the `argv[0]` string (for /proc/PID/cmdline).
    pub arg_start: u64,
    /// One past the NUL of the last argv string.
    pub arg_end: u64,
    /// Address of the `envp[0]` string (equal to `arg_end`) (for /proc/PID/environ).
    pub env_start: u64,
    /// One past the NUL of the last envp string.
    pub env_end: u64,
}

/// The bytes of `s` up to its first NUL, plus one NUL: what Linux copies with `strnlen`.
fn c_len(s: &[u8]) -> Result<u64, LoadError> {
    let n = s.iter().position(|&c| c == 0).unwrap_or(s.len()) + 1;
    if n > MAX_ARG_STRLEN {
        return Err(LoadError::TooBig);
    }
    Ok(n as u64)
}

/// Writes into the image; the layout guarantees every write is in range, and an
/// impossible out-of-range write reports `TooBig` instead of panicking.
struct Image {
    bytes: Vec<u8>,
    base: u64,
}

impl Image {
    fn put(&mut self, addr: u64, data: &[u8]) -> Result<(), LoadError> {
        let at = addr
            .checked_sub(self.base)
            .and_then(|o| usize::try_from(o).ok());
        let end = at.and_then(|a| a.checked_add(data.len()));
        match (at, end) {
            (Some(a), Some(e)) if e <= self.bytes.len() => {
                self.bytes[a..e].copy_from_slice(data);
                Ok(())
            }
            _ => Err(LoadError::TooBig),
        }
    }

    fn put_u64(&mut self, addr: u64, v: u64) -> Result<(), LoadError> {
        self.put(addr, &v.to_le_bytes())
    }

    /// Writes the C strings of `strs` one after another from `addr`; returns their addresses.
    fn put_strings(&mut self, mut addr: u64, strs: &[Vec<u8>]) -> Result<Vec<u64>, LoadError> {
        let mut addrs = Vec::with_capacity(strs.len());
        for s in strs {
            addrs.push(addr);
            let len = c_len(s)?;
            // c_len counted up to the first NUL; the image is zeroed, so the NUL is there.
            self.put(addr, &s[..(len - 1) as usize])?;
            addr = addr.checked_add(len).ok_or(LoadError::TooBig)?;
        }
        Ok(addrs)
    }
}

/// Builds the initial process stack as Linux's execve and `create_elf_tables` do, ending
/// at `top` (exclusive; need not be aligned): see the module docs for the layout.
///
/// - `argv`, `envp`, `execfn` are taken as C strings (each stops at its first NUL). An
///   empty `argv` becomes `[""]`, as Linux 5.18+ does, so argc is never 0.
/// - `auxv` must not contain `AT_NULL` (such entries are skipped). Entries keyed
///   `AT_RANDOM`, `AT_EXECFN` or `AT_PLATFORM` keep their place and get their value filled
///   in; those missing are appended in Linux's order (`AT_RANDOM`, `AT_EXECFN`,
///   `AT_PLATFORM`), then `AT_NULL`. To reproduce Linux's exact vector, pass placeholders:
///   `AT_SYSINFO_EHDR, AT_MINSIGSTKSZ, AT_HWCAP, AT_PAGESZ, AT_CLKTCK, AT_PHDR, AT_PHENT,
///   AT_PHNUM, AT_BASE, AT_FLAGS, AT_ENTRY, AT_UID, AT_EUID, AT_GID, AT_EGID, AT_SECURE,
///   AT_RANDOM, AT_HWCAP2, AT_EXECFN, AT_PLATFORM, AT_RSEQ_FEATURE_SIZE, AT_RSEQ_ALIGN`.
/// - Fails with `TooBig` (`E2BIG`) if a string (with its NUL) is longer than
///   [`MAX_ARG_STRLEN`], if there are more than [`MAX_ARG_STRINGS`] of either, or if the
///   strings (argv, envp and execfn, with NULs) plus 8 bytes per argv and envp pointer
///   exceed `max_size` — exactly what Linux counts against its limit (see [`arg_limit`]).
///   Also `TooBig` if the image would not fit below `top`.
pub fn build(
    top: u64,
    argv: &[Vec<u8>],
    envp: &[Vec<u8>],
    execfn: &[u8],
    auxv: &[(u64, u64)],
    random: [u8; 16],
    max_size: u64,
) -> Result<StackImage, LoadError> {
    let empty_argv = [Vec::new()];
    let argv = if argv.is_empty() {
        &empty_argv[..]
    } else {
        argv
    };
    if argv.len() > MAX_ARG_STRINGS || envp.len() > MAX_ARG_STRINGS {
        return Err(LoadError::TooBig);
    }
    let sum = |strs: &[Vec<u8>]| -> Result<u64, LoadError> {
        strs.iter().try_fold(0u64, |acc, s| {
            acc.checked_add(c_len(s)?).ok_or(LoadError::TooBig)
        })
    };
    let (arg_bytes, env_bytes, execfn_len) = (sum(argv)?, sum(envp)?, c_len(execfn)?);

    // Linux's budget: pointers first (`limit <= ptr_size` fails), then the strings.
    let ptr_bytes = (argv.len() as u64)
        .checked_add(envp.len() as u64)
        .and_then(|n| n.checked_mul(8))
        .ok_or(LoadError::TooBig)?;
    let string_bytes = arg_bytes
        .checked_add(env_bytes)
        .and_then(|n| n.checked_add(execfn_len))
        .ok_or(LoadError::TooBig)?;
    if ptr_bytes >= max_size || string_bytes > max_size - ptr_bytes {
        return Err(LoadError::TooBig);
    }

    // Addresses, from the top down.
    let sub = |a: u64, b: u64| a.checked_sub(b).ok_or(LoadError::TooBig);
    let execfn_addr = sub(sub(top, 8)?, execfn_len)?;
    let env_start = sub(execfn_addr, env_bytes)?;
    let arg_start = sub(env_start, arg_bytes)?;
    let platform_addr = sub(arg_start & !15, PLATFORM.len() as u64)?;
    let random_addr = sub(platform_addr, 16)?;

    // The auxiliary vector.
    let mut entries: Vec<(u64, u64)> = Vec::with_capacity(auxv.len() + 4);
    let mut seen = [false; 3];
    let ours = [
        (AT_RANDOM, random_addr),
        (AT_EXECFN, execfn_addr),
        (AT_PLATFORM, platform_addr),
    ];
    for &(key, val) in auxv.iter().filter(|e| e.0 != AT_NULL) {
        match ours.iter().position(|o| o.0 == key) {
            Some(i) => {
                seen[i] = true;
                entries.push(ours[i]);
            }
            None => entries.push((key, val)),
        }
    }
    entries.extend(ours.iter().zip(seen).filter(|(_, s)| !s).map(|(o, _)| *o));
    entries.push((AT_NULL, 0));

    // argc, argv pointers + NULL, envp pointers + NULL: items of 8 bytes below the auxv,
    // rounded down so that sp is 16-aligned.
    let items = (argv.len() as u64) + (envp.len() as u64) + 3; // bounded by MAX_ARG_STRINGS
    let auxv_addr = sub(random_addr, 16 * entries.len() as u64)?;
    let sp = sub(auxv_addr, items * 8)? & !15;

    let size = usize::try_from(sub(top, sp)?).map_err(|_| LoadError::TooBig)?;
    let mut img = Image {
        bytes: vec![0u8; size],
        base: sp,
    };
    let arg_addrs = img.put_strings(arg_start, argv)?;
    let env_addrs = img.put_strings(env_start, envp)?;
    img.put_strings(execfn_addr, &[execfn.to_vec()])?;
    img.put(platform_addr, PLATFORM)?;
    img.put(random_addr, &random)?;

    let mut at = sp;
    let mut push = |img: &mut Image, v: u64| -> Result<(), LoadError> {
        img.put_u64(at, v)?;
        at += 8;
        Ok(())
    };
    push(&mut img, argv.len() as u64)?;
    for a in arg_addrs.into_iter().chain([0]).chain(env_addrs).chain([0]) {
        push(&mut img, a)?;
    }
    for (k, v) in entries {
        push(&mut img, k)?;
        push(&mut img, v)?;
    }

    Ok(StackImage {
        bytes: img.bytes,
        sp,
        arg_start,
        arg_end: env_start,
        env_start,
        env_end: execfn_addr,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOP: u64 = 0x7fff_ffff_f000;

    /// argv pointers, envp pointers, auxv pairs, the address after the AT_NULL pair.
    type Tables = (Vec<u64>, Vec<u64>, Vec<(u64, u64)>, u64);

    /// Reads the image back as a program would.
    struct View<'a>(&'a StackImage, u64);

    impl View<'_> {
        fn u64(&self, addr: u64) -> u64 {
            assert!(
                addr >= self.0.sp && addr + 8 <= self.1,
                "{addr:#x} outside the stack"
            );
            let o = (addr - self.0.sp) as usize;
            u64::from_le_bytes(self.0.bytes[o..o + 8].try_into().unwrap())
        }

        fn cstr(&self, addr: u64) -> Vec<u8> {
            assert!(
                addr >= self.0.sp && addr < self.1,
                "{addr:#x} outside the stack"
            );
            let tail = &self.0.bytes[(addr - self.0.sp) as usize..];
            let n = tail
                .iter()
                .position(|&c| c == 0)
                .expect("string not NUL-terminated");
            tail[..n].to_vec()
        }

        fn tables(&self) -> Tables {
            let mut at = self.0.sp;
            let argc = self.u64(at);
            let argv: Vec<u64> = (0..argc).map(|i| self.u64(at + 8 + 8 * i)).collect();
            at += 8 * (argc + 1);
            assert_eq!(self.u64(at), 0);
            at += 8;
            let mut envp = Vec::new();
            while self.u64(at) != 0 {
                envp.push(self.u64(at));
                at += 8;
            }
            at += 8;
            let mut auxv = Vec::new();
            loop {
                let e = (self.u64(at), self.u64(at + 8));
                at += 16;
                auxv.push(e);
                if e.0 == AT_NULL {
                    return (argv, envp, auxv, at);
                }
            }
        }
    }

    fn strs(v: &[&str]) -> Vec<Vec<u8>> {
        v.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    #[test]
    fn layout_round_trip() {
        let argv = strs(&["/bin/prog", "-x", "", "last arg"]);
        let envp = strs(&["A=1", "PATH=/bin:/usr/bin"]);
        let auxv = [
            (AT_SYSINFO_EHDR, 0x7000_0000),
            (AT_PAGESZ, 4096),
            (AT_PHNUM, 13),
        ];
        let random: [u8; 16] = std::array::from_fn(|i| 0xa0 + i as u8);
        for top in [TOP, TOP - 8, TOP - 3] {
            let img = build(top, &argv, &envp, b"/bin/prog", &auxv, random, 1 << 20).unwrap();
            assert_eq!(img.sp % 16, 0);
            assert_eq!(img.sp + img.bytes.len() as u64, top);
            let v = View(&img, top);
            let (a, e, aux, aux_end) = v.tables();
            assert_eq!(a.iter().map(|&p| v.cstr(p)).collect::<Vec<_>>(), argv);
            assert_eq!(e.iter().map(|&p| v.cstr(p)).collect::<Vec<_>>(), envp);
            let keys: Vec<u64> = aux.iter().map(|e| e.0).collect();
            let want = [
                AT_SYSINFO_EHDR,
                AT_PAGESZ,
                AT_PHNUM,
                AT_RANDOM,
                AT_EXECFN,
                AT_PLATFORM,
            ];
            assert_eq!(keys[..6], want);
            assert_eq!(aux[..3], auxv);
            assert_eq!(aux[6], (AT_NULL, 0));
            let (rnd, execfn, platform) = (aux[3].1, aux[4].1, aux[5].1);
            assert!(rnd >= aux_end && rnd + 16 <= top);
            let o = (rnd - img.sp) as usize;
            assert_eq!(img.bytes[o..o + 16], random);
            assert_eq!(v.cstr(platform), b"x86_64");
            assert_eq!((platform + 7) % 16, 0);
            assert_eq!(rnd + 16, platform);
            assert!(aux_end <= rnd && rnd - aux_end < 16);
            assert_eq!(v.cstr(execfn), b"/bin/prog");
            // Strings: argv, then envp, then execfn, then 8 zero bytes at the top.
            assert_eq!((img.arg_start, img.arg_end), (a[0], e[0]));
            assert_eq!((img.env_start, img.env_end), (e[0], execfn));
            assert_eq!(img.arg_end, a[3] + 9);
            assert_eq!(img.env_end, e[1] + 19);
            assert_eq!(execfn + 10, top - 8);
            assert_eq!(img.bytes[img.bytes.len() - 8..], [0; 8]);
        }
    }

    #[test]
    fn placeholders_empty_argv_and_nuls() {
        let auxv = [
            (AT_HWCAP, 7),
            (AT_RANDOM, 0),
            (AT_NULL, 0),
            (AT_HWCAP2, 2),
            (AT_EXECFN, 0),
        ];
        let envp = strs(&["X=y\0hidden"]);
        let img = build(TOP, &[], &envp, b"/x", &auxv, [1; 16], 1 << 20).unwrap();
        let v = View(&img, TOP);
        let (a, e, aux, _) = v.tables();
        assert_eq!(a.len(), 1, "empty argv becomes [\"\"]");
        assert_eq!(v.cstr(a[0]), b"");
        assert_eq!(v.cstr(e[0]), b"X=y");
        assert_eq!(img.env_end - img.env_start, 4);
        let keys: Vec<u64> = aux.iter().map(|e| e.0).collect();
        let want = [
            AT_HWCAP,
            AT_RANDOM,
            AT_HWCAP2,
            AT_EXECFN,
            AT_PLATFORM,
            AT_NULL,
        ];
        assert_eq!(keys, want);
        assert_eq!(v.cstr(aux[3].1), b"/x");
        assert_eq!(aux[1].1 + 16, aux[4].1);
    }

    #[test]
    fn limits() {
        let argv = strs(&["a", "bb"]);
        // Strings 2 + 3 + 3 ("/x\0") = 8 bytes, pointers 2 * 8 = 16: exactly 24 fits.
        assert!(build(TOP, &argv, &[], b"/x", &[], [0; 16], 24).is_ok());
        assert!(matches!(
            build(TOP, &argv, &[], b"/x", &[], [0; 16], 23),
            Err(LoadError::TooBig)
        ));
        assert!(matches!(
            build(TOP, &argv, &[], b"/x", &[], [0; 16], 16),
            Err(LoadError::TooBig)
        ));
        let huge = vec![vec![b'a'; MAX_ARG_STRLEN]];
        let err = build(TOP, &huge, &[], b"/x", &[], [0; 16], u64::MAX).unwrap_err();
        assert_eq!(err.errno(), 7);
        let max = vec![vec![b'a'; MAX_ARG_STRLEN - 1]];
        assert!(build(TOP, &max, &[], b"/x", &[], [0; 16], u64::MAX).is_ok());
        assert!(matches!(
            build(64, &argv, &[], b"/x", &[], [0; 16], 1 << 20),
            Err(LoadError::TooBig)
        ));
        let many = vec![Vec::new(); 100_000];
        assert!(build(TOP, &many, &many, b"/x", &[], [0; 16], arg_limit(8 << 20)).is_ok());
        assert!(matches!(
            build(TOP, &many, &many, b"/x", &[], [0; 16], 1 << 20),
            Err(LoadError::TooBig)
        ));
        assert_eq!(arg_limit(8 << 20), 2 << 20);
        assert_eq!(arg_limit(64 << 10), 128 << 10);
        assert_eq!(arg_limit(u64::MAX), 6 << 20);
    }
}
