//! The OCI runtime-spec layer: reading a bundle's `config.json` (and `exec --process` files),
//! checking it, deciding what rvisor can honour, and the pieces the commands need from it
//! (mount options, capability, rlimit and signal names, `rvisor spec`, `rvisor features`).
//!
//! The usual path, for `create`/`run`:
//!
//! ```text
//! let bundle = oci::load(&bundle_dir)?;          // parse + check_spec + rootfs + validate
//! for w in &bundle.warnings { tracing::warn!("{w}"); }
//! ```
//!
//! Layers, each usable alone: [`parse_spec`] (JSON only) → [`check_spec`] (what the
//! runtime-spec forbids) → [`validate()`] (what rvisor cannot honour: errors, or warnings to
//! log).

mod check;
mod defaults;
mod error;
mod features;
mod idmap;
mod mount_opts;
mod names;
mod signal;
mod spec;
mod validate;

#[cfg(test)]
mod tests;

use std::fs;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

// The module's API, re-exported flat; a command uses only some of it, so unused re-exports
// are not warnings here.
#[allow(unused_imports)]
pub use check::{check_process, check_spec, check_version};
#[allow(unused_imports)]
pub use defaults::{default_spec, default_spec_json, SPEC_VERSION};
pub use error::SpecError;
#[allow(unused_imports)]
pub use features::{
    features, features_json, CgroupFeatures, Enabled, Features, LinuxFeatures, MountExtensions,
    CGROUP_SUPPORT,
};
pub use idmap::id_maps;
#[allow(unused_imports)]
pub use mount_opts::{attr, known_mount_options, parse_mount_options, MountOptions};
#[allow(unused_imports)]
pub use names::{
    capability_mask, capability_name, capability_number, rlimit_name, rlimit_resource,
    CAPABILITIES, RLIMITS,
};
#[allow(unused_imports)]
pub use signal::{parse_signal, signal_name, SignalError};
#[allow(unused_imports)]
pub use spec::{
    Capabilities, ConsoleSize, Cpu, Device, DeviceRule, Hook, Hooks, IdMapping, Linux, Memory,
    Mount, Namespace, NamespaceType, Pids, Process, Resources, Rlimit, Root, Spec, User,
};
#[allow(unused_imports)]
pub use validate::{
    device_made, sysctls, validate, validate_process, Warning, SUPPORTED_MOUNT_TYPES,
};

/// A loaded, checked bundle.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// The bundle directory, canonical (absolute, symlinks resolved).
    pub dir: PathBuf,
    /// `dir/config.json`.
    pub config: PathBuf,
    /// The root filesystem: `root.path`, relative to `dir` unless absolute, canonical, and a
    /// directory.
    pub rootfs: PathBuf,
    /// The parsed spec. [`load`] guarantees `process` and `root` are `Some`.
    pub spec: Spec,
    /// What rvisor ignores of the spec ([`validate()`]); the caller logs them.
    pub warnings: Vec<Warning>,
}

impl Bundle {
    /// The host path of a bind mount's source: relative sources are relative to the bundle
    /// directory, as in runc. `None` for a mount without a source.
    pub fn mount_source(&self, m: &Mount) -> Option<PathBuf> {
        let src = m.source.as_deref().filter(|s| !s.is_empty())?;
        Some(self.dir.join(src))
    }
}

/// Loads the bundle at `bundle` for `create`/`run`: reads `config.json`, parses it
/// ([`parse_spec`]), checks it ([`check_spec`]: a process with args and an absolute cwd, a
/// root, absolute mount destinations, known namespace/rlimit/capability names, …), resolves
/// and checks the rootfs, and classifies what rvisor cannot honour ([`validate()`]).
pub fn load(bundle: &Path) -> Result<Bundle, SpecError> {
    let dir = fs::canonicalize(bundle)
        .map_err(|e| SpecError::io(bundle.to_path_buf(), e, SpecError::BundleMissing))?;
    if !dir.is_dir() {
        return Err(SpecError::BundleNotDir(dir));
    }
    let config = dir.join("config.json");
    let bytes =
        fs::read(&config).map_err(|e| SpecError::io(config.clone(), e, SpecError::FileMissing))?;
    let spec = parse_spec(&bytes, &config.display().to_string())?;
    check_spec(&spec)?;
    let root_path = spec.root.as_ref().map(|r| r.path.as_str()).unwrap_or("");
    let rootfs = resolve_rootfs(&dir, root_path)?;
    let warnings = validate(&spec)?;
    Ok(Bundle {
        dir,
        config,
        rootfs,
        spec,
        warnings,
    })
}

/// `root.path` against the bundle `dir`, canonical; an error unless it is a directory.
fn resolve_rootfs(dir: &Path, root_path: &str) -> Result<PathBuf, SpecError> {
    let joined = dir.join(root_path);
    let rootfs = fs::canonicalize(&joined)
        .map_err(|e| SpecError::io(joined, e, SpecError::RootfsMissing))?;
    let meta = fs::metadata(&rootfs)
        .map_err(|e| SpecError::io(rootfs.clone(), e, SpecError::RootfsMissing))?;
    if !meta.is_dir() {
        return Err(SpecError::RootfsNotDir(rootfs));
    }
    Ok(rootfs)
}

/// Reads an `exec --process` file: a JSON `Process`, checked with [`check_process`]. Its
/// warnings come from [`validate_process`].
pub fn load_process(path: &Path) -> Result<Process, SpecError> {
    let bytes =
        fs::read(path).map_err(|e| SpecError::io(path.to_path_buf(), e, SpecError::FileMissing))?;
    let process = parse_process(&bytes, &path.display().to_string())?;
    check_process(&process, "process")?;
    Ok(process)
}

/// Parses a JSON object into `T`. The top level must be an object: serde would otherwise read
/// a JSON array as a struct's fields in order (so `[]` would be an empty spec).
fn parse<T: DeserializeOwned>(text: &[u8], origin: &str) -> Result<T, SpecError> {
    let start = text.iter().position(|b| !b.is_ascii_whitespace());
    if let Some(i) = start.filter(|&i| text[i] != b'{') {
        let line = 1 + text[..i].iter().filter(|&&b| b == b'\n').count();
        let line_start = text[..i]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1);
        return Err(SpecError::Json {
            origin: origin.to_string(),
            line,
            column: i - line_start + 1,
            message: "expected a JSON object".to_string(),
        });
    }
    serde_json::from_slice(text).map_err(|e| SpecError::json(origin, &e))
}

/// Parses `config.json` text without checking values; `origin` names it in errors.
pub fn parse_spec(text: &[u8], origin: &str) -> Result<Spec, SpecError> {
    parse(text, origin)
}

/// Parses a `Process` JSON without checking values.
pub fn parse_process(text: &[u8], origin: &str) -> Result<Process, SpecError> {
    parse(text, origin)
}

/// Parses a `LinuxResources` JSON, the body of `update --resources FILE|-`.
pub fn parse_resources(text: &[u8], origin: &str) -> Result<Resources, SpecError> {
    parse(text, origin)
}
