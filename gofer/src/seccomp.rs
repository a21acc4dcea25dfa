//! The gofer's host syscall allow-list, in one place, and its installation.
//!
//! Installed with libseccomp once the gofer is set up (root opened, socket in hand), for
//! every thread of the process; anything not listed kills the process (`SECCOMP_RET_KILL_PROCESS`),
//! and so does any syscall of another architecture (`int 0x80`).
//!
//! The list depends on the gofer's [`Mode`]: a read-only gofer ([`READ_ONLY`]) cannot make
//! a single change to a host file even if its own checks were wrong; a writable one adds
//! [`WRITES`], with the flags of each call checked where seccomp can see them (`openat2`'s
//! flags live in a structure it cannot read).

use libseccomp::{ScmpAction, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall};

use crate::Error;

/// A condition on one argument: `(arg & mask)` must be one of `values`.
#[derive(Clone, Copy, Debug)]
pub struct ArgRule {
    /// Argument index (0-based).
    pub arg: u32,
    /// Bits looked at.
    pub mask: u64,
    /// Values allowed.
    pub values: &'static [u64],
}

/// One allowed syscall.
#[derive(Clone, Copy, Debug)]
pub struct Allowed {
    /// Its name.
    pub name: &'static str,
    /// Its x86-64 number.
    pub nr: libc::c_long,
    /// What it is for.
    pub why: &'static str,
    /// A condition on its arguments, if any.
    pub only: Option<ArgRule>,
}

/// An allowed syscall whose arguments must pass `rule`.
pub const fn only(
    name: &'static str,
    nr: libc::c_long,
    why: &'static str,
    rule: ArgRule,
) -> Allowed {
    Allowed {
        name,
        nr,
        why,
        only: Some(rule),
    }
}

/// An allowed syscall with any arguments.
pub const fn any(name: &'static str, nr: libc::c_long, why: &'static str) -> Allowed {
    Allowed {
        name,
        nr,
        why,
        only: None,
    }
}

const S_IFMT: u64 = libc::S_IFMT as u64;
/// F_GETFD too: debug builds of std check a descriptor is open before closing it.
const FCNTL_CMDS: &[u64] = &[
    libc::F_GETFD as u64,
    libc::F_GETFL as u64,
    libc::F_SETFL as u64,
];
const MKNOD_TYPES: &[u64] = &[
    0,
    libc::S_IFREG as u64,
    libc::S_IFIFO as u64,
    libc::S_IFSOCK as u64,
];

/// `prot` (argument 2 of mmap and mprotect) without `PROT_EXEC`.
pub const NO_EXEC: ArgRule = ArgRule {
    arg: 2,
    mask: libc::PROT_EXEC as u64,
    values: &[0],
};

/// What the gofer may do to the files it serves: the filter is built from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Every change is refused (EROFS) before it reaches the host: [`READ_ONLY`] only.
    ReadOnly,
    /// Changes are made on the host: [`READ_ONLY`] and [`WRITES`].
    Writable,
}

/// `write` on stderr (descriptor 2) only: the gofer writes no file data itself (the Sentry
/// writes through the descriptors it is donated).
const STDERR_ONLY: ArgRule = ArgRule {
    arg: 0,
    mask: u64::MAX,
    values: &[2],
};

/// Every host syscall a read-only gofer makes after it is confined.
pub const READ_ONLY: &[Allowed] = &[
    // The connection.
    any("recvmsg", libc::SYS_recvmsg, "read a request"),
    any(
        "sendmsg",
        libc::SYS_sendmsg,
        "send a reply (and a donated fd)",
    ),
    any("close", libc::SYS_close, "drop descriptors"),
    // Files, always relative to a held directory descriptor, never following symlinks.
    any("openat2", libc::SYS_openat2, "resolve one component, open"),
    any("fstat", libc::SYS_fstat, "stat a node"),
    any(
        "newfstatat",
        libc::SYS_newfstatat,
        "stat a node (glibc's fstat)",
    ),
    any("fstatfs", libc::SYS_fstatfs, "statfs"),
    any("readlinkat", libc::SYS_readlinkat, "readlink"),
    any("getdents64", libc::SYS_getdents64, "getdents"),
    any("lseek", libc::SYS_lseek, "getdents offsets"),
    only(
        "fcntl",
        libc::SYS_fcntl,
        "F_GETFL/F_SETFL: clear O_NONBLOCK after a safe open",
        ArgRule {
            arg: 1,
            mask: u64::MAX,
            values: FCNTL_CMDS,
        },
    ),
    any("fgetxattr", libc::SYS_fgetxattr, "getxattr (user.*)"),
    any("flistxattr", libc::SYS_flistxattr, "listxattr (user.*)"),
    // The Rust runtime: memory, locks, logs, exit.
    only("write", libc::SYS_write, "logs to stderr", STDERR_ONLY),
    only(
        "mmap",
        libc::SYS_mmap,
        "allocator; never PROT_EXEC",
        NO_EXEC,
    ),
    any("munmap", libc::SYS_munmap, "allocator"),
    any("mremap", libc::SYS_mremap, "allocator"),
    only(
        "mprotect",
        libc::SYS_mprotect,
        "allocator (arena growth); never PROT_EXEC",
        NO_EXEC,
    ),
    any("madvise", libc::SYS_madvise, "allocator"),
    any("brk", libc::SYS_brk, "allocator"),
    any("futex", libc::SYS_futex, "locks"),
    any("sched_yield", libc::SYS_sched_yield, "locks"),
    any("getrandom", libc::SYS_getrandom, "hash map keys"),
    any("clock_gettime", libc::SYS_clock_gettime, "log time stamps"),
    any("rt_sigreturn", libc::SYS_rt_sigreturn, "signal return"),
    any("sigaltstack", libc::SYS_sigaltstack, "thread exit"),
    any(
        "restart_syscall",
        libc::SYS_restart_syscall,
        "restarted sleeps",
    ),
    any("exit", libc::SYS_exit, "thread exit"),
    any("exit_group", libc::SYS_exit_group, "exit"),
];

/// `flags` that must be exactly AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW: the call acts on the
/// held descriptor itself, never on a path, never through a symlink.
const fn empty_path_nofollow(arg: u32) -> ArgRule {
    ArgRule {
        arg,
        mask: u64::MAX,
        values: &[(libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW) as u64],
    }
}

/// What a writable gofer adds to [`READ_ONLY`]: every change, relative to a held directory
/// or on a held descriptor, never following a symlink.
pub const WRITES: &[Allowed] = &[
    any("mkdirat", libc::SYS_mkdirat, "mkdir"),
    only(
        "mknodat",
        libc::SYS_mknodat,
        "mknod: regular files, fifos and sockets, never devices",
        ArgRule {
            arg: 2,
            mask: S_IFMT,
            values: MKNOD_TYPES,
        },
    ),
    any("symlinkat", libc::SYS_symlinkat, "symlink"),
    only(
        "linkat",
        libc::SYS_linkat,
        "link: a held descriptor (AT_EMPTY_PATH) or a name, never AT_SYMLINK_FOLLOW",
        ArgRule {
            arg: 4,
            mask: u64::MAX,
            values: &[0, libc::AT_EMPTY_PATH as u64],
        },
    ),
    only(
        "unlinkat",
        libc::SYS_unlinkat,
        "unlink, rmdir",
        ArgRule {
            arg: 2,
            mask: u64::MAX,
            values: &[0, libc::AT_REMOVEDIR as u64],
        },
    ),
    only(
        "renameat2",
        libc::SYS_renameat2,
        "rename: NOREPLACE or EXCHANGE, never WHITEOUT (a device node)",
        ArgRule {
            arg: 4,
            mask: u64::MAX,
            values: &[
                0,
                libc::RENAME_NOREPLACE as u64,
                libc::RENAME_EXCHANGE as u64,
            ],
        },
    ),
    only(
        "fchownat",
        libc::SYS_fchownat,
        "setattr: owner, new files' owner (of a held descriptor)",
        empty_path_nofollow(4),
    ),
    only(
        "fchmodat2",
        libc::SYS_fchmodat2,
        "setattr: mode (of a held descriptor)",
        empty_path_nofollow(3),
    ),
    any(
        "fchmod",
        libc::SYS_fchmod,
        "setattr: mode before Linux 6.6 (an opened descriptor)",
    ),
    any("ftruncate", libc::SYS_ftruncate, "setattr: size, O_TRUNC"),
    only(
        "utimensat",
        libc::SYS_utimensat,
        "setattr: times (of a held descriptor)",
        empty_path_nofollow(3),
    ),
    any("fsync", libc::SYS_fsync, "fsync"),
    any("fdatasync", libc::SYS_fdatasync, "fsync (data)"),
    any("fsetxattr", libc::SYS_fsetxattr, "setxattr (user.*)"),
    any(
        "fremovexattr",
        libc::SYS_fremovexattr,
        "removexattr (user.*)",
    ),
];

/// The allow-list of a gofer in `mode` (for the filter, and for `rvisor` to print).
pub fn allowed(mode: Mode) -> Vec<Allowed> {
    let mut list = READ_ONLY.to_vec();
    if mode == Mode::Writable {
        list.extend_from_slice(WRITES);
    }
    list
}

fn err(e: impl std::fmt::Display) -> Error {
    Error::Filter(e.to_string())
}

/// Builds the filter of a gofer in `mode`: [`allowed`] allowed, everything else kills the
/// process.
pub fn build(mode: Mode) -> Result<ScmpFilterContext, Error> {
    build_list(&allowed(mode))
}

/// A filter allowing `list` (with its argument conditions) and killing the process on
/// anything else, or on any other architecture. The Sentry builds its own from its list.
pub fn build_list(list: &[Allowed]) -> Result<ScmpFilterContext, Error> {
    let mut f = ScmpFilterContext::new(ScmpAction::KillProcess).map_err(err)?;
    f.set_act_badarch(ScmpAction::KillProcess).map_err(err)?;
    for a in list {
        let sys = ScmpSyscall::from(a.nr as i32);
        match a.only {
            None => {
                f.add_rule(ScmpAction::Allow, sys).map_err(err)?;
            }
            Some(rule) => {
                for &v in rule.values {
                    let cmp =
                        ScmpArgCompare::new(rule.arg, ScmpCompareOp::MaskedEqual(rule.mask), v);
                    f.add_rule_conditional(ScmpAction::Allow, sys, &[cmp])
                        .map_err(err)?;
                }
            }
        }
    }
    Ok(f)
}

/// Confines every thread of this process to the list of `mode` (sets no_new_privs first).
pub fn install(mode: Mode) -> Result<(), Error> {
    let mut f = build(mode)?;
    f.set_ctl_nnp(true).map_err(err)?;
    f.set_ctl_tsync(true).map_err(err)?;
    f.load().map_err(err)
}
