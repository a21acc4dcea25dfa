//! sysfs: a small, consistent view for the sandbox (the CPUs it may use, its own cgroup,
//! a few kernel tunables). Nothing of the host's devices or its /sys is shown.
//!
//! Nodes come out as procfs nodes (`procfs::Found`), so opening, stat and readlink work
//! the same way for both.

use super::procfs::{Found, Node, DT_DIR, DT_REG};
use crate::errno::Errno;
use crate::kernel::Task;

fn file(s: impl Into<Vec<u8>>) -> Result<Found, Errno> {
    Ok(Found::new(Node::File(s.into()), 0, 0o444))
}

fn dir(e: Vec<(Vec<u8>, u8)>) -> Result<Found, Errno> {
    Ok(Found::new(Node::Dir(e), 0, 0o555))
}

fn entries(names: &[(&[u8], u8)]) -> Vec<(Vec<u8>, u8)> {
    names.iter().map(|(n, d)| (n.to_vec(), *d)).collect()
}

/// "0-N" for the CPUs the sandbox may run on.
fn cpu_range() -> String {
    match crate::syscalls::misc::host_cpus() {
        0 | 1 => "0\n".to_string(),
        n => format!("0-{}\n", n - 1),
    }
}

/// The CPU number `name` ("cpu3") names, if the sandbox has it.
fn cpu_index(name: &[u8]) -> Option<usize> {
    let n: usize = std::str::from_utf8(name.strip_prefix(b"cpu")?)
        .ok()?
        .parse()
        .ok()?;
    (n < crate::syscalls::misc::host_cpus()).then_some(n)
}

/// The node at `comps` (components under /sys).
pub fn node_at(t: &Task, comps: &[&[u8]]) -> Result<Found, Errno> {
    match comps {
        [] => dir(entries(&[
            (b"block", DT_DIR),
            (b"bus", DT_DIR),
            (b"class", DT_DIR),
            (b"dev", DT_DIR),
            (b"devices", DT_DIR),
            (b"firmware", DT_DIR),
            (b"fs", DT_DIR),
            (b"kernel", DT_DIR),
            (b"module", DT_DIR),
        ])),
        [b"block" | b"bus" | b"class" | b"dev" | b"firmware" | b"module"] => dir(Vec::new()),
        [b"devices"] => dir(entries(&[(b"system", DT_DIR)])),
        [b"devices", b"system"] => dir(entries(&[(b"cpu", DT_DIR), (b"node", DT_DIR)])),
        [b"devices", b"system", b"node"] => {
            dir(entries(&[(b"online", DT_REG), (b"possible", DT_REG)]))
        }
        [b"devices", b"system", b"node", b"online" | b"possible"] => file("0\n"),
        [b"devices", b"system", b"cpu"] => {
            let mut e = entries(&[
                (b"kernel_max", DT_REG),
                (b"offline", DT_REG),
                (b"online", DT_REG),
                (b"possible", DT_REG),
                (b"present", DT_REG),
            ]);
            for i in 0..crate::syscalls::misc::host_cpus() {
                e.push((format!("cpu{i}").into_bytes(), DT_DIR));
            }
            dir(e)
        }
        [b"devices", b"system", b"cpu", b"online" | b"possible" | b"present"] => file(cpu_range()),
        [b"devices", b"system", b"cpu", b"offline"] => file("\n"),
        [b"devices", b"system", b"cpu", b"kernel_max"] => file("8191\n"),
        [b"devices", b"system", b"cpu", c] if cpu_index(c).is_some() => {
            // cpu0 cannot be taken offline, so it has no `online` file, as on Linux.
            if cpu_index(c) == Some(0) {
                dir(Vec::new())
            } else {
                dir(entries(&[(b"online", DT_REG)]))
            }
        }
        [b"devices", b"system", b"cpu", c, b"online"] if cpu_index(c).is_some_and(|i| i > 0) => {
            file("1\n")
        }
        [b"fs"] => dir(entries(&[(b"cgroup", DT_DIR)])),
        [b"fs", b"cgroup"] => dir(entries(&[
            (b"cgroup.controllers", DT_REG),
            (b"cgroup.max.depth", DT_REG),
            (b"cgroup.procs", DT_REG),
            (b"cgroup.type", DT_REG),
            (b"cpu.max", DT_REG),
            (b"memory.current", DT_REG),
            (b"memory.max", DT_REG),
            (b"pids.current", DT_REG),
            (b"pids.max", DT_REG),
        ])),
        [b"fs", b"cgroup", name] => cgroup_file(t, name),
        [b"kernel"] => dir(entries(&[(b"mm", DT_DIR)])),
        [b"kernel", b"mm"] => dir(entries(&[(b"transparent_hugepage", DT_DIR)])),
        [b"kernel", b"mm", b"transparent_hugepage"] => dir(entries(&[(b"enabled", DT_REG)])),
        [b"kernel", b"mm", b"transparent_hugepage", b"enabled"] => file("always [madvise] never\n"),
        _ => Err(Errno::ENOENT),
    }
}

/// The node at `comps` of the cgroup2 view (a `cgroup2` mount): sysfs's `fs/cgroup`.
pub fn cgroup_node_at(t: &Task, comps: &[&[u8]]) -> Result<Found, Errno> {
    let mut all: Vec<&[u8]> = vec![b"fs", b"cgroup"];
    all.extend_from_slice(comps);
    node_at(t, &all)
}

/// The container's cgroup (v2): the sandbox is one cgroup holding every process.
fn cgroup_file(t: &Task, name: &[u8]) -> Result<Found, Errno> {
    let groups = t.kernel.groups();
    match name {
        b"cgroup.controllers" => file("cpu memory pids\n"),
        b"cgroup.max.depth" | b"memory.max" | b"pids.max" => file("max\n"),
        b"cgroup.type" => file("domain\n"),
        b"cpu.max" => file("max 100000\n"),
        b"cgroup.procs" => {
            let mut pids: Vec<i32> = groups
                .iter()
                .filter(|g| g.lock().exit_status.is_none())
                .map(|g| g.tgid)
                .collect();
            pids.sort_unstable();
            file(pids.iter().map(|p| format!("{p}\n")).collect::<String>())
        }
        b"pids.current" => {
            let n: usize = groups.iter().map(|g| g.lock().threads.len()).sum();
            file(format!("{n}\n"))
        }
        b"memory.current" => {
            let pages: usize = t.mm().resident_pages();
            file(format!("{}\n", pages * 4096))
        }
        _ => Err(Errno::ENOENT),
    }
}
