//! Escape attempts from inside `rvisor do --rootfs`, each of which must fail: `..` above
//! the root, symlinks pointing out, magic links of /proc, a symlink swapped in while paths
//! are walked, device nodes, mounts, file handles; and nothing written inside reaches the
//! host.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SECRET: &str = "HOST-SECRET-CONTENT";

/// A busybox root inside a fresh directory that also holds, beside the root (outside it),
/// a secret file and directory.
struct Fixture {
    top: PathBuf,
}

impl Fixture {
    fn new(name: &str) -> Fixture {
        let top = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("escape-{name}"));
        let _ = std::fs::remove_dir_all(&top);
        let root = top.join("root");
        for d in ["bin", "tmp", "proc", "dev", "d", "mnt"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        std::fs::copy("/bin/busybox", root.join("bin/busybox")).expect("busybox-static");
        for applet in [
            "sh", "cat", "ls", "echo", "mknod", "mount", "head", "readlink",
        ] {
            symlink("busybox", root.join("bin").join(applet)).unwrap();
        }
        std::fs::write(top.join("secret"), SECRET).unwrap();
        std::fs::create_dir_all(top.join("outside")).unwrap();
        std::fs::write(top.join("outside/f"), SECRET).unwrap();
        std::fs::write(root.join("d/f"), "inside\n").unwrap();
        Fixture { top }
    }

    fn root(&self) -> PathBuf {
        self.top.join("root")
    }

    /// Runs `script` with busybox sh inside the sandbox.
    fn sh(&self, script: &str) -> Output {
        Command::new(env!("CARGO_BIN_EXE_rvisor"))
            .arg("do")
            .arg("--rootfs")
            .arg(self.root())
            .args(["--", "/bin/sh", "-c", script])
            .output()
            .unwrap()
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn assert_no_secret(o: &Output, what: &str) {
    let t = text(o);
    assert!(!t.contains(SECRET), "{what} leaked the host file: {t}");
}

#[test]
fn dotdot_never_leaves_the_root() {
    let fx = Fixture::new("dotdot");
    let o = fx
        .sh("cat /../secret /../../secret ../../../secret /d/../../secret; ls /..; cd /../..; ls");
    assert_no_secret(&o, "..");
    assert!(
        text(&o).contains("bin"),
        "`ls /..` lists the root: {}",
        text(&o)
    );
}

#[test]
fn symlinks_pointing_out_resolve_inside() {
    let fx = Fixture::new("symlinks");
    let root = fx.root();
    let abs = fx.top.join("secret");
    symlink(&abs, root.join("abs")).unwrap();
    symlink("../secret", root.join("rel")).unwrap();
    symlink("../../../../../../../../secret", root.join("deep")).unwrap();
    symlink(fx.top.join("outside"), root.join("absdir")).unwrap();
    symlink("/proc/self/root/../secret", root.join("magic")).unwrap();
    let o = fx.sh("cat /abs /rel /deep /absdir/f /magic; ls /absdir; readlink /abs");
    assert_no_secret(&o, "a symlink");
    // The link's text is shown as it is, but it resolves inside the root.
    assert!(text(&o).contains(&abs.display().to_string()));
}

#[test]
fn proc_magic_links_stay_inside() {
    let fx = Fixture::new("magic");
    let o = fx.sh(
        "cat /proc/1/root/../secret /proc/self/root/../../secret /proc/self/cwd/../secret; \
         ls /proc/self/root/..; readlink /proc/self/root /proc/1/cwd",
    );
    assert_no_secret(&o, "a /proc magic link");
}

#[test]
fn a_symlink_swapped_in_while_walking_never_leads_out() {
    let fx = Fixture::new("race");
    let root = fx.root();
    let target = fx.top.join("outside");
    // Host side: "swap" flips between a real directory and a symlink to the host's
    // `outside` directory, as fast as it can.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flipper = {
        let (root, target, stop) = (root.clone(), target.clone(), stop.clone());
        std::thread::spawn(move || {
            let dir = root.join("swapdir");
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("f"), "inside\n").unwrap();
            let link = root.join("swaplink");
            let _ = std::fs::remove_file(&link);
            symlink(&target, &link).unwrap();
            let (a, b) = (
                std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()).unwrap(),
                std::ffi::CString::new(link.as_os_str().as_encoded_bytes()).unwrap(),
            );
            let mut flips = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                // SAFETY: two valid paths; RENAME_EXCHANGE swaps them atomically.
                unsafe {
                    libc::syscall(
                        libc::SYS_renameat2,
                        libc::AT_FDCWD,
                        a.as_ptr(),
                        libc::AT_FDCWD,
                        b.as_ptr(),
                        libc::RENAME_EXCHANGE,
                    )
                };
                flips += 1;
            }
            flips
        })
    };
    let o = fx.sh(
        "i=0; while [ $i -lt 300 ]; do cat /swapdir/f /swaplink/f 2>/dev/null; i=$((i+1)); done",
    );
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let flips = flipper.join().unwrap();
    assert!(flips > 100, "the race ran ({flips} flips)");
    assert_no_secret(&o, "a swapped symlink");
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("inside"),
        "the real directory was read at times: {}",
        text(&o)
    );
}

#[test]
fn device_nodes_mounts_and_file_handles_are_refused() {
    let fx = Fixture::new("devices");
    // A device node of the host's memory and disk: refused, and nothing readable.
    let o = fx.sh("mknod /tmp/mem c 1 1; echo mknod $?; head -c 16 /tmp/mem; \
         mknod /tmp/sda b 8 0; echo mknod-blk $?; \
         mount -t ext4 /dev/sda1 /mnt; echo mount $?; \
         mount -t proc proc /mnt; ls /mnt/1/root/.. 2>/dev/null | head -3; \
         mount --bind / /mnt; echo bind $?");
    let t = text(&o);
    assert!(t.contains("mknod 1"), "mknod of a char device fails: {t}");
    assert!(
        t.contains("mknod-blk 1"),
        "mknod of a block device fails: {t}"
    );
    assert!(t.contains("mount 255"), "mounting a host disk fails: {t}");
    assert_no_secret(&o, "a device or mount");
}

#[test]
fn open_by_handle_at_is_refused() {
    let fx = Fixture::new("handles");
    let src = fx.top.join("handle.c");
    std::fs::write(
        &src,
        r#"#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(void) {
    struct file_handle *h = malloc(sizeof *h + 128);
    h->handle_bytes = 128;
    int mnt;
    int r = name_to_handle_at(AT_FDCWD, "/bin/busybox", h, &mnt, 0);
    printf("name_to_handle_at: %s\n", r < 0 ? strerrorname_np(errno) : "OK");
    /* A handle forged for the host's root directory (ext4/xfs style inode 2). */
    h->handle_bytes = 8;
    h->handle_type = 1;
    memset(h->f_handle, 0, 8);
    h->f_handle[0] = 2;
    int fd = open_by_handle_at(AT_FDCWD, h, O_RDONLY);
    printf("open_by_handle_at: %s\n", fd < 0 ? strerrorname_np(errno) : "OK");
    return 0;
}
"#,
    )
    .unwrap();
    let bin = fx.root().join("bin/handle");
    let st = Command::new("gcc")
        .args(["-static", "-O2", "-o"])
        .arg(&bin)
        .arg(&src)
        .status()
        .unwrap();
    assert!(st.success());
    let o = Command::new(env!("CARGO_BIN_EXE_rvisor"))
        .arg("do")
        .arg("--rootfs")
        .arg(fx.root())
        .args(["--", "/bin/handle"])
        .output()
        .unwrap();
    let t = text(&o);
    assert!(!t.contains("open_by_handle_at: OK"), "{t}");
    assert!(t.contains("open_by_handle_at: E"), "{t}");
}

#[test]
fn nothing_written_inside_reaches_the_host() {
    let fx = Fixture::new("writes");
    let marker = fx.top.join("written-from-inside");
    let inside = Path::new("/").join(marker.strip_prefix("/").unwrap());
    let o = fx.sh(&format!(
        "echo x > /tmp/t && cat /tmp/t; echo y > /d/new; echo root $?; echo z > /newfile; \
         echo z > {}; mkdir /newdir; echo done",
        inside.display()
    ));
    assert!(text(&o).contains("done"), "{}", text(&o));
    assert!(!fx.root().join("d/new").exists());
    assert!(!fx.root().join("newfile").exists());
    assert!(!fx.root().join("newdir").exists());
    assert!(!fx.root().join("tmp/t").exists());
    assert!(!marker.exists());
    // rvisor do without --rootfs: the host's / is read-only and /tmp is private.
    let host_tmp = format!("/tmp/rvisor-escape-{}", std::process::id());
    let o = Command::new(env!("CARGO_BIN_EXE_rvisor"))
        .args(["do", "--", "/bin/busybox", "sh", "-c"])
        .arg(format!(
            "echo x > {host_tmp}; echo y > /var/tmp/rvisor-escape-{}; echo done",
            std::process::id()
        ))
        .output()
        .unwrap();
    assert!(text(&o).contains("done"), "{}", text(&o));
    assert!(!Path::new(&host_tmp).exists());
    assert!(!Path::new(&format!("/var/tmp/rvisor-escape-{}", std::process::id())).exists());
}
