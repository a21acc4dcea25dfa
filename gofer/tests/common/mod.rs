//! Helpers shared by the gofer's tests.
#![allow(dead_code)]

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;

use gofer::{Client, Error, Server};

/// A directory removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let p = std::env::temp_dir().join(format!(
            "gofer-test-{}-{}-{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A temp dir holding `root/` (served) and `outside/` (never reachable).
pub struct Fixture {
    pub tmp: TempDir,
}

impl Fixture {
    pub fn new() -> Fixture {
        let tmp = TempDir::new();
        std::fs::create_dir(tmp.path().join("root")).unwrap();
        std::fs::create_dir(tmp.path().join("outside")).unwrap();
        std::fs::write(tmp.path().join("outside/secret"), b"outside").unwrap();
        Fixture { tmp }
    }

    pub fn root(&self) -> PathBuf {
        self.tmp.path().join("root")
    }

    pub fn outside(&self) -> PathBuf {
        self.tmp.path().join("outside")
    }
}

/// A server thread serving one connection over `root`, and a client for it.
pub fn start(root: &Path, read_only: bool) -> (Client, JoinHandle<Result<(), Error>>) {
    start_mapped(root, read_only, gofer::IdMaps::identity())
}

/// [`start`], with the user namespace mappings `ids`.
pub fn start_mapped(
    root: &Path,
    read_only: bool,
    ids: gofer::IdMaps,
) -> (Client, JoinHandle<Result<(), Error>>) {
    let server = Server::new(gofer::open_root(root).unwrap(), read_only)
        .unwrap()
        .with_ids(ids);
    let (c, s) = gofer::socketpair().unwrap();
    let h = std::thread::spawn(move || server.serve_connection(s));
    (Client::new(c), h)
}

/// The errno of a failed call.
pub fn errno<T: std::fmt::Debug>(r: Result<T, Error>) -> i32 {
    match r {
        Err(Error::Errno(e)) => e.0,
        other => panic!("expected an errno, got {other:?}"),
    }
}

pub fn read_all(fd: OwnedFd) -> Vec<u8> {
    use std::io::Read;
    let mut f = std::fs::File::from(fd);
    let mut v = Vec::new();
    f.read_to_end(&mut v).unwrap();
    v
}

pub fn host_ino(p: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(p).unwrap().ino()
}
