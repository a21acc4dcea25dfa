//! Credentials inside the sandbox (the sandbox's own user namespace: uid 0 is its root).

/// The ids of a task, as `struct cred`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
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
}

impl Credentials {
    /// Whether the task holds CAP_SETUID/CAP_SETGID (root inside the sandbox).
    pub fn privileged(&self) -> bool {
        self.euid == 0
    }
}
