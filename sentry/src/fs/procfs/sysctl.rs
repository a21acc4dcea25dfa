//! /proc/sys: the sandbox's tunables. Those the kernel keeps (`kernel::sysctl`: net.*,
//! fs.mqueue.*) and the UTS names (kernel.hostname, kernel.domainname) are 0644 and take
//! writes with Linux's checks; the others describe the sandbox and are read-only.
//!
//! As Linux's sysctl_perm, permission is the file's mode for root and the rest alike (root's
//! CAP_DAC_OVERRIDE does not apply): a file the opener may not write does not open for
//! writing (EACCES). Root may write the 0644 ones; so may a holder of CAP_NET_ADMIN (net.*)
//! or CAP_SYS_RESOURCE (fs.mqueue.*).

use std::sync::Arc;

use super::system::{boot_id, dir, file, uuid, RELEASE, VERSION};
use super::{Found, Node, Setter, DT_DIR, DT_REG};
use crate::errno::Errno;
use crate::kernel::sysctl::{self, Sysctls};
use crate::kernel::Task;

/// The node at /proc/sys/`rest`.
pub fn sys(t: &Task, rest: &[&[u8]]) -> Result<Found, Errno> {
    let mut f = node(t, rest)?;
    if matches!(f.node, Node::File(_)) {
        f.deny_write = true;
    }
    Ok(f)
}

fn node(t: &Task, rest: &[&[u8]]) -> Result<Found, Errno> {
    match rest {
        [] => dir(&[
            (b"fs", DT_DIR),
            (b"kernel", DT_DIR),
            (b"net", DT_DIR),
            (b"vm", DT_DIR),
        ]),
        [b"kernel"] => dir(&[
            (b"cap_last_cap", DT_REG),
            (b"domainname", DT_REG),
            (b"hostname", DT_REG),
            (b"ngroups_max", DT_REG),
            (b"osrelease", DT_REG),
            (b"ostype", DT_REG),
            (b"overflowgid", DT_REG),
            (b"overflowuid", DT_REG),
            (b"pid_max", DT_REG),
            (b"random", DT_DIR),
            (b"threads-max", DT_REG),
            (b"version", DT_REG),
            (b"yama", DT_DIR),
        ]),
        [b"kernel", b"hostname"] => uts(t, false),
        [b"kernel", b"domainname"] => uts(t, true),
        [b"kernel", b"osrelease"] => file(format!("{RELEASE}\n")),
        [b"kernel", b"ostype"] => file("Linux\n"),
        [b"kernel", b"version"] => file(format!("{VERSION}\n")),
        [b"kernel", b"pid_max"] => file("4194304\n"),
        [b"kernel", b"threads-max"] => file("63704\n"),
        [b"kernel", b"ngroups_max"] => file("65536\n"),
        [b"kernel", b"cap_last_cap"] => file("40\n"),
        [b"kernel", b"overflowuid"] | [b"kernel", b"overflowgid"] => file("65534\n"),
        [b"kernel", b"random"] => dir(&[(b"boot_id", DT_REG), (b"uuid", DT_REG)]),
        [b"kernel", b"random", b"boot_id"] => file(boot_id(t)),
        [b"kernel", b"random", b"uuid"] => file(format!("{}\n", uuid())),
        [b"kernel", b"yama"] => dir(&[(b"ptrace_scope", DT_REG)]),
        [b"kernel", b"yama", b"ptrace_scope"] => file("1\n"),
        [b"fs"] => dir(&[
            (b"file-max", DT_REG),
            (b"file-nr", DT_REG),
            (b"mqueue", DT_DIR),
            (b"nr_open", DT_REG),
            (b"pipe-max-size", DT_REG),
        ]),
        [b"fs", b"file-max"] => file("9223372036854775807\n"),
        [b"fs", b"file-nr"] => file("0\t0\t9223372036854775807\n"),
        [b"fs", b"nr_open"] => file("1048576\n"),
        [b"fs", b"pipe-max-size"] => file("1048576\n"),
        [b"vm"] => dir(&[
            (b"max_map_count", DT_REG),
            (b"mmap_min_addr", DT_REG),
            (b"overcommit_memory", DT_REG),
        ]),
        [b"vm", b"max_map_count"] => file("65530\n"),
        [b"vm", b"mmap_min_addr"] => file("65536\n"),
        [b"vm", b"overcommit_memory"] => file("0\n"),
        _ => kept(t, rest),
    }
}

/// kernel.hostname or kernel.domainname: the task's UTS namespace's, written as
/// proc_dostring takes it; root may write it.
fn uts(t: &Task, domain: bool) -> Result<Found, Errno> {
    let names = t.uts.clone();
    let shown = {
        let u = names.lock().unwrap_or_else(|e| e.into_inner());
        [if domain { &u.1 } else { &u.0 }, &b"\n"[..]].concat()
    };
    let set: Setter = Arc::new(move |data: &[u8]| {
        let mut u = names.lock().unwrap_or_else(|e| e.into_inner());
        let v = sysctl::uts_value(data);
        if domain {
            u.1 = v;
        } else {
            u.0 = v;
        }
        Ok(())
    });
    let mut f = Found::new(Node::Tunable(shown, set), 0, 0o644);
    f.deny_write = t.creds.euid != 0;
    Ok(f)
}

/// A sysctl the kernel keeps, or a directory of them (under net/ and fs/mqueue/).
fn kept(t: &Task, rest: &[&[u8]]) -> Result<Found, Errno> {
    let mut name = String::new();
    for c in rest {
        let c = std::str::from_utf8(c).map_err(|_| Errno::ENOENT)?;
        if c.is_empty() || c.contains('.') {
            return Err(Errno::ENOENT);
        }
        if !name.is_empty() {
            name.push('.');
        }
        name.push_str(c);
    }
    if sysctl::is_kept(&name) {
        let shown = t.kernel.sysctl.show(&name);
        let deny_write = !Sysctls::may_write(&name, &t.creds);
        let kernel = Arc::downgrade(&t.kernel);
        let creds = t.creds.clone();
        let set: Setter = Arc::new(move |data: &[u8]| {
            let k = kernel.upgrade().ok_or(Errno::EIO)?;
            k.sysctl.write(&name, data, Some(&creds))
        });
        let mut f = Found::new(Node::Tunable(shown, set), 0, 0o644);
        f.deny_write = deny_write;
        return Ok(f);
    }
    let entries = sysctl::children(&name);
    if entries.is_empty() {
        return Err(Errno::ENOENT);
    }
    Ok(Found::new(
        Node::Dir(
            entries
                .into_iter()
                .map(|(n, is_dir)| (n.as_bytes().to_vec(), if is_dir { DT_DIR } else { DT_REG }))
                .collect(),
        ),
        0,
        0o555,
    ))
}
