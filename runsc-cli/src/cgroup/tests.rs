//! Host tests: real cgroups on this machine. They need root and a writable cgroup hierarchy,
//! and say why on stderr when they skip.

use super::*;
use std::io::Write as _;
use std::process::{Child, Command, Stdio};

/// Why the host tests cannot run here, if they cannot.
fn skip_reason(layout: &std::result::Result<Layout, CgroupError>) -> Option<String> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Some("not running as root".into());
    }
    let probe_in = match layout {
        Err(e) => return Some(e.to_string()),
        Ok(Layout::V1(mounts)) => mounts[0].mountpoint.clone(),
        Ok(Layout::V2 { root }) => root.clone(),
    };
    let probe = probe_in.join(format!("rvisor-probe-{}", std::process::id()));
    match fs::create_dir(&probe) {
        Ok(()) => {
            let _ = fs::remove_dir(&probe);
            None
        }
        Err(e) => Some(format!("{} is not writable: {e}", probe_in.display())),
    }
}

/// A `sh` that waits for a line on stdin, then execs `sleep 30`: started outside the cgroup,
/// it does its real work (exec, page faults) inside.
struct Sleeper(Child);

impl Sleeper {
    fn spawn() -> Sleeper {
        let child = Command::new("sh")
            .args(["-c", "read _ && exec sleep 30"])
            .stdin(Stdio::piped())
            .spawn()
            .expect("spawn sh");
        Sleeper(child)
    }

    fn pid(&self) -> u32 {
        self.0.id()
    }

    /// Lets it exec `sleep` and waits until it has.
    fn go(&mut self) {
        let mut stdin = self.0.stdin.take().expect("stdin");
        stdin.write_all(b"go\n").expect("write stdin");
        for _ in 0..500 {
            let comm = fs::read_to_string(format!("/proc/{}/comm", self.pid())).unwrap_or_default();
            if comm.trim() == "sleep" {
                return;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        panic!("child never became sleep");
    }

    /// The state letter of /proc/<pid>/stat.
    fn state(&self) -> char {
        let stat = fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap_or_default();
        stat.rsplit_once(") ")
            .and_then(|(_, rest)| rest.chars().next())
            .unwrap_or('?')
    }
}

impl Drop for Sleeper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn file(dir: &Path, name: &str) -> String {
    read(&dir.join(name)).expect("read").trim().to_string()
}

/// Removes the test's cgroup whatever happens to the test.
struct Cleanup(Vec<PathBuf>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for d in &self.0 {
            let _ = remove_tree(d);
            if let Some(parent) = d.parent() {
                let _ = fs::remove_dir(parent); // the shared test parent, if nobody else uses it
            }
        }
    }
}

#[test]
fn v1_host_cgroup() {
    let layout = Layout::detect();
    if let Some(why) = skip_reason(&layout) {
        eprintln!("skipping v1_host_cgroup: {why}");
        return;
    }
    let Ok(Layout::V1(mounts)) = &layout else {
        eprintln!("skipping v1_host_cgroup: this host uses cgroup v2");
        return;
    };
    let controllers: Vec<&str> = mounts.iter().flat_map(|m| m.controllers.clone()).collect();
    eprintln!("cgroup v1, controllers: {controllers:?}");
    for c in ["memory", "cpu", "cpuacct", "pids", "cpuset", "freezer"] {
        if !controllers.contains(&c) {
            eprintln!("skipping v1_host_cgroup: no {c} controller");
            return;
        }
    }

    let id = format!("t{}-v1", std::process::id());
    let path = format!("/rvisor-test/{id}");
    let res = Resources {
        memory_limit: Some(64 << 20),
        memory_reservation: Some(32 << 20),
        memory_swap: Some(128 << 20),
        cpu_shares: Some(512),
        cpu_quota: Some(50_000),
        cpu_period: Some(100_000),
        pids_limit: Some(50),
        devices: docker_devices(),
        sandbox_devices: sandbox_devices(true),
        ..Resources::default()
    };
    let has_devices = controllers.contains(&"devices");

    // A bad limit fails and leaves nothing behind.
    let bad = Resources {
        cpus: Some("4095".into()),
        ..res.clone()
    };
    let e = Cgroup::create(&path, &id, false, &bad).expect_err("cpu 4095 accepted");
    eprintln!("expected error: {e}");
    let probe = Cgroup::open(&path, &id, false).expect("open");
    for p in probe.paths() {
        assert!(!Path::new(&p).exists(), "{p} left behind");
    }

    let cg = Cgroup::create(&path, &id, false, &res).expect("create");
    let _cleanup = Cleanup(cg.dirs().iter().map(|d| d.to_path_buf()).collect());
    assert_eq!(cg.version(), Version::V1);
    let Inner::V1(v) = &cg.inner else {
        unreachable!()
    };
    let dir = |c| v.dir(c).expect("controller dir");
    assert_eq!(file(dir("memory"), "memory.limit_in_bytes"), "67108864");
    assert_eq!(
        file(dir("memory"), "memory.soft_limit_in_bytes"),
        "33554432"
    );
    if dir("memory").join("memory.memsw.limit_in_bytes").exists() {
        assert_eq!(
            file(dir("memory"), "memory.memsw.limit_in_bytes"),
            "134217728"
        );
    }
    assert_eq!(file(dir("cpu"), "cpu.shares"), "512");
    assert_eq!(file(dir("cpu"), "cpu.cfs_quota_us"), "50000");
    assert_eq!(file(dir("cpu"), "cpu.cfs_period_us"), "100000");
    assert_eq!(file(dir("pids"), "pids.max"), "50");
    let parent_cpus = file(dir("cpuset").parent().expect("parent"), "cpuset.cpus");
    assert!(!parent_cpus.is_empty());
    assert_eq!(file(dir("cpuset"), "cpuset.cpus"), parent_cpus);
    assert!(!file(dir("cpuset"), "cpuset.mems").is_empty());
    if has_devices {
        // In the spec's order, then the sandbox's own (mknod shown after read and write).
        assert_eq!(
            file(dir("devices"), "devices.list"),
            "c 10:229 rwm\nb 8:20 rw\nc 136:* rwm\nc *:* m\nc 1:3 rw\nc 10:232 rw"
        );
    }

    let mut child = Sleeper::spawn();
    cg.add_pid(child.pid()).expect("add_pid");
    child.go();
    for d in cg.dirs() {
        assert_eq!(
            file(d, "cgroup.procs"),
            child.pid().to_string(),
            "{}",
            d.display()
        );
    }
    assert_eq!(cg.pids().expect("pids"), [child.pid()]);

    cg.freeze().expect("freeze");
    assert_eq!(file(dir("freezer"), "freezer.state"), "FROZEN");
    let frozen_state = child.state();
    eprintln!("frozen process state: {frozen_state}");
    assert!("DT".contains(frozen_state), "state {frozen_state}");
    cg.thaw().expect("thaw");
    assert_eq!(file(dir("freezer"), "freezer.state"), "THAWED");
    // Just thawed, it may still be on its way back to sleep.
    let thawed_state = child.state();
    assert!("RS".contains(thawed_state), "state {thawed_state}");

    let s = cg.stats().expect("stats");
    eprintln!("{s:?}");
    assert_eq!(s.memory_limit, 64 << 20);
    assert!(s.memory_usage > 0 && s.memory_usage < 64 << 20);
    assert!(s.cpu_total_ns > 0);
    assert_eq!((s.pids_current, s.pids_limit), (1, 50));

    cg.update(&Resources {
        memory_limit: Some(128 << 20),
        memory_swap: Some(-1),
        cpu_quota: Some(-1),
        pids_limit: Some(-1),
        ..Resources::default()
    })
    .expect("update");
    assert_eq!(file(dir("memory"), "memory.limit_in_bytes"), "134217728");
    assert_eq!(file(dir("cpu"), "cpu.cfs_quota_us"), "-1");
    assert_eq!(file(dir("pids"), "pids.max"), "max");
    assert_eq!(cg.stats().expect("stats").pids_limit, 0);

    // `update` leaves the device rules as they are (runc's does too).
    cg.update(&Resources {
        devices: vec![rule(false, None, -1, -1, "rwm")],
        ..Resources::default()
    })
    .expect("update with devices");
    if has_devices {
        assert!(file(dir("devices"), "devices.list").starts_with("c 10:229 rwm\n"));
    }

    // Another process (as `delete` is) reopens it from the saved paths and removes it,
    // frozen and with a live process inside.
    cg.freeze().expect("freeze again");
    let paths = cg.paths();
    let loaded = Cgroup::load(&paths).expect("load");
    assert_eq!(loaded.paths(), paths);
    loaded.destroy(true).expect("destroy");
    let status = child.0.wait().expect("wait");
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9)
    );
    for p in &paths {
        assert!(!Path::new(p).exists(), "{p} still there");
    }
    // Again: everything already gone is fine.
    loaded.destroy(true).expect("destroy again");
    assert_eq!(loaded.pids().expect("pids"), Vec::<u32>::new());
}

/// The v2 code on the hybrid hierarchy at /sys/fs/cgroup/unified (no resource controllers
/// there, but directories, cgroup.procs, the freezer and cgroup.kill are v2's own).
#[test]
fn v2_on_unified_hierarchy() {
    let root = PathBuf::from(CGROUP_ROOT).join("unified");
    let layout = match fs_magic(&root) {
        Ok(CGROUP2_SUPER_MAGIC) => Ok(Layout::V2 { root: root.clone() }),
        Ok(_) | Err(_) => match fs_magic(Path::new(CGROUP_ROOT)) {
            Ok(CGROUP2_SUPER_MAGIC) => Ok(Layout::V2 {
                root: PathBuf::from(CGROUP_ROOT),
            }),
            _ => Err(CgroupError::NoHierarchy("no cgroup2 mount".into())),
        },
    };
    if let Some(why) = skip_reason(&layout) {
        eprintln!("skipping v2_on_unified_hierarchy: {why}");
        return;
    }
    let Ok(layout) = layout else { unreachable!() };
    let id = format!("t{}-v2", std::process::id());
    let path = format!("/rvisor-test/{id}");
    let cg = Cgroup::create_in(&layout, &path, &id, false, &Resources::default()).expect("create");
    let _cleanup = Cleanup(cg.dirs().iter().map(|d| d.to_path_buf()).collect());
    assert_eq!(cg.version(), Version::V2);
    let dir = cg.dirs()[0].to_path_buf();
    assert!(dir.is_dir());

    let mut child = Sleeper::spawn();
    cg.add_pid(child.pid()).expect("add_pid");
    child.go();
    assert_eq!(file(&dir, "cgroup.procs"), child.pid().to_string());

    cg.freeze().expect("freeze");
    assert_eq!(file(&dir, "cgroup.freeze"), "1");
    assert!(file(&dir, "cgroup.events").contains("frozen 1"));
    eprintln!("v2-frozen process state: {}", child.state());
    cg.thaw().expect("thaw");
    assert!(file(&dir, "cgroup.events").contains("frozen 0"));

    let s = cg.stats().expect("stats");
    eprintln!("{s:?}");
    assert!(s.cpu_total_ns > 0);

    // A limit for a controller this hierarchy lacks is refused with its name.
    let want_memory = Resources {
        memory_limit: Some(64 << 20),
        ..Resources::default()
    };
    let have_memory = file(&dir, "cgroup.controllers").contains("memory");
    if !have_memory {
        let e = cg
            .update(&want_memory)
            .expect_err("memory limit without a memory controller");
        assert!(matches!(e, CgroupError::MissingController("memory")), "{e}");
    }

    let paths = cg.paths();
    let loaded = Cgroup::load_in(&layout, &paths).expect("load");
    loaded.destroy(true).expect("destroy");
    let status = child.0.wait().expect("wait");
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9)
    );
    assert!(!dir.exists());
}

#[test]
fn load_refuses_odd_paths() {
    let layout = Layout::V2 {
        root: PathBuf::from("/sys/fs/cgroup"),
    };
    for p in [
        "relative/x",
        "/sys/fs/cgroup/../../etc",
        "/sys/fs/cgroup/./x",
        "/etc/passwd",
        "/sys/fs/cgroup",
        "/sys/fs/cgroup/a\nb",
    ] {
        assert!(Cgroup::load_in(&layout, &[p]).is_err(), "{p:?}");
    }
    let cg = Cgroup::load_in(&layout, &["/sys/fs/cgroup/rvisor/x"]).expect("load");
    assert_eq!(cg.paths(), ["/sys/fs/cgroup/rvisor/x"]);
}

#[test]
fn resources_are_checked() {
    for r in [
        Resources {
            memory_limit: Some(-5),
            ..Resources::default()
        },
        Resources {
            memory_limit: Some(100),
            memory_swap: Some(50),
            ..Resources::default()
        },
        Resources {
            cpus: Some("0-1; echo".into()),
            ..Resources::default()
        },
        Resources {
            cpu_quota: Some(-7),
            ..Resources::default()
        },
    ] {
        assert!(r.check().is_err(), "{r:?}");
    }
    assert!(Resources::default().check().is_ok());
    assert_eq!(Resources::default().pids(), None);
    let p = |n| {
        Resources {
            pids_limit: Some(n),
            ..Resources::default()
        }
        .pids()
    };
    assert_eq!(
        (p(0), p(-1), p(7)),
        (None, Some("max".into()), Some("7".into()))
    );
}

fn rule(allow: bool, kind: Option<&str>, major: i64, minor: i64, access: &str) -> DeviceRule {
    DeviceRule {
        allow,
        kind: kind.map(str::to_string),
        major: (major != -2).then_some(major),
        minor: (minor != -2).then_some(minor),
        access: Some(access.into()),
    }
}

/// Docker's shape: deny everything, then an allow-list (wildcards as -1 or absent: -2).
fn docker_devices() -> Vec<DeviceRule> {
    vec![
        rule(false, None, -2, -2, "rwm"),
        rule(true, Some("c"), 10, 229, "rwm"),
        rule(true, Some("b"), 8, 20, "rw"),
        rule(true, Some("c"), 136, -1, "rwm"),
        rule(true, Some("c"), -2, -2, "m"),
    ]
}

/// The rules as `file: line` writes.
fn writes(current: &str, spec: &[DeviceRule], own: &[DeviceRule]) -> Result<Vec<String>> {
    let w = devices::plan(current, spec, own)?;
    Ok(w.into_iter().map(|(f, l)| format!("{f}: {l}")).collect())
}

const ALLOW_ALL: &str = "a *:* rwm\n";

#[test]
fn device_rules_become_devices_allow_and_deny_lines() {
    assert_eq!(
        writes(ALLOW_ALL, &docker_devices(), &sandbox_devices(true)).unwrap(),
        [
            "devices.deny: a",
            "devices.allow: c 10:229 rwm",
            "devices.allow: b 8:20 rw",
            "devices.allow: c 136:* rwm",
            "devices.allow: c *:* m",
            "devices.allow: c 1:3 rw",
            "devices.allow: c 10:232 rw",
        ]
    );
    // runtime-tools' linux_cgroups_devices: "b" with "r" only, access letters kept as given.
    let spec = [
        rule(false, Some("a"), -1, -1, "rwm"),
        rule(true, Some("b"), 10, 200, "r"),
        rule(false, Some("b"), 8, -1, "mr"),
    ];
    assert_eq!(
        writes(ALLOW_ALL, &spec, &sandbox_devices(false)).unwrap(),
        [
            "devices.deny: a",
            "devices.allow: b 10:200 r",
            "devices.deny: b 8:* rm",
            "devices.allow: c 1:3 rw",
        ]
    );
    // Allow-all mode: a deny for one device, and the sandbox's own allows after it.
    let spec = [
        rule(true, Some("a"), -1, -1, "rwm"),
        rule(false, Some("c"), 1, 3, "rwm"),
    ];
    assert_eq!(
        writes(ALLOW_ALL, &spec, &sandbox_devices(false)).unwrap(),
        [
            "devices.allow: a",
            "devices.deny: c 1:3 rwm",
            "devices.allow: c 1:3 rw"
        ]
    );
    // Already deny-all (a parent's exceptions inherited): the own allow is still written.
    let spec = [rule(true, Some("c"), 5, 1, "rw")];
    assert_eq!(
        writes("c 1:3 rwm\n", &spec, &sandbox_devices(false)).unwrap(),
        ["devices.allow: c 5:1 rw", "devices.allow: c 1:3 rw"]
    );
}

#[test]
fn device_rules_that_would_lock_out_the_sandbox_fail() {
    // In allow-all, a wildcard deny cannot be undone by the own allow: a clear error.
    let spec = [rule(false, Some("c"), -1, -1, "rw")];
    let e = writes(ALLOW_ALL, &spec, &sandbox_devices(false)).unwrap_err();
    assert!(e.to_string().contains("leaves c 1:3 rw denied"), "{e}");
    // After a deny-all, the same rule is harmless: the own allows come last.
    let spec = [
        rule(false, Some("a"), -1, -1, "rwm"),
        rule(false, Some("c"), -1, -1, "rw"),
    ];
    assert!(writes(ALLOW_ALL, &spec, &sandbox_devices(true)).is_ok());
    // Denying mknod only is fine: the sandbox opens devices, it never makes them.
    let spec = [rule(false, Some("c"), -1, -1, "m")];
    assert!(writes(ALLOW_ALL, &spec, &sandbox_devices(true)).is_ok());
}

#[test]
fn bad_device_rules_are_refused() {
    for bad in [
        rule(true, Some("x"), 1, 3, "r"),
        rule(true, Some("u"), 1, 3, "r"),
        rule(true, Some("c"), -7, 3, "r"),
        rule(true, Some("c"), 1, 1 << 40, "r"),
        rule(true, Some("c"), 1, 3, ""),
        rule(true, Some("c"), 1, 3, "rx"),
        DeviceRule {
            access: None,
            ..rule(true, Some("c"), 1, 3, "r")
        },
    ] {
        let r = Resources {
            devices: vec![bad.clone()],
            ..Resources::default()
        };
        assert!(r.check().is_err(), "{bad:?}");
        assert!(writes(ALLOW_ALL, &[bad], &[]).is_err());
    }
}
