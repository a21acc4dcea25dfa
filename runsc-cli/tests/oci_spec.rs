//! The parts of a bundle's spec the Sentry applies inside the sandbox, checked from inside a
//! busybox container run by the real binary: `linux.maskedPaths` and `linux.readonlyPaths`
//! (made in the Sentry's mount table, over the root, procfs and sysfs), `process.rlimits`
//! and `process.noNewPrivileges` (pid 1 and exec'd processes, setuid execution included),
//! cgroup and mqueue mounts; and `rvisor update`'s single-value flags on the sandbox's cgroup.

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::{json, Value};

use common::{become_subreaper, text, Bundle};

/// Where the fixtures live.
fn base() -> PathBuf {
    PathBuf::from("/var/tmp/rvisor-oci-spec")
}

/// The probe's source: a static program printing what it runs as, `euid=N nnp=N
/// nofile=SOFT/HARD` (geteuid, prctl(PR_GET_NO_NEW_PRIVS), getrlimit(RLIMIT_NOFILE)).
const PROBE_C: &str = r#"#include <stdio.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>
int main(void) {
	struct rlimit r;
	if (getrlimit(RLIMIT_NOFILE, &r) != 0)
		return 1;
	printf("euid=%d nnp=%d nofile=%llu/%llu\n", (int)geteuid(),
	       prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), (unsigned long long)r.rlim_cur,
	       (unsigned long long)r.rlim_max);
	return 0;
}
"#;

/// The probe, built once and kept (named by a hash of its source; made under a temporary
/// name and renamed, so that test processes running at once never see half of it).
fn probe() -> &'static Path {
    static PROBE: OnceLock<PathBuf> = OnceLock::new();
    PROBE.get_or_init(|| {
        let hash = PROBE_C.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        let dir = base().join("probe");
        std::fs::create_dir_all(&dir).unwrap();
        let exe = dir.join(format!("probe-{hash:016x}"));
        if exe.exists() {
            return exe;
        }
        let tmp = dir.join(format!("tmp-{}", std::process::id()));
        let src = tmp.with_extension("c");
        std::fs::write(&src, PROBE_C).unwrap();
        let st = Command::new("gcc")
            .args(["-static", "-O2", "-o"])
            .arg(&tmp)
            .arg(&src)
            .status()
            .expect("gcc, to build the probe");
        assert!(st.success(), "building the probe");
        std::fs::rename(&tmp, &exe).unwrap();
        let _ = std::fs::remove_file(&src);
        exe
    })
}

/// A bundle ([`common::Bundle`]): a busybox root with the probe installed setuid-root as
/// /bin/probe and a user `u` (1000), and the config.json of `rvisor spec` running
/// `sh -c SCRIPT`, changed by `edit`.
fn bundle(name: &str, script: &str, edit: impl FnOnce(&mut Value)) -> Bundle {
    let b = Bundle::new(&format!("spec-{name}"), &["sh", "-c", script]);
    let root = b.rootfs();
    std::fs::create_dir_all(root.join("opt")).unwrap();
    std::fs::copy(probe(), root.join("bin/probe")).unwrap();
    std::fs::set_permissions(
        root.join("bin/probe"),
        std::fs::Permissions::from_mode(0o4755),
    )
    .unwrap();
    std::fs::write(
        root.join("etc/passwd"),
        "root:x:0:0:root:/:/bin/sh\nu:x:1000:1000::/:/bin/sh\n",
    )
    .unwrap();
    b.edit_spec(edit);
    b
}

/// `key=value` lines of a script's output.
fn values(out: &str) -> BTreeMap<String, String> {
    out.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

const EROFS: &str = "Read-only file system";

#[test]
fn masked_paths_hide_files_and_directories() {
    let script = r#"
        echo secret=$(wc -c < /etc/secret)
        echo secret_type=$(stat -c %F:%t:%T /etc/secret)
        echo secret_write=$(sh -c 'echo x > /etc/secret && echo ok' 2>&1)
        echo visible=$(cat /etc/visible)
        echo linked=$(wc -c < /etc/secret2)
        echo private=$(ls -A /opt/private | wc -l)
        echo private_touch=$(touch /opt/private/new 2>&1)
        echo firmware=$(grep -c '^tmpfs /sys/firmware tmpfs ro,' /proc/self/mounts)
        echo private_mount=$(grep -c '^tmpfs /opt/private tmpfs ro,' /proc/self/mounts)
        echo secret_mount=$(grep -c ' /etc/secret tmpfs ' /proc/self/mounts)
        echo kcore=$(ls /proc/kcore 2>&1 >/dev/null | grep -c 'No such file')
    "#;
    let b = bundle("masked", script, |s| {
        s["root"]["readonly"] = false.into();
        s["linux"]["maskedPaths"] = json!([
            "/etc/secret",
            "/etc/link",
            "/opt/private",
            "/sys/firmware",
            "/proc/kcore",
            "/no/such/path",
        ]);
        s["linux"]["readonlyPaths"] = json!([]);
    });
    let root = b.rootfs();
    std::fs::write(root.join("etc/secret"), "top secret\n").unwrap();
    std::fs::write(root.join("etc/secret2"), "also secret\n").unwrap();
    symlink("secret2", root.join("etc/link")).unwrap();
    std::fs::write(root.join("etc/visible"), "shown\n").unwrap();
    std::fs::create_dir_all(root.join("opt/private")).unwrap();
    std::fs::write(root.join("opt/private/key"), "k\n").unwrap();
    let out = b.run_ok("m1");
    let v = values(&out);
    let want = [
        ("secret", "0"),
        // As runc: /dev/null is bound over a file; what is written there vanishes.
        ("secret_type", "character special file:1:3"),
        ("secret_write", "ok"),
        ("visible", "shown"),
        // A symlink is followed to what it names.
        ("linked", "0"),
        ("private", "0"),
        (
            "private_touch",
            &format!("touch: /opt/private/new: {EROFS}"),
        ),
        ("firmware", "1"),
        ("private_mount", "1"),
        ("secret_mount", "1"),
        // An absent path is skipped, not made.
        ("kcore", "1"),
    ];
    for (k, val) in want {
        assert_eq!(v.get(k).map(String::as_str), Some(val), "{k}:\n{out}");
    }
    // The host's files are untouched.
    assert_eq!(
        std::fs::read_to_string(root.join("etc/secret")).unwrap(),
        "top secret\n"
    );

    // The container's own program, masked, is not run: as runc masks before it executes
    // it, the program is /dev/null (EACCES) or gone with its directory (ENOENT).
    for (masked, exe, why) in [
        ("/bin/probe", "/bin/probe", "Permission denied"),
        ("/bin", "/bin/probe", "No such file or directory"),
    ] {
        let b = bundle("masked-exe", "", |s| {
            s["process"]["args"] = json!([exe]);
            s["linux"]["maskedPaths"] = json!([masked]);
        });
        let o = b.rv(&["run", "--bundle", b.dir.to_str().unwrap(), "m2"]);
        assert!(!o.status.success(), "{}", text(&o));
        assert!(!String::from_utf8_lossy(&o.stdout).contains("euid="));
        let errors = b.logged("error").join("\n");
        assert!(errors.contains(why), "{masked}: {errors}");
    }
}

#[test]
fn readonly_paths_refuse_changes_with_erofs() {
    let script = r#"
        echo rofile=$(cat /etc/ro-file)
        echo rofile_write=$(sh -c 'echo x > /etc/ro-file' 2>&1)
        echo rodir_touch=$(touch /etc/ro-dir/new 2>&1)
        echo rodir_rm=$(rm /etc/ro-dir/f 2>&1)
        echo rodir_f=$(cat /etc/ro-dir/f)
        echo procsys=$(sh -c 'echo x > /proc/sys/kernel/hostname' 2>&1)
        echo procsys_read=$(cat /proc/sys/kernel/ostype)
        echo other=$(echo y > /etc/other && cat /etc/other)
        echo tmp=$(echo z > /etc/ro-dir-sibling && cat /etc/ro-dir-sibling)
        grep -E ' /etc/ro-file | /etc/ro-dir | /proc/sys ' /proc/self/mounts | sed 's/^/mount=/'
    "#;
    let b = bundle("readonly", script, |s| {
        s["root"]["readonly"] = false.into();
        s["linux"]["readonlyPaths"] =
            json!(["/etc/ro-file", "/etc/ro-dir", "/proc/sys", "/no/such"]);
    });
    let root = b.rootfs();
    std::fs::write(root.join("etc/ro-file"), "original\n").unwrap();
    std::fs::create_dir_all(root.join("etc/ro-dir")).unwrap();
    std::fs::write(root.join("etc/ro-dir/f"), "kept\n").unwrap();
    let out = b.run_ok("r1");
    let v = values(&out);
    let want = [
        ("rofile", "original".to_string()),
        (
            "rofile_write",
            format!("sh: can't create /etc/ro-file: {EROFS}"),
        ),
        ("rodir_touch", format!("touch: /etc/ro-dir/new: {EROFS}")),
        (
            "rodir_rm",
            format!("rm: can't remove '/etc/ro-dir/f': {EROFS}"),
        ),
        ("rodir_f", "kept".to_string()),
        (
            "procsys",
            format!("sh: can't create /proc/sys/kernel/hostname: {EROFS}"),
        ),
        ("procsys_read", "Linux".to_string()),
        // Elsewhere the root stays writable.
        ("other", "y".to_string()),
        ("tmp", "z".to_string()),
    ];
    for (k, val) in want {
        assert_eq!(v.get(k), Some(&val), "{k}:\n{out}");
    }
    let mounts: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("mount="))
        .collect();
    assert_eq!(mounts.len(), 3, "{out}");
    for (point, kind) in [
        ("/etc/ro-file", "overlay"),
        ("/etc/ro-dir", "overlay"),
        ("/proc/sys", "proc"),
    ] {
        assert!(
            mounts
                .iter()
                .any(|m| m.contains(&format!(" {point} {kind} ro,"))),
            "{point}: {mounts:?}"
        );
    }
}

#[test]
fn rlimits_and_no_new_privileges_apply_to_pid_1() {
    let script = r#"
        grep -E '^Max (open files|processes|core file size) ' /proc/self/limits
        echo soft=$(ulimit -n) hard=$(ulimit -Hn)
        grep NoNewPrivs /proc/self/status
        echo probe: $(/bin/probe)
    "#;
    let spec = |nnp: bool| {
        move |s: &mut Value| {
            s["process"]["user"] = json!({"uid": 1000, "gid": 1000});
            s["process"]["noNewPrivileges"] = nnp.into();
            s["process"]["rlimits"] = json!([
                {"type": "RLIMIT_NOFILE", "soft": 512, "hard": 2048},
                {"type": "RLIMIT_NPROC", "soft": 200, "hard": 300},
                {"type": "RLIMIT_CORE", "soft": 1000, "hard": 2000},
            ]);
        }
    };
    let b = bundle("rlimits", script, spec(true));
    let out = b.run_ok("l1");
    let lines: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    let limit = |name: &str| {
        lines
            .iter()
            .find(|l| l.join(" ").starts_with(name))
            .map(|l| l[l.len() - 3..l.len() - 1].join(" "))
    };
    assert_eq!(
        limit("Max core file size").as_deref(),
        Some("1000 2000"),
        "{out}"
    );
    assert_eq!(limit("Max processes").as_deref(), Some("200 300"), "{out}");
    assert_eq!(
        limit("Max open files").as_deref(),
        Some("512 2048"),
        "{out}"
    );
    assert!(out.contains("soft=512 hard=2048\n"), "{out}");
    assert!(out.contains("NoNewPrivs:\t1\n"), "{out}");
    // A setuid-root program run by uid 1000 does not become root.
    assert!(
        out.contains("probe: euid=1000 nnp=1 nofile=512/2048\n"),
        "{out}"
    );

    // Without noNewPrivileges, the same program does.
    let b = bundle("rlimits-nnp0", script, spec(false));
    let out = b.run_ok("l2");
    assert!(out.contains("NoNewPrivs:\t0\n"), "{out}");
    assert!(
        out.contains("probe: euid=0 nnp=0 nofile=512/2048\n"),
        "{out}"
    );

    // A limit setrlimit(2) would refuse stops the container before it runs.
    let b = bundle("rlimits-bad", "echo ran", |s| {
        s["process"]["rlimits"] = json!([{"type": "RLIMIT_NOFILE", "soft": 1, "hard": 4_194_304}]);
    });
    let o = b.rv(&["run", "--bundle", b.dir.to_str().unwrap(), "l3"]);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(!String::from_utf8_lossy(&o.stdout).contains("ran"));
    let errors = b.logged("error").join("\n");
    assert!(
        errors.contains("setting rlimit 7: Operation not permitted"),
        "{errors}"
    );
}

#[test]
fn exec_gets_the_process_settings() {
    become_subreaper();
    let b = bundle("exec", "echo ready; while :; do sleep 0.05; done", |s| {
        s["process"]["user"] = json!({"uid": 1000, "gid": 1000});
        s["process"]["noNewPrivileges"] = false.into();
        s["process"]["rlimits"] = json!([{"type": "RLIMIT_NOFILE", "soft": 300, "hard": 600}]);
    });
    let pid = b.start_ready("x1");
    let probe = |args: &[&str]| {
        let o = b.rv(args);
        assert!(o.status.success(), "{args:?}: {}", text(&o));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    // The container's own process settings.
    assert_eq!(
        probe(&["exec", "x1", "/bin/probe"]),
        "euid=0 nnp=0 nofile=300/600\n"
    );
    // runc's --no-new-privs.
    assert_eq!(
        probe(&["exec", "--no-new-privs", "x1", "/bin/probe"]),
        "euid=1000 nnp=1 nofile=300/600\n"
    );
    // A --process file's own.
    let file = b.dir.join("process.json");
    let process = |rlimits: Value| {
        json!({
            "args": ["/bin/probe"], "cwd": "/", "env": ["PATH=/bin"],
            "user": {"uid": 1000, "gid": 1000}, "noNewPrivileges": true, "rlimits": rlimits,
        })
        .to_string()
    };
    std::fs::write(
        &file,
        process(json!([{"type": "RLIMIT_NOFILE", "soft": 100, "hard": 200}])),
    )
    .unwrap();
    let file_arg = file.to_str().unwrap();
    assert_eq!(
        probe(&["exec", "--process", file_arg, "x1"]),
        "euid=1000 nnp=1 nofile=100/200\n"
    );
    // One setrlimit(2) would refuse: that exec fails, the container runs on.
    std::fs::write(
        &file,
        process(json!([{"type": "RLIMIT_NOFILE", "soft": 1, "hard": 4_194_304}])),
    )
    .unwrap();
    let o = b.rv(&["exec", "--process", file_arg, "x1"]);
    assert!(!o.status.success(), "{}", text(&o));
    let errors = b.logged("error").join("\n");
    assert!(
        errors.contains("setting rlimit 7: Operation not permitted"),
        "{errors}"
    );
    assert_eq!(
        probe(&["exec", "x1", "sh", "-c", "grep NoNewPrivs /proc/1/status"]),
        "NoNewPrivs:\t0\n"
    );
    b.delete_and_wait("x1", pid);
}

#[test]
fn cgroup_mounts_are_a_read_only_cgroup2_view_and_mqueue_is_mounted() {
    let script = r#"
        grep -E ' /sys/fs/cgroup | /dev/mqueue ' /proc/self/mounts | sed 's/^/mount=/'
        echo controllers=$(cat /sys/fs/cgroup/cgroup.controllers)
        echo procs=$(cat /sys/fs/cgroup/cgroup.procs | head -n 1)
        echo magic=$(stat -f -c %t /sys/fs/cgroup)
        echo mkdir=$(mkdir /sys/fs/cgroup/sub 2>&1)
        echo write=$(sh -c 'echo 1 > /sys/fs/cgroup/cgroup.procs' 2>&1)
        echo mqueue=$(ls -A /dev/mqueue | wc -l)
    "#;
    let b = bundle("cgroup-view", script, |s| {
        let mounts = s["mounts"].as_array_mut().unwrap();
        mounts.push(
            json!({"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
                           "options": ["nosuid", "noexec", "nodev"]}),
        );
        mounts.push(
            json!({"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
                           "options": ["nosuid", "noexec", "nodev", "relatime"]}),
        );
    });
    let out = b.run_ok("c1");
    let mounts: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("mount="))
        .collect();
    assert_eq!(
        mounts,
        [
            "mqueue /dev/mqueue mqueue rw,nosuid,nodev,noexec,relatime 0 0",
            "cgroup /sys/fs/cgroup cgroup2 ro,nosuid,nodev,noexec,relatime 0 0"
        ],
        "{out}"
    );
    let v = values(&out);
    let want = [
        ("controllers", "cpu memory pids".to_string()),
        ("procs", "1".to_string()),
        ("magic", "63677270".to_string()),
        (
            "mkdir",
            format!("mkdir: can't create directory '/sys/fs/cgroup/sub': {EROFS}"),
        ),
        (
            "write",
            format!("sh: can't create /sys/fs/cgroup/cgroup.procs: {EROFS}"),
        ),
        ("mqueue", "0".to_string()),
    ];
    for (k, val) in want {
        assert_eq!(v.get(k), Some(&val), "{k}:\n{out}");
    }
    let warnings = b.logged("warning").join("\n");
    assert!(!warnings.contains("mqueue"), "{warnings}");
    assert!(
        warnings.contains("the cgroup mount on /sys/fs/cgroup is read-only"),
        "{warnings}"
    );
}

/// The value of one file of the container's host cgroup, v1 (`ctl/...`) or v2.
fn cgroup_file(v1: &str, v2: &str, path: &str) -> String {
    let (dir, file) = if Path::new("/sys/fs/cgroup/cpu").is_dir() {
        let (ctl, file) = v1.split_once('/').unwrap();
        (format!("/sys/fs/cgroup/{ctl}{path}"), file)
    } else {
        (format!("/sys/fs/cgroup{path}"), v2)
    };
    std::fs::read_to_string(Path::new(&dir).join(file))
        .unwrap_or_else(|e| panic!("{dir}/{file}: {e}"))
        .trim()
        .to_string()
}

#[test]
fn update_takes_runc_single_value_flags() {
    become_subreaper();
    let path = format!("/rvisor-test-ocispec/{}", std::process::id());
    let b = bundle("update", "echo ready; while :; do sleep 0.05; done", |s| {
        s["linux"]["resources"] = json!({"memory": {"limit": 67_108_864}, "pids": {"limit": 100}});
        s["linux"]["cgroupsPath"] = path.clone().into();
    });
    let pid = b.start_ready("u1");
    let stats = || -> Value {
        let o = b.rv(&["events", "--stats", "u1"]);
        assert!(o.status.success(), "{}", text(&o));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let o = b.rv(&[
        "update",
        "--memory",
        "32m",
        "--memory-reservation=16M",
        "--cpu-shares",
        "512",
        "--cpu-period=100000",
        "--cpu-quota=50000",
        "--cpuset-cpus=0",
        "--pids-limit=40",
        "u1",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let s = stats();
    assert_eq!(s["data"]["memory"]["usage"]["limit"], 32 << 20, "{s}");
    assert_eq!(s["data"]["pids"]["limit"], 40, "{s}");
    if Path::new("/sys/fs/cgroup/cpu").is_dir() {
        assert_eq!(cgroup_file("cpu/cpu.shares", "", &path), "512");
        assert_eq!(cgroup_file("cpu/cpu.cfs_quota_us", "", &path), "50000");
        assert_eq!(cgroup_file("cpuset/cpuset.cpus", "", &path), "0");
        assert_eq!(
            cgroup_file("memory/memory.soft_limit_in_bytes", "", &path),
            (16u64 << 20).to_string()
        );
    } else {
        assert_eq!(cgroup_file("", "cpu.max", &path), "50000 100000");
        assert_eq!(cgroup_file("", "cpuset.cpus", &path), "0");
        assert_eq!(
            cgroup_file("", "memory.low", &path),
            (16u64 << 20).to_string()
        );
    }
    // Flags not given leave their values; ignored ones warn; "-1" is unlimited.
    let o = b.rv(&[
        "update",
        "--kernel-memory",
        "10m",
        "--pids-limit",
        "-1",
        "u1",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("--kernel-memory: kernel memory settings are ignored"),
        "{}",
        text(&o)
    );
    let s = stats();
    assert_eq!(s["data"]["memory"]["usage"]["limit"], 32 << 20, "{s}");
    assert_eq!(s["data"]["pids"]["limit"], 0, "unlimited: {s}");
    // Bad values: one clear error, nothing changed.
    for (args, want) in [
        (&["--memory", "lots"][..], "invalid value for memory"),
        (&["--cpu-shares", "-1"][..], "invalid value for cpu-shares"),
        (
            &["--blkio-weight", "5"][..],
            "invalid value for blkio-weight",
        ),
        (&["--swappiness", "5"][..], "flag provided but not defined"),
    ] {
        let mut all = args.to_vec();
        all.push("u1");
        let o = b.rv(&["update"].iter().chain(&all).copied().collect::<Vec<_>>());
        assert!(!o.status.success(), "{args:?}: {}", text(&o));
        let errors = b.logged("error").join("\n");
        assert!(errors.contains(want), "{args:?}: {errors}");
    }
    assert_eq!(stats()["data"]["memory"]["usage"]["limit"], 32 << 20);
    b.delete_and_wait("u1", pid);
    for ctl in [
        "pids", "memory", "cpu", "cpuacct", "cpuset", "freezer", "devices", "",
    ] {
        let _ = std::fs::remove_dir(format!("/sys/fs/cgroup/{ctl}/rvisor-test-ocispec"));
    }
}

/// `linux.resources.devices` on the host's cgroup v1 devices controller: the spec's rules in
/// their order, then the allows the sandbox's own processes need (/dev/null; /dev/kvm on the
/// kvm platform). A Docker-style spec (deny everything, then an allow-list without those)
/// still runs, and exec works; the devices cgroup goes with `delete`.
#[test]
fn device_rules_reach_the_host_cgroup_and_the_sandbox_still_runs() {
    if !Path::new("/sys/fs/cgroup/devices").is_dir() {
        eprintln!("skipping: no cgroup v1 devices controller on this host");
        return;
    }
    become_subreaper();
    let mut platforms = vec!["seccomp"];
    if Path::new("/dev/kvm").exists() {
        platforms.push("kvm");
    }
    let script = r#"
        echo null=$(echo x > /dev/null && cat /dev/null && echo ok)
        echo zero=$(head -c 3 /dev/zero | wc -c)
        echo urandom=$(head -c 5 /dev/urandom | wc -c)
        echo ready
        while :; do sleep 0.05; done
    "#;
    for platform in platforms {
        let path = format!(
            "/rvisor-test-ocispec/devices-{platform}-{}",
            std::process::id()
        );
        let b = bundle(&format!("devices-{platform}"), script, |s| {
            s["linux"]["cgroupsPath"] = path.clone().into();
            s["linux"]["resources"]["devices"] = json!([
                {"allow": false, "access": "rwm"},
                {"allow": true, "type": "c", "major": 10, "minor": 229, "access": "rwm"},
                {"allow": true, "type": "c", "major": 136, "access": "rwm"},
                {"allow": true, "type": "c", "major": -1, "minor": -1, "access": "m"},
                {"allow": true, "type": "b", "major": 8, "minor": 0, "access": "r"},
            ]);
        });
        let pid = b.create_with(&["--platform", platform], "d1");
        let list =
            std::fs::read_to_string(format!("/sys/fs/cgroup/devices{path}/devices.list")).unwrap();
        let mut want = "c 10:229 rwm\nc 136:* rwm\nc *:* m\nb 8:0 r\nc 1:3 rw\n".to_string();
        if platform == "kvm" {
            want.push_str("c 10:232 rw\n");
        }
        assert_eq!(list, want, "{platform}");
        let o = b.rv(&["start", "d1"]);
        assert!(o.status.success(), "{platform}: start: {}", text(&o));
        common::wait_for("ready", || b.out().contains("ready"));
        let v = values(&b.out());
        for (k, want) in [("null", "ok"), ("zero", "3"), ("urandom", "5")] {
            assert_eq!(
                v.get(k).map(String::as_str),
                Some(want),
                "{platform}: {k}: {}",
                b.out()
            );
        }
        let o = b.rv(&[
            "exec",
            "d1",
            "sh",
            "-c",
            "echo x > /dev/null && echo exec-ok",
        ]);
        assert!(o.status.success(), "{platform}: exec: {}", text(&o));
        assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "exec-ok");
        b.delete_and_wait("d1", pid);
        assert!(
            !Path::new(&format!("/sys/fs/cgroup/devices{path}")).exists(),
            "{platform}: the devices cgroup outlived delete"
        );
    }
    for ctl in [
        "pids", "memory", "cpu", "cpuacct", "cpuset", "freezer", "devices",
    ] {
        let _ = std::fs::remove_dir(format!("/sys/fs/cgroup/{ctl}/rvisor-test-ocispec"));
    }
}

/// `linux.sysctl` reaches the Sentry's /proc/sys: the spec's values show, the files are 0644
/// root's, and later writes are checked as Linux checks them (root without CAP_NET_ADMIN may
/// not change ip_forward; another user may not open the files for writing; a bad number is
/// EINVAL). Without the spec's value, ip_forward is 0, as in a new network namespace. A
/// sysctl the sandbox does not have fails `create` with one line.
#[test]
fn sysctls_are_set_in_the_sandbox_proc_sys() {
    become_subreaper();
    let script = r#"
        cd /proc/sys
        echo fwd=$(cat net/ipv4/ip_forward)
        echo fwd_stat=$(stat -c '%a:%u:%g' net/ipv4/ip_forward)
        echo start=$(cat net/ipv4/ip_unprivileged_port_start)
        echo ping=$(cat net/ipv4/ping_group_range)
        echo somaxconn=$(cat net/core/somaxconn)
        echo msg_max=$(cat fs/mqueue/msg_max)
        echo domain=$(cat kernel/domainname)
        echo ipv4=$(ls net/ipv4 | tr '\n' ,)
        echo fwd_write=$(sh -c 'echo 0 > net/ipv4/ip_forward' 2>&1)
        echo start_write=$(sh -c 'echo 80 > net/ipv4/ip_unprivileged_port_start && cat net/ipv4/ip_unprivileged_port_start' 2>&1)
        echo bad_write=$(sh -c 'echo many > net/core/somaxconn' 2>&1)
        echo ready
        while :; do sleep 0.05; done
    "#;
    let b = bundle("sysctl", script, |s| {
        s["linux"]["sysctl"] = json!({
            "net.ipv4.ip_forward": "1",
            "net.ipv4.ip_unprivileged_port_start": "0",
            "net.ipv4.ping_group_range": "0 2147483647",
            "net/core/somaxconn": "128",
            "fs.mqueue.msg_max": "20",
            "kernel.domainname": "example.org",
        });
        // The default spec makes /proc/sys read-only (EROFS before any of these checks).
        s["linux"]["readonlyPaths"] = json!([]);
    });
    let pid = b.start_ready("s1");
    let v = values(&b.out());
    for (k, want) in [
        ("fwd", "1".to_string()),
        ("fwd_stat", "644:0:0".to_string()),
        ("start", "0".to_string()),
        ("ping", "0 2147483647".to_string()),
        ("somaxconn", "128".to_string()),
        ("msg_max", "20".to_string()),
        ("domain", "example.org".to_string()),
        (
            "ipv4",
            "ip_forward,ip_local_port_range,ip_unprivileged_port_start,ping_group_range,"
                .to_string(),
        ),
        (
            "fwd_write",
            "sh: write error: Operation not permitted".to_string(),
        ),
        ("start_write", "80".to_string()),
        ("bad_write", "sh: write error: Invalid argument".to_string()),
    ] {
        assert_eq!(v.get(k), Some(&want), "{k}:\n{}", b.out());
    }
    let o = b.rv(&[
        "exec",
        "--user",
        "1000:1000",
        "s1",
        "sh",
        "-c",
        "echo 1 > /proc/sys/net/ipv4/ip_unprivileged_port_start",
    ]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("Permission denied"),
        "{}",
        text(&o)
    );
    b.delete_and_wait("s1", pid);

    let b = bundle(
        "sysctl-default",
        "cat /proc/sys/net/ipv4/ip_forward",
        |_| {},
    );
    assert_eq!(b.run_ok("s2"), "0\n");

    // A sysctl that is no namespace's (runc refuses it too): one error.
    b.edit_spec(|s| s["linux"]["sysctl"] = json!({"kernel.printk": "4"}));
    let o = b.rv(&["create", "--bundle", b.dir.to_str().unwrap(), "s3"]);
    assert!(!o.status.success(), "{}", text(&o));
    let err = b.last_logged_error();
    assert!(
        err.contains("linux.sysctl[\"kernel.printk\"]: a sysctl the sandbox does not have"),
        "{err}"
    );
    assert_eq!(b.logged("error").len(), 1, "{:?}", b.logged("error"));
}
