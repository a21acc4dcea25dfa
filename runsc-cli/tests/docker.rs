//! Real Docker (Debian's docker.io 20.10) and containerd (1.6) driving the `rvisor` binary
//! as their runtime, through containerd-shim-runc-v2, as users run it.
//!
//! Each test starts its own daemon on temporary directories (never the host's
//! /var/lib/docker, /etc/docker or containerd's socket), imports images built here (no
//! registry: a busybox root from busybox-static, and the cached Debian root of debian.rs),
//! runs its cases and stops the daemon, removing everything it made even when a case
//! fails. Every Docker case runs first with runc, as a check of the harness: a case runc
//! fails is reported as a harness problem, not an rvisor one.
//!
//! Docker's runtime is a wrapper script that logs each argv it gets, keeps each bundle's
//! config.json and, on `delete`, the bundle's log.json, then execs rvisor: a failing case
//! shows the runtime calls it caused, rvisor's logged errors and dockerd's.
//!
//! The exec root has the length of Docker's default (/var/run/docker), so limits on path
//! lengths (a unix socket's path is at most 107 bytes) bite as they do on a real host; set
//! RVISOR_DOCKER_EXEC_ROOT to run with another one.

use std::io::{Read, Write as _};
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The two tests run one after the other: their leftover checks look at the whole host.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn rvisor() -> &'static str {
    env!("CARGO_BIN_EXE_rvisor")
}

/// Docker's default capability set, as CapEff in /proc/self/status.
const DOCKER_CAPS: &str = "00000000a80425fb";

/// A long enough wait for one docker command.
const T: Duration = Duration::from_secs(90);

// ---------------------------------------------------------------------------------------
// Running commands

/// What a command did.
struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    timed_out: bool,
    what: String,
}

impl std::fmt::Display for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "    $ {}", self.what)?;
        if self.timed_out {
            writeln!(f, "    TIMED OUT (killed)")?;
        }
        writeln!(f, "    exit code: {:?}", self.code)?;
        writeln!(f, "    stdout: {:?}", clip(&self.stdout))?;
        write!(f, "    stderr: {:?}", clip(&self.stderr))
    }
}

fn clip(s: &str) -> String {
    const MAX: usize = 1500;
    if s.len() <= MAX {
        return s.to_string();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &s[..end], s.len())
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        let a = a.to_string_lossy();
        if a.is_empty() || a.contains([' ', '\'', '"', '$', ';', '|', '&', '>', '<']) {
            s.push_str(&format!(" '{}'", a.replace('\'', "'\\''")));
        } else {
            s.push(' ');
            s.push_str(&a);
        }
    }
    s
}

/// Runs `cmd` with `input` on its stdin (or /dev/null), killing it after `limit`.
fn run(cmd: &mut Command, input: Option<&[u8]>, limit: Duration) -> Out {
    let what = describe(cmd);
    cmd.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return Out {
                code: None,
                stdout: String::new(),
                stderr: format!("cannot start: {e}"),
                timed_out: false,
                what,
            }
        }
    };
    if let (Some(data), Some(mut w)) = (input, child.stdin.take()) {
        let data = data.to_vec();
        std::thread::spawn(move || {
            let _ = w.write_all(&data);
        });
    }
    let reader = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut v);
            }
            String::from_utf8_lossy(&v).into_owned()
        })
    };
    let out = reader(
        child
            .stdout
            .take()
            .map(|r| Box::new(r) as Box<dyn Read + Send>),
    );
    let err = reader(
        child
            .stderr
            .take()
            .map(|r| Box::new(r) as Box<dyn Read + Send>),
    );
    let until = Instant::now() + limit;
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break Some(st),
            Ok(None) if Instant::now() < until => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                timed_out = true;
                let _ = child.kill();
                break child.wait().ok();
            }
            Err(_) => break None,
        }
    };
    Out {
        code: status.and_then(|s| s.code()),
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
        timed_out,
        what,
    }
}

/// Polls `f` every 50 ms until it holds or `limit` passes.
fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + limit;
    loop {
        if f() {
            return true;
        }
        if Instant::now() > until {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The path of an installed program, or a failure naming the package that has it.
fn installed(candidates: &[&str], package: &str) -> PathBuf {
    for c in candidates {
        let p = Path::new(c);
        if p.is_absolute() {
            if p.exists() {
                return p.to_path_buf();
            }
            continue;
        }
        for dir in std::env::var("PATH").unwrap_or_default().split(':') {
            let p = Path::new(dir).join(c);
            if p.exists() {
                return p;
            }
        }
    }
    panic!(
        "{} is not installed: this test needs Debian's {package} package \
         (apt-get install -y docker.io containerd; .ci/run installs them)",
        candidates.join(" or ")
    );
}

/// Checks an exit code and an exact stdout.
fn expect(o: &Out, code: i32, stdout: &str) -> Result<(), String> {
    if o.code == Some(code) && o.stdout == stdout && !o.timed_out {
        Ok(())
    } else {
        Err(format!(
            "expected exit code {code} and stdout {stdout:?}\n{o}"
        ))
    }
}

fn expect_ok(o: &Out) -> Result<(), String> {
    if o.code == Some(0) && !o.timed_out {
        Ok(())
    } else {
        Err(format!("the command failed\n{o}"))
    }
}

// ---------------------------------------------------------------------------------------
// Processes, mounts, cgroups

fn proc_text(pid: &str, file: &str) -> String {
    std::fs::read(format!("/proc/{pid}/{file}"))
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// A process: its pid, command line (arguments) and cgroup file.
struct Proc {
    pid: i32,
    args: Vec<String>,
    cgroup: String,
}

impl Proc {
    fn cmdline(&self) -> String {
        clip(&self.args.join(" "))
    }

    /// Whether an argument names `dir` or a path below it (alone, or after a `=`).
    fn names(&self, dir: &Path) -> bool {
        self.args.iter().any(|a| {
            let v = a.rsplit_once('=').map_or(a.as_str(), |(_, v)| v);
            Path::new(v).starts_with(dir)
        })
    }
}

/// Every process.
fn processes() -> Vec<Proc> {
    let mut v = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Ok(pid) = name.parse::<i32>() else {
            continue;
        };
        let args = proc_text(&name, "cmdline")
            .split('\0')
            .filter(|a| !a.is_empty())
            .map(str::to_string)
            .collect();
        v.push(Proc {
            pid,
            args,
            cgroup: proc_text(&name, "cgroup"),
        });
    }
    v
}

/// Mount points (from /proc/self/mountinfo), decoded.
fn mount_points() -> Vec<String> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    text.lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|p| {
            p.replace("\\040", " ")
                .replace("\\011", "\t")
                .replace("\\012", "\n")
                .replace("\\134", "\\")
        })
        .collect()
}

/// Unmounts everything at or below any of `dirs`, deepest first.
fn unmount_below(dirs: &[PathBuf]) {
    let mut points: Vec<String> = mount_points()
        .into_iter()
        .filter(|m| dirs.iter().any(|d| Path::new(m).starts_with(d)))
        .collect();
    points.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for p in points {
        if let Ok(c) = std::ffi::CString::new(p) {
            // SAFETY: umount2 with a NUL-terminated path and a flag; it fails harmlessly on
            // a path that is not (or no longer) a mount point.
            unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
        }
    }
}

fn sigkill(pid: i32) {
    if pid > 1 && pid != std::process::id() as i32 {
        // SAFETY: kill(2) on a process this test started (a daemon, or one of its
        // descendants, found by the paths and cgroups only they use).
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
}

/// The cgroup directories whose name holds `name` (a container id: "docker/ID" with
/// Docker's cgroupfs driver, "docker-ID.scope" with systemd's), on v1 and v2.
fn cgroup_dirs(name: &str) -> Vec<PathBuf> {
    fn walk(dir: &Path, name: &str, depth: usize, found: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            if !e.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            let p = e.path();
            if e.file_name().to_string_lossy().contains(name) {
                found.push(p);
            } else if depth > 0 {
                walk(&p, name, depth - 1, found);
            }
        }
    }
    let mut found = Vec::new();
    walk(Path::new("/sys/fs/cgroup"), name, 4, &mut found);
    found
}

/// Kills every process whose command line names one of `dirs` or whose cgroup file
/// names one of `groups`.
fn kill_ours(dirs: &[PathBuf], groups: &[String]) {
    for p in processes() {
        if dirs.iter().any(|d| p.names(d)) || groups.iter().any(|g| p.cgroup.contains(g.as_str())) {
            sigkill(p.pid);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Images

/// A busybox root: busybox-static with its applet links, root and nobody, a world-writable
/// /tmp holding a file of the image.
fn busybox_root(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
    for d in ["bin", "etc", "tmp", "root", "home"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    std::fs::set_permissions(dir.join("tmp"), std::fs::Permissions::from_mode(0o1777)).unwrap();
    std::fs::copy("/bin/busybox", dir.join("bin/busybox"))
        .expect("busybox-static is installed (apt-get install busybox-static)");
    let list = Command::new("/bin/busybox").arg("--list").output().unwrap();
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        if applet != "busybox" {
            let _ = symlink("busybox", dir.join("bin").join(applet));
        }
    }
    std::fs::write(
        dir.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n",
    )
    .unwrap();
    std::fs::write(dir.join("etc/group"), "root:x:0:\nnogroup:x:65534:\n").unwrap();
    std::fs::write(dir.join("tmp/from-image"), "image\n").unwrap();
}

/// A tarball of `dir`'s contents.
fn tarball(dir: &Path, out: &Path) {
    let st = Command::new("tar")
        .arg("-C")
        .arg(dir)
        .args(["--numeric-owner", "-cf"])
        .arg(out)
        .arg(".")
        .status()
        .expect("tar");
    assert!(st.success(), "tar of {}", dir.display());
}

/// The cached Debian root of debian.rs (`debootstrap --variant=minbase --include=python3`,
/// made on first use).
fn debian_root() -> PathBuf {
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

fn sha256(path: &Path) -> String {
    let o = Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum");
    assert!(o.status.success());
    String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

/// Moves `file` into the OCI layout's blobs; returns its descriptor fields (digest, size).
fn blob(layout: &Path, file: &Path) -> (String, u64) {
    let sum = sha256(file);
    let size = std::fs::metadata(file).unwrap().len();
    std::fs::rename(file, layout.join("blobs/sha256").join(&sum)).unwrap();
    (format!("sha256:{sum}"), size)
}

/// An OCI image archive of the one-layer image `root`, named `name`, for
/// `ctr image import`.
fn oci_archive(root: &Path, work: &Path, name: &str, out: &Path) {
    let layout = work.join("oci-layout");
    let _ = std::fs::remove_dir_all(&layout);
    std::fs::create_dir_all(layout.join("blobs/sha256")).unwrap();
    let layer = work.join("layer.tar");
    tarball(root, &layer);
    let (layer_digest, layer_size) = blob(&layout, &layer);
    let config = serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "Cmd": ["sh"],
        },
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
    });
    let config_file = work.join("config.json");
    std::fs::write(&config_file, config.to_string()).unwrap();
    let (config_digest, config_size) = blob(&layout, &config_file);
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": config_digest,
            "size": config_size,
        },
        "layers": [{
            "mediaType": "application/vnd.oci.image.layer.v1.tar",
            "digest": layer_digest,
            "size": layer_size,
        }],
    });
    let manifest_file = work.join("manifest.json");
    std::fs::write(&manifest_file, manifest.to_string()).unwrap();
    let (manifest_digest, manifest_size) = blob(&layout, &manifest_file);
    let tag = name.rsplit(':').next().unwrap_or("latest");
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest_digest,
            "size": manifest_size,
            "platform": {"architecture": "amd64", "os": "linux"},
            "annotations": {
                "io.containerd.image.name": name,
                "org.opencontainers.image.ref.name": tag,
            },
        }],
    });
    std::fs::write(layout.join("index.json"), index.to_string()).unwrap();
    std::fs::write(
        layout.join("oci-layout"),
        r#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
    tarball(&layout, out);
    let _ = std::fs::remove_dir_all(&layout);
}

// ---------------------------------------------------------------------------------------
// The runtime wrapper

/// Writes the runtime script Docker and containerd are given: it logs each argv to
/// `base/argv.log`, keeps each bundle's config.json in `base/configs/ID.json` and, on
/// `delete`, the bundle's log.json in `base/logs/ID.json`, then execs rvisor.
fn runtime_wrapper(base: &Path) -> PathBuf {
    for d in ["configs", "logs"] {
        std::fs::create_dir_all(base.join(d)).unwrap();
    }
    let b = base.display();
    let script = format!(
        r#"#!/bin/sh
printf '%s\n' "$*" >> '{b}/argv.log'
prev=
log=
for a in "$@"; do
    case "$prev" in
        --log) log=$a ;;
        --bundle) cp "$a/config.json" "{b}/configs/$(basename "$a").json" 2>/dev/null ;;
    esac
    prev=$a
done
case " $* " in
    *" delete "*) [ -n "$log" ] && cp "$log" "{b}/logs/$(basename "$(dirname "$log")").json" 2>/dev/null ;;
esac
exec '{rv}' "$@"
"#,
        rv = rvisor()
    );
    let path = base.join("rvisor-runtime");
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// The lines of the argv log.
fn argv_lines(base: &Path) -> Vec<String> {
    std::fs::read_to_string(base.join("argv.log"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// The container ids `create` was called for in `lines`.
fn created_ids(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .filter(|l| l.split_whitespace().any(|w| w == "create"))
        .filter_map(|l| l.split_whitespace().last().map(str::to_string))
        .collect()
}

/// The value of `--root` in the runtime calls, if any.
fn runtime_root(lines: &[String]) -> Option<PathBuf> {
    lines.iter().find_map(|l| {
        let mut w = l.split_whitespace();
        while let Some(a) = w.next() {
            if a == "--root" {
                return w.next().map(PathBuf::from);
            }
        }
        None
    })
}

/// The argv lines for a report.
fn summarize_argv(lines: &[String]) -> String {
    lines
        .iter()
        .map(|l| format!("      rvisor {}", cut_ids(l, false)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The messages rvisor logged at `levels` in the bundle log.json files the wrapper kept
/// (of container `id`, or of all), each once, with container ids and our directory cut
/// out so that the same message about two containers is one.
fn rvisor_log(base: &Path, id: Option<&str>, levels: &[&str]) -> Vec<String> {
    let files: Vec<PathBuf> = match id {
        Some(id) => vec![base.join("logs").join(format!("{id}.json"))],
        None => std::fs::read_dir(base.join("logs"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .collect(),
    };
    let prefix = base.display().to_string();
    let mut msgs = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f).unwrap_or_default();
        for l in text.lines() {
            let v: serde_json::Value = serde_json::from_str(l).unwrap_or_default();
            let level = v["level"].as_str().unwrap_or_default().to_ascii_lowercase();
            if !levels.contains(&level.as_str()) {
                continue;
            }
            let msg = v["msg"]
                .as_str()
                .or(v["message"].as_str())
                .unwrap_or_default();
            let msg = clip(&cut_ids(msg, true).replace(&prefix, "$TMP"));
            if !msgs.contains(&msg) {
                msgs.push(msg);
            }
        }
    }
    msgs
}

/// `text` with each 64-hex container id cut to its first 12 digits, or (`hide`) replaced
/// by `<id>`.
fn cut_ids(text: &str, hide: bool) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(|c: char| c.is_ascii_hexdigit()) {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let n = rest
            .find(|c: char| !c.is_ascii_hexdigit())
            .unwrap_or(rest.len());
        if n == 64 && hide {
            out.push_str("<id>");
        } else if n == 64 {
            out.push_str(&rest[..12]);
            out.push('…');
        } else {
            out.push_str(&rest[..n]);
        }
        rest = &rest[n..];
    }
    out.push_str(rest);
    out
}

// ---------------------------------------------------------------------------------------
// dockerd

/// A dockerd of our own; dropping it stops it and removes all it made.
struct Dockerd {
    docker: PathBuf,
    base: PathBuf,
    exec_root: PathBuf,
    data_root: PathBuf,
    sock: PathBuf,
    child: Option<Child>,
}

impl Dockerd {
    fn start() -> Dockerd {
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
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.docker);
        c.env("DOCKER_CONFIG", self.base.join("client"))
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONTEXT")
            .arg("-H")
            .arg(format!("unix://{}", self.sock.display()))
            .args(args);
        c
    }

    fn docker(&self, args: &[&str]) -> Out {
        run(&mut self.cmd(args), None, T)
    }

    fn docker_in(&self, args: &[&str], input: &[u8]) -> Out {
        run(&mut self.cmd(args), Some(input), T)
    }

    /// `docker run --rm --runtime=RT --network=none --pull=never FLAGS... IMAGE ARGS...`
    fn run_rm(&self, rt: &str, flags: &[&str], image: &str, args: &[&str]) -> Out {
        self.run_rm_in(rt, flags, image, args, None)
    }

    fn run_rm_in(
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
    fn detached(&self, rt: &str, script: &str) -> Result<Container<'_>, String> {
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

    fn log_len(&self) -> usize {
        std::fs::read_to_string(self.base.join("dockerd.log"))
            .map(|t| t.lines().count())
            .unwrap_or(0)
    }

    fn log_tail(&self, n: usize) -> String {
        let text = std::fs::read_to_string(self.base.join("dockerd.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// dockerd's errors after line `from` (but the echoes of a failed start: the stream
    /// copies and the shim log it then closes), at most 8.
    fn log_problems(&self, from: usize) -> Vec<String> {
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
    fn containerd_pid(&self) -> Option<i32> {
        std::fs::read_to_string(self.exec_root.join("containerd/containerd.pid"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
    }

    /// What the containers `ids` left on the host: processes, mounts, cgroups, runtime
    /// state, shims.
    fn leftovers(&self, ids: &[String]) -> Vec<String> {
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
struct Container<'a> {
    d: &'a Dockerd,
    id: String,
}

impl Container<'_> {
    fn logs(&self) -> Out {
        self.d.docker(&["logs", &self.id])
    }

    /// Waits until the container's stdout holds `text`.
    fn wait_for_output(&self, text: &str) -> Result<(), String> {
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
    fn wait(&self) -> Result<i32, String> {
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

// ---------------------------------------------------------------------------------------
// The Docker cases

type Case = fn(&Dockerd, &str) -> Result<(), String>;

const CASES: &[(&str, Case)] = &[
    ("exit code and output", exit_code),
    ("stdin (-i)", stdin),
    ("environment (-e)", env),
    ("working directory (-w)", workdir),
    ("user (-u 1000:1000)", user),
    ("docker exec", exec),
    ("docker top", top),
    ("docker stop: SIGTERM reaches a trap", stop),
    ("docker kill -s", kill_signal),
    ("docker logs: stdout and stderr", logs),
    ("docker rm -f of a running container", rm_force),
    ("terminal (-t)", tty),
    ("20 docker runs in parallel", parallel),
    // Beyond the first list: what most images expect of Docker's spec.
    (
        "Docker's bind mounts: /etc/hostname, /etc/hosts, /etc/resolv.conf",
        etc_files,
    ),
    ("Docker's /dev (a tmpfs) has the standard devices", dev),
    ("Docker's capability set", capabilities),
    ("the image's own /tmp", image_tmp),
    ("host bind mount (-v)", volume),
    ("Debian image: bash and python3", debian),
];

fn exit_code(d: &Dockerd, rt: &str) -> Result<(), String> {
    let o = d.run_rm(
        rt,
        &[],
        "busybox",
        &["sh", "-c", "echo out; echo err >&2; exit 3"],
    );
    expect(&o, 3, "out\n")?;
    if o.stderr != "err\n" {
        return Err(format!("expected stderr \"err\\n\"\n{o}"));
    }
    Ok(())
}

fn stdin(d: &Dockerd, rt: &str) -> Result<(), String> {
    let o = d.run_rm_in(
        rt,
        &["-i"],
        "busybox",
        &["sh", "-c", "tr a-z A-Z; echo end"],
        Some(b"hello stdin\nsecond line\n"),
    );
    expect(&o, 0, "HELLO STDIN\nSECOND LINE\nend\n")
}

fn env(d: &Dockerd, rt: &str) -> Result<(), String> {
    let o = d.run_rm(
        rt,
        &["-e", "FOO=bar baz", "-e", "EMPTY="],
        "busybox",
        &["sh", "-c", "echo \"[$FOO][$EMPTY][$PATH][$HOME]\""],
    );
    expect(
        &o,
        0,
        "[bar baz][][/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin][/root]\n",
    )
}

fn workdir(d: &Dockerd, rt: &str) -> Result<(), String> {
    let o = d.run_rm(
        rt,
        &["-w", "/srv/work"],
        "busybox",
        &["sh", "-c", "pwd; echo x > f && ls"],
    );
    expect(&o, 0, "/srv/work\nf\n")
}

fn user(d: &Dockerd, rt: &str) -> Result<(), String> {
    let o = d.run_rm(
        rt,
        &["-u", "1000:1000"],
        "busybox",
        &[
            "sh",
            "-c",
            "id; echo x > /tmp/mine && stat -c %u:%g /tmp/mine; \
             echo x > /root/f 2>/dev/null || echo denied",
        ],
    );
    expect(&o, 0, "uid=1000 gid=1000 groups=1000\n1000:1000\ndenied\n")
}

fn exec(d: &Dockerd, rt: &str) -> Result<(), String> {
    let c = d.detached(rt, "echo ready; while :; do sleep 0.1; done")?;
    c.wait_for_output("ready")?;
    let o = d.docker(&["exec", &c.id, "sh", "-c", "echo from-exec; exit 4"]);
    expect(&o, 4, "from-exec\n")?;
    let o = d.docker_in(&["exec", "-i", &c.id, "cat"], b"piped\n");
    expect(&o, 0, "piped\n")?;
    let o = d.docker(&[
        "exec",
        "-u",
        "1000",
        "-w",
        "/tmp",
        &c.id,
        "sh",
        "-c",
        "id -u; pwd",
    ]);
    expect(&o, 0, "1000\n/tmp\n")
}

fn top(d: &Dockerd, rt: &str) -> Result<(), String> {
    let c = d.detached(rt, "echo ready; exec sleep 4242")?;
    c.wait_for_output("ready")?;
    let o = d.docker(&["top", &c.id]);
    expect_ok(&o)?;
    let cmds: Vec<&str> = o.stdout.lines().skip(1).collect();
    if cmds.len() == 1 && cmds[0].ends_with("sleep 4242") {
        Ok(())
    } else {
        Err(format!(
            "expected one process, `sleep 4242`, in docker top\n{o}"
        ))
    }
}

fn stop(d: &Dockerd, rt: &str) -> Result<(), String> {
    let c = d.detached(
        rt,
        "trap 'echo got TERM; exit 7' TERM; echo ready; while :; do sleep 0.1; done",
    )?;
    c.wait_for_output("ready")?;
    let t0 = Instant::now();
    let o = d.docker(&["stop", "-t", "30", &c.id]);
    expect_ok(&o)?;
    let took = t0.elapsed();
    if took > Duration::from_secs(20) {
        return Err(format!(
            "docker stop took {took:?}: SIGTERM did not end the container, SIGKILL did"
        ));
    }
    let code = c.wait()?;
    let logs = c.logs();
    if code != 7 || !logs.stdout.contains("got TERM") {
        return Err(format!(
            "expected exit code 7 and \"got TERM\", got exit code {code}\n{logs}"
        ));
    }
    Ok(())
}

fn kill_signal(d: &Dockerd, rt: &str) -> Result<(), String> {
    let c = d.detached(
        rt,
        "trap 'echo got USR1' USR1; trap 'echo got HUP; exit 9' HUP; echo ready; \
         while :; do sleep 0.1; done",
    )?;
    c.wait_for_output("ready")?;
    expect_ok(&d.docker(&["kill", "-s", "USR1", &c.id]))?;
    c.wait_for_output("got USR1")?;
    expect_ok(&d.docker(&["kill", "-s", "HUP", &c.id]))?;
    let code = c.wait()?;
    if code != 9 {
        return Err(format!(
            "expected exit code 9 after SIGHUP, got {code}\n{}",
            c.logs()
        ));
    }
    Ok(())
}

fn logs(d: &Dockerd, rt: &str) -> Result<(), String> {
    let c = d.detached(rt, "echo to-out; echo to-err >&2; exit 5")?;
    let code = c.wait()?;
    let o = c.logs();
    if code == 5 && o.stdout == "to-out\n" && o.stderr == "to-err\n" {
        Ok(())
    } else {
        Err(format!(
            "expected exit code 5, stdout \"to-out\\n\", stderr \"to-err\\n\"; exit code {code}\n{o}"
        ))
    }
}

fn rm_force(d: &Dockerd, rt: &str) -> Result<(), String> {
    let c = d.detached(rt, "echo ready; while :; do sleep 0.1; done")?;
    c.wait_for_output("ready")?;
    let o = d.docker(&["rm", "-f", &c.id]);
    expect_ok(&o)?;
    let o = d.docker(&["ps", "-a", "-q", "--no-trunc"]);
    if o.stdout.contains(&c.id) {
        return Err(format!("the container is still listed\n{o}"));
    }
    let gone = wait_until(Duration::from_secs(10), || {
        processes().iter().all(|p| !p.cgroup.contains(&c.id))
    });
    if !gone {
        return Err("processes of the container survive docker rm -f".into());
    }
    Ok(())
}

fn tty(d: &Dockerd, rt: &str) -> Result<(), String> {
    let o = d.run_rm(rt, &["-t"], "busybox", &["tty"]);
    if o.code == Some(0) && o.stdout.trim_end() == "/dev/pts/0" {
        Ok(())
    } else {
        Err(format!("expected /dev/pts/0\n{o}"))
    }
}

fn parallel(d: &Dockerd, rt: &str) -> Result<(), String> {
    let outs: Vec<(usize, Out)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..20)
            .map(|i| {
                s.spawn(move || {
                    let script = format!("echo par-{i}; exit {}", i % 5);
                    (i, d.run_rm(rt, &[], "busybox", &["sh", "-c", &script]))
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let bad: Vec<String> = outs
        .iter()
        .filter_map(|(i, o)| expect(o, (i % 5) as i32, &format!("par-{i}\n")).err())
        .collect();
    if outs.len() != 20 || !bad.is_empty() {
        return Err(format!(
            "{} of 20 runs went wrong:\n{}",
            bad.len() + 20 - outs.len(),
            bad.join("\n")
        ));
    }
    Ok(())
}

fn etc_files(d: &Dockerd, rt: &str) -> Result<(), String> {
    let o = d.run_rm(
        rt,
        &["--hostname", "myhost"],
        "busybox",
        &[
            "sh",
            "-c",
            "hostname; cat /etc/hostname; grep -c localhost /etc/hosts; \
             grep -q nameserver /etc/resolv.conf && echo has-nameserver",
        ],
    );
    expect(&o, 0, "myhost\nmyhost\n2\nhas-nameserver\n")
}

fn dev(d: &Dockerd, rt: &str) -> Result<(), String> {
    let o = d.run_rm(
        rt,
        &[],
        "busybox",
        &[
            "sh",
            "-c",
            "for n in null zero full random urandom tty; do \
               test -c /dev/$n || echo no char device /dev/$n; \
               ls /dev | grep -qx $n || echo /dev/$n not listed; done; \
             for l in fd stdin stdout stderr ptmx; do test -L /dev/$l || echo no link /dev/$l; done; \
             test -d /dev/pts -a -d /dev/shm -a -d /dev/mqueue || echo missing dirs; \
             echo x > /dev/null; test -c /dev/null || echo /dev/null replaced by a file; \
             echo checked",
        ],
    );
    expect(&o, 0, "checked\n")
}

fn capabilities(d: &Dockerd, rt: &str) -> Result<(), String> {
    let o = d.run_rm(
        rt,
        &[],
        "busybox",
        &["sh", "-c", "grep -E '^Cap(Eff|Bnd)' /proc/self/status"],
    );
    expect(
        &o,
        0,
        &format!("CapEff:\t{DOCKER_CAPS}\nCapBnd:\t{DOCKER_CAPS}\n"),
    )?;
    let o = d.run_rm(
        rt,
        &["--cap-drop=ALL"],
        "busybox",
        &[
            "sh",
            "-c",
            "grep '^CapEff' /proc/self/status; chown 1 /tmp || echo denied",
        ],
    );
    expect(&o, 0, "CapEff:\t0000000000000000\ndenied\n")
}

fn image_tmp(d: &Dockerd, rt: &str) -> Result<(), String> {
    let o = d.run_rm(
        rt,
        &[],
        "busybox",
        &["sh", "-c", "cat /tmp/from-image; stat -c %a /tmp"],
    );
    expect(&o, 0, "image\n1777\n")
}

fn volume(d: &Dockerd, rt: &str) -> Result<(), String> {
    let dir = d.base.join(format!("volume-{rt}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("in"), "from-host\n").unwrap();
    let spec = format!("{}:/data", dir.display());
    let o = d.run_rm(
        rt,
        &["-v", &spec],
        "busybox",
        &["sh", "-c", "cat /data/in; echo from-container > /data/out"],
    );
    expect(&o, 0, "from-host\n")?;
    let out = std::fs::read_to_string(dir.join("out")).unwrap_or_default();
    if out != "from-container\n" {
        return Err(format!(
            "the container's write did not reach the host directory: {out:?}"
        ));
    }
    Ok(())
}

fn debian(d: &Dockerd, rt: &str) -> Result<(), String> {
    let o = d.run_rm(
        rt,
        &[],
        "debian:bookworm",
        &[
            "bash",
            "-c",
            "python3 -c 'print(6 * 7)'; cut -d. -f1 /etc/debian_version; \
             a=(x y z); echo ${#a[@]}; dpkg -s python3 | grep -c '^Status: install ok'",
        ],
    );
    expect(&o, 0, "42\n12\n3\n1\n")
}

/// Imports the busybox image and the Debian one.
fn import_images(d: &Dockerd) {
    let root = d.base.join("busybox-root");
    busybox_root(&root);
    let tar = d.base.join("busybox.tar");
    tarball(&root, &tar);
    let o = d.docker(&[
        "import",
        "-c",
        "CMD [\"sh\"]",
        tar.to_str().unwrap(),
        "busybox:latest",
    ]);
    assert_eq!(o.code, Some(0), "docker import busybox\n{o}");
    let deb = debian_root();
    let mut tar = Command::new("tar")
        .arg("-C")
        .arg(&deb)
        .args(["--numeric-owner", "--exclude=./.rvisor-complete", "-c", "."])
        .stdout(Stdio::piped())
        .spawn()
        .expect("tar");
    let mut import = d.cmd(&["import", "-c", "CMD [\"bash\"]", "-", "debian:bookworm"]);
    import.stdin(Stdio::from(tar.stdout.take().unwrap()));
    let o = import.output().expect("docker import");
    let _ = tar.wait();
    assert!(
        o.status.success(),
        "docker import debian: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn docker_runs_containers_on_rvisor() {
    let _serial = serial();
    let d = Dockerd::start();
    import_images(&d);
    let mut failures = Vec::new();
    let mut summary = Vec::new();
    for (name, case) in CASES {
        // runc first: if it fails, the harness (or the host) is at fault.
        if let Err(e) = case(&d, "runc") {
            summary.push(format!("HARNESS  {name}"));
            failures.push(format!(
                "case `{name}` fails with runc too (a harness or host problem):\n  {e}"
            ));
            continue;
        }
        let argv_from = argv_lines(&d.base).len();
        let log_from = d.log_len();
        let t0 = Instant::now();
        let r = case(&d, "rvisor");
        let took = t0.elapsed();
        match r {
            Ok(()) => summary.push(format!("ok       {name} ({took:.1?})")),
            Err(e) => {
                summary.push(format!("FAIL     {name}"));
                let calls = argv_lines(&d.base).split_off(argv_from);
                let mut text = format!("case `{name}` fails with rvisor:\n  {e}");
                if !calls.is_empty() {
                    text.push_str(&format!("\n    runtime calls:\n{}", summarize_argv(&calls)));
                }
                for id in created_ids(&calls) {
                    for e in rvisor_log(&d.base, Some(&id), &["error"]) {
                        text.push_str(&format!("\n    rvisor's log.json: error: {e}"));
                    }
                }
                let problems = d.log_problems(log_from);
                if !problems.is_empty() {
                    text.push_str(&format!("\n    dockerd:\n{}", problems.join("\n")));
                }
                failures.push(text);
            }
        }
    }
    // Nothing of any rvisor container may outlive it.
    let lines = argv_lines(&d.base);
    let ids = created_ids(&lines);
    let mut left = Vec::new();
    wait_until(Duration::from_secs(15), || {
        left = d.leftovers(&ids);
        left.is_empty()
    });
    match runtime_root(&lines) {
        Some(root) if root.starts_with(&d.exec_root) => {}
        other => left.push(format!(
            "the runtime's --root is {other:?}, not under the exec root {}",
            d.exec_root.display()
        )),
    }
    if left.is_empty() {
        summary.push(format!(
            "ok       nothing left behind by {} rvisor containers",
            ids.len()
        ));
    } else {
        summary.push("FAIL     nothing left behind".into());
        failures.push(format!(
            "rvisor containers left behind:\n  {}",
            left.join("\n  ")
        ));
    }
    let warnings = rvisor_log(&d.base, None, &["warn", "warning"]);
    let warnings = format!(
        "warnings in rvisor's log.json files (all containers, each once):\n  {}",
        warnings.join("\n  ")
    );
    println!("docker cases:\n  {}\n{warnings}", summary.join("\n  "));
    assert!(
        failures.is_empty(),
        "{} of {} docker checks fail:\n  {}\n\n{}\n\n{warnings}",
        failures.len(),
        CASES.len() + 1,
        summary.join("\n  "),
        failures.join("\n\n")
    );
}

// ---------------------------------------------------------------------------------------
// containerd

/// A containerd of our own; dropping it stops it and removes all it made.
struct Containerd {
    ctr: PathBuf,
    base: PathBuf,
    sock: PathBuf,
    ns: String,
    child: Option<Child>,
}

impl Containerd {
    fn start() -> Containerd {
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
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.ctr);
        c.arg("-a")
            .arg(&self.sock)
            .arg("-n")
            .arg(&self.ns)
            .args(args);
        c
    }

    fn ctr(&self, args: &[&str]) -> Out {
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

#[test]
fn containerd_runs_a_container_on_rvisor() {
    let _serial = serial();
    let c = Containerd::start();
    let runtime = runtime_wrapper(&c.base);
    let root = c.base.join("busybox-root");
    busybox_root(&root);
    let archive = c.base.join("busybox-oci.tar");
    oci_archive(&root, &c.base, "docker.io/library/busybox:latest", &archive);
    let o = c.ctr(&["image", "import", archive.to_str().unwrap()]);
    assert_eq!(o.code, Some(0), "ctr image import\n{o}");

    let image = "docker.io/library/busybox:latest";
    let script = "echo hi; exit 3";
    // runc: a check of the harness.
    let fifo_dir = c.base.join("fifo");
    let fifo_dir = fifo_dir.to_str().unwrap();
    let runc_root = c.base.join("runc-root-runc");
    let o = c.ctr(&[
        "run",
        "--rm",
        "--fifo-dir",
        fifo_dir,
        "--runc-root",
        runc_root.to_str().unwrap(),
        image,
        "id0",
        "sh",
        "-c",
        script,
    ]);
    assert!(
        o.code == Some(3) && o.stdout == "hi\n",
        "with runc (a harness or host problem)\n{o}"
    );
    let runc_root = c.base.join("runc-root");
    let o = c.ctr(&[
        "run",
        "--rm",
        "--fifo-dir",
        fifo_dir,
        "--runc-binary",
        runtime.to_str().unwrap(),
        "--runc-root",
        runc_root.to_str().unwrap(),
        image,
        "id1",
        "sh",
        "-c",
        script,
    ]);
    let lines = argv_lines(&c.base);
    let mut failures = Vec::new();
    if o.code != Some(3) || o.stdout != "hi\n" {
        let mut text = format!("expected exit code 3 and stdout \"hi\\n\"\n{o}");
        text.push_str(&format!("\n    runtime calls:\n{}", summarize_argv(&lines)));
        for e in rvisor_log(&c.base, Some("id1"), &["error", "warn", "warning"]) {
            text.push_str(&format!("\n    rvisor's log.json: {e}"));
        }
        failures.push(text);
    }
    let left = c.ctr(&["containers", "ls", "-q"]);
    if !left.stdout.trim().is_empty() {
        failures.push(format!("containerd still lists a container\n{left}"));
    }
    let group = format!("/{}/id1", c.ns);
    let mut left = Vec::new();
    wait_until(Duration::from_secs(10), || {
        left.clear();
        for p in processes() {
            if p.cgroup.contains(&group) {
                left.push(format!("process {}: {}", p.pid, p.cmdline()));
            }
        }
        for d in cgroup_dirs(&c.ns) {
            if d.join("id1").exists() {
                left.push(format!("cgroup {}", d.join("id1").display()));
            }
        }
        for e in std::fs::read_dir(runc_root.join(&c.ns))
            .into_iter()
            .flatten()
            .flatten()
        {
            left.push(format!("runtime state {}", e.path().display()));
        }
        left.is_empty()
    });
    if !left.is_empty() {
        failures.push(format!("left behind:\n  {}", left.join("\n  ")));
    }
    println!("runtime calls:\n{}", summarize_argv(&lines));
    assert!(
        failures.is_empty(),
        "ctr run with rvisor:\n{}",
        failures.join("\n\n")
    );
}
