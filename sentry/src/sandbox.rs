//! Booting a sandbox: the first process, its root and stdio.

use std::sync::{Arc, Condvar, Mutex};

use platform::Platform;

use crate::errno::Errno;
use crate::fs::host::HostRoot;
use crate::fs::FdTable;
use crate::kernel::{
    load_program_as, spawn_task, Exec, Kernel, SigAction, Task, TgState, ThreadGroup,
};

mod setup;
use setup::{
    arrange_mounts, dev_tmpfs, hide_paths, make_devices, masked_program, rlimits_with, search_path,
    with_home,
};

/// What to run.
#[derive(Clone, Debug)]
pub struct Config {
    /// Working directory inside the sandbox.
    pub cwd: Vec<u8>,
    /// Environment.
    pub env: Vec<Vec<u8>>,
    /// Command and arguments.
    pub argv: Vec<Vec<u8>>,
    /// Patch the syscall sites of getpid/getppid into trampolines (see `mm::fastpath`).
    pub syscall_patching: bool,
    /// Install the Sentry's seccomp filter (`confine`) before the first task runs.
    pub confine: bool,
    /// Where changes to the root go: an in-memory overlay (the default) or, through a
    /// writable gofer, the host (`rvisor do --overlay=none`).
    pub root_mode: RootMode,
    /// Who pid 1 runs as.
    pub user: User,
    /// The sandbox's hostname.
    pub hostname: Vec<u8>,
    /// The root is mounted read-only.
    pub readonly_root: bool,
    /// Mounts made before pid 1 runs, in order.
    pub mounts: Vec<MountRequest>,
    /// Paths hidden after those mounts (`linux.maskedPaths`): a directory under an empty
    /// read-only tmpfs, anything else under /dev/null; absent ones are skipped.
    pub masked_paths: Vec<Vec<u8>>,
    /// Paths made read-only after the masks (`linux.readonlyPaths`): each gets a read-only
    /// bind of itself; absent ones are skipped.
    pub readonly_paths: Vec<Vec<u8>>,
    /// A private tmpfs on /tmp (`rvisor do`); a container's /tmp is its image's.
    pub private_tmp: bool,
    /// HOME from /etc/passwd when the environment has none (containers, as runc does).
    pub set_home: bool,
    /// /dev/ptmx is a link to pts/ptmx (containers, as runc makes it), not the device.
    pub ptmx_link: bool,
    /// Bind mounts the gofer serves as part of the root (made on the host before it
    /// started): where they are, and whether read-only. Changes under a writable one go
    /// to the host even over the overlay.
    pub binds: Vec<BindPoint>,
    /// Every mount of the spec, in its order: once made (or stood for by the sandbox's
    /// own /dev, /dev/pts...), the table lists them so, with these sources, as runc's would.
    pub mount_order: Vec<SpecMount>,
    /// Device nodes made in /dev (`linux.devices`) besides the Sentry's own.
    pub devices: Vec<DeviceNode>,
    /// The user namespace the sandbox's processes run in (`linux.uidMappings` and
    /// `gidMappings`): which host ids its ids stand for. The identity without one.
    pub ids: gofer::IdMaps,
    /// Sysctls set before pid 1 runs (`linux.sysctl`: name, value), see `kernel::sysctl`.
    pub sysctl: Vec<(String, String)>,
}

/// A host bind mount inside the root filesystem.
#[derive(Clone, Debug)]
pub struct BindPoint {
    /// Where, in the sandbox (absolute, normalized).
    pub point: Vec<u8>,
    pub readonly: bool,
    /// MS_NOSUID, MS_NODEV, MS_NOEXEC.
    pub flags: u64,
    /// Its root as the host's mountinfo shows it (the source's path in its filesystem).
    pub shown_root: Option<Vec<u8>>,
}

/// A device node of the spec (`linux.devices`), made in the sandbox's /dev: opening one
/// the Sentry has no driver for gives ENXIO, as a node without a driver does on Linux.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceNode {
    /// Its path, under /dev/.
    pub path: Vec<u8>,
    /// A device (`Some(rdev)`) or a named pipe (None).
    pub rdev: Option<u64>,
    /// A block device rather than a character one.
    pub block: bool,
    /// Permission bits.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

/// One mount of a container's spec, for the order and sources of the table.
#[derive(Clone, Debug, Default)]
pub struct SpecMount {
    /// Where (absolute).
    pub target: Vec<u8>,
    /// What /proc/PID/mounts shows as its source; None keeps the table's (binds).
    pub source: Option<Vec<u8>>,
}

/// A tmpfs, proc, sysfs or cgroup mount made at boot (`syscalls::mount::mount_at_boot`).
#[derive(Clone, Debug)]
pub struct MountRequest {
    pub target: Vec<u8>,
    /// "tmpfs", "proc", "sysfs", or "cgroup"/"cgroup2" (the read-only cgroup v2 view).
    pub fstype: String,
    /// MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC and the access-time flags.
    pub flags: u64,
    /// Filesystem options (tmpfs: size, mode, uid, gid).
    pub data: Vec<u8>,
}

pub use crate::fs::host::RootMode;

/// Why a sandbox could not run.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The command cannot be started.
    #[error("cannot run {cmd}: {why}")]
    Exec {
        /// The command.
        cmd: String,
        /// The errno, spelled out.
        why: String,
    },
    /// No command given.
    #[error("no command given")]
    NoCommand,
    /// The process's user or a group has no mapping in the sandbox's user namespace.
    #[error("{what} {id} has no mapping in the sandbox's user namespace")]
    Unmapped {
        /// "user", "group" or "additional group".
        what: &'static str,
        /// The id.
        id: u32,
    },
    /// The Sentry's seccomp filter could not be installed.
    #[error("confining the Sentry: {0}")]
    Confine(String),
    /// Stdio could not be set up.
    #[error("stdio: {0}")]
    Stdio(std::io::Error),
    /// A resource limit could not be set (as setrlimit(2) would refuse it).
    #[error("setting rlimit {resource}: {why}")]
    Rlimit {
        /// The RLIMIT_* number.
        resource: u32,
        /// The errno, spelled out.
        why: String,
    },
    /// A masked or read-only path could not be made so.
    #[error("{what} {path}: {why}")]
    Path {
        /// "masking" or "making read-only".
        what: &'static str,
        /// The path, as the spec gives it.
        path: String,
        /// The errno, spelled out.
        why: String,
    },
    /// A mount of the spec could not be made.
    #[error("mounting {target}: {why}")]
    Mount {
        /// Where.
        target: String,
        /// The errno, spelled out.
        why: String,
    },
    /// A sysctl of the spec could not be set.
    #[error(transparent)]
    Sysctl(#[from] crate::kernel::sysctl::SysctlError),
    /// `start` was called twice.
    #[error("the sandbox has already started")]
    Started,
}

fn describe(e: Errno) -> String {
    std::io::Error::from_raw_os_error(e.0).to_string()
}

/// Who the first process (or an exec'd one) runs as, and with what limits.
#[derive(Clone, Debug)]
pub struct User {
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups.
    pub groups: Vec<u32>,
    pub umask: u32,
    /// Capability sets (the spec's); None: all of them.
    pub caps: Option<crate::kernel::creds::Capabilities>,
    /// Resource limits set before it runs (`process.rlimits`); the others keep the
    /// Sentry's defaults.
    pub rlimits: Vec<Rlimit>,
    /// It starts with no_new_privs set (`process.noNewPrivileges`).
    pub no_new_privs: bool,
    /// Its /proc/PID/oom_score_adj (`process.oomScoreAdj`), set as a privileged runtime
    /// sets it (also the floor an unprivileged write may not go below).
    pub oom_score_adj: Option<i32>,
}

/// One resource limit, as setrlimit(2) takes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rlimit {
    /// RLIMIT_* number.
    pub resource: u32,
    pub soft: u64,
    pub hard: u64,
}

impl Default for User {
    fn default() -> Self {
        User {
            uid: 0,
            gid: 0,
            groups: Vec::new(),
            umask: 0o022,
            caps: None,
            rlimits: Vec::new(),
            no_new_privs: false,
            oom_score_adj: None,
        }
    }
}

impl User {
    /// The credentials the runtime's setup leaves before it executes the program: the ids
    /// and the capability sets given, ambient ones only where permitted and inheritable.
    /// The execve then makes the process's own (`kernel::caps::exec`: root keeps the
    /// bounding set, another user only its ambient capabilities, a set-id program raises
    /// them unless no_new_privs is set).
    fn setup_credentials(&self) -> crate::kernel::creds::Credentials {
        let mut c = crate::kernel::creds::Credentials::new(
            self.uid,
            self.gid,
            self.groups.clone(),
            self.caps.unwrap_or_default(),
        );
        c.caps.ambient &= c.caps.permitted & c.caps.inheritable;
        c
    }
}

/// A process to start in a running sandbox (`rvisor exec`).
#[derive(Debug)]
pub struct ExecSpec {
    pub argv: Vec<Vec<u8>>,
    pub env: Vec<Vec<u8>>,
    pub cwd: Vec<u8>,
    pub user: User,
    /// Its descriptors 0, 1 and 2.
    pub stdio: Stdio,
}

/// Descriptors 0, 1 and 2 of a process started from outside.
#[derive(Debug)]
pub enum Stdio {
    /// Host files (pipes, /dev/null...), read and written as they are.
    Host([std::os::fd::OwnedFd; 3]),
    /// A terminal: a pair of the Sentry's devpts, its slave the process's stdio and
    /// controlling terminal, bridged to this host terminal (`fs::devpts::console`).
    Terminal(std::os::fd::OwnedFd),
}

/// What `ps` shows of a process.
#[derive(Clone, Debug)]
pub struct ProcessInfo {
    pub pid: i32,
    pub ppid: i32,
    /// Its name (/proc/PID/comm).
    pub comm: String,
}

/// A sandbox made and not yet started, or running: its kernel and first process.
pub struct Sandbox {
    kernel: Arc<Kernel>,
    init: Option<Task>,
    uts: Uts,
    /// Pid 1's terminal bridge, if it runs on one.
    console: Option<crate::fs::devpts::console::Bridge>,
}

/// How long the end of pid 1 waits for its terminal's last output to reach the host.
const CONSOLE_DRAIN: std::time::Duration = std::time::Duration::from_secs(2);

/// Descriptors 0-2 of a new process on a terminal bridged to `host`: the terminal, and
/// its slave opened once (one description, as runc dups it).
fn terminal_stdio(
    kernel: &Arc<Kernel>,
    host: std::os::fd::OwnedFd,
    uid: u32,
) -> Result<(crate::fs::devpts::console::HostTerminal, FdTable), SandboxError> {
    let err = |e: Errno| SandboxError::Stdio(std::io::Error::from_raw_os_error(e.0));
    let (term, slave) =
        crate::fs::devpts::console::HostTerminal::open(kernel, host, uid).map_err(err)?;
    let mut fds = FdTable::default();
    for fd in 0..3 {
        fds.set(fd, slave.clone(), false).map_err(err)?;
    }
    Ok((term, fds))
}

/// A handle on a sandbox's kernel for those outside it: signals, exec, process lists.
#[derive(Clone)]
pub struct Control {
    kernel: Arc<Kernel>,
    /// Pid 1's UTS namespace, which exec'd processes join.
    uts: Uts,
}

/// A UTS namespace: hostname and domain name.
type Uts = Arc<Mutex<(Vec<u8>, Vec<u8>)>>;

/// A new process of `kernel` running `prog`, found at `path`, with no parent.
fn new_process(
    kernel: &Arc<Kernel>,
    prog: crate::kernel::Program,
    path: &[u8],
    cwd: Vec<u8>,
    user: &User,
    mut fds: FdTable,
    uts: Uts,
) -> Result<Task, Errno> {
    // Checked by the caller first, for the error it names.
    let rlimits = rlimits_with(&user.rlimits).map_err(|_| Errno::EINVAL)?;
    let pid = kernel.alloc_pid();
    let mut creds = prog.creds.clone();
    creds.mapped_only = !kernel.ids.is_identity();
    let mut state = TgState::new(None, pid, pid, [SigAction::default(); 64]);
    state.creds = creds.clone();
    state.rlimits = rlimits;
    state.no_new_privs = user.no_new_privs;
    if let Some(adj) = user.oom_score_adj {
        state.oom_score_adj = adj.clamp(-1000, 1000);
        state.oom_score_adj_min = state.oom_score_adj;
    }
    fds.set_limit(rlimits[libc::RLIMIT_NOFILE as usize].0);
    let tg = Arc::new(ThreadGroup {
        tgid: pid,
        state: Mutex::new(state),
        child_cv: Condvar::new(),
        sig: Default::default(),
        itimer: Default::default(),
        cont_cv: Condvar::new(),
    });
    kernel.add_group(&tg);
    let ctx = kernel.platform.new_context().map_err(|_| Errno::EAGAIN)?;
    let mut comm = [0u8; 16];
    // The name is that of the path executed, symlinks not followed (as execve gives it).
    let base = path.rsplit(|&b| b == b'/').next().unwrap_or(path);
    let n = base.len().min(15);
    comm[..n].copy_from_slice(&base[..n]);
    Ok(Task {
        fast_guest: None,
        tid: pid,
        tg,
        kernel: kernel.clone(),
        ctx,
        regs: prog.regs.clone(),
        mm: Arc::new(Mutex::new(prog.mm)),
        fds: Arc::new(Mutex::new(fds)),
        cwd: Arc::new(Mutex::new(cwd)),
        umask: user.umask & 0o777,
        clear_child_tid: 0,
        sig: Default::default(),
        exiting: None,
        regs_replaced: false,
        vfork_done: None,
        comm,
        exe: prog.path.clone(),
        creds,
        nice: 0,
        robust_list: (0, 0),
        uts,
        mnt: kernel.mounts.clone(),
    })
}

/// Loads `argv[0]` (searched in PATH) for a new process.
fn load(
    kernel: &Kernel,
    cwd: &[u8],
    argv: &[Vec<u8>],
    env: &[Vec<u8>],
    user: &User,
) -> Result<(crate::kernel::Program, Vec<u8>, Vec<u8>), SandboxError> {
    let cmd = argv.first().ok_or(SandboxError::NoCommand)?.clone();
    let unmapped = |what, id| SandboxError::Unmapped { what, id };
    if !kernel.ids.uid.covers(user.uid) {
        return Err(unmapped("user", user.uid));
    }
    if !kernel.ids.gid.covers(user.gid) {
        return Err(unmapped("group", user.gid));
    }
    if let Some(&g) = user.groups.iter().find(|&&g| !kernel.ids.gid.covers(g)) {
        return Err(unmapped("additional group", g));
    }
    let exec_err = |e: Errno| SandboxError::Exec {
        cmd: String::from_utf8_lossy(&cmd).into_owned(),
        why: describe(e),
    };
    let cwd = kernel
        .root
        .lookup(b"/", cwd, true)
        .map_err(exec_err)?
        .path
        .clone();
    let path = search_path(&kernel.root, &cwd, env, &cmd);
    // Executed as the runtime's execve does it: as the user, after the setup, with
    // no_new_privs already set if asked.
    let setup = user.setup_credentials();
    let who = Exec {
        creds: &setup,
        no_new_privs: user.no_new_privs,
    };
    let prog = load_program_as(
        kernel,
        &kernel.mounts.snapshot(),
        &cwd,
        &path,
        argv.to_vec(),
        env.to_vec(),
        &who,
    )
    .map_err(exec_err)?;
    Ok((prog, cwd, path))
}

impl Sandbox {
    /// Makes the sandbox and its first process (pid 1), with the Sentry's stdio as its own,
    /// without running it; with `cfg.confine`, the Sentry is confined from here on.
    pub fn create(
        platform: Box<dyn Platform>,
        root: HostRoot,
        cfg: Config,
    ) -> Result<Sandbox, SandboxError> {
        Self::create_with_terminal(platform, root, cfg, None)
    }

    /// `create`; with `terminal`, pid 1 runs on a terminal of the Sentry's devpts bridged
    /// to that host terminal (as `Stdio::Terminal`) instead of the Sentry's stdio.
    pub fn create_with_terminal(
        platform: Box<dyn Platform>,
        root: HostRoot,
        cfg: Config,
        terminal: Option<std::os::fd::OwnedFd>,
    ) -> Result<Sandbox, SandboxError> {
        let through: Vec<Vec<u8>> = cfg
            .binds
            .iter()
            .filter(|b| !b.readonly)
            .map(|b| b.point.clone())
            .collect();
        let writes_to_host = cfg.root_mode == RootMode::WriteThrough || !through.is_empty();
        let root = root
            .with_mode(cfg.root_mode)
            .with_write_through(through)
            .with_ids(cfg.ids.clone());
        let kernel = Kernel::new(platform, root, cfg.syscall_patching);
        for b in &cfg.binds {
            let _ = kernel.mounts.update(|t| {
                let mut m = crate::fs::vfs::Mount::new(
                    &b.point,
                    crate::fs::vfs::MountFs::Root,
                    b.flags | if b.readonly { libc::MS_RDONLY } else { 0 },
                    b"bind",
                    "",
                );
                m.root = b.point.clone();
                m.shown_root = b.shown_root.clone();
                t.push(m);
                Ok(())
            });
        }
        if cfg.ptmx_link {
            if let Some(fs) = dev_tmpfs(&kernel.mounts) {
                let _ = crate::fs::dev::ptmx_link(&fs);
            }
        }
        make_devices(&kernel.mounts, &cfg.devices)?;
        if !cfg.private_tmp {
            let _ = kernel.mounts.update(|t| {
                t.retain(|m| m.point != b"/tmp");
                Ok(())
            });
        }
        if cfg.readonly_root {
            let _ = kernel.mounts.update(|t| {
                if let Some(r) = t.first_mut() {
                    r.flags |= libc::MS_RDONLY;
                }
                Ok(())
            });
        }
        for m in &cfg.mounts {
            crate::syscalls::mount_at_boot(&kernel, &m.target, &m.fstype, m.flags, &m.data)
                .map_err(|e| SandboxError::Mount {
                    target: String::from_utf8_lossy(&m.target).into_owned(),
                    why: describe(e),
                })?;
        }
        arrange_mounts(&kernel.mounts, &cfg.mount_order);
        rlimits_with(&cfg.user.rlimits)?;
        let env = if cfg.set_home {
            with_home(&kernel.root, cfg.user.uid, cfg.env.clone())
        } else {
            cfg.env.clone()
        };
        let (prog, cwd, path) = load(&kernel, &cfg.cwd, &cfg.argv, &env, &cfg.user)?;
        let (console, fds) = match terminal {
            Some(host) => {
                let (term, fds) = terminal_stdio(&kernel, host, cfg.user.uid)?;
                (Some(term), fds)
            }
            None => {
                let mut fds = FdTable::default();
                let ids = kernel.root.ids().clone();
                for (fd, f) in crate::syscalls::host_stdio(ids).map_err(SandboxError::Stdio)? {
                    fds.set(fd, f, false)
                        .map_err(|e| SandboxError::Stdio(std::io::Error::from_raw_os_error(e.0)))?;
                }
                (None, fds)
            }
        };
        let cmd = String::from_utf8_lossy(&cfg.argv[0]).into_owned();
        let uts: Uts = Arc::new(Mutex::new((cfg.hostname.clone(), b"(none)".to_vec())));
        crate::kernel::sysctl::apply(&kernel.sysctl, &uts, &cfg.sysctl)?;
        let mut task = new_process(&kernel, prog, &path, cwd, &cfg.user, fds, uts.clone())
            .map_err(|e| SandboxError::Exec {
                cmd: cmd.clone(),
                why: describe(e),
            })?;
        let masks = hide_paths(&mut task, &cfg)?;
        if let Some(e) = masked_program(&task, &masks) {
            return Err(SandboxError::Exec {
                cmd,
                why: describe(e),
            });
        }
        if cfg.confine {
            // What needs host files is read now; from here on the Sentry opens none.
            crate::fs::procfs::warm();
            let _ = crate::syscalls::misc::host_cpus();
            let mode = if writes_to_host {
                RootMode::WriteThrough
            } else {
                RootMode::Overlay
            };
            crate::confine::install_for(mode, kernel.platform.name())
                .map_err(|e| SandboxError::Confine(e.to_string()))?;
        }
        // Pid 1 is a session leader (runc's init calls setsid) with its terminal as
        // controlling terminal. The bridge starts here, confined: its threads descend from
        // this one.
        let console = match console {
            Some(term) => {
                term.attach(&task.tg);
                Some(term.start().map_err(SandboxError::Stdio)?)
            }
            None => None,
        };
        Ok(Sandbox {
            kernel,
            init: Some(task),
            uts,
            console,
        })
    }

    /// Lets pid 1 run (once).
    pub fn start(&mut self) -> Result<(), SandboxError> {
        let task = self.init.take().ok_or(SandboxError::Started)?;
        if let Some(b) = &self.console {
            // A resize of the host terminal since `create` is seen from the first instant.
            b.sync_winsize();
        }
        spawn_task(task).map_err(|e| SandboxError::Exec {
            cmd: "init".into(),
            why: describe(e),
        })
    }

    /// Waits until pid 1 is gone (and its terminal's last output has reached the host, a
    /// little while at most); returns its wait status.
    pub fn wait(&self) -> i32 {
        let status = self.kernel.wait_init();
        if let Some(b) = &self.console {
            b.drained(CONSOLE_DRAIN);
        }
        status
    }

    /// A handle for signals, exec and process lists.
    pub fn control(&self) -> Control {
        Control {
            kernel: self.kernel.clone(),
            uts: self.uts.clone(),
        }
    }
}

impl Control {
    /// Sends `sig` from outside to pid 1 or, with `all`, to every process. As to the init
    /// of a pid namespace from an ancestor one, a signal pid 1 has no handler for is
    /// dropped, but for SIGKILL and SIGSTOP.
    pub fn signal(&self, sig: i32, all: bool) -> Result<(), Errno> {
        if !(1..=64).contains(&sig) {
            return Err(Errno::EINVAL);
        }
        let targets = if all {
            self.kernel.groups()
        } else {
            vec![self.kernel.group(1).ok_or(Errno::ESRCH)?]
        };
        for tg in targets {
            if tg.tgid == 1 && sig != libc::SIGKILL && sig != libc::SIGSTOP {
                let handler = tg.lock().actions[(sig - 1) as usize].handler;
                if handler == crate::kernel::SIG_DFL {
                    continue;
                }
            }
            crate::kernel::signal::send(
                &tg,
                None,
                crate::kernel::signal::SigInfo {
                    signo: sig,
                    code: 0,
                    pid: 0,
                    ..Default::default()
                },
            );
        }
        Ok(())
    }

    /// Sends `sig` from outside to process `pid` (no pid-1 exception: used for exec'd
    /// processes).
    pub fn signal_pid(&self, pid: i32, sig: i32) -> Result<(), Errno> {
        if !(1..=64).contains(&sig) {
            return Err(Errno::EINVAL);
        }
        let tg = self.kernel.group(pid).ok_or(Errno::ESRCH)?;
        crate::kernel::signal::send(
            &tg,
            None,
            crate::kernel::signal::SigInfo {
                signo: sig,
                code: 0,
                pid: 0,
                ..Default::default()
            },
        );
        Ok(())
    }

    /// The live processes, by pid.
    pub fn processes(&self) -> Vec<ProcessInfo> {
        let mut v: Vec<ProcessInfo> = self
            .kernel
            .groups()
            .into_iter()
            .filter_map(|tg| {
                let st = tg.lock();
                if st.exit_status.is_some() {
                    return None;
                }
                let comm = st.view.as_ref().map(|v| {
                    let n = v.comm.iter().position(|&b| b == 0).unwrap_or(16);
                    String::from_utf8_lossy(&v.comm[..n]).into_owned()
                });
                Some(ProcessInfo {
                    pid: tg.tgid,
                    ppid: st.parent.as_ref().map_or(0, |p| p.tgid),
                    comm: comm.unwrap_or_default(),
                })
            })
            .collect();
        v.sort_by_key(|p| p.pid);
        v
    }

    /// Starts a process in the sandbox, in a session of its own; returns its pid.
    pub fn exec(&self, spec: ExecSpec) -> Result<i32, SandboxError> {
        rlimits_with(&spec.user.rlimits)?;
        let env = with_home(&self.kernel.root, spec.user.uid, spec.env.clone());
        let (prog, cwd, path) = load(&self.kernel, &spec.cwd, &spec.argv, &env, &spec.user)?;
        let (term, fds) = match spec.stdio {
            Stdio::Terminal(host) => {
                let (term, fds) = terminal_stdio(&self.kernel, host, spec.user.uid)?;
                (Some(term), fds)
            }
            Stdio::Host([i, o, e]) => {
                let mut fds = FdTable::default();
                for (fd, h, fl) in [
                    (0, i, libc::O_RDONLY),
                    (1, o, libc::O_WRONLY),
                    (2, e, libc::O_WRONLY),
                ] {
                    let s = crate::fs::host::HostStream::new(h, self.kernel.root.ids().clone());
                    let f = crate::fs::OpenFile::new(
                        Arc::new(s) as Arc<dyn crate::fs::FileOps>,
                        fl as u32,
                    );
                    fds.set(fd, f, false)
                        .map_err(|e| SandboxError::Stdio(std::io::Error::from_raw_os_error(e.0)))?;
                }
                (None, fds)
            }
        };
        let cmd = String::from_utf8_lossy(&spec.argv[0]).into_owned();
        let task = new_process(
            &self.kernel,
            prog,
            &path,
            cwd,
            &spec.user,
            fds,
            self.uts.clone(),
        )
        .map_err(|e| SandboxError::Exec {
            cmd: cmd.clone(),
            why: describe(e),
        })?;
        let pid = task.tg.tgid;
        if let Some(term) = term {
            // In a session of its own, the terminal its controlling one; the bridge runs on
            // by itself until the terminal's last slave is closed.
            term.attach(&task.tg);
            term.start().map_err(SandboxError::Stdio)?;
        }
        spawn_task(task).map_err(|e| SandboxError::Exec {
            cmd,
            why: describe(e),
        })?;
        Ok(pid)
    }

    /// Waits until `pid`, started by `exec`, is gone; returns its wait status.
    pub fn wait_exec(&self, pid: i32) -> i32 {
        self.kernel.wait_exit(pid)
    }

    /// Waits until pid 1 is gone; returns its wait status.
    pub fn wait_init(&self) -> i32 {
        self.kernel.wait_init()
    }
}

/// Runs the command as pid 1 on `platform`, over the root a gofer serves, until it exits;
/// returns its wait status.
pub fn run(platform: Box<dyn Platform>, root: HostRoot, cfg: Config) -> Result<i32, SandboxError> {
    let mut sb = Sandbox::create(platform, root, cfg)?;
    sb.start()?;
    Ok(sb.wait())
}

/// The exit code a shell reports for wait status `status`.
pub fn exit_code(status: i32) -> i32 {
    if status & 0x7f == 0 {
        (status >> 8) & 0xff
    } else {
        128 + (status & 0x7f)
    }
}
