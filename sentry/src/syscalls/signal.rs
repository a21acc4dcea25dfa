//! Signals: dispositions, masks, kill, sigreturn, sigsuspend, sigaltstack.

use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::errno::{Errno, SysResult};
use crate::kernel::creds::CAP_KILL;
use crate::kernel::signal::{self, SigInfo, UNBLOCKABLE};
use crate::kernel::{SigAction, Task, ThreadGroup};

const NSIG: u64 = 64;
/// si_code of kill(2).
const SI_USER: i32 = 0;
/// si_code of tgkill(2).
const SI_TKILL: i32 = -6;

/// Linux's check_kill_permission: may the caller send `sig` to process `g`? CAP_KILL, or
/// a real or effective uid matching the target's real or saved uid, or SIGCONT within the
/// session (`sid`, the caller's). Its own process it may always signal.
fn may_signal(t: &Task, sid: i32, g: &ThreadGroup, sig: i32) -> bool {
    let me = &t.creds;
    if g.tgid == t.tg.tgid || me.has_cap(CAP_KILL) {
        return true;
    }
    let st = g.lock();
    [me.euid, me.ruid]
        .iter()
        .any(|u| *u == st.creds.ruid || *u == st.creds.suid)
        || (sig == libc::SIGCONT && st.sid == sid)
}

pub fn kill(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (pid, sig) = (a[0] as i32, a[1] as i32);
    if !(0..=NSIG as i32).contains(&sig) {
        return Err(Errno::EINVAL);
    }
    let targets: Vec<_> = match pid {
        p if p > 0 => vec![t.kernel.group(p).ok_or(Errno::ESRCH)?],
        0 => {
            let pg = t.tg.lock().pgid;
            t.kernel
                .groups()
                .into_iter()
                .filter(|g| g.lock().pgid == pg)
                .collect()
        }
        -1 => t
            .kernel
            .groups()
            .into_iter()
            .filter(|g| g.tgid != 1 && g.tgid != t.tg.tgid)
            .collect(),
        p if p == i32::MIN => return Err(Errno::ESRCH),
        p => t
            .kernel
            .groups()
            .into_iter()
            .filter(|g| g.lock().pgid == -p)
            .collect(),
    };
    let live: Vec<_> = targets
        .into_iter()
        .filter(|g| g.lock().exit_status.is_none())
        .collect();
    if live.is_empty() {
        return Err(Errno::ESRCH);
    }
    let sid = t.tg.lock().sid;
    let live: Vec<_> = live
        .into_iter()
        .filter(|g| may_signal(t, sid, g, sig))
        .collect();
    if live.is_empty() {
        return Err(Errno::EPERM);
    }
    for g in live {
        signal::send(
            &g,
            None,
            SigInfo {
                signo: sig,
                code: SI_USER,
                pid: t.tg.tgid,
                ..Default::default()
            },
        );
    }
    Ok(0)
}

pub fn tgkill(t: &mut Task, tgid: i32, tid: i32, sig: i32) -> SysResult {
    if !(0..=NSIG as i32).contains(&sig) || tid <= 0 || (tgid != -1 && tgid <= 0) {
        return Err(Errno::EINVAL);
    }
    let g = t
        .kernel
        .groups()
        .into_iter()
        .find(|g| g.lock().threads.contains_key(&tid) && (tgid == -1 || g.tgid == tgid))
        .ok_or(Errno::ESRCH)?;
    let sid = t.tg.lock().sid;
    if !may_signal(t, sid, &g, sig) {
        return Err(Errno::EPERM);
    }
    signal::send(
        &g,
        Some(tid),
        SigInfo {
            signo: sig,
            code: SI_TKILL,
            pid: t.tg.tgid,
            ..Default::default()
        },
    );
    Ok(0)
}

pub fn rt_sigaction(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (sig, act, old, size) = (a[0] as i32, a[1], a[2], a[3]);
    if size != 8 || !(1..=NSIG as i32).contains(&sig) {
        return Err(Errno::EINVAL);
    }
    let new = if act != 0 {
        if sig == libc::SIGKILL || sig == libc::SIGSTOP {
            return Err(Errno::EINVAL);
        }
        let mut b = [0u8; 32];
        t.read_mem(act, &mut b)?;
        let w = |i: usize| u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().unwrap_or_default());
        Some(SigAction {
            handler: w(0),
            flags: w(1),
            restorer: w(2),
            mask: w(3) & !UNBLOCKABLE,
        })
    } else {
        None
    };
    let prev = {
        let mut st = t.tg.lock();
        let prev = st.actions[(sig - 1) as usize];
        if let Some(n) = new {
            st.actions[(sig - 1) as usize] = n;
            // Ignoring a signal discards what is pending of it.
            let ignored = n.handler == crate::kernel::SIG_IGN
                || (n.handler == crate::kernel::SIG_DFL && signal::default_ignored(sig));
            if ignored {
                signal::discard(&t.tg, &st, sig);
            }
        }
        prev
    };
    if old != 0 {
        let mut b = [0u8; 32];
        for (i, v) in [prev.handler, prev.flags, prev.restorer, prev.mask]
            .iter()
            .enumerate()
        {
            b[i * 8..i * 8 + 8].copy_from_slice(&v.to_le_bytes());
        }
        t.write_mem(old, &b)?;
    }
    Ok(0)
}

pub fn rt_sigprocmask(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (how, set, old, size) = (a[0] as i32, a[1], a[2], a[3]);
    if size != 8 {
        return Err(Errno::EINVAL);
    }
    let prev = t.sig.mask.load(Ordering::SeqCst);
    if set != 0 {
        let new = t.read_u64(set)?;
        let m = match how {
            libc::SIG_BLOCK => prev | new,
            libc::SIG_UNBLOCK => prev & !new,
            libc::SIG_SETMASK => new,
            _ => return Err(Errno::EINVAL),
        } & !UNBLOCKABLE;
        t.sig.mask.store(m, Ordering::SeqCst);
    }
    if old != 0 {
        t.write_mem(old, &prev.to_le_bytes())?;
    }
    Ok(0)
}

pub fn rt_sigreturn(t: &mut Task) -> SysResult {
    match signal::sigreturn(t) {
        Ok(()) => {
            t.regs_replaced = true;
            Ok(0)
        }
        Err(_) => {
            t.tg.kill_group(signal::signal_status(libc::SIGSEGV));
            Err(Errno::EFAULT)
        }
    }
}

pub fn rt_sigpending(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[1] != 8 {
        return Err(Errno::EINVAL);
    }
    let p = (t.sig.pending.load(Ordering::SeqCst) | t.tg.sig.pending.load(Ordering::SeqCst))
        & t.sig.mask.load(Ordering::SeqCst);
    t.write_mem(a[0], &p.to_le_bytes()).map(|_| 0)
}

pub fn rt_sigsuspend(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[1] != 8 {
        return Err(Errno::EINVAL);
    }
    let new = t.read_u64(a[0])? & !UNBLOCKABLE;
    let old = t.sig.mask.swap(new, Ordering::SeqCst);
    *t.sig.saved_mask.lock().unwrap_or_else(|e| e.into_inner()) = Some(old);
    signal::sleep_interruptible(None);
    // The handler runs with `new`; its sigreturn restores `old` (saved above).
    Err(Errno::EINTR)
}

pub fn sigaltstack(t: &mut Task, a: [u64; 6]) -> SysResult {
    const SS_ONSTACK: i32 = 1;
    const SS_DISABLE: i32 = 2;
    const MINSIGSTKSZ: u64 = 2048;
    let cur = *t.sig.altstack.lock().unwrap_or_else(|e| e.into_inner());
    let sp = t.regs.regs.rsp;
    let on = cur.1 != 0 && sp > cur.0 && sp <= cur.0 + cur.1;
    if a[1] != 0 {
        let mut b = [0u8; 24];
        if cur.1 == 0 {
            b[8..12].copy_from_slice(&SS_DISABLE.to_le_bytes());
        } else {
            b[..8].copy_from_slice(&cur.0.to_le_bytes());
            b[8..12].copy_from_slice(&(if on { SS_ONSTACK } else { 0 }).to_le_bytes());
            b[16..].copy_from_slice(&cur.1.to_le_bytes());
        }
        t.write_mem(a[1], &b)?;
    }
    if a[0] != 0 {
        let mut b = [0u8; 24];
        t.read_mem(a[0], &mut b)?;
        let ss_sp = u64::from_le_bytes(b[..8].try_into().unwrap_or_default());
        let flags = i32::from_le_bytes(b[8..12].try_into().unwrap_or_default());
        let size = u64::from_le_bytes(b[16..].try_into().unwrap_or_default());
        if on {
            return Err(Errno::EPERM);
        }
        let new = match flags & !(1 << 31) {
            SS_DISABLE => (0, 0, SS_DISABLE),
            0 | SS_ONSTACK => {
                if size < MINSIGSTKSZ {
                    return Err(Errno::ENOMEM);
                }
                (ss_sp, size, 0)
            }
            _ => return Err(Errno::EINVAL),
        };
        *t.sig.altstack.lock().unwrap_or_else(|e| e.into_inner()) = new;
    }
    Ok(0)
}

pub fn pause(_t: &mut Task) -> SysResult {
    signal::sleep_interruptible(None);
    Err(Errno::EINTR)
}

/// rt_sigqueueinfo / rt_tgsigqueueinfo: a signal with the caller's siginfo.
pub fn sigqueueinfo(t: &mut Task, tgid: i32, tid: Option<i32>, sig: i32, uinfo: u64) -> SysResult {
    if !(1..=NSIG as i32).contains(&sig) {
        return Err(Errno::EINVAL);
    }
    let mut b = [0u8; 128];
    t.read_mem(uinfo, &mut b)?;
    let code = i32::from_le_bytes(b[8..12].try_into().unwrap_or_default());
    // Only the kernel may claim kernel or kill() origins for another process.
    if (code >= 0 || code == SI_TKILL) && tgid != t.tg.tgid {
        return Err(Errno::EPERM);
    }
    let value = u64::from_le_bytes(b[24..32].try_into().unwrap_or_default());
    let g = t.kernel.group(tgid).ok_or(Errno::ESRCH)?;
    if let Some(tid) = tid {
        if !g.lock().threads.contains_key(&tid) {
            return Err(Errno::ESRCH);
        }
    }
    let sid = t.tg.lock().sid;
    if !may_signal(t, sid, &g, sig) {
        return Err(Errno::EPERM);
    }
    // The caller's siginfo is passed on as given (pid and uid included).
    let pid = i32::from_le_bytes(b[16..20].try_into().unwrap_or_default());
    let uid = u32::from_le_bytes(b[20..24].try_into().unwrap_or_default());
    signal::send(
        &g,
        tid,
        SigInfo {
            signo: sig,
            code,
            pid,
            uid,
            value,
            ..Default::default()
        },
    );
    Ok(0)
}

/// rt_sigtimedwait: takes a pending signal of `set`, waiting up to the timeout.
pub fn rt_sigtimedwait(t: &mut Task, a: [u64; 6]) -> SysResult {
    if a[3] != 8 {
        return Err(Errno::EINVAL);
    }
    let set = t.read_u64(a[0])? & !UNBLOCKABLE;
    let deadline = if a[2] == 0 {
        None
    } else {
        let mut b = [0u8; 16];
        t.read_mem(a[2], &mut b)?;
        let s = i64::from_le_bytes(b[..8].try_into().unwrap_or_default());
        let ns = i64::from_le_bytes(b[8..].try_into().unwrap_or_default());
        if s < 0 || !(0..1_000_000_000).contains(&ns) {
            return Err(Errno::EINVAL);
        }
        super::misc::after(Duration::new(s as u64, ns as u32))
    };
    loop {
        // Take only signals of `set`: present everything else as blocked.
        if let Some(info) = signal::dequeue(t, !set) {
            if a[1] != 0 {
                t.write_mem(a[1], &info.to_bytes())?;
            }
            return Ok(info.signo as u64);
        }
        if signal::interrupted() {
            return Err(Errno::EINTR);
        }
        if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
            return Err(Errno::EAGAIN);
        }
        // Blocked signals of `set` do not count as interruptions: poll for them.
        let tick = std::time::Instant::now() + Duration::from_millis(1);
        signal::sleep_interruptible(Some(deadline.map_or(tick, |d| d.min(tick))));
    }
}
