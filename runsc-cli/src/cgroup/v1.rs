//! cgroup v1: one hierarchy per controller, or a few mounted together (e.g. `cpu,cpuacct`),
//! each under /sys/fs/cgroup. The sandbox gets the same path in every hierarchy we use.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::path::CgPath;
use super::{
    join_checked, keyed, mkdir_below, read, read_opt, read_u64_opt, write, write_raw, CgroupError,
    Resources, Result, Stats,
};

/// The controllers a sandbox's cgroup is made in.
pub(super) const CONTROLLERS: [&str; 7] = [
    "memory", "cpu", "cpuacct", "pids", "cpuset", "freezer", "devices",
];

/// How often the freezer state is polled before giving up (runc's numbers).
const FREEZE_TRIES: u32 = 1000;

/// Nanoseconds per USER_HZ tick in cpuacct.stat (USER_HZ is 100 in the kernel ABI).
const NS_PER_TICK: u64 = 10_000_000;

/// One v1 hierarchy: the controllers it carries, where it is mounted, and which cgroup of it
/// the mount shows as its root (not `/` inside a cgroup namespace).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Mount {
    pub controllers: Vec<&'static str>,
    pub mountpoint: PathBuf,
    pub root: String,
}

/// The sandbox's directory in one hierarchy.
#[derive(Debug, Clone)]
pub(super) struct Dir {
    pub controllers: Vec<&'static str>,
    pub path: PathBuf,
    pub mount: PathBuf,
}

#[derive(Debug, Clone)]
pub(super) struct V1 {
    pub dirs: Vec<Dir>,
}

/// Undoes mountinfo's octal escapes (`\040` for a space).
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let escape = b.get(i + 1..i + 4).filter(|d| {
            b[i] == b'\\' && d[0] <= b'3' && d.iter().all(|c| (b'0'..=b'7').contains(c))
        });
        if let Some(d) = escape {
            out.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The v1 hierarchies mounted below `under` that carry one of our controllers; the first
/// mount of a hierarchy wins (later ones are bind mounts of it).
pub(super) fn parse_mountinfo(text: &str, under: &Path) -> Vec<Mount> {
    let mut out: Vec<Mount> = Vec::new();
    for line in text.lines() {
        let Some((pre, post)) = line.split_once(" - ") else {
            continue;
        };
        let pre: Vec<&str> = pre.split(' ').collect();
        let post: Vec<&str> = post.split(' ').collect();
        if pre.len() < 5 || post.len() < 3 || post[0] != "cgroup" {
            continue;
        }
        let mountpoint = PathBuf::from(unescape(pre[4]));
        if !mountpoint.starts_with(under) || mountpoint == under {
            continue;
        }
        let controllers: Vec<&'static str> = CONTROLLERS
            .iter()
            .copied()
            .filter(|c| post[2].split(',').any(|o| o == *c))
            .collect();
        let seen = controllers
            .iter()
            .any(|c| out.iter().any(|m| m.controllers.contains(c)));
        if controllers.is_empty() || seen {
            continue;
        }
        out.push(Mount {
            controllers,
            mountpoint,
            root: unescape(pre[3]),
        });
    }
    out
}

/// Our own cgroup in hierarchy `m`, relative to the mount's root.
fn own_path(m: &Mount, own: &[(Vec<String>, String)]) -> Result<String> {
    let Some((_, path)) = own
        .iter()
        .find(|(ctrls, _)| ctrls.iter().any(|c| m.controllers.contains(&c.as_str())))
    else {
        return Err(CgroupError::NoHierarchy(format!(
            "/proc/self/cgroup has no line for {}",
            m.controllers.join(",")
        )));
    };
    if m.root == "/" {
        return Ok(path.clone());
    }
    match path.strip_prefix(m.root.as_str()) {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => Ok(rest.to_string()),
        _ => Err(CgroupError::NoHierarchy(format!(
            "own cgroup {path:?} is outside the mounted root {:?}",
            m.root
        ))),
    }
}

impl V1 {
    /// The sandbox's directory in every hierarchy for cgroup path `p`.
    pub fn resolve(mounts: &[Mount], own: &[(Vec<String>, String)], p: &CgPath) -> Result<V1> {
        let mut dirs = Vec::new();
        for m in mounts {
            let rel = if p.absolute {
                String::new()
            } else {
                own_path(m, own)?
            };
            dirs.push(Dir {
                controllers: m.controllers.clone(),
                path: join_checked(&m.mountpoint, &rel, p)?,
                mount: m.mountpoint.clone(),
            });
        }
        Ok(V1 { dirs })
    }

    /// Directories kept from an earlier `paths()`: each must lie below one of the mounts.
    pub fn from_dirs(mounts: &[Mount], paths: &[PathBuf]) -> Result<V1> {
        let mut dirs = Vec::new();
        for p in paths {
            let Some(m) = mounts
                .iter()
                .find(|m| p.starts_with(&m.mountpoint) && *p != m.mountpoint)
            else {
                return Err(CgroupError::BadPath {
                    path: p.display().to_string(),
                    reason: "not inside a cgroup v1 hierarchy of this host".into(),
                });
            };
            dirs.push(Dir {
                controllers: m.controllers.clone(),
                path: p.clone(),
                mount: m.mountpoint.clone(),
            });
        }
        Ok(V1 { dirs })
    }

    pub(super) fn dir(&self, controller: &str) -> Option<&Path> {
        self.dirs
            .iter()
            .find(|d| d.controllers.contains(&controller))
            .map(|d| d.path.as_path())
    }

    /// Fails on a limit whose controller is not mounted.
    pub fn check_controllers(&self, r: &Resources) -> Result<()> {
        let wanted = [
            ("memory", r.wants_memory()),
            ("cpu", r.wants_cpu()),
            ("cpuset", r.cpus().is_some() || r.mems().is_some()),
            ("pids", r.pids().is_some()),
        ];
        for (c, want) in wanted {
            if want && self.dir(c).is_none() {
                return Err(CgroupError::MissingController(c));
            }
        }
        Ok(())
    }

    /// Makes the directories; a new cpuset cgroup starts with no CPUs and no memory nodes,
    /// so each level made (or found empty) gets its parent's, as runc does.
    pub fn create(&self, made: &mut Vec<PathBuf>) -> Result<()> {
        for d in &self.dirs {
            let levels = mkdir_below(&d.mount, &d.path, made)?;
            if d.controllers.contains(&"cpuset") {
                for level in &levels {
                    inherit_cpuset(level)?;
                }
            }
        }
        Ok(())
    }

    /// Writes the limits of `r` (those it sets).
    pub fn set(&self, r: &Resources) -> Result<()> {
        if let Some(d) = self.dir("memory") {
            set_memory(d, r)?;
        }
        if let Some(d) = self.dir("cpu") {
            set_cpu(d, r)?;
        }
        if let Some(d) = self.dir("cpuset") {
            if let Some(cpus) = r.cpus() {
                write(&d.join("cpuset.cpus"), cpus)?;
            }
            if let Some(mems) = r.mems() {
                write(&d.join("cpuset.mems"), mems)?;
            }
        }
        if let (Some(d), Some(v)) = (self.dir("pids"), r.pids()) {
            write(&d.join("pids.max"), &v)?;
        }
        Ok(())
    }

    /// The device rules (`create` only): the spec's, then the sandbox's own allows. Fails
    /// on rules without a devices hierarchy to write them into.
    pub fn set_devices(&self, r: &Resources) -> Result<()> {
        if r.devices.is_empty() {
            return Ok(());
        }
        let d = self
            .dir("devices")
            .ok_or(CgroupError::MissingController("devices"))?;
        super::devices::set(d, &r.devices, &r.sandbox_devices)
    }

    fn freezer(&self) -> Result<PathBuf> {
        self.dir("freezer")
            .map(|d| d.join("freezer.state"))
            .ok_or(CgroupError::MissingController("freezer"))
    }

    pub fn is_frozen(&self) -> bool {
        let Ok(state) = self.freezer() else {
            return false;
        };
        matches!(read_opt(&state), Ok(Some(s)) if s.trim() != "THAWED")
    }

    /// FROZEN, waiting out FREEZING; now and then thaws and retries so that a process that
    /// keeps forking cannot keep the cgroup from freezing (runc's loop).
    pub fn freeze(&self) -> Result<()> {
        let state = self.freezer()?;
        let mut last = String::new();
        for i in 0..FREEZE_TRIES {
            if i % 50 == 49 {
                let _ = write(&state, "THAWED");
                std::thread::sleep(Duration::from_millis(10));
            }
            write(&state, "FROZEN")?;
            if i % 25 == 24 {
                std::thread::sleep(Duration::from_micros(10));
            }
            last = read(&state)?.trim().to_string();
            match last.as_str() {
                "FROZEN" => return Ok(()),
                "FREEZING" => continue,
                _ => break,
            }
        }
        let _ = write(&state, "THAWED");
        Err(CgroupError::Stuck {
            path: state,
            want: "FROZEN",
            state: last,
        })
    }

    pub fn thaw(&self) -> Result<()> {
        let state = self.freezer()?;
        let mut last = String::new();
        for _ in 0..FREEZE_TRIES {
            write(&state, "THAWED")?;
            last = read(&state)?.trim().to_string();
            if last == "THAWED" {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        Err(CgroupError::Stuck {
            path: state,
            want: "THAWED",
            state: last,
        })
    }

    pub fn stats(&self) -> Result<Stats> {
        let mut s = Stats::default();
        if let Some(d) = self.dir("memory") {
            s.memory_usage = read_u64_opt(&d.join("memory.usage_in_bytes"))?;
            s.memory_max_usage = read_u64_opt(&d.join("memory.max_usage_in_bytes"))?;
            s.memory_limit = read_u64_opt(&d.join("memory.limit_in_bytes"))?;
            s.memory_failcnt = read_u64_opt(&d.join("memory.failcnt"))?;
        }
        if let Some(d) = self.dir("cpuacct") {
            s.cpu_total_ns = read_u64_opt(&d.join("cpuacct.usage"))?;
            let user = d.join("cpuacct.usage_user");
            if user.exists() {
                s.cpu_user_ns = read_u64_opt(&user)?;
                s.cpu_kernel_ns = read_u64_opt(&d.join("cpuacct.usage_sys"))?;
            } else if let Some(stat) = read_opt(&d.join("cpuacct.stat"))? {
                s.cpu_user_ns = keyed(&stat, "user")
                    .unwrap_or(0)
                    .saturating_mul(NS_PER_TICK);
                s.cpu_kernel_ns = keyed(&stat, "system")
                    .unwrap_or(0)
                    .saturating_mul(NS_PER_TICK);
            }
        }
        if let Some(d) = self.dir("pids") {
            s.pids_current = read_u64_opt(&d.join("pids.current"))?;
            s.pids_limit = match read_u64_opt(&d.join("pids.max"))? {
                u64::MAX => 0,
                n => n,
            };
        }
        Ok(s)
    }
}

/// Gives an empty cpuset cgroup its parent's CPUs and memory nodes.
fn inherit_cpuset(dir: &Path) -> Result<()> {
    let Some(parent) = dir.parent() else {
        return Ok(());
    };
    for file in ["cpuset.cpus", "cpuset.mems"] {
        if read(&dir.join(file))?.trim().is_empty() {
            let from = read(&parent.join(file))?;
            let from = from.trim();
            if !from.is_empty() {
                write(&dir.join(file), from)?;
            }
        }
    }
    Ok(())
}

/// memory.limit_in_bytes, memory.memsw.limit_in_bytes (when swap accounting is on) and
/// memory.soft_limit_in_bytes, in an order the kernel accepts (memory <= memory+swap at
/// every step), as runc writes them.
fn set_memory(d: &Path, r: &Resources) -> Result<()> {
    let (limit, reservation, mut swap) = r.memory();
    let limit_file = d.join("memory.limit_in_bytes");
    let swap_file = d.join("memory.memsw.limit_in_bytes");
    let has_swap = swap_file.exists();
    if limit == -1 && swap == 0 && has_swap {
        swap = -1; // unlimited memory means unlimited swap too, unless the spec says otherwise
    }
    if swap != 0 && !has_swap {
        if swap != -1 {
            tracing::warn!("swap accounting is off on this host: memory+swap limit not applied");
        }
        swap = 0;
    }
    if limit != 0 && swap != 0 {
        let current = read_u64_opt(&limit_file)?;
        let swap_first = swap == -1 || u64::try_from(swap).is_ok_and(|s| current < s);
        if swap_first {
            write(&swap_file, &swap.to_string())?;
            write(&limit_file, &limit.to_string())?;
        } else {
            write(&limit_file, &limit.to_string())?;
            write(&swap_file, &swap.to_string())?;
        }
    } else {
        if limit != 0 {
            write(&limit_file, &limit.to_string())?;
        }
        if swap != 0 {
            write(&swap_file, &swap.to_string())?;
        }
    }
    if reservation != 0 {
        write(
            &d.join("memory.soft_limit_in_bytes"),
            &reservation.to_string(),
        )?;
    }
    if let Some(s) = r.memory_swappiness {
        if s > 100 {
            return Err(CgroupError::BadResources(format!(
                "memory.swappiness {s} is not in 0..=100"
            )));
        }
        write(&d.join("memory.swappiness"), &s.to_string())?;
    }
    if r.disable_oom_killer == Some(true) {
        write(&d.join("memory.oom_control"), "1")?;
    }
    Ok(())
}

/// cpu.shares (checked by reading back: the kernel clamps), cpu.cfs_period_us and
/// cpu.cfs_quota_us. A shorter period may be refused until the new quota is in, so it is
/// written again after the quota (runc's order).
fn set_cpu(d: &Path, r: &Resources) -> Result<()> {
    let shares = r.shares();
    if shares != 0 {
        let file = d.join("cpu.shares");
        write(&file, &shares.to_string())?;
        let got = read_u64_opt(&file)?;
        if got != shares {
            return Err(CgroupError::BadResources(format!(
                "cpu shares {shares} is outside what the host allows (it set {got})"
            )));
        }
    }
    let (quota, period) = (r.quota(), r.period());
    let period_file = d.join("cpu.cfs_period_us");
    let mut period_again = false;
    if period != 0 {
        match write_raw(&period_file, &period.to_string()) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) && quota != 0 => period_again = true,
            Err(source) => {
                return Err(CgroupError::Write {
                    path: period_file,
                    value: period.to_string(),
                    source,
                })
            }
        }
    }
    if quota != 0 {
        write(&d.join("cpu.cfs_quota_us"), &quota.to_string())?;
        if period_again {
            write(&period_file, &period.to_string())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const INFO: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 /docker/abc /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
50 23 0:32 / /mnt/memory rw,relatime - cgroup cgroup rw,memory
51 31 0:32 / /sys/fs/cgroup/memory2 rw,relatime - cgroup cgroup rw,memory
52 31 0:39 / /sys/fs/cgroup/my\\040pids rw,relatime - cgroup cgroup rw,pids
";

    fn mounts() -> Vec<Mount> {
        parse_mountinfo(INFO, Path::new("/sys/fs/cgroup"))
    }

    #[test]
    fn mountinfo() {
        let m = mounts();
        let names: Vec<_> = m
            .iter()
            .map(|m| m.mountpoint.display().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "/sys/fs/cgroup/cpu,cpuacct",
                "/sys/fs/cgroup/cpuset",
                "/sys/fs/cgroup/memory",
                "/sys/fs/cgroup/devices",
                "/sys/fs/cgroup/my pids"
            ]
        );
        assert_eq!(m[0].controllers, ["cpu", "cpuacct"]);
        assert_eq!(m[2].root, "/docker/abc");
    }

    #[test]
    fn path_mapping() {
        let m = mounts();
        let p = super::super::path::cgroup_path("/docker/xyz", "xyz", false).unwrap();
        let v = V1::resolve(&m, &[], &p).unwrap();
        let paths: Vec<_> = v
            .dirs
            .iter()
            .map(|d| d.path.display().to_string())
            .collect();
        assert_eq!(
            paths,
            [
                "/sys/fs/cgroup/cpu,cpuacct/docker/xyz",
                "/sys/fs/cgroup/cpuset/docker/xyz",
                "/sys/fs/cgroup/memory/docker/xyz",
                "/sys/fs/cgroup/devices/docker/xyz",
                "/sys/fs/cgroup/my pids/docker/xyz"
            ]
        );
        assert_eq!(v.dir("cpuacct"), v.dir("cpu"));
        assert!(v.dir("freezer").is_none());

        // Relative: below our own cgroup, with the mount's root taken off.
        let own = super::super::parse_proc_cgroup(
            "5:devices:/d\n4:memory:/docker/abc/sub\n3:cpuset:/\n2:cpu,cpuacct:/user.slice\n\
             1:pids:/\n0::/x\n",
        );
        let p = super::super::path::cgroup_path("pod/c1", "c1", false).unwrap();
        let v = V1::resolve(&m, &own, &p).unwrap();
        let paths: Vec<_> = v
            .dirs
            .iter()
            .map(|d| d.path.display().to_string())
            .collect();
        assert_eq!(
            paths,
            [
                "/sys/fs/cgroup/cpu,cpuacct/user.slice/pod/c1",
                "/sys/fs/cgroup/cpuset/pod/c1",
                "/sys/fs/cgroup/memory/sub/pod/c1",
                "/sys/fs/cgroup/devices/d/pod/c1",
                "/sys/fs/cgroup/my pids/pod/c1"
            ]
        );
    }

    #[test]
    fn loading_refuses_foreign_dirs() {
        let m = mounts();
        for p in [
            "/sys/fs/cgroup/memory",
            "/sys/fs/cgroup/systemd/x",
            "/etc/x",
        ] {
            assert!(V1::from_dirs(&m, &[PathBuf::from(p)]).is_err(), "{p}");
        }
        let v = V1::from_dirs(&m, &[PathBuf::from("/sys/fs/cgroup/memory/a/b")]).unwrap();
        assert_eq!(
            v.dir("memory"),
            Some(Path::new("/sys/fs/cgroup/memory/a/b"))
        );
    }
}
