//! Tests of file data: unlink while open, sparse files, truncate, limits, mappings and
//! their coherence with read/write, memfds, concurrency, teardown.

use std::collections::HashSet;

use super::*;

#[test]
fn unlink_while_open() {
    let fs = fs();
    let f = creat(&fs, "f");
    f.write(&[7u8; 10000], Some(0)).unwrap();
    let used = fs.used_bytes();
    assert_eq!(used, 3 * 4096);
    done(fs.unlink(b"f", &ROOT)).unwrap();
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
    assert_eq!(
        fs.used_bytes(),
        3 * 4096,
        "the mapping still holds the data"
    );
    drop(m);
    assert_eq!(fs.used_bytes(), 0);
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
    done(fs.truncate(b"f", 1 << 30, &ROOT)).unwrap();
    let st = stat(&fs, "f").unwrap();
    assert_eq!((st.size, st.blocks), (1 << 30, 8));
    // Shrink into a page, then grow: the cut part reads as zeros.
    write_file(&fs, "g", &[9u8; 5000]);
    done(fs.truncate(b"g", 4100, &ROOT)).unwrap();
    done(fs.truncate(b"g", 6000, &ROOT)).unwrap();
    let g = open(&fs, "g", RDONLY).unwrap();
    let data = read_all(&*g);
    assert_eq!(data.len(), 6000);
    assert!(data[..4100].iter().all(|&b| b == 9) && data[4100..].iter().all(|&b| b == 0));
    assert_eq!(g.stat().unwrap().blocks, 16);
    done(fs.truncate(b"g", 0, &ROOT)).unwrap();
    assert_eq!(g.stat().unwrap().blocks, 0);
    // Errors.
    mkdir(&fs, "d").unwrap();
    symlink(&fs, "g", "lg").unwrap();
    assert_eq!(done(fs.truncate(b"d", 0, &ROOT)).err(), Some(Errno::EISDIR));
    assert_eq!(
        done(fs.truncate(b"nope", 0, &ROOT)).err(),
        Some(Errno::ENOENT)
    );
    assert_eq!(
        done(fs.truncate(b"g/", 0, &ROOT)).err(),
        Some(Errno::ENOTDIR)
    );
    assert_eq!(
        done(fs.truncate(b"g", 1 << 63, &ROOT)).err(),
        Some(Errno::EINVAL)
    );
    done(fs.truncate(b"lg", 10, &ROOT)).unwrap();
    assert_eq!(g.size().unwrap(), 10);
    // Times change only with the size.
    done(fs.utimens(b"g", Some((5, 0)), Some((5, 0)), &ROOT)).unwrap();
    done(fs.truncate(b"g", 10, &ROOT)).unwrap();
    assert_eq!(stat(&fs, "g").unwrap().mtime, (5, 0));
    done(fs.truncate(b"g", 11, &ROOT)).unwrap();
    assert!(stat(&fs, "g").unwrap().mtime.0 > 5);
}

#[test]
fn size_limits() {
    let fs = Tmpfs::with_limits(
        1,
        mf(),
        Limits {
            max_bytes: 4 * 4096,
            max_file_size: 10 * 4096,
        },
    );
    let f = creat(&fs, "f");
    // Filling up: a short write, then ENOSPC.
    assert_eq!(f.write(&[1u8; 5 * 4096], Some(0)).unwrap(), 4 * 4096);
    assert_eq!(f.write(b"x", Some(4 * 4096)).err(), Some(Errno::ENOSPC));
    // Rewriting allocated pages needs no space.
    assert_eq!(f.write(&[2u8; 100], Some(10)).unwrap(), 100);
    assert_eq!(fs.used_bytes(), 4 * 4096);
    // Freeing pages gives space back.
    done(fs.truncate(b"f", 4096, &ROOT)).unwrap();
    assert_eq!(fs.used_bytes(), 4096);
    let g = creat(&fs, "g");
    // The size limit: EFBIG at it, short writes across it.
    assert_eq!(g.write(b"x", Some(10 * 4096)).err(), Some(Errno::EFBIG));
    assert_eq!(g.write(b"abc", Some(10 * 4096 - 2)).unwrap(), 2);
    assert_eq!(g.size().unwrap(), 10 * 4096);
    assert_eq!(
        done(fs.truncate(b"g", 10 * 4096 + 1, &ROOT)).err(),
        Some(Errno::EFBIG)
    );
    drop((f, g));
    done(fs.unlink(b"f", &ROOT)).unwrap();
    done(fs.unlink(b"g", &ROOT)).unwrap();
    assert_eq!(fs.used_bytes(), 0);
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
                    assert_eq!(
                        own.write(&[byte; CHUNK], Some((r * CHUNK) as u64)).unwrap(),
                        CHUNK
                    );
                    let off = ((r * THREADS + t) * CHUNK) as u64;
                    assert_eq!(
                        shared.write(&[t as u8 + 1; CHUNK], Some(off)).unwrap(),
                        CHUNK
                    );
                    // Namespace changes from every thread at once.
                    mkdir(&fs, &format!("dir{t}_{r}")).unwrap();
                    done(fs.rmdir(format!("dir{t}_{r}").as_bytes(), &ROOT)).unwrap();
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
        assert!(
            chunk.iter().all(|&b| b == (i % THREADS) as u8 + 1),
            "chunk {i}"
        );
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
        fs.rename(b"x", b"y/d", 0, &ROOT).unwrap();
        fs.rename(b"y", b"x", 0, &ROOT).unwrap();
    }
    assert_eq!(stat(&fs, "x/d/d/d").unwrap().nlink, 3);
    // A directory held open outlives the filesystem, and its subtree is freed later.
    let held = open(&fs, "x/d", RDONLY).unwrap();
    drop(fs);
    drop(held);
}
