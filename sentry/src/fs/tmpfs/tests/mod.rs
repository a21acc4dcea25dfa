//! Unit tests of tmpfs: every operation, its errno cases, and the concurrency rules.
//! Here: helpers, open, stat, mkdir, unlink, rmdir, attributes and times.

mod data;
mod names;
mod perm;
mod shared;

use std::sync::Arc;

use super::inode::now;
use super::*;
use crate::fs::file::{FileOps, OpenFile, Stat};

const RDONLY: u32 = libc::O_RDONLY as u32;
const WRONLY: u32 = libc::O_WRONLY as u32;
const RDWR: u32 = libc::O_RDWR as u32;
const CREAT: u32 = libc::O_CREAT as u32;
const EXCL: u32 = libc::O_EXCL as u32;
const TRUNC: u32 = libc::O_TRUNC as u32;
const DIRECTORY: u32 = libc::O_DIRECTORY as u32;
const NOFOLLOW: u32 = libc::O_NOFOLLOW as u32;
const PATH: u32 = libc::O_PATH as u32;
const TMPFILE: u32 = libc::O_TMPFILE as u32;
const APPEND: u32 = libc::O_APPEND as u32;

const ROOT: Creds = Creds {
    uid: 0,
    gid: 0,
    umask: 0o022,
    groups: Vec::new(),
    caps: crate::kernel::creds::ALL_CAPS,
    mapped_only: false,
};

/// A memory file for one test.
fn mf() -> Arc<platform::MemoryFile> {
    Arc::new(platform::MemoryFile::new("test").unwrap())
}

fn fs() -> Arc<Tmpfs> {
    Tmpfs::new(0x2a, mf())
}

fn done<T>(r: Result<Resolution<T>, Errno>) -> Result<T, Errno> {
    r.map(|r| r.done().expect("unexpected escape"))
}

fn open(fs: &Tmpfs, path: &str, flags: u32) -> Result<Arc<dyn FileOps>, Errno> {
    done(fs.open(path.as_bytes(), flags, 0o666, &ROOT))
}

fn creat(fs: &Tmpfs, path: &str) -> Arc<dyn FileOps> {
    open(fs, path, CREAT | RDWR).unwrap()
}

fn write_file(fs: &Tmpfs, path: &str, data: &[u8]) {
    let f = creat(fs, path);
    assert_eq!(f.write(data, Some(0)).unwrap(), data.len());
}

fn read_all(f: &dyn FileOps) -> Vec<u8> {
    let mut buf = vec![0u8; f.size().unwrap() as usize + 16];
    let n = f.read(&mut buf, Some(0)).unwrap();
    buf.truncate(n);
    buf
}

fn stat(fs: &Tmpfs, path: &str) -> Result<Stat, Errno> {
    done(fs.stat(path.as_bytes(), true, &ROOT))
}

fn lstat(fs: &Tmpfs, path: &str) -> Result<Stat, Errno> {
    done(fs.stat(path.as_bytes(), false, &ROOT))
}

fn mkdir(fs: &Tmpfs, path: &str) -> Result<(), Errno> {
    done(fs.mkdir(path.as_bytes(), 0o755, &ROOT))
}

fn symlink(fs: &Tmpfs, target: &str, path: &str) -> Result<(), Errno> {
    done(fs.symlink(target.as_bytes(), path.as_bytes(), &ROOT))
}

fn esc(target: &str, rest: &str) -> Resolution<()> {
    Resolution::Escape {
        target: target.as_bytes().to_vec(),
        rest: rest.as_bytes().to_vec(),
    }
}

fn mode_type(st: &Stat) -> u32 {
    st.mode & libc::S_IFMT
}

/// Parsed `linux_dirent64` records: (ino, off, type, name).
fn parse_dirents(buf: &[u8]) -> Vec<(u64, u64, u8, Vec<u8>)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < buf.len() {
        let ino = u64::from_le_bytes(buf[i..i + 8].try_into().unwrap());
        let off = u64::from_le_bytes(buf[i + 8..i + 16].try_into().unwrap());
        let reclen = u16::from_le_bytes(buf[i + 16..i + 18].try_into().unwrap()) as usize;
        assert_eq!(reclen % 8, 0);
        let name = &buf[i + 19..i + reclen];
        let name = name[..name.iter().position(|&b| b == 0).unwrap()].to_vec();
        out.push((ino, off, buf[i + 18], name));
        i += reclen;
    }
    out
}

/// Every record of a directory, reading `chunk` bytes at a time.
fn list(f: &dyn FileOps, chunk: usize) -> Vec<(u64, u64, u8, Vec<u8>)> {
    let mut pos = 0;
    let mut all = Vec::new();
    loop {
        let mut buf = vec![0u8; chunk];
        let (n, next) = f.getdents(&mut buf, pos).unwrap();
        if n == 0 {
            return all;
        }
        let recs = parse_dirents(&buf[..n]);
        assert_eq!(
            recs.last().unwrap().1,
            next,
            "d_off of the last record is the cursor"
        );
        all.extend(recs);
        pos = next;
    }
}

fn names(fs: &Tmpfs, path: &str) -> Vec<String> {
    let d = open(fs, path, RDONLY | DIRECTORY).unwrap();
    let mut v: Vec<String> = list(&*d, 4096)
        .into_iter()
        .map(|r| String::from_utf8(r.3).unwrap())
        .collect();
    v.sort();
    v
}

#[test]
fn create_write_read_stat() {
    let fs = fs();
    let f = creat(&fs, "a");
    assert_eq!(f.write(b"hello world", Some(0)).unwrap(), 11);
    assert_eq!(f.write(b"W", Some(6)).unwrap(), 1);
    assert_eq!(read_all(&*f), b"hello World");
    let mut buf = [0u8; 4];
    assert_eq!(f.read(&mut buf, Some(9)).unwrap(), 2);
    assert_eq!(f.read(&mut buf, Some(100)).unwrap(), 0);
    assert!(f.seekable());
    assert_eq!(f.size().unwrap(), 11);
    let st = stat(&fs, "a").unwrap();
    assert_eq!(st.mode, libc::S_IFREG | 0o644);
    assert_eq!(
        (st.dev, st.nlink, st.uid, st.gid, st.size),
        (0x2a, 1, 0, 0, 11)
    );
    assert_eq!((st.blksize, st.blocks), (4096, 8));
    assert_eq!(f.stat().unwrap().ino, st.ino);
    let root = stat(&fs, "").unwrap();
    assert_eq!(root.mode, libc::S_IFDIR | 0o1777);
    assert_eq!(root.nlink, 2);
    assert_ne!(root.ino, st.ino);
    // Reopening finds the same inode; a second file gets a new one.
    assert_eq!(open(&fs, "a", RDONLY).unwrap().stat().unwrap().ino, st.ino);
    assert_ne!(creat(&fs, "b").stat().unwrap().ino, st.ino);
    // Creds and umask.
    let c = Creds {
        uid: 1000,
        gid: 100,
        umask: 0o077,
        groups: Vec::new(),
        caps: 0,
        mapped_only: false,
    };
    let g = done(fs.open(b"c", CREAT | WRONLY, 0o4777, &c)).unwrap();
    let st = g.stat().unwrap();
    assert_eq!(
        (st.mode, st.uid, st.gid),
        (libc::S_IFREG | 0o4700, 1000, 100)
    );
}

#[test]
fn open_errors() {
    let fs = fs();
    mkdir(&fs, "d").unwrap();
    write_file(&fs, "f", b"x");
    assert_eq!(open(&fs, "nope", RDONLY).err(), Some(Errno::ENOENT));
    assert_eq!(open(&fs, "nope/x", CREAT | RDWR).err(), Some(Errno::ENOENT));
    assert_eq!(open(&fs, "f/x", RDONLY).err(), Some(Errno::ENOTDIR));
    assert_eq!(open(&fs, "f/x", CREAT | RDWR).err(), Some(Errno::ENOTDIR));
    assert_eq!(open(&fs, "f/", RDONLY).err(), Some(Errno::ENOTDIR));
    assert_eq!(open(&fs, "f/.", RDONLY).err(), Some(Errno::ENOTDIR));
    assert_eq!(
        open(&fs, "f", RDONLY | DIRECTORY).err(),
        Some(Errno::ENOTDIR)
    );
    assert_eq!(
        open(&fs, "f", CREAT | EXCL | WRONLY).err(),
        Some(Errno::EEXIST)
    );
    assert_eq!(
        open(&fs, "d", CREAT | EXCL | WRONLY).err(),
        Some(Errno::EEXIST)
    );
    assert_eq!(
        open(&fs, "", CREAT | EXCL | WRONLY).err(),
        Some(Errno::EEXIST)
    );
    assert_eq!(open(&fs, "d", WRONLY).err(), Some(Errno::EISDIR));
    assert_eq!(open(&fs, "d", RDWR).err(), Some(Errno::EISDIR));
    assert_eq!(open(&fs, "d", RDONLY | TRUNC).err(), Some(Errno::EISDIR));
    assert_eq!(open(&fs, "d", CREAT | RDONLY).err(), Some(Errno::EISDIR));
    assert_eq!(open(&fs, "", CREAT | RDONLY).err(), Some(Errno::EISDIR));
    assert_eq!(open(&fs, "d/.", CREAT | RDONLY).err(), Some(Errno::EISDIR));
    assert_eq!(open(&fs, "new/", CREAT | RDWR).err(), Some(Errno::EISDIR));
    assert_eq!(open(&fs, "f/", CREAT | RDWR).err(), Some(Errno::EISDIR));
    assert_eq!(
        open(&fs, "new", CREAT | DIRECTORY).err(),
        Some(Errno::EINVAL)
    );
    assert_eq!(stat(&fs, "new").err(), Some(Errno::ENOENT));
    let long = "n".repeat(256);
    assert_eq!(
        open(&fs, &long, CREAT | RDWR).err(),
        Some(Errno::ENAMETOOLONG)
    );
    assert_eq!(
        open(&fs, &format!("{long}/x"), RDONLY).err(),
        Some(Errno::ENAMETOOLONG)
    );
    assert_eq!(stat(&fs, &long).err(), Some(Errno::ENAMETOOLONG));
    assert!(open(&fs, &"n".repeat(255), CREAT | RDWR).is_ok());
    let huge = "a/".repeat(2048);
    assert_eq!(stat(&fs, &huge).err(), Some(Errno::ENAMETOOLONG));
    // Directories open read-only, and a trailing slash is fine on them.
    let d = open(&fs, "d/", RDONLY | DIRECTORY).unwrap();
    assert_eq!(d.stat().unwrap().mode & libc::S_IFMT, libc::S_IFDIR);
    let mut buf = [0u8; 8];
    assert_eq!(d.read(&mut buf, Some(0)).err(), Some(Errno::EISDIR));
    assert_eq!(
        creat(&fs, "f").getdents(&mut buf, 0).err(),
        Some(Errno::ENOTDIR)
    );
}

#[test]
fn open_trunc_and_symlink_flags() {
    let fs = fs();
    write_file(&fs, "f", b"contents");
    let before = stat(&fs, "f").unwrap();
    let f = open(&fs, "f", WRONLY | TRUNC).unwrap();
    assert_eq!(f.size().unwrap(), 0);
    assert_eq!(stat(&fs, "f").unwrap().blocks, 0);
    assert!(stat(&fs, "f").unwrap().mtime >= before.mtime);
    symlink(&fs, "f", "l").unwrap();
    symlink(&fs, "target", "dangling").unwrap();
    assert_eq!(open(&fs, "l", RDONLY | NOFOLLOW).err(), Some(Errno::ELOOP));
    assert_eq!(
        open(&fs, "l", CREAT | RDWR | NOFOLLOW).err(),
        Some(Errno::ELOOP)
    );
    assert_eq!(
        open(&fs, "l", CREAT | EXCL | RDWR).err(),
        Some(Errno::EEXIST)
    );
    assert_eq!(
        open(&fs, "dangling", CREAT | EXCL | RDWR).err(),
        Some(Errno::EEXIST)
    );
    assert_eq!(open(&fs, "dangling", RDONLY).err(), Some(Errno::ENOENT));
    // O_CREAT through a dangling symlink creates its target.
    let t = open(&fs, "dangling", CREAT | RDWR).unwrap();
    assert_eq!(t.stat().unwrap().ino, lstat(&fs, "target").unwrap().ino);
    assert_eq!(
        open(&fs, "l", RDONLY).unwrap().stat().unwrap().ino,
        stat(&fs, "f").unwrap().ino
    );
    // O_PATH|O_NOFOLLOW opens the symlink itself.
    let p = open(&fs, "l", PATH | NOFOLLOW).unwrap();
    assert_eq!(mode_type(&p.stat().unwrap()), libc::S_IFLNK);
    assert_eq!(
        open(&fs, "l", PATH | NOFOLLOW | DIRECTORY).err(),
        Some(Errno::ENOTDIR)
    );
    // O_PATH ignores O_CREAT and access modes.
    mkdir(&fs, "d").unwrap();
    assert!(open(&fs, "d", PATH | RDWR | CREAT).is_ok());
}

#[test]
fn open_tmpfile() {
    let fs = fs();
    mkdir(&fs, "d").unwrap();
    write_file(&fs, "f", b"");
    let t = open(&fs, "d", TMPFILE | RDWR).unwrap();
    assert_eq!(t.write(b"anon", Some(0)).unwrap(), 4);
    assert_eq!(read_all(&*t), b"anon");
    assert_eq!(t.stat().unwrap().nlink, 0);
    assert_eq!(names(&fs, "d"), [".", ".."]);
    assert_eq!(open(&fs, "d", TMPFILE | RDONLY).err(), Some(Errno::EINVAL));
    assert_eq!(
        open(&fs, "d", TMPFILE | CREAT | RDWR).err(),
        Some(Errno::EINVAL)
    );
    assert_eq!(open(&fs, "f", TMPFILE | RDWR).err(), Some(Errno::ENOTDIR));
    assert_eq!(open(&fs, "nope", TMPFILE | RDWR).err(), Some(Errno::ENOENT));
}

#[test]
fn dotdot_never_leaves_the_root() {
    let fs = fs();
    mkdir(&fs, "a").unwrap();
    mkdir(&fs, "a/b").unwrap();
    let root = stat(&fs, "").unwrap().ino;
    assert_eq!(stat(&fs, "..").unwrap().ino, root);
    assert_eq!(stat(&fs, "../../.").unwrap().ino, root);
    assert_eq!(stat(&fs, "a/b/../../..").unwrap().ino, root);
    assert_eq!(
        stat(&fs, "a/b/..").unwrap().ino,
        stat(&fs, "a").unwrap().ino
    );
    assert_eq!(
        stat(&fs, "//a//./b/").unwrap().ino,
        stat(&fs, "a/b").unwrap().ino
    );
    write_file(&fs, "../x", b"1");
    assert!(stat(&fs, "x").is_ok());
    assert_eq!(stat(&fs, "x/..").err(), Some(Errno::ENOTDIR));
}

#[test]
fn mkdir_rules() {
    let fs = fs();
    mkdir(&fs, "d").unwrap();
    let st = stat(&fs, "d").unwrap();
    assert_eq!((st.mode, st.nlink, st.size), (libc::S_IFDIR | 0o755, 2, 40));
    assert_eq!(stat(&fs, "").unwrap().nlink, 3);
    mkdir(&fs, "d/e/").unwrap();
    mkdir(&fs, "d/f").unwrap();
    write_file(&fs, "d/g", b"");
    let st = stat(&fs, "d").unwrap();
    assert_eq!((st.nlink, st.size), (4, 40 + 3 * 20));
    for p in ["d", "d/", "", ".", "..", "d/.", "d/..", "d/g"] {
        assert_eq!(mkdir(&fs, p).err(), Some(Errno::EEXIST), "{p}");
    }
    symlink(&fs, "nowhere", "dl").unwrap();
    assert_eq!(mkdir(&fs, "dl").err(), Some(Errno::EEXIST));
    assert_eq!(mkdir(&fs, "x/y").err(), Some(Errno::ENOENT));
    assert_eq!(mkdir(&fs, "d/g/y").err(), Some(Errno::ENOTDIR));
    assert_eq!(
        mkdir(&fs, &"n".repeat(256)).err(),
        Some(Errno::ENAMETOOLONG)
    );
    // Mode bits: umask applies, setuid is dropped, sticky kept.
    done(fs.mkdir(b"m", 0o7777, &ROOT)).unwrap();
    assert_eq!(stat(&fs, "m").unwrap().mode, libc::S_IFDIR | 0o1755);
    // A set-group-ID directory passes on its group and the bit (to a maker that may write
    // there).
    done(fs.chmod(b"d", 0o2777, &ROOT)).unwrap();
    done(fs.chown(b"d", None, Some(77), &ROOT)).unwrap();
    let c = Creds {
        uid: 5,
        gid: 6,
        umask: 0,
        groups: Vec::new(),
        caps: 0,
        mapped_only: false,
    };
    done(fs.mkdir(b"d/s", 0o755, &c)).unwrap();
    let st = stat(&fs, "d/s").unwrap();
    assert_eq!((st.mode, st.uid, st.gid), (libc::S_IFDIR | 0o2755, 5, 77));
    let f = done(fs.open(b"d/sf", CREAT | WRONLY, 0o644, &c)).unwrap();
    assert_eq!(f.stat().unwrap().gid, 77);
}

#[test]
fn unlink_rules() {
    let fs = fs();
    mkdir(&fs, "d").unwrap();
    write_file(&fs, "f", b"data");
    symlink(&fs, "f", "l").unwrap();
    symlink(&fs, "d", "ld").unwrap();
    let u = |p: &str| done(fs.unlink(p.as_bytes(), &ROOT));
    assert_eq!(u("d").err(), Some(Errno::EISDIR));
    assert_eq!(u("d/").err(), Some(Errno::EISDIR));
    assert_eq!(u("").err(), Some(Errno::EISDIR));
    assert_eq!(u("d/.").err(), Some(Errno::EISDIR));
    assert_eq!(u("d/..").err(), Some(Errno::EISDIR));
    assert_eq!(u("nope").err(), Some(Errno::ENOENT));
    assert_eq!(u("nope/").err(), Some(Errno::ENOENT));
    assert_eq!(u("f/").err(), Some(Errno::ENOTDIR));
    assert_eq!(u("ld/").err(), Some(Errno::ENOTDIR));
    assert_eq!(u("f/x").err(), Some(Errno::ENOTDIR));
    // Removing a symlink leaves its target.
    u("l").unwrap();
    assert_eq!(lstat(&fs, "l").err(), Some(Errno::ENOENT));
    assert!(stat(&fs, "f").is_ok());
    u("ld").unwrap();
    assert!(stat(&fs, "d").is_ok());
    u("f").unwrap();
    assert_eq!(stat(&fs, "f").err(), Some(Errno::ENOENT));
    assert_eq!(names(&fs, ""), [".", "..", "d"]);
}

#[test]
fn rmdir_rules() {
    let fs = fs();
    mkdir(&fs, "d").unwrap();
    mkdir(&fs, "d/e").unwrap();
    write_file(&fs, "f", b"");
    symlink(&fs, "d", "ld").unwrap();
    let r = |p: &str| done(fs.rmdir(p.as_bytes(), &ROOT));
    assert_eq!(r("").err(), Some(Errno::EBUSY));
    assert_eq!(r("d/.").err(), Some(Errno::EINVAL));
    assert_eq!(r(".").err(), Some(Errno::EINVAL));
    assert_eq!(r("d/e/..").err(), Some(Errno::ENOTEMPTY));
    assert_eq!(r("d").err(), Some(Errno::ENOTEMPTY));
    assert_eq!(r("f").err(), Some(Errno::ENOTDIR));
    assert_eq!(r("ld").err(), Some(Errno::ENOTDIR));
    assert_eq!(r("nope").err(), Some(Errno::ENOENT));
    assert_eq!(stat(&fs, "d").unwrap().nlink, 3);
    let open_e = open(&fs, "d/e", RDONLY).unwrap();
    r("d/e/").unwrap();
    assert_eq!(stat(&fs, "d").unwrap().nlink, 2);
    assert_eq!(open_e.stat().unwrap().nlink, 0);
    let mut buf = [0u8; 256];
    assert_eq!(open_e.getdents(&mut buf, 0).err(), Some(Errno::ENOENT));
    r("d").unwrap();
    assert_eq!(stat(&fs, "").unwrap().nlink, 2);
    assert_eq!(stat(&fs, "d").err(), Some(Errno::ENOENT));
}

#[test]
fn attributes() {
    let fs = fs();
    write_file(&fs, "f", b"");
    symlink(&fs, "f", "l").unwrap();
    done(fs.chmod(b"l", 0o104755, &ROOT)).unwrap();
    assert_eq!(stat(&fs, "f").unwrap().mode, libc::S_IFREG | 0o4755);
    assert_eq!(lstat(&fs, "l").unwrap().mode, libc::S_IFLNK | 0o777);
    // chown clears set-user-ID; set-group-ID only if group-executable.
    done(fs.chmod(b"f", 0o6755, &ROOT)).unwrap();
    done(fs.chown(b"l", Some(10), None, &ROOT)).unwrap();
    let st = stat(&fs, "f").unwrap();
    assert_eq!((st.uid, st.gid, st.mode), (10, 0, libc::S_IFREG | 0o755));
    done(fs.chmod(b"f", 0o2745, &ROOT)).unwrap();
    done(fs.chown(b"f", None, Some(20), &ROOT)).unwrap();
    let st = stat(&fs, "f").unwrap();
    assert_eq!((st.uid, st.gid, st.mode), (10, 20, libc::S_IFREG | 0o2745));
    done(fs.lchown(b"l", Some(30), Some(31), &ROOT)).unwrap();
    let st = lstat(&fs, "l").unwrap();
    assert_eq!((st.uid, st.gid), (30, 31));
    assert_eq!(stat(&fs, "f").unwrap().uid, 10);
    // utimens: set, omit, now.
    done(fs.utimens(b"f", Some((100, 5)), Some((200, 6)), &ROOT)).unwrap();
    let st = stat(&fs, "f").unwrap();
    assert_eq!((st.atime, st.mtime), ((100, 5), (200, 6)));
    assert!(st.ctime.0 > 200);
    done(fs.utimens(b"f", None, Some((300, 0)), &ROOT)).unwrap();
    assert_eq!(stat(&fs, "f").unwrap().atime, (100, 5));
    done(fs.utimens(b"f", Some((0, UTIME_NOW)), Some((0, UTIME_OMIT)), &ROOT)).unwrap();
    let st = stat(&fs, "f").unwrap();
    assert!(st.atime.0 > 300);
    assert_eq!(st.mtime, (300, 0));
    assert_eq!(
        done(fs.utimens(b"f", Some((0, 1_000_000_000)), None, &ROOT)).err(),
        Some(Errno::EINVAL)
    );
    assert_eq!(
        done(fs.utimens(b"f", None, Some((0, -1)), &ROOT)).err(),
        Some(Errno::EINVAL)
    );
    // Both omitted: nothing, not even a lookup.
    assert_eq!(done(fs.utimens(b"nope", None, None, &ROOT)), Ok(()));
    done(fs.lutimens(b"l", Some((7, 0)), Some((8, 0)), &ROOT)).unwrap();
    assert_eq!(lstat(&fs, "l").unwrap().mtime, (8, 0));
    assert_eq!(stat(&fs, "f").unwrap().mtime, (300, 0));
    for r in [
        fs.chmod(b"nope", 0, &ROOT),
        fs.chown(b"nope", None, None, &ROOT),
        fs.utimens(b"nope", Some((1, 1)), None, &ROOT),
    ] {
        assert_eq!(r.err(), Some(Errno::ENOENT));
    }
}

#[test]
fn timestamps() {
    let fs = fs();
    mkdir(&fs, "d").unwrap();
    let t0 = now();
    done(fs.utimens(b"d", Some((1, 0)), Some((1, 0)), &ROOT)).unwrap();
    let f = creat(&fs, "d/f");
    let created = f.stat().unwrap();
    assert!(
        created.mtime >= t0 && created.atime == created.mtime && created.ctime == created.mtime
    );
    // Creating in a directory changes its mtime and ctime.
    let d = stat(&fs, "d").unwrap();
    assert!(d.mtime >= t0 && d.ctime >= t0);
    // Writes update mtime and ctime; reads set atime, never before creation.
    done(fs.utimens(b"d/f", Some((1, 0)), Some((1, 0)), &ROOT)).unwrap();
    f.write(b"x", Some(0)).unwrap();
    let st = f.stat().unwrap();
    assert!(st.mtime >= t0 && st.ctime >= t0 && st.atime == (1, 0));
    let mut buf = [0u8; 1];
    f.read(&mut buf, Some(0)).unwrap();
    assert!(f.stat().unwrap().atime >= created.mtime);
    // Unlink changes the inode's ctime and the directory's mtime.
    fs.link(b"d/f", b"d/g", &ROOT).unwrap();
    done(fs.utimens(b"d", None, Some((1, 0)), &ROOT)).unwrap();
    done(fs.utimens(b"d/f", None, Some((1, 0)), &ROOT)).unwrap();
    let before = now();
    done(fs.unlink(b"d/g", &ROOT)).unwrap();
    assert!(f.stat().unwrap().ctime >= before);
    assert!(stat(&fs, "d").unwrap().mtime >= before);
    // O_TRUNC always updates mtime.
    done(fs.utimens(b"d/f", None, Some((1, 0)), &ROOT)).unwrap();
    open(&fs, "d/f", WRONLY | TRUNC).unwrap();
    assert!(stat(&fs, "d/f").unwrap().mtime >= before);
}
