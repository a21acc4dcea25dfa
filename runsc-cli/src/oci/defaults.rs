//! `rvisor spec`: the starting `config.json`, the same shape `runc spec` writes — an
//! interactive `sh` on a terminal, as root, with the three default capabilities, the standard
//! pseudo-filesystem mounts, the masked and read-only `/proc` paths and private namespaces —
//! so that `rvisor spec && rvisor run ID` works in a bundle with a `rootfs/`.

use super::spec::{
    Capabilities, Linux, Mount, Namespace, NamespaceType, Process, Resources, Rlimit, Root, Spec,
    User,
};
use super::DeviceRule;

/// The runtime-spec version `rvisor spec` writes (and the newest [`super::features`] claims).
pub const SPEC_VERSION: &str = "1.1.0";

/// The capabilities of the default process (runc's set).
const DEFAULT_CAPS: [&str; 3] = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn mount(dest: &str, kind: &str, source: &str, options: &[&str]) -> Mount {
    Mount {
        destination: dest.into(),
        kind: Some(kind.into()),
        source: Some(source.into()),
        options: strings(options),
        ..Mount::default()
    }
}

/// The default spec (see the module comment). The rootfs is `rootfs` in the bundle, mounted
/// read-only.
pub fn default_spec() -> Spec {
    let caps = strings(&DEFAULT_CAPS);
    Spec {
        oci_version: SPEC_VERSION.into(),
        process: Some(Process {
            terminal: true,
            user: User::default(),
            args: strings(&["sh"]),
            env: strings(&[
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "TERM=xterm",
            ]),
            cwd: "/".into(),
            capabilities: Some(Capabilities {
                bounding: caps.clone(),
                effective: caps.clone(),
                permitted: caps,
                ..Capabilities::default()
            }),
            rlimits: vec![Rlimit {
                kind: "RLIMIT_NOFILE".into(),
                hard: 1024,
                soft: 1024,
            }],
            no_new_privileges: true,
            ..Process::default()
        }),
        root: Some(Root {
            path: "rootfs".into(),
            readonly: true,
        }),
        hostname: Some("rvisor".into()),
        mounts: vec![
            mount("/proc", "proc", "proc", &[]),
            mount(
                "/dev",
                "tmpfs",
                "tmpfs",
                &["nosuid", "strictatime", "mode=755", "size=65536k"],
            ),
            mount(
                "/dev/pts",
                "devpts",
                "devpts",
                &[
                    "nosuid",
                    "noexec",
                    "newinstance",
                    "ptmxmode=0666",
                    "mode=0620",
                    "gid=5",
                ],
            ),
            mount(
                "/dev/shm",
                "tmpfs",
                "shm",
                &["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
            ),
            mount(
                "/dev/mqueue",
                "mqueue",
                "mqueue",
                &["nosuid", "noexec", "nodev"],
            ),
            mount(
                "/sys",
                "sysfs",
                "sysfs",
                &["nosuid", "noexec", "nodev", "ro"],
            ),
        ],
        linux: Some(Linux {
            resources: Some(Resources {
                devices: vec![DeviceRule {
                    allow: false,
                    access: Some("rwm".into()),
                    ..DeviceRule::default()
                }],
                ..Resources::default()
            }),
            namespaces: [
                NamespaceType::Pid,
                NamespaceType::Network,
                NamespaceType::Ipc,
                NamespaceType::Uts,
                NamespaceType::Mount,
            ]
            .into_iter()
            .map(|kind| Namespace { kind, path: None })
            .collect(),
            masked_paths: strings(&[
                "/proc/acpi",
                "/proc/asound",
                "/proc/kcore",
                "/proc/keys",
                "/proc/latency_stats",
                "/proc/timer_list",
                "/proc/timer_stats",
                "/proc/sched_debug",
                "/sys/firmware",
                "/proc/scsi",
            ]),
            readonly_paths: strings(&[
                "/proc/bus",
                "/proc/fs",
                "/proc/irq",
                "/proc/sys",
                "/proc/sysrq-trigger",
            ]),
            ..Linux::default()
        }),
        ..Spec::default()
    }
}

/// [`default_spec`] as the text `rvisor spec` writes to `config.json`: tab-indented like
/// runc's, with a final newline.
pub fn default_spec_json() -> String {
    to_pretty_json(&default_spec())
}

/// Tab-indented JSON with a final newline. Serializing these types cannot fail (string keys,
/// no non-finite floats); should it ever, the compact form is returned instead.
pub(crate) fn to_pretty_json<T: serde::Serialize>(v: &T) -> String {
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"\t");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    let mut out = match v.serialize(&mut ser) {
        Ok(()) => String::from_utf8(buf).unwrap_or_default(),
        Err(_) => serde_json::to_string(v).unwrap_or_default(),
    };
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oci::{check_spec, parse_spec, validate};

    #[test]
    fn default_spec_is_valid_and_warning_free() {
        let spec = default_spec();
        check_spec(&spec).unwrap();
        assert_eq!(validate(&spec).unwrap(), vec![]);
        let p = spec.process.as_ref().unwrap();
        assert!(p.terminal);
        assert_eq!(p.args, ["sh"]);
        assert_eq!(p.rlimits[0].kind, "RLIMIT_NOFILE");
        let dests: Vec<&str> = spec.mounts.iter().map(|m| m.destination.as_str()).collect();
        assert_eq!(
            dests,
            [
                "/proc",
                "/dev",
                "/dev/pts",
                "/dev/shm",
                "/dev/mqueue",
                "/sys"
            ]
        );
    }

    #[test]
    fn default_spec_json_round_trips() {
        let text = default_spec_json();
        assert!(text.starts_with("{\n\t\"ociVersion\": \"1.1.0\""));
        assert!(text.ends_with("}\n"));
        let back = parse_spec(text.as_bytes(), "config.json").unwrap();
        assert_eq!(back, default_spec());
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["process"]["terminal"], true);
        assert_eq!(v["process"]["user"]["uid"], 0);
        assert_eq!(v["process"]["capabilities"]["bounding"][1], "CAP_KILL");
        assert!(v["process"]["capabilities"].get("ambient").is_none());
        assert_eq!(v["process"]["noNewPrivileges"], true);
        assert_eq!(v["root"]["readonly"], true);
        assert_eq!(v["mounts"][0]["type"], "proc");
        assert!(v["mounts"][0].get("options").is_none());
        assert_eq!(v["linux"]["namespaces"][1]["type"], "network");
        assert_eq!(v["linux"]["resources"]["devices"][0]["allow"], false);
        assert_eq!(v["linux"]["maskedPaths"][2], "/proc/kcore");
        assert_eq!(v["linux"]["readonlyPaths"][3], "/proc/sys");
        assert!(v.get("hooks").is_none() && v.get("annotations").is_none());
    }
}
