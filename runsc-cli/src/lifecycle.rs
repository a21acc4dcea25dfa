//! The runc commands on an existing container: `start`, `state`, `kill`, `delete`,
//! `list`, `ps`; and `spec`, `features`.

use std::time::Duration;

use anyhow::{bail, Context as _};
use serde::Serialize;

use crate::cli::{Args, Global};
use crate::control::{self, Request};
use crate::state::{Root, State};

/// The version of the runtime spec the state and features follow.
const OCI_VERSION: &str = "1.0.2";

/// The container's state, as `runc state` prints it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StateOut<'a> {
    oci_version: &'a str,
    id: &'a str,
    pid: i32,
    status: &'a str,
    bundle: String,
    rootfs: String,
    created: &'a str,
    owner: &'a str,
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    annotations: &'a std::collections::BTreeMap<String, String>,
}

fn state_out(st: &State) -> StateOut<'_> {
    let status = st.current_status();
    StateOut {
        oci_version: OCI_VERSION,
        id: &st.id,
        pid: if status == "stopped" { 0 } else { st.pid },
        status,
        bundle: st.bundle.display().to_string(),
        rootfs: st.rootfs.display().to_string(),
        created: &st.created,
        owner: "",
        annotations: &st.annotations,
    }
}

/// The state as hooks get it on stdin.
pub fn state_json(st: &State) -> String {
    serde_json::to_string(&state_out(st)).unwrap_or_default()
}

/// `state ID`.
pub fn state_cmd(g: &Global, args: &[String]) -> anyhow::Result<()> {
    let a = Args::parse(args, &[], &[])?;
    let st = Root::new(&g.root).load(a.id("state")?)?;
    println!("{}", serde_json::to_string_pretty(&state_out(&st))?);
    Ok(())
}

/// Lets the container's process run.
pub fn start(g: &Global, id: &str) -> anyhow::Result<()> {
    let root = Root::new(&g.root);
    let mut st = root.load(id)?;
    match st.current_status() {
        "created" => {}
        "stopped" => bail!("cannot start a container that has stopped"),
        _ => bail!("cannot start an already running container"),
    }
    control::call(&root.socket(id), &Request::Start, &[])?;
    st.status = "running".into();
    root.save(&st)?;
    if let Err(e) = crate::hooks::run_hooks("poststart", &st.hooks.poststart, &state_json(&st)) {
        // runc: a failing poststart hook is logged; the container keeps running.
        g.log("warning", &format!("{e:#}"));
    }
    Ok(())
}

/// `start ID`.
pub fn start_cmd(g: &Global, args: &[String]) -> anyhow::Result<()> {
    let a = Args::parse(args, &[], &[])?;
    start(g, a.id("start")?)
}

/// `kill [--all] ID [SIGNAL]` (SIGTERM by default; a number or a name).
pub fn kill_cmd(g: &Global, args: &[String]) -> anyhow::Result<()> {
    let a = Args::parse(args, &[], &["all", "a"])?;
    let (id, sig) = match a.rest.as_slice() {
        [id] => (id.as_str(), libc::SIGTERM),
        [id, s] => (id.as_str(), crate::oci::parse_signal(s)?),
        _ => bail!("\"kill\" requires a minimum of 1 and a maximum of 2 arguments"),
    };
    let root = Root::new(&g.root);
    let st = root.load(id)?;
    if st.current_status() == "stopped" {
        bail!("container not running");
    }
    let all = a.flag("all") || a.flag("a");
    if let Err(e) = control::call(&root.socket(id), &Request::Kill { signal: sig, all }, &[]) {
        // A signal that ends pid 1 ends the sandbox process too, possibly before its reply
        // is written: the container is then gone, which is what was asked.
        if wait_gone(&st, Duration::from_secs(2)) {
            return Ok(());
        }
        return Err(e);
    }
    Ok(())
}

/// Waits until process `pid` (started at `start_time`) is gone, up to `limit`.
fn wait_gone(st: &State, limit: Duration) -> bool {
    let until = std::time::Instant::now() + limit;
    while st.alive() {
        if std::time::Instant::now() > until {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}

/// Ends the container's sandbox if it runs (SIGKILL) and removes its state. `force`: also
/// a running one.
pub fn destroy(g: &Global, id: &str, force: bool) -> anyhow::Result<()> {
    let root = Root::new(&g.root);
    let st = match root.load(id) {
        Ok(st) => st,
        Err(_) if force && crate::state::valid_id(id) => {
            root.remove(id);
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    let status = st.current_status().to_string();
    if !force && (status == "running" || status == "paused") {
        bail!("cannot delete container {id} that is not stopped: {status}");
    }
    if st.alive() {
        // SAFETY: kill(2) on the sandbox process recorded in the state, checked alive (and
        // the same process, by its start time) just before.
        unsafe { libc::kill(st.pid, libc::SIGKILL) };
        if !wait_gone(&st, Duration::from_secs(10)) {
            bail!("the sandbox process {} does not die", st.pid);
        }
    }
    if let Err(e) = crate::hooks::run_hooks("poststop", &st.hooks.poststop, &state_json(&st)) {
        g.log("warning", &format!("{e:#}"));
    }
    if !st.cgroup.is_empty() {
        crate::cgroup::Cgroup::load(&st.cgroup)
            .and_then(|c| c.destroy(true))
            .with_context(|| format!("removing the cgroup of {id}"))?;
    }
    root.remove(id);
    Ok(())
}

/// `pause ID` / `resume ID`: freezes or thaws the sandbox's cgroup.
pub fn pause_cmd(g: &Global, args: &[String], pause: bool) -> anyhow::Result<()> {
    let a = Args::parse(args, &[], &[])?;
    let id = a.id(if pause { "pause" } else { "resume" })?;
    let st = Root::new(&g.root).load(id)?;
    match (st.current_status(), pause) {
        ("running", true) | ("paused", false) => {}
        ("stopped", _) | ("created", _) => bail!("container not running"),
        (_, true) => bail!("container already paused"),
        (_, false) => bail!("container not paused"),
    }
    if st.cgroup.is_empty() {
        bail!("the container has no cgroup to freeze");
    }
    let c = crate::cgroup::Cgroup::load(&st.cgroup)?;
    if pause {
        c.freeze()?;
    } else {
        c.thaw()?;
    }
    Ok(())
}

/// `delete [--force] ID`.
pub fn delete_cmd(g: &Global, args: &[String]) -> anyhow::Result<()> {
    let a = Args::parse(args, &[], &["force", "f"])?;
    destroy(g, a.id("delete")?, a.flag("force") || a.flag("f"))
}

/// `list [--format table|json] [--quiet]`.
pub fn list_cmd(g: &Global, args: &[String]) -> anyhow::Result<()> {
    let a = Args::parse(args, &["format", "f"], &["quiet", "q"])?;
    let root = Root::new(&g.root);
    let states: Vec<State> = root
        .ids()
        .iter()
        .filter_map(|id| root.load(id).ok())
        .collect();
    if a.flag("quiet") || a.flag("q") {
        for s in &states {
            println!("{}", s.id);
        }
        return Ok(());
    }
    match a.value("format").or(a.value("f")).unwrap_or("table") {
        "json" => {
            let v: Vec<StateOut> = states.iter().map(state_out).collect();
            println!("{}", serde_json::to_string(&v)?);
        }
        "table" => {
            println!("ID          PID         STATUS      BUNDLE      CREATED     OWNER");
            for s in &states {
                let o = state_out(s);
                println!(
                    "{:<12}{:<12}{:<12}{:<12}{:<12}root",
                    o.id, o.pid, o.status, o.bundle, o.created
                );
            }
        }
        f => bail!("invalid format option: {f}"),
    }
    Ok(())
}

/// `ps [--format table|json] ID`: json lists the host pids of the sandbox (what the shim
/// wants); table lists the processes inside it.
pub fn ps_cmd(g: &Global, args: &[String]) -> anyhow::Result<()> {
    let a = Args::parse(args, &["format", "f"], &[])?;
    let id = a.rest.first().context("\"ps\" requires a container id")?;
    let root = Root::new(&g.root);
    let st = root.load(id)?;
    if st.current_status() == "stopped" {
        bail!("container not running");
    }
    match a.value("format").or(a.value("f")).unwrap_or("table") {
        "json" => println!("{}", serde_json::to_string(&[st.pid])?),
        "table" => {
            let r = control::call(&root.socket(id), &Request::Ps, &[])?;
            println!("PID   PPID  CMD");
            for p in r.processes {
                println!("{:<5} {:<5} {}", p.pid, p.ppid, p.comm);
            }
        }
        f => bail!("invalid format option: {f}"),
    }
    Ok(())
}

/// `spec [--bundle DIR]`: writes a default config.json, refusing to overwrite one.
pub fn spec_cmd(args: &[String]) -> anyhow::Result<()> {
    let a = Args::parse(args, &["bundle", "b"], &["rootless"])?;
    let dir = std::path::PathBuf::from(a.value("bundle").or(a.value("b")).unwrap_or("."));
    let path = dir.join("config.json");
    if path.exists() {
        bail!("File {} exists. Remove it first", path.display());
    }
    std::fs::write(&path, crate::oci::default_spec_json())
        .with_context(|| format!("writing {}", path.display()))
}
