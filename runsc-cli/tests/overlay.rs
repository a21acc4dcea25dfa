//! The overlay root of `rvisor do --rootfs`: changes anywhere in the root behave as on a
//! writable filesystem (compared with a chroot into a copy of the same root), and none of
//! them reaches the root on the host.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Each case runs in a fresh sandbox (and a fresh copy natively).
const CASES: &[&str] = &[
    "echo new > /newfile && cat /newfile && ls / | grep -c newfile",
    "echo more >> /etc/motd && cat /etc/motd && wc -c < /etc/motd",
    "echo replaced > /etc/motd && cat /etc/motd",
    "rm /etc/motd && ls /etc && cat /etc/motd; echo $?",
    "rm /etc/motd && echo back > /etc/motd && cat /etc/motd && ls /etc",
    "mkdir -p /a/b/c && echo deep > /a/b/c/f && find /a | sort && cat /a/b/c/f",
    "mkdir /data/sub2 && ls /data && rmdir /data/sub2 && ls /data",
    "rmdir /data; echo $?; rm -r /data/sub && ls /data",
    "rm -r /data && ls / | grep -c data; mkdir /data && ls -a /data",
    "mv /data/words /words && ls /data / | grep -c words && head -2 /words",
    "mv /etc/motd /data/sub/motd && cat /data/sub/motd && ls /etc",
    "cp -r /data /copy && find /copy | sort && cmp /data/words /copy/words && echo same",
    "ln -s /data/words /lnk && cat /lnk | head -1 && readlink /lnk",
    "ln /data/words /hard && stat -c %h /hard /data/words && head -1 /hard",
    "chmod 600 /data/words && stat -c %a /data/words; chmod 755 /data && stat -c %a /data",
    "touch -d @1000000000 /data/words && stat -c %Y /data/words",
    "truncate -s 5 /data/words 2>/dev/null || dd if=/dev/null of=/data/words bs=1 seek=5 2>/dev/null; \
     wc -c < /data/words",
    "echo x > /data/sub/y && rm -r /data/sub && ls /data && mkdir /data/sub && ls -a /data/sub",
    "mv /data /moved; echo $?; find /moved | sort",
    "cd /data && echo here > rel && cat /data/rel && pwd",
    "ls -la /data | awk '{print $1, $NF}' | tail -n +2",
];

struct Root {
    dir: PathBuf,
}

impl Root {
    fn new(name: &str) -> Root {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("overlay-{name}"));
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
        Root { dir }
    }

    /// Every file under the root, with its contents: to see that nothing changed.
    fn snapshot(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let mut out = Vec::new();
        let mut stack = vec![self.dir.clone()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                let p = e.path();
                let ft = e.file_type().unwrap();
                if ft.is_dir() {
                    stack.push(p.clone());
                    out.push((p, Vec::new()));
                } else if ft.is_symlink() {
                    out.push((
                        p.clone(),
                        std::fs::read_link(&p)
                            .unwrap()
                            .into_os_string()
                            .into_encoded_bytes(),
                    ));
                } else {
                    out.push((p.clone(), std::fs::read(&p).unwrap()));
                }
            }
        }
        out.sort();
        out
    }
}

fn copy_tree(from: &Path, to: &Path) {
    let st = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(st.success());
}

fn native(root: &Root, case: &str) -> Output {
    let copy = root.dir.with_extension("native");
    let _ = std::fs::remove_dir_all(&copy);
    copy_tree(&root.dir, &copy);
    let out = Command::new("/usr/sbin/chroot")
        .arg(&copy)
        .args(["/bin/sh", "-c", case])
        .env_clear()
        .env("PATH", "/bin")
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&copy);
    out
}

fn sandboxed(root: &Root, case: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rvisor"))
        .arg("do")
        .arg("--rootfs")
        .arg(&root.dir)
        .args(["--", "/bin/sh", "-c", case])
        .env_clear()
        .env("PATH", "/bin")
        .output()
        .unwrap()
}

#[test]
fn changes_to_the_root_behave_as_on_a_writable_filesystem_and_stay_inside() {
    let root = Root::new("cases");
    let before = root.snapshot();
    let mut failures = Vec::new();
    for case in CASES {
        let n = native(&root, case);
        let s = sandboxed(&root, case);
        if n.stdout != s.stdout || n.status.code() != s.status.code() {
            failures.push(format!(
                "{case}\n  native ({:?}): {}\n  rvisor ({:?}): {}{}",
                n.status.code(),
                String::from_utf8_lossy(&n.stdout),
                s.status.code(),
                String::from_utf8_lossy(&s.stdout),
                String::from_utf8_lossy(&s.stderr)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
    assert_eq!(
        root.snapshot(),
        before,
        "the root on the host did not change"
    );
}
