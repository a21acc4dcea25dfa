//! Tasks: one host thread of the Sentry per application thread.

use std::sync::{Arc, Condvar, Mutex};

use platform::{Context, CpuState, Exit};

use super::{Kernel, ThreadGroup};
use crate::errno::Errno;
use crate::fs::FdTable;
use crate::mm::{MemoryManager, SegvCode};
use crate::syscalls;

/// Signals whose default action is to do nothing.
fn default_ignored(sig: i32) -> bool {
    matches!(sig, libc::SIGCHLD | libc::SIGURG | libc::SIGWINCH | libc::SIGCONT)
}

/// Wait status of a process killed by `sig`.
pub fn signal_status(sig: i32) -> i32 {
    let core = matches!(
        sig,
        libc::SIGQUIT | libc::SIGILL | libc::SIGTRAP | libc::SIGABRT | libc::SIGBUS | libc::SIGFPE
            | libc::SIGSEGV | libc::SIGSYS | libc::SIGXCPU | libc::SIGXFSZ
    );
    sig | if core { 0x80 } else { 0 }
}

/// One application thread.
pub struct Task {
    pub tid: i32,
    pub tg: Arc<ThreadGroup>,
    pub kernel: Arc<Kernel>,
    pub ctx: Box<dyn Context>,
    pub regs: CpuState,
    pub mm: Arc<Mutex<MemoryManager>>,
    pub fds: Arc<Mutex<FdTable>>,
    /// Working directory (absolute path in the sandbox), shared with CLONE_FS.
    pub cwd: Arc<Mutex<Vec<u8>>>,
    pub umask: u32,
    pub clear_child_tid: u64,
    pub sigmask: u64,
    /// Set when the task must stop; the wait status the group gets if it is the last.
    pub exiting: Option<i32>,
    /// Whether the syscall handler already wrote the registers (execve, rt_sigreturn).
    pub regs_replaced: bool,
    /// A vfork parent waiting for this task to exec or exit.
    pub vfork_done: Option<Arc<(Mutex<bool>, Condvar)>>,
    /// Name (prctl PR_SET_NAME, /proc/PID/comm).
    pub comm: [u8; 16],
}

impl Task {
    /// Locks the memory manager.
    pub fn mm(&self) -> std::sync::MutexGuard<'_, MemoryManager> {
        self.mm.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Locks the descriptor table.
    pub fn fds(&self) -> std::sync::MutexGuard<'_, FdTable> {
        self.fds.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// copy_from_user.
    pub fn read_mem(&self, addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
        self.mm().copy_in(addr, buf)
    }

    /// copy_to_user.
    pub fn write_mem(&self, addr: u64, data: &[u8]) -> Result<(), Errno> {
        self.mm().copy_out(addr, data)
    }

    /// Reads a u64 from application memory.
    pub fn read_u64(&self, addr: u64) -> Result<u64, Errno> {
        let mut b = [0u8; 8];
        self.read_mem(addr, &mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    /// Reads a path argument.
    pub fn read_path(&self, addr: u64) -> Result<Vec<u8>, Errno> {
        let p = self.mm().read_cstring(addr, crate::fs::host::PATH_MAX - 1)?;
        if p.is_empty() {
            return Err(Errno::ENOENT);
        }
        Ok(p)
    }

    /// The working directory.
    pub fn cwd(&self) -> Vec<u8> {
        self.cwd.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Sends `sig` to this task's process, acting on the default disposition.
    pub fn signal_group(tg: &Arc<ThreadGroup>, sig: i32) {
        if sig == 0 {
            return;
        }
        let action = tg.lock().actions[(sig - 1) as usize].handler;
        if sig != libc::SIGKILL && sig != libc::SIGSTOP {
            if action == super::SIG_IGN || (action == super::SIG_DFL && default_ignored(sig)) {
                return;
            }
            if action != super::SIG_DFL {
                tracing::warn!(sig, "signal handlers are not delivered yet; ignoring");
                return;
            }
        }
        if sig == libc::SIGSTOP || sig == libc::SIGTSTP || sig == libc::SIGTTIN || sig == libc::SIGTTOU {
            tracing::warn!(sig, "job-control stop is not implemented; ignoring");
            return;
        }
        tg.kill_group(signal_status(sig));
    }

    /// Runs the task until it exits. Consumes the host thread.
    pub fn run(mut self) {
        loop {
            if let Some(st) = self.tg.lock().group_exit {
                self.exiting.get_or_insert(st);
            }
            if self.exiting.is_some() {
                break;
            }
            let aspace = self.mm().aspace().clone();
            let exit = match self.ctx.switch(&aspace, &mut self.regs) {
                Ok(e) => e,
                Err(e) => {
                    tracing::error!(tid = self.tid, "platform: {e}");
                    self.tg.kill_group(signal_status(libc::SIGKILL));
                    continue;
                }
            };
            match exit {
                Exit::Syscall => {
                    let nr = self.regs.regs.rax;
                    self.regs_replaced = false;
                    let r = syscalls::dispatch(&mut self, nr);
                    if !self.regs_replaced {
                        self.regs.regs.rax = match r {
                            Ok(v) => v,
                            Err(e) => e.as_rax(),
                        };
                    }
                }
                Exit::Fault { addr, access } => {
                    let r = self.mm().fault(addr, access);
                    if let Err(code) = r {
                        tracing::debug!(tid = self.tid, addr, ?access, ?code, "segmentation fault");
                        let _ = matches!(code, SegvCode::MapErr);
                        Self::signal_group(&self.tg, libc::SIGSEGV);
                        self.tg.kill_group(signal_status(libc::SIGSEGV));
                    }
                }
                Exit::Signal(info) => {
                    tracing::debug!(tid = self.tid, ?info, "synchronous signal");
                    let sig = if info.signo == libc::SIGSYS { libc::SIGSEGV } else { info.signo };
                    self.tg.kill_group(signal_status(sig));
                }
                Exit::Interrupted => {}
            }
        }
        self.finish();
    }

    /// Tears the task down; the last thread turns the process into a zombie.
    fn finish(mut self) {
        let status = self.exiting.unwrap_or(0);
        if self.clear_child_tid != 0 {
            let addr = self.clear_child_tid;
            if self.write_mem(addr, &0u32.to_le_bytes()).is_ok() {
                crate::syscalls::futex::wake(&self, addr, 1);
            }
        }
        if let Some(v) = self.vfork_done.take() {
            *v.0.lock().unwrap_or_else(|e| e.into_inner()) = true;
            v.1.notify_all();
        }
        let last = {
            let mut st = self.tg.lock();
            st.threads.remove(&self.tid);
            st.live_threads -= 1;
            st.live_threads == 0
        };
        if !last {
            return;
        }
        // Release what the process held before the parent may reap it.
        *self.fds() = FdTable::default();
        let status = self.tg.lock().group_exit.unwrap_or(status);
        let (parent, children) = {
            let mut st = self.tg.lock();
            st.exit_status = Some(status);
            (st.parent.clone(), std::mem::take(&mut st.children))
        };
        // Orphans go to init.
        if let Some(init) = self.kernel.group(1).filter(|g| g.tgid != self.tg.tgid) {
            for c in &children {
                c.lock().parent = Some(init.clone());
            }
            init.lock().children.extend(children);
            let _g = init.lock();
            init.child_cv.notify_all();
        }
        match parent {
            Some(p) => {
                let _g = p.lock();
                p.child_cv.notify_all();
            }
            None => self.kernel.init_exited(status),
        }
    }
}

/// Starts `task` on its own host thread.
pub fn spawn_task(task: Task) -> Result<(), Errno> {
    {
        let mut st = task.tg.lock();
        st.live_threads += 1;
        st.threads.insert(task.tid, task.ctx.interrupter());
    }
    let tid = task.tid;
    std::thread::Builder::new()
        .name(format!("task-{tid}"))
        .spawn(move || task.run())
        .map(|_| ())
        .map_err(|_| Errno::EAGAIN)
}
