//! Unit tests of tmpfs: every operation, its errno cases, and the concurrency rules.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::*;
use crate::fs::file::OpenFile;

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

const ROOT: Creds = Creds { uid: 0, gid: 0, umask: 0o022 };

fn fs() -> Arc<Tmpfs> {
    Tmpfs::new(0x2a)
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
    done(fs.stat(path.as_bytes(), true))
}

fn lstat(fs: &Tmpfs, path: &str) -> Result<Stat, Errno> {
    done(fs.stat(path.as_bytes(), false))
}

fn mkdir(fs: &Tmpfs, path: &str) -> Result<(), Errno> {
    done(fs.mkdir(path.as_bytes(), 0o755, &ROOT))
}

fn symlink(fs: &Tmpfs, target: &str, path: &str) -> Result<(), Errno> {
    done(fs.symlink(target.as_bytes(), path.as_bytes(), &ROOT))
}

fn esc(target: &str, rest: &str) -> Resolution<()> {
    Resolution::Escape { target: target.as_bytes().to_vec(), rest: rest.as_bytes().to_vec() }
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
        assert_eq!(recs.last().unwrap().1, next, "d_off of the last record is the cursor");
        all.extend(recs);
        pos = next;
    }
}

fn names(fs: &Tmpfs, path: &str) -> Vec<String> {
    let d = open(fs, path, RDONLY | DIRECTORY).unwrap();
    let mut v: Vec<String> = list(&*d, 4096).into_iter().map(|r| String::from_utf8(r.3).unwrap()).collect();
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
    assert_eq!((st.dev, st.nlink, st.uid, st.gid, st.size), (0x2a, 1, 0, 0, 11));
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
    let c = Creds { uid: 1000, gid: 100, umask: 0o077 };
    let g = done(fs.open(b"c", CREAT | WRONLY, 0o4777, &c)).unwrap();
    let st = g.stat().unwrap();
    assert_eq!((st.mode, st.uid, st.gid), (libc::S_IFREG | 0o4700, 1000, 100));
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
    assert_eq!(open(&fs, "f", RDONLY | DIRECTORY).err(), Some(Errno::ENOTDIR));
    assert_eq!(open(&fs, "f", CREAT | EXCL | WRONLY).err(), Some(Errno::EEXIST));
    assert_eq!(open(&fs, "d", CREAT | EXCL | WRONLY).err(), Some(Errno::EEXIST));
    assert_eq!(open(&fs, "", CREAT | EXCL | WRONLY).err(), Some(Errno::EEXIST));
    assert_eq!(open(&fs, "d", WRONLY).err(), Some(Errno::EISDIR));
    assert_eq!(open(&fs, "d", RDWR).err(), Some(Errno::EISDIR));
    assert_eq!(open(&fs, "d", RDONLY | TRUNC).err(), Some(Errno::EISDIR));
    assert_eq!(open(&fs, "d", CREAT | RDONLY).err(), Some(Errno::EISDIR));
    assert_eq!(open(&fs, "", CREAT | RDONLY).err(), Some(Errno::EISDIR));
    assert_eq!(open(&fs, "d/.", CREAT | RDONLY).err(), Some(Errno::EISDIR));
    assert_eq!(open(&fs, "new/", CREAT | RDWR).err(), Some(Errno::EISDIR));
    assert_eq!(open(&fs, "f/", CREAT | RDWR).err(), Some(Errno::EISDIR));
    assert_eq!(open(&fs, "new", CREAT | DIRECTORY).err(), Some(Errno::EINVAL));
    assert_eq!(stat(&fs, "new").err(), Some(Errno::ENOENT));
    let long = "n".repeat(256);
    assert_eq!(open(&fs, &long, CREAT | RDWR).err(), Some(Errno::ENAMETOOLONG));
    assert_eq!(open(&fs, &format!("{long}/x"), RDONLY).err(), Some(Errno::ENAMETOOLONG));
    assert_eq!(stat(&fs, &long).err(), Some(Errno::ENAMETOOLONG));
    assert!(open(&fs, &"n".repeat(255), CREAT | RDWR).is_ok());
    let huge = "a/".repeat(2048);
    assert_eq!(stat(&fs, &huge).err(), Some(Errno::ENAMETOOLONG));
    // Directories open read-only, and a trailing slash is fine on them.
    let d = open(&fs, "d/", RDONLY | DIRECTORY).unwrap();
    assert_eq!(d.stat().unwrap().mode & libc::S_IFMT, libc::S_IFDIR);
    let mut buf = [0u8; 8];
    assert_eq!(d.read(&mut buf, Some(0)).err(), Some(Errno::EISDIR));
    assert_eq!(creat(&fs, "f").getdents(&mut buf, 0).err(), Some(Errno::ENOTDIR));
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
    assert_eq!(open(&fs, "l", CREAT | RDWR | NOFOLLOW).err(), Some(Errno::ELOOP));
    assert_eq!(open(&fs, "l", CREAT | EXCL | RDWR).err(), Some(Errno::EEXIST));
    assert_eq!(open(&fs, "dangling", CREAT | EXCL | RDWR).err(), Some(Errno::EEXIST));
    assert_eq!(open(&fs, "dangling", RDONLY).err(), Some(Errno::ENOENT));
    // O_CREAT through a dangling symlink creates its target.
    let t = open(&fs, "dangling", CREAT | RDWR).unwrap();
    assert_eq!(t.stat().unwrap().ino, lstat(&fs, "target").unwrap().ino);
    assert_eq!(open(&fs, "l", RDONLY).unwrap().stat().unwrap().ino, stat(&fs, "f").unwrap().ino);
    // O_PATH|O_NOFOLLOW opens the symlink itself.
    let p = open(&fs, "l", PATH | NOFOLLOW).unwrap();
    assert_eq!(mode_type(&p.stat().unwrap()), libc::S_IFLNK);
    assert_eq!(open(&fs, "l", PATH | NOFOLLOW | DIRECTORY).err(), Some(Errno::ENOTDIR));
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
    assert_eq!(open(&fs, "d", TMPFILE | CREAT | RDWR).err(), Some(Errno::EINVAL));
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
    assert_eq!(stat(&fs, "a/b/..").unwrap().ino, stat(&fs, "a").unwrap().ino);
    assert_eq!(stat(&fs, "//a//./b/").unwrap().ino, stat(&fs, "a/b").unwrap().ino);
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
    assert_eq!(mkdir(&fs, &"n".repeat(256)).err(), Some(Errno::ENAMETOOLONG));
    // Mode bits: umask applies, setuid is dropped, sticky kept.
    done(fs.mkdir(b"m", 0o7777, &ROOT)).unwrap();
    assert_eq!(stat(&fs, "m").unwrap().mode, libc::S_IFDIR | 0o1755);
    // A set-group-ID directory passes on its group and the bit.
    done(fs.chmod(b"d", 0o2775)).unwrap();
    done(fs.chown(b"d", None, Some(77))).unwrap();
    let c = Creds { uid: 5, gid: 6, umask: 0 };
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
    let u = |p: &str| done(fs.unlink(p.as_bytes()));
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
fn unlink_while_open() {
    let fs = fs();
    let f = creat(&fs, "f");
    f.write(&[7u8; 10000], Some(0)).unwrap();
    let used = fs.used_bytes();
    assert_eq!(used, 3 * 4096);
    done(fs.unlink(b"f")).unwrap();
    assert_eq!(stat(&fs, "f").err(), Some(Errno::ENOENT));
    assert_eq!(f.stat().unwrap().nlink, 0);
    assert_eq!(read_all(&*f), vec![7u8; 10000]);
    f.write(b"more", Some(10000)).unwrap();
    assert_eq!(f.size().unwrap(), 10004);
    // A new file under the same name is another inode.
    let g = creat(&fs, "f");
    assert_ne!(g.stat().unwrap().ino, f.stat().unwrap().ino);
    assert_eq!(g.size().unwrap(), 0);
    // The mapping view stays valid too.
    let m = f.mappable().unwrap();
    let mut buf = [0u8; 4];
    assert_eq!(m.read_at(10000, &mut buf).unwrap(), 4);
    assert_eq!(&buf, b"more");
    assert!(m.name().ends_with("(deleted)"));
    drop(f);
    assert_eq!(fs.used_bytes(), 3 * 4096, "the mapping still holds the data");
    drop(m);
    assert_eq!(fs.used_bytes(), 0);
}

#[test]
fn rmdir_rules() {
    let fs = fs();
    mkdir(&fs, "d").unwrap();
    mkdir(&fs, "d/e").unwrap();
    write_file(&fs, "f", b"");
    symlink(&fs, "d", "ld").unwrap();
    let r = |p: &str| done(fs.rmdir(p.as_bytes()));
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
fn rename_over_existing_file() {
    let fs = fs();
    write_file(&fs, "a", b"new");
    write_file(&fs, "b", b"old");
    let old = open(&fs, "b", RDONLY).unwrap();
    let a_ino = stat(&fs, "a").unwrap().ino;
    fs.rename(b"a", b"b", 0).unwrap();
    assert_eq!(stat(&fs, "a").err(), Some(Errno::ENOENT));
    assert_eq!(stat(&fs, "b").unwrap().ino, a_ino);
    assert_eq!(read_all(&*open(&fs, "b", RDONLY).unwrap()), b"new");
    assert_eq!(old.stat().unwrap().nlink, 0);
    assert_eq!(read_all(&*old), b"old");
    assert_eq!(names(&fs, ""), [".", "..", "b"]);
    // Across directories, with a new name.
    mkdir(&fs, "d").unwrap();
    fs.rename(b"b", b"d/c", 0).unwrap();
    assert_eq!(stat(&fs, "d/c").unwrap().ino, a_ino);
    // A symlink is moved itself.
    symlink(&fs, "d/c", "l").unwrap();
    fs.rename(b"l", b"d/l", 0).unwrap();
    assert_eq!(done(fs.readlink(b"d/l")).unwrap(), b"d/c");
}

#[test]
fn rename_errors() {
    let fs = fs();
    for d in ["a", "a/b", "a/b/c", "e", "full", "full/x"] {
        mkdir(&fs, d).unwrap();
    }
    write_file(&fs, "f", b"");
    write_file(&fs, "g", b"");
    let r = |a: &str, b: &str, fl: u32| fs.rename(a.as_bytes(), b.as_bytes(), fl);
    // A directory into its own subtree.
    assert_eq!(r("a", "a/b/c/x", 0), Err(Errno::EINVAL));
    assert_eq!(r("a", "a/x", 0), Err(Errno::EINVAL));
    assert_eq!(r("a/b", "a/b/c/x", RENAME_NOREPLACE), Err(Errno::EINVAL));
    assert_eq!(r("a", "a/b", RENAME_EXCHANGE), Err(Errno::EINVAL));
    // A target that is an ancestor of the source.
    assert_eq!(r("a/b/c", "a", 0), Err(Errno::ENOTEMPTY));
    assert_eq!(r("a/b/c", "a", RENAME_EXCHANGE), Err(Errno::EINVAL));
    // Type rules.
    assert_eq!(r("a", "f", 0), Err(Errno::ENOTDIR));
    assert_eq!(r("f", "e", 0), Err(Errno::EISDIR));
    assert_eq!(r("e", "full", 0), Err(Errno::ENOTEMPTY));
    assert_eq!(r("f", "g/", 0), Err(Errno::ENOTDIR));
    assert_eq!(r("f/", "h", 0), Err(Errno::ENOTDIR));
    assert_eq!(r("f", "g", RENAME_NOREPLACE), Err(Errno::EEXIST));
    assert_eq!(r("nope", "x", 0), Err(Errno::ENOENT));
    assert_eq!(r("f", "nope/x", 0), Err(Errno::ENOENT));
    assert_eq!(r("f", "g/x", 0), Err(Errno::ENOTDIR));
    assert_eq!(r("f", "h", RENAME_EXCHANGE), Err(Errno::ENOENT));
    assert_eq!(r("", "x", 0), Err(Errno::EBUSY));
    assert_eq!(r("a/.", "x", 0), Err(Errno::EBUSY));
    assert_eq!(r("f", "a/..", 0), Err(Errno::EBUSY));
    assert_eq!(r("f", ".", RENAME_NOREPLACE), Err(Errno::EEXIST));
    assert_eq!(r("f", "h", 8), Err(Errno::EINVAL));
    assert_eq!(r("f", "h", RENAME_WHITEOUT), Err(Errno::EINVAL));
    assert_eq!(r("f", "h", RENAME_EXCHANGE | RENAME_NOREPLACE), Err(Errno::EINVAL));
    // Nothing moved.
    assert_eq!(names(&fs, ""), [".", "..", "a", "e", "f", "full", "g"]);
    // The same inode under two names: nothing happens.
    fs.link(b"f", b"f2").unwrap();
    r("f", "f2", 0).unwrap();
    assert!(stat(&fs, "f").is_ok() && stat(&fs, "f2").is_ok());
    r("a", "a", 0).unwrap();
    // Renaming over an empty directory, and a directory to itself with a slash.
    let e_ino = stat(&fs, "e").unwrap().ino;
    r("a/b/c", "e/", 0).unwrap();
    assert_ne!(stat(&fs, "e").unwrap().ino, e_ino);
    assert_eq!(stat(&fs, "a/b").unwrap().nlink, 2);
    assert_eq!(stat(&fs, "").unwrap().nlink, 2 + 3);
}

#[test]
fn rename_directories_and_exchange() {
    let fs = fs();
    for d in ["a", "a/sub", "b"] {
        mkdir(&fs, d).unwrap();
    }
    write_file(&fs, "b/file", b"x");
    let sub = stat(&fs, "a/sub").unwrap().ino;
    let b = stat(&fs, "b").unwrap().ino;
    fs.rename(b"a/sub", b"b/moved", 0).unwrap();
    assert_eq!((stat(&fs, "a").unwrap().nlink, stat(&fs, "b").unwrap().nlink), (2, 3));
    assert_eq!(stat(&fs, "b/moved/..").unwrap().ino, b);
    let d = open(&fs, "b/moved", RDONLY).unwrap();
    let recs = list(&*d, 4096);
    assert_eq!(recs[1].3, b"..");
    assert_eq!(recs[1].0, b);
    // Exchange a directory and a file in different directories.
    fs.rename(b"b/moved", b"a/x", 0).unwrap();
    fs.rename(b"a/x", b"b/file", RENAME_EXCHANGE).unwrap();
    assert_eq!(stat(&fs, "b/file").unwrap().ino, sub);
    assert_eq!(mode_type(&stat(&fs, "a/x").unwrap()), libc::S_IFREG);
    assert_eq!((stat(&fs, "a").unwrap().nlink, stat(&fs, "b").unwrap().nlink), (2, 3));
    assert_eq!(stat(&fs, "b/file/..").unwrap().ino, b);
    // Exchange within one directory.
    write_file(&fs, "b/y", b"y");
    fs.rename(b"b/y", b"b/file", RENAME_EXCHANGE).unwrap();
    assert_eq!(stat(&fs, "b/y").unwrap().ino, sub);
    assert_eq!(read_all(&*open(&fs, "b/file", RDONLY).unwrap()), b"y");
    assert_eq!(stat(&fs, "b").unwrap().nlink, 3);
    // Replacing a directory kills it.
    mkdir(&fs, "victim").unwrap();
    let v = open(&fs, "victim", RDONLY).unwrap();
    fs.rename(b"b/y", b"victim", 0).unwrap();
    assert_eq!(v.stat().unwrap().nlink, 0);
    let mut buf = [0u8; 128];
    assert_eq!(v.getdents(&mut buf, 0).err(), Some(Errno::ENOENT));
    assert_eq!(stat(&fs, "").unwrap().nlink, 2 + 2);
}

#[test]
fn hard_links() {
    let fs = fs();
    write_file(&fs, "f", b"shared");
    mkdir(&fs, "d").unwrap();
    fs.link(b"f", b"d/g").unwrap();
    fs.link(b"f", b"h").unwrap();
    assert_eq!(stat(&fs, "f").unwrap().nlink, 3);
    assert_eq!(stat(&fs, "d/g").unwrap().ino, stat(&fs, "f").unwrap().ino);
    creat(&fs, "h").write(b"S", Some(0)).unwrap();
    assert_eq!(read_all(&*open(&fs, "f", RDONLY).unwrap()), b"Shared");
    done(fs.unlink(b"f")).unwrap();
    assert_eq!(stat(&fs, "h").unwrap().nlink, 2);
    assert_eq!(fs.link(b"d", b"d2"), Err(Errno::EPERM));
    assert_eq!(fs.link(b"d/", b"d2"), Err(Errno::EPERM));
    assert_eq!(fs.link(b"h", b"d/g"), Err(Errno::EEXIST));
    assert_eq!(fs.link(b"d", b"h"), Err(Errno::EEXIST));
    assert_eq!(fs.link(b"h", b"d/."), Err(Errno::EEXIST));
    assert_eq!(fs.link(b"h", b""), Err(Errno::EEXIST));
    assert_eq!(fs.link(b"nope", b"x"), Err(Errno::ENOENT));
    assert_eq!(fs.link(b"h", b"x/"), Err(Errno::ENOENT));
    assert_eq!(fs.link(b"h/", b"x"), Err(Errno::ENOTDIR));
    assert_eq!(fs.link(b"h", b"nope/x"), Err(Errno::ENOENT));
    // A symlink is linked itself, not its target.
    symlink(&fs, "h", "l").unwrap();
    fs.link(b"l", b"l2").unwrap();
    assert_eq!(lstat(&fs, "l2").unwrap().ino, lstat(&fs, "l").unwrap().ino);
    assert_eq!(lstat(&fs, "l").unwrap().nlink, 2);
    // Escapes cannot be reported here.
    symlink(&fs, "/elsewhere", "abs").unwrap();
    assert_eq!(fs.link(b"abs/x", b"y"), Err(Errno::EXDEV));
    assert_eq!(fs.rename(b"h", b"abs/y", 0), Err(Errno::EXDEV));
}

#[test]
fn symlink_and_readlink() {
    let fs = fs();
    mkdir(&fs, "d").unwrap();
    write_file(&fs, "d/f", b"x");
    symlink(&fs, "d/f", "l").unwrap();
    symlink(&fs, "d", "ld").unwrap();
    let st = lstat(&fs, "l").unwrap();
    assert_eq!((st.mode, st.size, st.nlink, st.blocks), (libc::S_IFLNK | 0o777, 3, 1, 0));
    assert_eq!(stat(&fs, "l").unwrap().ino, stat(&fs, "d/f").unwrap().ino);
    assert_eq!(done(fs.readlink(b"l")).unwrap(), b"d/f");
    assert_eq!(done(fs.readlink(b"d/f")).err(), Some(Errno::EINVAL));
    assert_eq!(done(fs.readlink(b"d")).err(), Some(Errno::EINVAL));
    assert_eq!(done(fs.readlink(b"ld/")).err(), Some(Errno::EINVAL));
    assert_eq!(done(fs.readlink(b"nope")).err(), Some(Errno::ENOENT));
    assert_eq!(symlink(&fs, "", "e").err(), Some(Errno::ENOENT));
    assert_eq!(symlink(&fs, &"t".repeat(4096), "e").err(), Some(Errno::ENAMETOOLONG));
    assert_eq!(symlink(&fs, "x", "l").err(), Some(Errno::EEXIST));
    assert_eq!(symlink(&fs, "x", "d").err(), Some(Errno::EEXIST));
    assert_eq!(symlink(&fs, "x", "d/.").err(), Some(Errno::EEXIST));
    assert_eq!(symlink(&fs, "x", "new/").err(), Some(Errno::ENOENT));
    assert_eq!(symlink(&fs, "x", "nope/new").err(), Some(Errno::ENOENT));
    // Through a symlink to a directory, and a trailing slash follows the last one.
    assert_eq!(stat(&fs, "ld/f").unwrap().ino, stat(&fs, "d/f").unwrap().ino);
    assert_eq!(mode_type(&lstat(&fs, "ld/").unwrap()), libc::S_IFDIR);
    assert_eq!(mode_type(&lstat(&fs, "ld").unwrap()), libc::S_IFLNK);
    assert_eq!(lstat(&fs, "l/").err(), Some(Errno::ENOTDIR));
    // Relative targets resolve from the symlink's directory.
    symlink(&fs, "../d/f", "d/up").unwrap();
    assert_eq!(stat(&fs, "d/up").unwrap().ino, stat(&fs, "d/f").unwrap().ino);
    assert_eq!(stat(&fs, "ld/up").unwrap().ino, stat(&fs, "d/f").unwrap().ino);
    // A long target takes a page, as on Linux.
    symlink(&fs, &"t/".repeat(100), "long").unwrap();
    assert_eq!(lstat(&fs, "long").unwrap().blocks, 8);
    let c = Creds { uid: 9, gid: 8, umask: 0o777 };
    done(fs.symlink(b"x", b"owned", &c)).unwrap();
    let st = lstat(&fs, "owned").unwrap();
    assert_eq!((st.mode, st.uid, st.gid), (libc::S_IFLNK | 0o777, 9, 8));
}

#[test]
fn symlink_loops() {
    let fs = fs();
    symlink(&fs, "b", "a").unwrap();
    symlink(&fs, "a", "b").unwrap();
    symlink(&fs, "self/x", "self").unwrap();
    assert_eq!(stat(&fs, "a").err(), Some(Errno::ELOOP));
    assert_eq!(stat(&fs, "a/x").err(), Some(Errno::ELOOP));
    assert_eq!(stat(&fs, "self").err(), Some(Errno::ELOOP));
    assert_eq!(open(&fs, "a", RDONLY).err(), Some(Errno::ELOOP));
    assert_eq!(open(&fs, "a", CREAT | RDWR).err(), Some(Errno::ELOOP));
    assert_eq!(done(fs.mkdir(b"a/x", 0o755, &ROOT)).err(), Some(Errno::ELOOP));
    assert_eq!(done(fs.truncate(b"b", 0)).err(), Some(Errno::ELOOP));
    assert_eq!(mode_type(&lstat(&fs, "a").unwrap()), libc::S_IFLNK);
    done(fs.unlink(b"a")).unwrap();
    // A chain of 40 symlinks resolves; 41 do not.
    mkdir(&fs, "end").unwrap();
    symlink(&fs, "end", "c0").unwrap();
    for i in 1..41 {
        symlink(&fs, &format!("c{}", i - 1), &format!("c{i}")).unwrap();
    }
    assert_eq!(mode_type(&stat(&fs, "c39").unwrap()), libc::S_IFDIR);
    assert_eq!(stat(&fs, "c40").err(), Some(Errno::ELOOP));
    assert!(stat(&fs, "c39/.").is_ok());
    assert_eq!(stat(&fs, "c40/.").err(), Some(Errno::ELOOP));
}

#[test]
fn escaping_symlinks() {
    let fs = fs();
    mkdir(&fs, "d").unwrap();
    symlink(&fs, "/etc", "abs").unwrap();
    symlink(&fs, "../../up/x", "d/climb").unwrap();
    symlink(&fs, "sub/../..", "dots").unwrap();
    symlink(&fs, "d/inner/y", "l1").unwrap();
    symlink(&fs, "/abs", "d/inner").unwrap();
    let s = |p: &str, f: bool| fs.stat(p.as_bytes(), f).unwrap().map(|_| ());
    assert_eq!(s("abs/passwd", true), esc("/etc", "passwd"));
    assert_eq!(s("abs/a/b/", false), esc("/etc", "a/b/"));
    assert_eq!(s("abs", true), esc("/etc", ""));
    assert_eq!(s("abs/", false), esc("/etc/", ""));
    assert_eq!(s("abs", false), Resolution::Done(()));
    // A relative target climbing above the root: continue from the mount root's parent.
    assert_eq!(s("d/climb/z", true), esc("..", "up/x/z"));
    assert_eq!(s("dots", true), esc("..", ""));
    assert_eq!(s("dots/", true), esc("../", ""));
    // ".." written in the path itself stays at the root.
    assert_eq!(s("d/../../d", true), Resolution::Done(()));
    // Nested: the rest of the first symlink's target is part of `rest`.
    assert_eq!(s("l1/z", true), esc("/abs", "y/z"));
    // Every operation reports escapes in non-final components; following ones in the last.
    assert_eq!(fs.mkdir(b"abs/new", 0o755, &ROOT).unwrap(), esc("/etc", "new"));
    assert_eq!(fs.unlink(b"abs/f").unwrap(), esc("/etc", "f"));
    assert_eq!(fs.rmdir(b"abs/f").unwrap(), esc("/etc", "f"));
    assert_eq!(fs.symlink(b"t", b"abs/s", &ROOT).unwrap(), esc("/etc", "s"));
    assert_eq!(fs.readlink(b"abs/s").unwrap().map(|_| ()), esc("/etc", "s"));
    assert_eq!(fs.truncate(b"abs", 0).unwrap(), esc("/etc", ""));
    assert_eq!(fs.chmod(b"abs", 0o600).unwrap(), esc("/etc", ""));
    assert_eq!(fs.chown(b"abs", Some(1), None).unwrap(), esc("/etc", ""));
    assert_eq!(fs.utimens(b"abs", Some((1, 0)), None).unwrap(), esc("/etc", ""));
    assert_eq!(fs.open(b"abs", CREAT | RDWR, 0o600, &ROOT).unwrap().map(|_| ()), esc("/etc", ""));
    assert_eq!(fs.open(b"abs/x/", RDONLY, 0, &ROOT).unwrap().map(|_| ()), esc("/etc", "x/"));
    assert_eq!(fs.open(b"abs", RDONLY | NOFOLLOW, 0, &ROOT).err(), Some(Errno::ELOOP));
    assert_eq!(fs.lchown(b"abs", Some(1), None).unwrap(), Resolution::Done(()));
    // Not following the last component: unlink removes the symlink.
    assert_eq!(fs.unlink(b"abs").unwrap(), Resolution::Done(()));
}

#[test]
fn getdents_lists_dots_and_types() {
    let fs = fs();
    mkdir(&fs, "d").unwrap();
    mkdir(&fs, "d/sub").unwrap();
    write_file(&fs, "d/file", b"");
    symlink(&fs, "file", "d/link").unwrap();
    let d = open(&fs, "d", RDONLY | DIRECTORY).unwrap();
    let recs = list(&*d, 4096);
    let by_name: HashMap<Vec<u8>, (u64, u8)> = recs.iter().map(|r| (r.3.clone(), (r.0, r.2))).collect();
    assert_eq!(recs.len(), 5);
    assert_eq!(by_name[&b"."[..]], (stat(&fs, "d").unwrap().ino, libc::DT_DIR));
    assert_eq!(by_name[&b".."[..]], (stat(&fs, "").unwrap().ino, libc::DT_DIR));
    assert_eq!(by_name[&b"sub"[..]], (stat(&fs, "d/sub").unwrap().ino, libc::DT_DIR));
    assert_eq!(by_name[&b"file"[..]], (stat(&fs, "d/file").unwrap().ino, libc::DT_REG));
    assert_eq!(by_name[&b"link"[..]], (lstat(&fs, "d/link").unwrap().ino, libc::DT_LNK));
    // One record at a time gives the same; offsets are strictly increasing.
    let one = list(&*d, 24);
    assert_eq!(one, recs);
    assert!(recs.windows(2).all(|w| w[0].1 < w[1].1));
    // Too small for one record.
    let mut tiny = [0u8; 16];
    assert_eq!(d.getdents(&mut tiny, 0).err(), Some(Errno::EINVAL));
    // Resuming at any record's d_off gives the records after it.
    for (i, r) in recs.iter().enumerate() {
        let mut buf = vec![0u8; 4096];
        let (n, _) = d.getdents(&mut buf, r.1).unwrap();
        assert_eq!(parse_dirents(&buf[..n]), recs[i + 1..].to_vec());
    }
    // The root's ".." is itself.
    let root = open(&fs, "", RDONLY).unwrap();
    let r = list(&*root, 4096);
    assert_eq!(r[0].0, r[1].0);
}

#[test]
fn getdents_cursor_stable_across_changes() {
    let fs = fs();
    mkdir(&fs, "d").unwrap();
    for i in 0..200 {
        write_file(&fs, &format!("d/f{i:03}"), b"");
    }
    let d = open(&fs, "d", RDONLY).unwrap();
    let mut seen: Vec<Vec<u8>> = Vec::new();
    let mut removed: HashSet<Vec<u8>> = HashSet::new();
    let mut pos = 0;
    let mut round = 0;
    loop {
        let mut buf = vec![0u8; 256];
        let (n, next) = d.getdents(&mut buf, pos).unwrap();
        if n == 0 {
            break;
        }
        seen.extend(parse_dirents(&buf[..n]).into_iter().map(|r| r.3));
        pos = next;
        // Between calls: remove some entries already read and some not yet read, and add
        // new ones.
        for i in [round * 7 % 200, (round * 13 + 101) % 200] {
            let name = format!("f{i:03}");
            if fs.unlink(format!("d/{name}").as_bytes()).is_ok() {
                removed.insert(name.into_bytes());
            }
        }
        write_file(&fs, &format!("d/new{round}"), b"");
        round += 1;
    }
    let unique: HashSet<&Vec<u8>> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no entry listed twice");
    for i in 0..200 {
        let name = format!("f{i:03}").into_bytes();
        assert!(removed.contains(&name) || unique.contains(&name), "f{i:03} skipped");
    }
    assert!(unique.contains(&b".".to_vec()) && unique.contains(&b"..".to_vec()));
    assert!(round > 5);
}

#[test]
fn truncate_and_sparse_files() {
    let fs = fs();
    let f = creat(&fs, "f");
    // A write far past the end leaves a hole that reads as zeros and costs nothing.
    f.write(b"tail", Some(1 << 20)).unwrap();
    let st = f.stat().unwrap();
    assert_eq!((st.size, st.blocks), ((1 << 20) + 4, 8));
    let mut buf = vec![1u8; 8192];
    assert_eq!(f.read(&mut buf, Some(4096)).unwrap(), 8192);
    assert!(buf.iter().all(|&b| b == 0));
    // Grow by truncate: sparse.
    done(fs.truncate(b"f", 1 << 30)).unwrap();
    let st = stat(&fs, "f").unwrap();
    assert_eq!((st.size, st.blocks), (1 << 30, 8));
    // Shrink into a page, then grow: the cut part reads as zeros.
    write_file(&fs, "g", &[9u8; 5000]);
    done(fs.truncate(b"g", 4100)).unwrap();
    done(fs.truncate(b"g", 6000)).unwrap();
    let g = open(&fs, "g", RDONLY).unwrap();
    let data = read_all(&*g);
    assert_eq!(data.len(), 6000);
    assert!(data[..4100].iter().all(|&b| b == 9) && data[4100..].iter().all(|&b| b == 0));
    assert_eq!(g.stat().unwrap().blocks, 16);
    done(fs.truncate(b"g", 0)).unwrap();
    assert_eq!(g.stat().unwrap().blocks, 0);
    // Errors.
    mkdir(&fs, "d").unwrap();
    symlink(&fs, "g", "lg").unwrap();
    assert_eq!(done(fs.truncate(b"d", 0)).err(), Some(Errno::EISDIR));
    assert_eq!(done(fs.truncate(b"nope", 0)).err(), Some(Errno::ENOENT));
    assert_eq!(done(fs.truncate(b"g/", 0)).err(), Some(Errno::ENOTDIR));
    assert_eq!(done(fs.truncate(b"g", 1 << 63)).err(), Some(Errno::EINVAL));
    done(fs.truncate(b"lg", 10)).unwrap();
    assert_eq!(g.size().unwrap(), 10);
    // Times change only with the size.
    done(fs.utimens(b"g", Some((5, 0)), Some((5, 0)))).unwrap();
    done(fs.truncate(b"g", 10)).unwrap();
    assert_eq!(stat(&fs, "g").unwrap().mtime, (5, 0));
    done(fs.truncate(b"g", 11)).unwrap();
    assert!(stat(&fs, "g").unwrap().mtime.0 > 5);
}

#[test]
fn size_limits() {
    let fs = Tmpfs::with_limits(1, Limits { max_bytes: 4 * 4096, max_file_size: 10 * 4096 });
    let f = creat(&fs, "f");
    // Filling up: a short write, then ENOSPC.
    assert_eq!(f.write(&[1u8; 5 * 4096], Some(0)).unwrap(), 4 * 4096);
    assert_eq!(f.write(b"x", Some(4 * 4096)).err(), Some(Errno::ENOSPC));
    // Rewriting allocated pages needs no space.
    assert_eq!(f.write(&[2u8; 100], Some(10)).unwrap(), 100);
    assert_eq!(fs.used_bytes(), 4 * 4096);
    // Freeing pages gives space back.
    done(fs.truncate(b"f", 4096)).unwrap();
    assert_eq!(fs.used_bytes(), 4096);
    let g = creat(&fs, "g");
    // The size limit: EFBIG at it, short writes across it.
    assert_eq!(g.write(b"x", Some(10 * 4096)).err(), Some(Errno::EFBIG));
    assert_eq!(g.write(b"abc", Some(10 * 4096 - 2)).unwrap(), 2);
    assert_eq!(g.size().unwrap(), 10 * 4096);
    assert_eq!(done(fs.truncate(b"g", 10 * 4096 + 1)).err(), Some(Errno::EFBIG));
    drop((f, g));
    done(fs.unlink(b"f")).unwrap();
    done(fs.unlink(b"g")).unwrap();
    assert_eq!(fs.used_bytes(), 0);
}

#[test]
fn attributes() {
    let fs = fs();
    write_file(&fs, "f", b"");
    symlink(&fs, "f", "l").unwrap();
    done(fs.chmod(b"l", 0o104755)).unwrap();
    assert_eq!(stat(&fs, "f").unwrap().mode, libc::S_IFREG | 0o4755);
    assert_eq!(lstat(&fs, "l").unwrap().mode, libc::S_IFLNK | 0o777);
    // chown clears set-user-ID; set-group-ID only if group-executable.
    done(fs.chmod(b"f", 0o6755)).unwrap();
    done(fs.chown(b"l", Some(10), None)).unwrap();
    let st = stat(&fs, "f").unwrap();
    assert_eq!((st.uid, st.gid, st.mode), (10, 0, libc::S_IFREG | 0o755));
    done(fs.chmod(b"f", 0o2745)).unwrap();
    done(fs.chown(b"f", None, Some(20))).unwrap();
    let st = stat(&fs, "f").unwrap();
    assert_eq!((st.uid, st.gid, st.mode), (10, 20, libc::S_IFREG | 0o2745));
    done(fs.lchown(b"l", Some(30), Some(31))).unwrap();
    let st = lstat(&fs, "l").unwrap();
    assert_eq!((st.uid, st.gid), (30, 31));
    assert_eq!(stat(&fs, "f").unwrap().uid, 10);
    // utimens: set, omit, now.
    done(fs.utimens(b"f", Some((100, 5)), Some((200, 6)))).unwrap();
    let st = stat(&fs, "f").unwrap();
    assert_eq!((st.atime, st.mtime), ((100, 5), (200, 6)));
    assert!(st.ctime.0 > 200);
    done(fs.utimens(b"f", None, Some((300, 0)))).unwrap();
    assert_eq!(stat(&fs, "f").unwrap().atime, (100, 5));
    done(fs.utimens(b"f", Some((0, UTIME_NOW)), Some((0, UTIME_OMIT)))).unwrap();
    let st = stat(&fs, "f").unwrap();
    assert!(st.atime.0 > 300);
    assert_eq!(st.mtime, (300, 0));
    assert_eq!(done(fs.utimens(b"f", Some((0, 1_000_000_000)), None)).err(), Some(Errno::EINVAL));
    assert_eq!(done(fs.utimens(b"f", None, Some((0, -1)))).err(), Some(Errno::EINVAL));
    // Both omitted: nothing, not even a lookup.
    assert_eq!(done(fs.utimens(b"nope", None, None)), Ok(()));
    done(fs.lutimens(b"l", Some((7, 0)), Some((8, 0)))).unwrap();
    assert_eq!(lstat(&fs, "l").unwrap().mtime, (8, 0));
    assert_eq!(stat(&fs, "f").unwrap().mtime, (300, 0));
    for r in [fs.chmod(b"nope", 0), fs.chown(b"nope", None, None), fs.utimens(b"nope", Some((1, 1)), None)] {
        assert_eq!(r.err(), Some(Errno::ENOENT));
    }
}

#[test]
fn timestamps() {
    let fs = fs();
    mkdir(&fs, "d").unwrap();
    let t0 = now();
    done(fs.utimens(b"d", Some((1, 0)), Some((1, 0)))).unwrap();
    let f = creat(&fs, "d/f");
    let created = f.stat().unwrap();
    assert!(created.mtime >= t0 && created.atime == created.mtime && created.ctime == created.mtime);
    // Creating in a directory changes its mtime and ctime.
    let d = stat(&fs, "d").unwrap();
    assert!(d.mtime >= t0 && d.ctime >= t0);
    // Writes update mtime and ctime; reads set atime, never before creation.
    done(fs.utimens(b"d/f", Some((1, 0)), Some((1, 0)))).unwrap();
    f.write(b"x", Some(0)).unwrap();
    let st = f.stat().unwrap();
    assert!(st.mtime >= t0 && st.ctime >= t0 && st.atime == (1, 0));
    let mut buf = [0u8; 1];
    f.read(&mut buf, Some(0)).unwrap();
    assert!(f.stat().unwrap().atime >= created.mtime);
    // Unlink changes the inode's ctime and the directory's mtime.
    fs.link(b"d/f", b"d/g").unwrap();
    done(fs.utimens(b"d", None, Some((1, 0)))).unwrap();
    done(fs.utimens(b"d/f", None, Some((1, 0)))).unwrap();
    let before = now();
    done(fs.unlink(b"d/g")).unwrap();
    assert!(f.stat().unwrap().ctime >= before);
    assert!(stat(&fs, "d").unwrap().mtime >= before);
    // O_TRUNC always updates mtime.
    done(fs.utimens(b"d/f", None, Some((1, 0)))).unwrap();
    open(&fs, "d/f", WRONLY | TRUNC).unwrap();
    assert!(stat(&fs, "d/f").unwrap().mtime >= before);
}

#[test]
fn open_file_description_rules() {
    let fs = fs();
    write_file(&fs, "f", b"abc");
    let ro = OpenFile::new(open(&fs, "f", RDONLY).unwrap(), RDONLY);
    assert_eq!(ro.write(b"x").err(), Some(Errno::EBADF));
    let ap = OpenFile::new(open(&fs, "f", WRONLY | APPEND).unwrap(), WRONLY | APPEND);
    ap.write(b"def").unwrap();
    let mut buf = [0u8; 16];
    let n = ro.read(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"abcdef");
    assert_eq!(ro.seek(0, libc::SEEK_END).unwrap(), 6);
    // Directory cursors through the description.
    let d = OpenFile::new(open(&fs, "", RDONLY).unwrap(), RDONLY);
    assert_eq!(d.seek(0, libc::SEEK_END).unwrap(), 60);
}

#[test]
fn mapping_reads_current_contents() {
    let fs = fs();
    let f = creat(&fs, "lib.so");
    f.write(b"\x7fELF", Some(0)).unwrap();
    let m = f.mappable().unwrap();
    let mut page = [0xffu8; 16];
    assert_eq!(m.read_at(0, &mut page).unwrap(), 4);
    assert_eq!(&page[..4], b"\x7fELF");
    assert_eq!(m.read_at(4096, &mut page).unwrap(), 0);
    assert_eq!(m.name(), "lib.so");
}

#[test]
fn concurrent_writers() {
    const CHUNK: usize = 1000;
    const ROUNDS: usize = 200;
    const THREADS: usize = 4;
    let fs = fs();
    creat(&fs, "shared");
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let fs = fs.clone();
            std::thread::spawn(move || {
                let own = creat(&fs, &format!("own{t}"));
                // Each thread has its own description of the shared file.
                let shared = open(&fs, "shared", WRONLY).unwrap();
                for r in 0..ROUNDS {
                    let byte = (t * ROUNDS + r) as u8;
                    assert_eq!(own.write(&[byte; CHUNK], Some((r * CHUNK) as u64)).unwrap(), CHUNK);
                    let off = ((r * THREADS + t) * CHUNK) as u64;
                    assert_eq!(shared.write(&[t as u8 + 1; CHUNK], Some(off)).unwrap(), CHUNK);
                    // Namespace changes from every thread at once.
                    mkdir(&fs, &format!("dir{t}_{r}")).unwrap();
                    done(fs.rmdir(format!("dir{t}_{r}").as_bytes())).unwrap();
                }
            })
        })
        .collect();
    // Concurrent reader of the root directory.
    let root = open(&fs, "", RDONLY).unwrap();
    for _ in 0..50 {
        let recs = list(&*root, 512);
        let unique: HashSet<_> = recs.iter().map(|r| r.3.clone()).collect();
        assert_eq!(unique.len(), recs.len());
    }
    for h in handles {
        h.join().unwrap();
    }
    for t in 0..THREADS {
        let data = read_all(&*open(&fs, &format!("own{t}"), RDONLY).unwrap());
        assert_eq!(data.len(), ROUNDS * CHUNK);
        for (r, chunk) in data.chunks(CHUNK).enumerate() {
            assert!(chunk.iter().all(|&b| b == (t * ROUNDS + r) as u8));
        }
    }
    let data = read_all(&*open(&fs, "shared", RDONLY).unwrap());
    assert_eq!(data.len(), ROUNDS * THREADS * CHUNK);
    for (i, chunk) in data.chunks(CHUNK).enumerate() {
        assert!(chunk.iter().all(|&b| b == (i % THREADS) as u8 + 1), "chunk {i}");
    }
    assert_eq!(stat(&fs, "").unwrap().nlink, 2);
}

#[test]
fn deep_tree_drops_without_recursion() {
    // Deeper than any path allows, by moving the chain into a new directory each time:
    // dropping it recursively would overflow the test thread's stack.
    let fs = fs();
    mkdir(&fs, "x").unwrap();
    for _ in 0..50_000 {
        mkdir(&fs, "y").unwrap();
        fs.rename(b"x", b"y/d", 0).unwrap();
        fs.rename(b"y", b"x", 0).unwrap();
    }
    assert_eq!(stat(&fs, "x/d/d/d").unwrap().nlink, 3);
    drop(fs);
}
