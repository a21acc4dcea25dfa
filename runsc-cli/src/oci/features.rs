//! `rvisor features`: the runtime-spec `features.md` document, what containerd's
//! `containerd-shim-runc-v2 -info` reads to learn what the runtime supports.
//!
//! The lists say what rvisor *honours*, not merely what it parses: the namespaces it
//! creates (`user` with its ID mappings included), every capability (the Sentry implements
//! them all), the mount options [`super::parse_mount_options`] knows except the idmapped-mount ones,
//! and no seccomp, AppArmor, SELinux, Intel RDT or idmapped mounts (see [`super::validate()`]).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::defaults::{to_pretty_json, SPEC_VERSION};
use super::mount_opts::known_mount_options;
use super::names::CAPABILITIES;
use super::spec::NamespaceType;

/// The features document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Features {
    /// Oldest runtime-spec version accepted.
    pub oci_version_min: String,
    /// Newest runtime-spec version implemented.
    pub oci_version_max: String,
    /// Hook kinds run.
    pub hooks: Vec<String>,
    /// Mount options recognised.
    pub mount_options: Vec<String>,
    /// Linux specifics.
    pub linux: LinuxFeatures,
    /// Implementation facts (the version).
    pub annotations: BTreeMap<String, String>,
}

/// `linux` in the features document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinuxFeatures {
    /// Namespace types honoured.
    pub namespaces: Vec<String>,
    /// Capability names known.
    pub capabilities: Vec<String>,
    /// cgroup managers.
    pub cgroup: CgroupFeatures,
    /// The spec's seccomp filter.
    pub seccomp: Enabled,
    /// AppArmor profiles.
    pub apparmor: Enabled,
    /// SELinux labels.
    pub selinux: Enabled,
    /// Intel RDT.
    pub intel_rdt: Enabled,
    /// Mount extensions.
    pub mount_extensions: MountExtensions,
}

/// `linux.cgroup` in the features document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CgroupFeatures {
    /// cgroup v1 hierarchies.
    pub v1: bool,
    /// The cgroup v2 unified hierarchy.
    pub v2: bool,
    /// `--systemd-cgroup` (system instance).
    pub systemd: bool,
    /// The systemd user instance.
    pub systemd_user: bool,
    /// The rdma controller.
    pub rdma: bool,
}

/// `{"enabled": bool}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enabled {
    /// Whether the feature is available.
    pub enabled: bool,
}

/// `linux.mountExtensions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MountExtensions {
    /// Idmapped mounts.
    pub idmap: Enabled,
}

/// cgroup support claimed by `rvisor features`: v1 and v2 hierarchies, and systemd's system
/// instance for `--systemd-cgroup` (the runc contract's global flag). Keep in step with the
/// CLI's cgroup code.
pub const CGROUP_SUPPORT: CgroupFeatures = CgroupFeatures {
    v1: true,
    v2: true,
    systemd: true,
    systemd_user: false,
    rdma: false,
};

/// The features document for this build.
pub fn features() -> Features {
    let off = Enabled { enabled: false };
    Features {
        oci_version_min: "1.0.0".into(),
        oci_version_max: SPEC_VERSION.into(),
        hooks: [
            "prestart",
            "createRuntime",
            "createContainer",
            "startContainer",
            "poststart",
            "poststop",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        mount_options: known_mount_options()
            .into_iter()
            .filter(|o| !matches!(*o, "idmap" | "ridmap"))
            .map(String::from)
            .collect(),
        linux: LinuxFeatures {
            namespaces: NamespaceType::KNOWN
                .iter()
                .map(|n| n.as_str().to_string())
                .collect(),
            capabilities: CAPABILITIES.iter().map(|s| s.to_string()).collect(),
            cgroup: CGROUP_SUPPORT,
            seccomp: off,
            apparmor: off,
            selinux: off,
            intel_rdt: off,
            mount_extensions: MountExtensions { idmap: off },
        },
        annotations: BTreeMap::from([(
            "io.github.rvisor.version".to_string(),
            env!("CARGO_PKG_VERSION").to_string(),
        )]),
    }
}

/// [`features`] as the JSON `rvisor features` prints (tab-indented, final newline).
pub fn features_json() -> String {
    to_pretty_json(&features())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_document() {
        let text = features_json();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["ociVersionMin"], "1.0.0");
        assert_eq!(v["ociVersionMax"], SPEC_VERSION);
        assert_eq!(v["hooks"].as_array().unwrap().len(), 6);
        let opts = v["mountOptions"].as_array().unwrap();
        assert!(opts.iter().any(|o| o == "rbind") && opts.iter().any(|o| o == "ro"));
        assert!(!opts.iter().any(|o| o == "idmap"));
        let ns = v["linux"]["namespaces"].as_array().unwrap();
        assert_eq!(
            ns,
            &["cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"]
        );
        assert_eq!(v["linux"]["capabilities"].as_array().unwrap().len(), 41);
        assert_eq!(v["linux"]["cgroup"]["v2"], true);
        assert_eq!(v["linux"]["cgroup"]["systemdUser"], false);
        assert_eq!(v["linux"]["seccomp"]["enabled"], false);
        assert_eq!(v["linux"]["apparmor"]["enabled"], false);
        assert_eq!(v["linux"]["selinux"]["enabled"], false);
        assert_eq!(v["linux"]["intelRdt"]["enabled"], false);
        assert_eq!(v["linux"]["mountExtensions"]["idmap"]["enabled"], false);
        assert_eq!(
            v["annotations"]["io.github.rvisor.version"],
            env!("CARGO_PKG_VERSION")
        );
        let back: Features = serde_json::from_str(&text).unwrap();
        assert_eq!(back, features());
    }
}
