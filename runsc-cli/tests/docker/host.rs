//! The host seen from outside the daemons: processes, mounts and cgroups, to find what a runtime left behind.

use super::*;

pub(crate) fn proc_text(pid: &str, file: &str) -> String {
    std::fs::read(format!("/proc/{pid}/{file}"))
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// A process: its pid, command line (arguments) and cgroup file.
pub(crate) struct Proc {
    pub(crate) pid: i32,
    pub(crate) args: Vec<String>,
    pub(crate) cgroup: String,
}

impl Proc {
    pub(crate) fn cmdline(&self) -> String {
        clip(&self.args.join(" "))
    }

    /// Whether an argument names `dir` or a path below it (alone, or after a `=`).
    pub(crate) fn names(&self, dir: &Path) -> bool {
        self.args.iter().any(|a| {
            let v = a.rsplit_once('=').map_or(a.as_str(), |(_, v)| v);
            Path::new(v).starts_with(dir)
        })
    }
}

/// Every process.
pub(crate) fn processes() -> Vec<Proc> {
    let mut v = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Ok(pid) = name.parse::<i32>() else {
            continue;
        };
        let args = proc_text(&name, "cmdline")
            .split('\0')
            .filter(|a| !a.is_empty())
            .map(str::to_string)
            .collect();
        v.push(Proc {
            pid,
            args,
            cgroup: proc_text(&name, "cgroup"),
        });
    }
    v
}

/// Mount points (from /proc/self/mountinfo), decoded.
pub(crate) fn mount_points() -> Vec<String> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    text.lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|p| {
            p.replace("\\040", " ")
                .replace("\\011", "\t")
                .replace("\\012", "\n")
                .replace("\\134", "\\")
        })
        .collect()
}

/// Unmounts everything at or below any of `dirs`, deepest first.
pub(crate) fn unmount_below(dirs: &[PathBuf]) {
    let mut points: Vec<String> = mount_points()
        .into_iter()
        .filter(|m| dirs.iter().any(|d| Path::new(m).starts_with(d)))
        .collect();
    points.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for p in points {
        if let Ok(c) = std::ffi::CString::new(p) {
            // SAFETY: umount2 with a NUL-terminated path and a flag; it fails harmlessly on
            // a path that is not (or no longer) a mount point.
            unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
        }
    }
}

pub(crate) fn sigkill(pid: i32) {
    if pid > 1 && pid != std::process::id() as i32 {
        // SAFETY: kill(2) on a process this test started (a daemon, or one of its
        // descendants, found by the paths and cgroups only they use).
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
}

/// The cgroup directories whose name holds `name` (a container id: "docker/ID" with
/// Docker's cgroupfs driver, "docker-ID.scope" with systemd's), on v1 and v2.
pub(crate) fn cgroup_dirs(name: &str) -> Vec<PathBuf> {
    pub(crate) fn walk(dir: &Path, name: &str, depth: usize, found: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            if !e.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            let p = e.path();
            if e.file_name().to_string_lossy().contains(name) {
                found.push(p);
            } else if depth > 0 {
                walk(&p, name, depth - 1, found);
            }
        }
    }
    let mut found = Vec::new();
    walk(Path::new("/sys/fs/cgroup"), name, 4, &mut found);
    found
}

/// Kills every process whose command line names one of `dirs` or whose cgroup file
/// names one of `groups`.
pub(crate) fn kill_ours(dirs: &[PathBuf], groups: &[String]) {
    for p in processes() {
        if dirs.iter().any(|d| p.names(d)) || groups.iter().any(|g| p.cgroup.contains(g.as_str())) {
            sigkill(p.pid);
        }
    }
}
