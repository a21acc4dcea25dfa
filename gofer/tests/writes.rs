//! Write requests of a writable gofer (`rvisor do --overlay=none`): owners of new files,
//! changes that never follow a symlink, creations in a directory raced with a symlink
//! swapped in, malformed write requests.

mod common;

use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use common::*;
use gofer::protocol::*;
use gofer::{Client, Error};

fn owner(uid: u32, gid: u32) -> Owner {
    Owner { uid, gid }
}

fn meta(p: &Path) -> std::fs::Metadata {
    std::fs::symlink_metadata(p).unwrap()
}

#[test]
fn new_files_get_the_owner_asked_for() {
    let fx = Fixture::new();
    let r = fx.root();
    let (c, _h) = start(&r, false);
    let (_, st, fd) = c
        .create(ROOT, b"f", libc::O_WRONLY, 0o640, owner(1000, 1001))
        .unwrap();
    drop(fd);
    let (d, _) = c.mkdir(ROOT, b"d", 0o1750, owner(1002, 1003)).unwrap();
    let (_, _) = c
        .mknod(d, b"p", libc::S_IFIFO | 0o600, owner(1004, 1005))
        .unwrap();
    let (_, _) = c
        .mknod(d, b"s", libc::S_IFSOCK | 0o600, owner(1006, 1007))
        .unwrap();
    let (_, _) = c.symlink(d, b"l", b"../f", owner(1008, 1009)).unwrap();
    assert_eq!((st.uid, st.gid, st.mode & 0o7777), (1000, 1001, 0o640));
    for (p, uid, gid, kind) in [
        ("f", 1000, 1001, libc::S_IFREG),
        ("d", 1002, 1003, libc::S_IFDIR),
        ("d/p", 1004, 1005, libc::S_IFIFO),
        ("d/s", 1006, 1007, libc::S_IFSOCK),
        ("d/l", 1008, 1009, libc::S_IFLNK),
    ] {
        let m = meta(&r.join(p));
        assert_eq!(
            (m.uid(), m.gid(), m.mode() & libc::S_IFMT),
            (uid, gid, kind),
            "{p}"
        );
    }
    assert_eq!(meta(&r.join("d")).mode() & 0o7777, 0o1750);
    // Set-user-ID and set-group-ID survive the change of owner of a new file.
    let (_, st, _) = c
        .create(ROOT, b"suid", libc::O_WRONLY, 0o6755, owner(1000, 1001))
        .unwrap();
    assert_eq!((st.uid, st.gid, st.mode & 0o7777), (1000, 1001, 0o6755));
    assert_eq!(meta(&r.join("suid")).mode() & 0o7777, 0o6755);
    // KEEP leaves the gofer's own ids; one id alone changes only that one.
    let (_, st) = c.mkdir(ROOT, b"k", 0o700, Owner::KEEP).unwrap();
    // SAFETY: geteuid and getegid cannot fail.
    let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
    assert_eq!((st.uid, st.gid), (uid, gid));
    let (_, st) = c.mkdir(ROOT, b"g", 0o700, owner(KEEP_ID, 77)).unwrap();
    assert_eq!((st.uid, st.gid), (uid, 77));
    // A hard link is the same file: its owner does not change.
    let (f, _) = c.walk(ROOT, &[b"f"]).unwrap().entries[0];
    let (_, st) = c.link(d, b"hard", f).unwrap();
    assert_eq!((st.uid, st.gid, st.nlink), (1000, 1001, 2));
}

#[test]
fn changes_act_on_the_named_file_never_through_a_symlink() {
    let fx = Fixture::new();
    let r = fx.root();
    std::fs::write(r.join("target"), b"target").unwrap();
    std::os::unix::fs::symlink("target", r.join("link")).unwrap();
    std::os::unix::fs::symlink(fx.outside().join("secret"), r.join("out")).unwrap();
    let before = meta(&fx.outside().join("secret"));
    let (c, _h) = start(&r, false);
    for name in [&b"link"[..], b"out"] {
        let (l, st) = c.walk(ROOT, &[name]).unwrap().entries[0];
        assert!(st.is_symlink());
        let set = |a: SetAttr| c.setattr(l, a);
        let mode = SetAttr {
            mode: Some(0o600),
            ..Default::default()
        };
        assert_eq!(errno(set(mode)), libc::EOPNOTSUPP);
        let size = SetAttr {
            size: Some(0),
            ..Default::default()
        };
        assert_eq!(errno(set(size)), libc::EINVAL);
        assert_eq!(
            errno(c.open(l, libc::O_WRONLY | libc::O_TRUNC)),
            libc::ELOOP
        );
        // Owner and times change the symlink itself.
        let t = Timespec {
            sec: 12345,
            nsec: 0,
        };
        let st = set(SetAttr {
            uid: Some(4242),
            gid: Some(4343),
            mtime: Some(SetTime::At(t)),
            ..Default::default()
        })
        .unwrap();
        assert!(st.is_symlink());
        assert_eq!((st.uid, st.gid, st.mtime), (4242, 4343, t));
        // Creating over the symlink's name never follows it.
        assert_eq!(
            errno(c.create(ROOT, name, libc::O_WRONLY, 0o666, Owner::KEEP)),
            libc::EEXIST
        );
        assert_eq!(errno(c.mkdir(ROOT, name, 0o777, Owner::KEEP)), libc::EEXIST);
        // Walking through it stops at it; nothing can be made "in" it.
        assert_eq!(errno(c.mkdir(l, b"x", 0o777, Owner::KEEP)), libc::ENOTDIR);
    }
    let m = meta(&r.join("target"));
    assert_eq!((m.uid(), m.size(), m.mode() & 0o7777), (0, 6, 0o644));
    let after = meta(&fx.outside().join("secret"));
    assert_eq!(
        (after.uid(), after.mode(), after.size(), after.mtime()),
        (before.uid(), before.mode(), before.size(), before.mtime())
    );
    // Setattr of a regular file and a directory: mode with special bits, size, times.
    let (t, _) = c.walk(ROOT, &[b"target"]).unwrap().entries[0];
    let st = c
        .setattr(
            t,
            SetAttr {
                mode: Some(0o2755),
                size: Some(2),
                atime: Some(SetTime::Now),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!((st.mode & 0o7777, st.size), (0o2755, 2));
    assert_eq!(std::fs::read(r.join("target")).unwrap(), b"ta");
    let st = c
        .setattr(
            ROOT,
            SetAttr {
                mode: Some(0o1777),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(st.mode & 0o7777, 0o1777);
    assert_eq!(meta(&r).permissions().mode() & 0o7777, 0o1777);
}

#[test]
fn open_for_writing_create_exclusive_and_truncate() {
    let fx = Fixture::new();
    let r = fx.root();
    let (c, _h) = start(&r, false);
    // O_CREAT | O_EXCL is implied: a second create of the name fails.
    let (n, _, fd) = c
        .create(
            ROOT,
            b"new",
            libc::O_RDWR | libc::O_APPEND,
            0o4755,
            Owner::KEEP,
        )
        .unwrap();
    let mut f = std::fs::File::from(fd);
    std::io::Write::write_all(&mut f, b"abc").unwrap();
    assert_eq!(
        meta(&r.join("new")).mode() & 0o7777,
        0o4755,
        "mode kept (umask 0)"
    );
    assert_eq!(
        errno(c.create(ROOT, b"new", libc::O_RDWR, 0o600, Owner::KEEP)),
        libc::EEXIST
    );
    // The donated descriptor writes at an offset (pwrite, as the Sentry does).
    let fd = c.open(n, libc::O_WRONLY).unwrap();
    // SAFETY: a valid descriptor and a buffer of the length passed.
    let w = unsafe { libc::pwrite(fd.as_raw_fd(), b"Z".as_ptr().cast(), 1, 1) };
    assert_eq!(w, 1);
    assert_eq!(std::fs::read(r.join("new")).unwrap(), b"aZc");
    // O_TRUNC truncates; a read-only open never does.
    drop(c.open(n, libc::O_RDONLY).unwrap());
    assert_eq!(meta(&r.join("new")).size(), 3);
    drop(c.open(n, libc::O_WRONLY | libc::O_TRUNC).unwrap());
    assert_eq!(meta(&r.join("new")).size(), 0);
    // fsync and fdatasync through the gofer.
    c.fsync(n, false).unwrap();
    c.fsync(n, true).unwrap();
    // A fifo is made, never opened for I/O (it could block the gofer).
    let (p, _) = c
        .mknod(ROOT, b"fifo", libc::S_IFIFO | 0o600, Owner::KEEP)
        .unwrap();
    assert_eq!(errno(c.open(p, libc::O_WRONLY)), libc::EPERM);
}

#[test]
fn rename_flags_and_directories() {
    let fx = Fixture::new();
    let r = fx.root();
    std::fs::create_dir_all(r.join("a/sub")).unwrap();
    std::fs::write(r.join("a/sub/f"), b"f").unwrap();
    std::fs::create_dir(r.join("b")).unwrap();
    let (c, _h) = start(&r, false);
    let w = c.walk(ROOT, &[b"a", b"sub", b"f"]).unwrap();
    let (a, f) = (w.entries[0].0, w.entries[2].0);
    let (b, _) = c.walk(ROOT, &[b"b"]).unwrap().entries[0];
    // A directory moves with what is in it; nodes below it keep working.
    c.rename(a, b"sub", b, b"moved", 0).unwrap();
    assert!(r.join("b/moved/f").exists());
    assert_eq!(read_all(c.open(f, libc::O_RDONLY).unwrap()), b"f");
    // Over a non-empty directory: ENOTEMPTY; a file over a directory: EISDIR.
    std::fs::create_dir_all(r.join("a/full/x")).unwrap();
    assert_eq!(errno(c.rename(b, b"moved", a, b"full", 0)), libc::ENOTEMPTY);
    std::fs::write(r.join("a/file"), b"").unwrap();
    assert_eq!(errno(c.rename(a, b"file", a, b"full", 0)), libc::EISDIR);
    // Exchange a file and a directory.
    c.rename(a, b"file", a, b"full", libc::RENAME_EXCHANGE)
        .unwrap();
    assert!(r.join("a/file/x").is_dir() && r.join("a/full").is_file());
    // rmdir of a non-empty directory, unlink of a directory.
    assert_eq!(
        errno(c.unlink(a, b"file", libc::AT_REMOVEDIR)),
        libc::ENOTEMPTY
    );
    assert_eq!(errno(c.unlink(a, b"file", 0)), libc::EISDIR);
    assert_eq!(
        errno(c.unlink(a, b"full", libc::AT_REMOVEDIR)),
        libc::ENOTDIR
    );
}

fn cpath(p: &Path) -> CString {
    CString::new(p.as_os_str().as_bytes()).unwrap()
}

/// Runs `f` on a thread until the returned guard is dropped.
struct Racer {
    stop: Arc<AtomicBool>,
    h: Option<std::thread::JoinHandle<u64>>,
}

impl Racer {
    fn new(f: impl Fn() + Send + 'static) -> Racer {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let h = std::thread::spawn(move || {
            let mut n = 0;
            while !s.load(Ordering::Relaxed) {
                f();
                n += 1;
            }
            n
        });
        Racer { stop, h: Some(h) }
    }

    fn stop(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.h.take().map(|h| h.join().unwrap()).unwrap_or(0)
    }
}

/// Every entry under `dir` (recursively), for comparing before and after.
fn listing(dir: &Path) -> Vec<(String, u32, u32, u64, i64)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let m = e.metadata().unwrap();
            if m.is_dir() {
                stack.push(e.path());
            }
            out.push((
                e.path().display().to_string(),
                m.mode(),
                m.uid(),
                m.size(),
                m.mtime(),
            ));
        }
    }
    out.sort();
    out
}

/// One round of every creating request in the directory node `d` (whatever it is now).
fn create_everything(c: &Client, d: NodeId, i: usize, file: NodeId) -> Vec<NodeId> {
    let mut made = Vec::new();
    let n = |s: &str| format!("{s}{i}").into_bytes();
    let who = owner(3000, 3000);
    if let Ok((id, _, fd)) = c.create(d, &n("f"), libc::O_RDWR, 0o600, who) {
        let _ = std::fs::File::from(fd).metadata();
        made.push(id);
        let _ = c.setattr(
            id,
            SetAttr {
                mode: Some(0o666),
                size: Some(1),
                ..Default::default()
            },
        );
        let _ = c.rename(d, &n("f"), d, &n("g"), 0);
        let _ = c.unlink(d, &n("g"), 0);
    }
    for r in [
        c.mkdir(d, &n("m"), 0o777, who),
        c.mknod(d, &n("p"), libc::S_IFIFO | 0o666, who),
        c.symlink(d, &n("s"), b"/etc/passwd", who),
        c.link(d, &n("h"), file),
    ]
    .into_iter()
    .flatten()
    {
        made.push(r.0);
    }
    let _ = c.unlink(d, &n("m"), libc::AT_REMOVEDIR);
    for x in ["p", "s", "h"] {
        let _ = c.unlink(d, &n(x), 0);
    }
    made
}

fn creations_race(link_target: &dyn Fn(&Fixture) -> std::path::PathBuf) {
    let fx = Fixture::new();
    let root = fx.root();
    std::fs::create_dir(root.join("d")).unwrap();
    std::fs::write(root.join("file"), b"linked").unwrap();
    std::fs::create_dir(root.join("e")).unwrap();
    std::os::unix::fs::symlink(link_target(&fx), root.join("swap")).unwrap();
    let outside_before = listing(&fx.outside());
    let (c, _h) = start(&root, false);
    let (file, _) = c.walk(ROOT, &[b"file"]).unwrap().entries[0];
    let (e, _) = c.walk(ROOT, &[b"e"]).unwrap().entries[0];
    // "d" (a directory) and "swap" (a symlink out of the root) trade places, and
    // "e/victim" flips between a symlink to the outside secret and nothing.
    let (a, b) = (cpath(&root.join("d")), cpath(&root.join("swap")));
    let swapper = Racer::new(move || {
        // SAFETY: valid NUL-terminated paths.
        let r = unsafe {
            libc::renameat2(
                libc::AT_FDCWD,
                a.as_ptr(),
                libc::AT_FDCWD,
                b.as_ptr(),
                libc::RENAME_EXCHANGE,
            )
        };
        assert_eq!(r, 0, "{}", std::io::Error::last_os_error());
    });
    let victim = root.join("e/victim");
    let secret = fx.outside().join("secret");
    let flipper = Racer::new(move || {
        let _ = std::os::unix::fs::symlink(&secret, &victim);
        let _ = std::fs::remove_file(&victim);
    });
    let (mut in_dir, mut at_link) = (0, 0);
    for i in 0..600 {
        let name: &[u8] = if i % 2 == 0 { b"d" } else { b"swap" };
        if let Ok(w) = c.walk(ROOT, &[name]) {
            let (d, st) = w.entries[0];
            if st.is_dir() {
                in_dir += 1;
                let made = create_everything(&c, d, i, file);
                c.close(&made).unwrap();
            } else {
                at_link += 1;
                // A symlink node is no directory: nothing is made through it.
                assert_eq!(
                    errno(c.create(d, b"x", libc::O_RDWR, 0o600, Owner::KEEP)),
                    libc::ENOTDIR
                );
                assert_eq!(errno(c.mkdir(d, b"x", 0o700, Owner::KEEP)), libc::ENOTDIR);
            }
            c.close(&[d]).unwrap();
        }
        // Under the flipping name: made exclusively, or refused; never through the link.
        if let Ok((id, _, fd)) = c.create(e, b"victim", libc::O_RDWR, 0o600, Owner::KEEP) {
            drop(fd);
            c.close(&[id]).unwrap();
            let _ = c.unlink(e, b"victim", 0);
        }
        if let Ok(w) = c.walk(ROOT, &[b"e", b"victim"]) {
            if let Some(&(v, _)) = w.entries.get(1) {
                let _ = c.open(v, libc::O_WRONLY | libc::O_TRUNC);
                let _ = c.setattr(
                    v,
                    SetAttr {
                        mode: Some(0o777),
                        uid: Some(5000),
                        size: Some(0),
                        ..Default::default()
                    },
                );
                c.close(&[v]).unwrap();
            }
        }
    }
    let swaps = swapper.stop();
    let flips = flipper.stop();
    eprintln!("swaps {swaps}, flips {flips}, in the directory {in_dir}, at the link {at_link}");
    assert!(
        in_dir > 0 && at_link > 0,
        "the race never happened both ways"
    );
    assert_eq!(
        listing(&fx.outside()),
        outside_before,
        "the outside changed"
    );
    assert_eq!(
        std::fs::read(fx.outside().join("secret")).unwrap(),
        b"outside"
    );
    // Whatever is left was made inside the root.
    for (p, ..) in listing(&root) {
        assert!(p.starts_with(&root.display().to_string()));
    }
}

#[test]
fn creating_in_a_directory_swapped_for_an_absolute_symlink_stays_inside() {
    creations_race(&|fx| fx.outside());
}

#[test]
fn creating_in_a_directory_swapped_for_a_relative_symlink_stays_inside() {
    creations_race(&|_| "../outside".into());
}

fn raw(op: Op, body: &[u8]) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(&((12 + body.len()) as u32).to_le_bytes());
    m.extend_from_slice(&7u32.to_le_bytes());
    m.extend_from_slice(&(op as u16).to_le_bytes());
    m.extend_from_slice(&0u16.to_le_bytes());
    m.extend_from_slice(body);
    m
}

fn name16(n: &[u8]) -> Vec<u8> {
    [&(n.len() as u16).to_le_bytes()[..], n].concat()
}

fn node(n: u64) -> Vec<u8> {
    n.to_le_bytes().to_vec()
}

fn u32le(v: u32) -> Vec<u8> {
    v.to_le_bytes().to_vec()
}

/// Write requests that break the protocol.
fn malformed_writes() -> Vec<(&'static str, Vec<u8>)> {
    let own = [u32le(0), u32le(0)].concat();
    let mkdir = |n: &[u8]| {
        raw(
            Op::Mkdir,
            &[node(ROOT), name16(n), u32le(0o755), own.clone()].concat(),
        )
    };
    vec![
        ("mkdir ..", mkdir(b"..")),
        ("mkdir .", mkdir(b".")),
        ("mkdir a/b", mkdir(b"a/b")),
        ("mkdir empty", mkdir(b"")),
        ("mkdir NUL", mkdir(b"a\0")),
        ("mkdir 256 bytes", mkdir(&[b'x'; 256])),
        (
            "mkdir without an owner",
            raw(
                Op::Mkdir,
                &[node(ROOT), name16(b"a"), u32le(0o755)].concat(),
            ),
        ),
        (
            "create ..",
            raw(
                Op::Create,
                &[
                    node(ROOT),
                    name16(b".."),
                    u32le(libc::O_RDWR as u32),
                    u32le(0o600),
                    own.clone(),
                ]
                .concat(),
            ),
        ),
        (
            "mknod with a slash",
            raw(
                Op::Mknod,
                &[
                    node(ROOT),
                    name16(b"../x"),
                    u32le(libc::S_IFIFO),
                    own.clone(),
                ]
                .concat(),
            ),
        ),
        (
            "symlink with an empty target",
            raw(
                Op::Symlink,
                &[node(ROOT), name16(b"l"), name16(b""), own.clone()].concat(),
            ),
        ),
        (
            "symlink with a NUL in the target",
            raw(
                Op::Symlink,
                &[node(ROOT), name16(b"l"), name16(b"a\0b"), own.clone()].concat(),
            ),
        ),
        (
            "symlink target over 4095 bytes",
            raw(
                Op::Symlink,
                &[node(ROOT), name16(b"l"), name16(&[b'a'; 4096]), own.clone()].concat(),
            ),
        ),
        (
            "link to ..",
            raw(Op::Link, &[node(ROOT), name16(b".."), node(ROOT)].concat()),
        ),
        (
            "unlink ..",
            raw(Op::Unlink, &[node(ROOT), name16(b".."), u32le(0)].concat()),
        ),
        (
            "rename to .",
            raw(
                Op::Rename,
                &[node(ROOT), name16(b"a"), node(ROOT), name16(b"."), u32le(0)].concat(),
            ),
        ),
        (
            "rename from a/b",
            raw(
                Op::Rename,
                &[
                    node(ROOT),
                    name16(b"a/b"),
                    node(ROOT),
                    name16(b"c"),
                    u32le(0),
                ]
                .concat(),
            ),
        ),
        (
            "rename truncated",
            raw(Op::Rename, &[node(ROOT), name16(b"a"), node(ROOT)].concat()),
        ),
        (
            "setattr with unknown mask bits",
            raw(Op::Setattr, &[node(ROOT), u32le(0x100)].concat()),
        ),
        ("fsync truncated", raw(Op::Fsync, &node(ROOT))),
    ]
}

fn send(sock: &OwnedFd, msg: &[u8]) {
    // SAFETY: a valid socket and buffer.
    let n = unsafe {
        libc::send(
            sock.as_raw_fd(),
            msg.as_ptr().cast(),
            msg.len(),
            libc::MSG_NOSIGNAL,
        )
    };
    assert_eq!(n, msg.len() as isize);
}

#[test]
fn a_malformed_write_request_closes_its_connection_and_changes_nothing() {
    let fx = Fixture::new();
    std::fs::write(fx.root().join("a"), b"a").unwrap();
    let server = gofer::Server::new(gofer::open_root(&fx.root()).unwrap(), false).unwrap();
    let before = listing(fx.tmp.path());
    for (what, msg) in malformed_writes() {
        assert!(Request::decode(&msg).is_err(), "{what} decodes");
        let (c, s) = gofer::socketpair().unwrap();
        send(&c, &msg);
        let r = server.serve_connection(s);
        assert!(matches!(r, Err(Error::Malformed(_))), "{what}: {r:?}");
        let mut buf = [0u8; 64];
        // SAFETY: a valid socket and buffer.
        let n = unsafe { libc::recv(c.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        assert_eq!(n, 0, "{what}: answered instead of closed");
    }
    assert_eq!(listing(fx.tmp.path()), before);
    // The same server still serves a good connection.
    let (c, s) = gofer::socketpair().unwrap();
    let h = std::thread::spawn(move || server.serve_connection(s));
    let client = Client::new(c);
    client.mkdir(ROOT, b"ok", 0o700, Owner::KEEP).unwrap();
    drop(client);
    h.join().unwrap().unwrap();
    assert!(fx.root().join("ok").is_dir());
}

#[test]
fn a_read_only_gofer_refuses_writes_and_flushes_nothing() {
    let fx = Fixture::new();
    let r = fx.root();
    std::fs::write(r.join("f"), b"data").unwrap();
    let (c, _h) = start(&r, true);
    let (f, _) = c.walk(ROOT, &[b"f"]).unwrap().entries[0];
    c.fsync(f, false).unwrap();
    c.fsync(ROOT, true).unwrap();
    let rofs = libc::EROFS;
    for flags in [
        libc::O_WRONLY,
        libc::O_RDWR,
        libc::O_RDONLY | libc::O_TRUNC,
        libc::O_WRONLY | libc::O_APPEND,
    ] {
        assert_eq!(errno(c.open(f, flags)), rofs, "flags {flags:#o}");
    }
    let times = SetAttr {
        mtime: Some(SetTime::Now),
        ..Default::default()
    };
    assert_eq!(errno(c.setattr(f, times)), rofs);
    let own = SetAttr {
        uid: Some(1),
        ..Default::default()
    };
    assert_eq!(errno(c.setattr(f, own)), rofs);
    assert_eq!(
        errno(c.rename(ROOT, b"f", ROOT, b"g", libc::RENAME_NOREPLACE)),
        rofs
    );
    assert_eq!(
        errno(c.mknod(ROOT, b"s", libc::S_IFSOCK | 0o600, Owner::KEEP)),
        rofs
    );
    assert_eq!(std::fs::read(r.join("f")).unwrap(), b"data");
    assert_eq!(std::fs::read_dir(&r).unwrap().count(), 1);
}
