//! Serde types for the OCI runtime-spec `config.json` (v1.0 – v1.2), the parts a Linux runtime
//! reads.
//!
//! Parsing is deliberately lenient, as runc's is:
//!
//! - unknown fields anywhere are ignored (no `deny_unknown_fields`), so configs written for a
//!   newer spec, or with other platforms' sections (`windows`, `vm`, `solaris`), still parse;
//! - optional fields are `Option`s or default to empty, and a JSON `null` where a list or map is
//!   expected reads as empty (Go writes `null` for a nil slice without `omitempty`);
//! - rarely used or open-ended objects (`seccomp`, `blockIO`, `intelRdt`, `personality`, …) are
//!   kept as [`serde_json::Value`] so that whatever shape they have does not fail the parse.
//!
//! Values are *not* checked here; [`super::check_spec`] and [`super::validate()`] do that.
//! Serialization skips unset fields so that [`super::default_spec`] writes a tidy file.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// Reads a JSON `null` as the type's default (an empty list or map).
fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The whole `config.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Spec {
    /// The runtime-spec version the bundle was written for, e.g. `"1.0.2-dev"`.
    #[serde(default)]
    pub oci_version: String,
    /// The container's init process (required by `create`, absent in some tool-made configs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<Process>,
    /// The root filesystem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<Root>,
    /// The container's hostname (needs a UTS namespace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// The container's NIS domain name (needs a UTS namespace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domainname: Option<String>,
    /// Additional mounts, in order, on top of the root.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub mounts: Vec<Mount>,
    /// Lifecycle hooks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hooks: Option<Hooks>,
    /// Arbitrary metadata.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub annotations: BTreeMap<String, String>,
    /// The Linux platform section.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linux: Option<Linux>,
}

/// `process`: what to run and with which credentials. Also the whole content of an
/// `exec --process` file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Process {
    /// Attach a pseudo-terminal (`create --console-socket` then receives its master).
    #[serde(default)]
    pub terminal: bool,
    /// Initial terminal size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub console_size: Option<ConsoleSize>,
    /// Credentials.
    #[serde(default)]
    pub user: User,
    /// argv; `args[0]` is looked up in `PATH` of `env` when it has no slash.
    #[serde(default, deserialize_with = "nullable")]
    pub args: Vec<String>,
    /// `KEY=value` strings.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub env: Vec<String>,
    /// Working directory, absolute inside the container.
    #[serde(default)]
    pub cwd: String,
    /// Capability sets; absent means none at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<Capabilities>,
    /// Resource limits set before exec.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub rlimits: Vec<Rlimit>,
    /// `PR_SET_NO_NEW_PRIVS`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub no_new_privileges: bool,
    /// AppArmor profile name (not applied by rvisor: see [`super::validate()`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apparmor_profile: Option<String>,
    /// `/proc/self/oom_score_adj`, -1000..=1000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oom_score_adj: Option<i32>,
    /// SELinux process label (not applied by rvisor).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selinux_label: Option<String>,
    /// v1.1 `ioPriority` {class, priority}; kept opaque.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub io_priority: Option<Value>,
    /// v1.2 `scheduler`; kept opaque.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduler: Option<Value>,
    /// v1.2 `execCPUAffinity`; kept opaque.
    #[serde(
        default,
        rename = "execCPUAffinity",
        skip_serializing_if = "Option::is_none"
    )]
    pub exec_cpu_affinity: Option<Value>,
}

/// `process.consoleSize`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleSize {
    /// Rows.
    #[serde(default)]
    pub height: u32,
    /// Columns.
    #[serde(default)]
    pub width: u32,
}

/// `process.user`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// User id inside the container.
    #[serde(default)]
    pub uid: u32,
    /// Group id inside the container.
    #[serde(default)]
    pub gid: u32,
    /// File mode creation mask; absent means leave the inherited one (0022).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub umask: Option<u32>,
    /// Supplementary groups.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub additional_gids: Vec<u32>,
}

/// `process.capabilities`: lists of `CAP_*` names (see [`super::capability_number`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    /// Bounding set.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub bounding: Vec<String>,
    /// Effective set.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub effective: Vec<String>,
    /// Inheritable set.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub inheritable: Vec<String>,
    /// Permitted set.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub permitted: Vec<String>,
    /// Ambient set.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub ambient: Vec<String>,
}

impl Capabilities {
    /// The five sets with their field names, for checks and error messages.
    pub fn sets(&self) -> [(&'static str, &[String]); 5] {
        [
            ("bounding", &self.bounding),
            ("effective", &self.effective),
            ("inheritable", &self.inheritable),
            ("permitted", &self.permitted),
            ("ambient", &self.ambient),
        ]
    }
}

/// One `process.rlimits` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rlimit {
    /// `RLIMIT_*` name (see [`super::rlimit_resource`]).
    #[serde(rename = "type")]
    pub kind: String,
    /// Hard limit (`u64::MAX` is RLIM_INFINITY).
    #[serde(default)]
    pub hard: u64,
    /// Soft limit.
    #[serde(default)]
    pub soft: u64,
}

/// `root`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Root {
    /// The rootfs, relative to the bundle unless absolute.
    #[serde(default)]
    pub path: String,
    /// Mount the root read-only.
    #[serde(default, skip_serializing_if = "is_false")]
    pub readonly: bool,
}

/// One `mounts` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Mount {
    /// Absolute path inside the container.
    #[serde(default)]
    pub destination: String,
    /// Filesystem type (`bind`, `tmpfs`, `proc`, …). Absent is allowed for bind mounts, which
    /// runc recognises by a `bind`/`rbind` option.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Device, host path for binds, or a free label for pseudo filesystems.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Mount options (see [`super::parse_mount_options`]).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub options: Vec<String>,
    /// Idmapped-mount uid mappings (v1.1).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub uid_mappings: Vec<IdMapping>,
    /// Idmapped-mount gid mappings (v1.1).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub gid_mappings: Vec<IdMapping>,
}

impl Mount {
    /// Whether this is a bind mount: type `bind`, or any type with a `bind`/`rbind` option
    /// (runc's rule; Docker writes `"type": "bind"`, older tools leave the type out).
    pub fn is_bind(&self) -> bool {
        self.kind.as_deref() == Some("bind")
            || self.options.iter().any(|o| o == "bind" || o == "rbind")
    }
}

/// `hooks`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hooks {
    /// Deprecated; runs after the namespaces exist, before pivot_root, in the runtime's
    /// namespace.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub prestart: Vec<Hook>,
    /// During `create`, after the environment exists, in the runtime's namespace.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub create_runtime: Vec<Hook>,
    /// During `create`, in the container's namespaces, before pivot_root.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub create_container: Vec<Hook>,
    /// During `start`, in the container, before the user process runs.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub start_container: Vec<Hook>,
    /// After the user process started, in the runtime's namespace.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub poststart: Vec<Hook>,
    /// After the container is deleted.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub poststop: Vec<Hook>,
}

impl Hooks {
    /// All six lists with their field names, in lifecycle order.
    pub fn all(&self) -> [(&'static str, &[Hook]); 6] {
        [
            ("prestart", &self.prestart),
            ("createRuntime", &self.create_runtime),
            ("createContainer", &self.create_container),
            ("startContainer", &self.start_container),
            ("poststart", &self.poststart),
            ("poststop", &self.poststop),
        ]
    }
}

/// One hook: a program run with the container state JSON on stdin.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hook {
    /// Absolute path of the program.
    #[serde(default)]
    pub path: String,
    /// argv, including argv[0].
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub args: Vec<String>,
    /// Environment.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub env: Vec<String>,
    /// Seconds before the hook is killed; must be positive when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<i64>,
}

/// `linux`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Linux {
    /// User-namespace uid mappings.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub uid_mappings: Vec<IdMapping>,
    /// User-namespace gid mappings.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub gid_mappings: Vec<IdMapping>,
    /// `kernel.*` / `net.*` settings, keys in dotted form.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub sysctl: BTreeMap<String, String>,
    /// cgroup limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
    /// cgroup path (or `slice:prefix:name` with `--systemd-cgroup`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cgroups_path: Option<String>,
    /// Namespaces to create or join.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub namespaces: Vec<Namespace>,
    /// Device nodes to create in the container.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub devices: Vec<Device>,
    /// The spec's seccomp filter (not applied by rvisor: see [`super::validate()`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seccomp: Option<Value>,
    /// Propagation of the root mount (`rprivate`, `rslave`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rootfs_propagation: Option<String>,
    /// Paths hidden from the container.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub masked_paths: Vec<String>,
    /// Paths made read-only in the container.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub readonly_paths: Vec<String>,
    /// SELinux mount label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mount_label: Option<String>,
    /// Intel RDT settings; kept opaque.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intel_rdt: Option<Value>,
    /// Execution domain; kept opaque.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub personality: Option<Value>,
    /// v1.1 time-namespace offsets; kept opaque.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_offsets: Option<Value>,
}

impl Linux {
    /// The entry for namespace `kind`, if the spec lists it.
    pub fn namespace(&self, kind: &NamespaceType) -> Option<&Namespace> {
        self.namespaces.iter().find(|n| &n.kind == kind)
    }
}

/// A uid or gid mapping.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdMapping {
    /// First id inside the container.
    #[serde(rename = "containerID", default)]
    pub container_id: u32,
    /// First id on the host.
    #[serde(rename = "hostID", default)]
    pub host_id: u32,
    /// Number of ids.
    #[serde(default)]
    pub size: u32,
}

/// One `linux.namespaces` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Namespace {
    /// The namespace kind.
    #[serde(rename = "type")]
    pub kind: NamespaceType,
    /// Join this existing namespace (a `/proc/PID/ns/*` or bind-mounted nsfs file) instead of
    /// creating one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// A namespace kind. Unrecognised strings parse as [`NamespaceType::Unknown`] so that the
/// error names the field ([`super::check_spec`] rejects them) rather than failing the parse.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum NamespaceType {
    /// `pid`.
    #[default]
    Pid,
    /// `network`.
    Network,
    /// `mount`.
    Mount,
    /// `ipc`.
    Ipc,
    /// `uts`.
    Uts,
    /// `user`.
    User,
    /// `cgroup`.
    Cgroup,
    /// `time` (v1.1).
    Time,
    /// Anything else, kept verbatim.
    Unknown(String),
}

impl NamespaceType {
    /// Every known kind, in the order `rvisor features` lists them.
    pub const KNOWN: [NamespaceType; 8] = [
        NamespaceType::Cgroup,
        NamespaceType::Ipc,
        NamespaceType::Mount,
        NamespaceType::Network,
        NamespaceType::Pid,
        NamespaceType::Time,
        NamespaceType::User,
        NamespaceType::Uts,
    ];

    /// The spec's spelling.
    pub fn as_str(&self) -> &str {
        match self {
            NamespaceType::Pid => "pid",
            NamespaceType::Network => "network",
            NamespaceType::Mount => "mount",
            NamespaceType::Ipc => "ipc",
            NamespaceType::Uts => "uts",
            NamespaceType::User => "user",
            NamespaceType::Cgroup => "cgroup",
            NamespaceType::Time => "time",
            NamespaceType::Unknown(s) => s,
        }
    }
}

impl From<String> for NamespaceType {
    fn from(s: String) -> Self {
        match s.as_str() {
            "pid" => NamespaceType::Pid,
            "network" => NamespaceType::Network,
            "mount" => NamespaceType::Mount,
            "ipc" => NamespaceType::Ipc,
            "uts" => NamespaceType::Uts,
            "user" => NamespaceType::User,
            "cgroup" => NamespaceType::Cgroup,
            "time" => NamespaceType::Time,
            _ => NamespaceType::Unknown(s),
        }
    }
}

impl From<NamespaceType> for String {
    fn from(n: NamespaceType) -> Self {
        n.as_str().to_string()
    }
}

impl fmt::Display for NamespaceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One `linux.devices` entry: a node to create.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Device {
    /// `c`, `b`, `u` (unbuffered char) or `p` (fifo).
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Absolute path inside the container.
    #[serde(default)]
    pub path: String,
    /// Major number (not for `p`).
    #[serde(default)]
    pub major: i64,
    /// Minor number (not for `p`).
    #[serde(default)]
    pub minor: i64,
    /// Permission bits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_mode: Option<u32>,
    /// Owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    /// Group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gid: Option<u32>,
}

/// `linux.resources`; also the body of `update --resources`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resources {
    /// Device cgroup allow/deny rules, applied in order.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub devices: Vec<DeviceRule>,
    /// Memory limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<Memory>,
    /// CPU limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<Cpu>,
    /// Task count limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pids: Option<Pids>,
    /// Block IO weights and throttles; kept opaque.
    #[serde(rename = "blockIO", default, skip_serializing_if = "Option::is_none")]
    pub block_io: Option<Value>,
    /// Hugetlb limits; kept opaque.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hugepage_limits: Option<Value>,
    /// Network class/priorities (cgroup v1); kept opaque.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<Value>,
    /// RDMA limits; kept opaque.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rdma: Option<Value>,
    /// Raw cgroup v2 files (`"memory.high": "1G"`).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub unified: BTreeMap<String, String>,
}

/// One device cgroup rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceRule {
    /// Allow (true) or deny.
    #[serde(default)]
    pub allow: bool,
    /// `a`, `c` or `b`; absent means all.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Major number; absent means all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub major: Option<i64>,
    /// Minor number; absent means all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minor: Option<i64>,
    /// Some of `rwm`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<String>,
}

/// `linux.resources.memory` (bytes; -1 means unlimited).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Memory {
    /// Hard limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// Soft limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reservation: Option<i64>,
    /// Memory plus swap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swap: Option<i64>,
    /// Kernel memory (deprecated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel: Option<i64>,
    /// Kernel TCP buffers (deprecated).
    #[serde(rename = "kernelTCP", default, skip_serializing_if = "Option::is_none")]
    pub kernel_tcp: Option<i64>,
    /// 0..=100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swappiness: Option<u64>,
    /// Disable the OOM killer (cgroup v1).
    #[serde(
        rename = "disableOOMKiller",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub disable_oom_killer: Option<bool>,
    /// cgroup v1 hierarchy accounting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_hierarchy: Option<bool>,
    /// v1.1: refuse an update below current usage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_before_update: Option<bool>,
}

/// `linux.resources.cpu`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cpu {
    /// Relative weight (cgroup v1 shares; converted to a v2 weight).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shares: Option<u64>,
    /// CFS quota per period, µs; -1 means unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota: Option<i64>,
    /// v1.1 CFS burst, µs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst: Option<u64>,
    /// CFS period, µs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<u64>,
    /// Realtime runtime, µs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub realtime_runtime: Option<i64>,
    /// Realtime period, µs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub realtime_period: Option<u64>,
    /// cpuset CPUs, e.g. `"0-3,6"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus: Option<String>,
    /// cpuset memory nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mems: Option<String>,
    /// v1.1 SCHED_IDLE for the cgroup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle: Option<i64>,
}

/// `linux.resources.pids`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pids {
    /// Maximum number of tasks; 0 or negative means unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}
