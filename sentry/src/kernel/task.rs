//! Tasks: one host thread of the Sentry per application thread.

use std::sync::{Arc, Condvar, Mutex};

use platform::{Context, CpuState, Exit};

use super::{Kernel, ThreadGroup};
use crate::errno::Errno;
use crate::fs::FdTable;
use crate::mm::{MemoryManager, SegvCode};

use crate::syscalls;

use super::signal::{self, signal_status, Interrupted, SigInfo};

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
    /// Signal mask, pending signals, alternate stack.
    pub sig: Arc<super::signal::TaskSignals>,
    /// Set when the task must stop; the wait status the group gets if it is the last.
    pub exiting: Option<i32>,
    /// Whether the syscall handler already wrote the registers (execve, rt_sigreturn).
    pub regs_replaced: bool,
    /// A vfork parent waiting for this task to exec or exit.
    pub vfork_done: Option<Arc<(Mutex<bool>, Condvar)>>,
    /// Name (prctl PR_SET_NAME, /proc/PID/comm).
    pub comm: [u8; 16],
    /// Path of the running executable (/proc/self/exe).
    pub exe: Vec<u8>,
    /// User and group ids.
    pub creds: super::creds::Credentials,
    /// set_robust_list: (head, len).
    pub robust_list: (u64, u64),
    /// Nice value (-20..=19).
    pub nice: i32,
    /// UTS namespace: (hostname, domainname), shared until unshare(CLONE_NEWUTS).
    pub uts: Arc<Mutex<(Vec<u8>, Vec<u8>)>>,
    /// Mount namespace, shared until unshare(CLONE_NEWNS) or clone(CLONE_NEWNS).
    pub mnt: Arc<crate::fs::vfs::MountNs>,
    /// The ids page of another process's address space this task runs in (vfork,
    /// CLONE_VM): its answers are off until the task leaves.
    pub fast_guest: Option<Arc<crate::mm::IdsPage>>,
}

impl Task {
    /// The task's mounts as they are now.
    pub fn mounts(&self) -> crate::fs::vfs::Mounts {
        self.mnt.snapshot()
    }

    /// Locks the memory manager.
    pub fn mm(&self) -> std::sync::MutexGuard<'_, MemoryManager> {
        self.mm.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// CPU time the process has used (all its address spaces so far).
    pub fn process_cpu(&self) -> std::time::Duration {
        let now = self.mm().aspace().cpu_time().unwrap_or_default();
        self.tg.lock().cpu_base + now
    }

    /// Resident size now, in KiB; also raises the process's high-water mark.
    pub fn rss_kb(&self) -> u64 {
        let kb = self.mm().resident_pages() as u64 * 4;
        let mut st = self.tg.lock();
        st.maxrss_kb = st.maxrss_kb.max(kb);
        st.maxrss_kb
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
        let p = self
            .mm()
            .read_cstring(addr, crate::fs::host::PATH_MAX - 1)?;
        if p.is_empty() {
            return Err(Errno::ENOENT);
        }
        Ok(p)
    }

    /// The working directory.
    pub fn cwd(&self) -> Vec<u8> {
        self.cwd.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Sends `sig` from this task to process `tg` (kill).
    pub fn signal_group(&self, tg: &Arc<ThreadGroup>, sig: i32) {
        signal::send(
            tg,
            None,
            SigInfo {
                signo: sig,
                code: 0,
                pid: self.tg.tgid,
                ..Default::default()
            },
        );
    }

    /// A synchronous signal raised by the task's own instruction: delivered to a handler if
    /// there is one and it is not blocked or ignored, else fatal.
    fn force_signal(&mut self, info: SigInfo) {
        let sig = info.signo;
        let handler = self.tg.lock().actions[(sig - 1) as usize].handler;
        let blocked =
            self.sig.mask.load(std::sync::atomic::Ordering::SeqCst) & signal::bit(sig) != 0;
        if handler == super::SIG_DFL || handler == super::SIG_IGN || blocked {
            self.tg.kill_group(signal_status(sig));
            return;
        }
        signal::send(&self.tg, Some(self.tid), info);
    }

    /// Runs the task until it exits. Consumes the host thread.
    pub fn run(mut self) {
        signal::set_current(self.sig.clone(), self.tg.clone());
        let mut intr = Interrupted::No;
        loop {
            if let Some(st) = self.tg.lock().group_exit {
                self.exiting.get_or_insert(st);
            }
            if self.sig.killed.load(std::sync::atomic::Ordering::SeqCst) {
                self.exiting.get_or_insert(0);
            }
            if self.exiting.is_some() {
                break;
            }
            signal::wait_while_stopped(&self.tg);
            if !signal::deliver(&mut self, intr) {
                continue;
            }
            intr = Interrupted::No;
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
                    if r.is_ok()
                        && (nr == libc::SYS_getpid as u64 || nr == libc::SYS_getppid as u64)
                    {
                        self.patch_fast_syscall(nr);
                    }
                    if r == Err(Errno::ERESTARTSYS) {
                        intr = Interrupted::Restartable { nr };
                        self.regs.regs.rax = Errno::EINTR.as_rax();
                    } else if !self.regs_replaced {
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
                        if code == SegvCode::Bus {
                            self.force_signal(SigInfo {
                                signo: libc::SIGBUS,
                                code: 2, // BUS_ADRERR
                                addr,
                                trapno: 14,
                                ..Default::default()
                            });
                            continue;
                        }
                        let code = if code == SegvCode::MapErr { 1 } else { 2 };
                        // x86 page-fault error code: present, write, user, fetch.
                        let err = 4
                            | u64::from(code == 2)
                            | if access == platform::Access::Write {
                                2
                            } else {
                                0
                            }
                            | if access == platform::Access::Execute {
                                16
                            } else {
                                0
                            };
                        self.force_signal(SigInfo {
                            signo: libc::SIGSEGV,
                            code,
                            addr,
                            trapno: 14,
                            err,
                            ..Default::default()
                        });
                    }
                }
                Exit::Signal(info) => {
                    tracing::debug!(tid = self.tid, ?info, "synchronous signal");
                    let signo = if info.signo == libc::SIGSYS {
                        libc::SIGSEGV
                    } else {
                        info.signo
                    };
                    let trapno = match signo {
                        libc::SIGILL => 6,
                        libc::SIGTRAP => 3,
                        libc::SIGBUS => 14,
                        libc::SIGSEGV => 13,
                        _ => 0,
                    };
                    self.force_signal(SigInfo {
                        signo,
                        code: info.code,
                        addr: info.addr,
                        trapno,
                        ..Default::default()
                    });
                }
                Exit::Interrupted => {}
            }
        }
        self.finish();
    }

    /// Marks the robust futexes this thread still holds FUTEX_OWNER_DIED and wakes a waiter
    /// of each (the list is application memory: every read is checked, and the walk is
    /// bounded).
    fn release_robust_futexes(&mut self) {
        const FUTEX_WAITERS: u32 = 0x8000_0000;
        const FUTEX_OWNER_DIED: u32 = 0x4000_0000;
        const FUTEX_TID_MASK: u32 = 0x3fff_ffff;
        const ROBUST_LIST_LIMIT: usize = 2048;
        let (head, len) = self.robust_list;
        if head == 0 || len != 24 {
            return;
        }
        let (Ok(first), Ok(offset), Ok(pending)) = (
            self.read_u64(head),
            self.read_u64(head + 8),
            self.read_u64(head + 16),
        ) else {
            return;
        };
        let release = |t: &Task, entry: u64| {
            // The low bit of an entry pointer marks a PI futex; the address is the rest.
            let addr = (entry & !1).wrapping_add(offset);
            let mut b = [0u8; 4];
            if t.read_mem(addr, &mut b).is_err() {
                return;
            }
            let val = u32::from_le_bytes(b);
            if val & FUTEX_TID_MASK != t.tid as u32 {
                return;
            }
            let new = (val & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
            if t.write_mem(addr, &new.to_le_bytes()).is_ok() && val & FUTEX_WAITERS != 0 {
                crate::syscalls::futex::wake(t, addr, 1);
            }
        };
        let mut entry = first;
        let mut n = 0;
        while entry != head && entry != 0 && n < ROBUST_LIST_LIMIT {
            let Ok(next) = self.read_u64(entry & !1) else {
                break;
            };
            if entry != pending {
                release(self, entry);
            }
            entry = next;
            n += 1;
        }
        if pending != 0 {
            release(self, pending);
        }
    }

    /// Publishes what /proc shows of this process to others, if this is its leader.
    pub fn publish_view(&self) {
        if self.tid != self.tg.tgid {
            return;
        }
        self.tg.lock().view = Some(super::ProcView {
            mm: Arc::downgrade(&self.mm),
            fds: Arc::downgrade(&self.fds),
            cwd: self.cwd.clone(),
            exe: self.exe.clone(),
            comm: self.comm,
            umask: self.umask,
        });
    }

    /// Rewrites the site of the register-only syscall `nr` that just trapped so that the
    /// next calls are answered without a trap (see `mm::fastpath`).
    fn patch_fast_syscall(&mut self, nr: u64) {
        // Nobody else may be executing the bytes being rewritten.
        if !self.kernel.syscall_patching || Arc::strong_count(&self.mm) != 1 {
            return;
        }
        let ids = {
            let mut mm = self.mm();
            match mm.patch_syscall(self.regs.regs.rip, nr) {
                Ok(true) => mm.fast_ids().cloned(),
                _ => None,
            }
        };
        if let Some(ids) = ids {
            let mut st = self.tg.lock();
            let ppid = st.parent.as_ref().map_or(0, |p| p.tgid);
            ids.set(self.tg.tgid, ppid);
            st.fast_ids = Some(ids);
        }
    }

    /// Tears the task down; the last thread turns the process into a zombie.
    fn finish(mut self) {
        let status = self.exiting.unwrap_or(0);
        if let Some(g) = self.fast_guest.take() {
            g.remove_guest();
        }
        self.release_robust_futexes();
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
            st.signals.remove(&self.tid);
            st.live_threads -= 1;
            st.live_threads == 0
        };
        if !last {
            return;
        }
        // Account the CPU time of the process before it goes.
        let cpu = self.process_cpu();
        let _ = self.rss_kb();
        self.tg.lock().cpu_total = cpu;
        // Release what the process held before the parent may reap it.
        *self.fds() = FdTable::default();
        crate::fs::devpts::process_exit(&self.kernel, &self.tg);
        crate::fs::lock::process_exited(self.tg.tgid);
        let status = self.tg.lock().group_exit.unwrap_or(status);
        // A parent ignoring SIGCHLD (or with SA_NOCLDWAIT) gets no zombie to reap: leave its
        // list of children before becoming one, so that wait never sees us.
        {
            const SA_NOCLDWAIT: u64 = 2;
            let (p, exit_signal) = {
                let st = self.tg.lock();
                (st.parent.clone(), st.exit_signal)
            };
            if let Some(p) = p {
                let mut ps = p.lock();
                let act = ps.actions[(libc::SIGCHLD - 1) as usize];
                if exit_signal == libc::SIGCHLD
                    && (act.handler == super::SIG_IGN || act.flags & SA_NOCLDWAIT != 0)
                {
                    ps.children.retain(|c| !Arc::ptr_eq(c, &self.tg));
                    self.kernel.release_pid(self.tg.tgid);
                }
            }
        }
        // The children are given away before the exit is published: a parent that reaps us
        // (and a subreaper waiting for our orphans) must find them already adopted.
        let (parent, children) = {
            let mut st = self.tg.lock();
            (st.parent.clone(), std::mem::take(&mut st.children))
        };
        // Orphans go to the nearest living subreaper ancestor, else to init.
        let mut reaper = parent.clone();
        while let Some(r) = reaper.clone() {
            let (sub, up, alive) = {
                let st = r.lock();
                (
                    st.child_subreaper,
                    st.parent.clone(),
                    st.exit_status.is_none(),
                )
            };
            if sub && alive {
                break;
            }
            reaper = up;
        }
        let reaper = reaper
            .or_else(|| self.kernel.group(1))
            .filter(|g| g.tgid != self.tg.tgid);
        if let Some(init) = reaper {
            for c in &children {
                let mut cs = c.lock();
                cs.parent = Some(init.clone());
                if let Some(ids) = &cs.fast_ids {
                    ids.set_ppid(init.tgid);
                }
            }
            init.lock().children.extend(children.iter().cloned());
            let _g = init.lock();
            init.child_cv.notify_all();
        }
        // Children learn of their parent's death (PR_SET_PDEATHSIG), once adopted, as Linux
        // signals them.
        for c in &children {
            let sig = c.lock().pdeathsig;
            if sig != 0 {
                self.signal_group(c, sig);
            }
        }
        self.tg.lock().exit_status = Some(status);
        let exit_signal = self.tg.lock().exit_signal;
        match parent {
            Some(p) if exit_signal == 0 => {
                let _g = p.lock();
                p.child_cv.notify_all();
            }
            Some(p) => {
                let (code, st) = if status & 0x7f == 0 {
                    (1, (status >> 8) & 0xff)
                } else {
                    (2, status & 0x7f)
                };
                let info = SigInfo {
                    signo: exit_signal,
                    code,
                    pid: self.tg.tgid,
                    status: st,
                    ..Default::default()
                };
                signal::send(&p, None, info);
                let _g = p.lock();
                p.child_cv.notify_all();
            }
            None if self.tg.tgid == 1 => self.kernel.init_exited(status),
            // A process started from outside (exec into the sandbox): its status goes to
            // whoever started it.
            None => self.kernel.orphan_exited(self.tg.tgid, status),
        }
    }
}

/// Starts `task` on its own host thread.
pub fn spawn_task(task: Task) -> Result<(), Errno> {
    task.publish_view();
    {
        let mut st = task.tg.lock();
        st.live_threads += 1;
        st.threads.insert(task.tid, task.ctx.interrupter());
        st.signals.insert(task.tid, task.sig.clone());
    }
    let tid = task.tid;
    std::thread::Builder::new()
        .name(format!("task-{tid}"))
        .spawn(move || task.run())
        .map(|_| ())
        .map_err(|_| Errno::EAGAIN)
}
