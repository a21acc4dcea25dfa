//! Signals: dispositions, masks, kill. (Handlers are recorded; delivery comes next.)

use crate::errno::{Errno, SysResult};
use crate::kernel::{SigAction, Task};

const NSIG: u64 = 64;

pub fn kill(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (pid, sig) = (a[0] as i32, a[1] as i32);
    if !(0..=NSIG as i32).contains(&sig) {
        return Err(Errno::EINVAL);
    }
    let targets: Vec<_> = match pid {
        p if p > 0 => vec![t.kernel.group(p).ok_or(Errno::ESRCH)?],
        0 => {
            let pg = t.tg.lock().pgid;
            t.kernel.groups().into_iter().filter(|g| g.lock().pgid == pg).collect()
        }
        -1 => t.kernel.groups().into_iter().filter(|g| g.tgid != 1 && g.tgid != t.tg.tgid).collect(),
        p => t.kernel.groups().into_iter().filter(|g| g.lock().pgid == -p).collect(),
    };
    if targets.is_empty() {
        return Err(Errno::ESRCH);
    }
    for g in targets {
        if g.lock().exit_status.is_none() {
            Task::signal_group(&g, sig);
        }
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
    Task::signal_group(&g, sig);
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
        Some(SigAction { handler: w(0), flags: w(1), restorer: w(2), mask: w(3) })
    } else {
        None
    };
    let prev = {
        let mut st = t.tg.lock();
        let prev = st.actions[(sig - 1) as usize];
        if let Some(n) = new {
            st.actions[(sig - 1) as usize] = n;
        }
        prev
    };
    if old != 0 {
        let mut b = [0u8; 32];
        for (i, v) in [prev.handler, prev.flags, prev.restorer, prev.mask].iter().enumerate() {
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
    let prev = t.sigmask;
    if set != 0 {
        let new = t.read_u64(set)?;
        let unblockable = (1u64 << (libc::SIGKILL - 1)) | (1u64 << (libc::SIGSTOP - 1));
        t.sigmask = match how {
            libc::SIG_BLOCK => prev | new,
            libc::SIG_UNBLOCK => prev & !new,
            libc::SIG_SETMASK => new,
            _ => return Err(Errno::EINVAL),
        } & !unblockable;
    }
    if old != 0 {
        t.write_mem(old, &prev.to_le_bytes())?;
    }
    Ok(0)
}
