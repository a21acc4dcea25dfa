//! Tests of loading, checking and validating whole configs.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;

mod checks;

/// A config in the shape `runc spec` produces (written for these tests).
pub(super) const RUNC_STYLE: &str = r#"{
	"ociVersion": "1.0.2-dev",
	"process": {
		"terminal": true,
		"user": { "uid": 0, "gid": 0 },
		"args": [ "sh" ],
		"env": [
			"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"TERM=xterm"
		],
		"cwd": "/",
		"capabilities": {
			"bounding": [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ],
			"effective": [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ],
			"inheritable": [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ],
			"permitted": [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ],
			"ambient": [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ]
		},
		"rlimits": [ { "type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024 } ],
		"noNewPrivileges": true
	},
	"root": { "path": "rootfs", "readonly": true },
	"hostname": "testbox",
	"mounts": [
		{ "destination": "/proc", "type": "proc", "source": "proc" },
		{ "destination": "/dev", "type": "tmpfs", "source": "tmpfs",
		  "options": [ "nosuid", "strictatime", "mode=755", "size=65536k" ] },
		{ "destination": "/dev/pts", "type": "devpts", "source": "devpts",
		  "options": [ "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5" ] },
		{ "destination": "/dev/shm", "type": "tmpfs", "source": "shm",
		  "options": [ "nosuid", "noexec", "nodev", "mode=1777", "size=65536k" ] },
		{ "destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
		  "options": [ "nosuid", "noexec", "nodev" ] },
		{ "destination": "/sys", "type": "sysfs", "source": "sysfs",
		  "options": [ "nosuid", "noexec", "nodev", "ro" ] },
		{ "destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
		  "options": [ "nosuid", "noexec", "nodev", "relatime", "ro" ] }
	],
	"linux": {
		"resources": { "devices": [ { "allow": false, "access": "rwm" } ] },
		"namespaces": [
			{ "type": "pid" }, { "type": "network" }, { "type": "ipc" },
			{ "type": "uts" }, { "type": "mount" }, { "type": "cgroup" }
		],
		"maskedPaths": [
			"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
			"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
			"/proc/scsi"
		],
		"readonlyPaths": [
			"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"
		]
	}
}"#;

/// A config in the shape Docker/containerd write, with many fields (written for these tests),
/// plus unknown fields at several levels and a few JSON nulls.
const DOCKER_STYLE: &str = r#"{
  "ociVersion": "1.1.0",
  "process": {
    "user": {"uid": 1000, "gid": 1000, "umask": 18, "additionalGids": [10, 27]},
    "args": ["/usr/local/bin/server", "--port", "8080"],
    "env": ["PATH=/usr/local/bin:/usr/bin:/bin", "HOSTNAME=c0ffee", "EMPTY="],
    "cwd": "/srv/app",
    "consoleSize": {"height": 40, "width": 120},
    "capabilities": {
      "bounding": ["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FSETID","CAP_FOWNER","CAP_MKNOD",
        "CAP_NET_RAW","CAP_SETGID","CAP_SETUID","CAP_SETFCAP","CAP_SETPCAP",
        "CAP_NET_BIND_SERVICE","CAP_SYS_CHROOT","CAP_KILL","CAP_AUDIT_WRITE"],
      "effective": ["CAP_CHOWN","CAP_KILL"],
      "permitted": ["CAP_CHOWN","CAP_KILL"],
      "inheritable": null
    },
    "rlimits": [
      {"type": "RLIMIT_NOFILE", "hard": 1048576, "soft": 1048576},
      {"type": "RLIMIT_NPROC", "hard": 18446744073709551615, "soft": 4096}
    ],
    "apparmorProfile": "docker-default",
    "oomScoreAdj": 500,
    "noNewPrivileges": false,
    "someFutureField": {"nested": [1, 2, 3]}
  },
  "root": {"path": "rootfs"},
  "hostname": "c0ffee",
  "domainname": "example.org",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid","noexec","nodev"]},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid","strictatime","mode=755","size=65536k"]},
    {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid","noexec","newinstance","ptmxmode=0666","mode=0620","gid=5"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid","noexec","nodev","ro"]},
    {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["ro","nosuid","noexec","nodev"]},
    {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid","noexec","nodev"]},
    {"destination": "/dev/shm", "type": "bind", "source": "/var/lib/docker/containers/c0ffee/mounts/shm", "options": ["rbind","rprivate"]},
    {"destination": "/etc/resolv.conf", "type": "bind", "source": "/var/lib/docker/containers/c0ffee/resolv.conf", "options": ["rbind","rprivate"]},
    {"destination": "/data", "source": "/srv/data", "options": ["rbind","ro","rprivate"]},
    {"destination": "/scratch", "type": "overlay", "source": "overlay", "options": ["lowerdir=/a"]},
    {"destination": "/run", "type": "tmpfs", "source": "tmpfs", "options": null, "uidMappings": null}
  ],
  "hooks": {
    "prestart": [{"path": "/usr/bin/dockerd", "args": ["libnetwork-setkey", "-exec-root=/var/run/docker", "c0ffee", "abc"]}],
    "createRuntime": [{"path": "/usr/bin/nvidia-ctk", "args": ["nvidia-ctk", "hook"], "env": ["A=b"], "timeout": 10}],
    "poststop": null
  },
  "annotations": {"org.opencontainers.image.ref.name": "app", "io.kubernetes.cri.container-type": "container"},
  "linux": {
    "sysctl": {"net.ipv4.ip_unprivileged_port_start": "0", "net.ipv4.ping_group_range": "0 2147483647", "fs.mqueue.msg_max": "10"},
    "resources": {
      "devices": [
        {"allow": false, "access": "rwm"},
        {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
        {"allow": true, "type": "c", "major": 136, "access": "rwm"}
      ],
      "memory": {"limit": 536870912, "reservation": 268435456, "swap": 1073741824, "kernel": -1, "kernelTCP": 0, "swappiness": 60, "disableOOMKiller": false},
      "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0-1", "mems": "0", "realtimeRuntime": 0},
      "pids": {"limit": 100},
      "blockIO": {"weight": 500, "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}]},
      "hugepageLimits": [],
      "unified": {"memory.high": "400M"}
    },
    "cgroupsPath": "system.slice:docker:c0ffee",
    "namespaces": [
      {"type": "mount"},
      {"type": "network", "path": "/var/run/docker/netns/5d8c1a2b"},
      {"type": "uts"},
      {"type": "pid"},
      {"type": "ipc"},
      {"type": "cgroup", "path": ""}
    ],
    "devices": [{"path": "/dev/null", "type": "c", "major": 1, "minor": 3, "fileMode": 438, "uid": 0, "gid": 0}],
    "seccomp": {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1, "architectures": ["SCMP_ARCH_X86_64"],
      "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"}]},
    "rootfsPropagation": "rprivate",
    "maskedPaths": ["/proc/asound", "/proc/acpi", "/proc/kcore"],
    "readonlyPaths": ["/proc/bus", "/proc/sys"],
    "mountLabel": "",
    "intelRdt": null,
    "personality": {"domain": "LINUX"}
  },
  "windows": null,
  "vm": {"hypervisor": {"path": "/x"}}
}"#;

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A fresh, empty scratch directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("rvisor-oci-test-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A bundle directory with `config.json` = `config` and an empty `rootfs/`.
fn bundle_with(config: &str) -> TempDir {
    let t = TempDir::new();
    fs::create_dir(t.path().join("rootfs")).unwrap();
    fs::write(t.path().join("config.json"), config).unwrap();
    t
}

/// `base` parsed, changed by `edit`, as a `Spec`.
fn edited(base: &str, edit: impl FnOnce(&mut serde_json::Value)) -> Spec {
    let mut v: serde_json::Value = serde_json::from_str(base).unwrap();
    edit(&mut v);
    serde_json::from_value(v).unwrap()
}

pub(super) fn runc_with(edit: impl FnOnce(&mut serde_json::Value)) -> Spec {
    edited(RUNC_STYLE, edit)
}
#[test]
fn runc_style_config_loads() {
    let t = bundle_with(RUNC_STYLE);
    let b = load(t.path()).unwrap();
    assert_eq!(b.dir, fs::canonicalize(t.path()).unwrap());
    assert_eq!(b.rootfs, b.dir.join("rootfs"));
    assert_eq!(b.config, b.dir.join("config.json"));
    // All of it is honoured.
    assert!(b.warnings.is_empty(), "{:?}", b.warnings);
    let p = b.spec.process.as_ref().unwrap();
    assert!(p.terminal && p.no_new_privileges);
    assert_eq!(p.args, ["sh"]);
    assert_eq!(p.user, User::default());
    let caps = p.capabilities.as_ref().unwrap();
    assert_eq!(
        capability_mask(&caps.ambient).unwrap(),
        (1 << 29) | (1 << 5) | (1 << 10)
    );
    assert_eq!(b.spec.mounts.len(), 7);
    assert_eq!(b.spec.hostname.as_deref(), Some("testbox"));
    let linux = b.spec.linux.as_ref().unwrap();
    assert_eq!(linux.namespaces.len(), 6);
    assert!(linux.namespace(&NamespaceType::Cgroup).is_some());
    assert!(linux.namespace(&NamespaceType::User).is_none());
    assert_eq!(linux.masked_paths.len(), 10);
}

#[test]
fn docker_style_config_loads_with_warnings() {
    let t = bundle_with(DOCKER_STYLE);
    let b = load(t.path()).unwrap();
    let s = &b.spec;
    let p = s.process.as_ref().unwrap();
    assert_eq!(p.user.uid, 1000);
    assert_eq!(p.user.umask, Some(0o22));
    assert_eq!(p.user.additional_gids, [10, 27]);
    assert_eq!(
        p.console_size,
        Some(ConsoleSize {
            height: 40,
            width: 120
        })
    );
    assert!(p.capabilities.as_ref().unwrap().inheritable.is_empty());
    assert_eq!(p.rlimits[1].hard, u64::MAX);
    assert_eq!(p.oom_score_adj, Some(500));
    assert!(!p.terminal);
    assert_eq!(s.domainname.as_deref(), Some("example.org"));
    assert!(s.root.as_ref().is_some_and(|r| !r.readonly));
    assert!(s.mounts[8].is_bind() && s.mounts[8].kind.is_none());
    assert_eq!(
        b.mount_source(&s.mounts[8]),
        Some(PathBuf::from("/srv/data"))
    );
    assert!(s.mounts[10].options.is_empty());
    let hooks = s.hooks.as_ref().unwrap();
    assert_eq!(hooks.prestart[0].args[0], "libnetwork-setkey");
    assert_eq!(hooks.create_runtime[0].timeout, Some(10));
    assert!(hooks.poststop.is_empty());
    assert_eq!(s.annotations.len(), 2);
    let l = s.linux.as_ref().unwrap();
    let r = l.resources.as_ref().unwrap();
    let mem = r.memory.as_ref().unwrap();
    assert_eq!(mem.limit, Some(512 << 20));
    assert_eq!(mem.kernel, Some(-1));
    assert_eq!(mem.kernel_tcp, Some(0));
    assert_eq!(mem.disable_oom_killer, Some(false));
    let cpu = r.cpu.as_ref().unwrap();
    assert_eq!(
        (cpu.shares, cpu.quota, cpu.period),
        (Some(512), Some(50000), Some(100000))
    );
    assert_eq!(cpu.cpus.as_deref(), Some("0-1"));
    assert_eq!(r.pids.as_ref().unwrap().limit, Some(100));
    assert_eq!(r.block_io.as_ref().unwrap()["weight"], 500);
    assert_eq!(r.devices[2].minor, None);
    assert_eq!(r.unified["memory.high"], "400M");
    assert_eq!(
        l.cgroups_path.as_deref(),
        Some("system.slice:docker:c0ffee")
    );
    let net = l.namespace(&NamespaceType::Network).unwrap();
    assert_eq!(net.path.as_deref(), Some("/var/run/docker/netns/5d8c1a2b"));
    assert_eq!(l.devices[0].file_mode, Some(0o666));
    assert_eq!(l.sysctl.len(), 3);

    let fields: Vec<&str> = b.warnings.iter().map(|w| w.field.as_str()).collect();
    assert_eq!(
        fields,
        ["process.apparmorProfile", "mounts[9].type", "linux.seccomp",]
    );
    assert_eq!(
        b.warnings[1].to_string(),
        "mounts[9].type: mount type \"overlay\" on /scratch is not supported; mount skipped"
    );
}

#[test]
fn serialization_round_trips() {
    let spec = parse_spec(DOCKER_STYLE.as_bytes(), "c").unwrap();
    let text = serde_json::to_string(&spec).unwrap();
    assert_eq!(parse_spec(text.as_bytes(), "c").unwrap(), spec);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["linux"]["namespaces"][1]["type"], "network");
    assert_eq!(v["linux"]["resources"]["memory"]["kernelTCP"], 0);
    assert_eq!(v["linux"]["resources"]["blockIO"]["weight"], 500);
    assert_eq!(v["mounts"][0]["type"], "proc");
    assert!(v.get("windows").is_none());
}

#[test]
fn minimal_and_null_heavy_configs_parse() {
    let s = parse_spec(br#"{"ociVersion":"1.0.0"}"#, "c").unwrap();
    assert!(s.process.is_none() && s.root.is_none() && s.linux.is_none());
    let s = parse_spec(
        br#"{"ociVersion":"1.0.0","process":{"args":["x"],"cwd":"/","env":null,"rlimits":null,
            "capabilities":null,"user":{"uid":0,"gid":0,"additionalGids":null}},
            "root":{"path":"r"},"mounts":null,"annotations":null,"hooks":null,
            "linux":{"namespaces":null,"sysctl":null,"resources":{"devices":null}}}"#,
        "c",
    )
    .unwrap();
    check_spec(&s).unwrap();
    assert!(s.mounts.is_empty() && s.annotations.is_empty());
}

#[test]
fn malformed_json_names_the_position() {
    let e = parse_spec(
        b"{\n  \"ociVersion\": \"1.0.0\",\n  \"process\": {\n",
        "cfg.json",
    );
    match e.unwrap_err() {
        SpecError::Json { line, origin, .. } => {
            assert_eq!(origin, "cfg.json");
            assert_eq!(line, 4);
        }
        other => panic!("{other}"),
    }
    let e = parse_spec(b"{\"ociVersion\": \"1.0.0\",, }", "cfg.json").unwrap_err();
    assert_eq!(
        e.to_string(),
        "cfg.json: malformed JSON at line 1 column 24: key must be a string"
    );
    let e = parse_spec(b"{\"process\": {\"args\": \"sh\"}}", "c").unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.starts_with("c: malformed JSON at line 1 column "),
        "{msg}"
    );
    assert!(
        msg.contains("invalid type: string \"sh\", expected a sequence"),
        "{msg}"
    );
    assert_eq!(msg.matches(" at line ").count(), 1, "{msg}");
    let e = parse_spec(b"", "c").unwrap_err();
    assert!(e.to_string().contains("EOF while parsing"), "{e}");
    let e = parse_spec(b"[]", "c").unwrap_err();
    assert_eq!(
        e.to_string(),
        "c: malformed JSON at line 1 column 1: expected a JSON object"
    );
    let e = parse_process(b"\n  \"sh\"", "p").unwrap_err();
    assert_eq!(
        e.to_string(),
        "p: malformed JSON at line 2 column 3: expected a JSON object"
    );
    let e = parse_spec(br#"{"process": {"user": {"uid": -1}}}"#, "c").unwrap_err();
    assert!(e.to_string().contains("invalid value: integer `-1`"), "{e}");
}

#[test]
fn load_errors_name_the_cause() {
    let t = TempDir::new();
    let missing = t.path().join("nope");
    let e = load(&missing).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("bundle directory {} does not exist", missing.display())
    );

    let file = t.path().join("file");
    fs::write(&file, "").unwrap();
    assert!(matches!(load(&file), Err(SpecError::BundleNotDir(_))));

    let e = load(t.path()).unwrap_err();
    assert!(matches!(e, SpecError::FileMissing(_)), "{e}");
    assert!(e.to_string().ends_with("config.json does not exist"), "{e}");

    let b = bundle_with("{ \"ociVersion\": ");
    let e = load(b.path()).unwrap_err().to_string();
    assert!(
        e.contains("config.json: malformed JSON at line 1 column"),
        "{e}"
    );

    let b = bundle_with(RUNC_STYLE);
    fs::remove_dir(b.path().join("rootfs")).unwrap();
    let e = load(b.path()).unwrap_err();
    assert!(matches!(e, SpecError::RootfsMissing(_)), "{e}");
    assert!(e.to_string().starts_with("rootfs ") && e.to_string().ends_with("does not exist"));
    fs::write(b.path().join("rootfs"), "").unwrap();
    let e = load(b.path()).unwrap_err();
    assert!(matches!(e, SpecError::RootfsNotDir(_)), "{e}");
    assert!(e.to_string().ends_with("rootfs is not a directory"), "{e}");

    let no_process = r#"{"ociVersion": "1.0.0", "root": {"path": "rootfs"}}"#;
    let e = load(bundle_with(no_process).path()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid process: missing (a container needs a process to run)"
    );
}

#[test]
fn absolute_rootfs_and_relative_bundle() {
    let outer = TempDir::new();
    let rootfs = outer.path().join("elsewhere");
    fs::create_dir(&rootfs).unwrap();
    let spec = runc_with(|v| v["root"]["path"] = rootfs.display().to_string().into());
    let b = bundle_with(&serde_json::to_string(&spec).unwrap());
    let loaded = load(b.path()).unwrap();
    assert_eq!(loaded.rootfs, fs::canonicalize(&rootfs).unwrap());
    let m = Mount {
        source: Some("relative/src".into()),
        ..Mount::default()
    };
    assert_eq!(
        loaded.mount_source(&m),
        Some(loaded.dir.join("relative/src"))
    );
    assert_eq!(loaded.mount_source(&Mount::default()), None);
}
#[test]
fn exec_process_files() {
    let t = TempDir::new();
    let path = t.path().join("runc-process123");
    fs::write(
        &path,
        r#"{"terminal":false,"user":{"uid":0,"gid":0},"args":["ps","aux"],"env":["PATH=/bin"],
            "cwd":"/","capabilities":{"bounding":["CAP_KILL"]},"apparmorProfile":"docker-default",
            "noNewPrivileges":true,"unknown":1}"#,
    )
    .unwrap();
    let p = load_process(&path).unwrap();
    assert_eq!(p.args, ["ps", "aux"]);
    assert!(p.no_new_privileges);
    let w = validate_process(&p, "process");
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].field, "process.apparmorProfile");

    fs::write(&path, r#"{"args":["ps"],"cwd":"tmp"}"#).unwrap();
    assert_eq!(
        load_process(&path).unwrap_err().to_string(),
        "invalid process.cwd: \"tmp\" is not an absolute path"
    );
    fs::write(&path, "{\"args\":[\"ps\"],\n\"cwd\":}").unwrap();
    let e = load_process(&path).unwrap_err().to_string();
    assert!(e.contains("malformed JSON at line 2 column 7"), "{e}");
    let gone = t.path().join("gone");
    assert_eq!(
        load_process(&gone).unwrap_err().to_string(),
        format!("{} does not exist", gone.display())
    );
}
#[test]
fn resources_for_update() {
    let r = parse_resources(
        br#"{"memory":{"limit":1073741824,"swap":-1},"cpu":{"quota":-1,"period":100000,"burst":0,"idle":1},"pids":{"limit":0},"unified":null}"#,
        "-",
    )
    .unwrap();
    assert_eq!(r.memory.unwrap().swap, Some(-1));
    assert_eq!(r.cpu.as_ref().unwrap().idle, Some(1));
    assert_eq!(r.pids.unwrap().limit, Some(0));
    let e = parse_resources(b"{\"memory\": {\"limit\": \"1G\"}}", "-").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("-: malformed JSON at line 1 column"),
        "{e}"
    );
}

#[test]
fn json_error_without_a_position() {
    let e = SpecError::Json {
        origin: "x".into(),
        line: 0,
        column: 0,
        message: "m".into(),
    };
    assert_eq!(e.to_string(), "x: malformed JSON: m");
}
