//! The sandbox's host cgroup: made from the spec's resources at `create`, joined by the
//! sandbox's processes, updated by `update`, frozen by `pause`, read by `events --stats`, and
//! removed at `delete`.
//!
//! Both host layouts are served: cgroup v1 (one hierarchy per controller, as on this project's
//! machines, where `/sys/fs/cgroup` is a tmpfs) and cgroup v2 (one unified hierarchy mounted
//! at `/sys/fs/cgroup`). On a hybrid host the v2 hierarchy at `/sys/fs/cgroup/unified` has no
//! resource controllers and is left alone, as runc does.
//!
//! Paths follow runc's conventions (see [`path`]); with `--systemd-cgroup` the scope's directory
//! is made directly in the hierarchy: we never ask systemd over D-Bus.
//!
//! Values follow the OCI spec and runc: `0` leaves a limit as it is, `-1` means unlimited.
//! Device rules (cgroup v1's devices controller, see [`devices`]) are written at `create`
//! only: `update` leaves them, as runc's does.

mod devices;
mod host;
mod path;
#[cfg(test)]
mod tests;
mod v1;
mod v2;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use devices::{sandbox_devices, DeviceRule};
use host::{
    collect_procs, fs_magic, keyed, mkdir_below, parse_proc_cgroup, read, read_opt, read_u64_opt,
    remove_tree, sigkill, write, write_procs, write_raw,
};
use path::join_checked;

/// Where cgroup hierarchies live; no path outside it is ever touched.
const CGROUP_ROOT: &str = "/sys/fs/cgroup";
/// `statfs` magic of a cgroup v2 mount.
const CGROUP2_SUPER_MAGIC: i64 = 0x6367_7270;
/// How many times `destroy` sends SIGKILL to what is left before giving up, 10 ms apart.
const KILL_ROUNDS: u32 = 200;
/// How many times a busy cgroup directory is retried by `destroy` (10 ms, doubling).
const RMDIR_TRIES: u32 = 6;

/// Errors of this module; each displays as one line naming the cause.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    #[error("invalid cgroup path {path:?}: {reason}")]
    BadPath { path: String, reason: String },
    #[error("invalid cgroup resources: {0}")]
    BadResources(String),
    #[error("no usable cgroup hierarchy under {CGROUP_ROOT}: {0}")]
    NoHierarchy(String),
    #[error("the {0} cgroup controller is not available on this host")]
    MissingController(&'static str),
    #[error("{op} {}: {source}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("write {value:?} to {}: {source}", path.display())]
    Write {
        path: PathBuf,
        value: String,
        source: io::Error,
    },
    #[error("unexpected content in {}: {content:?}", path.display())]
    Parse { path: PathBuf, content: String },
    #[error("cgroup {} did not become {want} (still {state:?})", path.display())]
    Stuck {
        path: PathBuf,
        want: &'static str,
        state: String,
    },
    #[error("cgroup {} still holds {count} processes after {KILL_ROUNDS} rounds of SIGKILL", path.display())]
    StillPopulated { path: PathBuf, count: usize },
}

type Result<T> = std::result::Result<T, CgroupError>;

/// The spec's `linux.resources` that become host cgroup limits. `None` (or `Some(0)`, as in
/// runc) leaves a value as it is; `-1` means unlimited.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resources {
    /// `memory.limit`: bytes.
    pub memory_limit: Option<i64>,
    /// `memory.reservation`: the soft limit, bytes.
    pub memory_reservation: Option<i64>,
    /// `memory.swap`: memory plus swap, bytes (v1 semantics, converted on v2).
    pub memory_swap: Option<i64>,
    /// `memory.swappiness`: 0..=100 (cgroup v1 only).
    pub memory_swappiness: Option<u64>,
    /// `memory.disableOOMKiller` (cgroup v1 only: memory.oom_control).
    pub disable_oom_killer: Option<bool>,
    /// `cpu.shares`: relative weight, 2..=262144 (converted to `cpu.weight` on v2).
    pub cpu_shares: Option<u64>,
    /// `cpu.quota`: microseconds per period.
    pub cpu_quota: Option<i64>,
    /// `cpu.period`: microseconds.
    pub cpu_period: Option<u64>,
    /// `cpu.cpus`: a CPU list such as `0-3,6`.
    pub cpus: Option<String>,
    /// `cpu.mems`: a memory node list.
    pub mems: Option<String>,
    /// `pids.limit`: most processes at once; `-1` (any negative) is unlimited.
    pub pids_limit: Option<i64>,
    /// `devices`: the spec's device rules, in order (cgroup v1; at `create` only).
    pub devices: Vec<DeviceRule>,
    /// Allows for the host devices the sandbox's own processes open ([`sandbox_devices`]),
    /// written after `devices` when there are any; `create` fails if `devices` would leave
    /// one of them denied.
    pub sandbox_devices: Vec<DeviceRule>,
}

impl Resources {
    fn memory(&self) -> (i64, i64, i64) {
        (
            self.memory_limit.unwrap_or(0),
            self.memory_reservation.unwrap_or(0),
            self.memory_swap.unwrap_or(0),
        )
    }

    fn wants_memory(&self) -> bool {
        self.memory() != (0, 0, 0)
            || self.memory_swappiness.is_some()
            || self.disable_oom_killer == Some(true)
    }

    fn quota(&self) -> i64 {
        self.cpu_quota.unwrap_or(0)
    }

    fn period(&self) -> u64 {
        self.cpu_period.unwrap_or(0)
    }

    fn shares(&self) -> u64 {
        self.cpu_shares.unwrap_or(0)
    }

    fn wants_cpu(&self) -> bool {
        self.shares() != 0 || self.quota() != 0 || self.period() != 0
    }

    fn cpus(&self) -> Option<&str> {
        self.cpus
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    fn mems(&self) -> Option<&str> {
        self.mems
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    fn pids(&self) -> Option<String> {
        match self.pids_limit {
            None | Some(0) => None,
            Some(n) if n < 0 => Some("max".to_string()),
            Some(n) => Some(n.to_string()),
        }
    }

    fn check(&self) -> Result<()> {
        let (limit, reservation, swap) = self.memory();
        for (name, v) in [
            ("limit", limit),
            ("reservation", reservation),
            ("swap", swap),
        ] {
            if v < -1 {
                return Err(CgroupError::BadResources(format!(
                    "memory {name} {v} is negative"
                )));
            }
        }
        if limit > 0 && swap > 0 && swap < limit {
            return Err(CgroupError::BadResources(format!(
                "memory+swap limit {swap} is below the memory limit {limit}"
            )));
        }
        if self.quota() < -1 {
            return Err(CgroupError::BadResources(format!(
                "cpu quota {}",
                self.quota()
            )));
        }
        for (name, s) in [("cpus", &self.cpus), ("mems", &self.mems)] {
            if let Some(s) = s {
                if !s
                    .trim()
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == ',' || c == '-')
                {
                    return Err(CgroupError::BadResources(format!("cpuset {name} {s:?}")));
                }
            }
        }
        devices::check(&self.devices)?;
        devices::check(&self.sandbox_devices)
    }
}

/// What `events --stats` reports. A controller the host lacks reads as zeros.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Bytes charged now (`memory.usage.usage`).
    pub memory_usage: u64,
    /// Highest charge seen, where the host keeps it (`memory.usage.max`).
    pub memory_max_usage: u64,
    /// The limit in bytes; a huge number when unlimited (`memory.usage.limit`).
    pub memory_limit: u64,
    /// Times the limit was hit (`memory.usage.failcnt`).
    pub memory_failcnt: u64,
    /// CPU time of every process, nanoseconds (`cpu.usage.total`).
    pub cpu_total_ns: u64,
    /// User-mode part, nanoseconds (`cpu.usage.user`).
    pub cpu_user_ns: u64,
    /// Kernel-mode part, nanoseconds (`cpu.usage.kernel`).
    pub cpu_kernel_ns: u64,
    /// Processes now (`pids.current`).
    pub pids_current: u64,
    /// The limit, 0 when unlimited (`pids.limit`).
    pub pids_limit: u64,
}

/// Which cgroup layout a [`Cgroup`] lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V1,
    V2,
}

/// The host's cgroup layout.
#[derive(Debug, Clone)]
enum Layout {
    V1(Vec<v1::Mount>),
    V2 { root: PathBuf },
}

impl Layout {
    /// `statfs` of /sys/fs/cgroup tells v2 from v1; v1's controllers are read from
    /// /proc/self/mountinfo.
    fn detect() -> Result<Layout> {
        if fs_magic(Path::new(CGROUP_ROOT))? == CGROUP2_SUPER_MAGIC {
            return Ok(Layout::V2 {
                root: PathBuf::from(CGROUP_ROOT),
            });
        }
        let info = read(Path::new("/proc/self/mountinfo"))?;
        let mounts = v1::parse_mountinfo(&info, Path::new(CGROUP_ROOT));
        if mounts.is_empty() {
            return Err(CgroupError::NoHierarchy(
                "neither a cgroup2 mount nor a cgroup v1 controller mount".into(),
            ));
        }
        Ok(Layout::V1(mounts))
    }
}

/// The host cgroup of one sandbox.
#[derive(Debug, Clone)]
pub struct Cgroup {
    inner: Inner,
}

#[derive(Debug, Clone)]
enum Inner {
    V1(v1::V1),
    V2(v2::V2),
}

impl Cgroup {
    /// Makes (or joins) the sandbox's cgroup and writes `res` into it. `path` is the spec's
    /// `linux.cgroupsPath` (empty: `/rvisor/<id>`, or `system.slice:rvisor:<id>` with
    /// `systemd`). On error, the directories this call made are removed again.
    pub fn create(path: &str, id: &str, systemd: bool, res: &Resources) -> Result<Cgroup> {
        Self::create_in(&Layout::detect()?, path, id, systemd, res)
    }

    fn create_in(
        layout: &Layout,
        path: &str,
        id: &str,
        systemd: bool,
        res: &Resources,
    ) -> Result<Cgroup> {
        res.check()?;
        let cg = Self::open_in(layout, path, id, systemd)?;
        // Refuse before making anything when a limit needs a controller the host lacks.
        match &cg.inner {
            Inner::V1(c) => c.check_controllers(res)?,
            Inner::V2(_) => {}
        }
        let mut made = Vec::new();
        let result = match &cg.inner {
            Inner::V1(c) => c
                .create(&mut made)
                .and_then(|()| c.set(res))
                .and_then(|()| c.set_devices(res)),
            Inner::V2(c) => {
                if !res.devices.is_empty() {
                    // runc attaches a BPF program for them; here the Sentry alone decides
                    // which devices the application opens (it opens none of the host's).
                    tracing::warn!(
                        "linux.resources.devices: not enforced on the host (cgroup v2 has no \
                         devices file); the Sentry decides device access for the application"
                    );
                }
                c.create(&mut made).and_then(|()| c.set(res))
            }
        };
        if let Err(e) = result {
            for dir in made.iter().rev() {
                let _ = fs::remove_dir(dir);
            }
            return Err(e);
        }
        tracing::debug!(paths = ?cg.paths(), "cgroup created");
        Ok(cg)
    }

    /// The cgroup `create` would use, without making or changing anything.
    pub fn open(path: &str, id: &str, systemd: bool) -> Result<Cgroup> {
        Self::open_in(&Layout::detect()?, path, id, systemd)
    }

    fn open_in(layout: &Layout, path: &str, id: &str, systemd: bool) -> Result<Cgroup> {
        let p = path::cgroup_path(path, id, systemd)?;
        let own = if p.absolute {
            Vec::new()
        } else {
            parse_proc_cgroup(&read(Path::new("/proc/self/cgroup"))?)
        };
        let inner = match layout {
            Layout::V1(mounts) => Inner::V1(v1::V1::resolve(mounts, &own, &p)?),
            Layout::V2 { root } => Inner::V2(v2::V2::resolve(root, &own, &p)?),
        };
        Ok(Cgroup { inner })
    }

    /// Reopens a cgroup from the directories [`Cgroup::paths`] gave (kept in the container's
    /// state), e.g. for `delete` in another process. The directories need not exist any more.
    pub fn load<S: AsRef<str>>(paths: &[S]) -> Result<Cgroup> {
        Self::load_in(&Layout::detect()?, paths)
    }

    fn load_in<S: AsRef<str>>(layout: &Layout, paths: &[S]) -> Result<Cgroup> {
        let mut dirs = Vec::new();
        for p in paths {
            let p = p.as_ref();
            let mut names = p.split('/');
            let absolute = names.next() == Some("");
            let clean = names.all(|n| !n.is_empty() && n != "." && n != "..");
            if !absolute || !clean || p.chars().any(char::is_control) {
                return Err(CgroupError::BadPath {
                    path: p.to_string(),
                    reason: "not a plain absolute path".into(),
                });
            }
            dirs.push(PathBuf::from(p));
        }
        let inner = match layout {
            Layout::V1(mounts) => Inner::V1(v1::V1::from_dirs(mounts, &dirs)?),
            Layout::V2 { root } => Inner::V2(v2::V2::from_dirs(root, &dirs)?),
        };
        Ok(Cgroup { inner })
    }

    /// v1 or v2.
    pub fn version(&self) -> Version {
        match self.inner {
            Inner::V1(_) => Version::V1,
            Inner::V2(_) => Version::V2,
        }
    }

    /// The host directories of this cgroup (one per v1 hierarchy, one on v2): what to keep in
    /// the state file for [`Cgroup::load`].
    pub fn paths(&self) -> Vec<String> {
        self.dirs()
            .into_iter()
            .map(|d| d.to_string_lossy().into_owned())
            .collect()
    }

    fn dirs(&self) -> Vec<&Path> {
        match &self.inner {
            Inner::V1(c) => c.dirs.iter().map(|d| d.path.as_path()).collect(),
            Inner::V2(c) => vec![c.dir.as_path()],
        }
    }

    /// Moves process `pid` (all its threads) into the cgroup, in every hierarchy.
    pub fn add_pid(&self, pid: u32) -> Result<()> {
        for dir in self.dirs() {
            write_procs(dir, pid)?;
        }
        Ok(())
    }

    /// Writes new limits (`rvisor update`).
    pub fn update(&self, res: &Resources) -> Result<()> {
        res.check()?;
        match &self.inner {
            Inner::V1(c) => c.check_controllers(res).and_then(|()| c.set(res)),
            Inner::V2(c) => c.set(res),
        }
    }

    /// Stops every process of the cgroup (`pause`); returns once the kernel says frozen.
    pub fn freeze(&self) -> Result<()> {
        match &self.inner {
            Inner::V1(c) => c.freeze(),
            Inner::V2(c) => c.set_frozen(true),
        }
    }

    /// Lets the processes run again (`resume`); returns once the kernel says thawed.
    pub fn thaw(&self) -> Result<()> {
        match &self.inner {
            Inner::V1(c) => c.thaw(),
            Inner::V2(c) => c.set_frozen(false),
        }
    }

    /// The processes in the cgroup and any cgroup below it, sorted, without duplicates. A
    /// directory already removed counts as empty.
    pub fn pids(&self) -> Result<Vec<u32>> {
        let mut pids = Vec::new();
        for dir in self.dirs() {
            collect_procs(dir, &mut pids)?;
        }
        pids.sort_unstable();
        pids.dedup();
        Ok(pids)
    }

    /// Memory, CPU and process counters for `events --stats`.
    pub fn stats(&self) -> Result<Stats> {
        match &self.inner {
            Inner::V1(c) => c.stats(),
            Inner::V2(c) => c.stats(),
        }
    }

    /// Removes the cgroup from every hierarchy, with any cgroup made below it. With `kill`,
    /// first SIGKILLs what is left inside (thawing a frozen cgroup so the signal lands) until
    /// it is empty. Directories already gone are fine; the first failure is returned after
    /// every directory has been tried.
    pub fn destroy(&self, kill: bool) -> Result<()> {
        let mut first = None;
        if kill {
            if let Err(e) = self.kill_all() {
                first = Some(e);
            }
        }
        for dir in self.dirs() {
            if let Err(e) = remove_tree(dir) {
                first.get_or_insert(e);
            }
        }
        match first {
            None => {
                tracing::debug!(paths = ?self.paths(), "cgroup removed");
                Ok(())
            }
            Some(e) => Err(e),
        }
    }

    fn kill_all(&self) -> Result<()> {
        if let Inner::V2(c) = &self.inner {
            // cgroup.kill (Linux 5.14) kills the whole subtree at once, frozen or not.
            if c.kill()? {
                return self.wait_empty();
            }
        }
        let me = std::process::id();
        let mut left = 0;
        for round in 0..KILL_ROUNDS {
            let pids: Vec<u32> = self.pids()?.into_iter().filter(|&p| p != me).collect();
            if pids.is_empty() {
                return Ok(());
            }
            left = pids.len();
            for &pid in &pids {
                sigkill(pid);
            }
            // A frozen process dies only once it runs again.
            if round == 0 || self.is_frozen() {
                let _ = self.thaw();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Err(self.still_populated(left))
    }

    fn is_frozen(&self) -> bool {
        match &self.inner {
            Inner::V1(c) => c.is_frozen(),
            Inner::V2(c) => c.is_frozen(),
        }
    }

    fn wait_empty(&self) -> Result<()> {
        let mut left = 0;
        for _ in 0..KILL_ROUNDS {
            left = self.pids()?.len();
            if left == 0 {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Err(self.still_populated(left))
    }

    fn still_populated(&self, count: usize) -> CgroupError {
        CgroupError::StillPopulated {
            path: self
                .dirs()
                .first()
                .map(|p| p.to_path_buf())
                .unwrap_or_default(),
            count,
        }
    }
}
