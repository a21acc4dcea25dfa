//! Tests of file data in the memory file: the pages a MAP_SHARED mapping shares with
//! read/write, in both directions, across truncate and unlink; memfds.

use super::*;
use crate::mm::SharedObject;

const PAGE: u64 = 4096;

/// Reads `len` bytes at `off` of page `index` of `obj` straight from the memory file, as
/// an application mapping it sees them.
fn peek(mf: &Arc<platform::MemoryFile>, obj: &SharedObject, index: u64, off: u64) -> Vec<u8> {
    let f = obj.page(mf, index).unwrap();
    let mut buf = vec![0u8; 8];
    mf.read(f.offset() + off, &mut buf).unwrap();
    buf
}

/// Writes `data` at `off` of page `index` of `obj` straight into the memory file, as an
/// application storing through a shared mapping does.
fn poke(mf: &Arc<platform::MemoryFile>, obj: &SharedObject, index: u64, off: u64, data: &[u8]) {
    let f = obj.page(mf, index).unwrap();
    mf.write(f.offset() + off, data).unwrap();
}

#[test]
fn writes_show_in_the_shared_pages() {
    let mf = mf();
    let fs = Tmpfs::new(0x2a, mf.clone());
    let f = creat(&fs, "f");
    let obj = f.shared_object().unwrap();
    f.write(b"abcdefgh", Some(PAGE + 10)).unwrap();
    assert!(!obj.has_page(0), "the hole before is not allocated");
    assert!(obj.has_page(1));
    assert_eq!(obj.resident_pages(), 1);
    assert_eq!(peek(&mf, &obj, 1, 10), b"abcdefgh");
    // Every open of the file, and the file after unlink, has the same pages.
    let g = open(&fs, "f", RDWR).unwrap();
    assert!(Arc::ptr_eq(&obj, &g.shared_object().unwrap()));
    done(fs.unlink(b"f", &ROOT)).unwrap();
    g.write(b"XY", Some(PAGE + 12)).unwrap();
    assert_eq!(peek(&mf, &obj, 1, 10), b"abXYefgh");
    // A write spanning pages lands in both.
    f.write(&[5u8; 16], Some(2 * PAGE - 8)).unwrap();
    assert_eq!(peek(&mf, &obj, 1, PAGE - 8), [5u8; 8]);
    assert_eq!(peek(&mf, &obj, 2, 0), [5u8; 8]);
    // Only regular files have pages to share.
    mkdir(&fs, "d").unwrap();
    assert!(open(&fs, "d", RDONLY).unwrap().shared_object().is_none());
}

#[test]
fn stores_through_the_shared_pages_show_in_reads() {
    let mf = mf();
    let fs = Tmpfs::new(0x2a, mf.clone());
    let f = creat(&fs, "f");
    f.write(b"0123456789", Some(0)).unwrap();
    done(fs.truncate(b"f", 3 * PAGE, &ROOT)).unwrap();
    let obj = f.shared_object().unwrap();
    poke(&mf, &obj, 0, 2, b"ab");
    let mut buf = [0u8; 6];
    assert_eq!(f.read(&mut buf, Some(0)).unwrap(), 6);
    assert_eq!(&buf, b"01ab45");
    // A fault in a hole allocates the page: it counts in st_blocks and the filesystem's
    // usage, and a store there reads back.
    assert_eq!(f.stat().unwrap().blocks, 8);
    poke(&mf, &obj, 2, PAGE - 3, b"end");
    assert_eq!(f.stat().unwrap().blocks, 16);
    assert_eq!(fs.used_bytes(), 2 * PAGE);
    assert_eq!(f.read(&mut buf, Some(3 * PAGE - 6)).unwrap(), 6);
    assert_eq!(&buf, b"\0\0\0end");
    // The private-mapping view reads the same bytes, and knows the size.
    let m = f.mappable().unwrap();
    assert_eq!(m.read_at(2, &mut buf[..2]).unwrap(), 2);
    assert_eq!(&buf[..2], b"ab");
    assert_eq!(m.size(), 3 * PAGE);
    done(fs.truncate(b"f", 5, &ROOT)).unwrap();
    assert_eq!(m.size(), 5);
}

#[test]
fn truncate_cuts_the_shared_pages() {
    let mf = mf();
    let fs = Tmpfs::new(0x2a, mf.clone());
    let f = creat(&fs, "f");
    f.write(&[7u8; 3 * PAGE as usize], Some(0)).unwrap();
    let obj = f.shared_object().unwrap();
    // A mapping still holding the page keeps seeing it; the cut part is zeroed in place.
    let held = obj.page(&mf, 1).unwrap();
    f.truncate(PAGE + 4).unwrap();
    assert!(obj.has_page(1) && !obj.has_page(2));
    assert_eq!(obj.resident_pages(), 2);
    assert_eq!(fs.used_bytes(), 2 * PAGE);
    let mut buf = [1u8; 8];
    mf.read(held.offset(), &mut buf).unwrap();
    assert_eq!(buf, [7, 7, 7, 7, 0, 0, 0, 0]);
    // Growing again reads zeros, where the file was cut and past it.
    f.truncate(3 * PAGE).unwrap();
    let data = read_all(&*f);
    assert!(data[..PAGE as usize + 4].iter().all(|&b| b == 7));
    assert!(data[PAGE as usize + 4..].iter().all(|&b| b == 0));
    assert_eq!(f.stat().unwrap().blocks, 16, "growing allocates nothing");
    // Bytes a mapping stored past the end of the file are gone when it grows, whether by
    // truncate or by a write past the end.
    f.truncate(10).unwrap();
    poke(&mf, &obj, 0, 100, b"stale");
    f.truncate(200).unwrap();
    let data = read_all(&*f);
    assert!(data[10..].iter().all(|&b| b == 0));
    f.truncate(10).unwrap();
    poke(&mf, &obj, 0, 100, b"stale");
    f.write(b"!", Some(300)).unwrap();
    let data = read_all(&*f);
    assert_eq!(data.len(), 301);
    assert!(data[10..300].iter().all(|&b| b == 0));
    f.truncate(0).unwrap();
    assert_eq!(obj.resident_pages(), 0);
    drop(held);
    assert_eq!(fs.used_bytes(), 0);
}

#[test]
fn faults_count_against_the_size_limit() {
    let mf = mf();
    let fs = Tmpfs::with_limits(
        1,
        mf.clone(),
        Limits {
            max_bytes: 2 * PAGE,
            max_file_size: 1 << 20,
        },
    );
    let f = creat(&fs, "f");
    f.truncate(4 * PAGE).unwrap();
    let obj = f.shared_object().unwrap();
    obj.page(&mf, 0).unwrap();
    obj.page(&mf, 3).unwrap();
    assert_eq!(obj.page(&mf, 1).err(), Some(Errno::ENOSPC));
    assert_eq!(f.write(b"x", Some(PAGE)).err(), Some(Errno::ENOSPC));
    // Rewriting present pages needs no space.
    assert_eq!(f.write(b"x", Some(3 * PAGE)).unwrap(), 1);
    // The pages are released once the last holder of the object goes.
    drop(f);
    done(fs.unlink(b"f", &ROOT)).unwrap();
    assert_eq!(fs.used_bytes(), 2 * PAGE, "the mapping's object holds them");
    drop(obj);
    assert_eq!(fs.used_bytes(), 0);
}

#[test]
fn memfds() {
    let mf = mf();
    let fs = Tmpfs::new(0x2a, mf.clone());
    let c = Creds {
        uid: 5,
        gid: 6,
        umask: 0o077,
        groups: Vec::new(),
        caps: 0,
        mapped_only: false,
    };
    let f = fs.memfd(b"buf", &c);
    let st = f.stat().unwrap();
    assert_eq!(
        (st.mode, st.nlink, st.uid, st.gid, st.size),
        (libc::S_IFREG | 0o777, 0, 5, 6, 0)
    );
    assert_eq!(f.mappable().unwrap().name(), "/memfd:buf (deleted)");
    assert_ne!(fs.memfd(b"buf", &c).stat().unwrap().ino, st.ino);
    f.truncate(PAGE).unwrap();
    let obj = f.shared_object().unwrap();
    poke(&mf, &obj, 0, 0, b"shared");
    let mut buf = [0u8; 6];
    f.read(&mut buf, Some(0)).unwrap();
    assert_eq!(&buf, b"shared");
    assert_eq!(fs.used_bytes(), PAGE);
    assert_eq!(names(&fs, ""), [".", ".."]);
    drop((f, obj));
    assert_eq!(fs.used_bytes(), 0);
}

#[test]
fn shared_object_without_budget() {
    // MAP_SHARED anonymous memory: no budget, the same read/write/truncate.
    let mf = mf();
    let obj = SharedObject::default();
    assert_eq!(obj.write(&mf, PAGE - 2, b"span").unwrap(), 4);
    let mut buf = [9u8; 8];
    obj.read(PAGE - 4, &mut buf).unwrap();
    assert_eq!(&buf, b"\0\0span\0\0");
    obj.read(10 * PAGE, &mut buf).unwrap();
    assert_eq!(buf, [0; 8]);
    assert_eq!(obj.resident_pages(), 2);
    obj.truncate(PAGE - 1);
    assert_eq!(obj.resident_pages(), 1);
    obj.read(PAGE - 4, &mut buf[..4]).unwrap();
    assert_eq!(&buf[..4], b"\0\0s\0");
    assert!(obj.read(u64::MAX - 2, &mut buf).is_err());
}
