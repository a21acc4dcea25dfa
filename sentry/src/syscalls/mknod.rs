//! mknod(2) and mknodat(2): named pipes, empty regular files and socket inodes, in the
//! tmpfs mounts and in the root (its overlay's upper layer). Device nodes are never made
//! (EPERM, as for a caller without CAP_MKNOD in the initial user namespace).

use super::file::{base_dir, creds};
use super::path::proc_readonly;
use crate::errno::{Errno, SysResult};
use crate::fs::overlay::Node;
use crate::fs::tmpfs::{Creds, NodeType, Resolution};
use crate::fs::vfs::Place;
use crate::kernel::Task;

pub fn mknodat(t: &mut Task, dirfd: u64, path: u64, mode: u64, _dev: u64) -> SysResult {
    // umode_t: the upper bits of the argument are not part of it.
    let mode = mode as u32 & 0xffff;
    let ty = NodeType::from_mode(mode)?;
    let p = t.read_path(path)?;
    let cwd = base_dir(t, dirfd, &p)?;
    super::mount::writable(t, &cwd, &p, super::mount::Change::Create)?;
    let c = creds(t);
    t.mounts()
        .resolve(&cwd, &p, |pl| match pl {
            Place::Tmp(rel) if rel.is_empty() => Err(Errno::EEXIST),
            Place::Tmp(rel) => rel.fs.mknod(&rel, ty, mode & 0o7777, &c),
            Place::Host(abs) => root_mknod(t, &abs, ty, mode & 0o7777, &c),
            Place::Proc(rel) => proc_readonly(t, &rel, false),
        })
        .map(|_| 0)
}

/// mknod in the root: made in the overlay's upper layer (its directories copied up).
fn root_mknod(
    t: &Task,
    abs: &[u8],
    ty: NodeType,
    mode: u32,
    c: &Creds,
) -> Result<Resolution<()>, Errno> {
    if t.kernel.root.write_through_at(abs) {
        return super::writethrough::mknod(t, abs, ty, mode, c);
    }
    let ov = &t.kernel.overlay;
    match super::rootfs::walk(t, abs, false)? {
        Resolution::Escape { target, rest } => Ok(Resolution::Escape { target, rest }),
        Resolution::Done(f) => match f.node {
            Node::Missing if abs.ends_with(b"/") => Err(Errno::ENOENT),
            Node::Missing => ov
                .create(&t.kernel.root, &f.path, false, |fs, p| {
                    fs.mknod(p, ty, mode, c)
                })
                .map(Resolution::Done),
            _ => Err(Errno::EEXIST),
        },
    }
}
