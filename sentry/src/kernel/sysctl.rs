//! The sandbox's own sysctls: the tunables of /proc/sys that a Linux container owns (those of
//! its network and IPC namespaces), with their values. /proc/sys serves them
//! (`fs::procfs::sysctl`), writes change them with Linux's checks, and a container's
//! `linux.sysctl` sets them at boot ([`apply`]) as its runtime would write the files.
//!
//! Values are integer vectors, written and read as proc_dointvec does: whitespace-separated
//! decimal (or 0x hex, 0 octal) numbers, each checked against the file's range (EINVAL), the
//! vector shown tab-separated. Where they act: fs.mqueue.* are the POSIX message queue limits
//! (`fs::mqueue`), net.core.somaxconn caps listen(2)'s backlog. The net.ipv4.* values are
//! kept and shown only: the Sentry has no IPv4 stack for them to steer yet.
//!
//! kernel.hostname and kernel.domainname are the UTS namespace's (a task's), not kept here;
//! [`apply`] sets them too.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::errno::Errno;
use crate::kernel::creds::{Credentials, CAP_NET_ADMIN, CAP_SYS_RESOURCE};

/// Longest hostname or domain name (__NEW_UTS_LEN).
pub const UTS_LEN: usize = 64;

/// Which namespace a sysctl belongs to: who may write it besides root (Linux's
/// net_ctl_permissions and ipc_permissions give these capabilities root's access).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    Net,
    Ipc,
}

/// One sysctl of the table.
struct Def {
    /// Dotted name, as `sysctl(8)` and the spec spell it.
    name: &'static str,
    default: &'static [i64],
    /// Each element's range (proc_dointvec_minmax's extra1 and extra2).
    min: i64,
    max: i64,
    owner: Owner,
    /// A capability the writer needs besides the file's permission (EPERM).
    cap: Option<u32>,
}

const INT: (i64, i64) = (i32::MIN as i64, i32::MAX as i64);

const fn def(name: &'static str, default: &'static [i64], range: (i64, i64), owner: Owner) -> Def {
    Def {
        name,
        default,
        min: range.0,
        max: range.1,
        owner,
        cap: None,
    }
}

/// Every sysctl the sandbox keeps, by name (Linux's defaults for a new namespace).
const DEFS: &[Def] = &[
    def("fs.mqueue.msg_default", &[10], (1, 65536), Owner::Ipc),
    def("fs.mqueue.msg_max", &[10], (1, 65536), Owner::Ipc),
    def(
        "fs.mqueue.msgsize_default",
        &[8192],
        (128, 16 << 20),
        Owner::Ipc,
    ),
    def(
        "fs.mqueue.msgsize_max",
        &[8192],
        (128, 16 << 20),
        Owner::Ipc,
    ),
    def("fs.mqueue.queues_max", &[256], INT, Owner::Ipc),
    def(
        "net.core.somaxconn",
        &[4096],
        (0, i32::MAX as i64),
        Owner::Net,
    ),
    // devinet_sysctl_forward: CAP_NET_ADMIN to write, any int.
    Def {
        cap: Some(CAP_NET_ADMIN),
        ..def("net.ipv4.ip_forward", &[0], INT, Owner::Net)
    },
    def(
        "net.ipv4.ip_local_port_range",
        &[32768, 60999],
        (1, 65535),
        Owner::Net,
    ),
    def(
        "net.ipv4.ip_unprivileged_port_start",
        &[1024],
        (0, 65535),
        Owner::Net,
    ),
    // GID_T_MAX; "1 0" (no group) is the default.
    def(
        "net.ipv4.ping_group_range",
        &[1, 0],
        (0, i32::MAX as i64),
        Owner::Net,
    ),
];

fn lookup(name: &str) -> Option<&'static Def> {
    DEFS.iter().find(|d| d.name == name)
}

/// Whether the sandbox keeps sysctl `name` (dotted).
pub fn is_kept(name: &str) -> bool {
    lookup(name).is_some()
}

/// The names below `prefix` (dotted, without the trailing dot; empty for all): (next
/// component, whether it is a directory), sorted, without duplicates.
pub fn children(prefix: &str) -> Vec<(&'static str, bool)> {
    let mut out: Vec<(&'static str, bool)> = Vec::new();
    for d in DEFS {
        let rest = if prefix.is_empty() {
            Some(d.name)
        } else {
            d.name
                .strip_prefix(prefix)
                .and_then(|r| r.strip_prefix('.'))
        };
        if let Some(rest) = rest {
            let (first, dir) = match rest.split_once('.') {
                Some((f, _)) => (f, true),
                None => (rest, false),
            };
            if !out.iter().any(|(n, _)| *n == first) {
                out.push((first, dir));
            }
        }
    }
    out.sort_unstable();
    out
}

/// Why a sysctl cannot be set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("sysctl {name}: {why}")]
pub struct SysctlError {
    /// The name, dotted.
    pub name: String,
    /// What is wrong, as one phrase.
    pub why: String,
    /// The sandbox has no such sysctl (rather than refusing the value).
    pub unknown: bool,
}

/// The values of one sandbox's sysctls.
#[derive(Debug)]
pub struct Sysctls {
    values: Mutex<BTreeMap<&'static str, Vec<i64>>>,
}

impl Default for Sysctls {
    fn default() -> Self {
        Sysctls {
            values: Mutex::new(DEFS.iter().map(|d| (d.name, d.default.to_vec())).collect()),
        }
    }
}

/// Parses what is written to an integer sysctl of `n` elements: at least one number, at most
/// `n` taken (what follows is ignored, as Linux takes it without effect).
fn parse(data: &[u8], n: usize) -> Result<Vec<i64>, Errno> {
    let text = std::str::from_utf8(data).map_err(|_| Errno::EINVAL)?;
    let text = text.split('\0').next().unwrap_or_default();
    let mut out = Vec::new();
    for word in text.split_ascii_whitespace().take(n) {
        let (neg, digits) = match word.strip_prefix('-') {
            Some(d) => (true, d),
            None => (false, word),
        };
        // strtoul with base 0, as proc_get_long reads a number.
        let (radix, digits) = if let Some(h) = digits
            .strip_prefix("0x")
            .or_else(|| digits.strip_prefix("0X"))
        {
            (16, h)
        } else if digits.len() > 1 && digits.starts_with('0') {
            (8, &digits[1..])
        } else {
            (10, digits)
        };
        if digits.is_empty() || digits.starts_with(['+', '-']) {
            return Err(Errno::EINVAL);
        }
        let v = u64::from_str_radix(digits, radix).map_err(|_| Errno::EINVAL)?;
        // Each element is a C int.
        let v = i64::try_from(v).map_err(|_| Errno::EINVAL)?;
        let v = if neg { -v } else { v };
        if v < i64::from(i32::MIN) || v > i64::from(i32::MAX) {
            return Err(Errno::EINVAL);
        }
        out.push(v);
    }
    if out.is_empty() {
        return Err(Errno::EINVAL);
    }
    Ok(out)
}

impl Sysctls {
    fn get(&self, name: &str) -> Vec<i64> {
        let values = self.values.lock().unwrap_or_else(|e| e.into_inner());
        values.get(name).cloned().unwrap_or_default()
    }

    fn first(&self, name: &str) -> i64 {
        self.get(name).first().copied().unwrap_or(0)
    }

    /// What reading the file shows: the values, tab-separated, and a newline.
    pub fn show(&self, name: &str) -> Vec<u8> {
        let v: Vec<String> = self.get(name).iter().map(i64::to_string).collect();
        format!("{}\n", v.join("\t")).into_bytes()
    }

    /// A write of `data` to sysctl `name` by someone with `creds` (None: the runtime, at
    /// boot, which may do anything); the file's permission was checked when it was opened.
    pub fn write(&self, name: &str, data: &[u8], creds: Option<&Credentials>) -> Result<(), Errno> {
        let d = lookup(name).ok_or(Errno::ENOENT)?;
        if let (Some(cap), Some(c)) = (d.cap, creds) {
            if !c.has_cap(cap) {
                return Err(Errno::EPERM);
            }
        }
        let mut values = self.values.lock().unwrap_or_else(|e| e.into_inner());
        let mut new = values.get(d.name).cloned().unwrap_or_default();
        for (slot, v) in new.iter_mut().zip(parse(data, d.default.len())?) {
            if v < d.min || v > d.max {
                return Err(Errno::EINVAL);
            }
            *slot = v;
        }
        let get = |n: &str| values.get(n).and_then(|v| v.first()).copied().unwrap_or(0);
        match d.name {
            // The local ports stay above the privileged ones (ipv4_local_port_range,
            // ipv4_privileged_ports).
            "net.ipv4.ip_local_port_range"
                if new[1] < new[0] || new[0] < get("net.ipv4.ip_unprivileged_port_start") =>
            {
                return Err(Errno::EINVAL)
            }
            "net.ipv4.ip_unprivileged_port_start"
                if get("net.ipv4.ip_local_port_range") < new[0] =>
            {
                return Err(Errno::EINVAL)
            }
            // An empty range is "no group" (ipv4_ping_group_range).
            "net.ipv4.ping_group_range" if new[1] < new[0] => new = vec![1, 0],
            _ => {}
        }
        values.insert(d.name, new);
        Ok(())
    }

    /// Whether `creds` may open sysctl `name` for writing (its file is 0644 root's): root
    /// may, and so may a holder of the namespace's capability (CAP_NET_ADMIN for net.*,
    /// CAP_SYS_RESOURCE for the IPC ones).
    pub fn may_write(name: &str, creds: &Credentials) -> bool {
        let Some(d) = lookup(name) else {
            return false;
        };
        let cap = match d.owner {
            Owner::Net => CAP_NET_ADMIN,
            Owner::Ipc => CAP_SYS_RESOURCE,
        };
        creds.euid == 0 || creds.has_cap(cap)
    }

    /// net.core.somaxconn: the largest listen backlog.
    pub fn somaxconn(&self) -> u32 {
        u32::try_from(self.first("net.core.somaxconn")).unwrap_or(0)
    }

    /// The POSIX message queue limits (/proc/sys/fs/mqueue).
    pub fn mqueue(&self) -> crate::fs::mqueue::Limits {
        crate::fs::mqueue::Limits {
            msg_default: self.first("fs.mqueue.msg_default"),
            msg_max: self.first("fs.mqueue.msg_max"),
            msgsize_default: self.first("fs.mqueue.msgsize_default"),
            msgsize_max: self.first("fs.mqueue.msgsize_max"),
            // An unsigned int in Linux: a negative value is a huge one.
            queues_max: self.first("fs.mqueue.queues_max") as u32 as usize,
        }
    }
}

/// A UTS namespace: hostname and domain name.
pub type Uts = Mutex<(Vec<u8>, Vec<u8>)>;

/// What a write to kernel.hostname or kernel.domainname sets (proc_dostring): the text up to
/// a newline or NUL, at most [`UTS_LEN`] bytes.
pub fn uts_value(data: &[u8]) -> Vec<u8> {
    let end = data
        .iter()
        .position(|&b| b == b'\n' || b == 0)
        .unwrap_or(data.len());
    data[..end.min(UTS_LEN)].to_vec()
}

/// Why a name is refused: what the sandbox has instead.
const UNKNOWN: &str = "a sysctl the sandbox does not have (it sets net.core.somaxconn, \
                       net.ipv4.ip_forward, net.ipv4.ip_local_port_range, \
                       net.ipv4.ip_unprivileged_port_start, net.ipv4.ping_group_range, \
                       fs.mqueue.*, kernel.hostname and kernel.domainname)";

/// Sets a container's `linux.sysctl` (names dotted or slashed) as its runtime writes the
/// files before the container runs: kept sysctls in `s`, kernel.hostname and
/// kernel.domainname in `uts`. The values are set in an order that lets each be checked
/// against the others' new values (the spec's is a map: it has none). Any other name, or a
/// value the file refuses, is the error.
pub fn apply(s: &Sysctls, uts: &Uts, list: &[(String, String)]) -> Result<(), SysctlError> {
    let mut pending: Vec<(String, &str)> = list
        .iter()
        .map(|(k, v)| (k.replace('/', "."), v.as_str()))
        .collect();
    loop {
        let mut first_err = None;
        let before = pending.len();
        pending.retain(|(name, value)| {
            let r = match name.as_str() {
                "kernel.hostname" | "kernel.domainname" => {
                    let mut u = uts.lock().unwrap_or_else(|e| e.into_inner());
                    let v = uts_value(value.as_bytes());
                    if name == "kernel.hostname" {
                        u.0 = v;
                    } else {
                        u.1 = v;
                    }
                    Ok(())
                }
                n if is_kept(n) => s.write(n, value.as_bytes(), None).map_err(|e| {
                    let why = std::io::Error::from_raw_os_error(e.0);
                    Some(format!("the value {value:?} is refused: {why}"))
                }),
                _ => Err(None),
            };
            match r {
                Ok(()) => false,
                Err(why) => {
                    first_err.get_or_insert_with(|| SysctlError {
                        name: name.clone(),
                        unknown: why.is_none(),
                        why: why.unwrap_or_else(|| UNKNOWN.to_string()),
                    });
                    true
                }
            }
        });
        match first_err {
            None => return Ok(()),
            Some(e) if pending.len() == before => return Err(e),
            Some(_) => {}
        }
    }
}

/// Checks a container's `linux.sysctl` without a sandbox: [`apply`] on fresh values.
pub fn check(list: &[(String, String)]) -> Result<(), SysctlError> {
    apply(&Sysctls::default(), &Uts::default(), list)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn values_are_parsed_as_proc_dointvec_does() {
        assert_eq!(parse(b"1\n", 1), Ok(vec![1]));
        assert_eq!(parse(b"  -5 7 8", 2), Ok(vec![-5, 7]));
        assert_eq!(parse(b"0x10 010", 2), Ok(vec![16, 8]));
        for bad in [
            &b""[..],
            b" \n",
            b"abc",
            b"1x",
            b"4294967296",
            b"2147483648",
            b"--1",
            b"0x",
        ] {
            assert_eq!(
                parse(bad, 1),
                Err(Errno::EINVAL),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(parse(b"-2147483648", 1), Ok(vec![i64::from(i32::MIN)]));
    }

    #[test]
    fn writes_are_checked_as_linux_checks_them() {
        let s = Sysctls::default();
        assert_eq!(s.show("net.ipv4.ip_forward"), b"0\n");
        assert_eq!(s.show("net.ipv4.ip_local_port_range"), b"32768\t60999\n");
        assert_eq!(s.show("net.ipv4.ping_group_range"), b"1\t0\n");
        s.write("net.ipv4.ip_forward", b"1\n", None).unwrap();
        assert_eq!(s.show("net.ipv4.ip_forward"), b"1\n");
        // Ranges, and the ports' order.
        assert_eq!(s.write("fs.mqueue.msg_max", b"0", None), Err(Errno::EINVAL));
        assert_eq!(
            s.write("fs.mqueue.msg_max", b"65537", None),
            Err(Errno::EINVAL)
        );
        s.write("fs.mqueue.msg_max", b"20", None).unwrap();
        assert_eq!(s.mqueue().msg_max, 20);
        let ports = "net.ipv4.ip_local_port_range";
        assert_eq!(s.write(ports, b"100 200", None), Err(Errno::EINVAL));
        assert_eq!(s.write(ports, b"3000 2000", None), Err(Errno::EINVAL));
        s.write(ports, b"2000", None).unwrap();
        assert_eq!(s.show(ports), b"2000\t60999\n");
        let start = "net.ipv4.ip_unprivileged_port_start";
        assert_eq!(s.write(start, b"2001", None), Err(Errno::EINVAL));
        s.write(start, b"0", None).unwrap();
        s.write(ports, b"100 200", None).unwrap();
        let ping = "net.ipv4.ping_group_range";
        s.write(ping, b"0 2147483647", None).unwrap();
        assert_eq!(s.show(ping), b"0\t2147483647\n");
        s.write(ping, b"5 4", None).unwrap();
        assert_eq!(s.show(ping), b"1\t0\n");
        assert_eq!(s.write(ping, b"0 4294967294", None), Err(Errno::EINVAL));
        assert_eq!(
            s.write("net.core.somaxconn", b"-1", None),
            Err(Errno::EINVAL)
        );
        s.write("net.core.somaxconn", b"128", None).unwrap();
        assert_eq!(s.somaxconn(), 128);
        assert_eq!(s.write("vm.swappiness", b"1", None), Err(Errno::ENOENT));
    }

    #[test]
    fn who_may_write() {
        let caps = |set: u64| crate::kernel::creds::Capabilities {
            effective: set,
            permitted: set,
            ..Default::default()
        };
        let user = Credentials::new(1000, 1000, Vec::new(), caps(0));
        let admin = Credentials::new(1000, 1000, Vec::new(), caps(1 << CAP_NET_ADMIN));
        let root = Credentials::new(0, 0, Vec::new(), caps(0));
        let fwd = "net.ipv4.ip_forward";
        assert!(!Sysctls::may_write(fwd, &user));
        assert!(Sysctls::may_write(fwd, &admin));
        assert!(Sysctls::may_write(fwd, &root));
        assert!(!Sysctls::may_write("fs.mqueue.msg_max", &admin));
        let s = Sysctls::default();
        // Root without CAP_NET_ADMIN opens ip_forward but may not change it.
        assert_eq!(s.write(fwd, b"1", Some(&root)), Err(Errno::EPERM));
        assert_eq!(s.write(fwd, b"1", Some(&admin)), Ok(()));
        assert_eq!(
            s.write("net.ipv4.ip_unprivileged_port_start", b"0", Some(&root)),
            Ok(())
        );
    }

    #[test]
    fn a_spec_is_applied_in_an_order_that_works() {
        let s = Sysctls::default();
        let uts = Uts::default();
        apply(
            &s,
            &uts,
            &list(&[
                ("net.ipv4.ip_local_port_range", "100 200"),
                ("net/ipv4/ip_unprivileged_port_start", "0"),
                ("net.ipv4.ip_forward", "1"),
                ("kernel.domainname", "example.org\nrest"),
            ]),
        )
        .unwrap();
        assert_eq!(s.show("net.ipv4.ip_local_port_range"), b"100\t200\n");
        assert_eq!(s.show("net.ipv4.ip_forward"), b"1\n");
        assert_eq!(uts.lock().unwrap().1, b"example.org");
        let e = check(&list(&[("kernel.shmmax", "65536")])).unwrap_err();
        assert_eq!(e.name, "kernel.shmmax");
        assert!(e.unknown && e.why.contains("does not have"), "{e}");
        let e = check(&list(&[("net.ipv4.ip_forward", "yes")])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "sysctl net.ipv4.ip_forward: the value \"yes\" is refused: Invalid argument (os error 22)"
        );
        assert!(!e.unknown);
        let e = check(&list(&[("net.ipv4.ip_local_port_range", "100 200")])).unwrap_err();
        assert!(e.why.contains("refused"), "{e}");
    }
}
