//! Fixtures shared by the integration tests of the OCI command line: a busybox bundle and
//! the `rvisor` invocations on it, and waiting for processes the way containerd's shim does.
#![allow(dead_code)]

use std::os::unix::fs::symlink;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub fn rvisor() -> &'static str {
    env!("CARGO_BIN_EXE_rvisor")
}

/// A bundle: a busybox root and a config.json from `rvisor spec` with `args`.
pub struct Bundle {
    pub dir: PathBuf,
    pub state: PathBuf,
}

impl Bundle {
    pub fn new(name: &str, args: &[&str]) -> Bundle {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("oci-{name}"));
        let _ = std::fs::remove_dir_all(&dir);
        let root = dir.join("rootfs");
        for d in ["bin", "tmp", "etc", "proc", "dev", "sys"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        std::fs::copy("/bin/busybox", root.join("bin/busybox")).expect("busybox-static");
        let list = Command::new("/bin/busybox").arg("--list").output().unwrap();
        for applet in String::from_utf8_lossy(&list.stdout).lines() {
            if applet != "busybox" {
                let _ = symlink("busybox", root.join("bin").join(applet));
            }
        }
        std::fs::write(root.join("etc/passwd"), "root:x:0:0:root:/:/bin/sh\n").unwrap();
        let st = Command::new(rvisor())
            .args(["spec", "--bundle"])
            .arg(&dir)
            .status()
            .unwrap();
        assert!(st.success(), "rvisor spec");
        let mut spec: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("config.json")).unwrap()).unwrap();
        spec["process"]["terminal"] = false.into();
        spec["process"]["args"] = args.iter().map(|a| serde_json::Value::from(*a)).collect();
        spec["hostname"] = "box".into();
        std::fs::write(dir.join("config.json"), spec.to_string()).unwrap();
        let state = dir.join("state");
        Bundle { dir, state }
    }

    /// Runs `rvisor --root STATE --log LOG --log-format json ARGS`.
    pub fn rv(&self, args: &[&str]) -> Output {
        Command::new(rvisor())
            .arg("--root")
            .arg(&self.state)
            .arg("--log")
            .arg(self.dir.join("log.json"))
            .args(["--log-format", "json"])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    /// `create`, with the container's stdout and stderr going to files; returns the pid
    /// the pid file names.
    pub fn create(&self, id: &str) -> i32 {
        let out = std::fs::File::create(self.dir.join("out")).unwrap();
        let st = Command::new(rvisor())
            .arg("--root")
            .arg(&self.state)
            .args(["create", "--bundle"])
            .arg(&self.dir)
            .arg("--pid-file")
            .arg(self.dir.join("init.pid"))
            .arg(id)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .status()
            .unwrap();
        assert!(st.success(), "create: {}", self.out());
        std::fs::read_to_string(self.dir.join("init.pid"))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }

    pub fn out(&self) -> String {
        std::fs::read_to_string(self.dir.join("out")).unwrap_or_default()
    }

    pub fn status(&self, id: &str) -> String {
        let o = self.rv(&["state", id]);
        assert!(o.status.success(), "state: {}", text(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["id"], id);
        v["status"].as_str().unwrap().to_string()
    }

    pub fn last_logged_error(&self) -> String {
        let log = std::fs::read_to_string(self.dir.join("log.json")).unwrap_or_default();
        log.lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .rfind(|v| v["level"] == "error")
            .map(|v| v["msg"].as_str().unwrap_or_default().to_string())
            .unwrap_or_default()
    }
}

pub fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// This test process adopts orphans (as containerd's shim does), so that it can wait for
/// the sandbox process `create` left behind.
pub fn become_subreaper() {
    // SAFETY: prctl with integer arguments.
    assert_eq!(unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1) }, 0);
}

/// The wait status of `pid`, a child by adoption.
pub fn wait(pid: i32) -> i32 {
    let mut status = 0;
    // SAFETY: waitpid with a valid status pointer.
    let r = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(r, pid, "waitpid: {}", std::io::Error::last_os_error());
    status
}

pub fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(30);
    while !f() {
        assert!(Instant::now() < until, "waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}
