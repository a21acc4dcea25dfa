//! Debian's busybox-static as a shell under `rvisor do --rootfs`, on every platform `rvisor
//! platforms` lists as available: every case must print the same and exit the same as the
//! same command run natively in a chroot of the same root.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const CASES: &[&str] = &[
    "echo hello world",
    "exit 3",
    "false; echo $?",
    "(exit 7); echo $?",
    "echo a b c | tr ' ' '\\n' | sort -r",
    "x=$(echo sub $(echo nested)); echo \"[$x]\"",
    "(cd /data && ls) ; pwd",
    "for i in 1 2 3; do echo $i; done | while read l; do echo line $l; done",
    "sleep 0.2 & echo started; wait; echo waited $?",
    // ash prints "Terminated" only if its first non-blocking reap already finds the child
    // dead, a race natively too; the pause makes the case deterministic.
    "sleep 5 & kill $!; sleep 0.2; wait $!; echo status $?",
    "trap 'echo got USR1' USR1; kill -USR1 $$; echo after",
    "trap 'echo bye' EXIT; echo body",
    "sh -c 'kill -TERM $$'; echo child $?",
    "sh -c 'exit 42'; echo $?",
    "echo to-tmp > /tmp/f && cat /tmp/f && echo more >> /tmp/f && wc -l < /tmp/f",
    "sort /data/words | uniq -c | sort -rn | head -3",
    "md5sum /data/words /data/blob",
    "dd if=/data/blob of=/tmp/copy bs=4k 2>/dev/null; md5sum < /tmp/copy; ls -l /tmp/copy | awk '{print $5}'",
    "find /data -type f | sort",
    "cat /data/words | grep -c o",
    "echo $((3 * 7 + 1))",
    "a=1; b=$((a+1)); test $b -eq 2 && echo yes || echo no",
    "case foo in f*) echo matched;; esac",
    "printf '%s-%d\\n' x 5",
    "seq 1 1000 | awk '{s+=$1} END {print s}'",
    "ls /nonexistent; echo $?",
    "cat < /dev/null | wc -c",
    "head -c 100 /dev/zero | md5sum",
    "echo err >&2; echo out",
    "yes | head -n 3",
];

fn rootfs() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("busybox-root");
    let _ = std::fs::remove_dir_all(&dir);
    for d in ["bin", "tmp", "data/sub", "etc", "proc", "dev"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    std::fs::copy("/bin/busybox", dir.join("bin/busybox")).expect("busybox-static is installed");
    let list = Command::new("/bin/busybox").arg("--list").output().unwrap();
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        if applet != "busybox" {
            let _ = symlink("busybox", dir.join("bin").join(applet));
        }
    }
    let words: String = (0..2000)
        .map(|i| format!("{}\n", ["foo", "bar", "baz", "qux", "hello"][i * 7 % 5]))
        .collect();
    std::fs::write(dir.join("data/words"), words).unwrap();
    let blob: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    std::fs::write(dir.join("data/blob"), blob).unwrap();
    std::fs::write(dir.join("data/sub/note"), "note\n").unwrap();
    std::fs::write(dir.join("etc/passwd"), "root:x:0:0:root:/:/bin/sh\n").unwrap();
    // The native chroot needs real device nodes; rvisor serves its own /dev.
    for (name, minor) in [("null", 3), ("zero", 5), ("urandom", 9)] {
        let st = Command::new("/usr/bin/mknod")
            .arg(dir.join("dev").join(name))
            .args(["c", "1", &minor.to_string()])
            .status();
        assert!(st.is_ok_and(|s| s.success()), "mknod /dev/{name}");
    }
    dir
}

fn native(root: &Path, case: &str) -> Output {
    Command::new("/usr/sbin/chroot")
        .arg(root)
        .args(["/bin/sh", "-c", case])
        .env_clear()
        .env("PATH", "/bin")
        .output()
        .unwrap()
}

/// The platforms this host can run (`NAME: available` lines of `rvisor platforms`).
fn platforms() -> Vec<String> {
    let o = Command::new(env!("CARGO_BIN_EXE_rvisor"))
        .arg("platforms")
        .output()
        .unwrap();
    let list: Vec<String> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| l.strip_suffix(": available").map(str::to_string))
        .collect();
    assert!(list.contains(&"seccomp".to_string()), "platforms: {list:?}");
    list
}

fn sandboxed(platform: &str, root: &Path, case: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rvisor"))
        .args(["do", "--platform", platform, "--rootfs"])
        .arg(root)
        .args(["--", "/bin/sh", "-c", case])
        .env_clear()
        .env("PATH", "/bin")
        .output()
        .unwrap()
}

#[test]
fn busybox_shell_behaves_as_natively() {
    let root = rootfs();
    let platforms = platforms();
    let mut failures = Vec::new();
    for (platform, case) in platforms
        .iter()
        .flat_map(|p| CASES.iter().map(move |c| (p, c)))
    {
        // Each native run may leave files in the root's /tmp; start both runs clean.
        let clean = || {
            for e in std::fs::read_dir(root.join("tmp")).unwrap().flatten() {
                let _ = std::fs::remove_file(e.path());
            }
        };
        clean();
        let n = native(&root, case);
        clean();
        let s = sandboxed(platform, &root, case);
        let same =
            n.status.code() == s.status.code() && n.stdout == s.stdout && n.stderr == s.stderr;
        println!("{} {platform}: {case}", if same { "ok  " } else { "FAIL" });
        if !same {
            failures.push(format!(
                "{platform}: case {case:?}\n  native:  {:?} out={:?} err={:?}\n  rvisor:  {:?} out={:?} err={:?}",
                n.status.code(),
                String::from_utf8_lossy(&n.stdout),
                String::from_utf8_lossy(&n.stderr),
                s.status.code(),
                String::from_utf8_lossy(&s.stdout),
                String::from_utf8_lossy(&s.stderr),
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        CASES.len() * platforms.len(),
        failures.join("\n")
    );
}
