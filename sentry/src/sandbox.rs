//! Booting a sandbox: the first process, its root and stdio.

use std::sync::{Arc, Condvar, Mutex};

use platform::Platform;

use crate::errno::Errno;
use crate::fs::host::HostRoot;
use crate::fs::FdTable;
use crate::kernel::{load_program, spawn_task, Kernel, SigAction, Task, TgState, ThreadGroup};

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
    /// The Sentry's seccomp filter could not be installed.
    #[error("confining the Sentry: {0}")]
    Confine(String),
    /// Stdio could not be set up.
    #[error("stdio: {0}")]
    Stdio(std::io::Error),
}

fn describe(e: Errno) -> String {
    std::io::Error::from_raw_os_error(e.0).to_string()
}

/// Finds `cmd` in `PATH` inside the root, as a shell would.
fn search_path(root: &HostRoot, cwd: &[u8], env: &[Vec<u8>], cmd: &[u8]) -> Vec<u8> {
    if cmd.contains(&b'/') {
        return cmd.to_vec();
    }
    let path = env
        .iter()
        .find_map(|e| e.strip_prefix(b"PATH="))
        .unwrap_or(b"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    for dir in path.split(|&b| b == b':') {
        let mut p = dir.to_vec();
        p.push(b'/');
        p.extend_from_slice(cmd);
        if let Ok(l) = root.lookup(cwd, &p, true) {
            if l.stat.st_mode & libc::S_IFMT == libc::S_IFREG {
                return p;
            }
        }
    }
    cmd.to_vec()
}

/// Runs the command as pid 1 on `platform`, over the root a gofer serves, until it exits;
/// returns its wait status.
pub fn run(platform: Box<dyn Platform>, root: HostRoot, cfg: Config) -> Result<i32, SandboxError> {
    let cmd = cfg.argv.first().ok_or(SandboxError::NoCommand)?.clone();
    let root = root.with_mode(cfg.root_mode);
    let exec_err = |e: Errno| SandboxError::Exec {
        cmd: String::from_utf8_lossy(&cmd).into_owned(),
        why: describe(e),
    };
    let cwd = root
        .lookup(b"/", &cfg.cwd, true)
        .map_err(exec_err)?
        .path
        .clone();
    let path = search_path(&root, &cwd, &cfg.env, &cmd);
    let kernel = Kernel::new(platform, root, cfg.syscall_patching);
    let prog = load_program(
        &kernel,
        &kernel.mounts.snapshot(),
        &cwd,
        &path,
        cfg.argv.clone(),
        cfg.env.clone(),
    )
    .map_err(exec_err)?;
    let mut fds = FdTable::default();
    for (fd, f) in crate::syscalls::host_stdio().map_err(SandboxError::Stdio)? {
        fds.set(fd, f, false)
            .map_err(|e| SandboxError::Stdio(std::io::Error::from_raw_os_error(e.0)))?;
    }
    let pid = kernel.alloc_pid();
    let tg = Arc::new(ThreadGroup {
        tgid: pid,
        state: Mutex::new(TgState::new(None, pid, pid, [SigAction::default(); 64])),
        child_cv: Condvar::new(),
        sig: Default::default(),
        itimer: Default::default(),
        cont_cv: Condvar::new(),
    });
    kernel.add_group(&tg);
    let ctx = kernel
        .platform
        .new_context()
        .map_err(|e| SandboxError::Exec {
            cmd: String::from_utf8_lossy(&cmd).into_owned(),
            why: e.to_string(),
        })?;
    let mut comm = [0u8; 16];
    let base = path.rsplit(|&b| b == b'/').next().unwrap_or(&path);
    let n = base.len().min(15);
    comm[..n].copy_from_slice(&base[..n]);
    let task = Task {
        fast_guest: None,
        tid: pid,
        tg,
        kernel: kernel.clone(),
        ctx,
        regs: prog.regs.clone(),
        mm: Arc::new(Mutex::new(prog.mm)),
        fds: Arc::new(Mutex::new(fds)),
        cwd: Arc::new(Mutex::new(cwd)),
        umask: 0o022,
        clear_child_tid: 0,
        sig: Default::default(),
        exiting: None,
        regs_replaced: false,
        vfork_done: None,
        comm,
        exe: prog.path.clone(),
        creds: Default::default(),
        nice: 0,
        robust_list: (0, 0),
        uts: Arc::new(Mutex::new((b"rvisor".to_vec(), b"(none)".to_vec()))),
        mnt: kernel.mounts.clone(),
    };
    if cfg.confine {
        // What needs host files is read now; from here on the Sentry opens none.
        crate::fs::procfs::warm();
        let _ = crate::syscalls::misc::host_cpus();
        crate::confine::install_for(cfg.root_mode)
            .map_err(|e| SandboxError::Confine(e.to_string()))?;
    }
    spawn_task(task).map_err(exec_err)?;
    Ok(kernel.wait_init())
}

/// The exit code a shell reports for wait status `status`.
pub fn exit_code(status: i32) -> i32 {
    if status & 0x7f == 0 {
        (status >> 8) & 0xff
    } else {
        128 + (status & 0x7f)
    }
}
