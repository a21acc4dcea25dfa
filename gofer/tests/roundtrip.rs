//! Every request, through a real server thread over a socketpair, on a temp dir.

mod common;

use std::collections::BTreeSet;
use std::io::{Read, Seek, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};

use common::*;
use gofer::protocol::{Owner, SetAttr, SetTime, Timespec, ROOT};
use gofer::Error;

fn setup() -> Fixture {
    let fx = Fixture::new();
    let r = fx.root();
    std::fs::create_dir_all(r.join("a/b")).unwrap();
    std::fs::write(r.join("a/b/file.txt"), b"hello gofer").unwrap();
    std::os::unix::fs::symlink(fx.outside(), r.join("abs")).unwrap();
    std::os::unix::fs::symlink("../outside", r.join("rel")).unwrap();
    std::os::unix::fs::symlink("a", r.join("inside")).unwrap();
    fx
}

#[test]
fn walk_open_read() {
    let fx = setup();
    let (c, h) = start(&fx.root(), false);
    let w = c.walk(ROOT, &[b"a", b"b", b"file.txt"]).unwrap();
    assert_eq!(w.error, None);
    assert_eq!(w.entries.len(), 3);
    assert!(w.entries[0].1.is_dir() && w.entries[1].1.is_dir());
    let (file, st) = w.entries[2];
    assert_eq!(st.file_type(), libc::S_IFREG);
    assert_eq!(st.size, 11);
    assert_eq!(st.ino, host_ino(&fx.root().join("a/b/file.txt")));
    assert_eq!(c.stat(file).unwrap(), st);
    assert_eq!(
        read_all(c.open(file, libc::O_RDONLY).unwrap()),
        b"hello gofer"
    );
    // Descriptors donated are close-on-exec and blocking.
    let fd = c.open(file, libc::O_RDWR | libc::O_APPEND).unwrap();
    let mut f = std::fs::File::from(fd);
    f.write_all(b"!").unwrap();
    assert_eq!(
        std::fs::read(fx.root().join("a/b/file.txt")).unwrap(),
        b"hello gofer!"
    );
    // O_TRUNC truncates.
    drop(c.open(file, libc::O_WRONLY | libc::O_TRUNC).unwrap());
    assert_eq!(c.stat(file).unwrap().size, 0);
    // A directory opens read-only, never for writing.
    let a = w.entries[0].0;
    drop(c.open(a, libc::O_RDONLY | libc::O_DIRECTORY).unwrap());
    assert_eq!(errno(c.open(a, libc::O_RDWR)), libc::EISDIR);
    assert_eq!(
        errno(c.open(file, libc::O_RDONLY | libc::O_DIRECTORY)),
        libc::ENOTDIR
    );
    // Partial walks report the failing component; a first-component failure is an errno.
    let w = c.walk(ROOT, &[b"a", b"nope"]).unwrap();
    assert_eq!(
        (w.entries.len(), w.error.map(|e| e.0)),
        (1, Some(libc::ENOENT))
    );
    let w = c.walk(ROOT, &[b"a", b"b", b"file.txt", b"x"]).unwrap();
    assert_eq!(
        (w.entries.len(), w.error.map(|e| e.0)),
        (3, Some(libc::ENOTDIR))
    );
    assert_eq!(errno(c.walk(ROOT, &[b"nope"])), libc::ENOENT);
    assert_eq!(errno(c.walk(file, &[b"x"])), libc::ENOTDIR);
    // Closed and unknown nodes are EBADF; the root cannot be closed.
    c.close(&[file, ROOT]).unwrap();
    assert_eq!(errno(c.stat(file)), libc::EBADF);
    assert_eq!(errno(c.close(&[file])), libc::EBADF);
    assert!(c.stat(ROOT).unwrap().is_dir());
    drop(c);
    h.join().unwrap().unwrap();
}

#[test]
fn symlinks_come_back_as_symlinks() {
    let fx = setup();
    let (c, _h) = start(&fx.root(), false);
    for (name, target) in [
        (
            &b"abs"[..],
            fx.outside().as_os_str().as_encoded_bytes().to_vec(),
        ),
        (b"rel", b"../outside".to_vec()),
        (b"inside", b"a".to_vec()),
    ] {
        let w = c.walk(ROOT, &[name, b"secret"]).unwrap();
        assert_eq!(
            w.entries.len(),
            1,
            "{name:?}: the walk stops at the symlink"
        );
        assert_eq!(w.error, None);
        let (id, st) = w.entries[0];
        assert!(st.is_symlink());
        assert_eq!(
            st.ino,
            host_ino(&fx.root().join(std::str::from_utf8(name).unwrap()))
        );
        assert_eq!(c.readlink(id).unwrap(), target);
        assert_eq!(errno(c.open(id, libc::O_RDONLY)), libc::ELOOP);
        assert_eq!(errno(c.walk(id, &[b"secret"])), libc::ENOTDIR);
        assert_eq!(
            errno(c.setattr(
                id,
                SetAttr {
                    mode: Some(0o777),
                    ..Default::default()
                }
            )),
            libc::EOPNOTSUPP
        );
    }
    // readlink of a non-symlink is EINVAL.
    assert_eq!(errno(c.readlink(ROOT)), libc::EINVAL);
    // Symlinks made through the gofer.
    let (id, st) = c
        .symlink(ROOT, b"made", b"/etc/passwd", Owner::KEEP)
        .unwrap();
    assert!(st.is_symlink());
    assert_eq!(c.readlink(id).unwrap(), b"/etc/passwd");
    assert_eq!(
        std::fs::read_link(fx.root().join("made")).unwrap(),
        std::path::Path::new("/etc/passwd")
    );
}

#[test]
fn dot_dot_and_bad_names_are_refused() {
    let fx = setup();
    let (c, _h) = start(&fx.root(), false);
    for bad in [&b".."[..], b".", b"a/b", b"", b"a\0b"] {
        assert!(
            matches!(c.walk(ROOT, &[bad]), Err(Error::Request(_))),
            "{bad:?}"
        );
        assert!(matches!(
            c.mkdir(ROOT, bad, 0o755, Owner::KEEP),
            Err(Error::Request(_))
        ));
    }
    let long = vec![b'x'; 256];
    let r = c.walk(ROOT, &[&long]);
    assert_eq!(
        r.as_ref().map_err(|e| e.errno()).err(),
        Some(libc::ENAMETOOLONG)
    );
    // The connection is still fine.
    c.walk(ROOT, &[b"a"]).unwrap();
}

#[test]
fn create_mkdir_rename_unlink_link_mknod() {
    let fx = setup();
    let r = fx.root();
    let (c, _h) = start(&r, false);
    let (d, st) = c.mkdir(ROOT, b"d", 0o750, Owner::KEEP).unwrap();
    assert!(st.is_dir());
    assert_eq!(st.mode & 0o7777, 0o750);
    assert_eq!(errno(c.mkdir(ROOT, b"d", 0o750, Owner::KEEP)), libc::EEXIST);
    let (f, st, fd) = c
        .create(
            d,
            b"f",
            libc::O_RDWR,
            0o640,
            Owner {
                uid: 1234,
                gid: 5678,
            },
        )
        .unwrap();
    assert_eq!((st.mode & 0o7777, st.uid, st.gid), (0o640, 1234, 5678));
    let mut file = std::fs::File::from(fd);
    file.write_all(b"data").unwrap();
    file.rewind().unwrap();
    let mut s = String::new();
    file.read_to_string(&mut s).unwrap();
    assert_eq!(s, "data");
    assert_eq!(std::fs::read(r.join("d/f")).unwrap(), b"data");
    assert_eq!(
        errno(c.create(d, b"f", libc::O_RDWR, 0o640, Owner::KEEP)),
        libc::EEXIST
    );
    // Rename keeps the node usable under its new name.
    c.rename(d, b"f", ROOT, b"g", 0).unwrap();
    assert!(!r.join("d/f").exists());
    assert_eq!(read_all(c.open(f, libc::O_RDONLY).unwrap()), b"data");
    // RENAME_NOREPLACE and RENAME_EXCHANGE.
    std::fs::write(r.join("h"), b"other").unwrap();
    assert_eq!(
        errno(c.rename(ROOT, b"g", ROOT, b"h", libc::RENAME_NOREPLACE)),
        libc::EEXIST
    );
    c.rename(ROOT, b"g", ROOT, b"h", libc::RENAME_EXCHANGE)
        .unwrap();
    assert_eq!(std::fs::read(r.join("h")).unwrap(), b"data");
    assert_eq!(read_all(c.open(f, libc::O_RDONLY).unwrap()), b"data");
    // A node whose name now holds another file is stale, never the other file.
    std::fs::rename(r.join("h"), r.join("elsewhere")).unwrap();
    std::fs::write(r.join("h"), b"impostor").unwrap();
    assert_eq!(errno(c.open(f, libc::O_RDONLY)), libc::ESTALE);
    // Links.
    let (g, _) = c.walk(ROOT, &[b"g"]).unwrap().entries[0];
    let (_, st) = c.link(d, b"g2", g).unwrap();
    assert_eq!(st.nlink, 2);
    assert_eq!(st.ino, host_ino(&r.join("g")));
    assert_eq!(errno(c.link(ROOT, b"dlink", d)), libc::EPERM);
    // mknod: fifo, socket, regular; never a device.
    let (fifo, st) = c
        .mknod(d, b"fifo", libc::S_IFIFO | 0o600, Owner::KEEP)
        .unwrap();
    assert_eq!(st.file_type(), libc::S_IFIFO);
    assert_eq!(errno(c.open(fifo, libc::O_RDONLY)), libc::EPERM);
    let (sock, st) = c
        .mknod(d, b"sock", libc::S_IFSOCK | 0o600, Owner::KEEP)
        .unwrap();
    assert_eq!(st.file_type(), libc::S_IFSOCK);
    assert_eq!(errno(c.open(sock, libc::O_RDONLY)), libc::ENXIO);
    let (_, st) = c.mknod(d, b"reg", 0o600, Owner::KEEP).unwrap();
    assert_eq!(st.file_type(), libc::S_IFREG);
    for dev in [libc::S_IFCHR, libc::S_IFBLK, libc::S_IFDIR] {
        assert_eq!(
            errno(c.mknod(d, b"dev", dev | 0o600, Owner::KEEP)),
            libc::EPERM
        );
    }
    assert!(!r.join("d/dev").exists());
    // unlink and rmdir.
    assert_eq!(
        errno(c.unlink(ROOT, b"d", libc::AT_REMOVEDIR)),
        libc::ENOTEMPTY
    );
    for n in [&b"g2"[..], b"fifo", b"sock", b"reg"] {
        c.unlink(d, n, 0).unwrap();
    }
    assert_eq!(errno(c.unlink(ROOT, b"d", 0)), libc::EISDIR);
    c.unlink(ROOT, b"d", libc::AT_REMOVEDIR).unwrap();
    assert!(!r.join("d").exists());
    assert_eq!(errno(c.unlink(ROOT, b"d", 0)), libc::ENOENT);
    // statfs and fsync.
    let sfs = c.statfs(ROOT).unwrap();
    assert!(sfs.bsize > 0 && sfs.namelen >= 255);
    c.fsync(ROOT, false).unwrap();
    c.fsync(g, true).unwrap();
}

#[test]
fn getdents_pages_with_stable_offsets() {
    let fx = setup();
    let r = fx.root();
    std::fs::create_dir(r.join("many")).unwrap();
    let mut want = BTreeSet::new();
    for i in 0..300 {
        let n = format!("file-{i:04}-{}", "x".repeat(i % 40));
        std::fs::write(r.join("many").join(&n), b"").unwrap();
        want.insert(n.into_bytes());
    }
    std::fs::create_dir(r.join("many/sub")).unwrap();
    std::os::unix::fs::symlink("x", r.join("many/ln")).unwrap();
    let (c, _h) = start(&r, false);
    let (many, _) = c.walk(ROOT, &[b"many"]).unwrap().entries[0];
    let mut got = Vec::new();
    let mut off = 0;
    let mut pages = 0;
    loop {
        let ds = c.getdents(many, off, 512).unwrap();
        if ds.is_empty() {
            break;
        }
        pages += 1;
        off = ds.last().unwrap().off;
        got.extend(ds);
    }
    assert!(pages > 10, "small pages: {pages}");
    let names: Vec<Vec<u8>> = got.iter().map(|d| d.name.clone()).collect();
    let set: BTreeSet<Vec<u8>> = names.iter().cloned().collect();
    assert_eq!(set.len(), names.len(), "no entry twice");
    for special in [&b"."[..], b"..", b"sub", b"ln"] {
        assert!(set.contains(special));
    }
    let files: BTreeSet<Vec<u8>> = set
        .into_iter()
        .filter(|n| n.starts_with(b"file-"))
        .collect();
    assert_eq!(files, want);
    let ty = |n: &[u8]| got.iter().find(|d| d.name == n).unwrap().d_type;
    assert_eq!(ty(b"sub"), libc::DT_DIR);
    assert_eq!(ty(b"ln"), libc::DT_LNK);
    assert_eq!(ty(b"file-0000-"), libc::DT_REG);
    // Resuming from an entry's offset gives the same following entries.
    let mid = &got[got.len() / 2];
    let again = c.getdents(many, mid.off, 4096).unwrap();
    let after = got.iter().position(|d| d.name == mid.name).unwrap() + 1;
    assert_eq!(again[0], got[after]);
    // Too small a buffer for one entry is EINVAL; a file is ENOTDIR.
    assert_eq!(errno(c.getdents(many, 0, 8)), libc::EINVAL);
    let (file, _) = c.walk(ROOT, &[b"a", b"b", b"file.txt"]).unwrap().entries[2];
    assert_eq!(errno(c.getdents(file, 0, 4096)), libc::ENOTDIR);
}

#[test]
fn setattr_and_xattrs() {
    let fx = setup();
    let r = fx.root();
    let (c, _h) = start(&r, false);
    let (f, _) = c.walk(ROOT, &[b"a", b"b", b"file.txt"]).unwrap().entries[2];
    let t = Timespec {
        sec: 1_000_000_000,
        nsec: 123_456_789,
    };
    let st = c
        .setattr(
            f,
            SetAttr {
                mode: Some(0o4711),
                uid: Some(4321),
                gid: Some(8765),
                size: Some(5),
                atime: Some(SetTime::At(t)),
                mtime: Some(SetTime::At(t)),
            },
        )
        .unwrap();
    assert_eq!(
        (st.mode & 0o7777, st.uid, st.gid, st.size),
        (0o4711, 4321, 8765, 5)
    );
    assert_eq!((st.atime, st.mtime), (t, t));
    let m = std::fs::metadata(r.join("a/b/file.txt")).unwrap();
    assert_eq!(
        (m.permissions().mode() & 0o7777, m.uid(), m.size()),
        (0o4711, 4321, 5)
    );
    assert_eq!(m.mtime(), 1_000_000_000);
    let st = c
        .setattr(
            f,
            SetAttr {
                mtime: Some(SetTime::Now),
                ..Default::default()
            },
        )
        .unwrap();
    assert!(st.mtime.sec > 1_600_000_000);
    assert_eq!(st.atime, t, "atime omitted");
    // Size on a directory.
    let s = SetAttr {
        size: Some(0),
        ..Default::default()
    };
    assert_eq!(errno(c.setattr(ROOT, s)), libc::EISDIR);
    // Extended attributes: user.* only.
    c.setxattr(f, b"user.one", b"1", 0).unwrap();
    c.setxattr(ROOT, b"user.dir", b"d", 0).unwrap();
    assert_eq!(c.getxattr(f, b"user.one").unwrap(), b"1");
    assert_eq!(
        errno(c.setxattr(f, b"user.one", b"2", libc::XATTR_CREATE)),
        libc::EEXIST
    );
    c.setxattr(f, b"user.one", b"22", libc::XATTR_REPLACE)
        .unwrap();
    c.setxattr(f, b"user.big", &vec![7u8; 4000], 0).unwrap();
    assert_eq!(c.getxattr(f, b"user.big").unwrap().len(), 4000);
    let mut names = c.listxattr(f).unwrap();
    names.sort();
    assert_eq!(names, vec![b"user.big".to_vec(), b"user.one".to_vec()]);
    c.removexattr(f, b"user.one").unwrap();
    assert_eq!(errno(c.getxattr(f, b"user.one")), libc::ENODATA);
    for ns in [
        &b"trusted.x"[..],
        b"security.x",
        b"system.posix_acl_access",
        b"user.",
    ] {
        assert_eq!(errno(c.getxattr(f, ns)), libc::EOPNOTSUPP);
        assert_eq!(errno(c.setxattr(f, ns, b"v", 0)), libc::EOPNOTSUPP);
    }
    // On symlinks: nothing to see, nothing to set.
    let (ln, _) = c.walk(ROOT, &[b"abs"]).unwrap().entries[0];
    assert!(c.listxattr(ln).unwrap().is_empty());
    assert_eq!(errno(c.getxattr(ln, b"user.one")), libc::ENODATA);
    assert_eq!(errno(c.setxattr(ln, b"user.one", b"1", 0)), libc::EPERM);
    // Oversized values never leave the client.
    assert!(matches!(
        c.setxattr(f, b"user.huge", &vec![0u8; 70 * 1024], 0),
        Err(Error::Request(_))
    ));
}

#[test]
fn bad_flags_are_einval_and_keep_the_connection() {
    let fx = setup();
    let (c, _h) = start(&fx.root(), false);
    let (f, _) = c.walk(ROOT, &[b"a", b"b", b"file.txt"]).unwrap().entries[2];
    let einval = libc::EINVAL;
    assert_eq!(errno(c.open(f, libc::O_RDONLY | libc::O_CREAT)), einval);
    assert_eq!(errno(c.open(f, libc::O_RDONLY | libc::O_PATH)), einval);
    assert_eq!(errno(c.open(f, libc::O_ACCMODE)), einval);
    let excl = libc::O_RDWR | libc::O_TMPFILE;
    assert_eq!(
        errno(c.create(ROOT, b"n", excl, 0o600, Owner::KEEP)),
        einval
    );
    assert_eq!(
        errno(c.create(ROOT, b"n", libc::O_RDWR, 0o10600, Owner::KEEP)),
        einval
    );
    assert_eq!(
        errno(c.mkdir(ROOT, b"n", libc::S_IFDIR | 0o700, Owner::KEEP)),
        einval
    );
    assert_eq!(
        errno(c.unlink(ROOT, b"a", libc::AT_SYMLINK_NOFOLLOW)),
        einval
    );
    let both = libc::RENAME_NOREPLACE | libc::RENAME_EXCHANGE;
    assert_eq!(errno(c.rename(ROOT, b"a", ROOT, b"n", both)), einval);
    assert_eq!(
        errno(c.rename(ROOT, b"a", ROOT, b"n", libc::RENAME_WHITEOUT)),
        einval
    );
    let both = libc::XATTR_CREATE | libc::XATTR_REPLACE;
    assert_eq!(errno(c.setxattr(f, b"user.x", b"1", both)), einval);
    let s = SetAttr {
        mode: Some(libc::S_IFREG | 0o600),
        ..Default::default()
    };
    assert_eq!(errno(c.setattr(f, s)), einval);
    // The kernel's O_LARGEFILE is accepted.
    drop(
        c.open(f, libc::O_RDONLY | gofer::protocol::O_LARGEFILE)
            .unwrap(),
    );
    assert!(!fx.root().join("n").exists());
}

#[test]
fn read_only_refuses_every_change() {
    let fx = setup();
    let r = fx.root();
    let (c, _h) = start(&r, true);
    let w = c.walk(ROOT, &[b"a", b"b", b"file.txt"]).unwrap();
    let (b, f) = (w.entries[1].0, w.entries[2].0);
    assert_eq!(read_all(c.open(f, libc::O_RDONLY).unwrap()), b"hello gofer");
    assert!(!c.getdents(b, 0, 4096).unwrap().is_empty());
    let rofs = libc::EROFS;
    assert_eq!(errno(c.open(f, libc::O_WRONLY)), rofs);
    assert_eq!(errno(c.open(f, libc::O_RDWR)), rofs);
    assert_eq!(errno(c.open(f, libc::O_RDONLY | libc::O_TRUNC)), rofs);
    assert_eq!(
        errno(c.create(b, b"n", libc::O_RDWR, 0o600, Owner::KEEP)),
        rofs
    );
    assert_eq!(errno(c.mkdir(b, b"n", 0o700, Owner::KEEP)), rofs);
    assert_eq!(
        errno(c.mknod(b, b"n", libc::S_IFIFO | 0o600, Owner::KEEP)),
        rofs
    );
    assert_eq!(errno(c.symlink(b, b"n", b"t", Owner::KEEP)), rofs);
    assert_eq!(errno(c.link(b, b"n", f)), rofs);
    assert_eq!(errno(c.unlink(b, b"file.txt", 0)), rofs);
    assert_eq!(errno(c.rename(b, b"file.txt", b, b"n", 0)), rofs);
    let s = SetAttr {
        mode: Some(0o600),
        ..Default::default()
    };
    assert_eq!(errno(c.setattr(f, s)), rofs);
    assert_eq!(errno(c.setxattr(f, b"user.x", b"1", 0)), rofs);
    assert_eq!(errno(c.removexattr(f, b"user.x")), rofs);
    assert_eq!(
        std::fs::read(r.join("a/b/file.txt")).unwrap(),
        b"hello gofer"
    );
    assert_eq!(std::fs::read_dir(r.join("a/b")).unwrap().count(), 1);
}

#[test]
fn one_client_many_threads() {
    let fx = setup();
    let (c, _h) = start(&fx.root(), false);
    let c = std::sync::Arc::new(c);
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let c = c.clone();
            std::thread::spawn(move || {
                for _ in 0..200 {
                    let w = c.walk(ROOT, &[b"a", b"b", b"file.txt"]).unwrap();
                    let ids: Vec<u64> = w.entries.iter().map(|e| e.0).collect();
                    assert_eq!(c.stat(ids[2]).unwrap().size, 11);
                    c.close(&ids).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}
