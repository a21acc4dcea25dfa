//! Tests of rename, link, symlinks (loops and escapes) and directory listings.

use std::collections::{HashMap, HashSet};

use super::*;

#[test]
fn rename_over_existing_file() {
    let fs = fs();
    write_file(&fs, "a", b"new");
    write_file(&fs, "b", b"old");
    let old = open(&fs, "b", RDONLY).unwrap();
    let a_ino = stat(&fs, "a").unwrap().ino;
    fs.rename(b"a", b"b", 0, &ROOT).unwrap();
    assert_eq!(stat(&fs, "a").err(), Some(Errno::ENOENT));
    assert_eq!(stat(&fs, "b").unwrap().ino, a_ino);
    assert_eq!(read_all(&*open(&fs, "b", RDONLY).unwrap()), b"new");
    assert_eq!(old.stat().unwrap().nlink, 0);
    assert_eq!(read_all(&*old), b"old");
    assert_eq!(names(&fs, ""), [".", "..", "b"]);
    // Across directories, with a new name.
    mkdir(&fs, "d").unwrap();
    fs.rename(b"b", b"d/c", 0, &ROOT).unwrap();
    assert_eq!(stat(&fs, "d/c").unwrap().ino, a_ino);
    // A symlink is moved itself.
    symlink(&fs, "d/c", "l").unwrap();
    fs.rename(b"l", b"d/l", 0, &ROOT).unwrap();
    assert_eq!(done(fs.readlink(b"d/l", &ROOT)).unwrap(), b"d/c");
}

#[test]
fn rename_errors() {
    let fs = fs();
    for d in ["a", "a/b", "a/b/c", "e", "full", "full/x"] {
        mkdir(&fs, d).unwrap();
    }
    write_file(&fs, "f", b"");
    write_file(&fs, "g", b"");
    let r = |a: &str, b: &str, fl: u32| fs.rename(a.as_bytes(), b.as_bytes(), fl, &ROOT);
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
    assert_eq!(
        r("f", "h", RENAME_EXCHANGE | RENAME_NOREPLACE),
        Err(Errno::EINVAL)
    );
    // Nothing moved.
    assert_eq!(names(&fs, ""), [".", "..", "a", "e", "f", "full", "g"]);
    // The same inode under two names: nothing happens.
    fs.link(b"f", b"f2", &ROOT).unwrap();
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
    fs.rename(b"a/sub", b"b/moved", 0, &ROOT).unwrap();
    assert_eq!(
        (stat(&fs, "a").unwrap().nlink, stat(&fs, "b").unwrap().nlink),
        (2, 3)
    );
    assert_eq!(stat(&fs, "b/moved/..").unwrap().ino, b);
    let d = open(&fs, "b/moved", RDONLY).unwrap();
    let recs = list(&*d, 4096);
    assert_eq!(recs[1].3, b"..");
    assert_eq!(recs[1].0, b);
    // Exchange a directory and a file in different directories.
    fs.rename(b"b/moved", b"a/x", 0, &ROOT).unwrap();
    fs.rename(b"a/x", b"b/file", RENAME_EXCHANGE, &ROOT)
        .unwrap();
    assert_eq!(stat(&fs, "b/file").unwrap().ino, sub);
    assert_eq!(mode_type(&stat(&fs, "a/x").unwrap()), libc::S_IFREG);
    assert_eq!(
        (stat(&fs, "a").unwrap().nlink, stat(&fs, "b").unwrap().nlink),
        (2, 3)
    );
    assert_eq!(stat(&fs, "b/file/..").unwrap().ino, b);
    // Exchange within one directory.
    write_file(&fs, "b/y", b"y");
    fs.rename(b"b/y", b"b/file", RENAME_EXCHANGE, &ROOT)
        .unwrap();
    assert_eq!(stat(&fs, "b/y").unwrap().ino, sub);
    assert_eq!(read_all(&*open(&fs, "b/file", RDONLY).unwrap()), b"y");
    assert_eq!(stat(&fs, "b").unwrap().nlink, 3);
    // Replacing a directory kills it.
    mkdir(&fs, "victim").unwrap();
    let v = open(&fs, "victim", RDONLY).unwrap();
    fs.rename(b"b/y", b"victim", 0, &ROOT).unwrap();
    assert_eq!(v.stat().unwrap().nlink, 0);
    let mut buf = [0u8; 128];
    assert_eq!(v.getdents(&mut buf, 0).err(), Some(Errno::ENOENT));
    assert_eq!(stat(&fs, "").unwrap().nlink, 2 + 3);
}

#[test]
fn hard_links() {
    let fs = fs();
    write_file(&fs, "f", b"shared");
    mkdir(&fs, "d").unwrap();
    fs.link(b"f", b"d/g", &ROOT).unwrap();
    fs.link(b"f", b"h", &ROOT).unwrap();
    assert_eq!(stat(&fs, "f").unwrap().nlink, 3);
    assert_eq!(stat(&fs, "d/g").unwrap().ino, stat(&fs, "f").unwrap().ino);
    creat(&fs, "h").write(b"S", Some(0)).unwrap();
    assert_eq!(read_all(&*open(&fs, "f", RDONLY).unwrap()), b"Shared");
    done(fs.unlink(b"f", &ROOT)).unwrap();
    assert_eq!(stat(&fs, "h").unwrap().nlink, 2);
    assert_eq!(fs.link(b"d", b"d2", &ROOT), Err(Errno::EPERM));
    assert_eq!(fs.link(b"d/", b"d2", &ROOT), Err(Errno::EPERM));
    assert_eq!(fs.link(b"h", b"d/g", &ROOT), Err(Errno::EEXIST));
    assert_eq!(fs.link(b"d", b"h", &ROOT), Err(Errno::EEXIST));
    assert_eq!(fs.link(b"h", b"d/.", &ROOT), Err(Errno::EEXIST));
    assert_eq!(fs.link(b"h", b"", &ROOT), Err(Errno::EEXIST));
    assert_eq!(fs.link(b"nope", b"x", &ROOT), Err(Errno::ENOENT));
    assert_eq!(fs.link(b"h", b"x/", &ROOT), Err(Errno::ENOENT));
    assert_eq!(fs.link(b"h/", b"x", &ROOT), Err(Errno::ENOTDIR));
    assert_eq!(fs.link(b"h", b"nope/x", &ROOT), Err(Errno::ENOENT));
    // A symlink is linked itself, not its target.
    symlink(&fs, "h", "l").unwrap();
    fs.link(b"l", b"l2", &ROOT).unwrap();
    assert_eq!(lstat(&fs, "l2").unwrap().ino, lstat(&fs, "l").unwrap().ino);
    assert_eq!(lstat(&fs, "l").unwrap().nlink, 2);
    // Escapes cannot be reported here.
    symlink(&fs, "/elsewhere", "abs").unwrap();
    assert_eq!(fs.link(b"abs/x", b"y", &ROOT), Err(Errno::EXDEV));
    assert_eq!(fs.rename(b"h", b"abs/y", 0, &ROOT), Err(Errno::EXDEV));
}

#[test]
fn symlink_and_readlink() {
    let fs = fs();
    mkdir(&fs, "d").unwrap();
    write_file(&fs, "d/f", b"x");
    symlink(&fs, "d/f", "l").unwrap();
    symlink(&fs, "d", "ld").unwrap();
    let st = lstat(&fs, "l").unwrap();
    assert_eq!(
        (st.mode, st.size, st.nlink, st.blocks),
        (libc::S_IFLNK | 0o777, 3, 1, 0)
    );
    assert_eq!(stat(&fs, "l").unwrap().ino, stat(&fs, "d/f").unwrap().ino);
    assert_eq!(done(fs.readlink(b"l", &ROOT)).unwrap(), b"d/f");
    assert_eq!(done(fs.readlink(b"d/f", &ROOT)).err(), Some(Errno::EINVAL));
    assert_eq!(done(fs.readlink(b"d", &ROOT)).err(), Some(Errno::EINVAL));
    assert_eq!(done(fs.readlink(b"ld/", &ROOT)).err(), Some(Errno::EINVAL));
    assert_eq!(done(fs.readlink(b"nope", &ROOT)).err(), Some(Errno::ENOENT));
    assert_eq!(symlink(&fs, "", "e").err(), Some(Errno::ENOENT));
    assert_eq!(
        symlink(&fs, &"t".repeat(4096), "e").err(),
        Some(Errno::ENAMETOOLONG)
    );
    assert_eq!(symlink(&fs, "x", "l").err(), Some(Errno::EEXIST));
    assert_eq!(symlink(&fs, "x", "d").err(), Some(Errno::EEXIST));
    assert_eq!(symlink(&fs, "x", "d/.").err(), Some(Errno::EEXIST));
    assert_eq!(symlink(&fs, "x", "new/").err(), Some(Errno::ENOENT));
    assert_eq!(symlink(&fs, "x", "nope/new").err(), Some(Errno::ENOENT));
    // Through a symlink to a directory, and a trailing slash follows the last one.
    assert_eq!(
        stat(&fs, "ld/f").unwrap().ino,
        stat(&fs, "d/f").unwrap().ino
    );
    assert_eq!(mode_type(&lstat(&fs, "ld/").unwrap()), libc::S_IFDIR);
    assert_eq!(mode_type(&lstat(&fs, "ld").unwrap()), libc::S_IFLNK);
    assert_eq!(lstat(&fs, "l/").err(), Some(Errno::ENOTDIR));
    // Relative targets resolve from the symlink's directory.
    symlink(&fs, "../d/f", "d/up").unwrap();
    assert_eq!(
        stat(&fs, "d/up").unwrap().ino,
        stat(&fs, "d/f").unwrap().ino
    );
    assert_eq!(
        stat(&fs, "ld/up").unwrap().ino,
        stat(&fs, "d/f").unwrap().ino
    );
    // A long target takes a page, as on Linux.
    symlink(&fs, &"t/".repeat(100), "long").unwrap();
    assert_eq!(lstat(&fs, "long").unwrap().blocks, 8);
    let c = Creds {
        uid: 9,
        gid: 8,
        umask: 0o777,
        groups: Vec::new(),
        caps: 0,
        mapped_only: false,
    };
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
    assert_eq!(
        done(fs.mkdir(b"a/x", 0o755, &ROOT)).err(),
        Some(Errno::ELOOP)
    );
    assert_eq!(done(fs.truncate(b"b", 0, &ROOT)).err(), Some(Errno::ELOOP));
    assert_eq!(mode_type(&lstat(&fs, "a").unwrap()), libc::S_IFLNK);
    done(fs.unlink(b"a", &ROOT)).unwrap();
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
    mkdir(&fs, "sub").unwrap();
    symlink(&fs, "sub/../..", "dots").unwrap();
    symlink(&fs, "d/inner/y", "l1").unwrap();
    symlink(&fs, "/abs", "d/inner").unwrap();
    let s = |p: &str, f: bool| fs.stat(p.as_bytes(), f, &ROOT).unwrap().map(|_| ());
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
    assert_eq!(
        fs.mkdir(b"abs/new", 0o755, &ROOT).unwrap(),
        esc("/etc", "new")
    );
    assert_eq!(fs.unlink(b"abs/f", &ROOT).unwrap(), esc("/etc", "f"));
    assert_eq!(fs.rmdir(b"abs/f", &ROOT).unwrap(), esc("/etc", "f"));
    assert_eq!(fs.symlink(b"t", b"abs/s", &ROOT).unwrap(), esc("/etc", "s"));
    assert_eq!(
        fs.readlink(b"abs/s", &ROOT).unwrap().map(|_| ()),
        esc("/etc", "s")
    );
    assert_eq!(fs.truncate(b"abs", 0, &ROOT).unwrap(), esc("/etc", ""));
    assert_eq!(fs.chmod(b"abs", 0o600, &ROOT).unwrap(), esc("/etc", ""));
    assert_eq!(
        fs.chown(b"abs", Some(1), None, &ROOT).unwrap(),
        esc("/etc", "")
    );
    assert_eq!(
        fs.utimens(b"abs", Some((1, 0)), None, &ROOT).unwrap(),
        esc("/etc", "")
    );
    assert_eq!(
        fs.open(b"abs", CREAT | RDWR, 0o600, &ROOT)
            .unwrap()
            .map(|_| ()),
        esc("/etc", "")
    );
    assert_eq!(
        fs.open(b"abs/x/", RDONLY, 0, &ROOT).unwrap().map(|_| ()),
        esc("/etc", "x/")
    );
    assert_eq!(
        fs.open(b"abs", RDONLY | NOFOLLOW, 0, &ROOT).err(),
        Some(Errno::ELOOP)
    );
    assert_eq!(
        fs.lchown(b"abs", Some(1), None, &ROOT).unwrap(),
        Resolution::Done(())
    );
    // Not following the last component: unlink removes the symlink.
    assert_eq!(fs.unlink(b"abs", &ROOT).unwrap(), Resolution::Done(()));
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
    let by_name: HashMap<Vec<u8>, (u64, u8)> =
        recs.iter().map(|r| (r.3.clone(), (r.0, r.2))).collect();
    assert_eq!(recs.len(), 5);
    assert_eq!(
        by_name[&b"."[..]],
        (stat(&fs, "d").unwrap().ino, libc::DT_DIR)
    );
    assert_eq!(
        by_name[&b".."[..]],
        (stat(&fs, "").unwrap().ino, libc::DT_DIR)
    );
    assert_eq!(
        by_name[&b"sub"[..]],
        (stat(&fs, "d/sub").unwrap().ino, libc::DT_DIR)
    );
    assert_eq!(
        by_name[&b"file"[..]],
        (stat(&fs, "d/file").unwrap().ino, libc::DT_REG)
    );
    assert_eq!(
        by_name[&b"link"[..]],
        (lstat(&fs, "d/link").unwrap().ino, libc::DT_LNK)
    );
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
            if fs.unlink(format!("d/{name}").as_bytes(), &ROOT).is_ok() {
                removed.insert(name.into_bytes());
            }
        }
        if round < 15 {
            write_file(&fs, &format!("d/new{round}"), b"");
        }
        round += 1;
    }
    let unique: HashSet<&Vec<u8>> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no entry listed twice");
    for i in 0..200 {
        let name = format!("f{i:03}").into_bytes();
        assert!(
            removed.contains(&name) || unique.contains(&name),
            "f{i:03} skipped"
        );
    }
    assert!(unique.contains(&b".".to_vec()) && unique.contains(&b"..".to_vec()));
    assert!(round > 15);
    // Entries created meanwhile get larger cookies, so they are listed too (once).
    assert!(unique.contains(&b"new14".to_vec()));
}

#[test]
fn rename_keeps_the_place_of_replaced_names() {
    let fs = fs();
    mkdir(&fs, "d").unwrap();
    for n in ["a", "b", "c", "d", "e"] {
        write_file(&fs, &format!("d/{n}"), n.as_bytes());
    }
    let dir = open(&fs, "d", RDONLY).unwrap();
    // One record per call: ".", "..", "a", "b".
    let mut pos = 0;
    let next_name = |pos: &mut u64| {
        let mut buf = vec![0u8; 32];
        let (n, next) = dir.getdents(&mut buf, *pos).unwrap();
        *pos = next;
        parse_dirents(&buf[..n]).into_iter().map(|r| r.3).next()
    };
    let first: Vec<_> = (0..4).filter_map(|_| next_name(&mut pos)).collect();
    assert_eq!(first, [&b"."[..], b"..", b"a", b"b"]);
    // "a" (read) replaced by "e": not listed again. "b" (read) and "c" (not read)
    // exchanged: each name stays where it was.
    fs.rename(b"d/e", b"d/a", 0, &ROOT).unwrap();
    fs.rename(b"d/b", b"d/c", RENAME_EXCHANGE, &ROOT).unwrap();
    let rest: Vec<_> = std::iter::from_fn(|| next_name(&mut pos)).collect();
    assert_eq!(rest, [&b"c"[..], b"d"]);
    assert_eq!(read_all(&*open(&fs, "d/c", RDONLY).unwrap()), b"b");
    assert_eq!(read_all(&*open(&fs, "d/a", RDONLY).unwrap()), b"e");
    // Rewound, each name once, in its old place.
    let all: Vec<_> = {
        let mut pos = 0;
        std::iter::from_fn(|| next_name(&mut pos)).collect()
    };
    assert_eq!(all, [&b"."[..], b"..", b"a", b"b", b"c", b"d"]);
}
