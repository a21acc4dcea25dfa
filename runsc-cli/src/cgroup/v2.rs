//! cgroup v2: one unified hierarchy. Controllers are handed down from the root through each
//! parent's cgroup.subtree_control; the v1-shaped spec values are converted as runc does.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::path::CgPath;
use super::{
    join_checked, keyed, mkdir_below, read, read_opt, read_u64_opt, write, write_raw, CgroupError,
    Resources, Result, Stats,
};

/// The controllers enabled for the sandbox's cgroup, where the host offers them.
const CONTROLLERS: [&str; 4] = ["cpuset", "cpu", "memory", "pids"];

/// How often cgroup.events is polled (1 ms apart) for a freeze or thaw to complete.
const FREEZE_TRIES: u32 = 2000;

#[derive(Debug, Clone)]
pub(super) struct V2 {
    pub dir: PathBuf,
    pub root: PathBuf,
}

/// OCI `cpu.shares` (cgroup v1, 2..=262144, default 1024) to `cpu.weight` (1..=10000, default
/// 100), with the curve runc and crun use since 2025 (runc PR 4785): it maps 2, 1024 and
/// 262144 onto 1, 100 and 10000. (Older runc used the straight line
/// `1 + (shares - 2) * 9999 / 262142`, which put the default at 39.) 0 stays "unset".
pub(super) fn shares_to_weight(shares: u64) -> u64 {
    match shares {
        0 => 0,
        1 | 2 => 1,
        s if s >= 262_144 => 10_000,
        s => {
            let l = (s as f64).log2();
            let exponent = (l * l + 125.0 * l) / 612.0 - 7.0 / 34.0;
            10f64.powf(exponent).ceil() as u64
        }
    }
}

/// OCI `memory.swap` is memory plus swap; v2's memory.swap.max is swap alone (runc's
/// conversion, with its checks). 0 is "unset", -1 "max".
pub(super) fn swap_to_v2(swap: i64, memory: i64) -> Result<i64> {
    if memory == -1 && swap == 0 {
        return Ok(-1); // unlimited memory means unlimited swap, unless the spec says otherwise
    }
    if swap == -1 || swap == 0 {
        return Ok(swap);
    }
    if memory == 0 || memory == -1 {
        return Err(CgroupError::BadResources(
            "a swap limit needs a memory limit".into(),
        ));
    }
    if swap < memory {
        return Err(CgroupError::BadResources(format!(
            "memory+swap limit {swap} is below the memory limit {memory}"
        )));
    }
    Ok(swap - memory)
}

/// v2 spelling of a v1-style number: 0 unset, -1 `max`.
fn v2_num(n: i64) -> Option<String> {
    match n {
        0 => None,
        -1 => Some("max".into()),
        n => Some(n.to_string()),
    }
}

impl V2 {
    pub fn resolve(root: &Path, own: &[(Vec<String>, String)], p: &CgPath) -> Result<V2> {
        let rel = if p.absolute {
            ""
        } else {
            match own.iter().find(|(ctrls, _)| ctrls.is_empty()) {
                Some((_, path)) => path.as_str(),
                None => {
                    return Err(CgroupError::NoHierarchy(
                        "/proc/self/cgroup has no cgroup v2 line".into(),
                    ))
                }
            }
        };
        Ok(V2 {
            dir: join_checked(root, rel, p)?,
            root: root.to_path_buf(),
        })
    }

    pub fn from_dirs(root: &Path, dirs: &[PathBuf]) -> Result<V2> {
        match dirs {
            [dir] if dir.starts_with(root) && dir != root => Ok(V2 {
                dir: dir.clone(),
                root: root.to_path_buf(),
            }),
            _ => Err(CgroupError::BadPath {
                path: format!("{dirs:?}"),
                reason: format!("expected one directory below {}", root.display()),
            }),
        }
    }

    /// Makes the directories and enables our controllers in every parent's
    /// cgroup.subtree_control (one at a time if together fails; a controller that cannot be
    /// enabled shows up when its limit is written).
    pub fn create(&self, made: &mut Vec<PathBuf>) -> Result<()> {
        let levels = mkdir_below(&self.root, &self.dir, made)?;
        let parents = std::iter::once(self.root.as_path())
            .chain(levels.iter().map(PathBuf::as_path))
            .take(levels.len());
        for parent in parents {
            enable_controllers(parent)?;
        }
        Ok(())
    }

    fn need(&self, file: &str, controller: &'static str) -> Result<PathBuf> {
        let path = self.dir.join(file);
        if path.exists() {
            Ok(path)
        } else {
            Err(CgroupError::MissingController(controller))
        }
    }

    pub fn set(&self, r: &Resources) -> Result<()> {
        if r.wants_memory() {
            self.set_memory(r)?;
        }
        let weight = shares_to_weight(r.shares());
        if weight != 0 {
            write(&self.need("cpu.weight", "cpu")?, &weight.to_string())?;
        }
        if r.quota() != 0 || r.period() != 0 {
            let file = self.need("cpu.max", "cpu")?;
            let quota = match r.quota() {
                q if q > 0 => q.to_string(),
                -1 => "max".to_string(),
                // Only the period changes: keep the quota in force.
                _ => read(&file)?
                    .split_whitespace()
                    .next()
                    .unwrap_or("max")
                    .to_string(),
            };
            let value = match r.period() {
                0 => quota,
                p => format!("{quota} {p}"),
            };
            write(&file, &value)?;
        }
        if let Some(cpus) = r.cpus() {
            write(&self.need("cpuset.cpus", "cpuset")?, cpus)?;
        }
        if let Some(mems) = r.mems() {
            write(&self.need("cpuset.mems", "cpuset")?, mems)?;
        }
        if let Some(v) = r.pids() {
            write(&self.need("pids.max", "pids")?, &v)?;
        }
        Ok(())
    }

    fn set_memory(&self, r: &Resources) -> Result<()> {
        if r.memory_swappiness.is_some() {
            tracing::warn!(
                "memory.swappiness: not applied (cgroup v2 has no per-cgroup swappiness)"
            );
        }
        if r.disable_oom_killer == Some(true) {
            tracing::warn!("memory.disableOOMKiller: not applied (cgroup v2 has no such switch)");
        }
        let (limit, reservation, swap) = r.memory();
        let max = self.need("memory.max", "memory")?;
        let swap_v2 = swap_to_v2(swap, limit)?;
        let swap_value = match v2_num(swap_v2) {
            // memory+swap equal to memory: no swap at all.
            None if swap > 0 => Some("0".to_string()),
            v => v,
        };
        if let Some(v) = swap_value {
            let file = self.dir.join("memory.swap.max");
            match write_raw(&file, &v) {
                Ok(()) => {}
                // No swap accounting: "none" or "unlimited" hold anyway.
                Err(e) if e.kind() == io::ErrorKind::NotFound && (v == "max" || v == "0") => {}
                Err(source) => {
                    return Err(CgroupError::Write {
                        path: file,
                        value: v,
                        source,
                    })
                }
            }
        }
        if let Some(v) = v2_num(limit) {
            write(&max, &v)?;
        }
        if let Some(v) = v2_num(reservation) {
            write(&self.dir.join("memory.low"), &v)?;
        }
        Ok(())
    }

    pub fn is_frozen(&self) -> bool {
        matches!(read_opt(&self.dir.join("cgroup.freeze")), Ok(Some(s)) if s.trim() == "1")
    }

    /// Writes cgroup.freeze and waits for cgroup.events to report the new state.
    pub fn set_frozen(&self, frozen: bool) -> Result<()> {
        let (value, want) = if frozen {
            ("1", "FROZEN")
        } else {
            ("0", "THAWED")
        };
        write(&self.need("cgroup.freeze", "freezer")?, value)?;
        let events = self.dir.join("cgroup.events");
        let mut last = String::new();
        for _ in 0..FREEZE_TRIES {
            let text = read(&events)?;
            match keyed(&text, "frozen") {
                Some(n) if (n == 1) == frozen => return Ok(()),
                Some(n) => last = format!("frozen {n}"),
                None => return Ok(()), // a kernel that does not report it: trust the write
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        Err(CgroupError::Stuck {
            path: events,
            want,
            state: last,
        })
    }

    /// Writes cgroup.kill (Linux 5.14+) if there is one; false if not (or already gone).
    pub fn kill(&self) -> Result<bool> {
        let file = self.dir.join("cgroup.kill");
        match write_raw(&file, "1") {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(source) => Err(CgroupError::Write {
                path: file,
                value: "1".into(),
                source,
            }),
        }
    }

    pub fn stats(&self) -> Result<Stats> {
        let d = &self.dir;
        let mut s = Stats {
            memory_usage: read_u64_opt(&d.join("memory.current"))?,
            memory_max_usage: read_u64_opt(&d.join("memory.peak"))?,
            memory_limit: read_u64_opt(&d.join("memory.max"))?,
            pids_current: read_u64_opt(&d.join("pids.current"))?,
            pids_limit: match read_u64_opt(&d.join("pids.max"))? {
                u64::MAX => 0,
                n => n,
            },
            ..Stats::default()
        };
        if let Some(ev) = read_opt(&d.join("memory.events"))? {
            s.memory_failcnt = keyed(&ev, "max").unwrap_or(0);
        }
        // cpu.stat is there even without the cpu controller.
        if let Some(st) = read_opt(&d.join("cpu.stat"))? {
            let us = |k| keyed(&st, k).unwrap_or(0).saturating_mul(1000);
            s.cpu_total_ns = us("usage_usec");
            s.cpu_user_ns = us("user_usec");
            s.cpu_kernel_ns = us("system_usec");
        }
        Ok(s)
    }
}

/// Enables in `dir`'s children those of our controllers `dir` has and has not enabled yet.
fn enable_controllers(dir: &Path) -> Result<()> {
    let have = read_opt(&dir.join("cgroup.controllers"))?.unwrap_or_default();
    let on = read_opt(&dir.join("cgroup.subtree_control"))?.unwrap_or_default();
    let missing: Vec<String> = CONTROLLERS
        .iter()
        .filter(|c| have.split_whitespace().any(|h| h == **c))
        .filter(|c| !on.split_whitespace().any(|h| h == **c))
        .map(|c| format!("+{c}"))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let file = dir.join("cgroup.subtree_control");
    if write_raw(&file, &missing.join(" ")).is_err() {
        for c in &missing {
            if let Err(e) = write_raw(&file, c) {
                tracing::debug!(path = %file.display(), controller = %c, error = %e, "cannot enable");
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_to_weight_as_runc() {
        let cases = [
            (0, 0),
            (1, 1),
            (2, 1),
            (3, 2),
            (512, 59),
            (1024, 100),
            (2048, 174),
            (262_143, 10_000),
            (262_144, 10_000),
            (u64::MAX, 10_000),
        ];
        for (shares, weight) in cases {
            assert_eq!(shares_to_weight(shares), weight, "shares {shares}");
        }
        let mut prev = 0;
        for s in 2..300_000 {
            let w = shares_to_weight(s);
            assert!((1..=10_000).contains(&w) && w >= prev, "shares {s}");
            prev = w;
        }
    }

    #[test]
    fn swap_conversion() {
        assert_eq!(swap_to_v2(0, -1).unwrap(), -1);
        assert_eq!(swap_to_v2(0, 100).unwrap(), 0);
        assert_eq!(swap_to_v2(-1, 100).unwrap(), -1);
        assert_eq!(swap_to_v2(300, 100).unwrap(), 200);
        assert_eq!(swap_to_v2(100, 100).unwrap(), 0);
        assert!(swap_to_v2(50, 100).is_err());
        assert!(swap_to_v2(100, 0).is_err());
    }

    #[test]
    fn path_mapping() {
        let root = Path::new("/sys/fs/cgroup");
        let p = super::super::path::cgroup_path("system.slice:docker:abc", "abc", true).unwrap();
        let v = V2::resolve(root, &[], &p).unwrap();
        assert_eq!(
            v.dir,
            Path::new("/sys/fs/cgroup/system.slice/docker-abc.scope")
        );
        let own = super::super::parse_proc_cgroup("0::/user.slice/session-1.scope\n");
        let p = super::super::path::cgroup_path("c1", "c1", false).unwrap();
        let v = V2::resolve(root, &own, &p).unwrap();
        assert_eq!(
            v.dir,
            Path::new("/sys/fs/cgroup/user.slice/session-1.scope/c1")
        );
        let bad = super::super::parse_proc_cgroup("0::/../../etc\n");
        assert!(V2::resolve(root, &bad, &p).is_err());
        for dirs in [
            vec![PathBuf::from("/sys/fs/cgroup")],
            vec![PathBuf::from("/sys/fs/cgroupx/a")],
            vec![],
        ] {
            assert!(V2::from_dirs(root, &dirs).is_err(), "{dirs:?}");
        }
    }
}
