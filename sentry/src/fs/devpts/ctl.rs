//! Controlling terminals and job control, as Linux: a process's controlling terminal
//! (`TgState::ctty`, inherited across fork, dropped by setsid) is the terminal its session
//! leader acquired; the terminal knows its session and foreground process group.
//!
//! Locking: a process's lock may be taken under a pty's lock (to see whether the caller is
//! stopped), never the other way round; no signal is sent under a pty's lock (a receiver's
//! waker takes it).

use std::sync::Arc;

use super::pty::Pty;
use crate::errno::Errno;
use crate::kernel::signal::{self, SigInfo};
use crate::kernel::{Kernel, ThreadGroup, SIG_IGN};

/// si_code of signals the kernel sends (SI_KERNEL).
const SI_KERNEL: i32 = 0x80;

/// What job control needs of a process.
pub struct Member {
    pub sid: i32,
    pub pgid: i32,
    pub leader: bool,
    pub ctty: Option<Arc<Pty>>,
}

impl Member {
    pub fn of(tg: &ThreadGroup) -> Member {
        let st = tg.lock();
        Member {
            sid: st.sid,
            pgid: st.pgid,
            leader: st.sid == tg.tgid,
            ctty: st.ctty.clone(),
        }
    }

    /// Whether `pty` is this process's controlling terminal.
    pub fn owns(&self, pty: &Arc<Pty>) -> bool {
        self.ctty.as_ref().is_some_and(|c| Arc::ptr_eq(c, pty))
    }
}

/// Live processes (not zombies).
fn live(k: &Kernel) -> impl Iterator<Item = Arc<ThreadGroup>> {
    k.groups()
        .into_iter()
        .filter(|g| g.lock().exit_status.is_none())
}

/// Sends `sig` to every process of group `pgid` (kill_pgrp from the kernel).
pub fn kill_pgrp(k: &Kernel, pgid: i32, sig: i32) {
    kill_pgrp_but(k, pgid, sig, None);
}

/// kill_pgrp, leaving out process `skip` (one that is exiting).
fn kill_pgrp_but(k: &Kernel, pgid: i32, sig: i32, skip: Option<i32>) {
    for g in live(k).filter(|g| g.lock().pgid == pgid && Some(g.tgid) != skip) {
        send(&g, sig);
    }
}

fn send(g: &Arc<ThreadGroup>, sig: i32) {
    signal::send(
        g,
        None,
        SigInfo {
            signo: sig,
            code: SI_KERNEL,
            ..Default::default()
        },
    );
}

/// Whether group `pgid` is orphaned: no member has a parent in another group of its
/// session.
pub fn orphaned(k: &Kernel, pgid: i32) -> bool {
    for g in live(k) {
        let (pg, sid, parent) = {
            let st = g.lock();
            (st.pgid, st.sid, st.parent.clone())
        };
        if pg != pgid {
            continue;
        }
        if let Some(p) = parent {
            let (ppg, psid) = {
                let ps = p.lock();
                (ps.pgid, ps.sid)
            };
            if ppg != pgid && psid == sid {
                return false;
            }
        }
    }
    true
}

/// Whether the caller's process is stopped by job control (its blocked calls give up and
/// restart once it is continued).
pub fn stopped() -> bool {
    signal::current_group().is_some_and(|tg| tg.lock().stopped)
}

/// Whether the calling thread blocks or ignores `sig`.
fn ignored(tg: &ThreadGroup, sig: i32) -> bool {
    signal::current_mask() & signal::bit(sig) != 0
        || tg.lock().actions[(sig - 1) as usize].handler == SIG_IGN
}

/// Job control for an access to `pty` by the caller (Linux's __tty_check_change): a process
/// of a background group of the terminal's session gets `sig` (SIGTTIN for reads, SIGTTOU
/// for writes with TOSTOP and attribute changes) sent to its group and the call restarts;
/// EIO if its group is orphaned, or if it ignores or blocks SIGTTIN.
pub fn check_change(pty: &Arc<Pty>, sig: i32) -> Result<(), Errno> {
    let Some(tg) = signal::current_group() else {
        return Ok(());
    };
    let me = Member::of(&tg);
    if !me.owns(pty) {
        return Ok(());
    }
    let Some(fg) = pty.lock().pgrp else {
        return Ok(());
    };
    if fg == me.pgid {
        return Ok(());
    }
    if ignored(&tg, sig) {
        return if sig == libc::SIGTTIN {
            Err(Errno::EIO)
        } else {
            Ok(())
        };
    }
    let Some(k) = pty.kernel() else {
        return Ok(());
    };
    if orphaned(&k, me.pgid) {
        return Err(Errno::EIO);
    }
    kill_pgrp(&k, me.pgid, sig);
    Err(Errno::ERESTARTSYS)
}

/// Clears the controlling terminal of every process of session `sid` whose terminal is
/// `pty` (all of them if `pty` is None).
fn clear_session(k: &Kernel, sid: i32, pty: Option<&Arc<Pty>>) {
    for g in k.groups() {
        let mut st = g.lock();
        if st.sid != sid {
            continue;
        }
        let matches = match (&st.ctty, pty) {
            (Some(c), Some(p)) => Arc::ptr_eq(c, p),
            (Some(_), None) => true,
            (None, _) => false,
        };
        if matches {
            st.ctty = None;
        }
    }
}

/// The master of `pty`, the controlling terminal of session `sid`, is gone: the session's
/// processes lose it and the session leader gets SIGHUP and SIGCONT.
pub fn hangup_session(k: &Kernel, pty: &Arc<Pty>, sid: i32) {
    clear_session(k, sid, Some(pty));
    if let Some(leader) = k.group(sid) {
        let is_leader = {
            let st = leader.lock();
            st.sid == sid && st.exit_status.is_none()
        };
        if is_leader {
            send(&leader, libc::SIGHUP);
            send(&leader, libc::SIGCONT);
        }
    }
}

/// Makes `pty` the controlling terminal of `tg` (a session leader) and of its session.
pub fn set_ctty(tg: &ThreadGroup, me: &Member, pty: &Arc<Pty>) {
    {
        let mut st = pty.lock();
        st.session = Some(me.sid);
        st.pgrp = Some(me.pgid);
        pty.bump();
    }
    tg.lock().ctty = Some(pty.clone());
}

/// A slave opened without O_NOCTTY by a session leader that has no controlling terminal
/// becomes its controlling terminal, if no session has it.
pub fn maybe_acquire(tg: &ThreadGroup, pty: &Arc<Pty>) {
    let me = Member::of(tg);
    if !me.leader || me.ctty.is_some() || pty.lock().session.is_some() {
        return;
    }
    set_ctty(tg, &me, pty);
}

/// TIOCSCTTY.
pub fn tiocsctty(
    tg: &ThreadGroup,
    pty: &Arc<Pty>,
    readable: bool,
    steal: bool,
    privileged: bool,
) -> Result<(), Errno> {
    let me = Member::of(tg);
    let session = pty.lock().session;
    if me.leader && session == Some(me.sid) {
        return Ok(());
    }
    if !me.leader || me.ctty.is_some() {
        return Err(Errno::EPERM);
    }
    if let Some(other) = session {
        if !(steal && privileged) {
            return Err(Errno::EPERM);
        }
        if let Some(k) = pty.kernel() {
            clear_session(&k, other, Some(pty));
        }
    }
    if !readable && !privileged {
        return Err(Errno::EPERM);
    }
    set_ctty(tg, &me, pty);
    Ok(())
}

/// A session leader gives up its controlling terminal (TIOCNOTTY, or its exit): the
/// foreground group gets SIGHUP (and SIGCONT unless exiting) and the session loses the
/// terminal.
fn disassociate(k: &Kernel, tg: &ThreadGroup, on_exit: bool) {
    let me = Member::of(tg);
    if !me.leader {
        return;
    }
    if let Some(pty) = &me.ctty {
        let fg = {
            let mut st = pty.lock();
            let fg = st.pgrp.take();
            st.session = None;
            pty.bump();
            fg
        };
        if let Some(pg) = fg {
            let skip = on_exit.then_some(tg.tgid);
            kill_pgrp_but(k, pg, libc::SIGHUP, skip);
            if !on_exit {
                kill_pgrp(k, pg, libc::SIGCONT);
            }
        }
    }
    clear_session(k, me.sid, None);
}

/// TIOCNOTTY on `pty`.
pub fn tiocnotty(tg: &ThreadGroup, pty: &Arc<Pty>) -> Result<(), Errno> {
    if !Member::of(tg).owns(pty) {
        return Err(Errno::ENOTTY);
    }
    if let Some(k) = pty.kernel() {
        disassociate(&k, tg, false);
    }
    tg.lock().ctty = None;
    Ok(())
}

/// A process is gone: a session leader's session loses its terminal, and the process lets
/// go of its own.
pub fn process_exit(k: &Kernel, tg: &ThreadGroup) {
    disassociate(k, tg, true);
    tg.lock().ctty = None;
}

/// The session of the process group `pgid` names (TIOCSPGRP): of a member, else of the
/// process with that pid.
pub fn session_of_pgrp(k: &Kernel, pgid: i32) -> Option<i32> {
    let groups = k.groups();
    groups
        .iter()
        .find(|g| g.lock().pgid == pgid)
        .or_else(|| groups.iter().find(|g| g.tgid == pgid))
        .map(|g| g.lock().sid)
}
