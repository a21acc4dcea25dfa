//! How capability sets change (capabilities(7), credentials(7)): the set*id calls
//! (`fix_setuid`, `fix_setfsuid`), capset(2), the capability options of prctl(2), and
//! execve (`exec`, with set-user-ID and set-group-ID executables). Linux's
//! security/commoncap.c, for a kernel without file capabilities: an executable brings
//! capabilities only through root's rules (euid or ruid 0, unless SECBIT_NOROOT).

use super::creds::{
    cap_bit, Capabilities, Credentials, ALL_CAPS, CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH,
    CAP_FOWNER, CAP_FSETID, CAP_LAST_CAP, CAP_LINUX_IMMUTABLE, CAP_MAC_OVERRIDE, CAP_MKNOD,
    CAP_SETPCAP, SECBIT_KEEP_CAPS, SECBIT_NOROOT, SECBIT_NO_CAP_AMBIENT_RAISE,
    SECBIT_NO_SETUID_FIXUP, SECURE_ALL_BITS, SECURE_ALL_LOCKS,
};
use crate::errno::Errno;

/// The capabilities a filesystem uid of 0 stands for (Linux's CAP_FS_MASK): leaving fsuid
/// 0 drops them from the effective set, coming back raises the permitted ones.
pub const FS_CAPS: u64 = cap_bit(CAP_CHOWN)
    | cap_bit(CAP_DAC_OVERRIDE)
    | cap_bit(CAP_DAC_READ_SEARCH)
    | cap_bit(CAP_FOWNER)
    | cap_bit(CAP_FSETID)
    | cap_bit(CAP_LINUX_IMMUTABLE)
    | cap_bit(CAP_MAC_OVERRIDE)
    | cap_bit(CAP_MKNOD);

/// The capability sets after setuid, setreuid or setresuid moved the user ids from `old`
/// to `new` (cap_emulate_setxuid): leaving uid 0 in all of real, effective and saved clears
/// permitted and effective (permitted stays with SECBIT_KEEP_CAPS) and ambient; an euid
/// leaving 0 clears effective; an euid reaching 0 makes effective the permitted set.
pub fn fix_setuid(old: &Credentials, new: &mut Credentials) {
    if old.securebits & SECBIT_NO_SETUID_FIXUP != 0 {
        return;
    }
    let had_root = old.ruid == 0 || old.euid == 0 || old.suid == 0;
    let has_root = new.ruid == 0 || new.euid == 0 || new.suid == 0;
    if had_root && !has_root {
        if !old.keepcaps() {
            new.caps.permitted = 0;
            new.caps.effective = 0;
        }
        new.caps.ambient = 0;
    }
    if old.euid == 0 && new.euid != 0 {
        new.caps.effective = 0;
    }
    if old.euid != 0 && new.euid == 0 {
        new.caps.effective = new.caps.permitted;
    }
}

/// The effective set after setfsuid moved the filesystem uid from `old_fsuid` to
/// `new.fsuid`: leaving 0 drops the filesystem capabilities, reaching 0 raises those that
/// are permitted.
pub fn fix_setfsuid(old_fsuid: u32, new: &mut Credentials) {
    if new.securebits & SECBIT_NO_SETUID_FIXUP != 0 {
        return;
    }
    if old_fsuid == 0 && new.fsuid != 0 {
        new.caps.effective &= !FS_CAPS;
    }
    if old_fsuid != 0 && new.fsuid == 0 {
        new.caps.effective |= new.caps.permitted & FS_CAPS;
    }
}

/// The credentials access(2) checks with (access_override_creds): the real ids as the
/// filesystem ids; the permitted capabilities effective for real uid 0, none for others
/// (unless SECBIT_NO_SETUID_FIXUP).
pub fn access_creds(c: &Credentials) -> Credentials {
    let mut a = c.clone();
    a.fsuid = c.ruid;
    a.fsgid = c.rgid;
    if c.securebits & SECBIT_NO_SETUID_FIXUP == 0 {
        a.caps.effective = if c.ruid == 0 { c.caps.permitted } else { 0 };
    }
    a
}

/// capset(2) on the caller's own sets: the new permitted set within the old one, effective
/// within the new permitted, inheritable within the old inheritable and the bounding set
/// and, without CAP_SETPCAP, within the old inheritable and permitted (EPERM otherwise).
/// Ambient capabilities no longer both permitted and inheritable go.
pub fn capset(
    c: &mut Credentials,
    effective: u64,
    permitted: u64,
    inheritable: u64,
) -> Result<(), Errno> {
    let (e, p, i) = (
        effective & ALL_CAPS,
        permitted & ALL_CAPS,
        inheritable & ALL_CAPS,
    );
    let old = c.caps;
    if !c.has_cap(CAP_SETPCAP) && i & !(old.inheritable | old.permitted) != 0 {
        return Err(Errno::EPERM);
    }
    if i & !(old.inheritable | old.bounding) != 0 || p & !old.permitted != 0 || e & !p != 0 {
        return Err(Errno::EPERM);
    }
    c.caps.effective = e;
    c.caps.permitted = p;
    c.caps.inheritable = i;
    c.caps.ambient &= p & i;
    Ok(())
}

/// The capability `arg` names, or EINVAL.
fn valid(arg: u64) -> Result<u64, Errno> {
    if arg > CAP_LAST_CAP as u64 {
        return Err(Errno::EINVAL);
    }
    Ok(cap_bit(arg as u32))
}

const PR_CAP_AMBIENT_IS_SET: u64 = 1;
const PR_CAP_AMBIENT_RAISE: u64 = 2;
const PR_CAP_AMBIENT_LOWER: u64 = 3;
const PR_CAP_AMBIENT_CLEAR_ALL: u64 = 4;

/// The prctl(2) options about capabilities, on the caller's credentials `c`: `a` are the
/// syscall's arguments (option first). None for another option. PR_CAPBSET_READ and
/// PR_CAPBSET_DROP (CAP_SETPCAP), PR_CAP_AMBIENT (IS_SET, RAISE of a capability both
/// permitted and inheritable, LOWER, CLEAR_ALL), PR_GET/SET_KEEPCAPS, PR_GET/SET_SECUREBITS
/// (CAP_SETPCAP; locked bits stay).
pub fn prctl(c: &mut Credentials, a: [u64; 6]) -> Option<Result<u64, Errno>> {
    Some(match a[0] as i32 {
        libc::PR_CAPBSET_READ => valid(a[1]).map(|b| u64::from(c.caps.bounding & b != 0)),
        libc::PR_CAPBSET_DROP => {
            if !c.has_cap(CAP_SETPCAP) {
                return Some(Err(Errno::EPERM));
            }
            valid(a[1]).map(|b| {
                c.caps.bounding &= !b;
                0
            })
        }
        libc::PR_CAP_AMBIENT => ambient(c, a),
        libc::PR_GET_KEEPCAPS => Ok(u64::from(c.keepcaps())),
        libc::PR_SET_KEEPCAPS => {
            if a[1] > 1 {
                return Some(Err(Errno::EINVAL));
            }
            if c.securebits & (SECBIT_KEEP_CAPS << 1) != 0 {
                return Some(Err(Errno::EPERM));
            }
            if a[1] == 1 {
                c.securebits |= SECBIT_KEEP_CAPS;
            } else {
                c.securebits &= !SECBIT_KEEP_CAPS;
            }
            Ok(0)
        }
        libc::PR_GET_SECUREBITS => Ok(u64::from(c.securebits)),
        libc::PR_SET_SECUREBITS => {
            let old = c.securebits as u64;
            let new = a[1];
            let locks = old & SECURE_ALL_LOCKS as u64;
            // No change of a locked bit, no unlocking, no unknown bit, and CAP_SETPCAP.
            if (locks >> 1) & (old ^ new) != 0
                || locks & !new != 0
                || new & !((SECURE_ALL_BITS | SECURE_ALL_LOCKS) as u64) != 0
                || !c.has_cap(CAP_SETPCAP)
            {
                return Some(Err(Errno::EPERM));
            }
            c.securebits = new as u32;
            Ok(0)
        }
        _ => return None,
    })
}

/// prctl(PR_CAP_AMBIENT, op, cap, 0, 0).
fn ambient(c: &mut Credentials, a: [u64; 6]) -> Result<u64, Errno> {
    if a[1] == PR_CAP_AMBIENT_CLEAR_ALL {
        if a[2] | a[3] | a[4] != 0 {
            return Err(Errno::EINVAL);
        }
        c.caps.ambient = 0;
        return Ok(0);
    }
    if a[3] | a[4] != 0 {
        return Err(Errno::EINVAL);
    }
    let bit = valid(a[2])?;
    match a[1] {
        PR_CAP_AMBIENT_IS_SET => Ok(u64::from(c.caps.ambient & bit != 0)),
        PR_CAP_AMBIENT_RAISE => {
            if c.caps.permitted & bit == 0
                || c.caps.inheritable & bit == 0
                || c.securebits & SECBIT_NO_CAP_AMBIENT_RAISE != 0
            {
                return Err(Errno::EPERM);
            }
            c.caps.ambient |= bit;
            Ok(0)
        }
        PR_CAP_AMBIENT_LOWER => {
            c.caps.ambient &= !bit;
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

/// The credentials of a container's first process that runs as `uid`, `gid` and `groups`
/// with the capability sets `caps` of its spec: what runc's setup (the sets given, ambient
/// ones only where permitted and inheritable, then the ids) followed by the execve of a
/// plain program leaves (`exec`). Root gets the bounding set (with the inheritable one)
/// permitted and effective; another user keeps only the ambient set, in permitted and
/// effective.
pub fn first_process(uid: u32, gid: u32, groups: Vec<u32>, caps: Capabilities) -> Credentials {
    let mut c = Credentials::new(uid, gid, groups, caps);
    c.caps.ambient &= c.caps.permitted & c.caps.inheritable;
    let plain = ExecFile {
        mode: libc::S_IFREG | 0o755,
        ..ExecFile::default()
    };
    exec(&c, &plain, false).0
}

/// What execve needs to know of the executable for the credentials.
#[derive(Clone, Copy, Debug, Default)]
pub struct ExecFile {
    pub uid: u32,
    pub gid: u32,
    /// Type and permission bits (S_ISUID, S_ISGID, S_IXGRP matter).
    pub mode: u32,
    /// On a MS_NOSUID mount: its set-id bits are ignored.
    pub nosuid: bool,
}

/// The credentials of a task after it executes `file` with credentials `old`
/// (bprm_fill_uid, cap_bprm_creds_from_file), and whether the execution is "secure"
/// (AT_SECURE: the ids or capabilities grew).
///
/// - A set-user-ID file makes its owner the effective uid, a set-group-ID file with group
///   execute its group the effective gid, except on a nosuid mount, with no_new_privs, or
///   when the file's owner or group has no mapping in the sandbox's user namespace.
/// - Root's rules (unless SECBIT_NOROOT): with euid or ruid 0 the new permitted set is the
///   bounding set with the inheritable one; with euid 0 it is all effective.
/// - Otherwise the permitted set is the ambient set, and so is the effective one. A change
///   of ids clears the ambient set.
/// - With no_new_privs the ids stay and the permitted set does not grow.
/// - The saved and filesystem ids become the effective ones; SECBIT_KEEP_CAPS is cleared.
pub fn exec(old: &Credentials, file: &ExecFile, no_new_privs: bool) -> (Credentials, bool) {
    let mut new = old.clone();
    let mapped = file.uid != gofer::idmap::NO_ID && file.gid != gofer::idmap::NO_ID;
    if !file.nosuid && !no_new_privs && mapped {
        if file.mode & libc::S_ISUID != 0 {
            new.euid = file.uid;
        }
        let sgid = libc::S_ISGID | libc::S_IXGRP;
        if file.mode & sgid == sgid {
            new.egid = file.gid;
        }
    }
    let mut permitted = 0;
    let mut effective = false;
    if old.securebits & SECBIT_NOROOT == 0 {
        if new.euid == 0 || new.ruid == 0 {
            permitted = old.caps.bounding | old.caps.inheritable;
        }
        effective = new.euid == 0;
    }
    new.caps.permitted = permitted;
    let in_group = new.egid == old.fsgid || old.groups.contains(&new.egid);
    let id_changed = new.euid != old.euid || !in_group;
    let gained = permitted & !old.caps.permitted != 0;
    if (id_changed || gained) && no_new_privs {
        new.euid = new.ruid;
        new.egid = new.rgid;
        new.caps.permitted &= old.caps.permitted;
    }
    new.suid = new.euid;
    new.fsuid = new.euid;
    new.sgid = new.egid;
    new.fsgid = new.egid;
    if id_changed {
        new.caps.ambient = 0;
    }
    new.caps.permitted |= new.caps.ambient;
    new.caps.effective = if effective {
        new.caps.permitted
    } else {
        new.caps.ambient
    };
    new.securebits &= !SECBIT_KEEP_CAPS;
    let secure = id_changed
        || new.euid != new.ruid
        || new.egid != new.rgid
        || (new.ruid != 0 && (effective || new.caps.permitted & !new.caps.ambient != 0));
    (new, secure)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::creds::{CAP_KILL, CAP_NET_RAW, CAP_SETUID, CAP_SYS_ADMIN};

    fn root() -> Credentials {
        Credentials::default()
    }

    fn setres(c: &Credentials, r: u32, e: u32, s: u32) -> Credentials {
        let mut n = c.clone();
        (n.ruid, n.euid, n.suid, n.fsuid) = (r, e, s, e);
        fix_setuid(c, &mut n);
        n
    }

    #[test]
    fn uid_changes() {
        let r = root();
        let u = setres(&r, 1000, 1000, 1000);
        assert_eq!((u.caps.permitted, u.caps.effective), (0, 0));
        assert_eq!(u.caps.bounding, ALL_CAPS);
        // The saved uid keeps root: permitted stays, effective goes, and comes back.
        let s = setres(&r, 1000, 1000, 0);
        assert_eq!((s.caps.permitted, s.caps.effective), (ALL_CAPS, 0));
        let back = setres(&s, 1000, 0, 0);
        assert_eq!(back.caps.effective, ALL_CAPS);
        // Keepcaps: permitted survives, effective does not.
        let mut k = root();
        k.securebits |= SECBIT_KEEP_CAPS;
        k.caps.inheritable = cap_bit(CAP_NET_RAW);
        k.caps.ambient = cap_bit(CAP_NET_RAW);
        let u = setres(&k, 1000, 1000, 1000);
        assert_eq!(
            (u.caps.permitted, u.caps.effective, u.caps.ambient),
            (ALL_CAPS, 0, 0)
        );
        // The filesystem uid.
        let mut f = root();
        f.fsuid = 1000;
        fix_setfsuid(0, &mut f);
        assert!(!f.has_cap(CAP_DAC_OVERRIDE) && f.has_cap(CAP_KILL));
        f.fsuid = 0;
        fix_setfsuid(1000, &mut f);
        assert_eq!(f.caps.effective, ALL_CAPS);
    }

    #[test]
    fn capset_rules() {
        let mut c = root();
        let kill = cap_bit(CAP_KILL);
        assert_eq!(capset(&mut c, kill, kill, 0), Ok(()));
        assert_eq!(capset(&mut c, kill, ALL_CAPS, 0), Err(Errno::EPERM));
        assert_eq!(
            capset(&mut c, cap_bit(CAP_SETUID), kill, 0),
            Err(Errno::EPERM)
        );
        // Without CAP_SETPCAP, inheritable stays within permitted.
        assert_eq!(
            capset(&mut c, kill, kill, cap_bit(CAP_NET_RAW)),
            Err(Errno::EPERM)
        );
        assert_eq!(capset(&mut c, kill, kill, kill), Ok(()));
        // With it, inheritable stays within the bounding set.
        let mut c = root();
        c.caps.bounding &= !kill;
        assert_eq!(capset(&mut c, ALL_CAPS, ALL_CAPS, kill), Err(Errno::EPERM));
        let raw = cap_bit(CAP_NET_RAW);
        assert_eq!(capset(&mut c, ALL_CAPS, ALL_CAPS, raw), Ok(()));
        c.caps.ambient = raw;
        assert_eq!(capset(&mut c, 0, 0, raw), Ok(()));
        assert_eq!(c.caps.ambient, 0);
    }

    fn pr(c: &mut Credentials, a: [u64; 5]) -> Result<u64, Errno> {
        prctl(c, [a[0], a[1], a[2], a[3], a[4], 0]).unwrap_or(Err(Errno::ENOSYS))
    }

    #[test]
    fn prctl_options() {
        let mut c = root();
        let (read, drop) = (libc::PR_CAPBSET_READ as u64, libc::PR_CAPBSET_DROP as u64);
        let amb = libc::PR_CAP_AMBIENT as u64;
        assert_eq!(pr(&mut c, [read, CAP_SYS_ADMIN as u64, 0, 0, 0]), Ok(1));
        assert_eq!(pr(&mut c, [read, 41, 0, 0, 0]), Err(Errno::EINVAL));
        assert_eq!(pr(&mut c, [drop, CAP_SYS_ADMIN as u64, 0, 0, 0]), Ok(0));
        assert_eq!(pr(&mut c, [read, CAP_SYS_ADMIN as u64, 0, 0, 0]), Ok(0));
        let raw = CAP_NET_RAW as u64;
        assert_eq!(pr(&mut c, [amb, 2, raw, 0, 0]), Err(Errno::EPERM));
        c.caps.inheritable = cap_bit(CAP_NET_RAW);
        assert_eq!(pr(&mut c, [amb, 2, raw, 0, 0]), Ok(0));
        assert_eq!(pr(&mut c, [amb, 1, raw, 0, 0]), Ok(1));
        assert_eq!(pr(&mut c, [amb, 4, 0, 0, 0]), Ok(0));
        assert_eq!(pr(&mut c, [amb, 1, raw, 0, 0]), Ok(0));
        assert_eq!(pr(&mut c, [amb, 9, raw, 0, 0]), Err(Errno::EINVAL));
        let (gk, sk) = (libc::PR_GET_KEEPCAPS as u64, libc::PR_SET_KEEPCAPS as u64);
        assert_eq!(pr(&mut c, [sk, 2, 0, 0, 0]), Err(Errno::EINVAL));
        assert_eq!(pr(&mut c, [sk, 1, 0, 0, 0]), Ok(0));
        assert_eq!(pr(&mut c, [gk, 0, 0, 0, 0]), Ok(1));
        let ss = libc::PR_SET_SECUREBITS as u64;
        // Lock keepcaps on: it can no longer change.
        assert_eq!(pr(&mut c, [ss, 0x30, 0, 0, 0]), Ok(0));
        assert_eq!(pr(&mut c, [sk, 0, 0, 0, 0]), Err(Errno::EPERM));
        assert_eq!(pr(&mut c, [ss, 0x20, 0, 0, 0]), Err(Errno::EPERM));
        assert_eq!(pr(&mut c, [ss, 0x31, 0, 0, 0]), Ok(0));
        assert_eq!(pr(&mut c, [ss, 0x1_0000, 0, 0, 0]), Err(Errno::EPERM));
        c.caps.effective = 0;
        assert_eq!(pr(&mut c, [drop, raw, 0, 0, 0]), Err(Errno::EPERM));
        assert!(prctl(&mut c, [libc::PR_GET_NAME as u64, 0, 0, 0, 0, 0]).is_none());
    }

    #[test]
    fn exec_rules() {
        let plain = ExecFile {
            mode: libc::S_IFREG | 0o755,
            ..ExecFile::default()
        };
        // Root keeps everything the bounding set allows.
        let mut r = root();
        r.caps.bounding &= !cap_bit(CAP_SYS_ADMIN);
        r.caps.effective = 0;
        let (n, secure) = exec(&r, &plain, false);
        assert_eq!(n.caps.permitted, ALL_CAPS & !cap_bit(CAP_SYS_ADMIN));
        assert_eq!(n.caps.effective, n.caps.permitted);
        assert!(!secure);
        // A user loses everything but ambient capabilities.
        let raw = cap_bit(CAP_NET_RAW);
        let mut u = Credentials::new(
            1000,
            1000,
            vec![],
            Capabilities {
                effective: 0,
                permitted: raw,
                inheritable: raw,
                bounding: ALL_CAPS,
                ambient: raw,
            },
        );
        u.securebits = SECBIT_KEEP_CAPS;
        let (n, secure) = exec(&u, &plain, false);
        assert_eq!(
            (n.caps.permitted, n.caps.effective, n.caps.ambient),
            (raw, raw, raw)
        );
        assert_eq!(n.securebits, 0);
        assert!(!secure);
        // A set-user-ID root program: root's rules, no ambient set; not under nnp.
        let suid = ExecFile {
            mode: libc::S_IFREG | libc::S_ISUID | 0o755,
            ..ExecFile::default()
        };
        let (n, secure) = exec(&u, &suid, false);
        assert_eq!((n.ruid, n.euid, n.suid, n.fsuid), (1000, 0, 0, 0));
        assert_eq!((n.caps.effective, n.caps.ambient), (ALL_CAPS, 0));
        assert!(secure);
        let (n, _) = exec(&u, &suid, true);
        assert_eq!((n.euid, n.caps.permitted), (1000, raw));
        let (n, _) = exec(
            &u,
            &ExecFile {
                nosuid: true,
                ..suid
            },
            false,
        );
        assert_eq!(n.euid, 1000);
        // Real uid 0 only: permitted, not effective.
        let mut h = root();
        (h.euid, h.suid, h.fsuid) = (1000, 1000, 1000);
        h.caps.effective = 0;
        let (n, secure) = exec(&h, &plain, false);
        assert_eq!((n.caps.permitted, n.caps.effective), (ALL_CAPS, 0));
        assert!(secure);
        // A container's first process.
        let f = first_process(0, 0, vec![], Capabilities::FULL);
        assert_eq!((f.caps.effective, f.caps.permitted), (ALL_CAPS, ALL_CAPS));
        let f = first_process(1000, 1000, vec![], Capabilities::FULL);
        assert_eq!(
            (f.caps.effective, f.caps.permitted, f.caps.bounding),
            (0, 0, ALL_CAPS)
        );
        let amb = Capabilities {
            inheritable: raw,
            ambient: raw | cap_bit(CAP_KILL),
            ..Capabilities::FULL
        };
        let f = first_process(1000, 1000, vec![], amb);
        assert_eq!(
            (f.caps.effective, f.caps.permitted, f.caps.ambient),
            (raw, raw, raw)
        );
        // SECBIT_NOROOT: root gets nothing.
        let mut nr = root();
        nr.securebits = SECBIT_NOROOT;
        assert_eq!(exec(&nr, &plain, false).0.caps.permitted, 0);
    }
}
