//! Host file and process helpers for the cgroup module: control-file reads and writes that
//! never create files, cgroup.procs, recursive removal, statfs and SIGKILL.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{CgroupError, Result, RMDIR_TRIES};

/// Sends SIGKILL to `pid`; a process already gone is fine.
pub(super) fn sigkill(pid: u32) {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return;
    };
    if pid <= 0 {
        return; // never 0 (our group) or -1 (everyone)
    }
    // SAFETY: kill(2) takes plain integers and touches no memory of ours; pid > 0 names a
    // single process.
    unsafe { libc::kill(pid, libc::SIGKILL) };
}

/// The filesystem type magic of `path`.
#[allow(clippy::useless_conversion)] // f_type is narrower than i64 on some targets
pub(super) fn fs_magic(path: &Path) -> Result<i64> {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).map_err(|_| {
        CgroupError::BadPath {
            path: path.display().to_string(),
            reason: "contains a NUL byte".into(),
        }
    })?;
    let mut st = std::mem::MaybeUninit::<libc::statfs>::zeroed();
    // SAFETY: `c` is a NUL-terminated string and `st` points to writable memory the size of
    // `struct statfs`; both outlive the call.
    let rc = unsafe { libc::statfs(c.as_ptr(), st.as_mut_ptr()) };
    if rc != 0 {
        return Err(io_err("statfs", path, io::Error::last_os_error()));
    }
    // SAFETY: statfs returned 0, so it filled the structure (and it was zeroed before).
    let st = unsafe { st.assume_init() };
    Ok(i64::from(st.f_type))
}

/// The runtime's own cgroups from /proc/self/cgroup: (controllers, path) per line; v2's line
/// has no controllers.
pub(super) fn parse_proc_cgroup(text: &str) -> Vec<(Vec<String>, String)> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.splitn(3, ':');
            let (_id, ctrls, path) = (f.next()?, f.next()?, f.next()?);
            let ctrls = ctrls
                .split(',')
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect();
            Some((ctrls, path.to_string()))
        })
        .collect()
}

pub(super) fn io_err(op: &'static str, path: &Path, source: io::Error) -> CgroupError {
    CgroupError::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}

pub(super) fn read(path: &Path) -> Result<String> {
    fs::read_to_string(path).map_err(|e| io_err("read", path, e))
}

/// Reads a file that may be missing (controller not there, cgroup gone).
pub(super) fn read_opt(path: &Path) -> Result<Option<String>> {
    match fs::read_to_string(path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err("read", path, e)),
    }
}

/// Writes a control file; never creates one.
pub(super) fn write(path: &Path, value: &str) -> Result<()> {
    write_raw(path, value).map_err(|source| CgroupError::Write {
        path: path.to_path_buf(),
        value: value.to_string(),
        source,
    })
}

pub(super) fn write_raw(path: &Path, value: &str) -> io::Result<()> {
    use std::io::Write as _;
    let mut f = fs::OpenOptions::new().write(true).open(path)?;
    f.write_all(value.as_bytes())
}

/// A number file; `max` (and v1's "unlimited" sentinel, left as is) reads as `u64::MAX`.
pub(super) fn parse_u64(path: &Path, s: &str) -> Result<u64> {
    let t = s.trim();
    if t == "max" {
        return Ok(u64::MAX);
    }
    t.parse().map_err(|_| CgroupError::Parse {
        path: path.to_path_buf(),
        content: t.chars().take(64).collect(),
    })
}

/// A number file that may be missing (0 then).
pub(super) fn read_u64_opt(path: &Path) -> Result<u64> {
    match read_opt(path)? {
        Some(s) => parse_u64(path, &s),
        None => Ok(0),
    }
}

/// A `key value` line from a flat-keyed file such as cpu.stat.
pub(super) fn keyed(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

/// Moves `pid` into `dir`, retrying EINVAL (a task still being forked) as runc does.
pub(super) fn write_procs(dir: &Path, pid: u32) -> Result<()> {
    let path = dir.join("cgroup.procs");
    let value = pid.to_string();
    let mut tries = 0;
    loop {
        match write_raw(&path, &value) {
            Ok(()) => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) && tries < 5 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(30));
            }
            Err(source) => {
                return Err(CgroupError::Write {
                    path,
                    value,
                    source,
                })
            }
        }
    }
}

/// Adds the pids of `dir` and every cgroup below it; a directory gone counts as empty.
pub(super) fn collect_procs(dir: &Path, out: &mut Vec<u32>) -> Result<()> {
    let path = dir.join("cgroup.procs");
    let Some(text) = read_opt(&path)? else {
        return Ok(());
    };
    for l in text.lines() {
        match l.trim().parse::<u32>() {
            Ok(p) if p > 0 => out.push(p),
            _ => {
                return Err(CgroupError::Parse {
                    path,
                    content: l.chars().take(64).collect(),
                })
            }
        }
    }
    for sub in subdirs(dir)? {
        collect_procs(&sub, out)?;
    }
    Ok(())
}

/// The child cgroups of `dir` (none if `dir` is gone).
pub(super) fn subdirs(dir: &Path) -> Result<Vec<PathBuf>> {
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_err("list", dir, e)),
    };
    let mut out = Vec::new();
    for ent in rd {
        let ent = ent.map_err(|e| io_err("list", dir, e))?;
        if ent.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            out.push(ent.path());
        }
    }
    Ok(out)
}

/// Removes `dir` and the cgroups below it, deepest first. Gone already is fine; busy is
/// retried a few times (the kernel may still be tearing down exited tasks).
pub(super) fn remove_tree(dir: &Path) -> Result<()> {
    for sub in subdirs(dir)? {
        remove_tree(&sub)?;
    }
    let mut delay = Duration::from_millis(10);
    for attempt in 1..=RMDIR_TRIES {
        match fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) && attempt < RMDIR_TRIES => {
                std::thread::sleep(delay);
                delay *= 2;
            }
            Err(e) => return Err(io_err("remove", dir, e)),
        }
    }
    Ok(())
}

/// Makes every missing directory from `base` (which exists) down to `leaf`, recording the
/// ones made, shallowest first. `leaf` must lie below `base`.
pub(super) fn mkdir_below(
    base: &Path,
    leaf: &Path,
    made: &mut Vec<PathBuf>,
) -> Result<Vec<PathBuf>> {
    let rel = leaf.strip_prefix(base).map_err(|_| CgroupError::BadPath {
        path: leaf.display().to_string(),
        reason: format!("not below {}", base.display()),
    })?;
    let mut levels = Vec::new();
    let mut cur = base.to_path_buf();
    for c in rel.components() {
        cur.push(c);
        match fs::create_dir(&cur) {
            Ok(()) => made.push(cur.clone()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                if !cur.is_dir() {
                    return Err(io_err(
                        "make cgroup",
                        &cur,
                        io::Error::from_raw_os_error(libc::ENOTDIR),
                    ));
                }
            }
            Err(e) => return Err(io_err("make cgroup", &cur, e)),
        }
        levels.push(cur.clone());
    }
    Ok(levels)
}
