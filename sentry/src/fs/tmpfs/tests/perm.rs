//! Tests of permission checks (the rules themselves are tested in `fs::perm`): that each
//! operation asks them, of the right inodes, with the caller's credentials.

use super::*;

fn user(uid: u32, groups: &[u32]) -> Creds {
    Creds {
        uid,
        gid: uid,
        umask: 0,
        groups: groups.to_vec(),
        caps: 0,
        mapped_only: false,
    }
}

/// A file made by root, then given `uid`:`gid` and `mode`.
fn file_as(fs: &Tmpfs, path: &str, uid: u32, gid: u32, mode: u32) {
    write_file(fs, path, b"data");
    done(fs.chown(path.as_bytes(), Some(uid), Some(gid), &ROOT)).unwrap();
    done(fs.chmod(path.as_bytes(), mode, &ROOT)).unwrap();
}

fn dir_as(fs: &Tmpfs, path: &str, uid: u32, gid: u32, mode: u32) {
    mkdir(fs, path).unwrap();
    done(fs.chown(path.as_bytes(), Some(uid), Some(gid), &ROOT)).unwrap();
    done(fs.chmod(path.as_bytes(), mode, &ROOT)).unwrap();
}

#[test]
fn sticky_directory_removals() {
    let fs = fs();
    let u = user(1000, &[]);
    dir_as(&fs, "t", 0, 0, 0o1777);
    file_as(&fs, "t/root", 0, 0, 0o666);
    file_as(&fs, "t/mine", 1000, 1000, 0o644);
    dir_as(&fs, "t/rootdir", 0, 0, 0o777);
    assert_eq!(done(fs.unlink(b"t/root", &u)), Err(Errno::EPERM));
    assert_eq!(done(fs.rmdir(b"t/rootdir", &u)), Err(Errno::EPERM));
    assert_eq!(fs.rename(b"t/root", b"t/x", 0, &u), Err(Errno::EPERM));
    assert_eq!(fs.rename(b"t/mine", b"t/root", 0, &u), Err(Errno::EPERM));
    assert_eq!(
        fs.rename(b"t/mine", b"t/root", RENAME_EXCHANGE, &u),
        Err(Errno::EPERM)
    );
    fs.rename(b"t/mine", b"t/mine2", 0, &u).unwrap();
    done(fs.unlink(b"t/mine2", &u)).unwrap();
    done(fs.unlink(b"t/root", &ROOT)).unwrap();
    // The owner of the directory removes anything in it.
    dir_as(&fs, "t/own", 1000, 1000, 0o1777);
    file_as(&fs, "t/own/root", 0, 0, 0o600);
    done(fs.unlink(b"t/own/root", &u)).unwrap();
}

#[test]
fn directory_write_permission() {
    let fs = fs();
    let u = user(1000, &[]);
    dir_as(&fs, "ro", 0, 0, 0o755);
    file_as(&fs, "ro/f", 1000, 1000, 0o666);
    file_as(&fs, "mine", 1000, 1000, 0o644);
    let eacces = Err(Errno::EACCES);
    assert_eq!(done(fs.mkdir(b"ro/d", 0o755, &u)), eacces);
    assert_eq!(done(fs.symlink(b"x", b"ro/l", &u)), eacces);
    assert_eq!(
        done(fs.open(b"ro/n", CREAT | WRONLY, 0o644, &u)).err(),
        Some(Errno::EACCES)
    );
    assert_eq!(
        done(fs.open(b"ro", TMPFILE | RDWR, 0o644, &u)).err(),
        Some(Errno::EACCES)
    );
    assert_eq!(done(fs.unlink(b"ro/f", &u)), eacces);
    assert_eq!(fs.link(b"mine", b"ro/m", &u), eacces);
    assert_eq!(fs.rename(b"ro/f", b"f", 0, &u), eacces);
    assert_eq!(fs.rename(b"mine", b"ro/m", 0, &u), eacces);
    // Existing names are still reported first.
    assert_eq!(done(fs.mkdir(b"ro/f", 0o755, &u)), Err(Errno::EEXIST));
    // A directory one may not write does not move to another parent.
    dir_as(&fs, "w", 0, 0, 0o777);
    dir_as(&fs, "w/sub", 0, 0, 0o755);
    assert_eq!(fs.rename(b"w/sub", b"sub", 0, &u), eacces);
    fs.rename(b"w/sub", b"w/sub2", 0, &u).unwrap();
}

#[test]
fn setgid_directory_and_groups() {
    let fs = fs();
    let u = user(1000, &[2000]);
    dir_as(&fs, "g", 0, 3000, 0o2777);
    done(fs.mkdir(b"g/d", 0o755, &u)).unwrap();
    let st = stat(&fs, "g/d").unwrap();
    assert_eq!((st.mode & 0o7777, st.gid), (0o2755, 3000));
    let f = done(fs.open(b"g/f", CREAT | WRONLY, 0o2775, &u)).unwrap();
    assert_eq!(f.stat().unwrap().mode & 0o7777, 0o775, "not in group 3000");
    done(fs.mknod(b"g/n", NodeType::Regular, 0o2775, &u)).unwrap();
    assert_eq!(stat(&fs, "g/n").unwrap().mode & 0o7777, 0o775);
    // A member of the group keeps it.
    let member = user(1001, &[3000]);
    let f = done(fs.open(b"g/m", CREAT | WRONLY, 0o2775, &member)).unwrap();
    assert_eq!(f.stat().unwrap().mode & 0o7777, 0o2775);
    // Supplementary groups give write access to a group-writable directory.
    dir_as(&fs, "shared", 0, 2000, 0o775);
    done(fs.mkdir(b"shared/x", 0o755, &u)).unwrap();
    assert_eq!(
        done(fs.mkdir(b"shared/y", 0o755, &user(1002, &[]))),
        Err(Errno::EACCES)
    );
}

#[test]
fn attributes_need_ownership() {
    let fs = fs();
    let u = user(1000, &[2000]);
    file_as(&fs, "theirs", 0, 0, 0o666);
    file_as(&fs, "ro", 0, 0, 0o644);
    file_as(&fs, "mine", 1000, 1000, 0o6755);
    assert_eq!(done(fs.chmod(b"theirs", 0o600, &u)), Err(Errno::EPERM));
    assert_eq!(
        done(fs.chown(b"theirs", Some(0), None, &u)),
        Err(Errno::EPERM)
    );
    done(fs.chown(b"theirs", None, None, &u)).unwrap();
    assert_eq!(
        done(fs.chown(b"mine", None, Some(3000), &u)),
        Err(Errno::EPERM)
    );
    done(fs.chown(b"mine", None, Some(2000), &u)).unwrap();
    let st = stat(&fs, "mine").unwrap();
    assert_eq!((st.mode & 0o7777, st.gid), (0o755, 2000));
    let (t, now) = (Some((5, 0)), Some((0, UTIME_NOW)));
    assert_eq!(done(fs.utimens(b"theirs", t, t, &u)), Err(Errno::EPERM));
    done(fs.utimens(b"theirs", now, now, &u)).unwrap();
    assert_eq!(done(fs.utimens(b"ro", now, now, &u)), Err(Errno::EACCES));
    assert_eq!(
        done(fs.utimens(b"theirs", now, None, &u)),
        Err(Errno::EPERM)
    );
    done(fs.utimens(b"mine", t, t, &u)).unwrap();
    // Links of files one may not write (fs.protected_hardlinks).
    assert_eq!(fs.link(b"ro", b"ro2", &u), Err(Errno::EPERM));
    fs.link(b"theirs", b"theirs2", &u).unwrap();
    // fchmod and fchown of open files ask the same.
    let f = open(&fs, "theirs", RDONLY).unwrap();
    assert_eq!(chmod_open(&*f, 0o600, &u), Some(Err(Errno::EPERM)));
    assert_eq!(chown_open(&*f, None, Some(0), &u), Some(Err(Errno::EPERM)));
    assert_eq!(chown_open(&*f, None, None, &u), Some(Ok(())));
}

#[test]
fn truncation_clears_set_user_id() {
    let fs = fs();
    let u = user(1000, &[]);
    file_as(&fs, "ro", 0, 0, 0o644);
    assert_eq!(done(fs.truncate(b"ro", 0, &u)), Err(Errno::EACCES));
    file_as(&fs, "s", 1000, 1000, 0o6755);
    done(fs.truncate(b"s", 1, &u)).unwrap();
    assert_eq!(stat(&fs, "s").unwrap().mode & 0o7777, 0o755);
    file_as(&fs, "o", 1000, 1000, 0o4755);
    done(fs.open(b"o", WRONLY | TRUNC, 0, &u)).unwrap();
    assert_eq!(stat(&fs, "o").unwrap().mode & 0o7777, 0o755);
    // Root keeps the bits.
    file_as(&fs, "r", 1000, 1000, 0o4755);
    done(fs.truncate(b"r", 0, &ROOT)).unwrap();
    assert_eq!(stat(&fs, "r").unwrap().mode & 0o7777, 0o4755);
}

#[test]
fn search_permission_along_paths() {
    use crate::kernel::creds::{cap_bit, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH};
    let fs = fs();
    let u = user(1000, &[]);
    dir_as(&fs, "priv", 0, 0, 0o600);
    file_as(&fs, "priv/f", 1000, 1000, 0o666);
    symlink(&fs, "priv", "through").unwrap();
    dir_as(&fs, "x", 0, 0, 0o711);
    file_as(&fs, "x/f", 1000, 1000, 0o666);
    // Every lookup below a directory without search permission is EACCES, the last
    // component too, whatever follows.
    assert_eq!(
        done(fs.stat(b"priv/f", true, &u)).err(),
        Some(Errno::EACCES)
    );
    assert_eq!(
        done(fs.stat(b"priv/nope/x", true, &u)).err(),
        Some(Errno::EACCES)
    );
    assert_eq!(
        done(fs.stat(b"priv/.", true, &u)).err(),
        Some(Errno::EACCES)
    );
    assert_eq!(
        done(fs.stat(b"through/f", true, &u)).err(),
        Some(Errno::EACCES)
    );
    assert_eq!(
        done(fs.open(b"priv/f", 0, 0, &u)).err(),
        Some(Errno::EACCES)
    );
    assert_eq!(done(fs.unlink(b"priv/f", &u)), Err(Errno::EACCES));
    assert_eq!(done(fs.mkdir(b"priv/d", 0o755, &u)), Err(Errno::EACCES));
    assert_eq!(done(fs.readlink(b"priv/f", &u)), Err(Errno::EACCES));
    // The directory itself is there to see.
    assert!(done(fs.stat(b"priv", true, &u)).is_ok());
    assert!(done(fs.stat(b"through", false, &u)).is_ok());
    // Execute alone is enough to search.
    assert!(done(fs.stat(b"x/f", true, &u)).is_ok());
    // Root searches anything, unless it lacks both capabilities that let it.
    assert!(done(fs.stat(b"priv/f", true, &ROOT)).is_ok());
    let mut r = ROOT.clone();
    r.caps &= !cap_bit(CAP_DAC_OVERRIDE);
    assert!(done(fs.stat(b"priv/f", true, &r)).is_ok());
    r.caps &= !cap_bit(CAP_DAC_READ_SEARCH);
    assert!(done(fs.stat(b"x/f", true, &r)).is_ok());
    assert_eq!(
        done(fs.stat(b"priv/f", true, &r)).err(),
        Some(Errno::EACCES)
    );
}
