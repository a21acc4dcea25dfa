//! A container's bind mounts from the host (Docker's /etc/hosts, /etc/resolv.conf,
//! /etc/hostname, volumes): made by `rvisor boot` on the host, in the mount namespace of its
//! own (so they vanish with the sandbox and never show on the host), onto the rootfs the
//! gofer then serves. The Sentry sees them as part of the root and writes through to
//! them; read-only ones are remounted read-only on the host too.
//!
//! Mount points are made inside the rootfs one component at a time from a descriptor of
//! the rootfs, never following a symlink (a destination through a symlink is refused), so
//! a hostile image cannot redirect a mount onto the host.

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use anyhow::{bail, Context as _};

use crate::oci;

fn cstr(s: &[u8]) -> anyhow::Result<CString> {
    CString::new(s).context("a path with a NUL byte")
}

fn last_err(what: &str) -> anyhow::Error {
    anyhow::Error::new(std::io::Error::last_os_error()).context(what.to_string())
}

/// Opens `name` in `dir` as a directory, not following a symlink; makes it if missing.
fn open_dir(dir: RawFd, name: &[u8], create: bool) -> anyhow::Result<OwnedFd> {
    let c = cstr(name)?;
    let flags = libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    // SAFETY: openat on a descriptor we hold with a NUL-terminated name.
    let mut fd = unsafe { libc::openat(dir, c.as_ptr(), flags) };
    if fd < 0 && create && std::io::Error::last_os_error().raw_os_error() == Some(libc::ENOENT) {
        // SAFETY: as above.
        unsafe { libc::mkdirat(dir, c.as_ptr(), 0o755) };
        // SAFETY: as above.
        fd = unsafe { libc::openat(dir, c.as_ptr(), flags) };
    }
    if fd < 0 {
        return Err(last_err(&format!(
            "{} (a mount destination must be a path of directories, no symlink)",
            String::from_utf8_lossy(name)
        )));
    }
    // SAFETY: a fresh descriptor we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Makes (if missing) and opens the mount point `dest` under `root`: a directory, or a
/// file when `file`.
fn mount_point(root: &OwnedFd, dest: &str, file: bool) -> anyhow::Result<OwnedFd> {
    let comps: Vec<&[u8]> = dest
        .as_bytes()
        .split(|&b| b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
        .collect();
    if comps.iter().any(|c| *c == b"..") {
        bail!("mount destination {dest}: \"..\" is not allowed");
    }
    let Some((last, dirs)) = comps.split_last() else {
        bail!("mount destination {dest}: the root itself");
    };
    let mut dir = root.try_clone()?;
    for c in dirs {
        dir = open_dir(dir.as_raw_fd(), c, true)?;
    }
    if !file {
        return open_dir(dir.as_raw_fd(), last, true);
    }
    let c = cstr(last)?;
    // SAFETY: openat on a held directory descriptor with a NUL-terminated name.
    let fd = unsafe {
        libc::openat(
            dir.as_raw_fd(),
            c.as_ptr(),
            libc::O_CREAT | libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
            0o644,
        )
    };
    if fd < 0 {
        return Err(last_err(&format!("mount destination {dest}")));
    }
    // SAFETY: a fresh descriptor we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// mount(2) with paths.
fn mount(src: Option<&[u8]>, target: &[u8], flags: libc::c_ulong) -> anyhow::Result<()> {
    let s = src.map(cstr).transpose()?;
    let t = cstr(target)?;
    // SAFETY: mount(2) with NUL-terminated strings (or NULL) that outlive the call.
    let r = unsafe {
        libc::mount(
            s.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()),
            t.as_ptr(),
            std::ptr::null(),
            flags,
            std::ptr::null(),
        )
    };
    if r != 0 {
        return Err(last_err(&format!(
            "mounting onto {}",
            String::from_utf8_lossy(target)
        )));
    }
    Ok(())
}

/// The flags of the mount at `fd` that a bind remount must keep (as `MS_*`): read-only,
/// nosuid, nodev, noexec and the atime mode. In the sandbox process's user namespace the
/// kernel locks them on mounts that came from the host, and a remount that would clear one
/// is EPERM; outside one, keeping them is what a bind of that mount means anyway.
fn kept_flags(fd: &OwnedFd) -> anyhow::Result<libc::c_ulong> {
    // SAFETY: statvfs is plain data; all zeros is a valid value.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: fstatvfs fills `st` for a descriptor we own.
    if unsafe { libc::fstatvfs(fd.as_raw_fd(), &mut st) } != 0 {
        return Err(last_err("statvfs of a bind mount"));
    }
    let pairs = [
        (libc::ST_RDONLY, libc::MS_RDONLY),
        (libc::ST_NOSUID, libc::MS_NOSUID),
        (libc::ST_NODEV, libc::MS_NODEV),
        (libc::ST_NOEXEC, libc::MS_NOEXEC),
        (libc::ST_NOATIME, libc::MS_NOATIME),
        (libc::ST_NODIRATIME, libc::MS_NODIRATIME),
        (libc::ST_RELATIME, libc::MS_RELATIME),
    ];
    Ok(pairs
        .iter()
        .filter(|(st_flag, _)| st.f_flag & st_flag != 0)
        .fold(0, |acc, (_, ms)| acc | ms))
}

/// The root column of the host's mountinfo for the mount last made at `at`: the bind's
/// source, as a path in its own filesystem.
fn host_root_of(at: &std::path::Path) -> Option<Vec<u8>> {
    use std::os::unix::ffi::OsStrExt;
    let info = std::fs::read("/proc/self/mountinfo").ok()?;
    // mountinfo escapes space, tab, newline and backslash as \ooo.
    let unescape = |f: &[u8]| -> Vec<u8> {
        let mut out = Vec::with_capacity(f.len());
        let mut i = 0;
        while i < f.len() {
            let oct = f
                .get(i + 1..i + 4)
                .filter(|d| f[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)));
            match oct {
                Some(d) => {
                    out.push(
                        d.iter()
                            .fold(0u8, |v, c| v.wrapping_mul(8).wrapping_add(c - b'0')),
                    );
                    i += 4;
                }
                None => {
                    out.push(f[i]);
                    i += 1;
                }
            }
        }
        out
    };
    info.split(|&c| c == b'\n').rev().find_map(|l| {
        let f: Vec<&[u8]> = l.split(|&c| c == b' ').collect();
        (f.len() > 4 && unescape(f[4]) == at.as_os_str().as_bytes()).then(|| unescape(f[3]))
    })
}

/// Makes the bind mounts of `b`'s spec onto its rootfs; returns where they are. The caller
/// is in a mount namespace of its own whose mounts are private ([`crate::jail`]).
pub fn mount_binds(b: &oci::Bundle) -> anyhow::Result<Vec<sentry::sandbox::BindPoint>> {
    let binds: Vec<&oci::Mount> = b
        .spec
        .mounts
        .iter()
        .filter(|m| m.is_bind() || oci::parse_mount_options(&m.options).is_bind())
        .collect();
    if binds.is_empty() {
        return Ok(Vec::new());
    }
    let root = std::fs::File::open(&b.rootfs)
        .with_context(|| format!("opening {}", b.rootfs.display()))?;
    let root = OwnedFd::from(root);
    let mut points = Vec::new();
    for m in binds {
        let src = b
            .mount_source(m)
            .with_context(|| format!("bind mount onto {} has no source", m.destination))?;
        let meta = std::fs::metadata(&src)
            .with_context(|| format!("bind mount source {}", src.display()))?;
        let opts = oci::parse_mount_options(&m.options);
        let target = mount_point(&root, &m.destination, !meta.is_dir())?;
        let through_fd = format!("/proc/self/fd/{}", target.as_raw_fd());
        let rec = if opts.is_recursive_bind() {
            libc::MS_REC
        } else {
            0
        };
        use std::os::unix::ffi::OsStrExt;
        mount(
            Some(src.as_os_str().as_bytes()),
            through_fd.as_bytes(),
            libc::MS_BIND | rec,
        )
        .with_context(|| format!("bind mount of {}", src.display()))?;
        let extra = opts.flags & (libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC);
        let readonly = opts.is_readonly();
        if readonly || extra != 0 {
            // The mount just made is on top at the destination, which was checked to have no
            // symlink on the way.
            let path = b.rootfs.join(m.destination.trim_start_matches('/'));
            use std::os::unix::fs::OpenOptionsExt;
            let made = std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_PATH | libc::O_NOFOLLOW)
                .open(&path)
                .with_context(|| format!("opening the bind mount {}", path.display()))?;
            let mut flags = libc::MS_REMOUNT | libc::MS_BIND | extra | kept_flags(&made.into())?;
            if readonly {
                flags |= libc::MS_RDONLY;
            }
            mount(None, path.as_os_str().as_bytes(), flags)?;
        }
        let point = sentry::fs::vfs::normalize(b"/", m.destination.as_bytes());
        let point = match point.strip_suffix(b"/") {
            Some(p) if !p.is_empty() => p.to_vec(),
            _ => point,
        };
        let real_root = std::fs::canonicalize(&b.rootfs).unwrap_or_else(|_| b.rootfs.clone());
        let shown_root = host_root_of(&real_root.join(m.destination.trim_start_matches('/')));
        points.push(sentry::sandbox::BindPoint {
            point,
            readonly,
            flags: extra,
            shown_root,
        });
    }
    Ok(points)
}
