//! The getuid and setuid families, inside the sandbox.

use crate::errno::{Errno, SysResult};
use crate::kernel::caps;
use crate::kernel::creds::{Credentials, CAP_SETGID, CAP_SETUID};
use crate::kernel::Task;

/// Publishes the caller's credentials to its process (kill permission checks, /proc and
/// `fs::perm::current` read them).
pub(super) fn sync(t: &Task) {
    t.tg.lock().creds = t.creds.clone();
}

/// -1 as an id argument: leave unchanged.
const KEEP: u32 = u32::MAX;

/// Whether `id` (a user id, or a group id with `group`) has a mapping in the sandbox's user
/// namespace (every id but -1 without one): EINVAL otherwise, as Linux's set*id calls answer
/// before they look at permissions.
fn check_mapped(t: &Task, ids: &[u32], group: bool) -> Result<(), Errno> {
    let map = t.kernel.ids.of(group);
    if ids.iter().all(|&id| id == KEEP || map.covers(id)) {
        Ok(())
    } else {
        Err(Errno::EINVAL)
    }
}

pub fn getresuid(t: &mut Task, a: [u64; 6], group: bool) -> SysResult {
    for (i, id) in ids(&t.creds, group).iter().enumerate() {
        t.write_mem(a[i], &id.to_le_bytes())?;
    }
    Ok(0)
}

/// The capability that lets a caller pick any user id (CAP_SETUID) or group id (CAP_SETGID).
fn set_cap(group: bool) -> u32 {
    if group {
        CAP_SETGID
    } else {
        CAP_SETUID
    }
}

/// Installs real, effective and saved ids (the filesystem id follows the effective one),
/// with the capability changes of leaving or reaching uid 0.
fn install(t: &mut Task, ids: [u32; 3], group: bool) {
    let old = t.creds.clone();
    let c = &mut t.creds;
    if group {
        (c.rgid, c.egid, c.sgid, c.fsgid) = (ids[0], ids[1], ids[2], ids[1]);
    } else {
        (c.ruid, c.euid, c.suid, c.fsuid) = (ids[0], ids[1], ids[2], ids[1]);
        caps::fix_setuid(&old, c);
    }
    sync(t);
}

/// The real, effective and saved ids (user or group).
fn ids(c: &Credentials, group: bool) -> [u32; 3] {
    if group {
        [c.rgid, c.egid, c.sgid]
    } else {
        [c.ruid, c.euid, c.suid]
    }
}

/// setresuid/setresgid: without CAP_SETUID (CAP_SETGID) callers may only pick among their
/// current ids.
pub fn setres(t: &mut Task, r: u32, e: u32, s: u32, group: bool) -> SysResult {
    check_mapped(t, &[r, e, s], group)?;
    let c = &t.creds;
    let cur = ids(c, group);
    if !c.has_cap(set_cap(group)) {
        for id in [r, e, s] {
            if id != KEEP && !cur.contains(&id) {
                return Err(Errno::EPERM);
            }
        }
    }
    let fs = if group { c.fsgid } else { c.fsuid };
    let same = |new: u32, old: u32| new == KEEP || new == old;
    if same(r, cur[0]) && same(e, cur[1]) && (e == KEEP || e == fs) && same(s, cur[2]) {
        return Ok(0);
    }
    let pick = |new: u32, old: u32| if new == KEEP { old } else { new };
    install(
        t,
        [pick(r, cur[0]), pick(e, cur[1]), pick(s, cur[2])],
        group,
    );
    Ok(0)
}

/// setuid/setgid: with CAP_SETUID (CAP_SETGID) sets real, effective and saved ids; else
/// only the effective id, to the real or saved one.
pub fn setid(t: &mut Task, id: u32, group: bool) -> SysResult {
    if id == KEEP {
        return Err(Errno::EINVAL);
    }
    check_mapped(t, &[id], group)?;
    let cur = ids(&t.creds, group);
    if t.creds.has_cap(set_cap(group)) {
        install(t, [id, id, id], group);
        return Ok(0);
    }
    if id != cur[0] && id != cur[2] {
        return Err(Errno::EPERM);
    }
    install(t, [cur[0], id, cur[2]], group);
    Ok(0)
}

/// setreuid/setregid.
pub fn setre(t: &mut Task, r: u32, e: u32, group: bool) -> SysResult {
    check_mapped(t, &[r, e], group)?;
    let c = &t.creds;
    let [cr, ce, cs] = ids(c, group);
    if !c.has_cap(set_cap(group)) {
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
    install(t, [new_r, new_e, new_s], group);
    Ok(0)
}

/// setfsuid/setfsgid: returns the previous value; changes only to one of the real,
/// effective, saved or filesystem ids, or to any with CAP_SETUID (CAP_SETGID). The
/// filesystem capabilities follow the filesystem uid in and out of 0.
pub fn setfs(t: &mut Task, id: u32, group: bool) -> SysResult {
    let c = &t.creds;
    let (old, allowed) = if group {
        (c.fsgid, [c.rgid, c.egid, c.sgid, c.fsgid])
    } else {
        (c.fsuid, [c.ruid, c.euid, c.suid, c.fsuid])
    };
    let valid = check_mapped(t, &[id], group).is_ok();
    if valid && id != KEEP && id != old && (c.has_cap(set_cap(group)) || allowed.contains(&id)) {
        if group {
            t.creds.fsgid = id;
        } else {
            t.creds.fsuid = id;
            caps::fix_setfsuid(old, &mut t.creds);
        }
        sync(t);
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
    if !t.creds.has_cap(CAP_SETGID) {
        return Err(Errno::EPERM);
    }
    let mut b = vec![0u8; a[0] as usize * 4];
    t.read_mem(a[1], &mut b)?;
    let groups: Vec<u32> = b
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes(c.try_into().unwrap_or_default()))
        .collect();
    if groups.iter().any(|&g| !t.kernel.ids.gid.covers(g)) {
        return Err(Errno::EINVAL);
    }
    t.creds.groups = groups;
    sync(t);
    Ok(0)
}
