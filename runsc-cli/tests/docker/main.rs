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
pub(crate) static SERIAL: Mutex<()> = Mutex::new(());

pub(crate) fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

pub(crate) fn rvisor() -> &'static str {
    env!("CARGO_BIN_EXE_rvisor")
}

/// Docker's default capability set, as CapEff in /proc/self/status.
pub(crate) const DOCKER_CAPS: &str = "00000000a80425fb";

/// A long enough wait for one docker command.
pub(crate) const T: Duration = Duration::from_secs(90);

mod cases;
#[path = "../common/mod.rs"]
mod common;
mod containerd;
mod dockerd;
mod host;
mod images;
mod run;
mod wrapper;

use cases::*;
use common::debian_root;
use containerd::*;
use dockerd::*;
use host::*;
use images::*;
use run::*;
use wrapper::*;

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
