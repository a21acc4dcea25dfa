//! From the spec's `linux.cgroupsPath` (input we do not trust) to a cgroup path inside a
//! hierarchy, with runc's conventions:
//!
//! - cgroupfs driver: `/a/b` is taken from the root of each hierarchy, `a/b` from the runtime's
//!   own cgroup; no path at all means `/rvisor/<id>`.
//! - systemd driver (`--systemd-cgroup`): `slice:prefix:name`, e.g. `system.slice:docker:<id>`,
//!   is the scope unit `prefix-name.scope` under the slice; `my-app.slice` nests as
//!   `/my.slice/my-app.slice`. We do not talk to systemd over D-Bus: the scope's directory is
//!   made by hand where systemd would put it, so systemd neither knows nor manages the unit.
//!   No path at all means `system.slice:rvisor:<id>`.
//!
//! A `..` component, a control character or an over-long name is refused, so a path can never
//! leave its hierarchy.

use std::path::{Component, Path, PathBuf};

use super::CgroupError;

/// The parent of every sandbox's cgroup when the spec names none (cgroupfs driver).
pub(super) const DEFAULT_PARENT: &str = "rvisor";
/// The slice and scope prefix when the spec names none (systemd driver).
const DEFAULT_SLICE: &str = "system.slice";
const DEFAULT_SCOPE_PREFIX: &str = "rvisor";

/// Longest path we accept from a spec (PATH_MAX).
const MAX_PATH: usize = 4096;
/// Longest single name (NAME_MAX).
const MAX_NAME: usize = 255;

/// A checked cgroup path: `absolute` ones start at the root of each hierarchy, the others at
/// the runtime's own cgroup. Never empty; no component is `.`, `..` or contains `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct CgPath {
    pub absolute: bool,
    pub components: Vec<String>,
}

impl CgPath {
    /// `/a/b` or `a/b`, as given back to the caller.
    pub fn display(&self) -> String {
        let joined = self.components.join("/");
        if self.absolute {
            format!("/{joined}")
        } else {
            joined
        }
    }
}

fn bad(path: &str, reason: impl Into<String>) -> CgroupError {
    CgroupError::BadPath {
        path: path.to_string(),
        reason: reason.into(),
    }
}

/// Checks one path component from untrusted input.
fn check_name(whole: &str, name: &str) -> Result<(), CgroupError> {
    if name == ".." {
        return Err(bad(whole, "\"..\" is not allowed"));
    }
    if name.len() > MAX_NAME {
        return Err(bad(
            whole,
            format!("a name is longer than {MAX_NAME} bytes"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(bad(whole, "control characters are not allowed"));
    }
    Ok(())
}

/// Splits and checks a cgroupfs-style path (`/a/b` or `a/b`).
pub(super) fn parse_fs_path(path: &str) -> Result<CgPath, CgroupError> {
    if path.len() > MAX_PATH {
        return Err(bad(path, format!("longer than {MAX_PATH} bytes")));
    }
    let mut components = Vec::new();
    for name in path.split('/') {
        if name.is_empty() || name == "." {
            continue;
        }
        check_name(path, name)?;
        components.push(name.to_string());
    }
    if components.is_empty() {
        return Err(bad(
            path,
            "names the root of the hierarchy, not a cgroup of its own",
        ));
    }
    Ok(CgPath {
        absolute: path.starts_with('/'),
        components,
    })
}

/// systemd's slice expansion: `a-b.slice` is `/a.slice/a-b.slice`, `-.slice` the root.
pub(super) fn expand_slice(whole: &str, slice: &str) -> Result<Vec<String>, CgroupError> {
    let Some(stem) = slice.strip_suffix(".slice") else {
        return Err(bad(
            whole,
            format!("slice {slice:?} does not end in \".slice\""),
        ));
    };
    if slice.contains('/') {
        return Err(bad(whole, format!("slice {slice:?} contains '/'")));
    }
    if stem == "-" {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    let mut prefix = String::new();
    for part in stem.split('-') {
        if part.is_empty() {
            return Err(bad(
                whole,
                format!("slice {slice:?} is not a valid slice name"),
            ));
        }
        let name = format!("{prefix}{part}.slice");
        check_name(whole, &name)?;
        out.push(name);
        prefix.push_str(part);
        prefix.push('-');
    }
    Ok(out)
}

/// Maps a systemd-driver path `slice:prefix:name` to cgroupfs components.
pub(super) fn parse_systemd_path(path: &str) -> Result<CgPath, CgroupError> {
    if path.len() > MAX_PATH {
        return Err(bad(path, format!("longer than {MAX_PATH} bytes")));
    }
    let parts: Vec<&str> = path.split(':').collect();
    let [slice, prefix, name] = parts[..] else {
        return Err(bad(
            path,
            "the systemd cgroup driver expects \"slice:prefix:name\"",
        ));
    };
    if name.is_empty() {
        return Err(bad(path, "the unit name is empty"));
    }
    if name.contains('/') || prefix.contains('/') {
        return Err(bad(path, "a unit name or prefix contains '/'"));
    }
    let slice = if slice.is_empty() {
        DEFAULT_SLICE
    } else {
        slice
    };
    let mut components = expand_slice(path, slice)?;
    // A name that is itself a slice is used as is; anything else becomes a scope.
    let unit = if name.ends_with(".slice") {
        name.to_string()
    } else if prefix.is_empty() {
        format!("{name}.scope")
    } else {
        format!("{prefix}-{name}.scope")
    };
    check_name(path, &unit)?;
    components.push(unit);
    Ok(CgPath {
        absolute: true,
        components,
    })
}

/// The cgroup path for a sandbox: the spec's `cgroupsPath` if given, else the default for `id`.
pub(super) fn cgroup_path(spec: &str, id: &str, systemd: bool) -> Result<CgPath, CgroupError> {
    if !spec.is_empty() {
        if systemd {
            return parse_systemd_path(spec);
        }
        if !spec.contains('/') && spec.split(':').count() == 3 {
            tracing::warn!(
                path = spec,
                "cgroupsPath looks like a systemd \"slice:prefix:name\" but --systemd-cgroup \
                 is not set: taken as a directory name below our own cgroup"
            );
        }
        return parse_fs_path(spec);
    }
    if id.is_empty() || id.contains(['/', ':']) || id == "." {
        return Err(bad(
            id,
            "a container id must be one non-empty name without '/' or ':'",
        ));
    }
    if systemd {
        parse_systemd_path(&format!("{DEFAULT_SLICE}:{DEFAULT_SCOPE_PREFIX}:{id}"))
    } else {
        parse_fs_path(&format!("/{DEFAULT_PARENT}/{id}"))
    }
}

/// `base` joined with a cgroup path relative to it, refusing anything that is not a plain
/// name (the own-cgroup path comes from the kernel, the rest from the spec: both checked).
pub(super) fn join_checked(base: &Path, rel: &str, p: &CgPath) -> Result<PathBuf, CgroupError> {
    let mut out = base.to_path_buf();
    let own = if p.absolute { "" } else { rel };
    for name in own.split('/').filter(|n| !n.is_empty()) {
        if name == "." || name == ".." {
            return Err(CgroupError::NoHierarchy(format!(
                "own cgroup path {own:?} is not plain"
            )));
        }
        out.push(name);
    }
    for name in &p.components {
        out.push(name);
    }
    let plain = out
        .strip_prefix(base)
        .map(|r| r.components().all(|c| matches!(c, Component::Normal(_))))
        .unwrap_or(false);
    if !plain || out == base {
        return Err(CgroupError::BadPath {
            path: p.display(),
            reason: format!("would leave {}", base.display()),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fs(p: &str) -> String {
        parse_fs_path(p)
            .map(|c| c.display())
            .unwrap_or_else(|e| format!("ERR {e}"))
    }

    fn sd(p: &str) -> String {
        parse_systemd_path(p)
            .map(|c| c.display())
            .unwrap_or_else(|e| format!("ERR {e}"))
    }

    #[test]
    fn fs_paths() {
        assert_eq!(fs("/docker/abc"), "/docker/abc");
        assert_eq!(fs("//docker/./abc/"), "/docker/abc");
        assert_eq!(fs("kubepods/pod1/abc"), "kubepods/pod1/abc");
        assert!(!parse_fs_path("a/b").unwrap().absolute);
        assert!(parse_fs_path("/a/b").unwrap().absolute);
    }

    #[test]
    fn default_paths() {
        assert_eq!(
            cgroup_path("", "abc", false).unwrap().display(),
            "/rvisor/abc"
        );
        assert_eq!(
            cgroup_path("", "abc", true).unwrap().display(),
            "/system.slice/rvisor-abc.scope"
        );
        assert_eq!(cgroup_path("/x/y", "abc", false).unwrap().display(), "/x/y");
        for id in ["", ".", "..", "a/b", "a:b"] {
            assert!(cgroup_path("", id, false).is_err(), "{id:?}");
        }
    }

    #[test]
    fn bad_paths_are_refused() {
        for p in [
            "..",
            "/..",
            "../x",
            "/a/../../etc",
            "/a/..",
            "a/../b",
            "/",
            "",
            ".",
            "//./",
            "/a\nb",
            "/a\0b",
        ] {
            let r = parse_fs_path(p);
            assert!(r.is_err(), "{p:?} accepted as {r:?}");
            let msg = r.unwrap_err().to_string();
            assert!(!msg.contains('\n'), "one line: {msg:?}");
        }
        let long = format!("/{}", "a".repeat(300));
        assert!(parse_fs_path(&long).is_err());
        let deep = "/a".repeat(3000);
        assert!(parse_fs_path(&deep).is_err());
        assert_eq!(
            parse_fs_path("/a/../b").unwrap_err().to_string(),
            "invalid cgroup path \"/a/../b\": \"..\" is not allowed"
        );
    }

    #[test]
    fn systemd_names() {
        assert_eq!(
            sd("system.slice:docker:abc"),
            "/system.slice/docker-abc.scope"
        );
        assert_eq!(sd(":docker:abc"), "/system.slice/docker-abc.scope");
        assert_eq!(sd("system.slice::abc"), "/system.slice/abc.scope");
        assert_eq!(
            sd("kubepods-burstable-pod12.slice:cri-containerd:abc"),
            "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod12.slice/cri-containerd-abc.scope"
        );
        assert_eq!(sd("-.slice:p:n"), "/p-n.scope");
        assert_eq!(sd("user.slice:p:my.slice"), "/user.slice/my.slice");
    }

    #[test]
    fn bad_systemd_names_are_refused() {
        for p in [
            "/docker/abc",
            "system.slice:docker",
            "a:b:c:d",
            "system:docker:abc",
            ".slice:docker:abc",
            "a--b.slice:docker:abc",
            "-a.slice:docker:abc",
            "a/b.slice:docker:abc",
            "system.slice:docker:",
            "system.slice:docker:../x",
            "system.slice:do/cker:x",
            "system.slice:docker:a\nb",
        ] {
            let r = parse_systemd_path(p);
            assert!(r.is_err(), "{p:?} accepted as {r:?}");
        }
        assert!(cgroup_path("/docker/abc", "abc", true).is_err());
    }
}
