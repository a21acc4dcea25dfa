//! Tests of the structural checks (`check_spec`) and of rvisor's support classification
//! (`validate`), each failure by its message.

use super::super::*;
use super::runc_with;

fn check_err(spec: &Spec) -> String {
    check_spec(spec).unwrap_err().to_string()
}

fn validate_err(spec: &Spec) -> String {
    check_spec(spec).unwrap();
    validate(spec).unwrap_err().to_string()
}

fn warning_fields(spec: &Spec) -> Vec<String> {
    check_spec(spec).unwrap();
    validate(spec)
        .unwrap()
        .into_iter()
        .map(|w| w.field)
        .collect()
}
#[test]
fn oci_versions() {
    for v in [
        "1.0.0",
        "1.0.2-dev",
        "1.1.0",
        "1.2.0+dev",
        "1.3.0-rc.1",
        "1",
        "",
    ] {
        check_version(v).unwrap();
    }
    for v in ["0.5.0", "2.0.0", "10.0", "v1.0.0", "x"] {
        let e = check_version(v).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("unsupported ociVersion {v:?}: rvisor implements runtime-spec 1.x")
        );
    }
    let s = runc_with(|v| v["ociVersion"] = "2.0.0".into());
    assert!(matches!(
        check_spec(&s),
        Err(SpecError::UnsupportedVersion(_))
    ));
    let s = runc_with(|v| v["ociVersion"] = "".into());
    assert_eq!(warning_fields(&s), ["ociVersion"]);
}

#[test]
fn process_checks() {
    use serde_json::json;
    let cases: Vec<(serde_json::Value, &str, &str)> = vec![
        (
            json!([]),
            "args",
            "invalid process.args: must not be empty (nothing to run)",
        ),
        (
            json!([""]),
            "args",
            "invalid process.args[0]: must not be empty",
        ),
        (
            json!("relative"),
            "cwd",
            "invalid process.cwd: \"relative\" is not an absolute path",
        ),
        (json!(""), "cwd", "invalid process.cwd: must not be empty"),
        (
            json!(["NOEQUALS"]),
            "env",
            "invalid process.env[0]: \"NOEQUALS\" has no '='",
        ),
        (
            json!(["=x"]),
            "env",
            "invalid process.env[0]: \"=x\" has an empty name",
        ),
        (
            json!(["A=\u{0}"]),
            "env",
            "invalid process.env[0]: contains a NUL byte",
        ),
        (
            json!({"bounding": ["CAP_KILL", "CAP_FLY"]}),
            "capabilities",
            "invalid process.capabilities.bounding[1]: unknown capability \"CAP_FLY\"",
        ),
        (
            json!([{"type": "RLIMIT_BOGUS", "hard": 1, "soft": 1}]),
            "rlimits",
            "invalid process.rlimits[0].type: unknown rlimit type \"RLIMIT_BOGUS\"",
        ),
        (
            json!([{"type": "RLIMIT_CORE", "hard": 1, "soft": 1},
                   {"type": "RLIMIT_CORE", "hard": 2, "soft": 2}]),
            "rlimits",
            "invalid process.rlimits[1].type: RLIMIT_CORE is listed twice",
        ),
        (
            json!([{"type": "RLIMIT_CORE", "hard": 1, "soft": 2}]),
            "rlimits",
            "invalid process.rlimits[0]: soft limit 2 exceeds hard limit 1",
        ),
        (
            json!(1001),
            "oomScoreAdj",
            "invalid process.oomScoreAdj: 1001 is outside -1000..=1000",
        ),
    ];
    for (value, key, want) in cases {
        let s = runc_with(|v| v["process"][key] = value);
        assert_eq!(check_err(&s), want);
    }
}
#[test]
fn structural_checks() {
    use serde_json::json;
    let s = runc_with(|v| v["mounts"][2]["destination"] = "dev/pts".into());
    assert_eq!(
        check_err(&s),
        "invalid mounts[2].destination: \"dev/pts\" is not an absolute path"
    );
    let s = runc_with(|v| v["mounts"][0] = json!({"destination": "/x", "type": "bind"}));
    assert_eq!(
        check_err(&s),
        "invalid mounts[0].source: a bind mount needs a source"
    );
    let s = runc_with(|v| v["linux"]["namespaces"][2]["type"] = "ipcx".into());
    assert_eq!(
        check_err(&s),
        "invalid linux.namespaces[2].type: unknown namespace type \"ipcx\""
    );
    let s = runc_with(|v| v["linux"]["namespaces"][2]["type"] = "pid".into());
    assert_eq!(
        check_err(&s),
        "invalid linux.namespaces[2].type: namespace pid is listed twice"
    );
    let s = runc_with(|v| v["linux"]["namespaces"][1]["path"] = "netns/x".into());
    assert_eq!(
        check_err(&s),
        "invalid linux.namespaces[1].path: \"netns/x\" is not an absolute path"
    );
    let s = runc_with(|v| v["root"] = serde_json::Value::Null);
    assert_eq!(
        check_err(&s),
        "invalid root: missing (the bundle needs a rootfs)"
    );
    let s = runc_with(|v| v["root"]["path"] = "".into());
    assert_eq!(check_err(&s), "invalid root.path: must not be empty");
    let s = runc_with(|v| v["hooks"] = json!({"poststart": [{"path": "hook.sh"}]}));
    assert_eq!(
        check_err(&s),
        "invalid hooks.poststart[0].path: \"hook.sh\" is not an absolute path"
    );
    let s = runc_with(|v| v["hooks"] = json!({"createRuntime": [{"path": "/h", "timeout": 0}]}));
    assert_eq!(
        check_err(&s),
        "invalid hooks.createRuntime[0].timeout: 0 is not a positive number of seconds"
    );
    let s = runc_with(|v| {
        v["linux"]["devices"] =
            json!([{"path": "/dev/fuse", "type": "x", "major": 10, "minor": 229}])
    });
    assert_eq!(
        check_err(&s),
        "invalid linux.devices[0].type: \"x\" is not one of c, b, u, p"
    );
    let s = runc_with(|v| v["linux"]["devices"] = json!([{"path": "fuse", "type": "c"}]));
    assert_eq!(
        check_err(&s),
        "invalid linux.devices[0].path: \"fuse\" is not an absolute path"
    );
    let s = runc_with(|v| v["linux"]["resources"]["devices"][0]["access"] = "rwx".into());
    assert_eq!(
        check_err(&s),
        "invalid linux.resources.devices[0].access: \"rwx\" is not made of r, w, m"
    );
    let s = runc_with(|v| v["linux"]["resources"]["devices"][0]["type"] = "p".into());
    assert_eq!(
        check_err(&s),
        "invalid linux.resources.devices[0].type: \"p\" is not one of a, b, c"
    );
    let s = runc_with(|v| v["linux"]["rootfsPropagation"] = "sideways".into());
    assert_eq!(
        check_err(&s),
        "invalid linux.rootfsPropagation: \"sideways\" is not a propagation mode"
    );
    let s = runc_with(|v| v["linux"]["maskedPaths"][0] = "proc/acpi".into());
    assert_eq!(
        check_err(&s),
        "invalid linux.maskedPaths[0]: \"proc/acpi\" is not an absolute path"
    );
    let s = runc_with(|v| v["linux"]["readonlyPaths"][4] = "".into());
    assert_eq!(
        check_err(&s),
        "invalid linux.readonlyPaths[4]: must not be empty"
    );
}

#[test]
fn id_mappings_need_a_user_namespace_and_both_maps() {
    use serde_json::json;
    let mapping = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    let with_userns = |uids: serde_json::Value, gids: serde_json::Value| {
        runc_with(|v| {
            v["linux"]["namespaces"]
                .as_array_mut()
                .unwrap()
                .push(json!({"type": "user"}));
            v["linux"]["uidMappings"] = uids;
            v["linux"]["gidMappings"] = gids;
        })
    };
    let s = with_userns(mapping.clone(), mapping.clone());
    let w = crate::oci::validate(&s).unwrap();
    assert!(w.is_empty(), "{w:?}");
    let ids = crate::oci::id_maps(s.linux.as_ref()).unwrap();
    assert_eq!(ids.uid.to_host(0), Some(100_000));
    assert_eq!(ids.gid.from_host(165_535), 65535);
    let s = with_userns(mapping.clone(), json!([]));
    assert_eq!(
        validate_err(&s),
        "invalid linux.uidMappings: a user namespace needs both uidMappings and gidMappings"
    );
    let overlapping = json!([{"containerID": 0, "hostID": 1000, "size": 10},
                             {"containerID": 5, "hostID": 5000, "size": 10}]);
    let s = with_userns(mapping.clone(), overlapping);
    assert_eq!(
        validate_err(&s),
        "invalid linux.gidMappings: ID mappings 0:1000:10 and 5:5000:10 overlap"
    );
    let s = with_userns(
        json!([{"containerID": 0, "hostID": 1, "size": 0}]),
        mapping.clone(),
    );
    assert!(validate_err(&s).starts_with("invalid linux.uidMappings: ID mapping 0:1:0 is empty"));
    let s = runc_with(|v| v["linux"]["gidMappings"] = mapping.clone());
    assert_eq!(
        validate_err(&s),
        "invalid linux.gidMappings: ID mappings need a user namespace in linux.namespaces"
    );
}

#[test]
fn unsupported_settings_are_errors() {
    use serde_json::json;
    let mapping = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    let s = runc_with(|v| v["mounts"][0]["uidMappings"] = mapping.clone());
    assert_eq!(
        validate_err(&s),
        "mounts[0]: an idmapped mount is not supported by rvisor"
    );
    let s = runc_with(|v| v["mounts"][0]["options"] = json!(["idmap"]));
    assert!(validate_err(&s).starts_with("mounts[0]: an idmapped mount"));
    for (i, kind) in [
        (0, "pid"),
        (2, "ipc"),
        (3, "uts"),
        (4, "mount"),
        (5, "cgroup"),
    ] {
        let s = runc_with(|v| v["linux"]["namespaces"][i]["path"] = "/proc/1/ns/x".into());
        assert_eq!(
            validate_err(&s),
            format!(
                "linux.namespaces[{i}].path: joining an existing {kind} namespace is not \
                 supported by rvisor"
            )
        );
    }
    let s = runc_with(|v| v["linux"]["sysctl"] = json!({"vm.swappiness": "10"}));
    assert_eq!(
        validate_err(&s),
        "linux.sysctl[\"vm.swappiness\"]: a sysctl the sandbox does not have (it sets \
         net.core.somaxconn, net.ipv4.ip_forward, net.ipv4.ip_local_port_range, \
         net.ipv4.ip_unprivileged_port_start, net.ipv4.ping_group_range, fs.mqueue.*, \
         kernel.hostname and kernel.domainname) is not supported by rvisor"
    );
    // No System V IPC in the Sentry, and no TCP yet: runc would set these in the
    // container's own namespaces, they change nothing the sandbox has: warned, not set.
    let s = runc_with(|v| {
        v["linux"]["sysctl"] = json!({"kernel/msgmax": "8192", "kernel.shm_rmid_forced": "1",
                                      "net.ipv4.tcp_syncookies": "1", "net.ipv4.ip_forward": "1"})
    });
    check_spec(&s).unwrap();
    let w: Vec<String> = validate(&s)
        .unwrap()
        .iter()
        .map(|w| w.to_string())
        .collect();
    assert_eq!(w.len(), 3, "{w:?}");
    assert!(w.iter().all(|w| w.contains("not applied")), "{w:?}");
    let set = crate::oci::sysctls(s.linux.as_ref().unwrap());
    assert_eq!(set, [("net.ipv4.ip_forward".to_string(), "1".to_string())]);
    let s = runc_with(|v| v["linux"]["sysctl"] = json!({"kernel.hostname": "x"}));
    assert_eq!(
        validate_err(&s),
        "linux.sysctl[\"kernel.hostname\"]: setting the hostname as a sysctl (it conflicts \
         with the `hostname` field) is not supported by rvisor"
    );
    let s = runc_with(|v| v["linux"]["sysctl"] = json!({"net.ipv4.ip_forward": "on"}));
    assert_eq!(
        validate_err(&s),
        "invalid linux.sysctl[\"net.ipv4.ip_forward\"]: the value \"on\" is refused: \
         Invalid argument (os error 22)"
    );
    let s = runc_with(|v| v["linux"]["personality"] = json!({"domain": "LINUX32"}));
    assert_eq!(
        validate_err(&s),
        "linux.personality.domain: LINUX32 (32-bit execution) is not supported by rvisor"
    );
}

#[test]
fn ignored_settings_are_warnings() {
    use serde_json::json;
    let s = runc_with(|v| v["linux"]["namespaces"][1]["path"] = "/run/netns/a".into());
    assert!(warning_fields(&s).is_empty());
    let s = runc_with(|v| {
        v["linux"]["namespaces"]
            .as_array_mut()
            .unwrap()
            .push(json!({"type": "user"}));
    });
    assert_eq!(warning_fields(&s), ["linux.namespaces[6].type"]);
    let s = runc_with(|v| v["linux"]["namespaces"] = json!([{"type": "mount"}, {"type": "uts"}]));
    let w = validate(&s).unwrap();
    assert_eq!(w.len(), 2);
    assert!(w[0].message.starts_with("no pid namespace requested"));
    assert!(w[1].message.starts_with("no ipc namespace requested"));
    let s = runc_with(|v| {
        v["mounts"][1]["type"] = "nfs".into();
        v["mounts"][2]["type"] = serde_json::Value::Null;
        v["mounts"]
            .as_array_mut()
            .unwrap()
            .push(json!({"destination": "/mnt", "source": "/h", "options": ["bind", "rshared"]}));
    });
    assert_eq!(
        warning_fields(&s),
        ["mounts[1].type", "mounts[2].type", "mounts[7].options"]
    );
    let s = runc_with(|v| {
        v["process"]["apparmorProfile"] = "p".into();
        v["process"]["selinuxLabel"] = "system_u:system_r:container_t:s0".into();
        v["process"]["ioPriority"] = json!({"class": "IOPRIO_CLASS_IDLE"});
        v["linux"]["seccomp"] = json!({"defaultAction": "SCMP_ACT_ALLOW"});
        v["linux"]["mountLabel"] = "system_u:object_r:container_file_t:s0".into();
        v["linux"]["intelRdt"] = json!({"closID": "x"});
        v["linux"]["timeOffsets"] = json!({"monotonic": {"secs": 1}});
        v["linux"]["personality"] = json!({"domain": "LINUX", "flags": ["ADDR_NO_RANDOMIZE"]});
        v["linux"]["rootfsPropagation"] = "rshared".into();
        v["linux"]["devices"] = json!([
            {"path": "/dev/null", "type": "c", "major": 1, "minor": 3},
            {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229},
            {"path": "/dev/sda", "type": "b", "major": 8, "minor": 0}
        ]);
        v["linux"]["sysctl"] = json!({"net.ipv4.ip_forward": "1", "kernel.domainname": "x.org",
                                      "net/core/somaxconn": "1024"});
    });
    let w = validate(&s).unwrap();
    let fields: Vec<&str> = w.iter().map(|w| w.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "process.apparmorProfile",
            "process.selinuxLabel",
            "process.ioPriority",
            "linux.timeOffsets",
            "linux.seccomp",
            "linux.mountLabel",
            "linux.intelRdt",
            "linux.personality",
            "linux.rootfsPropagation",
            "linux.devices",
        ]
    );
    assert_eq!(
        w[9].to_string(),
        "linux.devices: made as nodes in the sandbox's /dev, but host devices are not \
         reachable: opening one the Sentry has no driver for gives ENXIO: /dev/fuse, /dev/sda"
    );
    let mut s = s;
    s.linux = None;
    assert_eq!(
        warning_fields(&s),
        [
            "process.apparmorProfile",
            "process.selinuxLabel",
            "process.ioPriority",
            "linux"
        ]
    );
}

#[test]
fn cgroup_and_mqueue_mounts() {
    use serde_json::json;
    // A cgroup mount not asked read-only is made read-only, and says so.
    let s = runc_with(|v| v["mounts"][6]["options"] = json!(["nosuid", "noexec"]));
    let w = validate(&s).unwrap();
    let fields: Vec<&str> = w.iter().map(|w| w.field.as_str()).collect();
    assert_eq!(fields, ["mounts[6].options"]);
    assert_eq!(
        w[0].message,
        "the cgroup mount on /sys/fs/cgroup is read-only: the sandbox's cgroup view cannot be \
         changed"
    );
    // Read-only cgroup or cgroup2 mounts, and no mqueue: nothing to say.
    for kind in ["cgroup", "cgroup2"] {
        let s = runc_with(|v| {
            v["mounts"][6]["type"] = kind.into();
            v["mounts"].as_array_mut().unwrap().remove(4);
        });
        assert!(warning_fields(&s).is_empty(), "{kind}");
    }
}
