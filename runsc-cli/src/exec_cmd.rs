//! `rvisor exec`: a new process in a running container's sandbox.
//!
//! The process lives in the Sentry and has no host pid, but containerd's shim waits for,
//! and signals, the pid in `--pid-file`. So a small host process stands for it: it hands
//! its own stdio to the new process, forwards the signals it gets to it, and exits as it
//! exits (with its code, or killed by the same signal). Without `--detach` that process is
//! `rvisor exec` itself; with it, `rvisor exec` starts one (`rvisor exec-proxy`), writes
//! its pid to the pid file once the process runs, and returns.
//!
//! With a terminal (`process.terminal`, `-t`) the process gets one of the Sentry's devpts
//! bridged to a host terminal (`console`): a new host pty whose master goes to
//! `--console-socket`, or our own terminal in the foreground. The stand-in passes that one
//! descriptor with the request instead of its stdio (and lets go of it at once).

use std::io::{BufRead as _, Write as _};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;

use anyhow::{bail, Context as _};

use crate::cli::{Args, Global};
use crate::control::{self, ExecRequest, Request};
use crate::state::Root;

const VALUED: &[&str] = &[
    "process",
    "p",
    "pid-file",
    "console-socket",
    "pidfd-socket",
    "cwd",
    "env",
    "e",
    "user",
    "u",
    "additional-gids",
    "g",
    "cap",
    "c",
    "apparmor",
    "process-label",
    "preserve-fds",
    "cgroup",
];
const FLAGS: &[&str] = &["detach", "d", "tty", "t", "no-new-privs", "ignore-paused"];

/// The process to start: `--process FILE`, or the container's own process with the
/// inline arguments and flags; and its console size.
fn request(
    g: &Global,
    a: &Args,
    id: &str,
) -> anyhow::Result<(ExecRequest, Option<crate::oci::ConsoleSize>)> {
    let p = match a.value("process").or(a.value("p")) {
        Some(f) => crate::oci::load_process(Path::new(f))?,
        None => {
            let st = Root::new(&g.root).load(id)?;
            let b = crate::oci::load(&st.bundle)?;
            let mut p = b
                .spec
                .process
                .context("the container's spec has no process")?;
            p.args = a.rest[1..].to_vec();
            if p.args.is_empty() {
                bail!("exec: no command given");
            }
            p.terminal = a.flag("tty") || a.flag("t");
            if a.flag("no-new-privs") {
                p.no_new_privileges = true;
            }
            if let Some(c) = a.value("cwd") {
                p.cwd = c.to_string();
            }
            for e in a.values("env").iter().chain(a.values("e")) {
                let k = e.split('=').next().unwrap_or("");
                p.env.retain(|x| x.split('=').next() != Some(k));
                p.env.push(e.clone());
            }
            if let Some(u) = a.value("user").or(a.value("u")) {
                let (uid, gid) = u.split_once(':').unwrap_or((u, "0"));
                p.user.uid = uid.parse().context("--user wants UID[:GID]")?;
                p.user.gid = gid.parse().context("--user wants UID[:GID]")?;
            }
            for gs in a.values("additional-gids").iter().chain(a.values("g")) {
                p.user
                    .additional_gids
                    .push(gs.parse().context("--additional-gids wants a number")?);
            }
            p
        }
    };
    let caps = crate::boot_cmd::capabilities(p.capabilities.as_ref())?.map(|c| {
        [
            c.effective,
            c.permitted,
            c.inheritable,
            c.bounding,
            c.ambient,
        ]
    });
    let rlimits = crate::boot_cmd::rlimits(&p.rlimits)?
        .into_iter()
        .map(|l| (l.resource, l.soft, l.hard))
        .collect();
    let req = ExecRequest {
        caps,
        rlimits,
        no_new_privs: p.no_new_privileges,
        args: p.args,
        env: p.env,
        cwd: p.cwd,
        uid: p.user.uid,
        gid: p.user.gid,
        groups: p.user.additional_gids,
        umask: p.user.umask,
        terminal: p.terminal,
    };
    Ok((req, p.console_size))
}

/// `exec [flags] ID [CMD ARG...]`.
pub fn exec_cmd(g: &Global, args: &[String]) -> anyhow::Result<i32> {
    let a = Args::parse(args, VALUED, FLAGS)?;
    let id = a
        .rest
        .first()
        .context("\"exec\" requires a container id")?
        .clone();
    let root = Root::new(&g.root);
    let st = root.load(&id)?;
    match st.current_status() {
        "running" => {}
        "paused" => bail!("cannot exec in a paused container"),
        "created" => bail!("cannot exec in a container that has not started"),
        _ => bail!("cannot exec in a stopped container"),
    }
    let (req, size) = request(g, &a, &id)?;
    let detach = a.flag("detach") || a.flag("d");
    let term = crate::console::for_process(req.terminal, size, a.value("console-socket"), detach)?;
    if detach {
        let pid = spawn_proxy(g, &id, &req, term.map(|t| t.fd))?;
        if let Some(f) = a.value("pid-file") {
            crate::create_cmd::write_atomic(Path::new(f), &pid.to_string())?;
        }
        return Ok(0);
    }
    if let Some(f) = a.value("pid-file") {
        crate::create_cmd::write_atomic(Path::new(f), &std::process::id().to_string())?;
    }
    proxy(&root.socket(&id), req, None, term)
}

/// Starts `rvisor exec-proxy` for `req` (with the host terminal `console`, if it has one);
/// returns its pid once the process runs.
fn spawn_proxy(
    g: &Global,
    id: &str,
    req: &ExecRequest,
    console: Option<OwnedFd>,
) -> anyhow::Result<u32> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills two descriptors on success.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error()).context("creating a pipe");
    }
    // SAFETY: fresh descriptors we own.
    let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let exe = std::env::current_exe().context("finding the rvisor binary")?;
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("--root")
        .arg(&g.root)
        .args(["exec-proxy", "--id", id, "--ready-fd", "3", "--request"])
        .arg(serde_json::to_string(req)?);
    let mut place = vec![(w.as_raw_fd(), 3)];
    if let Some(c) = &console {
        cmd.args(["--console-fd", "4"]);
        place.push((c.as_raw_fd(), 4));
        // The process's stdio is the terminal; the stand-in keeps none of ours (containerd's
        // go-runc reads our output to its end when it gives us no stdio).
        cmd.stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
    }
    // SAFETY: only dup2/fcntl between fork and exec, on descriptors we own.
    unsafe {
        cmd.pre_exec(move || crate::console::place_fds(&place));
    }
    let mut child = cmd.spawn().context("starting the exec process")?;
    drop(w);
    drop(console);
    let mut line = String::new();
    let _ = std::io::BufReader::new(std::fs::File::from(r)).read_line(&mut line);
    match line.trim_end() {
        "ok" => Ok(child.id()),
        l => {
            let _ = child.wait();
            bail!(
                "{}",
                l.strip_prefix("error: ")
                    .unwrap_or("the exec process failed")
            )
        }
    }
}

/// `exec-proxy --id ID --ready-fd N --request JSON` (hidden): the host process standing for
/// an exec'd one.
pub fn proxy_cmd(g: &Global, args: &[String]) -> anyhow::Result<i32> {
    let a = Args::parse(args, &["id", "ready-fd", "request", "console-fd"], &[])?;
    let id = a.value("id").context("--id is required")?;
    let fd: i32 = a
        .value("ready-fd")
        .context("--ready-fd is required")?
        .parse()
        .context("--ready-fd wants a number")?;
    gofer::check_fd(fd).context("--ready-fd")?;
    // SAFETY: our parent passes this descriptor for us alone; check_fd saw it open.
    let ready = unsafe { OwnedFd::from_raw_fd(fd) };
    let req: ExecRequest =
        serde_json::from_str(a.value("request").context("--request is required")?)?;
    let console = a
        .value("console-fd")
        .map(|v| crate::console::inherited(v, "console-fd"))
        .transpose()?
        .map(|fd| crate::console::HostTerminal { fd, restore: None });
    proxy(&Root::new(&g.root).socket(id), req, Some(ready), console)
}

/// Starts the process with our stdio (or on a terminal bridged to `console`), forwards
/// signals to it, and returns its exit code; a process killed by a signal kills us with it.
fn proxy(
    sock: &Path,
    req: ExecRequest,
    ready: Option<OwnedFd>,
    console: Option<crate::console::HostTerminal>,
) -> anyhow::Result<i32> {
    let tell = |line: &str| {
        if let Some(r) = &ready {
            if let Ok(fd) = r.try_clone() {
                let _ = std::fs::File::from(fd).write_all(line.as_bytes());
            }
        }
    };
    // Signals for the process are taken by a thread from here on (blocked in all others).
    let set = forwarded_signals();
    // SAFETY: changes this thread's mask (inherited by threads made later).
    unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
    let terminal = req.terminal;
    let fds = match &console {
        Some(c) if terminal => vec![c.fd.as_raw_fd()],
        _ => vec![0, 1, 2],
    };
    let reply = control::call(sock, &Request::Exec(req), &fds);
    // The sandbox holds the host terminal now; the settings of ours come back at the end.
    let restore = console.and_then(|c| c.restore);
    let reply = match reply {
        Ok(r) => r,
        Err(e) => {
            tell(&format!("error: {e:#}\n"));
            return Err(e);
        }
    };
    let pid = reply.pid.context("the sandbox gave no pid")?;
    tell("ok\n");
    drop(ready);
    let s = sock.to_path_buf();
    std::thread::spawn(move || loop {
        let mut sig = 0;
        // SAFETY: sigwait on a valid set, writing the signal number to a local.
        if unsafe { libc::sigwait(&set, &mut sig) } == 0 {
            // The bridge follows the size of a terminal by itself.
            if terminal && sig == libc::SIGWINCH {
                continue;
            }
            let _ = control::call(&s, &Request::KillPid { pid, signal: sig }, &[]);
        }
    });
    let r = control::call(sock, &Request::Wait { pid }, &[])?;
    let status = r.status.context("the sandbox gave no status")?;
    drop(restore);
    if status & 0x7f != 0 {
        let sig = status & 0x7f;
        // SAFETY: restores the default action and unblocks `sig`, then raises it: the
        // process ends as the one it stands for did.
        unsafe {
            libc::signal(sig, libc::SIG_DFL);
            let mut one: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut one);
            libc::sigaddset(&mut one, sig);
            libc::pthread_sigmask(libc::SIG_UNBLOCK, &one, std::ptr::null_mut());
            libc::raise(sig);
        }
        return Ok(128 + sig);
    }
    Ok((status >> 8) & 0xff)
}

/// The signals a stand-in passes on: all but those that stop or kill it outright, and
/// SIGCHLD and the like that concern only itself.
fn forwarded_signals() -> libc::sigset_t {
    // SAFETY: sigset operations on a local set.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for sig in 1..32 {
            if ![
                libc::SIGKILL,
                libc::SIGSTOP,
                libc::SIGCHLD,
                libc::SIGSEGV,
                libc::SIGBUS,
                libc::SIGILL,
                libc::SIGFPE,
                libc::SIGPIPE,
                libc::SIGTSTP,
                libc::SIGTTIN,
                libc::SIGTTOU,
            ]
            .contains(&sig)
            {
                libc::sigaddset(&mut set, sig);
            }
        }
        set
    }
}
