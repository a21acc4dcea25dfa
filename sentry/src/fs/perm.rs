//! Discretionary access control: who may read, write, create, remove, rename, chmod, chown
//! and touch what, as Linux decides it (inode(7), credentials(7), capabilities(7), and the
//! man pages of each call). The filesystems ask these questions where they hold their
//! locks, so that an answer and the change it allows see the same attributes.
//!
//! Capabilities: the caller's effective set travels in [`Creds::caps`]; CAP_DAC_OVERRIDE,
//! CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_FSETID and CAP_CHOWN override what Linux lets them
//! override (root holds them unless it dropped them; `kernel::caps` drops them when the
//! fsuid leaves 0).
//!
//! Search permission on the directories of a path is asked by the walkers ([`may_search`]:
//! tmpfs, the overlay root, procfs). Unlike Linux, paths are walked from the root: the
//! directories above the working directory (or a dirfd) are searched too, and the parent
//! filesystem's directories above a mount point are not (each filesystem searches its own).
//!
//! Not modelled: ACLs, immutable and append-only files, idmapped mounts.

use gofer::idmap::NO_ID;

use crate::errno::Errno;
use crate::fs::file::Stat;
use crate::kernel::creds::{
    cap_bit, Credentials, ALL_CAPS, CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER,
    CAP_FSETID,
};

/// Read permission.
pub const MAY_READ: u32 = 4;
/// Write permission.
pub const MAY_WRITE: u32 = 2;
/// Execute (search, for directories) permission.
pub const MAY_EXEC: u32 = 1;

/// The credentials a filesystem operation runs with: the caller's filesystem ids, its
/// supplementary groups, its effective capabilities, and the umask new inodes get. The
/// default is [`Creds::ROOT`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Creds {
    /// Owner of new inodes (fsuid); the owner class in permission checks.
    pub uid: u32,
    /// Group of new inodes (fsgid), unless the directory is set-group-ID.
    pub gid: u32,
    /// Permission bits cleared from the mode of new inodes.
    pub umask: u32,
    /// Supplementary groups: with `gid`, the groups whose class the caller belongs to.
    pub groups: Vec<u32>,
    /// The effective capability set (bits of `kernel::creds::CAP_*`).
    pub caps: u64,
    /// The caller is in a user namespace with a mapping (a container's `linux.uidMappings`):
    /// its capabilities reach only inodes whose owner and group have one (Linux's
    /// `privileged_wrt_inode_uidgid`); an inode owned by [`NO_ID`] gets only its mode bits.
    /// The kernel acting for itself ([`Creds::ROOT`]) is not.
    pub mapped_only: bool,
}

impl Default for Creds {
    fn default() -> Self {
        Creds::ROOT
    }
}

impl Creds {
    /// Root with every capability and no umask: the kernel acting for itself (copy-up,
    /// internal lookups).
    pub const ROOT: Creds = Creds {
        uid: 0,
        gid: 0,
        umask: 0,
        groups: Vec::new(),
        caps: ALL_CAPS,
        mapped_only: false,
    };

    /// The filesystem ids and effective capabilities of `c`, with `umask`.
    pub fn of(c: &Credentials, umask: u32) -> Creds {
        Creds {
            uid: c.fsuid,
            gid: c.fsgid,
            umask,
            groups: c.groups.clone(),
            caps: c.caps.effective,
            mapped_only: c.mapped_only,
        }
    }

    /// Whether capability `cap` is effective.
    pub fn has(&self, cap: u32) -> bool {
        self.caps & cap_bit(cap) != 0
    }

    /// Whether `gid` is the caller's filesystem group or one of its supplementary groups.
    pub fn in_group(&self, gid: u32) -> bool {
        self.gid == gid || self.groups.contains(&gid)
    }

    /// Whether capability `cap` is effective and reaches inode `a` (Linux's
    /// `capable_wrt_inode_uidgid`): see [`Creds::mapped_only`].
    pub fn has_over(&self, cap: u32, a: &Attr) -> bool {
        self.has(cap) && (!self.mapped_only || (a.uid != NO_ID && a.gid != NO_ID))
    }

    /// Linux's inode_owner_or_capable (CAP_FOWNER).
    pub fn owns(&self, a: &Attr) -> bool {
        self.uid == a.uid || self.has_over(CAP_FOWNER, a)
    }

    /// Linux's in_group_or_capable (CAP_FSETID over `a`) for group `gid`.
    fn in_group_or_capable(&self, a: &Attr, gid: u32) -> bool {
        self.in_group(gid) || self.has_over(CAP_FSETID, a)
    }
}

/// What permission checks look at: the type and mode bits, the owner and the group.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Attr {
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

impl From<&Stat> for Attr {
    fn from(st: &Stat) -> Attr {
        Attr {
            mode: st.mode,
            uid: st.uid,
            gid: st.gid,
        }
    }
}

impl From<&libc::stat> for Attr {
    fn from(st: &libc::stat) -> Attr {
        Attr {
            mode: st.st_mode,
            uid: st.st_uid,
            gid: st.st_gid,
        }
    }
}

impl Attr {
    fn is_dir(&self) -> bool {
        self.mode & libc::S_IFMT == libc::S_IFDIR
    }

    fn is_reg(&self) -> bool {
        self.mode & libc::S_IFMT == libc::S_IFREG
    }
}

/// Linux's generic_permission: the owner, group or other bits, whichever class the caller
/// is in, must grant every bit of `want` (MAY_*). Capabilities override: on a directory
/// CAP_DAC_READ_SEARCH reading and searching, CAP_DAC_OVERRIDE everything; on another
/// file CAP_DAC_READ_SEARCH reading, CAP_DAC_OVERRIDE reading and writing, and executing
/// when an execute bit is set. EACCES otherwise.
pub fn permission(c: &Creds, a: &Attr, want: u32) -> Result<(), Errno> {
    let bits = if c.uid == a.uid {
        (a.mode >> 6) & 7
    } else if c.in_group(a.gid) {
        (a.mode >> 3) & 7
    } else {
        a.mode & 7
    };
    if want & !bits == 0 {
        return Ok(());
    }
    let override_ok = if a.is_dir() {
        (want & MAY_WRITE == 0 && c.has_over(CAP_DAC_READ_SEARCH, a))
            || c.has_over(CAP_DAC_OVERRIDE, a)
    } else {
        (want == MAY_READ && c.has_over(CAP_DAC_READ_SEARCH, a))
            || ((want & MAY_EXEC == 0 || a.mode & 0o111 != 0) && c.has_over(CAP_DAC_OVERRIDE, a))
    };
    if override_ok {
        return Ok(());
    }
    Err(Errno::EACCES)
}

/// The capabilities that let a walk through any directory (CAP_DAC_OVERRIDE,
/// CAP_DAC_READ_SEARCH).
const SEARCH_CAPS: u64 = cap_bit(CAP_DAC_OVERRIDE) | cap_bit(CAP_DAC_READ_SEARCH);

/// May `c` look a name up in directory `dir` (search permission, path_resolution(7)):
/// EACCES unless an execute bit of its class is set or CAP_DAC_READ_SEARCH or
/// CAP_DAC_OVERRIDE is effective. Cheap when a capability decides, as it does for root.
pub fn may_search(c: &Creds, dir: &Attr) -> Result<(), Errno> {
    if c.searches_all() {
        return Ok(());
    }
    permission(c, dir, MAY_EXEC)
}

impl Creds {
    /// Whether [`may_search`] succeeds for every directory (a capability decides), so a
    /// walker may skip reading the directories' attributes.
    pub fn searches_all(&self) -> bool {
        self.caps & SEARCH_CAPS != 0 && !self.mapped_only
    }
}

/// May `c` add a name to directory `dir`: write and search permission (EACCES).
pub fn may_create(c: &Creds, dir: &Attr) -> Result<(), Errno> {
    permission(c, dir, MAY_WRITE | MAY_EXEC)
}

/// May `c` remove (or rename away, or replace) `victim` from directory `dir`: write and
/// search permission on `dir` (EACCES), and in a sticky directory ownership of the entry or
/// of the directory, or CAP_FOWNER (EPERM).
pub fn may_delete(c: &Creds, dir: &Attr, victim: &Attr) -> Result<(), Errno> {
    permission(c, dir, MAY_WRITE | MAY_EXEC)?;
    if dir.mode & libc::S_ISVTX != 0
        && c.uid != victim.uid
        && c.uid != dir.uid
        && !c.has_over(CAP_FOWNER, victim)
    {
        return Err(Errno::EPERM);
    }
    Ok(())
}

/// May `c` move directory `moved` to another parent: it needs write permission on it to
/// update its ".." entry (EACCES), as Linux's vfs_rename asks.
pub fn may_reparent(c: &Creds, moved: &Attr) -> Result<(), Errno> {
    if moved.is_dir() {
        permission(c, moved, MAY_WRITE)?;
    }
    Ok(())
}

/// May `c` give `src` another name (fs.protected_hardlinks = 1, the usual setting): the
/// owner and CAP_FOWNER may; others only for a regular file that is neither set-user-ID nor
/// executable set-group-ID, and that they may read and write. EPERM otherwise.
pub fn may_link(c: &Creds, src: &Attr) -> Result<(), Errno> {
    if c.owns(src) {
        return Ok(());
    }
    let sgid_exec = libc::S_ISGID | libc::S_IXGRP;
    if !src.is_reg()
        || src.mode & libc::S_ISUID != 0
        || src.mode & sgid_exec == sgid_exec
        || permission(c, src, MAY_READ | MAY_WRITE).is_err()
    {
        return Err(Errno::EPERM);
    }
    Ok(())
}

/// The permission bits chmod(2) by `c` sets on `a` for `mode`: EPERM unless the owner or
/// CAP_FOWNER; S_ISGID is dropped unless the caller is in the file's group or has
/// CAP_FSETID.
pub fn chmod_bits(c: &Creds, a: &Attr, mode: u32) -> Result<u32, Errno> {
    if !c.owns(a) {
        return Err(Errno::EPERM);
    }
    let mut bits = mode & 0o7777;
    if bits & libc::S_ISGID != 0 && !c.in_group_or_capable(a, a.gid) {
        bits &= !libc::S_ISGID;
    }
    Ok(bits)
}

/// chown(2) by `c` of `a` to `uid` and `gid` (None: unchanged): the new mode (type
/// included). Only CAP_CHOWN changes the owner (the owner may name itself); the owner may
/// change the group to one of its groups. A non-directory loses S_ISUID, and S_ISGID when
/// group-executable or when the caller is neither in its group nor has CAP_FSETID; that
/// change of mode in turn needs ownership or CAP_FOWNER. EPERM otherwise.
pub fn chown_mode(c: &Creds, a: &Attr, uid: Option<u32>, gid: Option<u32>) -> Result<u32, Errno> {
    let owner = c.uid == a.uid;
    if uid.is_some_and(|u| !(owner && u == a.uid)) && !c.has_over(CAP_CHOWN, a) {
        return Err(Errno::EPERM);
    }
    if gid.is_some_and(|g| !(owner && (g == a.gid || c.in_group(g)))) && !c.has_over(CAP_CHOWN, a) {
        return Err(Errno::EPERM);
    }
    let mut mode = a.mode;
    if a.is_dir() {
        return Ok(mode);
    }
    let mut kill = mode & libc::S_ISUID;
    if mode & libc::S_ISGID != 0 && (mode & libc::S_IXGRP != 0 || !c.in_group_or_capable(a, a.gid))
    {
        kill |= libc::S_ISGID;
    }
    if kill != 0 {
        if !c.owns(a) {
            return Err(Errno::EPERM);
        }
        mode &= !kill;
        if !c.in_group_or_capable(a, gid.unwrap_or(a.gid)) {
            mode &= !libc::S_ISGID;
        }
    }
    Ok(mode)
}

/// May `c` change the size of `a` through its path (truncate(2)): write permission on a
/// regular file (EACCES); other types are refused by the filesystem (EISDIR, EINVAL).
pub fn may_truncate(c: &Creds, a: &Attr) -> Result<(), Errno> {
    if a.is_reg() {
        permission(c, a, MAY_WRITE)?;
    }
    Ok(())
}

/// May `c` set the times of `a`: explicit times (anything but "now" for both) need
/// ownership or CAP_FOWNER (EPERM); setting both to now (`touch`) also works with write
/// permission (EACCES).
pub fn may_set_times(c: &Creds, a: &Attr, touch: bool) -> Result<(), Errno> {
    if c.owns(a) {
        return Ok(());
    }
    if touch {
        return permission(c, a, MAY_WRITE);
    }
    Err(Errno::EPERM)
}

/// The mode of regular file `a` after `c` wrote to it or changed its size, when that
/// changes it: without CAP_FSETID, S_ISUID goes, and S_ISGID if group-executable or if the
/// writer is not in the file's group.
pub fn after_write(c: &Creds, a: &Attr) -> Option<u32> {
    if !a.is_reg() || a.mode & (libc::S_ISUID | libc::S_ISGID) == 0 || c.has(CAP_FSETID) {
        return None;
    }
    let mut kill = a.mode & libc::S_ISUID;
    if a.mode & libc::S_ISGID != 0 && (a.mode & libc::S_IXGRP != 0 || !c.in_group(a.gid)) {
        kill |= libc::S_ISGID;
    }
    (kill != 0).then_some(a.mode & !kill)
}

/// Group and permission bits of a new inode `c` makes in directory `dir`, asked for with
/// `perm` (umask applied): in a set-group-ID directory the inode gets the directory's
/// group, a directory also S_ISGID, and a non-directory loses an executable S_ISGID unless
/// its maker is in that group or has CAP_FSETID. Elsewhere the maker's group.
pub fn new_inode(c: &Creds, dir: &Attr, perm: u32, is_dir: bool) -> (u32, u32) {
    if dir.mode & libc::S_ISGID == 0 {
        return (c.gid, perm);
    }
    let sgid_exec = libc::S_ISGID | libc::S_IXGRP;
    let perm = if is_dir {
        perm | libc::S_ISGID
    } else if perm & sgid_exec == sgid_exec && !c.in_group_or_capable(dir, dir.gid) {
        perm & !libc::S_ISGID
    } else {
        perm
    };
    (dir.gid, perm)
}

/// The filesystem credentials of the task running on this host thread (root for the
/// Sentry's own threads), for operations on open files that act for their caller (a write
/// clearing set-user-ID). They are its process's, which the set*id calls keep in step.
pub fn current() -> Creds {
    match crate::kernel::signal::current_group() {
        Some(tg) => Creds::of(&tg.lock().creds, 0),
        None => Creds::ROOT,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REG: u32 = libc::S_IFREG;
    const DIR: u32 = libc::S_IFDIR;

    fn user(uid: u32, gid: u32, groups: &[u32]) -> Creds {
        Creds {
            uid,
            gid,
            umask: 0,
            groups: groups.to_vec(),
            caps: 0,
            mapped_only: false,
        }
    }

    fn attr(mode: u32, uid: u32, gid: u32) -> Attr {
        Attr { mode, uid, gid }
    }

    #[test]
    fn classes_and_capabilities() {
        let u = user(1000, 1000, &[2000]);
        assert_eq!(
            permission(&u, &attr(REG | 0o640, 0, 2000), MAY_READ),
            Ok(())
        );
        assert_eq!(
            permission(&u, &attr(REG | 0o604, 0, 2000), MAY_READ),
            Err(Errno::EACCES),
            "the group class denies what other allows"
        );
        assert_eq!(
            permission(&u, &attr(REG | 0o066, 1000, 0), MAY_READ),
            Err(Errno::EACCES)
        );
        let root = Creds::ROOT;
        assert_eq!(permission(&root, &attr(REG, 5, 5), MAY_WRITE), Ok(()));
        assert_eq!(
            permission(&root, &attr(REG | 0o600, 5, 5), MAY_EXEC),
            Err(Errno::EACCES)
        );
        assert_eq!(permission(&root, &attr(DIR, 5, 5), MAY_EXEC), Ok(()));
    }

    #[test]
    fn in_a_user_namespace_capabilities_reach_only_mapped_owners() {
        let c = Creds {
            mapped_only: true,
            ..Creds::ROOT
        };
        let unmapped = attr(REG | 0o644, NO_ID, 0);
        let unmapped_group = attr(REG | 0o644, 5, NO_ID);
        for a in [unmapped, unmapped_group] {
            assert_eq!(
                permission(&c, &a, MAY_READ),
                Ok(()),
                "the other bits still count"
            );
            assert_eq!(permission(&c, &a, MAY_WRITE), Err(Errno::EACCES));
            assert!(!c.owns(&a));
            assert_eq!(chown_mode(&c, &a, Some(0), None), Err(Errno::EPERM));
            assert_eq!(chmod_bits(&c, &a, 0o600), Err(Errno::EPERM));
        }
        let dir = attr(DIR | 0o700, NO_ID, NO_ID);
        assert!(!c.searches_all());
        assert_eq!(may_search(&c, &dir), Err(Errno::EACCES));
        let sticky = attr(DIR | 0o1777, 7, 7);
        assert_eq!(may_delete(&c, &sticky, &unmapped), Err(Errno::EPERM));
        // Mapped owners: the capabilities reach them as ever.
        let mapped = attr(REG | 0o600, 5, 5);
        assert_eq!(permission(&c, &mapped, MAY_WRITE), Ok(()));
        assert!(c.owns(&mapped));
        assert_eq!(may_delete(&c, &sticky, &mapped), Ok(()));
        // The kernel acting for itself is not confined to the namespace.
        assert_eq!(permission(&Creds::ROOT, &unmapped, MAY_WRITE), Ok(()));
        assert_eq!(may_search(&Creds::ROOT, &dir), Ok(()));
    }

    #[test]
    fn capabilities_one_by_one() {
        use crate::kernel::creds::{CAP_CHOWN, CAP_FOWNER, CAP_FSETID};
        let without = |caps: &[u32]| {
            let mut c = Creds::ROOT;
            for &cap in caps {
                c.caps &= !cap_bit(cap);
            }
            c
        };
        let f = attr(REG | 0o600, 5, 5);
        let d = attr(DIR | 0o700, 5, 5);
        let r = without(&[CAP_DAC_OVERRIDE]);
        assert_eq!(permission(&r, &f, MAY_READ), Ok(()));
        assert_eq!(permission(&r, &f, MAY_WRITE), Err(Errno::EACCES));
        assert_eq!(permission(&r, &d, MAY_READ | MAY_EXEC), Ok(()));
        assert_eq!(permission(&r, &d, MAY_WRITE), Err(Errno::EACCES));
        assert_eq!(may_search(&r, &d), Ok(()));
        let n = without(&[CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH]);
        assert_eq!(permission(&n, &f, MAY_READ), Err(Errno::EACCES));
        assert_eq!(may_search(&n, &d), Err(Errno::EACCES));
        assert_eq!(may_search(&n, &attr(DIR | 0o711, 5, 5)), Ok(()));
        assert!(!n.searches_all() && Creds::ROOT.searches_all());
        let o = without(&[CAP_FOWNER]);
        assert_eq!(chmod_bits(&o, &f, 0o644), Err(Errno::EPERM));
        assert_eq!(may_set_times(&o, &f, true), Ok(()));
        let sticky = attr(DIR | 0o1777, 5, 5);
        assert_eq!(may_delete(&o, &sticky, &attr(REG, 6, 6)), Err(Errno::EPERM));
        let c = without(&[CAP_CHOWN]);
        assert_eq!(chown_mode(&c, &f, Some(0), None), Err(Errno::EPERM));
        let s = without(&[CAP_FSETID]);
        assert_eq!(
            after_write(&s, &attr(REG | 0o4755, 0, 0)),
            Some(REG | 0o755)
        );
    }

    #[test]
    fn sticky_directories() {
        let u = user(1000, 1000, &[]);
        let tmp = attr(DIR | 0o1777, 0, 0);
        assert_eq!(may_delete(&u, &tmp, &attr(REG, 0, 0)), Err(Errno::EPERM));
        assert_eq!(may_delete(&u, &tmp, &attr(REG, 1000, 0)), Ok(()));
        assert_eq!(
            may_delete(&u, &attr(DIR | 0o1777, 1000, 0), &attr(REG, 0, 0)),
            Ok(())
        );
        assert_eq!(may_delete(&Creds::ROOT, &tmp, &attr(REG, 7, 7)), Ok(()));
        assert_eq!(
            may_delete(&u, &attr(DIR | 0o755, 0, 0), &attr(REG, 1000, 0)),
            Err(Errno::EACCES)
        );
    }

    #[test]
    fn setgid_directories() {
        let u = user(1000, 1000, &[]);
        let d = attr(DIR | 0o2777, 0, 3000);
        assert_eq!(new_inode(&u, &d, 0o755, true), (3000, 0o2755));
        assert_eq!(new_inode(&u, &d, 0o2775, false), (3000, 0o775));
        assert_eq!(new_inode(&u, &d, 0o2745, false), (3000, 0o2745));
        assert_eq!(new_inode(&Creds::ROOT, &d, 0o2775, false), (3000, 0o2775));
        assert_eq!(
            new_inode(&u, &attr(DIR | 0o777, 0, 3000), 0o644, false),
            (1000, 0o644)
        );
    }

    #[test]
    fn chmod_and_chown() {
        let u = user(1000, 1000, &[2000]);
        assert_eq!(chmod_bits(&u, &attr(REG, 0, 0), 0o600), Err(Errno::EPERM));
        assert_eq!(chmod_bits(&u, &attr(REG, 1000, 3000), 0o2755), Ok(0o755));
        assert_eq!(chmod_bits(&u, &attr(REG, 1000, 2000), 0o2755), Ok(0o2755));
        let own = attr(REG | 0o6755, 1000, 1000);
        assert_eq!(chown_mode(&u, &own, Some(1001), None), Err(Errno::EPERM));
        assert_eq!(chown_mode(&u, &own, None, Some(3000)), Err(Errno::EPERM));
        assert_eq!(
            chown_mode(&u, &own, Some(1000), Some(2000)),
            Ok(REG | 0o755)
        );
        let sgid = attr(REG | 0o6745, 1000, 1000);
        assert_eq!(chown_mode(&u, &sgid, None, Some(2000)), Ok(REG | 0o2745));
        let theirs = attr(REG | 0o4777, 0, 0);
        assert_eq!(chown_mode(&u, &theirs, None, None), Err(Errno::EPERM));
        assert_eq!(
            chown_mode(&u, &attr(REG | 0o777, 0, 0), None, None),
            Ok(REG | 0o777)
        );
        assert_eq!(
            chown_mode(&Creds::ROOT, &own, Some(5), Some(5)),
            Ok(REG | 0o755)
        );
    }

    #[test]
    fn times_links_and_writes() {
        let u = user(1000, 1000, &[]);
        let rw = attr(REG | 0o666, 0, 0);
        assert_eq!(may_set_times(&u, &rw, false), Err(Errno::EPERM));
        assert_eq!(may_set_times(&u, &rw, true), Ok(()));
        assert_eq!(
            may_set_times(&u, &attr(REG | 0o644, 0, 0), true),
            Err(Errno::EACCES)
        );
        assert_eq!(may_link(&u, &rw), Ok(()));
        assert_eq!(may_link(&u, &attr(REG | 0o644, 0, 0)), Err(Errno::EPERM));
        assert_eq!(may_link(&u, &attr(REG | 0o4777, 0, 0)), Err(Errno::EPERM));
        assert_eq!(
            after_write(&u, &attr(REG | 0o6755, 1000, 1000)),
            Some(REG | 0o755)
        );
        assert_eq!(after_write(&u, &attr(REG | 0o2745, 1000, 1000)), None);
        assert_eq!(
            after_write(&u, &attr(REG | 0o2745, 1000, 3000)),
            Some(REG | 0o745)
        );
        assert_eq!(after_write(&Creds::ROOT, &attr(REG | 0o6755, 0, 0)), None);
    }
}
