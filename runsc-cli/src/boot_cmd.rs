//! `rvisor boot` (hidden): the sandbox process of one container, started by `rvisor
//! create`. It starts the gofer, makes the Sentry's kernel and pid 1 from the bundle's
//! spec, confines itself, tells `create` it is ready (through the pipe `--ready-fd`), then
//! serves the control socket: pid 1 runs on `start`, and the process exits with pid 1's
//! exit code. Its pid is the container's pid in the state and the pid file.

use std::io::Write as _;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::mpsc;

use anyhow::{bail, Context as _};

use crate::cli::Args;
use crate::control::{self, Reply, Request};
use crate::oci;

/// What `boot` needs from the command line.
struct Options {
    id: String,
    bundle: PathBuf,
    root: PathBuf,
    ready: OwnedFd,
    /// Where `create` answers once it mapped this process's user namespace
    /// (`jail::UserNsHandshake`); without it, the process stays in the host's.
    userns: Option<OwnedFd>,
    /// The host terminal pid 1's terminal is bridged to (`console`).
    console: Option<OwnedFd>,
}

fn parse(args: &[String]) -> anyhow::Result<Options> {
    let a = Args::parse(
        args,
        &[
            "root",
            "id",
            "bundle",
            "ready-fd",
            "console-fd",
            "userns-fd",
        ],
        &[],
    )?;
    let fd: i32 = a
        .value("ready-fd")
        .context("--ready-fd is required")?
        .parse()
        .context("--ready-fd wants a number")?;
    gofer::check_fd(fd).context("--ready-fd")?;
    // Not to be inherited by the gofer or the stub processes: `create` reads one line.
    // SAFETY: F_SETFD on a descriptor number; failure is reported.
    if unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) } < 0 {
        return Err(std::io::Error::last_os_error()).context("--ready-fd");
    }
    Ok(Options {
        id: a.value("id").context("--id is required")?.to_string(),
        bundle: a.value("bundle").context("--bundle is required")?.into(),
        root: a.value("root").context("--root is required")?.into(),
        // SAFETY: `create` passes this descriptor, open and ours alone, for the readiness
        // message; check_fd made sure it is open.
        ready: unsafe { OwnedFd::from_raw_fd(fd) },
        userns: a
            .value("userns-fd")
            .map(|v| crate::console::inherited(v, "userns-fd"))
            .transpose()?,
        console: a
            .value("console-fd")
            .map(|v| crate::console::inherited(v, "console-fd"))
            .transpose()?,
    })
}

/// The sandbox's configuration from the spec.
fn config(
    b: &oci::Bundle,
    binds: Vec<sentry::sandbox::BindPoint>,
) -> anyhow::Result<sentry::sandbox::Config> {
    let p = b.spec.process.as_ref().context("the spec has no process")?;
    let bytes = |v: &[String]| v.iter().map(|s| s.as_bytes().to_vec()).collect::<Vec<_>>();
    let hostname = match &b.spec.hostname {
        Some(h) if !h.is_empty() => h.clone().into_bytes(),
        _ => host_name(),
    };
    if b.spec
        .hooks
        .as_ref()
        .is_some_and(|h| !h.start_container.is_empty())
    {
        tracing::warn!("hooks.startContainer: not run (they would run inside the sandbox)");
    }
    let mut mounts = Vec::new();
    for m in &b.spec.mounts {
        let kind = m.kind.as_deref().unwrap_or("");
        let opts = oci::parse_mount_options(&m.options);
        if opts.is_bind() || kind == "bind" {
            // Made on the host by `binds::mount_binds`, served by the gofer.
            continue;
        }
        match kind {
            // cgroup, cgroup2: the Sentry's cgroup v2 view, read-only.
            "tmpfs" | "proc" | "sysfs" | "mqueue" | "cgroup" | "cgroup2" => {
                mounts.push(sentry::sandbox::MountRequest {
                    target: m.destination.clone().into_bytes(),
                    fstype: kind.to_string(),
                    flags: opts.flags,
                    data: opts.data.into_bytes(),
                })
            }
            // The Sentry's own /dev/pts stands for it.
            "devpts" if m.destination == "/dev/pts" => {}
            // No counterpart yet.
            _ => tracing::warn!("mount of type {kind} onto {}: not made", m.destination),
        }
    }
    let linux = b.spec.linux.as_ref();
    let paths = |v: Option<&Vec<String>>| bytes(v.map_or(&[][..], Vec::as_slice));
    Ok(sentry::sandbox::Config {
        cwd: p.cwd.clone().into_bytes(),
        env: bytes(&p.env),
        argv: bytes(&p.args),
        syscall_patching: true,
        confine: true,
        root_mode: sentry::sandbox::RootMode::Overlay,
        user: sentry::sandbox::User {
            uid: p.user.uid,
            gid: p.user.gid,
            groups: p.user.additional_gids.clone(),
            umask: p.user.umask.unwrap_or(0o022),
            caps: capabilities(p.capabilities.as_ref())?,
            rlimits: rlimits(&p.rlimits)?,
            no_new_privs: p.no_new_privileges,
            oom_score_adj: p.oom_score_adj,
        },
        hostname,
        readonly_root: b.spec.root.as_ref().is_some_and(|r| r.readonly),
        mounts,
        masked_paths: paths(linux.map(|l| &l.masked_paths)),
        readonly_paths: paths(linux.map(|l| &l.readonly_paths)),
        private_tmp: false,
        set_home: true,
        ptmx_link: true,
        binds,
        devices: devices(b),
        ids: oci::id_maps(linux)?,
        sysctl: linux.map(oci::sysctls).unwrap_or_default(),
        mount_order: b
            .spec
            .mounts
            .iter()
            .map(|m| {
                let bind = m.is_bind() || oci::parse_mount_options(&m.options).is_bind();
                let source = m
                    .source
                    .clone()
                    .filter(|s| !s.is_empty())
                    .or_else(|| m.kind.clone())
                    .unwrap_or_else(|| "none".into());
                sentry::sandbox::SpecMount {
                    target: m.destination.clone().into_bytes(),
                    source: (!bind).then(|| source.into_bytes()),
                }
            })
            .collect(),
    })
}

/// The spec's device nodes the sandbox makes in its /dev: devices and named pipes under
/// /dev/ (validation warns about the others, which are skipped).
fn devices(b: &oci::Bundle) -> Vec<sentry::sandbox::DeviceNode> {
    let Some(l) = &b.spec.linux else {
        return Vec::new();
    };
    l.devices
        .iter()
        .filter(|d| oci::device_made(d))
        .filter_map(|d| {
            let rdev = match d.kind.as_str() {
                "c" | "u" | "b" => Some(libc::makedev(d.major as u32, d.minor as u32)),
                "p" => None,
                _ => return None,
            };
            Some(sentry::sandbox::DeviceNode {
                path: d.path.clone().into_bytes(),
                rdev,
                block: d.kind == "b",
                mode: d.file_mode.unwrap_or(0o666),
                uid: d.uid.unwrap_or(0),
                gid: d.gid.unwrap_or(0),
            })
        })
        .collect()
}

/// The capability sets of a spec's process (None: the spec gives none, all are kept).
pub fn capabilities(
    c: Option<&oci::Capabilities>,
) -> anyhow::Result<Option<sentry::kernel::creds::Capabilities>> {
    let Some(c) = c else { return Ok(None) };
    Ok(Some(sentry::kernel::creds::Capabilities {
        effective: oci::capability_mask(&c.effective)?,
        permitted: oci::capability_mask(&c.permitted)?,
        inheritable: oci::capability_mask(&c.inheritable)?,
        bounding: oci::capability_mask(&c.bounding)?,
        ambient: oci::capability_mask(&c.ambient)?,
    }))
}

/// A spec process's `rlimits` for the Sentry (names checked by `oci::check_process`).
pub fn rlimits(r: &[oci::Rlimit]) -> anyhow::Result<Vec<sentry::sandbox::Rlimit>> {
    r.iter()
        .map(|l| {
            Ok(sentry::sandbox::Rlimit {
                resource: oci::rlimit_resource(&l.kind)?,
                soft: l.soft,
                hard: l.hard,
            })
        })
        .collect()
}

/// Makes the host's view of this process's command line (`ps`, `docker top`) the
/// container's command, as far as it fits where ours was: the sandbox process stands for
/// pid 1 on the host. Best effort.
fn set_title(args: &[String]) {
    // arg_start and arg_end: fields 48 and 49 of /proc/self/stat.
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return;
    };
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 2..]) else {
        return;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let (Some(Ok(start)), Some(Ok(end))) = (
        f.get(45).map(|v| v.parse::<usize>()),
        f.get(46).map(|v| v.parse::<usize>()),
    ) else {
        return;
    };
    if end <= start || end - start > 1 << 20 {
        return;
    }
    let mut title: Vec<u8> = args.join(" ").into_bytes();
    title.truncate(end - start - 1);
    title.resize(end - start, 0);
    // SAFETY: [start, end) is this process's argument area, as the kernel reports it:
    // mapped, writable (the initial stack) and read by no one else (std copied the
    // arguments at startup).
    unsafe { std::ptr::copy_nonoverlapping(title.as_ptr(), start as *mut u8, title.len()) };
}

/// The host's hostname (what a new UTS namespace starts with).
fn host_name() -> Vec<u8> {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most `buf.len()` bytes into `buf`.
    if unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } != 0 {
        return b"rvisor".to_vec();
    }
    let n = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    buf[..n].to_vec()
}

/// The network namespace the spec asks for: one at a path, a new one, or (no `network`
/// namespace at all) the runtime's own.
fn network_namespace(b: &oci::Bundle) -> crate::jail::NetNs {
    use crate::jail::NetNs;
    let ns = b
        .spec
        .linux
        .as_ref()
        .and_then(|l| l.namespace(&oci::NamespaceType::Network));
    match ns {
        None => NetNs::Host,
        Some(n) => match n.path.as_deref().filter(|p| !p.is_empty()) {
            Some(p) => NetNs::Join(PathBuf::from(p)),
            None => NetNs::New,
        },
    }
}

/// Sends the readiness line to `create`.
fn tell(ready: &OwnedFd, line: &str) {
    if let Ok(fd) = ready.try_clone() {
        let _ = std::fs::File::from(fd).write_all(line.as_bytes());
    }
}

/// Runs the sandbox; returns the exit code of pid 1 (or of the signal that ended it
/// before it started).
pub fn run(g: &crate::cli::Global, args: &[String]) -> anyhow::Result<i32> {
    let mut o = parse(args)?;
    match boot(&mut o, &g.platform, g.overlay_none) {
        Ok((sandbox, listener)) => {
            tell(&o.ready, "ok\n");
            drop(o.ready);
            serve(sandbox, listener)
        }
        Err(e) => {
            // `create` reports it; here it only goes to the log.
            tracing::error!("{e:#}");
            tell(&o.ready, &format!("error: {e:#}\n"));
            Ok(125)
        }
    }
}

/// Everything up to a sandbox ready to start: the gofer, the kernel, pid 1, the control
/// socket, the state file; confined when it returns.
fn boot(
    o: &mut Options,
    platform: &str,
    overlay_none: bool,
) -> anyhow::Result<(sentry::sandbox::Sandbox, UnixListener)> {
    let b = oci::load(&o.bundle)?;
    for w in &b.warnings {
        tracing::warn!("{w}");
    }
    // The host's OOM killer sees the sandbox as the spec's process (as runc sets it on the
    // container's process); the gofer and the stubs inherit it. Before the user namespace:
    // lowering it takes CAP_SYS_RESOURCE in the host's.
    if let Some(adj) = b.spec.process.as_ref().and_then(|p| p.oom_score_adj) {
        if let Err(e) = std::fs::write("/proc/self/oom_score_adj", adj.to_string()) {
            tracing::warn!("process.oomScoreAdj {adj} on the sandbox process: {e}");
        }
    }
    // A user or cgroup namespace of the sandbox process's own when the spec asks for one;
    // without, it keeps the runtime's, as a runc container would. (The container's user
    // namespace, with its mappings, is the Sentry's to serve; the host one confines the
    // sandbox process.)
    let asks = |kind| {
        b.spec
            .linux
            .as_ref()
            .is_some_and(|l| l.namespace(&kind).is_some())
    };
    let userns = o.userns.take().filter(|_| asks(oci::NamespaceType::User));
    let userns = userns.map(|wait| crate::jail::UserNsHandshake {
        tell: &o.ready,
        wait,
    });
    let cgroup = asks(oci::NamespaceType::Cgroup);
    crate::jail::enter_namespaces(&network_namespace(&b), cgroup, userns)?;
    let binds = crate::binds::mount_binds(&b)?;
    // `--overlay none`: a writable root is written through, as runc writes it.
    let through = overlay_none && !b.spec.root.as_ref().is_some_and(|r| r.readonly);
    let writable = through || binds.iter().any(|p| !p.readonly);
    let mut cfg = config(&b, binds)?;
    if through {
        cfg.root_mode = sentry::sandbox::RootMode::WriteThrough;
    }
    if let Some(p) = &b.spec.process {
        set_title(&p.args);
    }
    let root = crate::state::Root::new(&o.root);
    let sock = root.socket(&o.id);
    let _ = std::fs::remove_file(&sock);
    let (_dir, short) = control::short_path(&sock)?;
    let listener = UnixListener::bind(&short)
        .with_context(|| format!("creating the control socket {}", sock.display()))?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&sock, std::fs::Permissions::from_mode(0o600))?;
    let platform = crate::do_cmd::make_platform(platform)?;
    let host_root = crate::do_cmd::start_gofer(&b.rootfs, writable, true, &cfg.ids)?;
    // A Sentry panic is a bug; it ends the sandbox at once.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("rvisor: internal error (Sentry panic, a bug): {info}");
        std::process::exit(125);
    }));
    // This process is the init of its own pid namespace: its pid on the host is what
    // the host's /proc calls it.
    let pid: i32 = std::fs::read_link("/proc/self")
        .ok()
        .and_then(|p| p.to_str().and_then(|s| s.parse().ok()))
        .context("this process's pid on the host")?;
    let st = crate::state::State {
        id: o.id.clone(),
        pid,
        start_time: crate::state::start_time(pid).unwrap_or(0),
        status: "created".into(),
        bundle: b.dir.clone(),
        rootfs: b.rootfs.clone(),
        created: crate::state::now_rfc3339(),
        annotations: b.spec.annotations.clone(),
        ..Default::default()
    };
    // The state is written before confinement: from then on the Sentry opens no file.
    root.save(&st)?;
    // Nothing more of the host is needed: the gofer, the platform's memory file and the
    // control socket are open.
    crate::jail::confine_sentry(&root.container_dir(&o.id))?;
    let sandbox =
        sentry::sandbox::Sandbox::create_with_terminal(platform, host_root, cfg, o.console.take())?;
    Ok((sandbox, listener))
}

/// What the control thread tells the main thread.
/// Each carries the means to know its reply was written: the process must not end before.
enum Event {
    Start(mpsc::Sender<Reply>, mpsc::Receiver<()>),
    /// A signal before pid 1 ran: the sandbox ends with it.
    KilledBeforeStart(i32, mpsc::Receiver<()>),
}

/// Serves the control socket until pid 1 is gone; returns its exit code.
fn serve(mut sandbox: sentry::sandbox::Sandbox, listener: UnixListener) -> anyhow::Result<i32> {
    let control = sandbox.control();
    let (tx, rx) = mpsc::channel::<Event>();
    let started = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    {
        let started = started.clone();
        std::thread::Builder::new()
            .name("control".into())
            .spawn(move || {
                for conn in listener.incoming() {
                    let Ok(conn) = conn else { continue };
                    let (c, tx, started) = (control.clone(), tx.clone(), started.clone());
                    let _ = std::thread::Builder::new()
                        .name("control-conn".into())
                        .spawn(move || handle(&conn, &c, &tx, &started));
                }
            })
            .context("starting the control thread")?;
    }
    match rx.recv() {
        Ok(Event::Start(reply, written)) => {
            let r = match sandbox.start() {
                Ok(()) => {
                    started.store(true, std::sync::atomic::Ordering::SeqCst);
                    Reply::default()
                }
                Err(e) => Reply::err(e),
            };
            let failed = r.error.is_some();
            let _ = reply.send(r);
            let _ = written.recv_timeout(std::time::Duration::from_secs(5));
            if failed {
                bail!("pid 1 could not start");
            }
        }
        Ok(Event::KilledBeforeStart(sig, written)) => {
            let _ = written.recv_timeout(std::time::Duration::from_secs(5));
            return Ok(128 + sig);
        }
        Err(_) => bail!("the control thread is gone"),
    }
    // Later events (a second start) find nobody: their senders see the channel closed.
    drop(rx);
    Ok(sentry::sandbox::exit_code(sandbox.wait()))
}

/// Answers one control connection.
fn handle(
    conn: &UnixStream,
    c: &sentry::sandbox::Control,
    tx: &mpsc::Sender<Event>,
    started: &std::sync::atomic::AtomicBool,
) {
    let (reply, ack) = match control::read_request(conn) {
        Err(e) => (Reply::err(e), None),
        Ok((req, fds)) => answer(req, fds, c, tx, started),
    };
    let _ = control::write_reply(conn, &reply);
    if let Some(a) = ack {
        let _ = a.send(());
    }
}

fn answer(
    req: Request,
    fds: Vec<OwnedFd>,
    c: &sentry::sandbox::Control,
    tx: &mpsc::Sender<Event>,
    started: &std::sync::atomic::AtomicBool,
) -> (Reply, Option<mpsc::Sender<()>>) {
    let is_started = started.load(std::sync::atomic::Ordering::SeqCst);
    let (ack, written) = mpsc::channel();
    let r = match req {
        Request::Start if is_started => Reply::err("cannot start an already running container"),
        Request::Start => {
            let (rtx, rrx) = mpsc::channel();
            if tx.send(Event::Start(rtx, written)).is_err() {
                return (Reply::err("the sandbox is shutting down"), None);
            }
            let r = rrx
                .recv()
                .unwrap_or_else(|_| Reply::err("the sandbox is shutting down"));
            return (r, Some(ack));
        }
        Request::Kill { signal, .. } if !is_started => {
            let _ = tx.send(Event::KilledBeforeStart(signal, written));
            return (Reply::default(), Some(ack));
        }
        Request::Kill { signal, all } => match c.signal(signal, all) {
            Ok(()) => Reply::default(),
            Err(e) => Reply::err(std::io::Error::from_raw_os_error(e.0)),
        },
        Request::KillPid { pid, signal } => match c.signal_pid(pid, signal) {
            Ok(()) => Reply::default(),
            Err(e) => Reply::err(std::io::Error::from_raw_os_error(e.0)),
        },
        Request::Ps => Reply {
            processes: c
                .processes()
                .into_iter()
                .map(|p| control::Process {
                    pid: p.pid,
                    ppid: p.ppid,
                    comm: p.comm,
                })
                .collect(),
            ..Default::default()
        },
        Request::Exec(e) => {
            let stdio = if e.terminal {
                let Ok::<[OwnedFd; 1], _>([t]) = fds.try_into() else {
                    return (
                        Reply::err("exec with a terminal needs one descriptor"),
                        None,
                    );
                };
                sentry::sandbox::Stdio::Terminal(t)
            } else {
                let Ok::<[OwnedFd; 3], _>(stdio) = fds.try_into() else {
                    return (Reply::err("exec needs three descriptors for stdio"), None);
                };
                sentry::sandbox::Stdio::Host(stdio)
            };
            let spec = sentry::sandbox::ExecSpec {
                argv: e.args.iter().map(|s| s.as_bytes().to_vec()).collect(),
                env: e.env.iter().map(|s| s.as_bytes().to_vec()).collect(),
                cwd: e.cwd.into_bytes(),
                user: sentry::sandbox::User {
                    uid: e.uid,
                    gid: e.gid,
                    groups: e.groups,
                    umask: e.umask.unwrap_or(0o022),
                    caps: e
                        .caps
                        .map(|[effective, permitted, inheritable, bounding, ambient]| {
                            sentry::kernel::creds::Capabilities {
                                effective,
                                permitted,
                                inheritable,
                                bounding,
                                ambient,
                            }
                        }),
                    rlimits: e
                        .rlimits
                        .iter()
                        .map(|&(resource, soft, hard)| sentry::sandbox::Rlimit {
                            resource,
                            soft,
                            hard,
                        })
                        .collect(),
                    no_new_privs: e.no_new_privs,
                    oom_score_adj: None,
                },
                stdio,
            };
            match c.exec(spec) {
                Ok(pid) => Reply {
                    pid: Some(pid),
                    ..Default::default()
                },
                Err(e) => Reply::err(e),
            }
        }
        Request::Wait { pid } => Reply {
            status: Some(c.wait_exec(pid)),
            ..Default::default()
        },
    };
    (r, None)
}
