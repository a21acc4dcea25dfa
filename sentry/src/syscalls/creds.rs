//! The getuid and setuid families, inside the sandbox.

use crate::errno::{Errno, SysResult};
use crate::kernel::Task;

/// Publishes the caller's credentials to its process (kill permission checks read them).
fn sync(t: &Task) {
    t.tg.lock().creds = t.creds.clone();
}

/// -1 as an id argument: leave unchanged.
const KEEP: u32 = u32::MAX;

pub fn getresuid(t: &mut Task, a: [u64; 6], group: bool) -> SysResult {
    let c = &t.creds;
    let ids = if group {
        [c.rgid, c.egid, c.sgid]
    } else {
        [c.ruid, c.euid, c.suid]
    };
    for (i, id) in ids.iter().enumerate() {
        t.write_mem(a[i], &id.to_le_bytes())?;
    }
    Ok(0)
}

/// setresuid/setresgid: unprivileged callers may only pick among their current ids.
pub fn setres(t: &mut Task, r: u32, e: u32, s: u32, group: bool) -> SysResult {
    let c = &t.creds;
    let cur = if group {
        [c.rgid, c.egid, c.sgid]
    } else {
        [c.ruid, c.euid, c.suid]
    };
    if !c.privileged() {
        for id in [r, e, s] {
            if id != KEEP && !cur.contains(&id) {
                return Err(Errno::EPERM);
            }
        }
    }
    let pick = |new: u32, old: u32| if new == KEEP { old } else { new };
    let (nr, ne, ns) = (pick(r, cur[0]), pick(e, cur[1]), pick(s, cur[2]));
    let c = &mut t.creds;
    if group {
        (c.rgid, c.egid, c.sgid, c.fsgid) = (nr, ne, ns, ne);
    } else {
        (c.ruid, c.euid, c.suid, c.fsuid) = (nr, ne, ns, ne);
    }
    sync(t);
    Ok(0)
}

/// setuid/setgid: privileged sets all three, else only the effective id to real or saved.
pub fn setid(t: &mut Task, id: u32, group: bool) -> SysResult {
    if id == KEEP {
        return Err(Errno::EINVAL);
    }
    if t.creds.privileged() {
        return setres(t, id, id, id, group);
    }
    setres(t, KEEP, id, KEEP, group)
}

/// setreuid/setregid.
pub fn setre(t: &mut Task, r: u32, e: u32, group: bool) -> SysResult {
    let c = &t.creds;
    let (cr, ce, cs) = if group {
        (c.rgid, c.egid, c.sgid)
    } else {
        (c.ruid, c.euid, c.suid)
    };
    if !c.privileged() {
        if r != KEEP && r != cr && r != ce {
            return Err(Errno::EPERM);
        }
        if e != KEEP && e != cr && e != ce && e != cs {
            return Err(Errno::EPERM);
        }
    }
    let new_r = if r == KEEP { cr } else { r };
    let new_e = if e == KEEP { ce } else { e };
    // The saved id follows the effective one when the real id is set or the effective id
    // moves away from the real one.
    let new_s = if r != KEEP || (e != KEEP && new_e != cr) {
        new_e
    } else {
        cs
    };
    let c = &mut t.creds;
    if group {
        (c.rgid, c.egid, c.sgid, c.fsgid) = (new_r, new_e, new_s, new_e);
    } else {
        (c.ruid, c.euid, c.suid, c.fsuid) = (new_r, new_e, new_s, new_e);
    }
    sync(t);
    Ok(0)
}

/// setfsuid/setfsgid: returns the previous value; changes only to an allowed id.
pub fn setfs(t: &mut Task, id: u32, group: bool) -> SysResult {
    let c = &t.creds;
    let (old, allowed) = if group {
        (c.fsgid, [c.rgid, c.egid, c.sgid, c.fsgid])
    } else {
        (c.fsuid, [c.ruid, c.euid, c.suid, c.fsuid])
    };
    if id != KEEP && (c.privileged() || allowed.contains(&id)) {
        if group {
            t.creds.fsgid = id;
        } else {
            t.creds.fsuid = id;
        }
    }
    Ok(old as u64)
}

pub fn getgroups(t: &mut Task, a: [u64; 6]) -> SysResult {
    let n = a[0] as i32;
    let g = t.creds.groups.clone();
    if n < 0 {
        return Err(Errno::EINVAL);
    }
    if n == 0 {
        return Ok(g.len() as u64);
    }
    if (n as usize) < g.len() {
        return Err(Errno::EINVAL);
    }
    let bytes: Vec<u8> = g.iter().flat_map(|x| x.to_le_bytes()).collect();
    t.write_mem(a[1], &bytes)?;
    Ok(g.len() as u64)
}

pub fn setgroups(t: &mut Task, a: [u64; 6]) -> SysResult {
    const NGROUPS_MAX: u64 = 65536;
    if a[0] > NGROUPS_MAX {
        return Err(Errno::EINVAL);
    }
    if !t.creds.privileged() {
        return Err(Errno::EPERM);
    }
    let mut b = vec![0u8; a[0] as usize * 4];
    t.read_mem(a[1], &mut b)?;
    t.creds.groups = b
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes(c.try_into().unwrap_or_default()))
        .collect();
    sync(t);
    Ok(0)
}
