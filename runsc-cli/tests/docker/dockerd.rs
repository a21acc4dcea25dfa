//! A dockerd of our own, on temporary directories.

use super::*;

/// A dockerd of our own; dropping it stops it and removes all it made.
pub(crate) struct Dockerd {
    pub(crate) docker: PathBuf,
    pub(crate) base: PathBuf,
    pub(crate) exec_root: PathBuf,
    pub(crate) data_root: PathBuf,
    pub(crate) sock: PathBuf,
    pub(crate) child: Option<Child>,
}

impl Dockerd {
    pub(crate) fn start() -> Dockerd {
        let dockerd = installed(&["/usr/sbin/dockerd", "dockerd"], "docker.io");
        // Debian's client (another `docker` may come first in PATH).
        let docker = installed(&["/usr/bin/docker", "docker"], "docker.io");
        installed(&["containerd"], "containerd");
        installed(&["containerd-shim-runc-v2"], "containerd");
        installed(&["runc"], "runc");
        let pid = std::process::id();
        let base = PathBuf::from(format!("/var/tmp/rvisor-docker-{pid}"));
        let exec_root = std::env::var_os("RVISOR_DOCKER_EXEC_ROOT")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(format!("/run/rvd{pid:07}")));
        let _ = std::fs::remove_dir_all(&base);
        let _ = std::fs::remove_dir_all(&exec_root);
        std::fs::create_dir_all(base.join("client")).unwrap();
        let data_root = base.join("data");
        let sock = base.join("docker.sock");
        let mut d = Dockerd {
            docker,
            base,
            exec_root,
            data_root,
            sock,
            child: None,
        };
        let runtime = runtime_wrapper(&d.base);
        let config = serde_json::json!({
            "runtimes": {"rvisor": {"path": runtime}},
            "bridge": "none",
            "iptables": false,
            "ip-forward": false,
            "ip-masq": false,
            "userland-proxy": false,
            "deprecated-key-path": d.base.join("key.json"),
            "log-level": "info",
        });
        std::fs::write(d.base.join("daemon.json"), config.to_string()).unwrap();
        let log = std::fs::File::create(d.base.join("dockerd.log")).unwrap();
        let child = Command::new(&dockerd)
            .arg("--config-file")
            .arg(d.base.join("daemon.json"))
            .arg("--data-root")
            .arg(&d.data_root)
            .arg("--exec-root")
            .arg(&d.exec_root)
            .arg("--pidfile")
            .arg(d.base.join("docker.pid"))
            .arg("-H")
            .arg(format!("unix://{}", d.sock.display()))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("starting dockerd");
        d.child = Some(child);
        let up = wait_until(Duration::from_secs(60), || {
            if let Some(Ok(Some(_))) = d.child.as_mut().map(Child::try_wait) {
                return true;
            }
            run(&mut d.cmd(&["version"]), None, Duration::from_secs(10)).code == Some(0)
        });
        let exited = matches!(d.child.as_mut().map(Child::try_wait), Some(Ok(Some(_))));
        assert!(
            up && !exited,
            "dockerd did not come up; its log:\n{}",
            d.log_tail(40)
        );
        d
    }

    /// `docker -H OUR_SOCKET ARGS`.
    pub(crate) fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.docker);
        c.env("DOCKER_CONFIG", self.base.join("client"))
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONTEXT")
            .arg("-H")
            .arg(format!("unix://{}", self.sock.display()))
            .args(args);
        c
    }

    pub(crate) fn docker(&self, args: &[&str]) -> Out {
        run(&mut self.cmd(args), None, T)
    }

    pub(crate) fn docker_in(&self, args: &[&str], input: &[u8]) -> Out {
        run(&mut self.cmd(args), Some(input), T)
    }

    /// `docker run --rm --runtime=RT --network=none --pull=never FLAGS... IMAGE ARGS...`
    pub(crate) fn run_rm(&self, rt: &str, flags: &[&str], image: &str, args: &[&str]) -> Out {
        self.run_rm_in(rt, flags, image, args, None)
    }

    pub(crate) fn run_rm_in(
        &self,
        rt: &str,
        flags: &[&str],
        image: &str,
        args: &[&str],
        input: Option<&[u8]>,
    ) -> Out {
        let runtime = format!("--runtime={rt}");
        let mut v = vec![
            "run",
            "--rm",
            runtime.as_str(),
            "--network=none",
            "--pull=never",
        ];
        v.extend_from_slice(flags);
        v.push(image);
        v.extend_from_slice(args);
        run(&mut self.cmd(&v), input, T)
    }

    /// Starts a detached busybox container running `script`; returns its id.
    pub(crate) fn detached(&self, rt: &str, script: &str) -> Result<Container<'_>, String> {
        let runtime = format!("--runtime={rt}");
        let o = self.docker(&[
            "run",
            "-d",
            runtime.as_str(),
            "--network=none",
            "--pull=never",
            "busybox",
            "sh",
            "-c",
            script,
        ]);
        expect_ok(&o)?;
        Ok(Container {
            d: self,
            id: o.stdout.trim().to_string(),
        })
    }

    pub(crate) fn log_len(&self) -> usize {
        std::fs::read_to_string(self.base.join("dockerd.log"))
            .map(|t| t.lines().count())
            .unwrap_or(0)
    }

    pub(crate) fn log_tail(&self, n: usize) -> String {
        let text = std::fs::read_to_string(self.base.join("dockerd.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// dockerd's errors after line `from` (but the echoes of a failed start: the stream
    /// copies and the shim log it then closes), at most 8.
    pub(crate) fn log_problems(&self, from: usize) -> Vec<String> {
        const NOISE: &[&str] = &[
            "stream copy error",
            "copy shim log",
            "cleanup: failed to delete",
        ];
        let text = std::fs::read_to_string(self.base.join("dockerd.log")).unwrap_or_default();
        text.lines()
            .skip(from)
            .filter(|l| l.contains("level=error") && !NOISE.iter().any(|n| l.contains(n)))
            .take(8)
            .map(|l| format!("      {}", clip(l)))
            .collect()
    }

    /// The pid of the containerd dockerd started.
    pub(crate) fn containerd_pid(&self) -> Option<i32> {
        std::fs::read_to_string(self.exec_root.join("containerd/containerd.pid"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
    }

    /// What the containers `ids` left on the host: processes, mounts, cgroups, runtime
    /// state, shims.
    pub(crate) fn leftovers(&self, ids: &[String]) -> Vec<String> {
        let mut found = Vec::new();
        let spare: Vec<i32> = self
            .child
            .as_ref()
            .map(|c| c.id() as i32)
            .into_iter()
            .chain(self.containerd_pid())
            .collect();
        for p in processes() {
            if spare.contains(&p.pid) || p.pid == std::process::id() as i32 {
                continue;
            }
            let in_group = ids.iter().any(|id| p.cgroup.contains(id.as_str()));
            if in_group || p.names(&self.base) || p.names(&self.exec_root) {
                found.push(format!("process {}: {}", p.pid, p.cmdline()));
            }
        }
        for m in mount_points() {
            let p = Path::new(&m);
            let ours = (p.starts_with(&self.base) && p != self.data_root)
                || p.starts_with(&self.exec_root)
                || ids.iter().any(|id| m.contains(id.as_str()));
            if ours {
                found.push(format!("mount {m}"));
            }
        }
        for id in ids {
            for d in cgroup_dirs(id) {
                found.push(format!("cgroup {}", d.display()));
            }
        }
        if let Some(root) = runtime_root(&argv_lines(&self.base)) {
            for e in std::fs::read_dir(&root).into_iter().flatten().flatten() {
                found.push(format!("runtime state {}", e.path().display()));
            }
        }
        found
    }
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        let ids = created_ids(&argv_lines(&self.base));
        if let Some(mut child) = self.child.take() {
            // SAFETY: SIGTERM to the dockerd this test started: it stops its containers and
            // its containerd.
            unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
            let gone = wait_until(Duration::from_secs(30), || {
                matches!(child.try_wait(), Ok(Some(_)))
            });
            if !gone {
                let _ = child.kill();
            }
            let _ = child.wait();
        }
        // Whatever survived: containerd, shims, sandboxes (they name our directories on
        // their command lines, or sit in our containers' cgroups).
        kill_ours(&[self.base.clone(), self.exec_root.clone()], &ids);
        std::thread::sleep(Duration::from_millis(200));
        unmount_below(&[self.base.clone(), self.exec_root.clone()]);
        for id in &ids {
            for d in cgroup_dirs(id) {
                let _ = std::fs::remove_dir(d);
            }
        }
        let _ = std::fs::remove_dir_all(&self.base);
        let _ = std::fs::remove_dir_all(&self.exec_root);
    }
}

/// A detached container; dropping it removes it.
pub(crate) struct Container<'a> {
    pub(crate) d: &'a Dockerd,
    pub(crate) id: String,
}

impl Container<'_> {
    pub(crate) fn logs(&self) -> Out {
        self.d.docker(&["logs", &self.id])
    }

    /// Waits until the container's stdout holds `text`.
    pub(crate) fn wait_for_output(&self, text: &str) -> Result<(), String> {
        if wait_until(Duration::from_secs(30), || {
            self.logs().stdout.contains(text)
        }) {
            Ok(())
        } else {
            Err(format!(
                "the container never printed {text:?}\n{}",
                self.logs()
            ))
        }
    }

    /// The exit code `docker wait` reports.
    pub(crate) fn wait(&self) -> Result<i32, String> {
        let o = self.d.docker(&["wait", &self.id]);
        expect_ok(&o)?;
        o.stdout
            .trim()
            .parse()
            .map_err(|_| format!("docker wait printed no exit code\n{o}"))
    }
}

impl Drop for Container<'_> {
    fn drop(&mut self) {
        let _ = self.d.docker(&["rm", "-f", &self.id]);
    }
}
