//! `rvisor do --overlay=none`: changes to the root go through the gofer to the host
//! directory, with the contents, modes and owners Linux would give them; the default
//! overlay keeps the same changes in memory, and the host directory never sees them.

use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A busybox root under the test's temporary directory.
/// Where the fixtures go: the target's tmp directory, unless that is under /tmp, which
/// inside the sandbox is its private tmpfs (absolute symlinks to fixture paths would lead
/// there instead of into the root).
fn base() -> PathBuf {
    let t = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    if t.starts_with("/tmp") {
        PathBuf::from("/var/tmp/rvisor-tests")
    } else {
        t
    }
}

fn make_root(name: &str) -> PathBuf {
    let dir = base().join(format!("writethrough-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    for d in ["bin", "tmp", "proc", "dev", "etc", "data/sub"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    std::fs::copy("/bin/busybox", dir.join("bin/busybox")).expect("busybox-static");
    let list = Command::new("/bin/busybox").arg("--list").output().unwrap();
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        if applet != "busybox" {
            let _ = symlink("busybox", dir.join("bin").join(applet));
        }
    }
    std::fs::write(dir.join("etc/motd"), "welcome\n").unwrap();
    let words: String = (0..200).map(|i| format!("word{i}\n")).collect();
    std::fs::write(dir.join("data/words"), words).unwrap();
    std::fs::write(dir.join("data/sub/x"), "x\n").unwrap();
    dir
}

/// Every entry under `root` (relative path, type and permission bits, owner, contents or
/// symlink target), sorted.
fn tree(root: &Path) -> Vec<(String, u32, u32, u32, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let m = std::fs::symlink_metadata(&p).unwrap();
            let ft = m.file_type();
            let data = if ft.is_dir() {
                stack.push(p.clone());
                Vec::new()
            } else if ft.is_symlink() {
                std::fs::read_link(&p)
                    .unwrap()
                    .into_os_string()
                    .into_encoded_bytes()
            } else if ft.is_file() {
                std::fs::read(&p).unwrap()
            } else {
                Vec::new()
            };
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            out.push((rel, m.mode(), m.uid(), m.gid(), data));
        }
    }
    out.sort();
    out
}

fn rvisor_do(root: &Path, overlay: Option<&str>, script: &str) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rvisor"));
    cmd.arg("do");
    if let Some(o) = overlay {
        cmd.arg(format!("--overlay={o}"));
    }
    cmd.arg("--rootfs")
        .arg(root)
        .args(["--", "/bin/sh", "-c", script])
        .env_clear()
        .env("PATH", "/bin")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}stderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

const SCRIPT: &str = "set -e
echo hi > /f
mkdir /d
mv /f /d/g
ln -s /d/g /l
rm /etc/motd
chmod 640 /d/g
echo more >> /data/words
mkdir -p /data/sub/deep/er && rmdir /data/sub/deep/er
ln /data/sub/x /data/hard
mkfifo -m 600 /data/fifo
chown 1234:5678 /data/sub/x
touch -d @1000000000 /data/words
printf synced | dd of=/d/s conv=fsync 2>/dev/null
cat /l
stat -c '%a %u %g %h' /d/g /data/sub/x
ls /etc | wc -l
";

/// What SCRIPT prints, in either mode.
const PRINTED: &str = "hi\n640 0 0 1\n644 1234 5678 2\n0\n";

#[test]
fn with_overlay_none_changes_reach_the_host_directory() {
    let root = make_root("none");
    let out = rvisor_do(&root, Some("none"), SCRIPT);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        PRINTED,
        "{}",
        text(&out)
    );
    // Seen on the host afterwards, as Linux would have left them.
    assert!(!root.join("f").exists(), "moved away");
    assert_eq!(std::fs::read(root.join("d/s")).unwrap(), b"synced");
    let g = std::fs::symlink_metadata(root.join("d/g")).unwrap();
    assert_eq!(std::fs::read(root.join("d/g")).unwrap(), b"hi\n");
    assert_eq!((g.mode() & 0o7777, g.uid(), g.gid()), (0o640, 0, 0));
    let d = std::fs::symlink_metadata(root.join("d")).unwrap();
    assert!(d.is_dir());
    assert_eq!(d.mode() & 0o7777, 0o755, "umask 022 applied");
    assert_eq!(
        std::fs::read_link(root.join("l")).unwrap(),
        Path::new("/d/g")
    );
    assert!(!root.join("etc/motd").exists());
    let words = std::fs::read_to_string(root.join("data/words")).unwrap();
    assert!(words.starts_with("word0\n") && words.ends_with("word199\nmore\n"));
    assert_eq!(
        std::fs::metadata(root.join("data/words")).unwrap().mtime(),
        1_000_000_000
    );
    assert!(root.join("data/sub/deep").is_dir() && !root.join("data/sub/deep/er").exists());
    let x = std::fs::metadata(root.join("data/sub/x")).unwrap();
    let hard = std::fs::metadata(root.join("data/hard")).unwrap();
    assert_eq!(
        (x.ino(), x.nlink(), x.uid(), x.gid()),
        (hard.ino(), 2, 1234, 5678)
    );
    let fifo = std::fs::symlink_metadata(root.join("data/fifo")).unwrap();
    assert!(std::os::unix::fs::FileTypeExt::is_fifo(&fifo.file_type()));
    assert_eq!(fifo.mode() & 0o7777, 0o600);
    // A second sandbox sees the first one's changes.
    let out = rvisor_do(
        &root,
        Some("none"),
        "cat /d/g; readlink /l; ls /etc | wc -l",
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "hi\n/d/g\n0\n",
        "{}",
        text(&out)
    );
}

#[test]
fn with_the_default_overlay_the_host_directory_does_not_change() {
    for overlay in [None, Some("memory")] {
        let root = make_root(&format!("memory-{}", overlay.is_some()));
        let before = tree(&root);
        let out = rvisor_do(&root, overlay, SCRIPT);
        assert!(out.status.success(), "{}", text(&out));
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            PRINTED,
            "{}",
            text(&out)
        );
        assert_eq!(
            tree(&root),
            before,
            "{overlay:?}: the host directory changed"
        );
    }
}

#[test]
fn a_bad_overlay_value_is_one_clear_line() {
    let root = make_root("bad");
    let out = rvisor_do(&root, Some("disk"), "true");
    assert_eq!(out.status.code(), Some(125));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--overlay wants memory or none"), "{err}");
}

/// Cases run natively in a chroot of one copy of a root and sandboxed with
/// `--overlay=none` on another copy: same output, and the copies end up the same.
const CASES: &[&str] = &[
    "echo new > /newfile && cat /newfile && ls / | grep -c newfile",
    "echo more >> /etc/motd && cat /etc/motd && wc -c < /etc/motd",
    "echo replaced > /etc/motd && cat /etc/motd",
    "rm /etc/motd && ls /etc && cat /etc/motd; echo $?",
    "mkdir -p /a/b/c && echo deep > /a/b/c/f && find /a | sort && cat /a/b/c/f",
    "rmdir /data; echo $?; rm -r /data/sub && ls /data",
    "rm -r /data && ls / | grep -c data; mkdir /data && ls -a /data",
    "mv /data/words /words && ls /data / | grep -c words && head -2 /words",
    "mv /etc/motd /data/sub/motd && cat /data/sub/motd && ls /etc",
    "mv /data /moved; echo $?; find /moved | sort",
    "cp -r /data /copy && find /copy | sort && cmp /data/words /copy/words && echo same",
    "ln -s /data/words /lnk && cat /lnk | head -1 && readlink /lnk",
    "ln /data/words /hard && stat -c %h /hard /data/words && head -1 /hard",
    "chmod 600 /data/words && stat -c %a /data/words; chmod 4755 /data && stat -c %a /data",
    "touch -d @1000000000 /data/words && stat -c %Y /data/words",
    "truncate -s 5 /data/words 2>/dev/null || dd if=/dev/null of=/data/words bs=1 seek=5 2>/dev/null; \
     wc -c < /data/words",
    "cd /data && echo here > rel && cat /data/rel && pwd",
    "mkfifo /data/p && ls -l /data/p | cut -c1-10 && rm /data/p && mkfifo -m 604 /data/p",
    "umask 077 && mkdir /private && echo s > /private/s && stat -c '%a' /private /private/s",
    "chown 7:8 /data/words && chgrp 9 /data/sub && stat -c '%u %g' /data/words /data/sub",
    "echo abc > /t && printf Z | dd of=/t bs=1 seek=1 conv=notrunc 2>/dev/null; od -c /t",
    "echo abc > /t && exec 3<>/t && printf XY >&3 && exec 3>&- && cat /t && truncate -s 2 /t; cat /t",
];

fn native(copy: &Path, case: &str) -> Output {
    Command::new("/usr/sbin/chroot")
        .arg(copy)
        .args(["/bin/sh", "-c", case])
        .env_clear()
        .env("PATH", "/bin")
        .output()
        .unwrap()
}

/// The tree without what differs for reasons other than the case: times are not compared,
/// and nothing under /proc or /dev (the sandbox's own).
fn comparable(root: &Path) -> Vec<(String, u32, u32, u32, Vec<u8>)> {
    tree(root)
        .into_iter()
        .filter(|e| !e.0.starts_with("proc/") && !e.0.starts_with("dev/"))
        .collect()
}

#[test]
fn cases_behave_as_natively_and_land_on_the_host() {
    let root = make_root("cases");
    let (a, b) = (
        root.with_extension("native"),
        root.with_extension("sandboxed"),
    );
    let mut failures = Vec::new();
    for case in CASES {
        for copy in [&a, &b] {
            let _ = std::fs::remove_dir_all(copy);
            let st = Command::new("cp").arg("-a").arg(&root).arg(copy).status();
            assert!(st.unwrap().success());
        }
        let n = native(&a, case);
        let s = rvisor_do(&b, Some("none"), case);
        if n.stdout != s.stdout || n.status.code() != s.status.code() {
            failures.push(format!(
                "{case}\n  native ({:?}): {}\n  rvisor ({:?}): {}{}",
                n.status.code(),
                String::from_utf8_lossy(&n.stdout),
                s.status.code(),
                String::from_utf8_lossy(&s.stdout),
                String::from_utf8_lossy(&s.stderr)
            ));
            continue;
        }
        let (tn, ts) = (comparable(&a), comparable(&b));
        if tn != ts {
            let only_n: Vec<_> = tn.iter().filter(|e| !ts.contains(e)).collect();
            let only_s: Vec<_> = ts.iter().filter(|e| !tn.contains(e)).collect();
            failures.push(format!(
                "{case}\n  the trees differ: natively {only_n:?}\n  sandboxed {only_s:?}"
            ));
        }
    }
    for copy in [&a, &b] {
        let _ = std::fs::remove_dir_all(copy);
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

#[test]
fn writes_through_symlinks_pointing_out_stay_inside() {
    // The root and a directory beside it, alone in a directory of their own.
    let parent = base().join("writethrough-escape");
    let _ = std::fs::remove_dir_all(&parent);
    let root = make_root("escape/root");
    let outside = parent.join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("secret"), "secret\n").unwrap();
    symlink(&outside, root.join("abs")).unwrap();
    symlink("../../../../../../../..", root.join("up")).unwrap();
    symlink(outside.join("secret"), root.join("data/secretlink")).unwrap();
    let names = |d: &Path| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    // The outside directory's path exists inside the root too: absolute symlinks lead there.
    let inner = root.join(outside.strip_prefix("/").unwrap());
    std::fs::create_dir_all(&inner).unwrap();
    let (outside_before, parent_before) = (tree(&outside), names(&parent));
    let script = "echo a > /up/pwn1; echo b > /abs/pwn2; mkdir /abs/pwn3; \
                  echo c >> /data/secretlink; chmod 700 /data/secretlink; \
                  ln -s x /up/pwn4; mv /etc/motd /up/pwn5; ln /bin/busybox /up/pwn6; \
                  touch /up/tmp/../pwn7; rm -f /up/../secret; true";
    let out = rvisor_do(&root, Some("none"), script);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(tree(&outside), outside_before, "the outside changed");
    assert_eq!(
        names(&parent),
        parent_before,
        "something was made next to the root"
    );
    // Everything landed inside the root: "/.." is "/", an absolute target is the root's.
    for n in ["pwn1", "pwn4", "pwn5", "pwn6", "pwn7"] {
        assert!(
            std::fs::symlink_metadata(root.join(n)).is_ok(),
            "{n} missing\n{}",
            text(&out)
        );
    }
    assert_eq!(std::fs::read(inner.join("pwn2")).unwrap(), b"b\n");
    assert!(inner.join("pwn3").is_dir(), "{}", text(&out));
    assert_eq!(std::fs::read(inner.join("secret")).unwrap(), b"c\n");
    let m = std::fs::metadata(inner.join("secret")).unwrap();
    assert_eq!(m.mode() & 0o7777, 0o700);
    let _ = std::fs::remove_dir_all(&parent);
}

#[test]
fn new_files_belong_to_the_caller_and_its_permissions_are_checked() {
    let root = make_root("user");
    std::fs::write(
        root.join("etc/passwd"),
        "root:x:0:0::/:/bin/sh\nu:x:1000:1000::/:/bin/sh\n",
    )
    .unwrap();
    std::fs::write(
        root.join("etc/group"),
        "root:x:0:\nu:x:1000:\nstaff:x:50:u\n",
    )
    .unwrap();
    std::fs::create_dir(root.join("pub")).unwrap();
    std::fs::set_permissions(root.join("pub"), std::fs::Permissions::from_mode(0o1777)).unwrap();
    std::fs::write(root.join("pub/roots"), "root's\n").unwrap();
    let script = "su u -c '
        echo mine > /pub/mine; mkdir /pub/md; (umask 077; echo p > /pub/private)
        chgrp staff /pub/mine; mv /pub/mine /pub/moved
        echo no > /data/no || echo data EACCES
        rm -f /pub/roots || echo sticky EPERM
        chmod 600 /etc/motd || echo chmod EPERM
        chown u /etc/motd || echo chown EPERM
        touch -d @1 /etc/motd || echo touch EPERM
        rm /bin/ls || echo rm EACCES
        id -u' 2>/dev/null";
    let out = rvisor_do(&root, Some("none"), script);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "data EACCES\nsticky EPERM\nchmod EPERM\nchown EPERM\ntouch EPERM\nrm EACCES\n1000\n",
        "{}",
        text(&out)
    );
    let m = |p: &str| std::fs::symlink_metadata(root.join(p)).unwrap();
    let ids = |p: &str| (m(p).uid(), m(p).gid(), m(p).mode() & 0o7777);
    assert_eq!(ids("pub/moved"), (1000, 50, 0o644));
    assert_eq!(ids("pub/md"), (1000, 1000, 0o755));
    assert_eq!(ids("pub/private"), (1000, 1000, 0o600));
    assert_eq!(ids("pub/roots"), (0, 0, 0o644));
    assert_eq!(ids("etc/motd"), (0, 0, 0o644));
    assert!(!root.join("data/no").exists() && root.join("bin/ls").exists());
    assert!(!root.join("pub/mine").exists());
}
