//! A gofer serving a sandbox with user namespace mappings: statuses show sandbox ids (and
//! `NO_ID` for host owners the mapping leaves out), new files and chowns reach the host as
//! the ids they stand for, and an id with no mapping is refused before the host sees it.

mod common;

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use common::*;
use gofer::idmap::NO_ID;
use gofer::protocol::*;
use gofer::{IdMap, IdMaps};

fn maps() -> IdMaps {
    IdMaps {
        uid: IdMap::parse("0:100000:3200").unwrap(),
        gid: IdMap::parse("0:200000:3200,5000:0:1").unwrap(),
    }
}

fn chown(p: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::lchown(p, Some(uid), Some(gid)).unwrap();
}

fn ids_of(p: &Path) -> (u32, u32) {
    let m = std::fs::symlink_metadata(p).unwrap();
    (m.uid(), m.gid())
}

#[test]
fn statuses_show_sandbox_ids() {
    let fx = Fixture::new();
    let r = fx.root();
    std::fs::write(r.join("mapped"), b"x").unwrap();
    chown(&r.join("mapped"), 100_005, 200_007);
    std::fs::write(r.join("hostroot"), b"x").unwrap();
    chown(&r.join("hostroot"), 0, 0);
    let (c, _h) = start_mapped(&r, true, maps());
    let w = c.walk(ROOT, &[b"mapped"]).unwrap();
    assert_eq!((w.entries[0].1.uid, w.entries[0].1.gid), (5, 7));
    let st = c.stat(w.entries[0].0).unwrap();
    assert_eq!((st.uid, st.gid), (5, 7));
    let w = c.walk(ROOT, &[b"hostroot"]).unwrap();
    // Host uid 0 has no mapping; host gid 0 is the sandbox's 5000.
    assert_eq!((w.entries[0].1.uid, w.entries[0].1.gid), (NO_ID, 5000));
}

#[test]
fn new_files_and_chowns_reach_the_host_mapped() {
    let fx = Fixture::new();
    let r = fx.root();
    let (c, _h) = start_mapped(&r, false, maps());
    let owner = Owner { uid: 0, gid: 5000 };
    let (_, st, fd) = c.create(ROOT, b"f", libc::O_WRONLY, 0o644, owner).unwrap();
    drop(fd);
    assert_eq!((st.uid, st.gid), (0, 5000));
    assert_eq!(ids_of(&r.join("f")), (100_000, 0));
    let (d, st) = c
        .mkdir(ROOT, b"d", 0o755, Owner { uid: 1, gid: 2 })
        .unwrap();
    assert_eq!((st.uid, st.gid), (1, 2));
    assert_eq!(ids_of(&r.join("d")), (100_001, 200_002));
    let attr = SetAttr {
        uid: Some(3199),
        gid: Some(3199),
        ..SetAttr::default()
    };
    let st = c.setattr(d, attr).unwrap();
    assert_eq!((st.uid, st.gid), (3199, 3199));
    assert_eq!(ids_of(&r.join("d")), (103_199, 203_199));
}

#[test]
fn ids_without_a_mapping_are_refused() {
    let fx = Fixture::new();
    let r = fx.root();
    std::fs::create_dir(r.join("d")).unwrap();
    chown(&r.join("d"), 100_000, 200_000);
    let (c, _h) = start_mapped(&r, false, maps());
    let d = c.walk(ROOT, &[b"d"]).unwrap().entries[0].0;
    for owner in [
        Owner { uid: 3200, gid: 0 },
        Owner { uid: 0, gid: 4000 },
        Owner::KEEP,
    ] {
        assert_eq!(errno(c.mkdir(ROOT, b"x", 0o755, owner)), libc::EINVAL);
        assert_eq!(errno(c.symlink(ROOT, b"x", b"t", owner)), libc::EINVAL);
        let made = c.create(ROOT, b"x", libc::O_WRONLY, 0o644, owner);
        assert_eq!(errno(made.map(|_| ())), libc::EINVAL);
    }
    assert!(!r.join("x").exists());
    for attr in [
        SetAttr {
            uid: Some(3200),
            ..SetAttr::default()
        },
        SetAttr {
            gid: Some(NO_ID),
            ..SetAttr::default()
        },
    ] {
        assert_eq!(errno(c.setattr(d, attr)), libc::EINVAL);
    }
    assert_eq!(ids_of(&r.join("d")), (100_000, 200_000));
}
