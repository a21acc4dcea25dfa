//! A container in a user namespace (`linux.uidMappings`, `linux.gidMappings`), beside runc:
//! what the application sees of its namespace and of files owned by host ids inside and
//! outside the mapping, what its capabilities reach, and the owners its writes leave on the
//! host.

mod common;

use std::os::unix::fs::{lchown, MetadataExt, PermissionsExt};

/// Host ids that container ids 0.. stand for.
const UID_BASE: u32 = 100_000;
const GID_BASE: u32 = 200_000;
/// How many ids each map covers.
const SIZE: u32 = 65_536;

/// What the container runs: its namespace files, its ids, the owners it sees, and what it
/// may and may not do, each line labelled.
const SCRIPT: &str = r#"
cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups
echo 5 0 1 > /proc/self/uid_map || echo "uid_map: write refused"
id
stat -c '%n %u %g %a' / /etc/passwd /owned /secret /private
cat /owned
cat /secret || echo "secret: refused"
ls /private || echo "private: refused"
touch /etc/new || echo "etc: refused"
touch /dev/shm/f && chown 5:7 /dev/shm/f && stat -c 'shm %u %g' /dev/shm/f
chown 70000 /dev/shm/f || echo "chown 70000: refused"
chgrp 65536 /dev/shm/f || echo "chgrp 65536: refused"
echo data > /data/new && stat -c 'new %u %g' /data/new
mkdir /data/d && chown 5:6 /data/d && stat -c 'd %u %g' /data/d
echo done
"#;

fn bundle(name: &str) -> common::Bundle {
    let b = common::Bundle::new(name, &["sh", "-c", SCRIPT]);
    let root = b.dir.join("rootfs");
    std::fs::write(root.join("owned"), "mapped owner\n").unwrap();
    lchown(root.join("owned"), Some(UID_BASE + 5), Some(GID_BASE + 7)).unwrap();
    std::fs::write(root.join("secret"), "host root's\n").unwrap();
    std::fs::set_permissions(root.join("secret"), PermissionsExt::from_mode(0o600)).unwrap();
    std::fs::create_dir(root.join("private")).unwrap();
    std::fs::set_permissions(root.join("private"), PermissionsExt::from_mode(0o700)).unwrap();
    std::fs::create_dir(root.join("data")).unwrap();
    lchown(root.join("data"), Some(UID_BASE), Some(GID_BASE)).unwrap();
    // The container's root (host UID_BASE) must reach its root filesystem, as runc needs.
    let mut p = b.dir.clone();
    while p.pop() {
        let mode = std::fs::metadata(&p).unwrap().permissions().mode();
        if mode & 0o001 == 0 {
            std::fs::set_permissions(&p, PermissionsExt::from_mode(mode | 0o001)).unwrap();
        }
    }
    b.edit_spec(|spec| {
        let map = |base: u32| serde_json::json!([{"containerID": 0, "hostID": base, "size": SIZE}]);
        spec["linux"]["namespaces"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({"type": "user"}));
        spec["linux"]["uidMappings"] = map(UID_BASE);
        spec["linux"]["gidMappings"] = map(GID_BASE);
        spec["root"]["readonly"] = false.into();
        // Capabilities that would reach every file without a namespace: in one, only files
        // whose owner and group it maps.
        let caps = serde_json::json!([
            "CAP_CHOWN",
            "CAP_DAC_OVERRIDE",
            "CAP_DAC_READ_SEARCH",
            "CAP_FOWNER",
            "CAP_KILL"
        ]);
        for set in ["bounding", "effective", "permitted"] {
            spec["process"]["capabilities"][set] = caps.clone();
        }
    });
    b
}

/// What the run made in the rootfs's /data, with its host owner and group; removes it.
fn made(b: &common::Bundle) -> Vec<(String, u32, u32)> {
    let data = b.dir.join("rootfs/data");
    let mut out: Vec<_> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let m = e.metadata().unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                m.uid(),
                m.gid(),
            )
        })
        .collect();
    out.sort();
    std::fs::remove_dir_all(&data).unwrap();
    std::fs::create_dir(&data).unwrap();
    lchown(&data, Some(UID_BASE), Some(GID_BASE)).unwrap();
    out
}

#[test]
fn a_user_namespace_looks_and_acts_as_under_runc() {
    let b = bundle("userns");
    let runc = b.runc_run("userns-runc");
    let want = String::from_utf8_lossy(&runc.stdout).into_owned();
    assert!(want.ends_with("done\n"), "runc: {}", common::text(&runc));
    assert!(
        want.contains("         0     100000      65536\n"),
        "{want}"
    );
    let want_made = made(&b);
    assert_eq!(
        want_made,
        vec![
            ("d".to_string(), UID_BASE + 5, GID_BASE + 6),
            ("new".to_string(), UID_BASE, GID_BASE)
        ]
    );
    // Written through to the bundle, as runc writes it.
    let bundle = b.dir.to_str().unwrap();
    let o = b.rv(&[
        "--overlay",
        "none",
        "run",
        "--bundle",
        bundle,
        "userns-rvisor",
    ]);
    assert!(o.status.success(), "{}", common::text(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout), want);
    assert_eq!(made(&b), want_made);
    // The default overlay: the same inside, nothing on the host.
    assert_eq!(b.run_ok("userns-overlay"), want);
    assert_eq!(made(&b), vec![]);
}

#[test]
fn bad_mappings_are_one_clear_error() {
    let b = bundle("userns-bad");
    b.edit_spec(|spec| {
        spec["linux"]["gidMappings"] = serde_json::json!([
            {"containerID": 0, "hostID": 1000, "size": 10},
            {"containerID": 5, "hostID": 9000, "size": 10}
        ]);
    });
    let o = b.rv(&["create", "--bundle", b.dir.to_str().unwrap(), "userns-bad"]);
    assert!(!o.status.success());
    assert_eq!(
        b.last_logged_error(),
        "invalid linux.gidMappings: ID mappings 0:1000:10 and 5:9000:10 overlap"
    );
    assert!(!b.state.join("userns-bad").exists());
}

#[test]
fn a_user_outside_the_mapping_cannot_run() {
    let b = bundle("userns-unmapped");
    b.edit_spec(|spec| spec["process"]["user"]["uid"] = (SIZE + 1).into());
    let o = b.rv(&[
        "run",
        "--bundle",
        b.dir.to_str().unwrap(),
        "userns-unmapped",
    ]);
    assert!(!o.status.success(), "{}", common::text(&o));
    assert!(
        b.last_logged_error()
            .contains("user 65537 has no mapping in the sandbox's user namespace"),
        "{}",
        b.last_logged_error()
    );
    assert!(!b.state.join("userns-unmapped").exists());
}
