//! Processes and threads: exit, clone/fork/vfork, wait4, execve, ids, prctl, rlimits.

use std::sync::{Arc, Condvar, Mutex};

use crate::errno::{Errno, SysResult};
use crate::kernel::creds::{CAP_SYS_ADMIN, CAP_SYS_RESOURCE};
use crate::kernel::{spawn_task, Task, TgState, ThreadGroup, SIG_IGN};

pub fn exit(t: &mut Task, a: [u64; 6], group: bool) -> SysResult {
    let status = ((a[0] & 0xff) << 8) as i32;
    if group {
        t.tg.kill_group(status);
    }
    t.exiting = Some(status);
    Ok(0)
}

pub fn getppid(t: &mut Task) -> SysResult {
    Ok(t.tg.lock().parent.as_ref().map(|p| p.tgid).unwrap_or(0) as u64)
}

pub fn clone(t: &mut Task, flags: u64, stack: u64, ptid: u64, ctid: u64, tls: u64) -> SysResult {
    // clone(2) returns a pidfd through the parent_tid pointer.
    if flags & libc::CLONE_PIDFD as u64 != 0 && flags & libc::CLONE_PARENT_SETTID as u64 != 0 {
        return Err(Errno::EINVAL);
    }
    let pidfd_ptr = if flags & libc::CLONE_PIDFD as u64 != 0 {
        ptid
    } else {
        0
    };
    do_clone(t, flags, stack, ptid, ctid, tls, pidfd_ptr)
}

fn do_clone(
    t: &mut Task,
    flags: u64,
    stack: u64,
    ptid: u64,
    ctid: u64,
    tls: u64,
    pidfd_ptr: u64,
) -> SysResult {
    let f = flags as i32;
    if f & libc::CLONE_PIDFD != 0 && f & libc::CLONE_THREAD != 0 {
        return Err(Errno::EINVAL);
    }
    let thread = f & libc::CLONE_THREAD != 0;
    if thread && (f & libc::CLONE_SIGHAND == 0 || f & libc::CLONE_VM == 0) {
        return Err(Errno::EINVAL);
    }
    if f & libc::CLONE_SIGHAND != 0 && f & libc::CLONE_VM == 0 {
        return Err(Errno::EINVAL);
    }
    if f & libc::CLONE_NEWNS != 0 && f & libc::CLONE_FS != 0 {
        return Err(Errno::EINVAL);
    }
    if f & libc::CLONE_NEWNS != 0 && !t.creds.has_cap(CAP_SYS_ADMIN) {
        return Err(Errno::EPERM);
    }
    let unsupported = libc::CLONE_NEWIPC
        | libc::CLONE_NEWUSER
        | libc::CLONE_NEWPID
        | libc::CLONE_NEWNET
        | libc::CLONE_NEWCGROUP;
    if f & unsupported != 0 {
        return Err(Errno::EPERM);
    }
    let kernel = t.kernel.clone();
    let tid = kernel.alloc_pid();
    let mm = if f & libc::CLONE_VM != 0 {
        t.mm.clone()
    } else {
        let child = t.mm().fork(kernel.platform.as_ref())?;
        let child = Arc::new(Mutex::new(child));
        // The child maps the same shared objects: it must hear of their truncation too.
        let objs: Vec<_> = child
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .vmas()
            .filter_map(|v| match &v.backing {
                crate::mm::Backing::Shared {
                    obj, file: Some(_), ..
                } => Some(obj.clone()),
                _ => None,
            })
            .collect();
        for o in objs {
            o.add_mapper(&child);
        }
        child
    };
    let fds = if f & libc::CLONE_FILES != 0 {
        t.fds.clone()
    } else {
        Arc::new(Mutex::new(t.fds().clone()))
    };
    let cwd = if f & libc::CLONE_FS != 0 {
        t.cwd.clone()
    } else {
        Arc::new(Mutex::new(t.cwd()))
    };
    let tg = if thread {
        t.tg.clone()
    } else {
        let (pgid, sid, actions, parent) = {
            let st = t.tg.lock();
            let parent = if f & libc::CLONE_PARENT != 0 {
                st.parent.clone()
            } else {
                Some(t.tg.clone())
            };
            (st.pgid, st.sid, st.actions, parent)
        };
        let tg = Arc::new(ThreadGroup {
            tgid: tid,
            state: Mutex::new({
                let mut st = TgState::new(parent.clone(), pgid, sid, actions);
                let ps = t.tg.lock();
                st.rlimits = ps.rlimits;
                st.dumpable = ps.dumpable;
                st.no_new_privs = ps.no_new_privs;
                st.oom_score_adj = ps.oom_score_adj;
                st.oom_score_adj_min = ps.oom_score_adj_min;
                st.exit_signal = (flags & 0xff) as i32;
                st.creds = t.creds.clone();
                st.ctty = ps.ctty.clone();
                st
            }),
            child_cv: Condvar::new(),
            sig: Default::default(),
            itimer: Default::default(),
            cont_cv: Condvar::new(),
        });
        kernel.add_group(&tg);
        if let Some(p) = parent {
            p.lock().children.push(tg.clone());
        }
        tg
    };
    let mut regs = t.regs.clone();
    regs.regs.rax = 0;
    if stack != 0 {
        regs.regs.rsp = stack;
    }
    if f & libc::CLONE_SETTLS != 0 {
        if tls >= 1 << 47 {
            return Err(Errno::EPERM);
        }
        regs.regs.fs_base = tls;
    }
    let ctx = kernel.platform.new_context().map_err(|_| Errno::EAGAIN)?;
    let vfork = if f & libc::CLONE_VFORK != 0 {
        Some(Arc::new((Mutex::new(false), Condvar::new())))
    } else {
        None
    };
    let child = Task {
        tid,
        tg,
        kernel: kernel.clone(),
        ctx,
        regs,
        mm,
        fds,
        cwd,
        umask: t.umask,
        clear_child_tid: if f & libc::CLONE_CHILD_CLEARTID != 0 {
            ctid
        } else {
            0
        },
        sig: Arc::new(crate::kernel::signal::TaskSignals {
            mask: std::sync::atomic::AtomicU64::new(
                t.sig.mask.load(std::sync::atomic::Ordering::SeqCst),
            ),
            altstack: Mutex::new(if f & libc::CLONE_VM != 0 && f & libc::CLONE_VFORK == 0 {
                (0, 0, 2)
            } else {
                *t.sig.altstack.lock().unwrap_or_else(|e| e.into_inner())
            }),
            ..Default::default()
        }),
        exiting: None,
        regs_replaced: false,
        vfork_done: vfork.clone(),
        comm: t.comm,
        exe: t.exe.clone(),
        creds: t.creds.clone(),
        nice: t.nice,
        robust_list: (0, 0),
        uts: if f & libc::CLONE_NEWUTS != 0 {
            Arc::new(Mutex::new(
                t.uts.lock().unwrap_or_else(|e| e.into_inner()).clone(),
            ))
        } else {
            t.uts.clone()
        },
        mnt: if f & libc::CLONE_NEWNS != 0 {
            t.mnt.copy()
        } else {
            t.mnt.clone()
        },
        fast_guest: None,
    };
    if f & libc::CLONE_PARENT_SETTID != 0 {
        t.write_mem(ptid, &tid.to_le_bytes())?;
    }
    if f & libc::CLONE_CHILD_SETTID != 0 {
        child.write_mem(ctid, &tid.to_le_bytes())?;
    }
    if f & libc::CLONE_PIDFD != 0 {
        let file = crate::fs::OpenFile::new(
            Arc::new(crate::fs::pidfd::PidFd {
                tg: child.tg.clone(),
            }),
            libc::O_RDWR as u32,
        );
        let fd = t.fds().insert(file, true, 0)?;
        t.write_mem(pidfd_ptr, &fd.to_le_bytes())?;
    }
    // The fast path's ids: a forked child's own page answers for it; another process
    // running in this address space turns the owner's answers off until it leaves.
    let mut child = child;
    if f & libc::CLONE_VM == 0 {
        let ids = child.mm().fast_ids().cloned();
        if let Some(ids) = ids {
            let mut st = child.tg.lock();
            ids.set(child.tg.tgid, st.parent.as_ref().map_or(0, |p| p.tgid));
            st.fast_ids = Some(ids);
        }
    } else if !thread || t.fast_guest.is_some() {
        let ids = t.mm().fast_ids().cloned();
        if let Some(ids) = ids {
            ids.add_guest();
            child.fast_guest = Some(ids);
        }
    }
    spawn_task(child)?;
    if let Some(v) = vfork {
        let mut done = v.0.lock().unwrap_or_else(|e| e.into_inner());
        while !*done {
            done = v.1.wait(done).unwrap_or_else(|e| e.into_inner());
        }
    }
    Ok(tid as u64)
}

/// The children `wait*` with `pid` and `options` may report on; ECHILD if none.
fn waitable(
    t: &Task,
    st: &TgState,
    pid: i32,
    options: i32,
) -> Result<Vec<Arc<ThreadGroup>>, Errno> {
    let v: Vec<_> = st
        .children
        .iter()
        .filter(|c| matches(t, c, pid) && kind_matches(c, options))
        .cloned()
        .collect();
    if v.is_empty() {
        return Err(Errno::ECHILD);
    }
    Ok(v)
}

/// Reaps zombie child `c` of the process whose state is `st`: it leaves the children, its
/// CPU time joins theirs, and its pid is free again.
fn reap(t: &Task, st: &mut TgState, c: &Arc<ThreadGroup>) {
    st.children.retain(|x| !Arc::ptr_eq(x, c));
    let (cpu, grand) = {
        let cs = c.lock();
        (cs.cpu_total, cs.children_cpu)
    };
    st.children_cpu += cpu + grand;
    t.kernel.release_pid(c.tgid);
}

/// Sleeps until a child changes state; ERESTARTSYS if a signal comes. The signal check is
/// made under the process lock, which the task's waker (`child_waker`) takes.
fn wait_for_child<'a>(
    tg: &'a ThreadGroup,
    st: std::sync::MutexGuard<'a, TgState>,
) -> Result<std::sync::MutexGuard<'a, TgState>, Errno> {
    if crate::kernel::signal::interrupted() {
        return Err(Errno::ERESTARTSYS);
    }
    let st = tg
        .child_cv
        .wait_timeout(st, std::time::Duration::from_secs(1))
        .unwrap_or_else(|e| e.into_inner())
        .0;
    if crate::kernel::signal::interrupted() {
        return Err(Errno::ERESTARTSYS);
    }
    Ok(st)
}

/// Wakes a task waiting for its children when a signal comes.
fn child_waker(tg: &Arc<ThreadGroup>) -> crate::kernel::signal::Waker {
    let tg = Arc::downgrade(tg);
    Arc::new(move || {
        if let Some(tg) = tg.upgrade() {
            let _g = tg.lock();
            tg.child_cv.notify_all();
        }
    })
}

/// Takes (or, without `consume`, peeks at) a child's unreported stop or continue.
fn take_job_report(c: &ThreadGroup, stops: bool, conts: bool, consume: bool) -> Option<i32> {
    let mut cs = c.lock();
    let r = cs.job_report?;
    let wanted = if r == 0xffff { conts } else { stops };
    if !wanted {
        return None;
    }
    if consume {
        cs.job_report = None;
    }
    Some(r)
}

/// Whether `child` is one `wait*` with `options` may report: "clone" children (exit signal
/// other than SIGCHLD) need __WCLONE, the others its absence; __WALL takes both.
fn kind_matches(child: &ThreadGroup, options: i32) -> bool {
    if options & libc::__WALL != 0 {
        return true;
    }
    let clone_child = child.lock().exit_signal != libc::SIGCHLD;
    clone_child == (options & libc::__WCLONE != 0)
}

fn matches(t: &Task, child: &ThreadGroup, pid: i32) -> bool {
    match pid {
        -1 => true,
        0 => child.lock().pgid == t.tg.lock().pgid,
        p if p > 0 => child.tgid == p,
        p => child.lock().pgid == -p,
    }
}

pub fn wait4(t: &mut Task, a: [u64; 6]) -> SysResult {
    crate::kernel::signal::with_waker(child_waker(&t.tg), || wait4_inner(t, a))
}

fn wait4_inner(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (pid, status_addr, options) = (a[0] as i32, a[1], a[2] as i32);
    if options
        & !(libc::WNOHANG
            | libc::WUNTRACED
            | libc::WCONTINUED
            | libc::__WALL
            | libc::__WCLONE
            | libc::__WNOTHREAD)
        != 0
    {
        return Err(Errno::EINVAL);
    }
    let tg = t.tg.clone();
    let mut st = tg.lock();
    loop {
        let candidates = waitable(t, &st, pid, options)?;
        for c in candidates {
            let status = c.lock().exit_status;
            if let Some(s) = status {
                reap(t, &mut st, &c);
                drop(st);
                if status_addr != 0 {
                    t.write_mem(status_addr, &s.to_le_bytes())?;
                }
                if a[3] != 0 {
                    t.write_mem(a[3], &[0u8; 144])?;
                }
                return Ok(c.tgid as u64);
            }
            // Job control: a stop (WUNTRACED) or continue (WCONTINUED) not yet reported.
            if let Some(r) = take_job_report(
                &c,
                options & libc::WUNTRACED != 0,
                options & libc::WCONTINUED != 0,
                true,
            ) {
                drop(st);
                if status_addr != 0 {
                    t.write_mem(status_addr, &r.to_le_bytes())?;
                }
                return Ok(c.tgid as u64);
            }
        }
        if options & libc::WNOHANG != 0 {
            return Ok(0);
        }
        st = wait_for_child(&tg, st)?;
    }
}

/// Reads a NULL-terminated array of string pointers.
fn string_array(t: &Task, mut addr: u64) -> Result<Vec<Vec<u8>>, Errno> {
    let mut v = Vec::new();
    if addr == 0 {
        return Ok(v);
    }
    let mut total = 0usize;
    loop {
        let p = t.read_u64(addr)?;
        if p == 0 {
            return Ok(v);
        }
        let s = t.mm().read_cstring(p, 32 * 4096).map_err(|e| {
            if e == Errno::ENAMETOOLONG {
                Errno::E2BIG
            } else {
                e
            }
        })?;
        total += s.len() + 1;
        if v.len() >= 0x7fff_ffff || total > 2 << 20 {
            return Err(Errno::E2BIG);
        }
        v.push(s);
        addr += 8;
    }
}

pub fn execve(t: &mut Task, dirfd: u64, path: u64, argv: u64, envp: u64, flags: u64) -> SysResult {
    if flags & !((libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW) as u64) != 0 {
        return Err(Errno::EINVAL);
    }
    let p = t.mm().read_cstring(path, 4095)?;
    let p = if p.is_empty() {
        if flags & libc::AT_EMPTY_PATH as u64 == 0 {
            return Err(Errno::ENOENT);
        }
        // execveat(fd, "", AT_EMPTY_PATH): the file the descriptor was opened from.
        t.fds()
            .get(dirfd as i32)?
            .path
            .get()
            .cloned()
            .ok_or(Errno::EACCES)?
    } else {
        p
    };
    if flags & libc::AT_SYMLINK_NOFOLLOW as u64 != 0 {
        let st = super::file::stat_of(t, dirfd, &p, false)?;
        if st.mode & libc::S_IFMT == libc::S_IFLNK {
            return Err(Errno::ELOOP);
        }
    }
    let argv = string_array(t, argv)?;
    let envp = string_array(t, envp)?;
    let p = if p == b"/proc/self/exe" {
        t.exe.clone()
    } else {
        p
    };
    let cwd = super::file::base_dir(t, dirfd, &p)?;
    super::mount::executable(t, &cwd, &p)?;
    let prog = super::caps::load_program(t, &cwd, &p, argv, envp)?;
    t.exe = prog.path.clone();
    // Point of no return. Every other thread of the process ends, and the caller takes over
    // the thread-group leader's id.
    end_other_threads(t);
    // The old address space's CPU time stays the process's.
    if Arc::strong_count(&t.mm) == 1 {
        let used = t.mm().aspace().cpu_time().unwrap_or_default();
        t.tg.lock().cpu_base += used;
    }
    t.mm = Arc::new(Mutex::new(prog.mm));
    if let Some(g) = t.fast_guest.take() {
        g.remove_guest();
    }
    t.tg.lock().fast_ids = None;
    t.regs = prog.regs;
    t.regs_replaced = true;
    super::caps::commit_exec(t, &prog.creds);
    t.fds().close_on_exec();
    *t.sig.altstack.lock().unwrap_or_else(|e| e.into_inner()) = (0, 0, 0);
    {
        let mut st = t.tg.lock();
        for a in st.actions.iter_mut() {
            if a.handler != SIG_IGN {
                *a = Default::default();
            }
        }
    }
    let base = p.rsplit(|&b| b == b'/').next().unwrap_or(&p);
    t.comm = [0; 16];
    let n = base.len().min(15);
    t.comm[..n].copy_from_slice(&base[..n]);
    t.publish_view();
    if let Some(v) = t.vfork_done.take() {
        *v.0.lock().unwrap_or_else(|e| e.into_inner()) = true;
        v.1.notify_all();
    }
    Ok(0)
}

pub fn set_tid_address(t: &mut Task, a: [u64; 6]) -> SysResult {
    t.clear_child_tid = a[0];
    Ok(t.tid as u64)
}

pub fn arch_prctl(t: &mut Task, a: [u64; 6]) -> SysResult {
    const ARCH_SET_GS: u64 = 0x1001;
    const ARCH_SET_FS: u64 = 0x1002;
    const ARCH_GET_FS: u64 = 0x1003;
    const ARCH_GET_GS: u64 = 0x1004;
    match a[0] {
        ARCH_SET_FS | ARCH_SET_GS => {
            if a[1] >= 1 << 47 {
                return Err(Errno::EPERM);
            }
            if a[0] == ARCH_SET_FS {
                t.regs.regs.fs_base = a[1];
            } else {
                t.regs.regs.gs_base = a[1];
            }
            Ok(0)
        }
        ARCH_GET_FS => {
            let v = t.regs.regs.fs_base;
            t.write_mem(a[1], &v.to_le_bytes()).map(|_| 0)
        }
        ARCH_GET_GS => {
            let v = t.regs.regs.gs_base;
            t.write_mem(a[1], &v.to_le_bytes()).map(|_| 0)
        }
        _ => Err(Errno::EINVAL),
    }
}

pub fn prctl(t: &mut Task, a: [u64; 6]) -> SysResult {
    match a[0] as i32 {
        libc::PR_SET_NAME => {
            let mut b = [0u8; 16];
            let s = t
                .mm()
                .read_cstring(a[1], 4096)
                .or_else(|_| -> Result<Vec<u8>, Errno> {
                    let mut raw = [0u8; 16];
                    t.read_mem(a[1], &mut raw)?;
                    Ok(raw.iter().take_while(|&&c| c != 0).copied().collect())
                })?;
            let n = s.len().min(15);
            b[..n].copy_from_slice(&s[..n]);
            t.comm = b;
            t.publish_view();
            Ok(0)
        }
        libc::PR_GET_NAME => {
            let c = t.comm;
            t.write_mem(a[1], &c).map(|_| 0)
        }
        libc::PR_SET_PDEATHSIG => {
            if a[1] > 64 {
                return Err(Errno::EINVAL);
            }
            t.tg.lock().pdeathsig = a[1] as i32;
            Ok(0)
        }
        libc::PR_GET_PDEATHSIG => {
            let v = t.tg.lock().pdeathsig;
            t.write_mem(a[1], &v.to_le_bytes()).map(|_| 0)
        }
        libc::PR_SET_DUMPABLE => {
            if a[1] > 1 {
                return Err(Errno::EINVAL);
            }
            t.tg.lock().dumpable = a[1] == 1;
            Ok(0)
        }
        libc::PR_GET_DUMPABLE => Ok(t.tg.lock().dumpable as u64),
        libc::PR_SET_NO_NEW_PRIVS => {
            if a[1] != 1 || a[2] != 0 || a[3] != 0 || a[4] != 0 {
                return Err(Errno::EINVAL);
            }
            t.tg.lock().no_new_privs = true;
            Ok(0)
        }
        libc::PR_GET_NO_NEW_PRIVS => {
            if a[1] != 0 || a[2] != 0 || a[3] != 0 || a[4] != 0 {
                return Err(Errno::EINVAL);
            }
            Ok(t.tg.lock().no_new_privs as u64)
        }
        libc::PR_SET_CHILD_SUBREAPER => {
            t.tg.lock().child_subreaper = a[1] != 0;
            Ok(0)
        }
        libc::PR_GET_CHILD_SUBREAPER => {
            let v = t.tg.lock().child_subreaper as i32;
            t.write_mem(a[1], &v.to_le_bytes()).map(|_| 0)
        }
        _ => super::caps::prctl(t, a),
    }
}

/// The process a pid argument names: 0 (or its own pid) is the caller's.
fn process_arg(t: &Task, pid: i32) -> Result<Arc<ThreadGroup>, Errno> {
    if pid == 0 || pid == t.tg.tgid {
        Ok(t.tg.clone())
    } else {
        t.kernel.group(pid).ok_or(Errno::ESRCH)
    }
}

pub fn getpgid(t: &mut Task, a: [u64; 6]) -> SysResult {
    let pgid = process_arg(t, a[0] as i32)?.lock().pgid;
    Ok(pgid as u64)
}

pub fn setpgid(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (pid, pgid) = (a[0] as i32, a[1] as i32);
    if pgid < 0 {
        return Err(Errno::EINVAL);
    }
    let g = if pid == 0 || pid == t.tg.tgid {
        t.tg.clone()
    } else {
        let c = t.tg.lock().children.iter().find(|c| c.tgid == pid).cloned();
        c.ok_or(Errno::ESRCH)?
    };
    let target = if pgid == 0 { g.tgid } else { pgid };
    let mut st = g.lock();
    if st.sid == g.tgid {
        return Err(Errno::EPERM);
    }
    st.pgid = target;
    Ok(0)
}

pub fn getsid(t: &mut Task, a: [u64; 6]) -> SysResult {
    let sid = process_arg(t, a[0] as i32)?.lock().sid;
    Ok(sid as u64)
}

pub fn setsid(t: &mut Task) -> SysResult {
    let id = t.tg.tgid;
    let leader = t
        .kernel
        .groups()
        .iter()
        .any(|g| g.tgid != id && g.lock().pgid == id);
    let mut st = t.tg.lock();
    if st.pgid == id || leader {
        return Err(Errno::EPERM);
    }
    st.pgid = id;
    st.sid = id;
    st.ctty = None;
    Ok(id as u64)
}

pub fn prlimit64(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (res, new, old) = (a[1] as u32, a[2], a[3]);
    if res >= 16 {
        return Err(Errno::EINVAL);
    }
    let g = process_arg(t, a[0] as i32)?;
    let new = if new != 0 {
        let mut b = [0u8; 16];
        t.read_mem(new, &mut b)?;
        let cur = u64::from_le_bytes(b[..8].try_into().unwrap_or_default());
        let max = u64::from_le_bytes(b[8..].try_into().unwrap_or_default());
        if cur > max {
            return Err(Errno::EINVAL);
        }
        Some((cur, max))
    } else {
        None
    };
    let prev = {
        let mut st = g.lock();
        let prev = st.rlimits[res as usize];
        if let Some((cur, max)) = new {
            if max > prev.1 && !t.creds.has_cap(CAP_SYS_RESOURCE) {
                return Err(Errno::EPERM);
            }
            if res == libc::RLIMIT_NOFILE && max > 1 << 20 {
                return Err(Errno::EPERM);
            }
            st.rlimits[res as usize] = (cur, max);
            if res == libc::RLIMIT_NOFILE {
                t.fds().set_limit(cur);
            }
        }
        prev
    };
    if old != 0 {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&prev.0.to_le_bytes());
        b[8..].copy_from_slice(&prev.1.to_le_bytes());
        t.write_mem(old, &b)?;
    }
    Ok(0)
}

pub fn waitid(t: &mut Task, a: [u64; 6]) -> SysResult {
    crate::kernel::signal::with_waker(child_waker(&t.tg), || waitid_inner(t, a))
}

fn waitid_inner(t: &mut Task, a: [u64; 6]) -> SysResult {
    const P_ALL: u64 = 0;
    const P_PID: u64 = 1;
    const P_PGID: u64 = 2;
    let (idtype, id, infop, options) = (a[0], a[1] as i32, a[2], a[3] as i32);
    let allowed = libc::WNOHANG
        | libc::WEXITED
        | libc::WSTOPPED
        | libc::WCONTINUED
        | libc::WNOWAIT
        | libc::__WALL
        | libc::__WCLONE
        | libc::__WNOTHREAD;
    if options & !allowed != 0 || options & (libc::WEXITED | libc::WSTOPPED | libc::WCONTINUED) == 0
    {
        return Err(Errno::EINVAL);
    }
    let pid = match idtype {
        P_ALL => -1,
        P_PID if id > 0 => id,
        P_PGID if id >= 0 => {
            if id == 0 {
                0
            } else {
                -id
            }
        }
        _ => return Err(Errno::EINVAL),
    };
    let tg = t.tg.clone();
    let mut st = tg.lock();
    loop {
        let candidates = waitable(t, &st, pid, options)?;
        if options & libc::WEXITED != 0 {
            for c in candidates {
                let status = c.lock().exit_status;
                if let Some(s) = status {
                    if options & libc::WNOWAIT == 0 {
                        reap(t, &mut st, &c);
                    }
                    drop(st);
                    let (code, val) = if s & 0x7f == 0 {
                        (1, (s >> 8) & 0xff)
                    } else if s & 0x80 != 0 {
                        (3, s & 0x7f)
                    } else {
                        (2, s & 0x7f)
                    };
                    let info = crate::kernel::signal::SigInfo {
                        signo: libc::SIGCHLD,
                        code,
                        pid: c.tgid,
                        status: val,
                        ..Default::default()
                    };
                    if infop != 0 {
                        t.write_mem(infop, &info.to_bytes())?;
                    }
                    return Ok(0);
                }
            }
        }
        for c in st
            .children
            .iter()
            .filter(|c| matches(t, c, pid) && kind_matches(c, options))
        {
            let consume = options & libc::WNOWAIT == 0;
            if let Some(r) = take_job_report(
                c,
                options & libc::WSTOPPED != 0,
                options & libc::WCONTINUED != 0,
                consume,
            ) {
                let (code, val) = if r == 0xffff {
                    (6, libc::SIGCONT)
                } else {
                    (5, (r >> 8) & 0xff)
                };
                let info = crate::kernel::signal::SigInfo {
                    signo: libc::SIGCHLD,
                    code,
                    pid: c.tgid,
                    status: val,
                    ..Default::default()
                };
                drop(st);
                if infop != 0 {
                    t.write_mem(infop, &info.to_bytes())?;
                }
                return Ok(0);
            }
        }
        if options & libc::WNOHANG != 0 {
            if infop != 0 {
                t.write_mem(infop, &[0u8; 128])?;
            }
            return Ok(0);
        }
        st = wait_for_child(&tg, st)?;
    }
}

pub fn clone3(t: &mut Task, a: [u64; 6]) -> SysResult {
    const VER0: u64 = 64;
    const KNOWN: u64 = 88;
    let size = a[1];
    if size < VER0 {
        return Err(Errno::EINVAL);
    }
    if size > 4096 {
        return Err(Errno::E2BIG);
    }
    let mut b = vec![0u8; size as usize];
    t.read_mem(a[0], &mut b)?;
    // Fields past the ones this kernel knows must be zero.
    if b.len() > KNOWN as usize && b[KNOWN as usize..].iter().any(|&x| x != 0) {
        return Err(Errno::E2BIG);
    }
    b.resize(KNOWN as usize, 0);
    let f = |i: usize| u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().unwrap_or_default());
    let (flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls) =
        (f(0), f(1), f(2), f(3), f(4), f(5), f(6), f(7));
    let (set_tid_size, cgroup) = (f(9), f(10));
    if flags & 0xff != 0 || exit_signal > 64 || set_tid_size != 0 || cgroup != 0 {
        return Err(Errno::EINVAL);
    }
    if (stack == 0) != (stack_size == 0) {
        return Err(Errno::EINVAL);
    }
    let sp = if stack == 0 {
        0
    } else {
        stack.checked_add(stack_size).ok_or(Errno::EINVAL)?
    };
    do_clone(
        t,
        flags | exit_signal,
        sp,
        parent_tid,
        child_tid,
        tls,
        pidfd,
    )
}

/// unshare(2): a private descriptor table or fs context, a new UTS namespace, a new mount
/// namespace (a copy of the mounts).
pub fn unshare(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = a[0] as i32;
    let allowed = libc::CLONE_FILES
        | libc::CLONE_FS
        | libc::CLONE_NEWUTS
        | libc::CLONE_NEWNS
        | libc::CLONE_SYSVSEM;
    if f & !allowed != 0 {
        return Err(Errno::EINVAL);
    }
    if f & (libc::CLONE_NEWUTS | libc::CLONE_NEWNS) != 0 && !t.creds.has_cap(CAP_SYS_ADMIN) {
        return Err(Errno::EPERM);
    }
    if f & libc::CLONE_NEWNS != 0 {
        t.mnt = t.mnt.copy();
    }
    if f & libc::CLONE_FILES != 0 {
        let copy = t.fds().clone();
        t.fds = Arc::new(Mutex::new(copy));
    }
    if f & libc::CLONE_FS != 0 {
        let cwd = t.cwd();
        t.cwd = Arc::new(Mutex::new(cwd));
    }
    t.publish_view();
    if f & libc::CLONE_NEWUTS != 0 {
        let uts = t.uts.lock().unwrap_or_else(|e| e.into_inner()).clone();
        t.uts = Arc::new(Mutex::new(uts));
    }
    Ok(0)
}

pub fn set_robust_list(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[1] != 24 {
        return Err(Errno::EINVAL);
    }
    t.robust_list = (a[0], a[1]);
    Ok(0)
}

pub fn get_robust_list(t: &mut Task, a: [u64; 6]) -> SysResult {
    let tid = a[0] as i32;
    let (head, len) = if tid == 0 || tid == t.tid {
        t.robust_list
    } else {
        // Other threads' lists are not kept where we can reach them: report none.
        if !t
            .kernel
            .groups()
            .iter()
            .any(|g| g.lock().threads.contains_key(&tid))
        {
            return Err(Errno::ESRCH);
        }
        (0, 24)
    };
    t.write_mem(a[1], &head.to_le_bytes())?;
    t.write_mem(a[2], &len.to_le_bytes())?;
    Ok(0)
}

pub fn pidfd_open(t: &mut Task, a: [u64; 6]) -> SysResult {
    const PIDFD_NONBLOCK: u64 = libc::O_NONBLOCK as u64;
    if a[1] & !PIDFD_NONBLOCK != 0 || (a[0] as i32) <= 0 {
        return Err(Errno::EINVAL);
    }
    let g = t.kernel.group(a[0] as i32).ok_or(Errno::ESRCH)?;
    let file = crate::fs::OpenFile::new(
        Arc::new(crate::fs::pidfd::PidFd { tg: g }),
        libc::O_RDWR as u32,
    );
    t.fds().insert(file, true, 0).map(|fd| fd as u64)
}

pub fn pidfd_send_signal(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = t.fds().get(a[0] as i32)?;
    let pid = f.ops.pidfd_target().ok_or(Errno::EBADF)?;
    if a[3] != 0 {
        return Err(Errno::EINVAL);
    }
    if t.kernel
        .group(pid)
        .map(|g| g.lock().exit_status.is_some())
        .unwrap_or(true)
    {
        return Err(Errno::ESRCH);
    }
    super::signal::kill(t, [pid as u64, a[1], 0, 0, 0, 0])
}

/// execve in a multi-threaded process: the other threads end, and the caller becomes the
/// leader (its tid becomes the pid).
fn end_other_threads(t: &mut Task) {
    use std::sync::atomic::Ordering;
    let others: Vec<_> = {
        let st = t.tg.lock();
        st.signals
            .iter()
            .filter(|(tid, _)| **tid != t.tid)
            .map(|(tid, s)| (*tid, s.clone()))
            .collect()
    };
    if !others.is_empty() {
        for (tid, s) in &others {
            s.killed.store(true, Ordering::SeqCst);
            s.wake();
            if let Some(irq) = t.tg.lock().threads.get(tid) {
                irq.interrupt();
            }
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while t.tg.lock().live_threads > 1 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
    if t.tid != t.tg.tgid {
        let mut st = t.tg.lock();
        if let Some(irq) = st.threads.remove(&t.tid) {
            st.threads.insert(t.tg.tgid, irq);
        }
        if let Some(s) = st.signals.remove(&t.tid) {
            st.signals.insert(t.tg.tgid, s);
        }
        drop(st);
        t.tid = t.tg.tgid;
    }
}
