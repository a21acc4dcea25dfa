//! Signal state, delivery (frame construction) and rt_sigreturn.
//!
//! Pending signals live in atomics so that a task blocked inside the Sentry can notice one
//! (`interrupted()`) without taking locks. A signal to a process wakes every thread: running
//! ones through the platform's interrupt, blocked ones by their polling waits.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::{Task, ThreadGroup, SIG_DFL, SIG_IGN};
use crate::errno::Errno;

/// Signal bit of `sig`.
pub fn bit(sig: i32) -> u64 {
    1u64 << (sig - 1)
}

/// SIGKILL and SIGSTOP cannot be blocked.
pub const UNBLOCKABLE: u64 = (1 << (libc::SIGKILL - 1)) | (1 << (libc::SIGSTOP - 1));

/// What a receiver learns about a signal (the siginfo fields we fill).
#[derive(Clone, Copy, Debug, Default)]
pub struct SigInfo {
    pub signo: i32,
    pub code: i32,
    pub pid: i32,
    pub uid: u32,
    /// SIGCHLD: exit status or signal; SIGSEGV/SIGBUS: unused.
    pub status: i32,
    /// SIGSEGV/SIGBUS: fault address.
    pub addr: u64,
    /// sigqueue's value (si_value).
    pub value: u64,
    /// Hardware trap number and error code of a fault (uc_mcontext trapno, err).
    pub trapno: u64,
    pub err: u64,
    /// POSIX timer signals (SI_TIMER): the timer and its overrun count.
    pub timer_id: i32,
    pub overrun: i32,
}

/// si_code of a POSIX timer's signal.
pub const SI_TIMER: i32 = -2;

impl SigInfo {
    /// The 128 bytes of `siginfo_t`.
    pub fn to_bytes(&self) -> [u8; 128] {
        let mut b = [0u8; 128];
        b[0..4].copy_from_slice(&self.signo.to_le_bytes());
        b[8..12].copy_from_slice(&self.code.to_le_bytes());
        match self.signo {
            libc::SIGSEGV | libc::SIGBUS | libc::SIGILL | libc::SIGFPE | libc::SIGTRAP => {
                b[16..24].copy_from_slice(&self.addr.to_le_bytes());
            }
            _ if self.code == SI_TIMER => {
                b[16..20].copy_from_slice(&self.timer_id.to_le_bytes());
                b[20..24].copy_from_slice(&self.overrun.to_le_bytes());
                b[24..32].copy_from_slice(&self.value.to_le_bytes());
            }
            _ => {
                b[16..20].copy_from_slice(&self.pid.to_le_bytes());
                b[20..24].copy_from_slice(&self.uid.to_le_bytes());
                if self.signo == libc::SIGCHLD {
                    b[24..28].copy_from_slice(&self.status.to_le_bytes());
                } else {
                    b[24..32].copy_from_slice(&self.value.to_le_bytes());
                }
            }
        }
        b
    }
}

/// Per-process pending signals.
#[derive(Default)]
pub struct GroupSignals {
    pub pending: AtomicU64,
    /// Set once the process is exiting (exit_group, fatal signal).
    pub exiting: std::sync::atomic::AtomicBool,
    pub infos: Mutex<Vec<SigInfo>>,
}

/// Per-thread signal state.
#[derive(Default)]
pub struct TaskSignals {
    pub mask: AtomicU64,
    pub pending: AtomicU64,
    pub infos: Mutex<Vec<SigInfo>>,
    /// sigaltstack: (sp, size, flags).
    pub altstack: Mutex<(u64, u64, i32)>,
    /// Mask to restore after a sigsuspend's handler.
    pub saved_mask: Mutex<Option<u64>>,
    /// Set when another thread's execve ends this one.
    pub killed: std::sync::atomic::AtomicBool,
    /// Extra wake-up for a task blocked on some other condition variable (a pipe, a
    /// futex): called by `wake`.
    pub waker: Mutex<Option<Waker>>,
    /// Notified when a signal is queued for the task or its process.
    pub wake: (Mutex<u64>, std::sync::Condvar),
}

impl TaskSignals {
    /// Wakes the task if it sleeps in `sleep_interruptible`.
    pub fn wake(&self) {
        {
            let mut g = self.wake.0.lock().unwrap_or_else(|e| e.into_inner());
            *g += 1;
            self.wake.1.notify_all();
        }
        let extra = self.waker.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(w) = extra {
            w();
        }
    }
}

/// How a blocked wait is woken for a signal: it takes the lock of the condition the task
/// waits on and notifies it (so a check of `interrupted()` made under that lock cannot miss
/// the signal).
pub type Waker = Arc<dyn Fn() + Send + Sync>;

/// Runs `f` (a wait on some other condition variable) with `w` registered as the running
/// task's waker.
pub fn with_waker<R>(w: Waker, f: impl FnOnce() -> R) -> R {
    let cur = CURRENT.with(|c| c.borrow().as_ref().map(|(s, _)| s.clone()));
    if let Some(s) = &cur {
        *s.waker.lock().unwrap_or_else(|e| e.into_inner()) = Some(w);
    }
    let r = f();
    if let Some(s) = &cur {
        *s.waker.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
    r
}

/// Sleeps until `deadline` (forever if None) or until the running task has a deliverable
/// signal or must exit; returns false when interrupted.
pub fn sleep_interruptible(deadline: Option<std::time::Instant>) -> bool {
    let Some(sig) = CURRENT.with(|c| c.borrow().as_ref().map(|(s, _)| s.clone())) else {
        if let Some(d) = deadline {
            std::thread::sleep(d.saturating_duration_since(std::time::Instant::now()));
        }
        return true;
    };
    let mut g = sig.wake.0.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        if interrupted() {
            return false;
        }
        let now = std::time::Instant::now();
        match deadline {
            Some(d) if now >= d => return true,
            Some(d) => {
                g = sig
                    .wake
                    .1
                    .wait_timeout(g, d - now)
                    .unwrap_or_else(|e| e.into_inner())
                    .0
            }
            None => g = sig.wake.1.wait(g).unwrap_or_else(|e| e.into_inner()),
        }
    }
}

thread_local! {
    static CURRENT: RefCell<Option<(Arc<TaskSignals>, Arc<ThreadGroup>)>> = const { RefCell::new(None) };
}

/// Registers the running task for `interrupted()` on this host thread.
pub fn set_current(sig: Arc<TaskSignals>, tg: Arc<ThreadGroup>) {
    CURRENT.with(|c| *c.borrow_mut() = Some((sig, tg)));
}

/// The process of the task running on this host thread (for file operations that act on
/// behalf of the caller, such as a write to a socket carrying its credentials).
pub fn current_group() -> Option<Arc<ThreadGroup>> {
    CURRENT.with(|c| c.borrow().as_ref().map(|(_, tg)| tg.clone()))
}

/// The signal mask of the task running on this host thread (0 if none).
pub fn current_mask() -> u64 {
    CURRENT.with(|c| {
        c.borrow()
            .as_ref()
            .map_or(0, |(s, _)| s.mask.load(Ordering::SeqCst))
    })
}

/// Whether the task running on this host thread has a deliverable signal or must exit:
/// blocking waits poll this and return EINTR.
pub fn interrupted() -> bool {
    CURRENT.with(|c| {
        c.borrow().as_ref().is_some_and(|(s, tg)| {
            let mask = s.mask.load(Ordering::SeqCst);
            let pend = s.pending.load(Ordering::SeqCst) | tg.sig.pending.load(Ordering::SeqCst);
            pend & !mask != 0
                || tg.sig.exiting.load(Ordering::SeqCst)
                || s.killed.load(Ordering::SeqCst)
        })
    })
}

/// Drops every pending instance of `sig` in process `tg` (whose state `st` is locked).
pub fn discard(tg: &ThreadGroup, st: &super::TgState, sig: i32) {
    tg.sig.pending.fetch_and(!bit(sig), Ordering::SeqCst);
    tg.sig
        .infos
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|i| i.signo != sig);
    for ts in st.signals.values() {
        ts.pending.fetch_and(!bit(sig), Ordering::SeqCst);
        ts.infos
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|i| i.signo != sig);
    }
}

/// si_code values of SIGCHLD for job control.
const CLD_STOPPED: i32 = 5;
const CLD_CONTINUED: i32 = 6;
/// sa_flags bit: no SIGCHLD when children stop or continue.
const SA_NOCLDSTOP: u64 = 1;

/// Tells the parent of `tg` that it stopped or continued (SIGCHLD unless SA_NOCLDSTOP, and a
/// report for wait with WUNTRACED/WCONTINUED).
fn notify_parent(tg: &Arc<ThreadGroup>, code: i32, status: i32) {
    let parent = tg.lock().parent.clone();
    if let Some(p) = parent {
        let act = p.lock().actions[(libc::SIGCHLD - 1) as usize];
        if act.flags & SA_NOCLDSTOP == 0 {
            let info = SigInfo {
                signo: libc::SIGCHLD,
                code,
                pid: tg.tgid,
                status,
                ..Default::default()
            };
            send(&p, None, info);
        }
        let _g = p.lock();
        p.child_cv.notify_all();
    }
}

/// Group stop: every thread parks until SIGCONT or SIGKILL.
fn stop_group(tg: &Arc<ThreadGroup>, sig: i32) {
    {
        let mut st = tg.lock();
        if st.stopped || st.exit_status.is_some() || st.group_exit.is_some() {
            return;
        }
        st.stopped = true;
        st.job_report = Some((sig << 8) | 0x7f);
        for irq in st.threads.values() {
            irq.interrupt();
        }
    }
    notify_parent(tg, CLD_STOPPED, sig);
}

/// SIGCONT: wakes a stopped group and discards pending stop signals.
fn continue_group(tg: &Arc<ThreadGroup>) {
    let was_stopped = {
        let mut st = tg.lock();
        for s in [libc::SIGSTOP, libc::SIGTSTP, libc::SIGTTIN, libc::SIGTTOU] {
            discard(tg, &st, s);
        }
        let was = st.stopped;
        if was {
            st.stopped = false;
            st.job_report = Some(0xffff);
        }
        was
    };
    resume(tg);
    if was_stopped {
        notify_parent(tg, CLD_CONTINUED, libc::SIGCONT);
    }
}

/// Wakes threads parked by a group stop.
fn resume(tg: &ThreadGroup) {
    let _g = tg.lock();
    tg.cont_cv.notify_all();
}

/// Parks the calling task while its process is stopped.
pub fn wait_while_stopped(tg: &ThreadGroup) {
    let mut st = tg.lock();
    while st.stopped && st.group_exit.is_none() {
        st = tg.cont_cv.wait(st).unwrap_or_else(|e| e.into_inner());
    }
}

/// Signals whose default action is to do nothing.
pub fn default_ignored(sig: i32) -> bool {
    matches!(
        sig,
        libc::SIGCHLD | libc::SIGURG | libc::SIGWINCH | libc::SIGCONT
    )
}

/// Default action stops the process (not implemented: treated as ignored).
fn default_stops(sig: i32) -> bool {
    matches!(
        sig,
        libc::SIGSTOP | libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU
    )
}

/// Wait status of a process killed by `sig`.
pub fn signal_status(sig: i32) -> i32 {
    let core = matches!(
        sig,
        libc::SIGQUIT
            | libc::SIGILL
            | libc::SIGTRAP
            | libc::SIGABRT
            | libc::SIGBUS
            | libc::SIGFPE
            | libc::SIGSEGV
            | libc::SIGSYS
            | libc::SIGXCPU
            | libc::SIGXFSZ
    );
    sig | if core { 0x80 } else { 0 }
}

/// Sends `info.signo` to process `tg`, or to one of its threads (`tid`).
pub fn send(tg: &Arc<ThreadGroup>, tid: Option<i32>, info: SigInfo) {
    let sig = info.signo;
    if sig == 0 {
        return;
    }
    let handler = tg.lock().actions[(sig - 1) as usize].handler;
    if sig == libc::SIGKILL {
        tg.kill_group(signal_status(sig));
        resume(tg);
        return;
    }
    if sig == libc::SIGCONT {
        continue_group(tg);
    }
    if default_stops(sig) {
        // A pending SIGCONT is cancelled by a stop signal.
        let st = tg.lock();
        discard(tg, &st, libc::SIGCONT);
    }
    // An ignored signal is dropped, unless blocked: then it stays pending (Linux's
    // sig_ignored()).
    let blocked = tg
        .lock()
        .signals
        .values()
        .any(|ts| ts.mask.load(Ordering::SeqCst) & bit(sig) != 0);
    if !blocked
        && (handler == SIG_IGN
            || (handler == SIG_DFL && (default_ignored(sig) || default_stops(sig))))
    {
        if default_stops(sig) && handler == SIG_DFL {
            stop_group(tg, sig);
        }
        return;
    }
    // Queue it; a default-action signal is acted on by the receiver when unblocked.
    let st = tg.lock();
    let target = tid.and_then(|t| st.signals.get(&t).cloned());
    match target {
        Some(ts) => {
            ts.infos
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(info);
            ts.pending.fetch_or(bit(sig), Ordering::SeqCst);
        }
        None => {
            tg.sig
                .infos
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(info);
            tg.sig.pending.fetch_or(bit(sig), Ordering::SeqCst);
        }
    }
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

/// Takes the lowest pending signal of `avail` from one queue (standard signals do not queue;
/// real-time ones do).
pub fn take(pending: &AtomicU64, infos: &Mutex<Vec<SigInfo>>, avail: u64) -> Option<SigInfo> {
    let p = pending.load(Ordering::SeqCst) & avail;
    if p == 0 {
        return None;
    }
    let sig = p.trailing_zeros() as i32 + 1;
    let mut q = infos.lock().unwrap_or_else(|e| e.into_inner());
    let info = match q.iter().position(|i| i.signo == sig) {
        Some(i) => q.remove(i),
        None => SigInfo {
            signo: sig,
            ..Default::default()
        },
    };
    // Real-time signals queue; standard ones do not.
    if sig < 32 || !q.iter().any(|i| i.signo == sig) {
        q.retain(|i| i.signo != sig);
        pending.fetch_and(!bit(sig), Ordering::SeqCst);
    }
    Some(info)
}

/// Takes the next deliverable signal of `t`.
pub fn dequeue(t: &Task, mask: u64) -> Option<SigInfo> {
    let avail = !mask | UNBLOCKABLE;
    let info = take(&t.sig.pending, &t.sig.infos, avail)
        .or_else(|| take(&t.tg.sig.pending, &t.tg.sig.infos, avail))?;
    if info.code == SI_TIMER {
        crate::syscalls::posix_timer::delivered(&t.tg, info.timer_id, info.overrun);
    }
    Some(info)
}

/// A timer expired again while its signal is still queued: count an overrun instead of
/// queueing another. Returns false if no such signal is queued.
pub fn bump_overrun(tg: &ThreadGroup, tid: Option<&TaskSignals>, sig: i32, timer_id: i32) -> bool {
    let infos = match tid {
        Some(ts) => &ts.infos,
        None => &tg.sig.infos,
    };
    let mut q = infos.lock().unwrap_or_else(|e| e.into_inner());
    match q
        .iter_mut()
        .find(|i| i.signo == sig && i.code == SI_TIMER && i.timer_id == timer_id)
    {
        Some(i) => {
            i.overrun = i.overrun.saturating_add(1);
            true
        }
        None => false,
    }
}

const UC_FP_XSTATE: u64 = 1;
const FP_XSTATE_MAGIC1: u32 = 0x4650_5853;
const FP_XSTATE_MAGIC2: u32 = 0x4650_5845;
const SA_ONSTACK: u64 = 0x0800_0000;
const SA_RESTART: u64 = 0x1000_0000;
const SA_NODEFER: u64 = 0x4000_0000;
const SA_RESETHAND: u64 = 0x8000_0000;
const SA_SIGINFO: u64 = 4;
const UC_SIZE: u64 = 304;
const SIGINFO_SIZE: u64 = 128;

/// How the syscall the task was in ended, for restart decisions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interrupted {
    /// Not in an interrupted syscall.
    No,
    /// A syscall interrupted by a signal: restart it if the handler has SA_RESTART.
    Restartable { nr: u64 },
}

/// Delivers pending signals before returning to the application. Returns false when the
/// process must die.
pub fn deliver(t: &mut Task, intr: Interrupted) -> bool {
    let mask = t.sig.mask.load(Ordering::SeqCst);
    let Some(info) = dequeue(t, mask) else {
        if let Interrupted::Restartable { nr } = intr {
            restart(t, nr);
        }
        return true;
    };
    let sig = info.signo;
    let act = t.tg.lock().actions[(sig - 1) as usize];
    if act.handler == SIG_IGN
        || (act.handler == SIG_DFL && (default_ignored(sig) || default_stops(sig)))
    {
        if let Interrupted::Restartable { nr } = intr {
            restart(t, nr);
        }
        return true;
    }
    if act.handler == SIG_DFL {
        t.tg.kill_group(signal_status(sig));
        return false;
    }
    if let Interrupted::Restartable { nr } = intr {
        if act.flags & SA_RESTART != 0 {
            restart(t, nr);
        } else {
            t.regs.regs.rax = Errno::EINTR.as_rax();
        }
    }
    let old_mask = t
        .sig
        .saved_mask
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
        .unwrap_or(mask);
    match build_frame(t, &info, &act, old_mask) {
        Ok(()) => {
            let mut new_mask = mask | act.mask;
            if act.flags & SA_NODEFER == 0 {
                new_mask |= bit(sig);
            }
            t.sig.mask.store(new_mask & !UNBLOCKABLE, Ordering::SeqCst);
            if act.flags & SA_RESETHAND != 0 {
                // SA_ONESHOT: the handler goes back to SIG_DFL; the flags stay.
                t.tg.lock().actions[(sig - 1) as usize].handler = SIG_DFL;
            }
            true
        }
        Err(_) => {
            // Could not write the frame: as Linux, a SIGSEGV the process cannot handle.
            t.tg.kill_group(signal_status(libc::SIGSEGV));
            false
        }
    }
}

fn restart(t: &mut Task, nr: u64) {
    t.regs.regs.rax = nr;
    t.regs.regs.rip -= 2;
}

fn build_frame(
    t: &mut Task,
    info: &SigInfo,
    act: &super::SigAction,
    old_mask: u64,
) -> Result<(), Errno> {
    let r = t.regs.regs;
    let (ss_sp, ss_size, ss_flags) = *t.sig.altstack.lock().unwrap_or_else(|e| e.into_inner());
    let on_alt = ss_size != 0 && r.rsp > ss_sp && r.rsp <= ss_sp + ss_size;
    let mut sp = if act.flags & SA_ONSTACK != 0 && ss_size != 0 && !on_alt {
        ss_sp + ss_size
    } else {
        r.rsp - 128
    };
    let xs = t.regs.xsave.as_bytes().to_vec();
    let xsize = xs.len() as u64;
    sp = (sp - (xsize + 4)) & !63;
    let fpstate = sp;
    sp -= 8 + UC_SIZE + SIGINFO_SIZE;
    sp = (sp & !15) - 8;
    let frame = sp;
    let uc = frame + 8;
    let si = uc + UC_SIZE;
    // fpstate, with the software words a handler (and our rt_sigreturn) expect.
    let mut fp = xs;
    fp[464..468].copy_from_slice(&FP_XSTATE_MAGIC1.to_le_bytes());
    fp[468..472].copy_from_slice(&((xsize + 4) as u32).to_le_bytes());
    let xfeatures = u64::from_le_bytes(fp[512..520].try_into().unwrap_or_default()) | 3;
    fp[472..480].copy_from_slice(&xfeatures.to_le_bytes());
    fp[480..484].copy_from_slice(&(xsize as u32).to_le_bytes());
    fp.extend_from_slice(&FP_XSTATE_MAGIC2.to_le_bytes());
    t.write_mem(fpstate, &fp)?;
    let mut u = [0u8; UC_SIZE as usize];
    let put = |u: &mut [u8; UC_SIZE as usize], o: usize, v: u64| {
        u[o..o + 8].copy_from_slice(&v.to_le_bytes())
    };
    put(&mut u, 0, UC_FP_XSTATE);
    put(&mut u, 16, ss_sp);
    put(&mut u, 24, ss_flags as u32 as u64);
    put(&mut u, 32, ss_size);
    let mc = 40;
    let gregs = [
        r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.rdi, r.rsi, r.rbp, r.rbx, r.rdx,
        r.rax, r.rcx, r.rsp, r.rip, r.rflags,
    ];
    for (i, v) in gregs.iter().enumerate() {
        put(&mut u, mc + 8 * i, *v);
    }
    // cs=0x33, ss=0x2b as Linux reports them.
    u[mc + 144..mc + 146].copy_from_slice(&0x33u16.to_le_bytes());
    u[mc + 150..mc + 152].copy_from_slice(&0x2bu16.to_le_bytes());
    put(&mut u, mc + 152, info.err);
    put(&mut u, mc + 160, info.trapno);
    put(&mut u, mc + 176, info.addr);
    put(&mut u, mc + 184, fpstate);
    put(&mut u, 296, old_mask);
    let restorer = act.restorer;
    t.write_mem(frame, &restorer.to_le_bytes())?;
    t.write_mem(uc, &u)?;
    t.write_mem(si, &info.to_bytes())?;
    let regs = &mut t.regs.regs;
    regs.rsp = frame;
    regs.rip = act.handler;
    regs.rdi = info.signo as u64;
    regs.rsi = if act.flags & SA_SIGINFO != 0 { si } else { 0 };
    regs.rdx = if act.flags & SA_SIGINFO != 0 { uc } else { 0 };
    regs.rax = 0;
    regs.rflags &= !0x400; // DF clear, as the ABI wants
                           // The handler starts with a clean FPU state, as on Linux.
    t.regs.xsave = platform::XsaveArea::default();
    Ok(())
}

/// rt_sigreturn: restores the state saved by `build_frame` (rsp points past pretcode).
pub fn sigreturn(t: &mut Task) -> Result<(), Errno> {
    let uc = t.regs.regs.rsp;
    let mut u = [0u8; UC_SIZE as usize];
    t.read_mem(uc, &mut u)?;
    let get = |o: usize| u64::from_le_bytes(u[o..o + 8].try_into().unwrap_or_default());
    let mc = 40;
    let r = &mut t.regs.regs;
    let fields: [&mut u64; 18] = [
        &mut r.r8,
        &mut r.r9,
        &mut r.r10,
        &mut r.r11,
        &mut r.r12,
        &mut r.r13,
        &mut r.r14,
        &mut r.r15,
        &mut r.rdi,
        &mut r.rsi,
        &mut r.rbp,
        &mut r.rbx,
        &mut r.rdx,
        &mut r.rax,
        &mut r.rcx,
        &mut r.rsp,
        &mut r.rip,
        &mut r.rflags,
    ];
    for (i, f) in fields.into_iter().enumerate() {
        *f = get(mc + 8 * i);
    }
    // The user may not change privileged flags: keep only the arithmetic and direction ones
    // plus AC, RF-style user bits; IF stays set.
    r.rflags = (r.rflags & 0x0004_0dd5) | 0x202;
    let fpstate = get(mc + 184);
    if fpstate != 0 {
        let n = t.regs.xsave.as_bytes().len();
        let mut fp = vec![0u8; n];
        t.read_mem(fpstate, &mut fp)?;
        // Keep MXCSR's reserved bits clear so the restore cannot fault.
        let mx = u32::from_le_bytes(fp[24..28].try_into().unwrap_or_default()) & 0xffff;
        fp[24..28].copy_from_slice(&mx.to_le_bytes());
        // Header: only x87/SSE/AVX-family bits the host saved; no compacted format.
        fp[520..528].fill(0);
        fp[528..576].fill(0);
        fp[464..512].copy_from_slice(&t.regs.xsave.as_bytes()[464..512]);
        t.regs.xsave.as_bytes_mut().copy_from_slice(&fp);
    }
    let mask = get(296) & !UNBLOCKABLE;
    t.sig.mask.store(mask, Ordering::SeqCst);
    let ss_sp = get(16);
    let ss_flags = u64::from_le_bytes(u[24..32].try_into().unwrap_or_default()) as i32;
    let ss_size = get(32);
    if ss_flags & 2 == 0 {
        *t.sig.altstack.lock().unwrap_or_else(|e| e.into_inner()) = (ss_sp, ss_size, 0);
    }
    Ok(())
}
