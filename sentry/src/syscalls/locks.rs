//! flock(2) and the record-lock commands of fcntl(2) (F_GETLK, F_SETLK, F_SETLKW and their
//! OFD forms); the locks themselves live in `fs::lock`.

use std::sync::Arc;

use crate::errno::{Errno, SysResult};
use crate::fs::lock::{self, LockType, Owner, OFFSET_MAX};
use crate::fs::OpenFile;
use crate::kernel::Task;

const LOCK_SH: u32 = 1;
const LOCK_EX: u32 = 2;
const LOCK_NB: u32 = 4;
const LOCK_UN: u32 = 8;
/// Mandatory flock locks: ignored (and successful) since Linux 5.15.
const LOCK_MAND: u32 = 32;

pub const F_GETLK: i32 = 5;
pub const F_SETLK: i32 = 6;
pub const F_SETLKW: i32 = 7;
pub const F_OFD_GETLK: i32 = 36;
pub const F_OFD_SETLK: i32 = 37;
pub const F_OFD_SETLKW: i32 = 38;

const F_RDLCK: i16 = 0;
const F_WRLCK: i16 = 1;
const F_UNLCK: i16 = 2;

/// Size of x86-64 `struct flock`.
const FLOCK_SIZE: usize = 32;

pub fn flock(t: &mut Task, a: [u64; 6]) -> SysResult {
    let cmd = a[1] as u32;
    if cmd & LOCK_MAND != 0 {
        return Ok(0);
    }
    // The operation is checked before the descriptor, as Linux does.
    let ty = match cmd & !LOCK_NB {
        LOCK_SH => Some(LockType::Read),
        LOCK_EX => Some(LockType::Write),
        LOCK_UN => None,
        _ => return Err(Errno::EINVAL),
    };
    let f = t.fds().get(a[0] as i32)?;
    if f.flags() & libc::O_PATH as u32 != 0 {
        return Err(Errno::EBADF);
    }
    if ty.is_some() && !f.readable() && !f.writable() {
        return Err(Errno::EBADF);
    }
    lock::flock(&f, ty, cmd & LOCK_NB == 0)?;
    Ok(0)
}

/// The fields of `struct flock`.
struct Flock {
    ty: i16,
    whence: i16,
    start: i64,
    len: i64,
    pid: i32,
}

impl Flock {
    fn parse(b: &[u8; FLOCK_SIZE]) -> Flock {
        let i16_at = |o: usize| i16::from_le_bytes([b[o], b[o + 1]]);
        let i64_at = |o: usize| {
            let mut v = [0u8; 8];
            v.copy_from_slice(&b[o..o + 8]);
            i64::from_le_bytes(v)
        };
        let mut p = [0u8; 4];
        p.copy_from_slice(&b[24..28]);
        Flock {
            ty: i16_at(0),
            whence: i16_at(2),
            start: i64_at(8),
            len: i64_at(16),
            pid: i32::from_le_bytes(p),
        }
    }
}

/// The byte range `[start, end]` a `struct flock` names (Linux's flock64_to_posix_lock).
fn range(f: &OpenFile, l: &Flock) -> Result<(i64, i64), Errno> {
    let clamp = |v: u64| v.min(OFFSET_MAX as u64) as i64;
    let base = match l.whence as i32 {
        libc::SEEK_SET => 0,
        libc::SEEK_CUR => clamp(*f.offset.lock().unwrap_or_else(|e| e.into_inner())),
        libc::SEEK_END => clamp(f.ops.size()?),
        _ => return Err(Errno::EINVAL),
    };
    if l.start > OFFSET_MAX - base {
        return Err(Errno::EOVERFLOW);
    }
    // base >= 0: no overflow either way.
    let start = base + l.start;
    if start < 0 {
        return Err(Errno::EINVAL);
    }
    if l.len > 0 {
        if l.len - 1 > OFFSET_MAX - start {
            return Err(Errno::EOVERFLOW);
        }
        Ok((start, start + (l.len - 1)))
    } else if l.len < 0 {
        // start >= 0 and len < 0: no overflow.
        if start + l.len < 0 {
            return Err(Errno::EINVAL);
        }
        Ok((start + l.len, start - 1))
    } else {
        Ok((start, OFFSET_MAX))
    }
}

fn lock_type(ty: i16) -> Result<Option<LockType>, Errno> {
    match ty {
        F_RDLCK => Ok(Some(LockType::Read)),
        F_WRLCK => Ok(Some(LockType::Write)),
        F_UNLCK => Ok(None),
        _ => Err(Errno::EINVAL),
    }
}

/// fcntl(fd, cmd, struct flock *) for the lock commands. The caller must not hold the
/// descriptor table: F_SETLKW sleeps.
pub fn fcntl(t: &Task, f: &Arc<OpenFile>, cmd: i32, arg: u64) -> SysResult {
    if f.flags() & libc::O_PATH as u32 != 0 {
        return Err(Errno::EBADF);
    }
    let mut raw = [0u8; FLOCK_SIZE];
    t.read_mem(arg, &mut raw)?;
    let l = Flock::parse(&raw);
    let ofd = matches!(cmd, F_OFD_GETLK | F_OFD_SETLK | F_OFD_SETLKW);
    let owner = if ofd {
        Owner::description(f)
    } else {
        Owner::Process(t.tg.tgid)
    };
    if cmd == F_GETLK || cmd == F_OFD_GETLK {
        // F_UNLCK asks F_OFD_GETLK for the description's own locks (Linux 6.6+).
        if l.ty == F_UNLCK && !ofd {
            return Err(Errno::EINVAL);
        }
        let ty = lock_type(l.ty)?;
        let (start, end) = range(f, &l)?;
        if ofd && l.pid != 0 {
            return Err(Errno::EINVAL);
        }
        match lock::test(f, owner, start, end, ty)? {
            // Only l_type changes when nothing conflicts.
            None => raw[0..2].copy_from_slice(&F_UNLCK.to_le_bytes()),
            Some(c) => {
                let ty = match c.ty {
                    LockType::Read => F_RDLCK,
                    LockType::Write => F_WRLCK,
                };
                let len = if c.end == OFFSET_MAX {
                    0
                } else {
                    c.end - c.start + 1
                };
                let pid = match c.owner {
                    Owner::Process(_) => c.pid,
                    Owner::Description(_) => -1,
                };
                raw[0..2].copy_from_slice(&ty.to_le_bytes());
                raw[2..4].copy_from_slice(&(libc::SEEK_SET as i16).to_le_bytes());
                raw[8..16].copy_from_slice(&c.start.to_le_bytes());
                raw[16..24].copy_from_slice(&len.to_le_bytes());
                raw[24..28].copy_from_slice(&pid.to_le_bytes());
            }
        }
        t.write_mem(arg, &raw)?;
        return Ok(0);
    }
    let range = range(f, &l)?;
    let ty = lock_type(l.ty)?;
    match ty {
        Some(LockType::Read) if !f.readable() => return Err(Errno::EBADF),
        Some(LockType::Write) if !f.writable() => return Err(Errno::EBADF),
        _ => {}
    }
    if ofd && l.pid != 0 {
        return Err(Errno::EINVAL);
    }
    let wait = cmd == F_SETLKW || cmd == F_OFD_SETLKW;
    lock::set_range(f, owner, t.tg.tgid, range, ty, wait)?;
    Ok(0)
}
