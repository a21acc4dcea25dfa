//! `rvisor gofer --root-fd N --sock-fd N [--read-only] [--jail-root PATH] [--uid-map MAP]
//! [--gid-map MAP]` (hidden): the gofer process, started by the CLI with the rootfs directory
//! and its end of the Sentry's socket pair inherited; with `--jail-root`, it first confines
//! itself with PATH, that directory, as its root. A MAP (`INSIDE:OUTSIDE:COUNT[,...]`) is
//! the sandbox's user namespace mapping: the Sentry's ids are translated with it (the
//! identity without one).

use std::os::fd::{FromRawFd, OwnedFd, RawFd};

use anyhow::{bail, Context as _};

fn fd_arg(v: Option<&String>, name: &str) -> anyhow::Result<RawFd> {
    let v = v.with_context(|| format!("{name} needs a value"))?;
    v.parse()
        .with_context(|| format!("{name} wants a descriptor number, got {v:?}"))
}

/// Parses the arguments and serves until the Sentry hangs up.
pub fn run(args: &[String]) -> anyhow::Result<()> {
    let (mut root, mut sock, mut read_only, mut jail) = (None, None, false, None);
    let mut ids = gofer::IdMaps::identity();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--root-fd" => root = Some(fd_arg(it.next(), a)?),
            "--sock-fd" => sock = Some(fd_arg(it.next(), a)?),
            "--read-only" => read_only = true,
            "--jail-root" => {
                jail = Some(std::path::PathBuf::from(
                    it.next().context("--jail-root needs a value")?,
                ))
            }
            "--uid-map" | "--gid-map" => {
                let v = it.next().with_context(|| format!("{a} needs a value"))?;
                let map = gofer::IdMap::parse(v).with_context(|| a.clone())?;
                if a == "--uid-map" {
                    ids.uid = map;
                } else {
                    ids.gid = map;
                }
            }
            other => bail!("unknown argument {other:?}"),
        }
    }
    let (Some(root), Some(sock)) = (root, sock) else {
        bail!("--root-fd and --sock-fd are required");
    };
    if root == sock {
        bail!("--root-fd and --sock-fd must differ");
    }
    gofer::check_fd(root).context("--root-fd")?;
    gofer::check_fd(sock).context("--sock-fd")?;
    // SAFETY: both are open (just checked), distinct, and inherited for the gofer alone;
    // nothing else in this process owns them.
    let (root, sock) = unsafe { (OwnedFd::from_raw_fd(root), OwnedFd::from_raw_fd(sock)) };
    let root = match jail {
        Some(path) => crate::jail::confine_gofer(&root, &path, read_only)?,
        None => root,
    };
    gofer::serve(root, sock, read_only, ids)?;
    Ok(())
}
