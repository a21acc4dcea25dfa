//! `rvisor do`: run a command sandboxed, without a bundle.

use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context as _};

struct Options {
    platform: String,
    rootfs: Option<PathBuf>,
    cwd: Option<String>,
    env: Vec<String>,
    argv: Vec<String>,
    syscall_patching: bool,
    root_mode: sentry::sandbox::RootMode,
}

fn parse(args: &[String]) -> anyhow::Result<Options> {
    let mut o = Options {
        platform: "seccomp".into(),
        rootfs: None,
        cwd: None,
        env: Vec::new(),
        argv: Vec::new(),
        syscall_patching: true,
        root_mode: sentry::sandbox::RootMode::Overlay,
    };
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        let mut value = |name: &str| -> anyhow::Result<String> {
            if let Some(v) = a.strip_prefix(&format!("{name}=")) {
                return Ok(v.to_string());
            }
            i += 1;
            args.get(i)
                .cloned()
                .with_context(|| format!("{name} needs a value"))
        };
        match a.as_str() {
            "--" => {
                o.argv = args[i + 1..].to_vec();
                break;
            }
            s if s.starts_with("--platform") => o.platform = value("--platform")?,
            s if s.starts_with("--rootfs") => o.rootfs = Some(value("--rootfs")?.into()),
            s if s.starts_with("--cwd") => o.cwd = Some(value("--cwd")?),
            s if s.starts_with("--overlay") => {
                o.root_mode = match value("--overlay")?.as_str() {
                    "memory" => sentry::sandbox::RootMode::Overlay,
                    "none" => sentry::sandbox::RootMode::WriteThrough,
                    v => bail!("--overlay wants memory or none, got {v:?}"),
                }
            }
            s if s.starts_with("--syscall-patching") => {
                o.syscall_patching = match value("--syscall-patching")?.as_str() {
                    "true" => true,
                    "false" => false,
                    v => bail!("--syscall-patching wants true or false, got {v:?}"),
                }
            }
            s if s.starts_with("--env") => {
                let kv = value("--env")?;
                if !kv.contains('=') {
                    bail!("--env wants K=V, got {kv:?}");
                }
                o.env.push(kv);
            }
            s if s.starts_with('-') => bail!("unknown option {s:?}"),
            _ => {
                o.argv = args[i..].to_vec();
                break;
            }
        }
        i += 1;
    }
    if o.argv.is_empty() {
        bail!("no command given: rvisor do [options] -- CMD [ARG...]");
    }
    Ok(o)
}

/// Whether this host can run platform `name`: one clear error naming the cause if not.
pub(crate) fn check_platform(name: &str) -> anyhow::Result<()> {
    match platform::available().into_iter().find(|(n, _)| *n == name) {
        Some((_, Ok(()))) => Ok(()),
        Some((_, Err(why))) => bail!("platform {name} cannot run here: {why}"),
        None => bail!("unknown platform {name:?} (try `rvisor platforms`)"),
    }
}

/// A new instance of platform `name` over a memory file of its own.
pub(crate) fn make_platform(name: &str) -> anyhow::Result<Box<dyn platform::Platform>> {
    check_platform(name)?;
    match name {
        "seccomp" => {
            let mf =
                platform::MemoryFile::new("rvisor-memory").context("creating the memory file")?;
            let p = platform::seccomp::SeccompPlatform::new(Arc::new(mf))
                .context("the seccomp platform")?;
            Ok(Box::new(p))
        }
        "kvm" => {
            let mf =
                platform::MemoryFile::new("rvisor-memory").context("creating the memory file")?;
            let p = platform::kvm::KvmPlatform::new(Arc::new(mf)).context("the kvm platform")?;
            Ok(Box::new(p))
        }
        other => bail!("unknown platform {other:?} (try `rvisor platforms`)"),
    }
}

/// Runs the command; returns the exit code a shell would report.
pub fn run(args: &[String]) -> anyhow::Result<i32> {
    let o = parse(args)?;
    let platform = make_platform(&o.platform)?;
    let rootfs = o.rootfs.unwrap_or_else(|| PathBuf::from("/"));
    if !rootfs.is_dir() {
        bail!("--rootfs {}: not a directory", rootfs.display());
    }
    let cwd = match o.cwd {
        Some(c) => c.into_bytes(),
        None if rootfs == std::path::Path::new("/") => std::env::current_dir()
            .map(|d| d.as_os_str().as_bytes().to_vec())
            .unwrap_or_else(|_| b"/".to_vec()),
        None => b"/".to_vec(),
    };
    // The caller's environment, with --env entries replacing same-named ones.
    let overridden = |k: &[u8]| {
        o.env
            .iter()
            .any(|e| e.split('=').next().map(str::as_bytes) == Some(k))
    };
    let mut env: Vec<Vec<u8>> = std::env::vars_os()
        .filter(|(k, _)| !overridden(k.as_bytes()))
        .map(|(k, v)| [k.as_bytes(), b"=", v.as_bytes()].concat())
        .collect();
    env.extend(o.env.iter().map(|e| e.as_bytes().to_vec()));
    let writable = o.root_mode == sentry::sandbox::RootMode::WriteThrough;
    let root = start_gofer(&rootfs, writable, false, &gofer::IdMaps::identity())?;
    let cfg = sentry::sandbox::Config {
        cwd,
        env,
        argv: o.argv.iter().map(|a| a.as_bytes().to_vec()).collect(),
        syscall_patching: o.syscall_patching,
        confine: true,
        root_mode: o.root_mode,
        user: Default::default(),
        hostname: b"rvisor".to_vec(),
        readonly_root: false,
        mounts: Vec::new(),
        masked_paths: Vec::new(),
        readonly_paths: Vec::new(),
        private_tmp: true,
        set_home: false,
        ptmx_link: false,
        binds: Vec::new(),
        mount_order: Vec::new(),
        devices: Vec::new(),
        ids: gofer::IdMaps::identity(),
        sysctl: Vec::new(),
    };
    // A Sentry panic is a bug; it ends the whole sandbox at once instead of leaving a
    // process that can never exit (DESIGN.md: "a Sentry panic kills the sandbox").
    std::panic::set_hook(Box::new(|info| {
        eprintln!("rvisor: internal error (Sentry panic, a bug): {info}");
        std::process::exit(125);
    }));
    let status = sentry::sandbox::run(platform, root, cfg)?;
    Ok(sentry::sandbox::exit_code(status))
}

/// Starts `rvisor gofer` serving `rootfs` over a socket pair, read-only unless `writable`
/// (`--overlay=none`); returns the Sentry's side. The gofer exits when the Sentry's end
/// closes. `jail`: the gofer confines itself ([`crate::jail::confine_gofer`]). `ids`: the
/// sandbox's user namespace mappings, which the gofer applies to every id.
pub(crate) fn start_gofer(
    rootfs: &std::path::Path,
    writable: bool,
    jail: bool,
    ids: &gofer::IdMaps,
) -> anyhow::Result<sentry::fs::host::HostRoot> {
    use std::os::fd::AsRawFd;
    use std::os::unix::process::CommandExt;
    let root = gofer::open_root(rootfs)
        .with_context(|| format!("opening the root {}", rootfs.display()))?;
    let (ours, theirs) = gofer::socketpair().context("creating the gofer socket pair")?;
    let exe = std::env::current_exe().context("finding the rvisor binary")?;
    let (root_fd, sock_fd) = (root.as_raw_fd(), theirs.as_raw_fd());
    let mut cmd = std::process::Command::new(exe);
    cmd.args(["gofer", "--root-fd", "3", "--sock-fd", "4"])
        .stdin(std::process::Stdio::null());
    if !writable {
        cmd.arg("--read-only");
    }
    if !ids.is_identity() {
        cmd.arg("--uid-map").arg(ids.uid.to_string());
        cmd.arg("--gid-map").arg(ids.gid.to_string());
    }
    if jail {
        // The path is looked up again in the gofer's own mount namespace, a copy of ours
        // made before it runs: the descriptor names a mount of ours, which we detach.
        let abs = std::fs::canonicalize(rootfs)
            .with_context(|| format!("the root {}", rootfs.display()))?;
        cmd.arg("--jail-root").arg(abs);
    }
    // SAFETY: between fork and exec only async-signal-safe calls (dup2, prctl, unshare) run, on
    // descriptors this process owns until the child execs.
    unsafe {
        cmd.pre_exec(move || {
            // The gofer dies with us even if the socket stays open somewhere.
            // Out of the way first, so that neither lands on the other's new number.
            let r = libc::fcntl(root_fd, libc::F_DUPFD, 10);
            let s = libc::fcntl(sock_fd, libc::F_DUPFD, 10);
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) < 0
                || r < 0
                || s < 0
                || libc::dup2(r, 3) < 0
                || libc::dup2(s, 4) < 0
                || (jail && crate::jail::gofer_pre_exec().is_err())
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.spawn().context("starting the gofer")?;
    drop(theirs);
    drop(root);
    Ok(sentry::fs::host::HostRoot::connect(ours))
}
