//! Loading a program into a fresh address space (execve).

use std::sync::Arc;

use platform::{CpuState, Prot};

use super::caps::{self, ExecFile};
use super::creds::Credentials;
use super::Kernel;
use crate::errno::Errno;
use crate::fs::overlay::Node;
use crate::fs::perm::{self, Attr};
use crate::fs::tmpfs::{Creds, Resolution};
use crate::fs::vfs::{Mounts, Place};
use crate::fs::FileOps;
use crate::loader::{elf, shebang, stack, ReadAt};
use crate::mm::{page_down, page_up, Backing, MemoryManager, Placement, PIE_BASE, STACK_SIZE};

/// `#!` interpreters may nest this deep (Linux allows 4 levels... we follow BINPRM's limit).
const MAX_INTERP_DEPTH: usize = 4;

/// A loaded program: its address space and first register state.
pub struct Program {
    pub mm: MemoryManager,
    pub regs: CpuState,
    /// The path that was executed, for AT_EXECFN and /proc/PID/exe.
    pub path: Vec<u8>,
    /// The credentials the program runs with (`kernel::caps::exec`).
    pub creds: Credentials,
}

/// Who executes a program: the credentials of the caller and its no_new_privs flag.
pub struct Exec<'a> {
    pub creds: &'a Credentials,
    pub no_new_privs: bool,
}

struct FileReader<'a>(&'a dyn FileOps);

impl ReadAt for FileReader<'_> {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0
            .read(buf, Some(offset))
            .map_err(|e| std::io::Error::from_raw_os_error(e.0))
    }
    fn size(&self) -> u64 {
        self.0.size().unwrap_or(0)
    }
}

fn prot_of(p: elf::SegProt) -> Prot {
    Prot {
        read: p.read,
        write: p.write,
        exec: p.exec,
    }
}

/// Maps the PT_LOAD segments of `info` from `file` with load bias `bias`; returns the end of
/// the highest segment.
fn map_segments(
    mm: &mut MemoryManager,
    file: &Arc<dyn FileOps>,
    info: &elf::ElfInfo,
    bias: u64,
) -> Result<u64, Errno> {
    let mut top = 0;
    let mappable = file.mappable().ok_or(Errno::EACCES)?;
    for s in &info.segments {
        let vaddr = s.vaddr.checked_add(bias).ok_or(Errno::ENOEXEC)?;
        let start = page_down(vaddr);
        let file_end = page_up(vaddr + s.filesz).ok_or(Errno::ENOEXEC)?;
        let mem_end = page_up(vaddr + s.memsz).ok_or(Errno::ENOEXEC)?;
        let prot = prot_of(s.prot);
        if s.filesz > 0 {
            let backing = Backing::File {
                file: mappable.clone(),
                offset: page_down(s.offset),
            };
            mm.map(
                Placement::Fixed(start),
                file_end - start,
                prot,
                backing,
                None,
            )?;
            // The tail of the last file page belongs to .bss: zero it.
            let tail = file_end - (vaddr + s.filesz);
            if tail > 0 && s.memsz > s.filesz {
                let zeros = vec![0u8; tail as usize];
                mm.poke(vaddr + s.filesz, &zeros)?;
            }
        }
        let anon_start = if s.filesz > 0 { file_end } else { start };
        if mem_end > anon_start {
            mm.map(
                Placement::Fixed(anon_start),
                mem_end - anon_start,
                prot,
                Backing::Anon,
                None,
            )?;
        }
        top = top.max(mem_end);
    }
    Ok(top)
}

/// An opened executable and the path it was found at with symlinks resolved, when the
/// filesystem knows it.
type Executable = (Arc<dyn FileOps>, Option<Vec<u8>>);

/// Opens an executable for `c`: a regular file it may execute (search permission on the
/// way, execute permission on the file: EACCES), on the root or in a tmpfs.
fn open_exec(
    kernel: &Kernel,
    mounts: &Mounts,
    cwd: &[u8],
    path: &[u8],
    c: &Creds,
) -> Result<Executable, Errno> {
    let (file, real) = mounts.resolve(cwd, path, |place| match place {
        Place::Tmp(rel) => rel
            .fs
            .open(&rel, libc::O_RDONLY as u32, 0, c)
            .map(|r| match r {
                Resolution::Done(f) => Resolution::Done((f, None)),
                Resolution::Escape { target, rest } => Resolution::Escape { target, rest },
            }),
        Place::Host(abs) => match kernel.overlay.walk(&kernel.root, mounts, &abs, true, c)? {
            Resolution::Escape { target, rest } => Ok(Resolution::Escape { target, rest }),
            Resolution::Done(found) => {
                let path = found.path;
                match found.node {
                    Node::Missing => Err(Errno::ENOENT),
                    Node::Upper(st) if st.mode & libc::S_IFMT != libc::S_IFREG => {
                        Err(Errno::EACCES)
                    }
                    Node::Upper(_) => {
                        let rel = path.strip_prefix(b"/").unwrap_or(&path);
                        match kernel.overlay.upper().open(
                            rel,
                            libc::O_RDONLY as u32,
                            0,
                            &Creds::ROOT,
                        )? {
                            Resolution::Done(f) => Ok(Resolution::Done((f, Some(path)))),
                            Resolution::Escape { .. } => Err(Errno::EIO),
                        }
                    }
                    Node::Lower(st) if st.st_mode & libc::S_IFMT != libc::S_IFREG => {
                        Err(Errno::EACCES)
                    }
                    Node::Lower(_) => {
                        let l = kernel.root.lookup(b"/", &path, false)?;
                        let f = kernel.root.open_file(&l)? as Arc<dyn FileOps>;
                        Ok(Resolution::Done((f, Some(path))))
                    }
                }
            }
        },
        Place::Proc(_) => Err(Errno::EACCES),
    })?;
    let st = file.stat()?;
    if st.mode & libc::S_IFMT != libc::S_IFREG || st.mode & 0o111 == 0 {
        return Err(Errno::EACCES);
    }
    perm::permission(c, &Attr::from(&st), perm::MAY_EXEC)?;
    Ok((file, real))
}

/// Loads `path` with `argv` and `envp`, following `#!` lines, as root with every
/// capability (the sandbox's first process).
pub fn load_program(
    kernel: &Kernel,
    mounts: &Mounts,
    cwd: &[u8],
    path: &[u8],
    argv: Vec<Vec<u8>>,
    envp: Vec<Vec<u8>>,
) -> Result<Program, Errno> {
    let root = Credentials::default();
    let who = Exec {
        creds: &root,
        no_new_privs: false,
    };
    load_program_as(kernel, mounts, cwd, path, argv, envp, &who)
}

/// Loads `path` with `argv` and `envp` for `who`, following `#!` lines: the files are
/// found and opened with its credentials, and the program's credentials follow execve's
/// rules (`kernel::caps::exec`, from the set-id bits of the executable that is mapped:
/// the ELF file, never a script).
pub fn load_program_as(
    kernel: &Kernel,
    mounts: &Mounts,
    cwd: &[u8],
    path: &[u8],
    mut argv: Vec<Vec<u8>>,
    envp: Vec<Vec<u8>>,
    who: &Exec,
) -> Result<Program, Errno> {
    let c = Creds::of(who.creds, 0);
    let mut file_path = path.to_vec();
    let mut depth = 0;
    let (file, info, real_path) = loop {
        let (file, real) = open_exec(kernel, mounts, cwd, &file_path, &c)?;
        let mut head = [0u8; 256];
        let n = file.read(&mut head, Some(0))?;
        match shebang::parse(&head[..n]).map_err(|e| Errno(e.errno()))? {
            Some((interp, arg)) => {
                depth += 1;
                if depth > MAX_INTERP_DEPTH {
                    return Err(Errno::ELOOP);
                }
                // argv becomes: interp [arg] path argv[1..]
                let mut new = vec![interp.clone()];
                new.extend(arg);
                new.push(file_path.clone());
                new.extend(argv.into_iter().skip(1));
                argv = new;
                file_path = interp;
            }
            None => {
                let info = elf::parse(&FileReader(file.as_ref())).map_err(|e| Errno(e.errno()))?;
                break (file, info, real);
            }
        }
    };
    let mut mm = MemoryManager::new(kernel.platform.as_ref())?;
    let bias = match info.kind {
        elf::ElfKind::Exec => 0,
        elf::ElfKind::Dyn => PIE_BASE.wrapping_sub(info.min_vaddr),
    };
    let top = map_segments(&mut mm, &file, &info, bias)?;
    mm.brk_start = top;
    mm.brk = top;
    let mut entry = info.entry.wrapping_add(bias);
    let mut at_base = 0;
    if let Some(interp_path) = &info.interp {
        let (ifile, _) = open_exec(kernel, mounts, b"/", interp_path, &c).map_err(|e| {
            if e == Errno::EACCES {
                Errno::ELIBBAD
            } else {
                e
            }
        })?;
        let iinfo = elf::parse(&FileReader(ifile.as_ref())).map_err(|e| Errno(e.errno()))?;
        let span = iinfo
            .max_vaddr
            .checked_sub(iinfo.min_vaddr)
            .ok_or(Errno::ELIBBAD)?;
        // Reserve a place, then map the segments into it.
        let base = mm.map(Placement::Hint(0), span, Prot::NONE, Backing::Anon, None)?;
        mm.unmap(base, span)?;
        let ibias = base.wrapping_sub(iinfo.min_vaddr);
        map_segments(&mut mm, &ifile, &iinfo, ibias)?;
        entry = iinfo.entry.wrapping_add(ibias);
        at_base = base;
    }
    // The stack.
    let stack_top = mm.stack_top;
    mm.map(
        Placement::Fixed(stack_top - STACK_SIZE),
        STACK_SIZE,
        Prot::READ_WRITE,
        Backing::Anon,
        Some("[stack]"),
    )?;
    let st = file.stat()?;
    let nosuid = mounts
        .mount_of(&crate::fs::vfs::normalize(cwd, &file_path))
        .is_some_and(|m| m.flags & libc::MS_NOSUID != 0);
    let exe = ExecFile {
        uid: st.uid,
        gid: st.gid,
        mode: st.mode,
        nosuid,
    };
    let (creds, secure) = caps::exec(who.creds, &exe, who.no_new_privs);
    let phdr = info.phdr_vaddr.map(|p| p.wrapping_add(bias)).unwrap_or(0);
    // SAFETY: getauxval has no preconditions.
    let hwcap2 = unsafe { libc::getauxval(libc::AT_HWCAP2) };
    let hwcap = std::arch::x86_64::__cpuid(1).edx as u64;
    let auxv = vec![
        (stack::AT_HWCAP, hwcap),
        (stack::AT_PAGESZ, 4096),
        (stack::AT_CLKTCK, 100),
        (stack::AT_PHDR, phdr),
        (stack::AT_PHENT, info.phentsize as u64),
        (stack::AT_PHNUM, info.phnum as u64),
        (stack::AT_BASE, at_base),
        (stack::AT_FLAGS, 0),
        (stack::AT_ENTRY, info.entry.wrapping_add(bias)),
        (stack::AT_UID, creds.ruid as u64),
        (stack::AT_EUID, creds.euid as u64),
        (stack::AT_GID, creds.rgid as u64),
        (stack::AT_EGID, creds.egid as u64),
        (stack::AT_SECURE, secure as u64),
        (stack::AT_HWCAP2, hwcap2),
    ];
    let mut random = [0u8; 16];
    crate::fs::dev::random_bytes(&mut random)?;
    let img = stack::build(stack_top, &argv, &envp, path, &auxv, random, STACK_SIZE / 4)
        .map_err(|e| Errno(e.errno()))?;
    mm.poke(img.sp, &img.bytes)?;
    mm.arg_range = (img.arg_start, img.arg_end);
    mm.env_range = (img.env_start, img.env_end);
    let mut regs = CpuState::default();
    regs.regs.rip = entry;
    regs.regs.rsp = img.sp;
    regs.regs.rflags = 0x202;
    // /proc/self/exe is always absolute.
    let path = real_path.unwrap_or_else(|| crate::fs::vfs::normalize(cwd, &file_path));
    Ok(Program {
        mm,
        regs,
        path,
        creds,
    })
}
