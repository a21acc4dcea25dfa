//! Container state under `--root`: one directory per container holding `state.json`
//! (written atomically: a temporary file renamed over it) and the sandbox's control socket.
//! A container whose sandbox process is gone is stopped, whatever the file says.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use serde::{Deserialize, Serialize};

/// The default `--root`.
pub const DEFAULT_ROOT: &str = "/run/rvisor";

/// What the state file keeps.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct State {
    pub id: String,
    /// The sandbox process (the Sentry): 0 until it runs.
    pub pid: i32,
    /// Its start time (field 22 of /proc/PID/stat), to tell it from a reused pid.
    pub start_time: u64,
    /// "created" until `start`, then "running"; "stopped" is seen, not stored.
    pub status: String,
    pub bundle: PathBuf,
    pub rootfs: PathBuf,
    /// RFC 3339, UTC.
    pub created: String,
    #[serde(default)]
    pub annotations: std::collections::BTreeMap<String, String>,
    /// The host cgroup directories of the sandbox (one per v1 hierarchy, one on v2).
    #[serde(default)]
    pub cgroup: Vec<String>,
    /// The spec's hooks run after create (poststart by `start`, poststop by `delete`).
    #[serde(default)]
    pub hooks: crate::oci::Hooks,
}

/// The state root and the container directories in it.
pub struct Root {
    pub dir: PathBuf,
}

/// Whether `id` is a valid container id (runc's rule: letters, digits, `_+-.`, not `.`
/// or `..`).
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id != "."
        && id != ".."
        && id.len() <= 1024
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+-.".contains(&b))
}

impl Root {
    pub fn new(dir: &Path) -> Root {
        Root {
            dir: dir.to_path_buf(),
        }
    }

    /// The directory of container `id`.
    pub fn container_dir(&self, id: &str) -> PathBuf {
        self.dir.join(id)
    }

    /// The control socket of container `id`.
    pub fn socket(&self, id: &str) -> PathBuf {
        self.container_dir(id).join("control.sock")
    }

    /// Makes the directory of a new container `id`; an existing one is an error.
    pub fn reserve(&self, id: &str) -> anyhow::Result<PathBuf> {
        if !valid_id(id) {
            bail!("invalid container id format: {id}");
        }
        std::fs::create_dir_all(&self.dir)
            .with_context(|| format!("creating the state root {}", self.dir.display()))?;
        let d = self.container_dir(id);
        match std::fs::create_dir(&d) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                bail!("container with id exists: {id}")
            }
            Err(e) => return Err(e).with_context(|| format!("creating {}", d.display())),
        }
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o711))?;
        Ok(d)
    }

    /// Writes the state of its container atomically.
    pub fn save(&self, st: &State) -> anyhow::Result<()> {
        let d = self.container_dir(&st.id);
        let tmp = d.join(".state.json.tmp");
        let text = serde_json::to_vec(st)?;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&text)?;
        f.sync_all()?;
        std::fs::rename(&tmp, d.join("state.json"))?;
        Ok(())
    }

    /// The saved state of `id`.
    pub fn load(&self, id: &str) -> anyhow::Result<State> {
        if !valid_id(id) {
            bail!("invalid container id format: {id}");
        }
        let p = self.container_dir(id).join("state.json");
        let text = match std::fs::read(&p) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                bail!("container {id} does not exist")
            }
            Err(e) => return Err(e).with_context(|| format!("reading {}", p.display())),
        };
        serde_json::from_slice(&text).with_context(|| format!("{} is corrupt", p.display()))
    }

    /// The ids of the containers under the root.
    pub fn ids(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&self.dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().join("state.json").exists())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        v.sort();
        v
    }

    /// Removes everything of container `id` under the root.
    pub fn remove(&self, id: &str) {
        let _ = std::fs::remove_dir_all(self.container_dir(id));
    }
}

/// The start time of process `pid` (field 22 of /proc/PID/stat), if it exists and is not a
/// zombie.
pub fn start_time(pid: i32) -> Option<u64> {
    if pid <= 0 {
        return None;
    }
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: fields follow its last ')'.
    let rest = &s[s.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    if fields.first() == Some(&"Z") || fields.first() == Some(&"X") {
        return None;
    }
    fields.get(19)?.parse().ok()
}

impl State {
    /// Whether the sandbox process recorded is still the one running.
    pub fn alive(&self) -> bool {
        self.pid > 0 && start_time(self.pid) == Some(self.start_time)
    }

    /// The status as runc reports it: created, running, paused or stopped.
    pub fn current_status(&self) -> &str {
        if !self.alive() {
            return "stopped";
        }
        if self.status == "running" && frozen(self.pid) {
            return "paused";
        }
        &self.status
    }
}

/// Whether process `pid` is stopped by a cgroup freezer (state in /proc/PID/stat is not
/// enough: frozen tasks sleep in the freezer).
fn frozen(pid: i32) -> bool {
    let Ok(cg) = std::fs::read_to_string(format!("/proc/{pid}/cgroup")) else {
        return false;
    };
    for line in cg.lines() {
        let mut parts = line.splitn(3, ':');
        let (_, ctl, path) = (parts.next(), parts.next(), parts.next());
        let (Some(ctl), Some(path)) = (ctl, path) else {
            continue;
        };
        let file = if ctl.split(',').any(|c| c == "freezer") {
            format!("/sys/fs/cgroup/freezer{path}/freezer.state")
        } else if ctl.is_empty() {
            format!("/sys/fs/cgroup{path}/cgroup.freeze")
        } else {
            continue;
        };
        if let Ok(v) = std::fs::read_to_string(&file) {
            let v = v.trim();
            if v == "FROZEN" || v == "1" {
                return true;
            }
        }
    }
    false
}

/// Now, in RFC 3339 with nanoseconds, UTC (as runc writes `created`).
pub fn now_rfc3339() -> String {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    rfc3339(d.as_secs() as i64, d.subsec_nanos())
}

/// `secs` since the epoch and `nanos`, in RFC 3339, UTC.
pub fn rfc3339(secs: i64, nanos: u32) -> String {
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400);
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{nanos:09}Z",
        tod / 3600,
        tod % 3600 / 60,
        tod % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert!(valid_id("abc-1.2_x+y"));
        for bad in ["", ".", "..", "a/b", "a b", "é"] {
            assert!(!valid_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn times() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(rfc3339(86_400 + 3661, 5), "1970-01-02T01:01:01.000000005Z");
        assert_eq!(rfc3339(951_782_400, 0), "2000-02-29T00:00:00.000000000Z");
        assert_eq!(rfc3339(1_795_564_800, 0), "2026-11-25T00:00:00.000000000Z");
    }

    #[test]
    fn save_and_load() {
        let dir = std::env::temp_dir().join(format!("rvisor-state-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let root = Root::new(&dir);
        root.reserve("c1").unwrap();
        assert!(root.reserve("c1").is_err());
        let st = State {
            id: "c1".into(),
            pid: std::process::id() as i32,
            start_time: start_time(std::process::id() as i32).unwrap(),
            status: "created".into(),
            ..Default::default()
        };
        root.save(&st).unwrap();
        let back = root.load("c1").unwrap();
        assert!(back.alive());
        assert_eq!(back.current_status(), "created");
        assert_eq!(root.ids(), vec!["c1".to_string()]);
        assert!(root.load("nope").is_err());
        root.remove("c1");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
