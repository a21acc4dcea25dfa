//! What rvisor can honour of a (structurally valid) spec.
//!
//! rvisor runs the container's processes on the Sentry, a user-space kernel, so some settings
//! that steer the host kernel mean nothing, and a few cannot be done at all. The rule: if
//! ignoring a setting could make the container *less* isolated than its author asked, or run
//! something other than what was asked, it is an error; if the Sentry already gives at least
//! what was asked (or the setting is host-side bookkeeping the sandbox does not need), it is a
//! [`Warning`] the caller logs, and the container runs.
//!
//! | setting | verdict |
//! |---|---|
//! | `linux.uidMappings`/`gidMappings` with a `user` namespace | accepted: the container's processes run in that namespace (`id_maps`); both maps needed, checked as Linux checks `uid_map` |
//! | idmapped mounts (`uidMappings` on a mount, `idmap`) | error: not supported |
//! | a `user` namespace without mappings | warning: the sandbox process gets a host user namespace; the application's ids are the host's (identity) |
//! | a namespace `path` for `network` | accepted: the sandbox attaches to that network namespace |
//! | no `network` namespace | accepted: the sandbox process stays in the runtime's (the Sentry opens no host socket) |
//! | a namespace `path` for anything else | error: joining an existing host namespace is not supported |
//! | no `pid`/`ipc`/`uts`/`mount` namespace (sharing the host's) | warning: the sandbox always has its own |
//! | `cgroup`, `time` namespaces | accepted (the Sentry's views are private anyway); `timeOffsets` warned as ignored |
//! | hooks | accepted (the create/start/delete commands run them) |
//! | mount types bind, tmpfs, proc, sysfs, devpts | accepted |
//! | mount types `cgroup`, `cgroup2` | accepted: the sandbox's cgroup v2 view (one group, the sandbox), always read-only, shown as `cgroup2`; a warning if the mount is not asked read-only |
//! | any other mount type (overlay, nfs, …) or an untyped non-bind mount | warning: that mount is skipped |
//! | `shared`/`rshared` propagation (mount option or `rootfsPropagation`) | warning: mounts made inside the sandbox never reach the host |
//! | `linux.seccomp` | warning: not applied — the Sentry serves every application syscall and its own host filter is the boundary |
//! | `apparmorProfile`, `selinuxLabel`, `mountLabel` | warning: not applied (no host LSM label on the sandbox) |
//! | `intelRdt`, `ioPriority`, `scheduler`, `execCPUAffinity` | warning: ignored |
//! | `personality` domain `LINUX32` | error: 32-bit execution is not supported; other domains/flags: warning, ignored |
//! | `sysctl` | set in the Sentry (its /proc/sys): net.core.somaxconn, net.ipv4.{ip_forward, ip_local_port_range, ip_unprivileged_port_start, ping_group_range}, fs.mqueue.*, kernel.domainname; other net.* and System V IPC ones (kernel.shm*, msg*, sem): warning, not applied; any other name is an error (kernel.hostname too, as runc: the `hostname` field sets it), as is a value the file refuses |
//! | `linux.devices` other than the Sentry's own (null, zero, full, random, urandom, tty, console, ptmx) | warning: devices and fifos under /dev are made as nodes (opening a device the Sentry has no driver for, and any block device, gives ENXIO); other paths are skipped |
//! | empty `ociVersion` | warning |
//! | `process.rlimits`, `noNewPrivileges`, capabilities | applied to pid 1 and to exec'd processes |
//! | `maskedPaths`, `readonlyPaths` | applied in the Sentry's mount table before pid 1 runs, after the spec's mounts, as runc makes them (absent paths skipped) |
//! | `linux.resources`, `cgroupsPath`, `oomScoreAdj`, `hostname`, `domainname`, annotations | accepted |

use std::fmt;

use serde_json::Value;

use super::mount_opts::parse_mount_options;
use super::spec::{Linux, NamespaceType, Process, Spec};
use super::SpecError;

/// Mount types rvisor mounts (bind mounts are recognised by [`super::Mount::is_bind`] whatever
/// their type says).
pub const SUPPORTED_MOUNT_TYPES: &[&str] = &[
    "bind", "tmpfs", "proc", "sysfs", "devpts", "mqueue", "cgroup", "cgroup2",
];

/// Device nodes the Sentry's devfs provides itself; listing them in `linux.devices` is fine.
const SENTRY_DEVICES: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
    "/dev/tty",
    "/dev/console",
    "/dev/ptmx",
];

/// Namespaces the sandbox always has privately, whatever the spec says.
const ALWAYS_PRIVATE: [NamespaceType; 4] = [
    NamespaceType::Pid,
    NamespaceType::Ipc,
    NamespaceType::Uts,
    NamespaceType::Mount,
];

/// A setting rvisor ignores or changes; the container still runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The JSON path of the field, e.g. `linux.seccomp`.
    pub field: String,
    /// What rvisor does instead.
    pub message: String,
}

impl Warning {
    fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Warning {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Classifies `spec` (see the module table): the first setting rvisor cannot honour is an
/// error ([`SpecError::Unsupported`]); the ones it ignores come back as warnings to log.
/// Expects a spec that passed [`super::check_spec`], but never panics on one that did not.
pub fn validate(spec: &Spec) -> Result<Vec<Warning>, SpecError> {
    let mut w = Vec::new();
    if spec.oci_version.is_empty() {
        w.push(Warning::new(
            "ociVersion",
            "missing; reading the config as runtime-spec 1.x",
        ));
    }
    if let Some(p) = &spec.process {
        w.extend(validate_process(p, "process"));
    }
    validate_mounts(spec, &mut w)?;
    if let Some(l) = &spec.linux {
        validate_linux(l, &mut w)?;
    } else {
        w.push(Warning::new(
            "linux",
            "missing; the sandbox still has its own pid, ipc, uts and mount namespaces",
        ));
    }
    Ok(w)
}

/// `linux.sysctl`: set in the Sentry (`sentry::kernel::sysctl`), which has the sysctls of the
/// container's own network and IPC namespaces and its UTS names. A name it does not have,
/// or a value its file refuses, is the error, now rather than at boot. kernel.hostname is
/// refused as runc refuses it: the spec's `hostname` says what it is.
fn validate_sysctl(l: &Linux, w: &mut Vec<Warning>) -> Result<(), SpecError> {
    let field = |k: &str| format!("linux.sysctl[{k:?}]");
    for key in l.sysctl.keys().filter(|k| ignored_sysctl(k)) {
        w.push(Warning::new(
            field(key),
            "not applied: the sandbox has no such tunable (System V IPC and most of the \
             network stack are not the Sentry's yet)",
        ));
    }
    for key in l.sysctl.keys() {
        if key.replace('/', ".") == "kernel.hostname" {
            return Err(SpecError::unsupported(
                field(key),
                "setting the hostname as a sysctl (it conflicts with the `hostname` field)",
            ));
        }
    }
    match sentry::kernel::sysctl::check(&sysctls(l)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let key = l
                .sysctl
                .keys()
                .find(|k| k.replace('/', ".") == e.name)
                .map_or(e.name.as_str(), String::as_str);
            if e.unknown {
                Err(SpecError::unsupported(field(key), e.why))
            } else {
                Err(SpecError::invalid(field(key), e.why))
            }
        }
    }
}

/// A sysctl runc would set in the container's own IPC or network namespace that the Sentry
/// does not serve (kernel.shm_rmid_forced, net.ipv4.tcp_syncookies...): warned about and
/// not applied, as it changes nothing the sandbox has. Any other unknown name is an error.
fn ignored_sysctl(key: &str) -> bool {
    let k = key.replace('/', ".");
    let namespaced = k.starts_with("net.")
        || k.starts_with("kernel.shm")
        || k.starts_with("kernel.msg")
        || k == "kernel.sem";
    namespaced
        && matches!(
            sentry::kernel::sysctl::check(&[(k, "0".to_string())]),
            Err(e) if e.unknown
        )
}

/// The spec's sysctls the Sentry sets: all but the ones [`ignored_sysctl`] leaves.
pub fn sysctls(l: &Linux) -> Vec<(String, String)> {
    l.sysctl
        .iter()
        .filter(|(k, _)| !ignored_sysctl(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Whether the sandbox makes a node for `linux.devices` entry `d` in its /dev: one under
/// /dev/ that is not among the Sentry's own devices.
pub fn device_made(d: &super::spec::Device) -> bool {
    d.path.starts_with("/dev/") && !SENTRY_DEVICES.contains(&d.path.as_str())
}

/// The warnings for a process (the spec's, or an `exec --process` file's); `at` prefixes field
/// names. Nothing in a process is an error for rvisor once [`super::check_process`] passed.
pub fn validate_process(p: &Process, at: &str) -> Vec<Warning> {
    let mut w = Vec::new();
    if p.apparmor_profile.as_deref().is_some_and(|s| !s.is_empty()) {
        w.push(Warning::new(
            format!("{at}.apparmorProfile"),
            "not applied: rvisor does not confine the sandbox with AppArmor",
        ));
    }
    if p.selinux_label.as_deref().is_some_and(|s| !s.is_empty()) {
        w.push(Warning::new(
            format!("{at}.selinuxLabel"),
            "not applied: rvisor does not label the sandbox for SELinux",
        ));
    }
    for (name, v) in [
        ("ioPriority", &p.io_priority),
        ("scheduler", &p.scheduler),
        ("execCPUAffinity", &p.exec_cpu_affinity),
    ] {
        if is_set(v) {
            w.push(Warning::new(format!("{at}.{name}"), "ignored"));
        }
    }
    w
}

fn is_set(v: &Option<Value>) -> bool {
    v.as_ref().is_some_and(|v| !v.is_null())
}

fn validate_mounts(spec: &Spec, w: &mut Vec<Warning>) -> Result<(), SpecError> {
    for (i, m) in spec.mounts.iter().enumerate() {
        let at = format!("mounts[{i}]");
        let opts = parse_mount_options(&m.options);
        if !m.uid_mappings.is_empty() || !m.gid_mappings.is_empty() || opts.idmap {
            return Err(SpecError::unsupported(at, "an idmapped mount"));
        }
        if !m.is_bind() {
            match m.kind.as_deref() {
                Some("cgroup" | "cgroup2") if opts.flags & libc::MS_RDONLY == 0 => {
                    w.push(Warning::new(
                        format!("{at}.options"),
                        format!(
                            "the cgroup mount on {} is read-only: the sandbox's cgroup view \
                             cannot be changed",
                            m.destination
                        ),
                    ))
                }
                Some(t) if SUPPORTED_MOUNT_TYPES.contains(&t) => {}
                Some(t) => w.push(Warning::new(
                    format!("{at}.type"),
                    format!(
                        "mount type {t:?} on {} is not supported; mount skipped",
                        m.destination
                    ),
                )),
                None => w.push(Warning::new(
                    format!("{at}.type"),
                    format!(
                        "mount on {} has no type and is not a bind mount; skipped",
                        m.destination
                    ),
                )),
            }
        }
        if opts.propagation.iter().any(|p| p & libc::MS_SHARED != 0) {
            w.push(Warning::new(
                format!("{at}.options"),
                "shared propagation: mounts made inside the sandbox never reach the host",
            ));
        }
    }
    Ok(())
}

fn validate_linux(l: &Linux, w: &mut Vec<Warning>) -> Result<(), SpecError> {
    let mapped = !super::id_maps(Some(l))?.is_identity();
    for (i, ns) in l.namespaces.iter().enumerate() {
        let at = format!("linux.namespaces[{i}]");
        if ns.path.as_deref().is_some_and(|p| !p.is_empty()) && ns.kind != NamespaceType::Network {
            return Err(SpecError::unsupported(
                format!("{at}.path"),
                format!("joining an existing {} namespace", ns.kind),
            ));
        }
        if ns.kind == NamespaceType::User && !mapped {
            w.push(Warning::new(
                format!("{at}.type"),
                "a user namespace without ID mappings: the sandbox process gets one on the \
                 host, and the application's ids stand for the same host ids",
            ));
        }
    }
    for kind in &ALWAYS_PRIVATE {
        if l.namespace(kind).is_none() {
            w.push(Warning::new(
                "linux.namespaces",
                format!(
                    "no {kind} namespace requested, but the sandbox always has its own \
                     (sharing the host's is not possible)"
                ),
            ));
        }
    }
    if is_set(&l.time_offsets) {
        w.push(Warning::new(
            "linux.timeOffsets",
            "ignored: the sandbox's clocks are the host's",
        ));
    }
    validate_sysctl(l, w)?;
    if is_set(&l.seccomp) {
        w.push(Warning::new(
            "linux.seccomp",
            "not applied: the Sentry serves every application syscall and its own host \
             seccomp filter is the boundary",
        ));
    }
    if l.mount_label.as_deref().is_some_and(|s| !s.is_empty()) {
        w.push(Warning::new(
            "linux.mountLabel",
            "not applied: rvisor does not label mounts for SELinux",
        ));
    }
    if is_set(&l.intel_rdt) {
        w.push(Warning::new("linux.intelRdt", "ignored"));
    }
    if let Some(p) = l.personality.as_ref().filter(|v| !v.is_null()) {
        let domain = p.get("domain").and_then(Value::as_str);
        let flags = p.get("flags").filter(|f| !f.is_null());
        match (domain, flags) {
            (Some("LINUX32"), _) => {
                return Err(SpecError::unsupported(
                    "linux.personality.domain",
                    "LINUX32 (32-bit execution)",
                ))
            }
            (Some("LINUX") | None, None) => {}
            _ => w.push(Warning::new("linux.personality", "ignored")),
        }
    }
    if l.rootfs_propagation
        .as_deref()
        .is_some_and(|p| p.ends_with("shared"))
    {
        w.push(Warning::new(
            "linux.rootfsPropagation",
            "shared propagation: mounts made inside the sandbox never reach the host",
        ));
    }
    let extra: Vec<&str> = l
        .devices
        .iter()
        .filter(|d| device_made(d))
        .map(|d| d.path.as_str())
        .collect();
    if !extra.is_empty() {
        w.push(Warning::new(
            "linux.devices",
            format!(
                "made as nodes in the sandbox's /dev, but host devices are not reachable: \
                 opening one the Sentry has no driver for gives ENXIO: {}",
                extra.join(", ")
            ),
        ));
    }
    let skipped: Vec<&str> = l
        .devices
        .iter()
        .filter(|d| !d.path.starts_with("/dev/"))
        .map(|d| d.path.as_str())
        .collect();
    if !skipped.is_empty() {
        w.push(Warning::new(
            "linux.devices",
            format!("nodes outside /dev are not made: {}", skipped.join(", ")),
        ));
    }
    Ok(())
}
