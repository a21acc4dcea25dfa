//! Credentials inside the sandbox (the sandbox's own user namespace: uid 0 is its root),
//! with the capability sets of capabilities(7). How they change (set*id, capset, prctl,
//! execve) is `kernel::caps`.

/// The highest capability number (`/proc/sys/kernel/cap_last_cap`).
pub const CAP_LAST_CAP: u32 = 40;
/// Every capability this kernel knows.
pub const ALL_CAPS: u64 = (1 << (CAP_LAST_CAP + 1)) - 1;

pub const CAP_CHOWN: u32 = 0;
pub const CAP_DAC_OVERRIDE: u32 = 1;
pub const CAP_DAC_READ_SEARCH: u32 = 2;
pub const CAP_FOWNER: u32 = 3;
pub const CAP_FSETID: u32 = 4;
pub const CAP_KILL: u32 = 5;
pub const CAP_SETGID: u32 = 6;
pub const CAP_SETUID: u32 = 7;
pub const CAP_SETPCAP: u32 = 8;
pub const CAP_LINUX_IMMUTABLE: u32 = 9;
pub const CAP_NET_BIND_SERVICE: u32 = 10;
pub const CAP_NET_BROADCAST: u32 = 11;
pub const CAP_NET_ADMIN: u32 = 12;
pub const CAP_NET_RAW: u32 = 13;
pub const CAP_IPC_LOCK: u32 = 14;
pub const CAP_IPC_OWNER: u32 = 15;
pub const CAP_SYS_MODULE: u32 = 16;
pub const CAP_SYS_RAWIO: u32 = 17;
pub const CAP_SYS_CHROOT: u32 = 18;
pub const CAP_SYS_PTRACE: u32 = 19;
pub const CAP_SYS_PACCT: u32 = 20;
pub const CAP_SYS_ADMIN: u32 = 21;
pub const CAP_SYS_BOOT: u32 = 22;
pub const CAP_SYS_NICE: u32 = 23;
pub const CAP_SYS_RESOURCE: u32 = 24;
pub const CAP_SYS_TIME: u32 = 25;
pub const CAP_SYS_TTY_CONFIG: u32 = 26;
pub const CAP_MKNOD: u32 = 27;
pub const CAP_LEASE: u32 = 28;
pub const CAP_AUDIT_WRITE: u32 = 29;
pub const CAP_AUDIT_CONTROL: u32 = 30;
pub const CAP_SETFCAP: u32 = 31;
pub const CAP_MAC_OVERRIDE: u32 = 32;
pub const CAP_MAC_ADMIN: u32 = 33;
pub const CAP_SYSLOG: u32 = 34;
pub const CAP_WAKE_ALARM: u32 = 35;
pub const CAP_BLOCK_SUSPEND: u32 = 36;
pub const CAP_AUDIT_READ: u32 = 37;
pub const CAP_PERFMON: u32 = 38;
pub const CAP_BPF: u32 = 39;
pub const CAP_CHECKPOINT_RESTORE: u32 = 40;

/// The names of the capabilities, by number, as capabilities(7) and OCI specs spell them.
pub const CAP_NAMES: [&str; CAP_LAST_CAP as usize + 1] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// The number of a capability named `name` ("CAP_SYS_ADMIN", or "sys_admin"; any case).
pub fn cap_from_name(name: &str) -> Option<u32> {
    let up = name.to_ascii_uppercase();
    let full = if up.starts_with("CAP_") {
        up
    } else {
        format!("CAP_{up}")
    };
    CAP_NAMES.iter().position(|n| *n == full).map(|i| i as u32)
}

/// The bit of capability `cap` in a set (0 for a number past CAP_LAST_CAP).
pub const fn cap_bit(cap: u32) -> u64 {
    if cap > CAP_LAST_CAP {
        0
    } else {
        1 << cap
    }
}

/// securebits (capabilities(7)): root gets no capabilities from execve.
pub const SECBIT_NOROOT: u32 = 1 << 0;
/// securebits: the set*uid calls leave the capability sets alone.
pub const SECBIT_NO_SETUID_FIXUP: u32 = 1 << 2;
/// securebits (prctl PR_SET_KEEPCAPS): the permitted set survives leaving uid 0.
pub const SECBIT_KEEP_CAPS: u32 = 1 << 4;
/// securebits: PR_CAP_AMBIENT_RAISE is refused.
pub const SECBIT_NO_CAP_AMBIENT_RAISE: u32 = 1 << 6;
/// The bits above, each of which has a lock bit just above it.
pub const SECURE_ALL_BITS: u32 =
    SECBIT_NOROOT | SECBIT_NO_SETUID_FIXUP | SECBIT_KEEP_CAPS | SECBIT_NO_CAP_AMBIENT_RAISE;
/// The lock bits: once set, neither they nor their bit change again.
pub const SECURE_ALL_LOCKS: u32 = SECURE_ALL_BITS << 1;

/// A task's capability sets (capabilities(7)), one bit per capability. The sandbox's first
/// process gets them from its configuration (an OCI spec's `process.capabilities`); by
/// default it is root with everything ([`Capabilities::FULL`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capabilities {
    /// What the task may use now.
    pub effective: u64,
    /// The limit of what it may make effective (or inheritable, with CAP_SETPCAP).
    pub permitted: u64,
    /// What an execve passes on (with file capabilities, or as root).
    pub inheritable: u64,
    /// The limit of what an execve may ever grant.
    pub bounding: u64,
    /// What an execve of an unprivileged program keeps in permitted and effective.
    pub ambient: u64,
}

impl Capabilities {
    /// Root's: every capability permitted, effective and in the bounding set.
    pub const FULL: Capabilities = Capabilities {
        effective: ALL_CAPS,
        permitted: ALL_CAPS,
        inheritable: 0,
        bounding: ALL_CAPS,
        ambient: 0,
    };
}

impl Default for Capabilities {
    fn default() -> Self {
        Capabilities::FULL
    }
}

/// The ids of a task and its capabilities, as `struct cred`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    pub ruid: u32,
    pub euid: u32,
    pub suid: u32,
    pub fsuid: u32,
    pub rgid: u32,
    pub egid: u32,
    pub sgid: u32,
    pub fsgid: u32,
    pub groups: Vec<u32>,
    /// Capability sets.
    pub caps: Capabilities,
    /// SECBIT_* flags (prctl PR_SET_SECUREBITS, PR_SET_KEEPCAPS).
    pub securebits: u32,
    /// The task's user namespace has a mapping (a container's `linux.uidMappings`): its
    /// capabilities reach only inodes whose owner and group are mapped (`fs::perm`). What
    /// Linux knows from `cred->user_ns`; set for the first process and inherited.
    pub mapped_only: bool,
}

impl Default for Credentials {
    /// Root with every capability: the sandbox's first process unless configured otherwise.
    /// For another user (or sets from a spec) use `kernel::caps::first_process`: a non-root
    /// user given these full sets would hold every capability.
    fn default() -> Self {
        Credentials::new(0, 0, Vec::new(), Capabilities::FULL)
    }
}

impl Credentials {
    /// A task running as `uid` and `gid` (real, effective, saved and filesystem ids) with
    /// supplementary `groups` and capability sets `caps`, taken as they are (no capability
    /// logic applied; `kernel::caps::first_process` applies execve's).
    pub fn new(uid: u32, gid: u32, groups: Vec<u32>, caps: Capabilities) -> Credentials {
        Credentials {
            ruid: uid,
            euid: uid,
            suid: uid,
            fsuid: uid,
            rgid: gid,
            egid: gid,
            sgid: gid,
            fsgid: gid,
            groups,
            caps,
            securebits: 0,
            mapped_only: false,
        }
    }

    /// Whether capability `cap` is in the effective set (Linux's `capable`).
    pub fn has_cap(&self, cap: u32) -> bool {
        self.caps.effective & cap_bit(cap) != 0
    }

    /// Whether SECBIT_KEEP_CAPS is set (prctl PR_SET_KEEPCAPS).
    pub fn keepcaps(&self) -> bool {
        self.securebits & SECBIT_KEEP_CAPS != 0
    }

    /// Whether `gid` is the effective group or a supplementary one (Linux's in_egroup_p).
    pub fn in_egroup(&self, gid: u32) -> bool {
        self.egid == gid || self.groups.contains(&gid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_defaults() {
        assert_eq!(cap_from_name("CAP_SYS_ADMIN"), Some(CAP_SYS_ADMIN));
        assert_eq!(cap_from_name("net_raw"), Some(CAP_NET_RAW));
        assert_eq!(
            cap_from_name("CAP_CHECKPOINT_RESTORE"),
            Some(CAP_CHECKPOINT_RESTORE)
        );
        assert_eq!(cap_from_name("CAP_NOPE"), None);
        assert_eq!(ALL_CAPS, 0x1ff_ffff_ffff);
        assert_eq!(cap_bit(41), 0);
        let c = Credentials::default();
        assert!(c.has_cap(CAP_SYS_ADMIN) && c.has_cap(CAP_CHECKPOINT_RESTORE));
        assert_eq!((c.euid, c.caps.inheritable, c.caps.ambient), (0, 0, 0));
        assert!(!c.keepcaps());
    }
}
