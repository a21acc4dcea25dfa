//! System-wide /proc files: meminfo, cpuinfo, stat, uptime, loadavg, version, filesystems,
//! mounts and net/, all describing the sandbox (/proc/sys is `sysctl`'s).

use std::fmt::Write as _;
use std::sync::OnceLock;

use super::{Found, Node, DT_DIR, DT_LNK, DT_REG};
use crate::errno::Errno;
use crate::fs::vfs::{MountFs, Mounts};
use crate::kernel::Task;

/// Entries of /proc besides the processes and self links.
pub const TOP: &[(&[u8], u8)] = &[
    (b"cpuinfo", DT_REG),
    (b"filesystems", DT_REG),
    (b"loadavg", DT_REG),
    (b"meminfo", DT_REG),
    (b"mounts", DT_LNK),
    (b"net", DT_LNK),
    (b"stat", DT_REG),
    (b"sys", DT_DIR),
    (b"uptime", DT_REG),
    (b"version", DT_REG),
];

/// Kernel release the sandbox reports (uname -r).
pub const RELEASE: &str = "6.1.0-rvisor";
/// Kernel version string (uname -v).
pub const VERSION: &str = "#1 SMP PREEMPT_DYNAMIC rvisor";
/// Memory the sandbox reports, in KiB (as sysinfo(2) does).
const MEM_TOTAL_KB: u64 = 2 << 20;

pub(super) fn file(s: impl Into<Vec<u8>>) -> Result<Found, Errno> {
    Ok(Found::new(Node::File(s.into()), 0, 0o444))
}

pub(super) fn dir(e: &[(&[u8], u8)]) -> Result<Found, Errno> {
    Ok(Found::new(
        Node::Dir(e.iter().map(|(n, d)| (n.to_vec(), *d)).collect()),
        0,
        0o555,
    ))
}

/// Seconds since the sandbox booted.
fn uptime(t: &Task) -> f64 {
    t.kernel.boot.elapsed().as_secs_f64()
}

/// The host's CPU description, read once (at boot, before the Sentry is confined): the
/// CPU is the same one.
pub fn cpuinfo() -> Vec<u8> {
    static INFO: OnceLock<Vec<u8>> = OnceLock::new();
    INFO.get_or_init(|| {
        std::fs::read("/proc/cpuinfo").unwrap_or_else(|_| b"processor\t: 0\n\n".to_vec())
    })
    .clone()
}

/// The node at `comps` (not a process directory).
pub fn node(t: &Task, comps: &[&[u8]]) -> Result<Found, Errno> {
    let procs = t.kernel.groups().len();
    match comps {
        [b"cpuinfo"] => file(cpuinfo()),
        [b"meminfo"] => file(meminfo()),
        [b"uptime"] => {
            let up = uptime(t);
            file(format!("{up:.2} {:.2}\n", up * 2.0))
        }
        [b"loadavg"] => {
            let last = t.kernel.groups().iter().map(|g| g.tgid).max().unwrap_or(1);
            file(format!("0.00 0.00 0.00 1/{procs} {last}\n"))
        }
        [b"version"] => file(format!(
            "Linux version {RELEASE} (rvisor@rvisor) (rustc) {VERSION}\n"
        )),
        [b"filesystems"] => file(
            "nodev\tsysfs\nnodev\ttmpfs\nnodev\tproc\nnodev\tdevpts\nnodev\tmqueue\nnodev\toverlay\n",
        ),
        [b"stat"] => {
            let boot = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs()
                .saturating_sub(uptime(t) as u64);
            let ticks = (uptime(t) * 100.0) as u64;
            let mut s = format!("cpu  0 0 0 {} 0 0 0 0 0 0\n", ticks * 2);
            for c in 0..2 {
                let _ = writeln!(s, "cpu{c} 0 0 0 {ticks} 0 0 0 0 0 0");
            }
            let _ = write!(
                s,
                "intr 0\nctxt 0\nbtime {boot}\nprocesses {procs}\nprocs_running 1\n\
                 procs_blocked 0\nsoftirq 0 0 0 0 0 0 0 0 0 0 0\n"
            );
            file(s)
        }
        [b"mounts"] => Ok(Found::new(
            Node::Link(b"self/mounts".to_vec()),
            0,
            0o777,
        )),
        [b"net"] => Ok(Found::new(
            Node::Link(b"self/net".to_vec()),
            0,
            0o777,
        )),
        [b"sys", rest @ ..] => super::sysctl::sys(t, rest),
        _ => Err(Errno::ENOENT),
    }
}

fn meminfo() -> String {
    let total = MEM_TOTAL_KB;
    let free = total / 2;
    format!(
        "MemTotal:       {total:>8} kB\nMemFree:        {free:>8} kB\n\
         MemAvailable:   {free:>8} kB\nBuffers:               0 kB\nCached:                0 kB\n\
         SwapCached:            0 kB\nActive:                0 kB\nInactive:              0 kB\n\
         SwapTotal:             0 kB\nSwapFree:              0 kB\nDirty:                 0 kB\n\
         Shmem:                 0 kB\nCommitLimit:    {total:>8} kB\nCommitted_AS:          0 kB\n\
         VmallocTotal:   34359738367 kB\nHugePages_Total:       0\nHugePages_Free:        0\n\
         Hugepagesize:       2048 kB\n"
    )
}

pub(super) fn uuid() -> String {
    let mut b = [0u8; 16];
    let _ = crate::fs::dev::random_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// One id per sandbox boot.
pub(super) fn boot_id(t: &Task) -> String {
    static ID: OnceLock<String> = OnceLock::new();
    let _ = t;
    format!("{}\n", ID.get_or_init(uuid))
}

/// /proc/PID/net.
pub fn net(rest: &[&[u8]]) -> Result<Found, Errno> {
    const SOCK_HDR: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when \
                            retrnsmt   uid  timeout inode\n";
    match rest {
        [] => dir(&[
            (b"dev", DT_REG),
            (b"tcp", DT_REG),
            (b"tcp6", DT_REG),
            (b"udp", DT_REG),
            (b"udp6", DT_REG),
            (b"unix", DT_REG),
        ]),
        [b"dev"] => file(
            "Inter-|   Receive                                                |  Transmit\n \
             face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets \
             errs drop fifo colls carrier compressed\n    lo:       0       0    0    0    0     \
             0          0         0        0       0    0    0    0     0       0          0\n",
        ),
        [b"tcp"] | [b"tcp6"] | [b"udp"] | [b"udp6"] => file(SOCK_HDR),
        [b"unix"] => file(crate::net::unix::proc_net_unix()),
        _ => Err(Errno::ENOENT),
    }
}

/// A path as /proc/mounts shows it: space, tab, newline and backslash in octal escapes.
fn escaped(p: &[u8]) -> String {
    let mut s = String::new();
    for &b in p {
        match b {
            b' ' | b'\t' | b'\n' | b'\\' => s.push_str(&format!("\\{b:03o}")),
            _ => s.push(b as char),
        }
    }
    s
}

/// The per-mount options: rw or ro, then nosuid, nodev, noexec and the access-time ones.
fn mount_opts(flags: u64) -> String {
    let mut o = vec![if flags & libc::MS_RDONLY != 0 {
        "ro"
    } else {
        "rw"
    }];
    for (f, name) in [
        (libc::MS_NOSUID, "nosuid"),
        (libc::MS_NODEV, "nodev"),
        (libc::MS_NOEXEC, "noexec"),
        (libc::MS_NOATIME, "noatime"),
        (libc::MS_NODIRATIME, "nodiratime"),
        (libc::MS_RELATIME, "relatime"),
    ] {
        if flags & f != 0 {
            o.push(name);
        }
    }
    o.join(",")
}

/// /proc/PID/mounts: the mounts of the namespace.
pub fn mounts(m: &Mounts) -> String {
    let mut s = String::new();
    for x in m.list() {
        let mut opts = mount_opts(x.flags);
        if !x.options.is_empty() {
            opts = format!("{opts},{}", x.options);
        }
        let _ = writeln!(
            s,
            "{} {} {} {opts} 0 0",
            escaped(&x.source),
            escaped(&x.point),
            x.fs.type_name()
        );
    }
    s
}

/// /proc/PID/mountinfo: the mounts of the namespace with ids, parents, devices and roots.
pub fn mountinfo(m: &Mounts) -> String {
    let mut s = String::new();
    for x in m.list() {
        let root = match (&x.shown_root, &x.fs) {
            (Some(r), _) => r.clone(),
            (None, MountFs::Root) => x.root.clone(),
            (None, _) => [b"/", &x.root[..]].concat(),
        };
        let ro = if x.flags & libc::MS_RDONLY != 0 {
            "ro"
        } else {
            "rw"
        };
        let sb = if x.options.is_empty() {
            ro.to_string()
        } else {
            format!("{ro},{}", x.options)
        };
        let _ = writeln!(
            s,
            "{} {} 0:{} {} {} {} - {} {} {sb}",
            x.id,
            x.parent,
            x.fs.minor(),
            escaped(&root),
            escaped(&x.point),
            mount_opts(x.flags),
            x.fs.type_name(),
            escaped(&x.source),
        );
    }
    s
}
