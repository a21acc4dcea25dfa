//! The terminal ioctls of both ends of a pty. Requests on the master that are about the
//! terminal (attributes, window size, process groups) act on the slave, as on Linux; the
//! master has its own TIOCGPTN, TIOCSPTLCK, TIOCGPTLCK, TIOCGPTPEER, TIOCPKT, TIOCGPKT and
//! TIOCSIG. A hung-up slave answers EIO (ENOTTY for TIOCSPGRP).

use std::sync::Arc;

use super::ctl::{self, Member};
use super::ldisc::Effects;
use super::pty::{Pty, PTS_MAJOR};
use super::termios::{self, TERMIOS2_SIZE, TERMIOS_SIZE, TERMIO_SIZE};
use crate::errno::Errno;
use crate::fs::file::OpenFile;
use crate::kernel::Task;

const TCGETS: u64 = 0x5401;
const TCSETS: u64 = 0x5402;
const TCSETSW: u64 = 0x5403;
const TCSETSF: u64 = 0x5404;
const TCGETA: u64 = 0x5405;
const TCSETA: u64 = 0x5406;
const TCSETAW: u64 = 0x5407;
const TCSETAF: u64 = 0x5408;
const TCSBRK: u64 = 0x5409;
const TCXONC: u64 = 0x540a;
const TCFLSH: u64 = 0x540b;
const TIOCEXCL: u64 = 0x540c;
const TIOCNXCL: u64 = 0x540d;
const TIOCSCTTY: u64 = 0x540e;
const TIOCGPGRP: u64 = 0x540f;
const TIOCSPGRP: u64 = 0x5410;
const TIOCOUTQ: u64 = 0x5411;
const TIOCSTI: u64 = 0x5412;
const TIOCGWINSZ: u64 = 0x5413;
const TIOCSWINSZ: u64 = 0x5414;
const FIONREAD: u64 = 0x541b;
const TIOCPKT: u64 = 0x5420;
const TIOCNOTTY: u64 = 0x5422;
const TIOCSETD: u64 = 0x5423;
const TIOCGETD: u64 = 0x5424;
const TCSBRKP: u64 = 0x5425;
const TIOCSBRK: u64 = 0x5427;
const TIOCCBRK: u64 = 0x5428;
const TIOCGSID: u64 = 0x5429;
const TCGETS2: u64 = 0x802c_542a;
const TCSETS2: u64 = 0x402c_542b;
const TCSETSW2: u64 = 0x402c_542c;
const TCSETSF2: u64 = 0x402c_542d;
const TIOCGPTN: u64 = 0x8004_5430;
const TIOCSPTLCK: u64 = 0x4004_5431;
const TIOCGDEV: u64 = 0x8004_5432;
const TIOCSIG: u64 = 0x4004_5436;
const TIOCGPKT: u64 = 0x8004_5438;
const TIOCGPTLCK: u64 = 0x8004_5439;
const TIOCGEXCL: u64 = 0x8004_5440;
const TIOCGPTPEER: u64 = 0x5441;
const FIOASYNC: u64 = 0x5452;

fn read_int(t: &Task, arg: u64) -> Result<i32, Errno> {
    let mut b = [0u8; 4];
    t.read_mem(arg, &mut b)?;
    Ok(i32::from_le_bytes(b))
}

fn put(t: &Task, arg: u64, bytes: &[u8]) -> Result<u64, Errno> {
    t.write_mem(arg, bytes)?;
    Ok(0)
}

fn put_int(t: &Task, arg: u64, v: i32) -> Result<u64, Errno> {
    put(t, arg, &v.to_le_bytes())
}

/// Job control for a request that changes the terminal; on the master's own state it never
/// applies (the master is nobody's controlling terminal).
fn may_change(pty: &Arc<Pty>, applies: bool) -> Result<(), Errno> {
    if applies {
        ctl::check_change(pty, libc::SIGTTOU)
    } else {
        Ok(())
    }
}

/// TCSETS and friends: `size` bytes of `struct termios`, `termios2` or `termio`.
fn set_attrs(t: &Task, pty: &Arc<Pty>, arg: u64, size: usize, flush: bool) -> Result<u64, Errno> {
    ctl::check_change(pty, libc::SIGTTOU)?;
    let mut b = vec![0u8; size];
    t.read_mem(arg, &mut b)?;
    let cur = pty.lock().termios;
    let new = if size == TERMIO_SIZE {
        cur.from_termio(&b)
    } else {
        cur.from_bytes(&b)
    };
    pty.set_termios(new, flush);
    Ok(0)
}

/// Handles `req` on a master (`master`) or slave description `file` of `pty`.
pub fn ioctl(
    t: &mut Task,
    file: &Arc<OpenFile>,
    pty: &Arc<Pty>,
    master: bool,
    req: u64,
    arg: u64,
) -> Result<u64, Errno> {
    if !master && pty.lock().hung() {
        return Err(if req == TIOCSPGRP {
            Errno::ENOTTY
        } else {
            Errno::EIO
        });
    }
    let privileged = t.creds.has_cap(crate::kernel::creds::CAP_SYS_ADMIN);
    match req {
        TCGETS => {
            let b = pty.lock().termios.to_bytes();
            put(t, arg, &b)
        }
        TCGETS2 => {
            let b = pty.lock().termios.to_bytes2();
            put(t, arg, &b)
        }
        TCGETA => {
            let b = pty.lock().termios.to_termio();
            put(t, arg, &b)
        }
        TCSETS | TCSETSW => set_attrs(t, pty, arg, TERMIOS_SIZE, false),
        TCSETSF => set_attrs(t, pty, arg, TERMIOS_SIZE, true),
        TCSETS2 | TCSETSW2 => set_attrs(t, pty, arg, TERMIOS2_SIZE, false),
        TCSETSF2 => set_attrs(t, pty, arg, TERMIOS2_SIZE, true),
        TCSETA | TCSETAW => set_attrs(t, pty, arg, TERMIO_SIZE, false),
        TCSETAF => set_attrs(t, pty, arg, TERMIO_SIZE, true),
        TCSBRK | TCSBRKP => may_change(pty, !master).map(|_| 0),
        TIOCSBRK | TIOCCBRK => Ok(0),
        TCXONC => {
            may_change(pty, !master)?;
            flow(pty, master, arg)
        }
        TCFLSH => {
            may_change(pty, !master)?;
            // TCIFLUSH and TCIOFLUSH drop this end's input; TCOFLUSH has nothing to drop.
            let input = match arg {
                0 | 2 => true,
                1 => false,
                _ => return Err(Errno::EINVAL),
            };
            if input {
                pty.lock().flush_input(master);
                pty.bump();
            }
            Ok(0)
        }
        TIOCEXCL | TIOCNXCL => {
            if !master {
                pty.lock().excl = req == TIOCEXCL;
            }
            Ok(0)
        }
        TIOCGEXCL => {
            let excl = !master && pty.lock().excl;
            put_int(t, arg, i32::from(excl))
        }
        TIOCSCTTY => {
            let tg = t.tg.clone();
            ctl::tiocsctty(&tg, pty, file.readable(), arg == 1, privileged).map(|_| 0)
        }
        TIOCNOTTY => {
            if master {
                return Err(Errno::ENOTTY);
            }
            let tg = t.tg.clone();
            ctl::tiocnotty(&tg, pty).map(|_| 0)
        }
        TIOCGPGRP => {
            if !master && !Member::of(&t.tg).owns(pty) {
                return Err(Errno::ENOTTY);
            }
            let pg = pty.lock().pgrp.unwrap_or(0);
            put_int(t, arg, pg)
        }
        TIOCSPGRP => set_pgrp(t, pty, arg),
        TIOCGSID => {
            if !master && !Member::of(&t.tg).owns(pty) {
                return Err(Errno::ENOTTY);
            }
            let sid = pty.lock().session.ok_or(Errno::ENOTTY)?;
            put_int(t, arg, sid)
        }
        TIOCGWINSZ => {
            let ws = pty.lock().winsize;
            put(t, arg, &ws.0)
        }
        TIOCSWINSZ => {
            let mut ws = termios::Winsize::default();
            t.read_mem(arg, &mut ws.0)?;
            pty.set_winsize(ws);
            Ok(0)
        }
        FIONREAD => {
            let n = pty.lock().inq(master);
            put_int(t, arg, n as i32)
        }
        TIOCOUTQ => put_int(t, arg, 0),
        TIOCSTI => {
            // Like Linux with dev.tty.legacy_tiocsti off: only CAP_SYS_ADMIN may fake input.
            if !privileged {
                return Err(Errno::EIO);
            }
            let mut c = [0u8; 1];
            t.read_mem(arg, &mut c)?;
            let mut fx = Effects::default();
            let mut st = pty.lock();
            if master {
                st.to_master.push_back(c[0]);
            } else {
                st.inject(c[0], &mut fx);
            }
            pty.bump();
            let pgrp = st.pgrp;
            drop(st);
            pty.deliver(fx, pgrp);
            Ok(0)
        }
        TIOCGETD => put_int(t, arg, 0),
        TIOCSETD => match read_int(t, arg)? {
            0 => Ok(0),
            _ => Err(Errno::EINVAL),
        },
        TIOCGDEV => {
            let (ma, mi) = (PTS_MAJOR, pty.index);
            let enc = (mi & 0xff) | (ma << 8) | ((mi & !0xff) << 12);
            put(t, arg, &enc.to_le_bytes())
        }
        FIOASYNC => read_int(t, arg).map(|_| 0),
        TIOCGPTPEER if !master => Err(Errno::EIO),
        _ if master => master_ioctl(t, pty, req, arg),
        _ => Err(Errno::ENOTTY),
    }
}

/// TCXONC: TCOOFF/TCOON stop and restart the slave's output, TCIOFF/TCION send the STOP or
/// START character to the other end.
fn flow(pty: &Arc<Pty>, master: bool, arg: u64) -> Result<u64, Errno> {
    let mut fx = Effects::default();
    let mut st = pty.lock();
    match arg {
        0 if !master => {
            st.ldisc.tco_stopped = true;
            st.ldisc.stopped = true;
        }
        1 if !master => {
            if st.ldisc.tco_stopped {
                st.ldisc.tco_stopped = false;
                st.ldisc.stopped = false;
            }
        }
        0 | 1 => {}
        2 | 3 => {
            let c = st.termios.cc[if arg == 2 {
                termios::VSTOP
            } else {
                termios::VSTART
            }];
            if c != 0 {
                if master {
                    st.inject(c, &mut fx);
                } else {
                    st.to_master.push_back(c);
                }
            }
        }
        _ => return Err(Errno::EINVAL),
    }
    pty.bump();
    let pgrp = st.pgrp;
    drop(st);
    pty.deliver(fx, pgrp);
    Ok(0)
}

/// TIOCSPGRP: the caller's controlling terminal gets another foreground group of its
/// session.
fn set_pgrp(t: &Task, pty: &Arc<Pty>, arg: u64) -> Result<u64, Errno> {
    match ctl::check_change(pty, libc::SIGTTOU) {
        Err(Errno::EIO) => return Err(Errno::ENOTTY),
        Err(e) => return Err(e),
        Ok(()) => {}
    }
    let pg = read_int(t, arg)?;
    if pg < 0 {
        return Err(Errno::EINVAL);
    }
    let me = Member::of(&t.tg);
    if !me.owns(pty) || pty.lock().session != Some(me.sid) {
        return Err(Errno::ENOTTY);
    }
    let sid = ctl::session_of_pgrp(&t.kernel, pg).ok_or(Errno::ESRCH)?;
    if sid != me.sid {
        return Err(Errno::EPERM);
    }
    pty.lock().pgrp = Some(pg);
    pty.bump();
    Ok(0)
}

/// The master's own requests.
fn master_ioctl(t: &mut Task, pty: &Arc<Pty>, req: u64, arg: u64) -> Result<u64, Errno> {
    match req {
        TIOCGPTN => put_int(t, arg, pty.index as i32),
        TIOCSPTLCK => {
            let v = read_int(t, arg)?;
            pty.lock().locked = v != 0;
            Ok(0)
        }
        TIOCGPTLCK => {
            let locked = pty.lock().locked;
            put_int(t, arg, i32::from(locked))
        }
        TIOCPKT => {
            let v = read_int(t, arg)?;
            pty.lock().packet = v != 0;
            Ok(0)
        }
        TIOCGPKT => {
            let on = pty.lock().packet;
            put_int(t, arg, i32::from(on))
        }
        TIOCSIG => {
            let sig = arg as i32;
            if ![libc::SIGINT, libc::SIGQUIT, libc::SIGTSTP].contains(&sig) {
                return Err(Errno::EINVAL);
            }
            let fg = pty.lock().pgrp;
            if let (Some(pg), Some(k)) = (fg, pty.kernel()) {
                ctl::kill_pgrp(&k, pg, sig);
            }
            Ok(0)
        }
        TIOCGPTPEER => open_peer(t, pty, arg as u32),
        _ => Err(Errno::ENOTTY),
    }
}

/// TIOCGPTPEER: opens the slave with `flags` and returns the new descriptor.
fn open_peer(t: &mut Task, pty: &Arc<Pty>, flags: u32) -> Result<u64, Errno> {
    let slave = super::open_slave(t, pty, flags, false)?;
    let status = flags
        & !(libc::O_CLOEXEC | libc::O_CREAT | libc::O_EXCL | libc::O_NOCTTY | libc::O_TRUNC) as u32;
    let file = OpenFile::new(slave, status);
    let _ = file
        .path
        .set(format!("/dev/pts/{}", pty.index).into_bytes());
    let cloexec = flags & libc::O_CLOEXEC as u32 != 0;
    t.fds().insert(file, cloexec, 0).map(|fd| fd as u64)
}
