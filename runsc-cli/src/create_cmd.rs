//! `rvisor create` and `rvisor run`: make a container's sandbox from a bundle, stopped
//! before its process runs (`create`), or run it to the end (`run`).

use std::io::{BufRead as _, Write as _};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};

use crate::cgroup;
use crate::cli::{Args, Global};
use crate::state::Root;

const VALUED: &[&str] = &[
    "bundle",
    "b",
    "pid-file",
    "console-socket",
    "pidfd-socket",
    "preserve-fds",
];
const FLAGS: &[&str] = &[
    "no-pivot",
    "no-new-keyring",
    "detach",
    "d",
    "keep",
    "no-subreaper",
];

/// A pipe whose write end the child inherits.
fn pipe() -> anyhow::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills two descriptors on success.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error()).context("creating a pipe");
    }
    // SAFETY: fresh descriptors we own.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Writes `text` to `path` atomically (a temporary file renamed over it).
pub fn write_atomic(path: &Path, text: &str) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("pid")
    ));
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// The cgroup limits of the spec.
pub(crate) fn resources(r: Option<&crate::oci::Resources>) -> cgroup::Resources {
    let mut c = cgroup::Resources::default();
    let Some(r) = r else { return c };
    if let Some(m) = &r.memory {
        c.memory_limit = m.limit;
        c.memory_reservation = m.reservation;
        c.memory_swap = m.swap;
        c.memory_swappiness = m.swappiness;
        c.disable_oom_killer = m.disable_oom_killer;
    }
    if let Some(p) = &r.cpu {
        c.cpu_shares = p.shares;
        c.cpu_quota = p.quota;
        c.cpu_period = p.period;
        c.cpus = p.cpus.clone();
        c.mems = p.mems.clone();
    }
    if let Some(p) = &r.pids {
        c.pids_limit = p.limit;
    }
    c.devices = r
        .devices
        .iter()
        .map(|d| cgroup::DeviceRule {
            allow: d.allow,
            kind: d.kind.clone(),
            major: d.major,
            minor: d.minor,
            access: d.access.clone(),
        })
        .collect();
    c
}

/// Makes the sandbox of `id` from `bundle`: returns the boot process once it is ready (or
/// removes what was made and fails with its reason). `detach`: the boot process starts a
/// session of its own and outlives us. A process with a terminal gets one (`console`):
/// its master goes to `console_socket`, or it is our own (whose settings come back when
/// the `RawMode` returned is dropped).
fn create(
    g: &Global,
    id: &str,
    bundle: &Path,
    detach: bool,
    console_socket: Option<&str>,
) -> anyhow::Result<(std::process::Child, Option<crate::console::RawMode>)> {
    // The platform and the spec are checked here first, so that their errors come from
    // `create` itself.
    crate::do_cmd::check_platform(&g.platform)?;
    let b = crate::oci::load(bundle)?;
    for w in &b.warnings {
        g.log("warning", &w.to_string());
    }
    let root = Root::new(&g.root);
    root.reserve(id)?;
    let mut cg: Option<cgroup::Cgroup> = None;
    let made = (|| {
        let linux = b.spec.linux.as_ref();
        let mut res = resources(linux.and_then(|l| l.resources.as_ref()));
        res.sandbox_devices = cgroup::sandbox_devices(g.platform == "kvm");
        let c = cgroup::Cgroup::create(
            linux.and_then(|l| l.cgroups_path.as_deref()).unwrap_or(""),
            id,
            g.systemd_cgroup,
            &res,
        )?;
        // The sandbox process joins the cgroup before it runs (and so before it makes the
        // gofer and the stub processes, which inherit it): "0" names the writer.
        let procs: Vec<std::ffi::CString> = c
            .paths()
            .iter()
            .filter_map(|p| std::ffi::CString::new(format!("{p}/cgroup.procs")).ok())
            .collect();
        cg = Some(c);
        let p = b.spec.process.as_ref();
        let term = crate::console::for_process(
            p.is_some_and(|p| p.terminal),
            p.and_then(|p| p.console_size),
            console_socket,
            detach,
        )?;
        let (r, w) = pipe()?;
        // The sandbox process's user namespace: it says when it made one, we map it and
        // answer on this pipe (jail::UserNsHandshake).
        let (userns_r, userns_w) = pipe()?;
        let exe = std::env::current_exe().context("finding the rvisor binary")?;
        let mut cmd = std::process::Command::new(exe);
        if g.debug {
            cmd.arg("--debug");
        }
        // The sandbox logs where the runtime logs, never on the container's stderr.
        if let Some(l) = &g.log {
            cmd.arg("--log").arg(l);
            if g.log_json {
                cmd.args(["--log-format", "json"]);
            }
        }
        cmd.arg("--platform").arg(&g.platform);
        if g.overlay_none {
            cmd.args(["--overlay", "none"]);
        }
        cmd.arg("boot")
            .arg("--root")
            .arg(&g.root)
            .arg("--id")
            .arg(id)
            .arg("--bundle")
            .arg(&b.dir)
            .arg("--ready-fd")
            .arg("3")
            .arg("--userns-fd")
            .arg("5");
        let mut place = vec![(w.as_raw_fd(), 3), (userns_r.as_raw_fd(), 5)];
        if let Some(t) = &term {
            cmd.args(["--console-fd", "4"]);
            place.push((t.fd.as_raw_fd(), 4));
            // The container's stdio is the terminal; ours is not kept (containerd's go-runc
            // reads our output to its end when it gives us no stdio).
            if t.restore.is_none() {
                cmd.stdin(std::process::Stdio::null())
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null());
            }
        }
        // SAFETY: between fork and exec only async-signal-safe calls (setsid, open, write,
        // close, dup2, fcntl) run, on descriptors this process owns and C strings made
        // before the fork.
        unsafe {
            cmd.pre_exec(move || {
                if detach && libc::setsid() < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                for p in &procs {
                    let fd = libc::open(p.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
                    if fd < 0 || libc::write(fd, b"0".as_ptr().cast(), 1) != 1 {
                        return Err(std::io::Error::last_os_error());
                    }
                    libc::close(fd);
                }
                crate::console::place_fds(&place)
            });
        }
        // The sandbox process is the init of a pid namespace of its own.
        let mut child = crate::jail::spawn_in_new_pid_ns(|| cmd.spawn())?;
        drop((w, userns_r));
        // The sandbox holds the host terminal now: the caller's master reads EIO once the
        // sandbox lets go of it.
        let restore = term.and_then(|t| t.restore);
        // "userns" first, when the sandbox made its user namespace; then one line: "ok",
        // or "error: why". Not to EOF: the sandbox keeps its end open.
        let mut lines = std::io::BufReader::new(std::fs::File::from(r));
        let mut msg = String::new();
        let _ = lines.read_line(&mut msg);
        if msg == "userns\n" {
            let mapped = crate::jail::map_sandbox_userns(child.id());
            let answer: &[u8] = if mapped.is_ok() { b"1" } else { b"0" };
            let _ = std::fs::File::from(userns_w).write_all(answer);
            if let Err(e) = mapped {
                let _ = child.kill();
                let _ = child.wait();
                return Err(e.into());
            }
            msg.clear();
            let _ = lines.read_line(&mut msg);
        } else {
            drop(userns_w);
        }
        match msg.lines().next() {
            Some("ok") => {
                let mut st = root.load(id)?;
                st.cgroup = cg.as_ref().map(|c| c.paths()).unwrap_or_default();
                st.hooks = b.spec.hooks.clone().unwrap_or_default();
                root.save(&st)?;
                // On the host, once the sandbox exists and before its process runs. (runc
                // runs createContainer in the container's namespaces; here the sandbox has
                // no host namespaces to enter.)
                let state = crate::lifecycle::state_json(&st);
                let h = &st.hooks;
                let run = crate::hooks::run_hooks("prestart", &h.prestart, &state)
                    .and_then(|()| {
                        crate::hooks::run_hooks("createRuntime", &h.create_runtime, &state)
                    })
                    .and_then(|()| {
                        crate::hooks::run_hooks("createContainer", &h.create_container, &state)
                    });
                if let Err(e) = run {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(e);
                }
                Ok((child, restore))
            }
            Some(line) => {
                let _ = child.wait();
                bail!("{}", line.strip_prefix("error: ").unwrap_or(line))
            }
            None => {
                let st = child.wait()?;
                bail!("the sandbox exited before it was ready ({st})")
            }
        }
    })();
    if made.is_err() {
        if let Some(c) = cg {
            let _ = c.destroy(true);
        }
        root.remove(id);
    }
    made
}

/// `create --bundle DIR [--pid-file FILE] [--console-socket SOCK] ID`.
pub fn create_cmd(g: &Global, args: &[String]) -> anyhow::Result<()> {
    let a = Args::parse(args, VALUED, FLAGS)?;
    let id = a.id("create")?;
    let bundle = bundle_dir(&a)?;
    let (child, _) = create(g, id, &bundle, true, a.value("console-socket"))?;
    if let Some(p) = a.value("pid-file") {
        if let Err(e) = write_atomic(Path::new(p), &child.id().to_string()) {
            let _ = crate::lifecycle::destroy(g, id, true);
            return Err(e);
        }
    }
    Ok(())
}

/// The bundle: `--bundle`, else the working directory.
fn bundle_dir(a: &Args) -> anyhow::Result<PathBuf> {
    match a.value("bundle").or(a.value("b")) {
        Some(b) => Ok(PathBuf::from(b)),
        None => std::env::current_dir().context("the working directory"),
    }
}

/// `run [--bundle DIR] [--detach] [--pid-file FILE] [--console-socket SOCK] ID`: create
/// and start; without `--detach`, wait for the container's end and delete it, exiting with
/// its code (a process with a terminal then runs on ours).
pub fn run_cmd(g: &Global, args: &[String]) -> anyhow::Result<i32> {
    let a = Args::parse(args, VALUED, FLAGS)?;
    let id = a.id("run")?;
    let detach = a.flag("detach") || a.flag("d");
    let bundle = bundle_dir(&a)?;
    let (mut child, _restore) = create(g, id, &bundle, detach, a.value("console-socket"))?;
    if let Some(p) = a.value("pid-file") {
        write_atomic(Path::new(p), &child.id().to_string())?;
    }
    if let Err(e) = crate::lifecycle::start(g, id) {
        let _ = crate::lifecycle::destroy(g, id, true);
        return Err(e);
    }
    if detach {
        return Ok(0);
    }
    let st = child.wait().context("waiting for the sandbox")?;
    let code = st.code().unwrap_or_else(|| {
        use std::os::unix::process::ExitStatusExt;
        128 + st.signal().unwrap_or(0)
    });
    if !a.flag("keep") {
        crate::lifecycle::destroy(g, id, true)?;
    }
    Ok(code)
}
