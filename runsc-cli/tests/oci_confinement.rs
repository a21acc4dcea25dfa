//! The host processes of an OCI sandbox are confined (DESIGN.md, "Processes"): the Sentry
//! and the gofer in their own pid, mount, ipc, uts and network namespaces (user and cgroup
//! ones when the spec asks), the Sentry's root an empty directory and the gofer's the
//! rootfs, capabilities dropped, no_new_privs, their seccomp filters; and when the Sentry
//! dies, nothing of the sandbox lives on.

mod common;

use common::{become_subreaper, wait, wait_for, Bundle};

/// `Key:` of /proc/PID/status.
fn status_field(pid: i32, key: &str) -> String {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    s.lines()
        .find_map(|l| l.strip_prefix(key).and_then(|v| v.strip_prefix(':')))
        .unwrap_or_else(|| panic!("{key} in /proc/{pid}/status"))
        .trim()
        .to_string()
}

fn ns(pid: &str, kind: &str) -> String {
    std::fs::read_link(format!("/proc/{pid}/ns/{kind}"))
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

/// The processes of the host whose pid namespace is `pidns`.
fn members(pidns: &str) -> Vec<i32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|p| {
            std::fs::read_link(format!("/proc/{p}/ns/pid"))
                .is_ok_and(|l| l.to_string_lossy() == pidns)
        })
        .collect()
}

fn cmdline(pid: i32) -> Vec<String> {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .unwrap_or_default()
        .split(|&b| b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

fn names(dir: String) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn the_sandbox_processes_are_confined_and_die_with_it() {
    become_subreaper();
    let b = Bundle::new("confined", &["sh", "-c", "echo ready; sleep 1000"]);
    // The user and cgroup namespaces too (a spec without them keeps the runtime's: see
    // below).
    b.edit_spec(|spec| {
        let ns = spec["linux"]["namespaces"].as_array_mut().unwrap();
        ns.push(serde_json::json!({"type": "user"}));
        ns.push(serde_json::json!({"type": "cgroup"}));
    });
    let pid = b.start_ready("confined");
    let me = std::process::id().to_string();
    let sp = pid.to_string();

    // The Sentry: the init of a pid namespace of its own, in new namespaces of every kind.
    for kind in ["pid", "mnt", "ipc", "uts", "net", "cgroup", "user"] {
        assert_ne!(
            ns(&sp, kind),
            ns(&me, kind),
            "the Sentry's {kind} namespace"
        );
    }
    // Its user namespace maps every id as itself: it confines what the Sentry's
    // capabilities reach, not whose files it may read.
    assert_eq!(
        std::fs::read_to_string(format!("/proc/{pid}/uid_map")).unwrap(),
        "         0          0 4294967295\n"
    );
    assert_eq!(
        std::fs::read_to_string(format!("/proc/{pid}/gid_map")).unwrap(),
        "         0          0 4294967295\n"
    );
    let nspid = status_field(pid, "NSpid");
    assert_eq!(nspid, format!("{pid}\t1"), "NSpid of the Sentry");
    // Its root is empty; it holds no capability; no_new_privs; its filter.
    assert_eq!(names(format!("/proc/{pid}/root")), Vec::<String>::new());
    for set in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
        assert_eq!(
            status_field(pid, set),
            "0000000000000000",
            "{set} of the Sentry"
        );
    }
    assert_eq!(status_field(pid, "NoNewPrivs"), "1");
    assert_eq!(status_field(pid, "Seccomp"), "2");

    // Everything else of the sandbox shares its pid namespace: the gofer and the stubs.
    let pidns = ns(&sp, "pid");
    let all = members(&pidns);
    assert!(all.contains(&pid));
    let gofer = *all
        .iter()
        .find(|&&p| cmdline(p).iter().any(|a| a == "gofer"))
        .expect("the gofer in the sandbox's pid namespace");
    assert!(all.len() >= 3, "the Sentry, the gofer and a stub: {all:?}");
    let gp = gofer.to_string();
    // The gofer: the Sentry's namespaces but for a mount namespace of its own, whose root
    // is the container's rootfs.
    for kind in ["pid", "ipc", "uts", "net", "cgroup", "user"] {
        assert_eq!(ns(&gp, kind), ns(&sp, kind), "the gofer's {kind} namespace");
    }
    assert_ne!(ns(&gp, "mnt"), ns(&sp, "mnt"));
    assert_ne!(ns(&gp, "mnt"), ns(&me, "mnt"));
    assert_eq!(
        names(format!("/proc/{gofer}/root")),
        names(format!("{}/rootfs", b.dir.display()))
    );
    // Read-only root: to open any file whatever its mode, nothing more.
    assert_eq!(status_field(gofer, "CapEff"), "0000000000000006");
    assert_eq!(status_field(gofer, "CapBnd"), "0000000000000006");
    assert_eq!(status_field(gofer, "CapAmb"), "0000000000000000");
    assert_eq!(status_field(gofer, "NoNewPrivs"), "1");
    assert_eq!(status_field(gofer, "Seccomp"), "2");

    // The Sentry dies (a crash): the kernel takes every process of its namespace with it.
    // SAFETY: kill with a pid and a signal number.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
    let status = wait(pid);
    assert!(libc::WIFSIGNALED(status));
    wait_for("the sandbox's processes to be gone", || {
        members(&pidns).is_empty()
    });
    let o = b.rv(&["state", "confined"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("\"stopped\""));
    let d = b.rv(&["delete", "confined"]);
    assert!(d.status.success(), "delete: {}", common::text(&d));
}

#[test]
fn a_network_namespace_named_by_path_is_joined() {
    become_subreaper();
    let b = Bundle::new("netns", &["sh", "-c", "echo started; sleep 1000"]);
    let mine = format!("/proc/{}/ns/net", std::process::id());
    b.edit_spec(|spec| {
        for n in spec["linux"]["namespaces"].as_array_mut().unwrap() {
            if n["type"] == "network" {
                n["path"] = mine.clone().into();
            }
        }
    });
    let pid = b.create("netns");
    let me = std::process::id().to_string();
    let sp = pid.to_string();
    assert_eq!(
        ns(&sp, "net"),
        ns(&me, "net"),
        "the named network namespace"
    );
    assert_ne!(ns(&sp, "uts"), ns(&me, "uts"));
    b.delete_and_wait("netns", pid);
}

#[test]
fn without_a_network_namespace_the_runtimes_is_kept() {
    become_subreaper();
    let b = Bundle::new("hostnet", &["sh", "-c", "echo started; sleep 1000"]);
    b.edit_spec(|spec| {
        spec["linux"]["namespaces"]
            .as_array_mut()
            .unwrap()
            .retain(|n| n["type"] != "network")
    });
    let pid = b.create("hostnet");
    let (me, sp) = (std::process::id().to_string(), pid.to_string());
    assert_eq!(
        ns(&sp, "net"),
        ns(&me, "net"),
        "the runtime's network namespace"
    );
    assert_ne!(ns(&sp, "ipc"), ns(&me, "ipc"));
    b.delete_and_wait("hostnet", pid);
}

#[test]
fn without_user_and_cgroup_namespaces_the_runtimes_are_kept() {
    become_subreaper();
    let b = Bundle::new("keptns", &["sh", "-c", "echo ready; sleep 1000"]);
    let pid = b.start_ready("keptns");
    let me = std::process::id().to_string();
    for kind in ["user", "cgroup"] {
        assert_eq!(
            ns(&pid.to_string(), kind),
            ns(&me, kind),
            "the Sentry's {kind} namespace"
        );
    }
    b.delete_and_wait("keptns", pid);
}
