//! `rvisor syscalls` prints the lists the filters are built from, and a running sandbox's
//! Sentry threads and gofer really run under their filters.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::process::{Command, Stdio};

fn rvisor() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rvisor"))
}

/// Syscall names listed by `rvisor syscalls WHICH`.
fn listed(which: &str) -> BTreeSet<String> {
    let out = rvisor().args(["syscalls", which]).output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("  "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

#[test]
fn the_printed_lists_are_the_filters_lists() {
    let mut sentry: BTreeSet<String> = sentry::confine::allowed()
        .iter()
        .map(|a| a.name.to_string())
        .collect();
    sentry.extend(sentry::confine::REFUSED.iter().map(|(n, _)| n.to_string()));
    sentry.extend(
        sentry::confine::WRITE_THROUGH
            .iter()
            .map(|a| a.name.to_string()),
    );
    assert_eq!(listed("sentry"), sentry);
    // Both of the gofer's lists are printed: the read-only one and what a writable one adds.
    let gofer: BTreeSet<String> = gofer::seccomp::allowed(gofer::seccomp::Mode::Writable)
        .iter()
        .map(|a| a.name.to_string())
        .collect();
    assert_eq!(listed("gofer"), gofer);
    let bad = rvisor().args(["syscalls", "nope"]).output().unwrap();
    assert!(!bad.status.success());
}

/// `Seccomp:` of /proc/PID/task/TID/status: 0 none, 2 filtered.
fn seccomp_mode(status: &str) -> Option<u32> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("Seccomp:"))
        .and_then(|v| v.trim().parse().ok())
}

#[test]
fn a_running_sandbox_is_confined() {
    let mut child = rvisor()
        .args([
            "do",
            "--",
            "/bin/busybox",
            "sh",
            "-c",
            "read x; echo got $x",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    // Wait until the first task thread exists (the command is blocked in read).
    let mut task_mode = None;
    let mut factory_mode = None;
    for _ in 0..2000 {
        let dir = format!("/proc/{pid}/task");
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let base = e.path();
            let comm = std::fs::read_to_string(base.join("comm")).unwrap_or_default();
            let status = std::fs::read_to_string(base.join("status")).unwrap_or_default();
            match comm.trim() {
                "task-1" => task_mode = seccomp_mode(&status),
                "rvisor-stub-fac" => factory_mode = seccomp_mode(&status),
                _ => {}
            }
        }
        if task_mode.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    // The gofer: a child process of the sandbox running `rvisor gofer`.
    let children =
        std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
    let gofer_mode = children
        .split_whitespace()
        .find(|c| {
            std::fs::read(format!("/proc/{c}/cmdline"))
                .map(|b| b.split(|&x| x == 0).any(|a| a == b"gofer"))
                .unwrap_or(false)
        })
        .and_then(|c| std::fs::read_to_string(format!("/proc/{c}/status")).ok())
        .and_then(|s| seccomp_mode(&s));
    child.stdin.take().unwrap().write_all(b"hi\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "got hi\n");
    assert_eq!(
        task_mode,
        Some(2),
        "a task thread runs under the Sentry's filter"
    );
    assert_eq!(gofer_mode, Some(2), "the gofer runs under its filter");
    // The stub factory is left out on purpose (see sentry::confine).
    assert_eq!(factory_mode, Some(0));
}
