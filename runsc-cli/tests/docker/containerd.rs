//! A containerd of our own, driven through ctr.

use super::*;

/// A containerd of our own; dropping it stops it and removes all it made.
pub(crate) struct Containerd {
    pub(crate) ctr: PathBuf,
    pub(crate) base: PathBuf,
    pub(crate) sock: PathBuf,
    pub(crate) ns: String,
    pub(crate) child: Option<Child>,
}

impl Containerd {
    pub(crate) fn start() -> Containerd {
        let containerd = installed(&["containerd"], "containerd");
        let ctr = installed(&["ctr"], "containerd");
        installed(&["containerd-shim-runc-v2"], "containerd");
        installed(&["runc"], "runc");
        let pid = std::process::id();
        let base = PathBuf::from(format!("/var/tmp/rvisor-containerd-{pid}"));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(&base).unwrap();
        let sock = base.join("containerd.sock");
        let b = base.display();
        let config = format!(
            r#"version = 2
root = "{b}/root"
state = "{b}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "{b}/containerd.sock"
[ttrpc]
  address = "{b}/containerd.sock.ttrpc"
[debug]
  address = "{b}/debug.sock"
  level = "info"
"#
        );
        std::fs::write(base.join("config.toml"), config).unwrap();
        let log = std::fs::File::create(base.join("containerd.log")).unwrap();
        let child = Command::new(containerd)
            .arg("--config")
            .arg(base.join("config.toml"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("starting containerd");
        let mut c = Containerd {
            ctr,
            base,
            sock,
            ns: format!("rvt{pid}"),
            child: Some(child),
        };
        let up = wait_until(Duration::from_secs(30), || {
            run(&mut c.cmd(&["version"]), None, Duration::from_secs(10)).code == Some(0)
        });
        let exited = matches!(c.child.as_mut().map(Child::try_wait), Some(Ok(Some(_))));
        assert!(
            up && !exited,
            "containerd did not come up; its log:\n{}",
            std::fs::read_to_string(c.base.join("containerd.log")).unwrap_or_default()
        );
        c
    }

    /// `ctr -a OUR_SOCKET -n OUR_NAMESPACE ARGS`.
    pub(crate) fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.ctr);
        c.arg("-a")
            .arg(&self.sock)
            .arg("-n")
            .arg(&self.ns)
            .args(args);
        c
    }

    pub(crate) fn ctr(&self, args: &[&str]) -> Out {
        run(&mut self.cmd(args), None, T)
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        let ids = created_ids(&argv_lines(&self.base));
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let groups: Vec<String> = ids.iter().map(|id| format!("/{}/{id}", self.ns)).collect();
        kill_ours(std::slice::from_ref(&self.base), &groups);
        std::thread::sleep(Duration::from_millis(200));
        unmount_below(std::slice::from_ref(&self.base));
        // ctr's cgroupsPath is /NAMESPACE/ID.
        for d in cgroup_dirs(&self.ns) {
            for id in &ids {
                let _ = std::fs::remove_dir(d.join(id));
            }
            let _ = std::fs::remove_dir(d);
        }
        let _ = std::fs::remove_dir_all(&self.base);
    }
}
