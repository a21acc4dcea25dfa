//! Extended attributes (getxattr, setxattr, listxattr, removexattr and their l/f forms),
//! kept by the Sentry per file identity (device and inode number), so they never reach the
//! host: `user.*` on regular files and directories, `trusted.*` for root, `security.*`.
//! procfs and sysfs files have none and refuse them, as on Linux.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use super::path::{XattrKind, XattrOp, XattrTarget};
use crate::errno::{Errno, SysResult};
use crate::fs::file::Stat;
use crate::kernel::creds::{CAP_FOWNER, CAP_SYS_ADMIN};
use crate::kernel::Task;

/// Longest name and value, as Linux's XATTR_NAME_MAX and XATTR_SIZE_MAX.
const NAME_MAX: usize = 255;
const SIZE_MAX: usize = 65536;
/// Device numbers of procfs and sysfs.
const PSEUDO_DEVS: [u64; 1] = [0x16];

/// Attributes of every file that has some, by (st_dev, st_ino).
type Table = HashMap<(u64, u64), BTreeMap<Vec<u8>, Vec<u8>>>;

fn table() -> &'static Mutex<Table> {
    static T: std::sync::OnceLock<Mutex<Table>> = std::sync::OnceLock::new();
    T.get_or_init(Mutex::default)
}

/// The namespace rules for `name` on a file of type `mode`: who may see it and set it.
fn check_name(t: &Task, name: &[u8], mode: u32, set: bool) -> Result<(), Errno> {
    if name.is_empty() || name.len() > NAME_MAX {
        return Err(Errno::ERANGE);
    }
    let kind = mode & libc::S_IFMT;
    if let Some(rest) = name.strip_prefix(b"user.") {
        if rest.is_empty() {
            return Err(Errno::EINVAL);
        }
        // user.* lives only on regular files and directories.
        if kind != libc::S_IFREG && kind != libc::S_IFDIR {
            return Err(if set { Errno::EPERM } else { Errno::ENODATA });
        }
        return Ok(());
    }
    if name.starts_with(b"trusted.") {
        if !t.creds.has_cap(CAP_SYS_ADMIN) {
            return Err(if set { Errno::EPERM } else { Errno::ENODATA });
        }
        return Ok(());
    }
    if name.starts_with(b"security.") {
        return Ok(());
    }
    Err(Errno::EOPNOTSUPP)
}

/// Reads the NUL-terminated attribute name at `addr`.
fn read_name(t: &Task, addr: u64) -> Result<Vec<u8>, Errno> {
    match t.mm().read_cstring(addr, NAME_MAX) {
        Err(Errno::ENAMETOOLONG) => Err(Errno::ERANGE),
        r => r,
    }
}

/// The status of the file the call names (and with it the arguments' offset).
fn target(t: &mut Task, a: [u64; 6], target: XattrTarget) -> Result<Stat, Errno> {
    match target {
        XattrTarget::Fd => {
            let f = t.fds().get(a[0] as i32)?;
            if f.flags.load(std::sync::atomic::Ordering::Relaxed) & libc::O_PATH as u32 != 0 {
                return Err(Errno::EBADF);
            }
            f.ops.stat()
        }
        XattrTarget::Path { follow } => {
            let p = t.read_path(a[0])?;
            super::file::stat_of(t, libc::AT_FDCWD as u64, &p, follow)
        }
    }
}

pub fn xattr(t: &mut Task, a: [u64; 6], op: XattrOp) -> SysResult {
    let st = target(t, a, op.target)?;
    let key = (st.dev, st.ino);
    let pseudo = PSEUDO_DEVS.contains(&st.dev);
    match op.kind {
        XattrKind::Set => {
            let (name, value, size, flags) = (read_name(t, a[1])?, a[2], a[3] as usize, a[4]);
            const CREATE: u64 = 1;
            const REPLACE: u64 = 2;
            if flags & !(CREATE | REPLACE) != 0 {
                return Err(Errno::EINVAL);
            }
            if size > SIZE_MAX {
                return Err(Errno::E2BIG);
            }
            check_name(t, &name, st.mode, true)?;
            if pseudo {
                return Err(Errno::EOPNOTSUPP);
            }
            // The owner (or CAP_FOWNER) sets user.* attributes.
            if name.starts_with(b"user.") && st.uid != t.creds.fsuid && !t.creds.has_cap(CAP_FOWNER)
            {
                return Err(Errno::EPERM);
            }
            let mut v = vec![0u8; size];
            t.read_mem(value, &mut v)?;
            let mut tb = table().lock().unwrap_or_else(|e| e.into_inner());
            let attrs = tb.entry(key).or_default();
            let exists = attrs.contains_key(&name);
            if flags & CREATE != 0 && exists {
                return Err(Errno::EEXIST);
            }
            if flags & REPLACE != 0 && !exists {
                return Err(Errno::ENODATA);
            }
            attrs.insert(name, v);
            Ok(0)
        }
        XattrKind::Get => {
            let (name, buf, size) = (read_name(t, a[1])?, a[2], a[3] as usize);
            check_name(t, &name, st.mode, false)?;
            let v = {
                let tb = table().lock().unwrap_or_else(|e| e.into_inner());
                tb.get(&key).and_then(|m| m.get(&name)).cloned()
            };
            let v = v.ok_or(Errno::ENODATA)?;
            if size == 0 {
                return Ok(v.len() as u64);
            }
            if size < v.len() {
                return Err(Errno::ERANGE);
            }
            t.write_mem(buf, &v)?;
            Ok(v.len() as u64)
        }
        XattrKind::List => {
            let (buf, size) = (a[1], a[2] as usize);
            let mut out = Vec::new();
            {
                let tb = table().lock().unwrap_or_else(|e| e.into_inner());
                for name in tb.get(&key).into_iter().flat_map(|m| m.keys()) {
                    if check_name(t, name, st.mode, false).is_ok() {
                        out.extend_from_slice(name);
                        out.push(0);
                    }
                }
            }
            if size == 0 {
                return Ok(out.len() as u64);
            }
            if size < out.len() {
                return Err(Errno::ERANGE);
            }
            t.write_mem(buf, &out)?;
            Ok(out.len() as u64)
        }
        XattrKind::Remove => {
            let name = read_name(t, a[1])?;
            check_name(t, &name, st.mode, true)?;
            if name.starts_with(b"user.") && st.uid != t.creds.fsuid && !t.creds.has_cap(CAP_FOWNER)
            {
                return Err(Errno::EPERM);
            }
            let mut tb = table().lock().unwrap_or_else(|e| e.into_inner());
            let removed = tb.get_mut(&key).and_then(|m| m.remove(&name));
            removed.map(|_| 0).ok_or(Errno::ENODATA)
        }
    }
}
