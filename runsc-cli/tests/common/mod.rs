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
        self.create_with(&[], id)
    }

    /// `create` with global flags `global` (e.g. `--platform kvm`).
    pub fn create_with(&self, global: &[&str], id: &str) -> i32 {
        let out = std::fs::File::create(self.dir.join("out")).unwrap();
        let st = Command::new(rvisor())
            .arg("--root")
            .arg(&self.state)
            .args(global)
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
        self.logged("error").pop().unwrap_or_default()
    }

    /// The messages `--log` holds at `level`, oldest first.
    pub fn logged(&self, level: &str) -> Vec<String> {
        let log = std::fs::read_to_string(self.dir.join("log.json")).unwrap_or_default();
        log.lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["level"] == level)
            .map(|v| v["msg"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    pub fn rootfs(&self) -> PathBuf {
        self.dir.join("rootfs")
    }

    /// The bundle's config.json.
    pub fn spec(&self) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(self.dir.join("config.json")).unwrap()).unwrap()
    }

    /// Changes the bundle's config.json with `f`.
    pub fn edit_spec(&self, f: impl FnOnce(&mut serde_json::Value)) {
        let mut spec = self.spec();
        f(&mut spec);
        std::fs::write(self.dir.join("config.json"), spec.to_string()).unwrap();
    }

    /// `rvisor run`: the container's output, once it exited 0.
    pub fn run_ok(&self, id: &str) -> String {
        let o = self.rv(&["run", "--bundle", self.dir.to_str().unwrap(), id]);
        assert!(o.status.success(), "run: {}", text(&o));
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// `create` and `start`, then waits until the container has printed "ready"; returns
    /// the sandbox's pid.
    pub fn start_ready(&self, id: &str) -> i32 {
        let pid = self.create(id);
        let o = self.rv(&["start", id]);
        assert!(o.status.success(), "start: {}", text(&o));
        wait_for("ready", || self.out().contains("ready"));
        pid
    }

    /// `delete --force`, then waits for the sandbox process `pid` (a child by adoption).
    pub fn delete_and_wait(&self, id: &str, pid: i32) {
        let o = self.rv(&["delete", "--force", id]);
        assert!(o.status.success(), "delete: {}", text(&o));
        wait(pid);
    }

    /// The same bundle run by runc (with a state root of its own), to compare with.
    pub fn runc_run(&self, id: &str) -> Output {
        let runc = ["/usr/sbin/runc", "/usr/bin/runc"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .expect("runc is installed");
        let o = Command::new(runc)
            .arg("--root")
            .arg(self.dir.join("runc-state"))
            .args(["run", "--bundle"])
            .arg(&self.dir)
            .arg(id)
            .output()
            .unwrap();
        assert!(o.status.success(), "runc: {}", text(&o));
        o
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

/// The cached Debian root the Debian and Docker tests use (`debootstrap --variant=minbase
/// --include=python3`, made on first use; RVISOR_DEBIAN_ROOT names another place).
pub fn debian_root() -> PathBuf {
    let dir = std::env::var_os("RVISOR_DEBIAN_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/rvisor/bookworm-minbase-python3"));
    let done = dir.join(".rvisor-complete");
    if done.exists() {
        return dir;
    }
    let tmp = dir.with_extension("partial");
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(tmp.parent().unwrap()).unwrap();
    let st = Command::new("debootstrap")
        .args(["--variant=minbase", "--include=python3", "bookworm"])
        .arg(&tmp)
        .arg("http://deb.debian.org/debian")
        .output()
        .expect("debootstrap is installed (apt-get install debootstrap)");
    assert!(
        st.status.success(),
        "debootstrap failed: {}",
        String::from_utf8_lossy(&st.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::rename(&tmp, &dir).unwrap();
    std::fs::write(&done, b"").unwrap();
    dir
}
