//! A symlink swapped in for a directory while walking never lets a walk out of the root.

mod common;

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use common::*;
use gofer::protocol::ROOT;

fn c(p: &Path) -> CString {
    CString::new(p.as_os_str().as_bytes()).unwrap()
}

fn race(link_target: &dyn Fn(&Fixture) -> std::path::PathBuf) {
    let fx = Fixture::new();
    let root = fx.root();
    std::fs::create_dir(root.join("d")).unwrap();
    std::fs::create_dir(root.join("d/sub")).unwrap();
    std::fs::write(root.join("d/secret"), b"inside").unwrap();
    std::fs::create_dir(fx.outside().join("sub")).unwrap();
    std::os::unix::fs::symlink(link_target(&fx), root.join("swap")).unwrap();
    let outside: Vec<u64> = ["", "secret", "sub"]
        .iter()
        .map(|n| host_ino(&fx.outside().join(n)))
        .collect();
    let (client, _h) = start(&root, false);
    // Swap "d" (a directory) and "swap" (a symlink out of the root) as fast as we can.
    let stop = Arc::new(AtomicBool::new(false));
    let (a, b) = (c(&root.join("d")), c(&root.join("swap")));
    let swapper = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
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
                n += 1;
            }
            n
        })
    };
    let (mut dirs, mut links, mut errors) = (0, 0, 0);
    for i in 0..3000 {
        let names: [&[u8]; 2] = if i % 2 == 0 {
            [b"d", b"secret"]
        } else {
            [b"swap", b"sub"]
        };
        let w = match client.walk(ROOT, &names) {
            Ok(w) => w,
            Err(_) => {
                errors += 1;
                continue;
            }
        };
        for (id, st) in &w.entries {
            assert!(!outside.contains(&st.ino), "walk reached outside the root");
            if st.file_type() == libc::S_IFREG {
                let fd = client.open(*id, libc::O_RDONLY).unwrap();
                let ino = std::fs::File::from(fd.try_clone().unwrap())
                    .metadata()
                    .unwrap()
                    .ino();
                assert!(!outside.contains(&ino));
                assert_eq!(read_all(fd), b"inside");
            }
        }
        match w.entries.first() {
            Some((_, st)) if st.is_symlink() => {
                assert_eq!(w.entries.len(), 1, "nothing past a symlink");
                links += 1;
            }
            Some(_) => dirs += 1,
            None => {}
        }
        let ids: Vec<u64> = w.entries.iter().map(|e| e.0).collect();
        client.close(&ids).unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    let swaps = swapper.join().unwrap();
    eprintln!(
        "swaps {swaps}, walks through a dir {dirs}, stopped at a symlink {links}, errors {errors}"
    );
    assert!(dirs > 0 && links > 0, "the race never happened both ways");
}

#[test]
fn swapped_absolute_symlink_never_escapes() {
    race(&|fx| fx.outside());
}

#[test]
fn swapped_relative_symlink_never_escapes() {
    race(&|_| "../outside".into());
}
