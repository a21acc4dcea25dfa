//! Structural checks: values the runtime-spec itself does not allow, or that no runtime could
//! use (a relative mount destination, an unknown namespace or rlimit type, a duplicate
//! namespace, an environment entry without `=`). Each failure is a [`SpecError::Invalid`] (or
//! [`SpecError::UnsupportedVersion`]) naming the field by its JSON path.
//!
//! What rvisor, specifically, can or cannot honour is [`super::validate()`]'s business.

use std::collections::HashSet;

use super::names::{capability_number, rlimit_resource};
use super::spec::{Hooks, Linux, Mount, NamespaceType, Process, Spec};
use super::SpecError;

/// Valid `linux.rootfsPropagation` values.
const ROOTFS_PROPAGATION: &[&str] = &[
    "private",
    "rprivate",
    "shared",
    "rshared",
    "slave",
    "rslave",
    "unbindable",
    "runbindable",
];

fn is_abs(p: &str) -> bool {
    p.starts_with('/')
}

fn no_nul(field: &str, s: &str) -> Result<(), SpecError> {
    if s.contains('\0') {
        Err(SpecError::invalid(field, "contains a NUL byte"))
    } else {
        Ok(())
    }
}

fn abs_path(field: &str, p: &str) -> Result<(), SpecError> {
    no_nul(field, p)?;
    if p.is_empty() {
        Err(SpecError::invalid(field, "must not be empty"))
    } else if !is_abs(p) {
        Err(SpecError::invalid(
            field,
            format!("{p:?} is not an absolute path"),
        ))
    } else {
        Ok(())
    }
}

/// Checks `ociVersion`: any 1.x (`1.0.2-dev`, `1.1.0`, `1.2.0+dev`) is accepted; an empty one
/// is tolerated (runc does not look at it; [`super::validate()`] warns).
pub fn check_version(version: &str) -> Result<(), SpecError> {
    if version.is_empty() {
        return Ok(());
    }
    let major = version.split(['.', '-', '+']).next().unwrap_or("");
    if major == "1" {
        Ok(())
    } else {
        Err(SpecError::UnsupportedVersion(version.to_string()))
    }
}

/// Checks a whole spec for `create`/`run`: the version, a `process` (required to create a
/// container), a `root`, and every field below.
pub fn check_spec(spec: &Spec) -> Result<(), SpecError> {
    check_version(&spec.oci_version)?;
    let process = spec.process.as_ref().ok_or_else(|| {
        SpecError::invalid("process", "missing (a container needs a process to run)")
    })?;
    check_process(process, "process")?;
    let root = spec
        .root
        .as_ref()
        .ok_or_else(|| SpecError::invalid("root", "missing (the bundle needs a rootfs)"))?;
    if root.path.is_empty() {
        return Err(SpecError::invalid("root.path", "must not be empty"));
    }
    no_nul("root.path", &root.path)?;
    for (i, m) in spec.mounts.iter().enumerate() {
        check_mount(m, &format!("mounts[{i}]"))?;
    }
    if let Some(hooks) = &spec.hooks {
        check_hooks(hooks)?;
    }
    if let Some(linux) = &spec.linux {
        check_linux(linux)?;
    }
    Ok(())
}

/// Checks a process (the spec's, or an `exec --process` file's); `at` prefixes field names.
/// Like runc: `args` must not be empty, `cwd` must be absolute, every `env` entry needs `=`.
pub fn check_process(p: &Process, at: &str) -> Result<(), SpecError> {
    if p.args.is_empty() {
        return Err(SpecError::invalid(
            format!("{at}.args"),
            "must not be empty (nothing to run)",
        ));
    }
    for (i, a) in p.args.iter().enumerate() {
        no_nul(&format!("{at}.args[{i}]"), a)?;
    }
    if p.args[0].is_empty() {
        return Err(SpecError::invalid(
            format!("{at}.args[0]"),
            "must not be empty",
        ));
    }
    abs_path(&format!("{at}.cwd"), &p.cwd)?;
    for (i, e) in p.env.iter().enumerate() {
        let field = format!("{at}.env[{i}]");
        no_nul(&field, e)?;
        match e.split_once('=') {
            None => return Err(SpecError::invalid(field, format!("{e:?} has no '='"))),
            Some(("", _)) => {
                return Err(SpecError::invalid(
                    field,
                    format!("{e:?} has an empty name"),
                ))
            }
            Some(_) => {}
        }
    }
    if let Some(caps) = &p.capabilities {
        for (set, names) in caps.sets() {
            for (i, name) in names.iter().enumerate() {
                capability_number(name).map_err(|e| {
                    SpecError::invalid(format!("{at}.capabilities.{set}[{i}]"), e.to_string())
                })?;
            }
        }
    }
    let mut seen = HashSet::new();
    for (i, r) in p.rlimits.iter().enumerate() {
        let field = format!("{at}.rlimits[{i}]");
        let res = rlimit_resource(&r.kind)
            .map_err(|e| SpecError::invalid(format!("{field}.type"), e.to_string()))?;
        if !seen.insert(res) {
            return Err(SpecError::invalid(
                format!("{field}.type"),
                format!("{} is listed twice", r.kind),
            ));
        }
        if r.soft > r.hard {
            return Err(SpecError::invalid(
                field,
                format!("soft limit {} exceeds hard limit {}", r.soft, r.hard),
            ));
        }
    }
    if let Some(adj) = p.oom_score_adj {
        if !(-1000..=1000).contains(&adj) {
            return Err(SpecError::invalid(
                format!("{at}.oomScoreAdj"),
                format!("{adj} is outside -1000..=1000"),
            ));
        }
    }
    Ok(())
}

/// Checks one mount: an absolute destination, and a source for bind mounts.
fn check_mount(m: &Mount, at: &str) -> Result<(), SpecError> {
    abs_path(&format!("{at}.destination"), &m.destination)?;
    if let Some(src) = &m.source {
        no_nul(&format!("{at}.source"), src)?;
    }
    if m.is_bind() && m.source.as_deref().unwrap_or("").is_empty() {
        return Err(SpecError::invalid(
            format!("{at}.source"),
            "a bind mount needs a source",
        ));
    }
    Ok(())
}

/// Checks hooks: an absolute path and a positive timeout.
fn check_hooks(hooks: &Hooks) -> Result<(), SpecError> {
    for (name, list) in hooks.all() {
        for (i, h) in list.iter().enumerate() {
            let at = format!("hooks.{name}[{i}]");
            abs_path(&format!("{at}.path"), &h.path)?;
            if let Some(t) = h.timeout {
                if t <= 0 {
                    return Err(SpecError::invalid(
                        format!("{at}.timeout"),
                        format!("{t} is not a positive number of seconds"),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Checks the `linux` section.
fn check_linux(l: &Linux) -> Result<(), SpecError> {
    let mut seen = HashSet::new();
    for (i, ns) in l.namespaces.iter().enumerate() {
        let at = format!("linux.namespaces[{i}]");
        if let NamespaceType::Unknown(t) = &ns.kind {
            return Err(SpecError::invalid(
                format!("{at}.type"),
                format!("unknown namespace type {t:?}"),
            ));
        }
        if !seen.insert(ns.kind.clone()) {
            return Err(SpecError::invalid(
                format!("{at}.type"),
                format!("namespace {} is listed twice", ns.kind),
            ));
        }
        if let Some(p) = ns.path.as_deref().filter(|p| !p.is_empty()) {
            abs_path(&format!("{at}.path"), p)?;
        }
    }
    for (i, d) in l.devices.iter().enumerate() {
        let at = format!("linux.devices[{i}]");
        abs_path(&format!("{at}.path"), &d.path)?;
        if !matches!(d.kind.as_str(), "c" | "b" | "u" | "p") {
            return Err(SpecError::invalid(
                format!("{at}.type"),
                format!("{:?} is not one of c, b, u, p", d.kind),
            ));
        }
    }
    if let Some(res) = &l.resources {
        for (i, r) in res.devices.iter().enumerate() {
            let at = format!("linux.resources.devices[{i}]");
            if let Some(t) = r.kind.as_deref() {
                if !matches!(t, "a" | "b" | "c") {
                    return Err(SpecError::invalid(
                        format!("{at}.type"),
                        format!("{t:?} is not one of a, b, c"),
                    ));
                }
            }
            if let Some(acc) = r.access.as_deref() {
                if !acc.chars().all(|c| matches!(c, 'r' | 'w' | 'm')) {
                    return Err(SpecError::invalid(
                        format!("{at}.access"),
                        format!("{acc:?} is not made of r, w, m"),
                    ));
                }
            }
        }
    }
    if let Some(p) = l.rootfs_propagation.as_deref().filter(|p| !p.is_empty()) {
        if !ROOTFS_PROPAGATION.contains(&p) {
            return Err(SpecError::invalid(
                "linux.rootfsPropagation",
                format!("{p:?} is not a propagation mode"),
            ));
        }
    }
    for (i, p) in l.masked_paths.iter().enumerate() {
        abs_path(&format!("linux.maskedPaths[{i}]"), p)?;
    }
    for (i, p) in l.readonly_paths.iter().enumerate() {
        abs_path(&format!("linux.readonlyPaths[{i}]"), p)?;
    }
    for key in l.sysctl.keys() {
        if key.is_empty() {
            return Err(SpecError::invalid("linux.sysctl", "a key is empty"));
        }
    }
    Ok(())
}
