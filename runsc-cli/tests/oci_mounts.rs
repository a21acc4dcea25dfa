//! A container's mount table reads as runc's: the spec's mounts in the spec's order, each
//! with the spec's source and type (/proc/self/mounts of the same bundle run by runc and by
//! rvisor, compared on the spec's mount points).

mod common;

/// (source, point, type) of each line of /proc/self/mounts naming one of `points`.
fn table(mounts: &str, points: &[String]) -> Vec<(String, String, String)> {
    mounts
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= 3 && points.iter().any(|p| p == f[1]))
                .then(|| (f[0].to_string(), f[1].to_string(), f[2].to_string()))
        })
        .collect()
}

#[test]
fn the_mount_table_lists_the_specs_mounts_as_runc_does() {
    let b = common::Bundle::new("mounts", &["cat", "/proc/self/mounts"]);
    let points: Vec<String> = b.spec()["mounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["destination"].as_str().unwrap().to_string())
        .collect();
    assert!(points.len() >= 4, "{points:?}");
    let o = b.runc_run("mounts-runc");
    let want = table(&String::from_utf8_lossy(&o.stdout), &points);
    assert_eq!(want.len(), points.len(), "runc's table: {want:?}");
    let got = table(&b.run_ok("mounts-rvisor"), &points);
    assert_eq!(got, want);
}

#[test]
fn overlay_none_writes_a_writable_root_through_to_the_bundle() {
    let b = common::Bundle::new(
        "overlay",
        &["sh", "-c", "echo kept > /written; cat /written"],
    );
    b.edit_spec(|spec| spec["root"]["readonly"] = false.into());
    let file = b.dir.join("rootfs/written");
    let bundle = b.dir.to_str().unwrap();
    // The default: the container sees its write, the rootfs does not change.
    let o = b.rv(&["run", "--bundle", bundle, "in-memory"]);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "kept\n",
        "{}",
        common::text(&o)
    );
    assert!(!file.exists());
    let o = b.rv(&["--overlay", "none", "run", "--bundle", bundle, "through"]);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "kept\n",
        "{}",
        common::text(&o)
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "kept\n");
    // A read-only root stays read-only.
    std::fs::remove_file(&file).unwrap();
    b.edit_spec(|spec| spec["root"]["readonly"] = true.into());
    let o = b.rv(&["--overlay", "none", "run", "--bundle", bundle, "readonly"]);
    assert!(!o.status.success(), "{}", common::text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("Read-only file system"),
        "{}",
        common::text(&o)
    );
    assert!(!file.exists());
}

#[test]
fn the_specs_devices_are_made_in_dev() {
    let script = "for d in /dev/fuse /dev/net/tun /dev/myfifo /dev/mynull /dev/sda; do \
                  stat -c '%n %F %t:%T %a %u:%g' $d; done; \
                  echo hi > /dev/mynull && echo null-ok; \
                  cat /dev/net/tun 2>&1 | sed 's/.*: //'; cat /dev/fuse 2>&1 | sed 's/.*: //'; \
                  cat /dev/sda 2>&1 | sed 's/.*: //'";
    let b = common::Bundle::new("devices", &["sh", "-c", script]);
    b.edit_spec(|spec| spec["linux"]["devices"] = serde_json::json!([
        {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o620, "uid": 1, "gid": 2},
        {"path": "/dev/net/tun", "type": "c", "major": 10, "minor": 200, "fileMode": 0o666},
        {"path": "/dev/myfifo", "type": "p", "fileMode": 0o640},
        {"path": "/dev/mynull", "type": "c", "major": 1, "minor": 3, "fileMode": 0o666},
        {"path": "/dev/sda", "type": "b", "major": 8, "minor": 0}
    ]));
    assert_eq!(
        b.run_ok("devices"),
        "/dev/fuse character special file a:e5 620 1:2\n\
         /dev/net/tun character special file a:c8 666 0:0\n\
         /dev/myfifo fifo 0:0 640 0:0\n\
         /dev/mynull character special file 1:3 666 0:0\n\
         /dev/sda block special file 8:0 666 0:0\n\
         null-ok\n\
         No such device or address\n\
         Permission denied\n\
         No such device or address\n"
    );
}

#[test]
fn oom_score_adj_is_the_processes_and_the_sandboxs() {
    common::become_subreaper();
    let b = common::Bundle::new(
        "oom",
        &["sh", "-c", "cat /proc/self/oom_score_adj; echo 900 > /proc/self/oom_score_adj; cat /proc/1/oom_score_adj; sleep 1000"],
    );
    b.edit_spec(|spec| spec["process"]["oomScoreAdj"] = 123.into());
    let pid = b.create("oom");
    let host = std::fs::read_to_string(format!("/proc/{pid}/oom_score_adj")).unwrap();
    assert_eq!(host.trim(), "123", "the sandbox process on the host");
    assert!(b.rv(&["start", "oom"]).status.success());
    common::wait_for("the container's output", || b.out().lines().count() >= 2);
    assert_eq!(b.out(), "123\n900\n");
    b.delete_and_wait("oom", pid);
}

/// The root column of the mountinfo line of `point`.
fn mountinfo_root(text: &str, point: &str) -> Option<String> {
    text.lines().rev().find_map(|l| {
        let f: Vec<&str> = l.split(' ').collect();
        (f.len() > 4 && f[4] == point).then(|| f[3].to_string())
    })
}

/// Adds to `spec` a read-only recursive bind of `vol` on /mnt/vol.
fn bind_read_only(spec: &mut serde_json::Value, vol: &std::path::Path) {
    spec["mounts"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "destination": "/mnt/vol", "type": "bind", "source": vol, "options": ["rbind", "ro"]
        }));
}

#[test]
fn a_bind_mount_shows_its_source_as_root_as_runc_does() {
    let b = common::Bundle::new("bindroot", &["cat", "/proc/self/mountinfo"]);
    let vol = b.dir.join("volume");
    std::fs::create_dir_all(&vol).unwrap();
    b.edit_spec(|spec| bind_read_only(spec, &vol));
    let o = b.runc_run("bindroot-runc");
    let want = mountinfo_root(&String::from_utf8_lossy(&o.stdout), "/mnt/vol");
    assert!(
        want.as_deref().is_some_and(|r| r.ends_with("/volume")),
        "{want:?}"
    );
    let got = mountinfo_root(&b.run_ok("bindroot-rvisor"), "/mnt/vol");
    assert_eq!(got, want);
}

#[test]
fn a_read_only_bind_of_a_nosuid_nodev_noexec_mount_keeps_those_flags() {
    // With a user namespace the sandbox process mounts in one of its own, where the kernel
    // locks the flags of the host's mounts: the read-only remount must keep them.
    let b = common::Bundle::new(
        "bindflags",
        &[
            "sh",
            "-c",
            "cat /mnt/vol/f; echo x > /mnt/vol/g || echo refused",
        ],
    );
    let vol = b.dir.join("flagged");
    std::fs::create_dir_all(&vol).unwrap();
    let mounted = std::process::Command::new("mount")
        .args([
            "-t",
            "tmpfs",
            "-o",
            "nosuid,nodev,noexec,size=64k",
            "flagged",
        ])
        .arg(&vol)
        .status()
        .unwrap();
    assert!(mounted.success());
    std::fs::write(vol.join("f"), "from the volume\n").unwrap();
    b.edit_spec(|spec| {
        bind_read_only(spec, &vol);
        spec["linux"]["namespaces"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({"type": "user"}));
    });
    let o = b.rv(&["run", "--bundle", b.dir.to_str().unwrap(), "bindflags"]);
    let _ = std::process::Command::new("umount").arg(&vol).status();
    assert!(o.status.success(), "{}", common::text(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "from the volume\nrefused\n"
    );
}
