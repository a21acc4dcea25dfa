//! Malformed messages close the connection, never the server; decoding never panics.

mod common;

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::mpsc;

use common::*;
use gofer::protocol::*;
use gofer::{Client, Error, Server};

/// A server thread serving the connections sent to it, one after another, over one root.
struct Served {
    conns: mpsc::Sender<OwnedFd>,
    results: mpsc::Receiver<Result<(), Error>>,
}

fn serve_many(fx: &Fixture) -> Served {
    let server = Server::new(gofer::open_root(&fx.root()).unwrap(), false).unwrap();
    let (tx, rx) = mpsc::channel::<OwnedFd>();
    let (rtx, rrx) = mpsc::channel();
    std::thread::spawn(move || {
        for s in rx {
            let _ = rtx.send(server.serve_connection(s));
        }
    });
    Served {
        conns: tx,
        results: rrx,
    }
}

impl Served {
    fn connect(&self) -> OwnedFd {
        let (c, s) = gofer::socketpair().unwrap();
        self.conns.send(s).unwrap();
        c
    }
}

fn send_raw(sock: &OwnedFd, msg: &[u8]) {
    // SAFETY: a valid socket and buffer.
    let n = unsafe {
        libc::send(
            sock.as_raw_fd(),
            msg.as_ptr() as *const libc::c_void,
            msg.len(),
            libc::MSG_NOSIGNAL,
        )
    };
    assert_eq!(n, msg.len() as isize, "{}", std::io::Error::last_os_error());
}

/// Reads from `sock` until EOF: the server must have closed it without answering.
fn expect_closed(sock: &OwnedFd) {
    let mut buf = [0u8; 128];
    // SAFETY: a valid socket and buffer.
    let n = unsafe {
        libc::recv(
            sock.as_raw_fd(),
            buf.as_mut_ptr() as *mut libc::c_void,
            buf.len(),
            0,
        )
    };
    assert_eq!(n, 0, "expected EOF, got {n} bytes");
}

fn header(len: u32, tag: u32, op: u16, reserved: u16) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&len.to_le_bytes());
    v.extend_from_slice(&tag.to_le_bytes());
    v.extend_from_slice(&op.to_le_bytes());
    v.extend_from_slice(&reserved.to_le_bytes());
    v
}

fn with_len(mut m: Vec<u8>) -> Vec<u8> {
    let n = (m.len() as u32).to_le_bytes();
    m[..4].copy_from_slice(&n);
    m
}

fn walk_msg(names: &[&[u8]]) -> Vec<u8> {
    let mut m = header(0, 1, Op::Walk as u16, 0);
    m.extend_from_slice(&ROOT.to_le_bytes());
    m.extend_from_slice(&(names.len() as u32).to_le_bytes());
    for n in names {
        m.extend_from_slice(&(n.len() as u16).to_le_bytes());
        m.extend_from_slice(n);
    }
    with_len(m)
}

fn malformed_cases() -> Vec<(&'static str, Vec<u8>)> {
    let good = walk_msg(&[b"a"]);
    let mut cases = vec![
        ("shorter than a header", vec![1, 2, 3, 4, 5]),
        ("length field too big", {
            let mut m = good.clone();
            m[0] += 1;
            m
        }),
        ("length field too small", {
            let mut m = good.clone();
            m[0] -= 1;
            m
        }),
        ("truncated body", with_len(good[..good.len() - 1].to_vec())),
        ("trailing byte", with_len([good.clone(), vec![0]].concat())),
        ("unknown op", with_len(header(0, 1, 999, 0))),
        (
            "op zero",
            with_len([header(0, 1, 0, 0), ROOT.to_le_bytes().to_vec()].concat()),
        ),
        ("reserved bits", {
            let mut m = good.clone();
            m[10] = 1;
            m
        }),
        (
            "oversized",
            with_len({
                let mut m = header(0, 1, Op::Setxattr as u16, 0);
                m.resize(MAX_MESSAGE + 100, 0);
                m
            }),
        ),
        ("dot-dot", walk_msg(&[b".."])),
        ("dot", walk_msg(&[b"."])),
        ("slash in a name", walk_msg(&[b"a/b"])),
        ("NUL in a name", walk_msg(&[b"a\0"])),
        ("empty name", walk_msg(&[b""])),
        ("name of 256 bytes", walk_msg(&[&[b'x'; 256]])),
        ("huge walk count", {
            let mut m = header(0, 1, Op::Walk as u16, 0);
            m.extend_from_slice(&ROOT.to_le_bytes());
            m.extend_from_slice(&u32::MAX.to_le_bytes());
            with_len(m)
        }),
        ("fsync with datasync 2", {
            let mut m = header(0, 1, Op::Fsync as u16, 0);
            m.extend_from_slice(&ROOT.to_le_bytes());
            m.push(2);
            with_len(m)
        }),
    ];
    // A setattr with nanoseconds out of range.
    let req = Request::Setattr {
        node: ROOT,
        attr: SetAttr {
            mtime: Some(SetTime::At(Timespec { sec: 1, nsec: 5 })),
            ..Default::default()
        },
    };
    let mut m = req.encode(1).unwrap();
    let n = m.len();
    m[n - 4..].copy_from_slice(&1_000_000_000u32.to_le_bytes());
    cases.push(("nanoseconds out of range", m));
    cases
}

#[test]
fn a_malformed_message_closes_the_connection_not_the_server() {
    let fx = Fixture::new();
    std::fs::create_dir(fx.root().join("a")).unwrap();
    let srv = serve_many(&fx);
    for (what, msg) in malformed_cases() {
        assert!(Request::decode(&msg).is_err(), "{what} decodes");
        let c = srv.connect();
        // One good request first: the connection works until the bad one.
        send_raw(&c, &walk_msg(&[b"a"]));
        let mut buf = vec![0u8; MAX_MESSAGE];
        // SAFETY: a valid socket and buffer.
        let n = unsafe {
            libc::recv(
                c.as_raw_fd(),
                buf.as_mut_ptr() as *mut libc::c_void,
                buf.len(),
                0,
            )
        };
        assert!(n > 0, "{what}: no reply to the good request");
        let (_, op, r) = decode_reply(&buf[..n as usize]).unwrap();
        assert!(op == Op::Walk && r.is_ok(), "{what}: {r:?}");
        send_raw(&c, &msg);
        expect_closed(&c);
        let r = srv.results.recv().unwrap();
        assert!(matches!(r, Err(Error::Malformed(_))), "{what}: {r:?}");
    }
    // A request carrying a descriptor is malformed too.
    let c = srv.connect();
    let (x, _y) = gofer::socketpair().unwrap();
    let msg = Request::Stat { node: ROOT }.encode(1).unwrap();
    let sent = send_with_fd(&c, &msg, &x);
    assert!(sent);
    expect_closed(&c);
    assert!(matches!(
        srv.results.recv().unwrap(),
        Err(Error::Malformed(_))
    ));
    // After all that, the same server serves a new connection, and a hang-up is clean.
    let client = Client::new(srv.connect());
    assert!(client.stat(ROOT).unwrap().is_dir());
    assert_eq!(client.walk(ROOT, &[b"a"]).unwrap().entries.len(), 1);
    drop(client);
    assert!(srv.results.recv().unwrap().is_ok());
}

fn send_with_fd(sock: &OwnedFd, msg: &[u8], fd: &OwnedFd) -> bool {
    let mut iov = libc::iovec {
        iov_base: msg.as_ptr() as *mut libc::c_void,
        iov_len: msg.len(),
    };
    #[repr(C, align(8))]
    struct Buf([u8; 32]);
    let mut cbuf = Buf([0; 32]);
    // SAFETY: msghdr is plain data.
    let mut hdr: libc::msghdr = unsafe { std::mem::zeroed() };
    hdr.msg_iov = &mut iov;
    hdr.msg_iovlen = 1;
    hdr.msg_control = cbuf.0.as_mut_ptr() as *mut libc::c_void;
    // SAFETY: size computations and writes inside the aligned 32-byte control buffer.
    unsafe {
        hdr.msg_controllen = libc::CMSG_SPACE(4) as usize;
        let c = libc::CMSG_FIRSTHDR(&hdr);
        (*c).cmsg_level = libc::SOL_SOCKET;
        (*c).cmsg_type = libc::SCM_RIGHTS;
        (*c).cmsg_len = libc::CMSG_LEN(4) as usize;
        std::ptr::write_unaligned(libc::CMSG_DATA(c) as *mut i32, fd.as_fd().as_raw_fd());
    }
    // SAFETY: hdr points at live buffers.
    unsafe { libc::sendmsg(sock.as_raw_fd(), &hdr, 0) == msg.len() as isize }
}

/// A small deterministic generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn sample_requests() -> Vec<Request> {
    let n = |s: &[u8]| Name::new(s).unwrap();
    vec![
        Request::Walk {
            node: ROOT,
            names: vec![n(b"a"), n(b"bb"), n(&[b'z'; 255])],
        },
        Request::Stat { node: 7 },
        Request::Open {
            node: 3,
            flags: (libc::O_RDWR | libc::O_APPEND) as u32,
        },
        Request::Readlink { node: 1 },
        Request::Getdents {
            node: 1,
            offset: u64::MAX,
            max_bytes: 4096,
        },
        Request::Create {
            dir: 1,
            name: n(b"f"),
            flags: libc::O_WRONLY as u32,
            mode: 0o644,
            owner: Owner { uid: 1, gid: 2 },
        },
        Request::Mkdir {
            dir: 1,
            name: n(b"d"),
            mode: 0o755,
            owner: Owner::KEEP,
        },
        Request::Mknod {
            dir: 1,
            name: n(b"p"),
            mode: libc::S_IFIFO | 0o600,
            owner: Owner::KEEP,
        },
        Request::Symlink {
            dir: 1,
            name: n(b"s"),
            target: b"../../etc".to_vec(),
            owner: Owner::KEEP,
        },
        Request::Link {
            dir: 1,
            name: n(b"l"),
            target: 9,
        },
        Request::Unlink {
            dir: 1,
            name: n(b"u"),
            flags: libc::AT_REMOVEDIR as u32,
        },
        Request::Rename {
            old_dir: 1,
            old_name: n(b"x"),
            new_dir: 2,
            new_name: n(b"y"),
            flags: libc::RENAME_EXCHANGE,
        },
        Request::Setattr {
            node: 4,
            attr: SetAttr {
                mode: Some(0o755),
                uid: None,
                gid: Some(3),
                size: Some(1 << 40),
                atime: Some(SetTime::Now),
                mtime: Some(SetTime::At(Timespec { sec: -5, nsec: 999 })),
            },
        },
        Request::Statfs { node: 0 },
        Request::Fsync {
            node: 5,
            datasync: true,
        },
        Request::Getxattr {
            node: 5,
            name: b"user.a".to_vec(),
        },
        Request::Setxattr {
            node: 5,
            name: b"user.a".to_vec(),
            value: vec![1, 2, 3],
            flags: libc::XATTR_CREATE as u32,
        },
        Request::Listxattr { node: 5 },
        Request::Removexattr {
            node: 5,
            name: b"user.a".to_vec(),
        },
        Request::Close {
            nodes: vec![1, 2, 3],
        },
    ]
}

fn sample_replies() -> Vec<(Op, Result<Reply, Errno>)> {
    let st = Stat {
        dev: 1,
        ino: 2,
        mode: libc::S_IFREG | 0o644,
        size: 10,
        ..Default::default()
    };
    vec![
        (
            Op::Walk,
            Ok(Reply::Walk {
                entries: vec![(1, st), (2, st)],
                error: Some(Errno(libc::ENOENT)),
            }),
        ),
        (Op::Stat, Ok(Reply::Stat(st))),
        (Op::Setattr, Ok(Reply::Stat(st))),
        (Op::Open, Ok(Reply::Opened)),
        (Op::Readlink, Ok(Reply::Target(b"/x".to_vec()))),
        (
            Op::Getdents,
            Ok(Reply::Dirents(vec![Dirent {
                ino: 1,
                off: 99,
                d_type: libc::DT_DIR,
                name: b"..".to_vec(),
            }])),
        ),
        (Op::Create, Ok(Reply::Node(3, st))),
        (Op::Link, Ok(Reply::Node(4, st))),
        (Op::Rename, Ok(Reply::Done)),
        (Op::Statfs, Ok(Reply::StatFs(StatFs::default()))),
        (Op::Getxattr, Ok(Reply::Value(vec![0; 100]))),
        (Op::Listxattr, Ok(Reply::Names(vec![b"user.a".to_vec()]))),
        (Op::Mkdir, Err(Errno(libc::EEXIST))),
    ]
}

#[test]
fn every_request_and_reply_round_trips_and_every_truncation_is_rejected() {
    for req in sample_requests() {
        let m = req.encode(42).unwrap();
        assert_eq!(Request::decode(&m).unwrap(), (42, req.clone()));
        for cut in 0..m.len() {
            let mut t = m[..cut].to_vec();
            if t.len() >= 4 {
                t[..4].copy_from_slice(&(cut as u32).to_le_bytes());
            }
            assert!(Request::decode(&t).is_err(), "{req:?} cut at {cut}");
        }
    }
    for (op, rep) in sample_replies() {
        let m = encode_reply(7, op, &rep).unwrap();
        assert_eq!(decode_reply(&m).unwrap(), (7, op, rep.clone()));
        for cut in 0..m.len() {
            let mut t = m[..cut].to_vec();
            if t.len() >= 4 {
                t[..4].copy_from_slice(&(cut as u32).to_le_bytes());
            }
            assert!(decode_reply(&t).is_err(), "{op:?} cut at {cut}");
        }
    }
    // A reply of the wrong shape for its op is refused by the encoder.
    assert!(encode_reply(1, Op::Stat, &Ok(Reply::Done)).is_err());
    assert!(encode_reply(1, Op::Stat, &Err(Errno(0))).is_err());
    // Too many walk components never leave the encoder.
    let names = vec![Name::new(b"a".to_vec()).unwrap(); MAX_WALK + 1];
    assert!(Request::Walk { node: 0, names }.encode(1).is_err());
}

#[test]
fn random_and_mutated_bytes_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut seeds: Vec<Vec<u8>> = sample_requests()
        .iter()
        .map(|r| r.encode(1).unwrap())
        .collect();
    seeds.extend(
        sample_replies()
            .iter()
            .map(|(op, r)| encode_reply(1, *op, r).unwrap()),
    );
    let mut accepted = 0;
    for i in 0..200_000 {
        let mut m = seeds[i % seeds.len()].clone();
        match rng.next() % 4 {
            0 => {
                let at = rng.next() as usize % m.len();
                m[at] = rng.next() as u8;
            }
            1 => {
                let len = rng.next() as usize % 200;
                m = (0..len).map(|_| rng.next() as u8).collect();
            }
            2 => {
                let at = 12 + rng.next() as usize % (m.len() - 11);
                m.truncate(at);
                m.extend((0..rng.next() % 16).map(|_| rng.next() as u8));
                let n = (m.len() as u32).to_le_bytes();
                m[..4].copy_from_slice(&n);
            }
            _ => {
                for _ in 0..4 {
                    let at = rng.next() as usize % m.len();
                    m[at] ^= 1 << (rng.next() % 8);
                }
            }
        }
        accepted += Request::decode(&m).is_ok() as usize;
        let _ = decode_reply(&m);
    }
    assert!(accepted > 0);
}

#[test]
fn a_peer_sending_garbage_replies_breaks_only_its_client() {
    let (c, s) = gofer::socketpair().unwrap();
    let client = Client::new(c);
    let t = std::thread::spawn(move || {
        let mut buf = [0u8; 256];
        // SAFETY: a valid socket and buffer.
        let n = unsafe { libc::recv(s.as_raw_fd(), buf.as_mut_ptr() as *mut _, 256, 0) };
        assert!(n > 0);
        send_raw(&s, b"garbage reply");
        s
    });
    assert!(matches!(client.stat(ROOT), Err(Error::Reply(_))));
    let _s = t.join().unwrap();
    assert!(matches!(client.stat(ROOT), Err(Error::Disconnected)));
}
