//! The process settings and path changes a sandbox applies before its processes run:
//! resource limits (`process.rlimits`), and masked and read-only paths.

use super::{describe, Config, DeviceNode, HostRoot, Rlimit, SandboxError, SpecMount};
use crate::errno::Errno;
use crate::kernel::Task;

/// The limits a process starts with: the Sentry's defaults with `set` applied, checked as
/// setrlimit(2) checks them (EINVAL for an unknown resource or a soft limit above the hard
/// one, EPERM for more open files than nr_open). What fails is named.
pub(super) fn rlimits_with(set: &[Rlimit]) -> Result<[(u64, u64); 16], SandboxError> {
    let mut r = crate::kernel::DEFAULT_RLIMITS;
    for l in set {
        let fail = |e: Errno| SandboxError::Rlimit {
            resource: l.resource,
            why: describe(e),
        };
        let slot = r.get_mut(l.resource as usize).ok_or(fail(Errno::EINVAL))?;
        if l.soft > l.hard {
            return Err(fail(Errno::EINVAL));
        }
        if l.resource == libc::RLIMIT_NOFILE && l.hard > NR_OPEN {
            return Err(fail(Errno::EPERM));
        }
        *slot = (l.soft, l.hard);
    }
    Ok(r)
}

/// The most open files a process may have (fs.nr_open), as prlimit64 enforces it.
const NR_OPEN: u64 = 1 << 20;

/// Applies `cfg`'s masked, then read-only, paths (`syscalls::mask_at_boot`,
/// `readonly_at_boot`) in the mount namespace of `task`, the first process, not yet
/// running: paths are looked up as the runtime's setup looks them up, as root with every
/// capability. Returns where masks were made.
pub(super) fn hide_paths(task: &mut Task, cfg: &Config) -> Result<Vec<Vec<u8>>, SandboxError> {
    if cfg.masked_paths.is_empty() && cfg.readonly_paths.is_empty() {
        return Ok(Vec::new());
    }
    let own = std::mem::take(&mut task.creds);
    let mut masks = Vec::new();
    let mut result = Ok(());
    let masked = cfg.masked_paths.iter().map(|p| (true, p));
    for (mask, p) in masked.chain(cfg.readonly_paths.iter().map(|p| (false, p))) {
        let r = if mask {
            crate::syscalls::mask_at_boot(task, p)
        } else {
            crate::syscalls::readonly_at_boot(task, p)
        };
        match r {
            Ok(Some(point)) if mask => masks.push(point),
            Ok(_) => {}
            Err(e) => {
                result = Err(SandboxError::Path {
                    what: if mask { "masking" } else { "making read-only" },
                    path: String::from_utf8_lossy(p).into_owned(),
                    why: describe(e),
                });
                break;
            }
        }
    }
    task.creds = own;
    result.map(|()| masks)
}

/// What executing pid 1's program would have given had the masks (made at `masks`) been
/// there when it was loaded, as runc makes them before it executes it: EACCES for the
/// program itself masked, ENOENT for one in a masked directory. The path is compared as
/// it was executed.
pub(super) fn masked_program(task: &Task, masks: &[Vec<u8>]) -> Option<Errno> {
    let exe = crate::fs::vfs::normalize(&task.cwd(), &task.exe);
    let under = |m: &Vec<u8>| m == b"/" || (exe.starts_with(m) && exe.get(m.len()) == Some(&b'/'));
    if masks.contains(&exe) {
        Some(Errno::EACCES)
    } else if masks.iter().any(under) {
        Some(Errno::ENOENT)
    } else {
        None
    }
}

/// Orders the table as the spec lists its mounts, after the root and the sandbox's own
/// mounts the spec does not name, and gives them the spec's sources: /proc/PID/mounts then
/// reads as runc's would (the spec's /dev, /dev/pts, /dev/shm are stood for by the
/// sandbox's own, made first). For each target the mount on top is the one moved; a
/// target the table lacks is skipped. The spec lists parents before children (runc needs
/// it too), so every mount still comes after the one it is on.
pub(super) fn arrange_mounts(ns: &crate::fs::vfs::MountNs, order: &[SpecMount]) {
    if order.is_empty() {
        return;
    }
    let trim = |p: &[u8]| {
        let n = crate::fs::vfs::normalize(b"/", p);
        match n.strip_suffix(b"/") {
            Some(s) if !s.is_empty() => s.to_vec(),
            _ => n,
        }
    };
    let _ = ns.update(|tab| {
        let mut ordered = Vec::new();
        for m in order {
            let target = trim(&m.target);
            if target == b"/" {
                continue;
            }
            if let Some(i) = tab.iter().rposition(|x| x.point == target) {
                let mut moved = tab.remove(i);
                if let Some(src) = &m.source {
                    moved.source = src.clone();
                }
                ordered.push(moved);
            }
        }
        // A mount of the sandbox's own on one that moved (its /dev/pts when the spec has
        // a /dev but no devpts) moves along, right after it.
        let under = |child: &[u8], parent: &[u8]| {
            parent == b"/"
                || child
                    .strip_prefix(parent)
                    .is_some_and(|r| r.first() == Some(&b'/'))
        };
        let mut front = Vec::new();
        let mut along: Vec<Vec<crate::fs::vfs::Mount>> = vec![Vec::new(); ordered.len()];
        for (i, m) in std::mem::take(tab).into_iter().enumerate() {
            let host = ordered
                .iter()
                .enumerate()
                .filter(|(_, o)| i > 0 && o.point != m.point && under(&m.point, &o.point))
                .max_by_key(|(_, o)| o.point.len())
                .map(|(j, _)| j);
            match host {
                Some(j) => along[j].push(m),
                None => front.push(m),
            }
        }
        *tab = front;
        for (m, with) in ordered.into_iter().zip(along) {
            tab.push(m);
            tab.extend(with);
        }
        Ok(())
    });
}

/// The tmpfs on /dev (the sandbox's own, populated by `fs::dev`), if /dev is one.
pub(super) fn dev_tmpfs(
    ns: &crate::fs::vfs::MountNs,
) -> Option<std::sync::Arc<crate::fs::tmpfs::Tmpfs>> {
    ns.snapshot().list().iter().rev().find_map(|m| match &m.fs {
        crate::fs::vfs::MountFs::Tmpfs(fs) if m.point == b"/dev" => Some(fs.clone()),
        _ => None,
    })
}

/// Makes the spec's device nodes in the sandbox's /dev (a tmpfs of the Sentry's), with
/// their directories, modes and owners. One that exists already (the Sentry's own
/// /dev/null...) is left as it is.
pub(super) fn make_devices(
    ns: &crate::fs::vfs::MountNs,
    devices: &[DeviceNode],
) -> Result<(), SandboxError> {
    use crate::fs::tmpfs::{Creds, NodeType};
    if devices.is_empty() {
        return Ok(());
    }
    let Some(fs) = dev_tmpfs(ns) else {
        return Ok(());
    };
    for d in devices {
        let fail = |e: Errno| SandboxError::Path {
            what: "making the device",
            path: String::from_utf8_lossy(&d.path).into_owned(),
            why: describe(e),
        };
        let rel = d.path.strip_prefix(b"/dev/").ok_or(fail(Errno::EINVAL))?;
        if rel.is_empty() || rel.split(|&b| b == b'/').any(|c| c == b".." || c == b".") {
            return Err(fail(Errno::EINVAL));
        }
        let comps: Vec<&[u8]> = rel
            .split(|&b| b == b'/')
            .filter(|c| !c.is_empty())
            .collect();
        for n in 1..comps.len() {
            match fs.mkdir(&comps[..n].join(&b'/'), 0o755, &Creds::ROOT) {
                Ok(_) | Err(Errno::EEXIST) => {}
                Err(e) => return Err(fail(e)),
            }
        }
        let made = match d.rdev {
            Some(rdev) => fs.make_device(rel, d.mode & 0o7777, rdev, d.block),
            None => fs
                .mknod(rel, NodeType::Fifo, d.mode & 0o7777, &Creds::ROOT)
                .map(drop),
        };
        match made {
            Ok(()) => {}
            Err(Errno::EEXIST) => continue,
            Err(e) => return Err(fail(e)),
        }
        fs.chmod(rel, d.mode & 0o7777, &Creds::ROOT).map_err(fail)?;
        fs.chown(rel, Some(d.uid), Some(d.gid), &Creds::ROOT)
            .map_err(fail)?;
    }
    Ok(())
}

/// Finds `cmd` in `PATH` inside the root, as a shell would.
pub(super) fn search_path(root: &HostRoot, cwd: &[u8], env: &[Vec<u8>], cmd: &[u8]) -> Vec<u8> {
    if cmd.contains(&b'/') {
        return cmd.to_vec();
    }
    let path = env
        .iter()
        .find_map(|e| e.strip_prefix(b"PATH="))
        .unwrap_or(b"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    for dir in path.split(|&b| b == b':') {
        let mut p = dir.to_vec();
        p.push(b'/');
        p.extend_from_slice(cmd);
        if let Ok(l) = root.lookup(cwd, &p, true) {
            if l.stat.st_mode & libc::S_IFMT == libc::S_IFREG {
                return p;
            }
        }
    }
    cmd.to_vec()
}

/// The home directory of `uid` in the root's /etc/passwd, "/" if it has none (what runc
/// puts in HOME when the environment lacks it).
fn home_of(root: &HostRoot, uid: u32) -> Vec<u8> {
    let text = (|| {
        use crate::fs::FileOps as _;
        let l = root.lookup(b"/", b"/etc/passwd", true).ok()?;
        let f = root.open_file(&l).ok()?;
        let mut out = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        while out.len() < 4 << 20 {
            let n = f.read(&mut buf, Some(out.len() as u64)).ok()?;
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        Some(out)
    })()
    .unwrap_or_default();
    for line in text.split(|&b| b == b'\n') {
        let f: Vec<&[u8]> = line.split(|&b| b == b':').collect();
        if f.len() >= 6 && f[2] == uid.to_string().as_bytes() && !f[5].is_empty() {
            return f[5].to_vec();
        }
    }
    b"/".to_vec()
}

/// `env` with HOME set from /etc/passwd if it has none.
pub(super) fn with_home(root: &HostRoot, uid: u32, mut env: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    if !env.iter().any(|e| e.starts_with(b"HOME=")) {
        env.push([&b"HOME="[..], &home_of(root, uid)].concat());
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(resource: u32, soft: u64, hard: u64) -> Rlimit {
        Rlimit {
            resource,
            soft,
            hard,
        }
    }

    #[test]
    fn rlimits_apply_over_the_defaults_as_setrlimit_checks_them() {
        let r = rlimits_with(&[
            limit(libc::RLIMIT_NOFILE, 512, 2048),
            limit(libc::RLIMIT_CORE, 0, 0),
        ])
        .unwrap();
        assert_eq!(r[libc::RLIMIT_NOFILE as usize], (512, 2048));
        assert_eq!(r[libc::RLIMIT_CORE as usize], (0, 0));
        let stack = libc::RLIMIT_STACK as usize;
        assert_eq!(r[stack], crate::kernel::DEFAULT_RLIMITS[stack]);
        assert_eq!(rlimits_with(&[]).unwrap(), crate::kernel::DEFAULT_RLIMITS);
        let err = |set: &[Rlimit]| rlimits_with(set).unwrap_err().to_string();
        assert_eq!(
            err(&[limit(16, 1, 1)]),
            "setting rlimit 16: Invalid argument (os error 22)"
        );
        assert_eq!(
            err(&[limit(libc::RLIMIT_CPU, 2, 1)]),
            "setting rlimit 0: Invalid argument (os error 22)"
        );
        assert_eq!(
            err(&[limit(libc::RLIMIT_NOFILE, 1, (1 << 20) + 1)]),
            "setting rlimit 7: Operation not permitted (os error 1)"
        );
        assert!(rlimits_with(&[limit(libc::RLIMIT_NOFILE, 1 << 20, 1 << 20)]).is_ok());
    }
}
