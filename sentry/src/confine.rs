//! The Sentry's own seccomp filter: the short list of host syscalls the kernel makes once
//! the sandbox runs, written down here and nowhere else.
//!
//! It is installed on the thread that boots the sandbox just before the first task starts,
//! without TSYNC: every task thread (and the timer threads they start) descends from that
//! thread and inherits it. The platform's stub factory thread, started earlier, does not:
//! the stub processes it forks carry their own filters, and a killing Sentry filter
//! stacked under them would turn every trapped application syscall into a kill.
//!
//! Absent from the list: anything that opens or names a host path (open, openat, stat of
//! a path, execve...), sockets, mount, ptrace. Host files come from the gofer as donated
//! descriptors; with a write-through root (`rvisor do --overlay=none`) the Sentry writes,
//! truncates, allocates and flushes the ones opened for writing itself, and its list adds
//! [`WRITE_THROUGH`].

use gofer::seccomp::{any, only, Allowed, ArgRule, NO_EXEC};

use crate::fs::host::RootMode;

/// `flags` of newfstatat (argument 3): only AT_EMPTY_PATH, i.e. fstat of a held descriptor.
const EMPTY_PATH_ARG3: ArgRule = ArgRule {
    arg: 3,
    mask: libc::AT_EMPTY_PATH as u64,
    values: &[libc::AT_EMPTY_PATH as u64],
};

/// `flags` of statx (argument 2): only with AT_EMPTY_PATH.
const EMPTY_PATH_ARG2: ArgRule = ArgRule {
    arg: 2,
    mask: libc::AT_EMPTY_PATH as u64,
    values: &[libc::AT_EMPTY_PATH as u64],
};

/// ioctl requests: the seccomp notification channel of the platform and the two terminal
/// queries passed through to the host's stdio.
const IOCTLS: ArgRule = ArgRule {
    arg: 1,
    mask: 0xffff_ffff,
    values: &[
        libc::SECCOMP_IOCTL_NOTIF_RECV,
        libc::SECCOMP_IOCTL_NOTIF_SEND,
        libc::SECCOMP_IOCTL_NOTIF_ID_VALID,
        libc::SECCOMP_IOCTL_NOTIF_SET_FLAGS,
        libc::TCGETS,
        libc::TIOCGWINSZ,
    ],
};

/// ioctl requests of the kvm platform's vCPUs ([`platform::kvm::HOST_IOCTLS`]).
const KVM_IOCTLS: ArgRule = ArgRule {
    arg: 1,
    mask: 0xffff_ffff,
    values: platform::kvm::HOST_IOCTLS,
};

/// fcntl commands: descriptor flags and duplicates.
const FCNTLS: ArgRule = ArgRule {
    arg: 1,
    mask: u64::MAX,
    values: &[
        libc::F_DUPFD_CLOEXEC as u64,
        libc::F_GETFD as u64,
        libc::F_SETFD as u64,
        libc::F_GETFL as u64,
        libc::F_SETFL as u64,
    ],
};

/// Every host syscall the Sentry makes once the sandbox runs.
pub const ALLOWED: &[Allowed] = &[
    // Files the Sentry holds: donated by the gofer, its memory file, host stdio.
    any("read", libc::SYS_read, "stdio, pipes to the host"),
    any("write", libc::SYS_write, "stdio, logs"),
    any("pread64", libc::SYS_pread64, "donated host files"),
    any("lseek", libc::SYS_lseek, "directory offsets"),
    any(
        "getdents64",
        libc::SYS_getdents64,
        "donated host directories",
    ),
    any("close", libc::SYS_close, "drop descriptors"),
    only(
        "newfstatat",
        libc::SYS_newfstatat,
        "fstat of a held descriptor only",
        EMPTY_PATH_ARG3,
    ),
    any("fstat", libc::SYS_fstat, "fstat of a held descriptor"),
    only(
        "statx",
        libc::SYS_statx,
        "metadata of a held descriptor only",
        EMPTY_PATH_ARG2,
    ),
    only(
        "fcntl",
        libc::SYS_fcntl,
        "descriptor flags, duplicates",
        FCNTLS,
    ),
    only(
        "ioctl",
        libc::SYS_ioctl,
        "seccomp notifications, terminal queries",
        IOCTLS,
    ),
    any("poll", libc::SYS_poll, "notification and stdio readiness"),
    any("recvmsg", libc::SYS_recvmsg, "gofer replies"),
    any("sendmsg", libc::SYS_sendmsg, "gofer requests"),
    any(
        "accept4",
        libc::SYS_accept4,
        "control socket connections (rvisor boot)",
    ),
    // Application memory: the memory file and stub regions.
    any(
        "memfd_create",
        libc::SYS_memfd_create,
        "stub code of a new address space",
    ),
    any(
        "ftruncate",
        libc::SYS_ftruncate,
        "memory file size; donated host files with --overlay=none",
    ),
    any(
        "fallocate",
        libc::SYS_fallocate,
        "memory file pages; donated host files with --overlay=none",
    ),
    only(
        "mmap",
        libc::SYS_mmap,
        "allocator, memory file; never PROT_EXEC",
        NO_EXEC,
    ),
    only(
        "mprotect",
        libc::SYS_mprotect,
        "allocator; never PROT_EXEC",
        NO_EXEC,
    ),
    any("munmap", libc::SYS_munmap, "allocator"),
    any("mremap", libc::SYS_mremap, "allocator"),
    any("madvise", libc::SYS_madvise, "allocator, freed pages"),
    any("brk", libc::SYS_brk, "allocator"),
    // Stub processes of the seccomp platform.
    any("pidfd_open", libc::SYS_pidfd_open, "a stub's pidfd"),
    any(
        "pidfd_getfd",
        libc::SYS_pidfd_getfd,
        "a stub thread's listener",
    ),
    any(
        "pidfd_send_signal",
        libc::SYS_pidfd_send_signal,
        "kill a stub",
    ),
    any("tgkill", libc::SYS_tgkill, "interrupt a stub thread"),
    any("wait4", libc::SYS_wait4, "reap a stub"),
    any("waitid", libc::SYS_waitid, "reap a stub"),
    // Threads (one per task), locks, time.
    any("clone3", libc::SYS_clone3, "task threads"),
    any("clone", libc::SYS_clone, "task threads (older glibc)"),
    any("set_robust_list", libc::SYS_set_robust_list, "new threads"),
    any("rseq", libc::SYS_rseq, "new threads"),
    any("prctl", libc::SYS_prctl, "thread names"),
    any("sigaltstack", libc::SYS_sigaltstack, "thread stacks"),
    any(
        "rt_sigprocmask",
        libc::SYS_rt_sigprocmask,
        "thread creation",
    ),
    any("rt_sigreturn", libc::SYS_rt_sigreturn, "signal return"),
    any("futex", libc::SYS_futex, "locks, condition variables"),
    any("sched_yield", libc::SYS_sched_yield, "locks"),
    any(
        "sched_getaffinity",
        libc::SYS_sched_getaffinity,
        "CPU count",
    ),
    any("gettid", libc::SYS_gettid, "logs"),
    any("getpid", libc::SYS_getpid, "signals to itself"),
    any("clock_gettime", libc::SYS_clock_gettime, "time"),
    any(
        "clock_nanosleep",
        libc::SYS_clock_nanosleep,
        "sleeps, timers",
    ),
    any("nanosleep", libc::SYS_nanosleep, "sleeps"),
    any(
        "getrandom",
        libc::SYS_getrandom,
        "/dev/random, AT_RANDOM, hash keys",
    ),
    any(
        "restart_syscall",
        libc::SYS_restart_syscall,
        "restarted sleeps",
    ),
    any("exit", libc::SYS_exit, "thread exit"),
    any("exit_group", libc::SYS_exit_group, "sandbox exit"),
];

/// What a Sentry whose root writes through to the host (`RootMode::WriteThrough`, `rvisor
/// do --overlay=none`) adds to [`ALLOWED`]: writing and flushing the host files the gofer
/// donates opened for writing (ftruncate and fallocate are on the list for the memory file).
pub const WRITE_THROUGH: &[Allowed] = &[
    any(
        "pwrite64",
        libc::SYS_pwrite64,
        "write a donated host file opened for writing",
    ),
    any("fsync", libc::SYS_fsync, "fsync of a donated host file"),
    any(
        "fdatasync",
        libc::SYS_fdatasync,
        "fdatasync of a donated host file",
    ),
];

/// What a Sentry on the kvm platform adds to [`ALLOWED`]: its vCPUs' ioctls (the VM, its
/// memory and the vCPU kick handler are set up before the filter; new vCPUs' `kvm_run`
/// pages are mapped with `mmap`, already allowed).
pub const KVM: &[Allowed] = &[only(
    "ioctl",
    libc::SYS_ioctl,
    "kvm platform: create and set up vCPUs, run them, their registers",
    KVM_IOCTLS,
)];

/// Syscalls that fail with EACCES instead of killing: glibc's malloc opens
/// /proc/sys/vm/overcommit_memory when it trims a thread arena, and copes with a refusal.
pub const REFUSED: &[(&str, libc::c_long)] =
    &[("open", libc::SYS_open), ("openat", libc::SYS_openat)];

/// The list, for `rvisor syscalls`.
pub fn allowed() -> &'static [Allowed] {
    ALLOWED
}

/// The list of a Sentry whose root is in `mode`, on platform `platform`.
pub fn allowed_for(mode: RootMode, platform: &str) -> Vec<Allowed> {
    let mut list = ALLOWED.to_vec();
    if mode == RootMode::WriteThrough {
        list.extend_from_slice(WRITE_THROUGH);
    }
    if platform == "kvm" {
        list.extend_from_slice(KVM);
    }
    list
}

/// Confines the calling thread and every thread it starts from now on to [`ALLOWED`]
/// (sets no_new_privs first).
pub fn install() -> Result<(), gofer::Error> {
    install_for(RootMode::Overlay, "seccomp")
}

/// Confines the calling thread and every thread it starts from now on to the list of a
/// Sentry whose root is in `mode`, on platform `platform` ([`allowed_for`]; sets
/// no_new_privs first).
pub fn install_for(mode: RootMode, platform: &str) -> Result<(), gofer::Error> {
    // glibc installs its own thread signal handlers (rt_sigaction) on a process's first
    // pthread_create: let that happen now, not in the first task thread under the filter.
    let _ = std::thread::Builder::new()
        .name("pre-confine".into())
        .spawn(|| {})
        .map(|t| t.join());
    let mut f = gofer::seccomp::build_list(&allowed_for(mode, platform))?;
    let err = |e: libseccomp::error::SeccompError| gofer::Error::Filter(e.to_string());
    for &(_, nr) in REFUSED {
        f.add_rule(
            libseccomp::ScmpAction::Errno(libc::EACCES),
            libseccomp::ScmpSyscall::from(nr as i32),
        )
        .map_err(err)?;
    }
    f.set_ctl_nnp(true).map_err(err)?;
    f.set_ctl_tsync(false).map_err(err)?;
    f.load().map_err(err)
}
