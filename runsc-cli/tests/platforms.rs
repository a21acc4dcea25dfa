//! `rvisor platforms` and `--platform`: what this host can run, and one clear line when a
//! platform cannot run here (kvm without /dev/kvm).

mod common;

use std::os::unix::process::CommandExt;
use std::process::{Command, Output};

fn rvisor() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rvisor"))
}

/// `cmd` run in a mount namespace of its own where /dev is an empty tmpfs: no /dev/kvm.
fn without_dev(cmd: &mut Command) -> Output {
    // SAFETY: between fork and exec only unshare and mount run, with constant arguments.
    unsafe {
        cmd.pre_exec(|| {
            if libc::unshare(libc::CLONE_NEWNS) != 0
                || libc::mount(
                    std::ptr::null(),
                    c"/".as_ptr(),
                    std::ptr::null(),
                    libc::MS_REC | libc::MS_PRIVATE,
                    std::ptr::null(),
                ) != 0
                || libc::mount(
                    c"none".as_ptr(),
                    c"/dev".as_ptr(),
                    c"tmpfs".as_ptr(),
                    0,
                    std::ptr::null(),
                ) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.output().unwrap()
}

#[test]
fn platforms_lists_each_with_its_state() {
    let o = rvisor().arg("platforms").output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    let names: Vec<&str> = text.lines().filter_map(|l| l.split(':').next()).collect();
    assert_eq!(names, ["seccomp", "kvm"], "{text}");
    assert!(text.contains("seccomp: available"), "{text}");
    let kvm_here = std::path::Path::new("/dev/kvm").exists();
    assert_eq!(text.contains("kvm: available"), kvm_here, "{text}");
}

#[test]
fn kvm_without_dev_kvm_is_one_clear_line() {
    let o = without_dev(rvisor().arg("platforms"));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("kvm: unavailable: /dev/kvm does not exist"),
        "{text}"
    );
    assert!(o.status.success(), "seccomp still runs: {text}");
    let o = without_dev(rvisor().args(["do", "--platform", "kvm", "--", "/bin/true"]));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(125), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(
        err.contains("platform kvm") && err.contains("/dev/kvm does not exist"),
        "{err}"
    );
    // The OCI commands check it before they make anything.
    let state = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("platforms-state");
    let o = without_dev(rvisor().arg("--root").arg(&state).args([
        "--platform",
        "kvm",
        "create",
        "--bundle",
        "/nonexistent",
        "x",
    ]));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.contains("/dev/kvm does not exist"), "{err}");
}

#[test]
fn an_oci_container_runs_on_each_available_platform() {
    let b = common::Bundle::new("platforms", &["sh", "-c", "echo ran; exit 5"]);
    let o = rvisor().arg("platforms").output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    for name in text.lines().filter_map(|l| l.strip_suffix(": available")) {
        let id = format!("on-{name}");
        let o = rvisor()
            .arg("--root")
            .arg(&b.state)
            .args(["--platform", name, "run", "--bundle"])
            .arg(&b.dir)
            .arg(&id)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(5), "{name}: {}", common::text(&o));
        assert_eq!(String::from_utf8_lossy(&o.stdout), "ran\n", "{name}");
    }
}
