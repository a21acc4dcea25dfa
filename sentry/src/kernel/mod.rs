//! The kernel: the process table and what every task shares.

pub mod caps;
pub mod creds;
mod exec;
pub mod signal;
pub mod sysctl;
mod task;

use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::Instant;

use platform::{Interrupter, Platform};

use crate::fs::host::HostRoot;
pub use exec::{load_program, load_program_as, Exec, Program};
pub use task::{spawn_task, Task};

impl TgState {
    /// State of a new process.
    pub fn new(
        parent: Option<Arc<ThreadGroup>>,
        pgid: i32,
        sid: i32,
        actions: [SigAction; 64],
    ) -> TgState {
        TgState {
            parent,
            children: Vec::new(),
            live_threads: 0,
            exit_status: None,
            group_exit: None,
            pgid,
            sid,
            actions,
            threads: BTreeMap::new(),
            signals: BTreeMap::new(),
            rlimits: DEFAULT_RLIMITS,
            pdeathsig: 0,
            dumpable: true,
            no_new_privs: false,
            oom_score_adj: 0,
            oom_score_adj_min: 0,
            child_subreaper: false,
            exit_signal: libc::SIGCHLD,
            stopped: false,
            job_report: None,
            cpu_base: std::time::Duration::ZERO,
            cpu_total: std::time::Duration::ZERO,
            children_cpu: std::time::Duration::ZERO,
            maxrss_kb: 0,
            timers: BTreeMap::new(),
            creds: creds::Credentials::default(),
            fast_ids: None,
            view: None,
            ctty: None,
        }
    }
}

/// A signal disposition.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SigAction {
    pub handler: u64,
    pub flags: u64,
    pub restorer: u64,
    pub mask: u64,
}

/// `SIG_DFL`.
pub const SIG_DFL: u64 = 0;
/// `SIG_IGN`.
pub const SIG_IGN: u64 = 1;

/// Mutable state of a thread group (a process).
pub struct TgState {
    pub parent: Option<Arc<ThreadGroup>>,
    pub children: Vec<Arc<ThreadGroup>>,
    pub live_threads: usize,
    /// Wait status once the last thread is gone (a zombie).
    pub exit_status: Option<i32>,
    /// Set by exit_group or a fatal signal: every thread stops with this wait status.
    pub group_exit: Option<i32>,
    pub pgid: i32,
    pub sid: i32,
    pub actions: [SigAction; 64],
    /// Interrupters of the live threads, to stop them on group exit.
    pub threads: BTreeMap<i32, Arc<dyn Interrupter>>,
    /// Signal state of the live threads.
    pub signals: BTreeMap<i32, Arc<signal::TaskSignals>>,
    /// Resource limits (soft, hard), by RLIMIT_* number.
    pub rlimits: [(u64, u64); 16],
    /// prctl state: parent-death signal, dumpable, no_new_privs, child subreaper.
    pub pdeathsig: i32,
    pub dumpable: bool,
    pub no_new_privs: bool,
    /// /proc/PID/oom_score_adj, -1000..=1000 (inherited by children, kept across execve).
    pub oom_score_adj: i32,
    /// The lowest value a writer without CAP_SYS_RESOURCE may set: the last one a writer
    /// with it set (inherited too), as Linux's oom_score_adj_min.
    pub oom_score_adj_min: i32,
    pub child_subreaper: bool,
    /// Signal sent to the parent on exit (SIGCHLD, or another for clone children, 0: none).
    pub exit_signal: i32,
    /// Group stop in effect.
    pub stopped: bool,
    /// A stop (`sig << 8 | 0x7f`) or continue (`0xffff`) not yet reported to wait.
    pub job_report: Option<i32>,
    /// CPU time of address spaces the process has left (execve), its total once it exited,
    /// and what its reaped children used.
    pub cpu_base: std::time::Duration,
    pub cpu_total: std::time::Duration,
    pub children_cpu: std::time::Duration,
    /// Largest resident size seen, in KiB.
    pub maxrss_kb: u64,
    /// The process's credentials (kept in step with its threads' by the set*id calls).
    pub creds: creds::Credentials,
    /// POSIX timers (timer_create), by id.
    pub timers: BTreeMap<i32, Arc<crate::syscalls::posix_timer::PosixTimer>>,
    /// The ids page of the process's address space, once the fast path answers from it.
    pub fast_ids: Option<Arc<crate::mm::IdsPage>>,
    /// What /proc shows of the process to others (published by its leader thread).
    pub view: Option<ProcView>,
    /// The controlling terminal (a pty slave), inherited across fork, dropped by setsid.
    pub ctty: Option<Arc<crate::fs::devpts::Pty>>,
}

/// The parts of a process's leader that /proc shows to other processes.
#[derive(Clone)]
pub struct ProcView {
    pub mm: Weak<Mutex<crate::mm::MemoryManager>>,
    pub fds: Weak<Mutex<crate::fs::FdTable>>,
    pub cwd: Arc<Mutex<Vec<u8>>>,
    pub exe: Vec<u8>,
    pub comm: [u8; 16],
    pub umask: u32,
}

/// Resource limits of the first process, as Linux's defaults for init.
pub const DEFAULT_RLIMITS: [(u64, u64); 16] = {
    const INF: u64 = u64::MAX;
    let mut r = [(INF, INF); 16];
    r[libc::RLIMIT_STACK as usize] = (crate::mm::STACK_SIZE, INF);
    r[libc::RLIMIT_CORE as usize] = (0, INF);
    r[libc::RLIMIT_NPROC as usize] = (63_704, 63_704);
    r[libc::RLIMIT_NOFILE as usize] = (1024, 4096);
    r[libc::RLIMIT_MEMLOCK as usize] = (8 << 20, 8 << 20);
    r[libc::RLIMIT_SIGPENDING as usize] = (63_704, 63_704);
    r[libc::RLIMIT_MSGQUEUE as usize] = (819_200, 819_200);
    r[libc::RLIMIT_NICE as usize] = (0, 0);
    r[libc::RLIMIT_RTPRIO as usize] = (0, 0);
    r
};

/// A process.
pub struct ThreadGroup {
    pub tgid: i32,
    pub state: Mutex<TgState>,
    /// Notified when a child changes state (wait4).
    pub child_cv: Condvar,
    /// Signals pending for the whole process.
    pub sig: signal::GroupSignals,
    /// Notified when a group stop ends.
    pub cont_cv: Condvar,
    /// ITIMER_REAL: a generation number (bumped to cancel) and the current setting.
    pub itimer: Mutex<[ITimer; 3]>,
}

/// The ITIMER_REAL setting of a process.
#[derive(Debug, Default)]
pub struct ITimer {
    pub generation: u64,
    /// ITIMER_REAL: when it fires.
    pub deadline: Option<Instant>,
    /// ITIMER_VIRTUAL and ITIMER_PROF: the process CPU time at which it fires.
    pub cpu_deadline: Option<std::time::Duration>,
    pub interval: std::time::Duration,
}

impl ThreadGroup {
    pub fn lock(&self) -> std::sync::MutexGuard<'_, TgState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Asks every thread to stop with `status` (exit_group, fatal signal).
    pub fn kill_group(&self, status: i32) {
        let mut st = self.lock();
        if st.group_exit.is_none() {
            st.group_exit = Some(status);
        }
        self.sig
            .exiting
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.cont_cv.notify_all();
        for irq in st.threads.values() {
            irq.interrupt();
        }
        // Wake blocked threads after letting go of the process lock: a waker may take it.
        let sleepers: Vec<_> = st.signals.values().cloned().collect();
        drop(st);
        for ts in sleepers {
            ts.wake();
        }
    }
}

/// The sandbox's kernel.
pub struct Kernel {
    pub platform: Box<dyn Platform>,
    pub root: HostRoot,
    pub boot: Instant,
    /// The private /tmp.
    pub tmpfs: Arc<crate::fs::tmpfs::Tmpfs>,
    /// /dev/shm.
    pub shm: Arc<crate::fs::tmpfs::Tmpfs>,
    /// The writable layer over the root.
    pub overlay: crate::fs::overlay::Overlay,
    /// The abstract namespace of AF_UNIX socket names.
    pub unix_names: Arc<crate::net::unix::AbstractNames>,
    /// The pseudo-terminals (/dev/ptmx, /dev/pts).
    pub devpts: crate::fs::devpts::DevPts,
    /// Whether syscall sites of register-only syscalls are patched (see `mm::fastpath`).
    pub syscall_patching: bool,
    /// The first mount namespace (the one pid 1 starts in).
    pub mounts: Arc<crate::fs::vfs::MountNs>,
    /// The user namespace every task runs in: which host ids the sandbox's ids stand for.
    /// Task credentials and file owners are the sandbox's ids; [`NO_ID`] is an owner with
    /// no mapping (shown as the overflow id).
    ///
    /// [`NO_ID`]: gofer::idmap::NO_ID
    pub ids: Arc<gofer::IdMaps>,
    /// The sandbox's sysctls (its network and IPC namespaces' tunables).
    pub sysctl: sysctl::Sysctls,
    pids: Mutex<Pids>,
    /// Wait status of pid 1 once it is gone.
    init_status: (Mutex<Option<i32>>, Condvar),
    /// Wait statuses of processes without a parent (started from outside), until taken.
    exits: (Mutex<BTreeMap<i32, i32>>, Condvar),
}

/// The sandbox's mounts when it starts: the root, /dev, /proc, /tmp, /dev/shm, /sys and
/// /dev/pts.
fn initial_mounts(
    dev: &Arc<crate::fs::tmpfs::Tmpfs>,
    tmp: &Arc<crate::fs::tmpfs::Tmpfs>,
    shm: &Arc<crate::fs::tmpfs::Tmpfs>,
) -> Vec<crate::fs::vfs::Mount> {
    use crate::fs::vfs::{Mount, MountFs, PseudoFs};
    let (nosuid, nodev, noexec) = (libc::MS_NOSUID, libc::MS_NODEV, libc::MS_NOEXEC);
    let relatime = libc::MS_RELATIME;
    vec![
        Mount::new(b"/", MountFs::Root, relatime, b"none", ""),
        Mount::new(
            b"/dev",
            MountFs::Tmpfs(dev.clone()),
            nosuid | relatime,
            b"none",
            "mode=755",
        ),
        Mount::new(
            b"/proc",
            MountFs::Pseudo(PseudoFs::Proc),
            nosuid | nodev | noexec | relatime,
            b"proc",
            "",
        ),
        Mount::new(
            b"/tmp",
            MountFs::Tmpfs(tmp.clone()),
            nosuid | nodev | relatime,
            b"none",
            "",
        ),
        Mount::new(
            b"/dev/shm",
            MountFs::Tmpfs(shm.clone()),
            nosuid | nodev | relatime,
            b"none",
            "",
        ),
        Mount::new(
            b"/sys",
            MountFs::Pseudo(PseudoFs::Sys),
            libc::MS_RDONLY | nosuid | nodev | noexec | relatime,
            b"sysfs",
            "",
        ),
        Mount::new(
            b"/dev/pts",
            MountFs::Devpts,
            nosuid | noexec | relatime,
            b"devpts",
            "gid=5,mode=620,ptmxmode=666",
        ),
    ]
}

struct Pids {
    next: i32,
    groups: BTreeMap<i32, Weak<ThreadGroup>>,
}

impl Kernel {
    /// The kernel of a sandbox over `root`, whose user namespace is the root's
    /// ([`HostRoot::ids`]).
    pub fn new(platform: Box<dyn Platform>, root: HostRoot, syscall_patching: bool) -> Arc<Kernel> {
        let tmpfs = crate::fs::tmpfs::Tmpfs::new(0x2a, platform.memory_file().clone());
        let shm = crate::fs::tmpfs::Tmpfs::new(0x2b, platform.memory_file().clone());
        // /dev: the Sentry's devices in a tmpfs of their own (device 0x2, as Linux's
        // devtmpfs often is).
        let dev = crate::fs::tmpfs::Tmpfs::new(0x2, platform.memory_file().clone());
        if let Err(e) = crate::fs::dev::populate(&dev) {
            tracing::error!("filling /dev: {e:?}");
        }
        let mounts = crate::fs::vfs::MountNs::new(initial_mounts(&dev, &tmpfs, &shm));
        Arc::new(Kernel {
            syscall_patching,
            mounts,
            ids: root.ids().clone(),
            tmpfs,
            shm,
            overlay: crate::fs::overlay::Overlay::new(crate::fs::tmpfs::Tmpfs::new(
                0x2c,
                platform.memory_file().clone(),
            )),
            unix_names: Default::default(),
            devpts: Default::default(),
            sysctl: Default::default(),
            platform,
            root,
            boot: Instant::now(),
            pids: Mutex::new(Pids {
                next: 1,
                groups: BTreeMap::new(),
            }),
            init_status: (Mutex::new(None), Condvar::new()),
            exits: (Mutex::new(BTreeMap::new()), Condvar::new()),
        })
    }

    /// A new, unused pid.
    pub fn alloc_pid(&self) -> i32 {
        let mut p = self.pids.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let pid = p.next;
            p.next = if p.next >= 4_194_303 { 2 } else { p.next + 1 };
            if !p.groups.contains_key(&pid) {
                return pid;
            }
        }
    }

    /// Registers a new process.
    pub fn add_group(&self, tg: &Arc<ThreadGroup>) {
        let mut p = self.pids.lock().unwrap_or_else(|e| e.into_inner());
        p.groups.retain(|_, w| w.strong_count() > 0);
        p.groups.insert(tg.tgid, Arc::downgrade(tg));
    }

    /// The live process with pid `pid`.
    pub fn group(&self, pid: i32) -> Option<Arc<ThreadGroup>> {
        let p = self.pids.lock().unwrap_or_else(|e| e.into_inner());
        p.groups.get(&pid).and_then(Weak::upgrade)
    }

    /// Forgets a reaped process: its pid no longer names anything.
    pub fn release_pid(&self, pid: i32) {
        let mut p = self.pids.lock().unwrap_or_else(|e| e.into_inner());
        p.groups.remove(&pid);
    }

    /// Every live process.
    pub fn groups(&self) -> Vec<Arc<ThreadGroup>> {
        let p = self.pids.lock().unwrap_or_else(|e| e.into_inner());
        p.groups.values().filter_map(Weak::upgrade).collect()
    }

    /// Called when pid 1 is gone.
    pub(crate) fn init_exited(&self, status: i32) {
        let (m, cv) = &self.init_status;
        *m.lock().unwrap_or_else(|e| e.into_inner()) = Some(status);
        cv.notify_all();
        // Like a pid namespace whose init died: everyone else is killed.
        for g in self.groups() {
            g.kill_group(libc::SIGKILL);
        }
    }

    /// Called when a process without a parent other than pid 1 is gone: its status waits
    /// for `wait_exit`, and its pid is free.
    pub(crate) fn orphan_exited(&self, pid: i32, status: i32) {
        let (m, cv) = &self.exits;
        m.lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(pid, status);
        self.release_pid(pid);
        cv.notify_all();
    }

    /// Waits until `pid`, a process started from outside, is gone; returns its wait status.
    pub fn wait_exit(&self, pid: i32) -> i32 {
        let (m, cv) = &self.exits;
        let mut g = m.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(s) = g.remove(&pid) {
                return s;
            }
            g = cv.wait(g).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Waits until pid 1 is gone; returns its wait status.
    pub fn wait_init(&self) -> i32 {
        let (m, cv) = &self.init_status;
        let mut g = m.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(s) = *g {
                return s;
            }
            g = cv.wait(g).unwrap_or_else(|e| e.into_inner());
        }
    }
}
