//! `rvisor install` and `rvisor uninstall`: register the runtime in (or remove it from)
//! Docker's daemon.json, as `runsc install` does.
//!
//! ```text
//! rvisor install   [--runtime-name NAME] [--config FILE] [-- EXTRA RUNTIME ARGS...]
//! rvisor uninstall [--runtime-name NAME] [--config FILE]
//! ```
//!
//! Only the `runtimes.NAME` entry is touched; every other key and runtime is kept. The file
//! is replaced atomically (a temporary file in the same directory, renamed over it) with
//! its mode and owner kept; a file that is not a JSON object is refused and left as it is.
//! Keys come out sorted (serde_json's map), as Go's encoder writes them for `runsc`.
//! Nothing is restarted: dockerd reads the new runtimes on a reload.

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{MetadataExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use serde_json::{Map, Value};

use crate::cli::Args;

/// Docker's default daemon configuration.
const DEFAULT_CONFIG: &str = "/etc/docker/daemon.json";
/// The runtime name registered by default.
const DEFAULT_NAME: &str = "rvisor";
/// The flags taking a value.
const VALUED: &[&str] = &["runtime-name", "config"];
/// How to make dockerd see the change.
const RELOAD_HINT: &str =
    "reload dockerd to apply it (`systemctl reload docker`, or send SIGHUP to dockerd)";

/// `rvisor install`: adds (or updates) `runtimes.NAME` pointing at this binary.
pub fn install(args: &[String]) -> anyhow::Result<()> {
    let (opts, extra) = split_extra(args);
    let (name, config) = parse_opts(opts)?;
    if name == "runc" {
        bail!("the runtime name \"runc\" is reserved by dockerd; choose another --runtime-name");
    }
    let exe = std::env::current_exe().context("cannot find the path of the rvisor binary")?;
    if !exe.is_absolute() || !exe.exists() {
        bail!(
            "the rvisor binary {} no longer exists; run install from the installed binary",
            exe.display()
        );
    }
    let what = match add_runtime(&config, &name, &exe, extra)? {
        Installed::Added => "added to",
        Installed::Replaced => "updated in",
        Installed::Unchanged => "already registered (unchanged) in",
    };
    println!(
        "rvisor install: runtime \"{name}\" ({}) {what} {}; {RELOAD_HINT}",
        exe.display(),
        config.display()
    );
    Ok(())
}

/// `rvisor uninstall`: removes `runtimes.NAME`; a missing file or entry is not an error.
pub fn uninstall(args: &[String]) -> anyhow::Result<()> {
    let (opts, extra) = split_extra(args);
    if !extra.is_empty() {
        bail!("uninstall takes no runtime arguments (after `--`)");
    }
    let (name, config) = parse_opts(opts)?;
    match remove_runtime(&config, &name)? {
        Uninstalled::Removed => println!(
            "rvisor uninstall: removed runtime \"{name}\" from {}; {RELOAD_HINT}",
            config.display()
        ),
        Uninstalled::NoFile => eprintln!(
            "rvisor uninstall: {} does not exist; nothing to remove",
            config.display()
        ),
        Uninstalled::NoEntry => eprintln!(
            "rvisor uninstall: no runtime \"{name}\" in {}; nothing to remove",
            config.display()
        ),
    }
    Ok(())
}

/// Splits the arguments at the first `--` that is not a flag's value: the flags before it,
/// the runtime arguments after it.
fn split_extra(args: &[String]) -> (&[String], &[String]) {
    let mut i = 0;
    while i < args.len() {
        let s = args[i].as_str();
        if s == "--" {
            return (&args[..i], &args[i + 1..]);
        }
        let body = s.trim_start_matches('-');
        if s.starts_with('-') && !body.contains('=') && VALUED.contains(&body) {
            i += 1; // skip the value
        }
        i += 1;
    }
    (args, &[])
}

/// Parses `--runtime-name` and `--config`; no positional argument is accepted.
fn parse_opts(opts: &[String]) -> anyhow::Result<(String, PathBuf)> {
    let a = Args::parse(opts, VALUED, &[])?;
    if let Some(extra) = a.rest.first() {
        bail!("unexpected argument {extra:?} (runtime arguments go after `--`)");
    }
    let name = a.value("runtime-name").unwrap_or(DEFAULT_NAME).to_string();
    if name.is_empty() {
        bail!("--runtime-name must not be empty");
    }
    let config = a.value("config").unwrap_or(DEFAULT_CONFIG);
    if config.is_empty() {
        bail!("--config must not be empty");
    }
    Ok((name, PathBuf::from(config)))
}

/// What `add_runtime` did.
#[derive(Debug, PartialEq, Eq)]
enum Installed {
    /// A new entry (and maybe a new file).
    Added,
    /// An entry of that name was replaced.
    Replaced,
    /// The same entry was there already: nothing written.
    Unchanged,
}

/// What `remove_runtime` did.
#[derive(Debug, PartialEq, Eq)]
enum Uninstalled {
    /// The entry was removed and the file rewritten.
    Removed,
    /// There is no such file.
    NoFile,
    /// The file has no such runtime.
    NoEntry,
}

/// Sets `runtimes.NAME` = `{"path": exe, "runtimeArgs": extra}` in `config`.
fn add_runtime(
    config: &Path,
    name: &str,
    exe: &Path,
    extra: &[String],
) -> anyhow::Result<Installed> {
    let Some(exe) = exe.to_str() else {
        bail!("the rvisor binary's path {} is not UTF-8", exe.display());
    };
    let target = resolve(config);
    let (mut root, meta) = match read_config(&target)? {
        Some((root, meta)) => (root, Some(meta)),
        None => (Map::new(), None),
    };
    if matches!(root.get("runtimes"), None | Some(Value::Null)) {
        root.insert("runtimes".to_string(), Value::Object(Map::new()));
    }
    let Some(Value::Object(runtimes)) = root.get_mut("runtimes") else {
        bail!("{}: \"runtimes\" is not a JSON object", target.display());
    };
    let mut entry = Map::new();
    entry.insert("path".to_string(), Value::String(exe.to_string()));
    if !extra.is_empty() {
        let args = extra.iter().cloned().map(Value::String).collect();
        entry.insert("runtimeArgs".to_string(), Value::Array(args));
    }
    let entry = Value::Object(entry);
    let outcome = match runtimes.get(name) {
        Some(old) if *old == entry => return Ok(Installed::Unchanged),
        Some(_) => Installed::Replaced,
        None => Installed::Added,
    };
    runtimes.insert(name.to_string(), entry);
    write_atomic(&target, &root, meta.as_ref())?;
    Ok(outcome)
}

/// Removes `runtimes.NAME` from `config`, and `runtimes` itself when it becomes empty.
fn remove_runtime(config: &Path, name: &str) -> anyhow::Result<Uninstalled> {
    let target = resolve(config);
    let Some((mut root, meta)) = read_config(&target)? else {
        return Ok(Uninstalled::NoFile);
    };
    let Some(Value::Object(runtimes)) = root.get_mut("runtimes") else {
        return Ok(Uninstalled::NoEntry);
    };
    if runtimes.remove(name).is_none() {
        return Ok(Uninstalled::NoEntry);
    }
    if runtimes.is_empty() {
        root.remove("runtimes");
    }
    write_atomic(&target, &root, Some(&meta))?;
    Ok(Uninstalled::Removed)
}

/// The file to rewrite: a symlink's target (the link itself stays), else `config`.
fn resolve(config: &Path) -> PathBuf {
    match fs::symlink_metadata(config) {
        Ok(m) if m.file_type().is_symlink() => {
            fs::canonicalize(config).unwrap_or_else(|_| config.to_path_buf())
        }
        _ => config.to_path_buf(),
    }
}

/// Reads and parses the configuration: `None` when the file does not exist; an empty file
/// is an empty object; anything but a JSON object is an error naming the file.
fn read_config(path: &Path) -> anyhow::Result<Option<(Map<String, Value>, fs::Metadata)>> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let meta = fs::metadata(path).with_context(|| format!("cannot stat {}", path.display()))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Some((Map::new(), meta)));
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(m)) => Ok(Some((m, meta))),
        Ok(_) => bail!(
            "{}: not a JSON object; fix or remove it first (left unchanged)",
            path.display()
        ),
        Err(e) => bail!(
            "{}: invalid JSON: {e}; fix or remove it first (left unchanged)",
            path.display()
        ),
    }
}

/// Writes `root` pretty-printed to `path` through a temporary file in the same directory
/// renamed over it, with the old file's mode and (when allowed) owner, else mode 0644.
fn write_atomic(
    path: &Path,
    root: &Map<String, Value>,
    old: Option<&fs::Metadata>,
) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut text = serde_json::to_string_pretty(root).context("cannot serialize the config")?;
    text.push('\n');
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "daemon.json".to_string());
    let tmp = dir.join(format!(".{file_name}.rvisor-{}.tmp", std::process::id()));
    let _ = fs::remove_file(&tmp); // a leftover of a crashed run with our pid
    let mode = old.map_or(0o644, |m| m.mode() & 0o7777);
    let write = || -> std::io::Result<()> {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)?;
        if let Some(m) = old {
            // Best effort: only root may give the file away; the mode is what matters.
            let _ = std::os::unix::fs::fchown(&f, Some(m.uid()), Some(m.gid()));
        }
        // Exactly the old mode, whatever the umask (after fchown, which may clear set-id bits).
        f.set_permissions(fs::Permissions::from_mode(mode))?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)
    };
    if let Err(e) = write() {
        let _ = fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("cannot write {}", path.display()));
    }
    // Make the rename durable; failing here changes nothing about the result.
    if let Ok(d) = fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::atomic::{AtomicUsize, Ordering};

    static NEXT: AtomicUsize = AtomicUsize::new(0);

    /// A fresh scratch directory, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> Self {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let p = std::env::temp_dir()
                .join(format!("rvisor-install-test-{}-{n}", std::process::id()));
            let _ = fs::remove_dir_all(&p);
            fs::create_dir_all(&p).unwrap();
            TempDir(p)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn read_json(p: &Path) -> Value {
        serde_json::from_slice(&fs::read(p).unwrap()).unwrap()
    }

    fn mode(p: &Path) -> u32 {
        fs::metadata(p).unwrap().mode() & 0o7777
    }

    /// Only `daemon.json` (and the given others) remain: no temporary file left behind.
    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn install_fresh_file_and_directory() {
        let t = TempDir::new();
        let cfg = t.0.join("etc/docker/daemon.json");
        let exe = Path::new("/opt/rvisor/bin/rvisor");
        let extra = strings(&["--platform=kvm", "--debug"]);
        assert_eq!(
            add_runtime(&cfg, "rvisor", exe, &extra).unwrap(),
            Installed::Added
        );
        assert_eq!(
            read_json(&cfg),
            json!({"runtimes": {"rvisor": {
                "path": "/opt/rvisor/bin/rvisor",
                "runtimeArgs": ["--platform=kvm", "--debug"]
            }}})
        );
        let text = fs::read_to_string(&cfg).unwrap();
        assert!(
            text.ends_with("}\n") && text.contains("\n  \"runtimes\""),
            "{text}"
        );
        assert_eq!(mode(&cfg), 0o644);
        assert_eq!(entries(cfg.parent().unwrap()), ["daemon.json"]);
    }

    #[test]
    fn install_without_extra_args_has_no_runtime_args() {
        let t = TempDir::new();
        let cfg = t.0.join("daemon.json");
        add_runtime(&cfg, "rv", Path::new("/bin/rvisor"), &[]).unwrap();
        assert_eq!(
            read_json(&cfg),
            json!({"runtimes": {"rv": {"path": "/bin/rvisor"}}})
        );
    }

    #[test]
    fn install_keeps_other_keys_runtimes_and_mode() {
        let t = TempDir::new();
        let cfg = t.0.join("daemon.json");
        let before = json!({
            "log-driver": "json-file",
            "default-runtime": "runc",
            "storage-opts": ["a", "b"],
            "debug": true,
            "max-concurrent-downloads": 3,
            "runtimes": {"runsc": {"path": "/usr/bin/runsc", "runtimeArgs": ["--x"]}}
        });
        fs::write(&cfg, serde_json::to_string(&before).unwrap()).unwrap();
        fs::set_permissions(&cfg, fs::Permissions::from_mode(0o600)).unwrap();
        add_runtime(&cfg, "rvisor", Path::new("/usr/local/bin/rvisor"), &[]).unwrap();
        let mut want = before.clone();
        want["runtimes"]["rvisor"] = json!({"path": "/usr/local/bin/rvisor"});
        assert_eq!(read_json(&cfg), want);
        assert_eq!(mode(&cfg), 0o600);
        assert_eq!(entries(&t.0), ["daemon.json"]);
    }

    #[test]
    fn install_is_idempotent_and_updates() {
        let t = TempDir::new();
        let cfg = t.0.join("daemon.json");
        let exe = Path::new("/usr/bin/rvisor");
        let extra = strings(&["--network=host"]);
        assert_eq!(
            add_runtime(&cfg, "rvisor", exe, &extra).unwrap(),
            Installed::Added
        );
        let first = fs::read(&cfg).unwrap();
        assert_eq!(
            add_runtime(&cfg, "rvisor", exe, &extra).unwrap(),
            Installed::Unchanged
        );
        assert_eq!(fs::read(&cfg).unwrap(), first);
        assert_eq!(
            add_runtime(&cfg, "rvisor", exe, &[]).unwrap(),
            Installed::Replaced
        );
        assert_eq!(
            read_json(&cfg),
            json!({"runtimes": {"rvisor": {"path": "/usr/bin/rvisor"}}})
        );
    }

    #[test]
    fn install_empty_file_and_null_runtimes() {
        let t = TempDir::new();
        let cfg = t.0.join("daemon.json");
        fs::write(&cfg, " \n").unwrap();
        add_runtime(&cfg, "a", Path::new("/a"), &[]).unwrap();
        assert_eq!(read_json(&cfg), json!({"runtimes": {"a": {"path": "/a"}}}));
        fs::write(&cfg, r#"{"runtimes": null, "k": 1}"#).unwrap();
        add_runtime(&cfg, "a", Path::new("/a"), &[]).unwrap();
        assert_eq!(
            read_json(&cfg),
            json!({"k": 1, "runtimes": {"a": {"path": "/a"}}})
        );
    }

    #[test]
    fn install_follows_a_symlink() {
        let t = TempDir::new();
        let real = t.0.join("real.json");
        let link = t.0.join("daemon.json");
        fs::write(&real, "{\"x\": 1}").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        add_runtime(&link, "rvisor", Path::new("/r"), &[]).unwrap();
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(
            read_json(&real),
            json!({"x": 1, "runtimes": {"rvisor": {"path": "/r"}}})
        );
    }

    #[test]
    fn malformed_file_refused_and_untouched() {
        let t = TempDir::new();
        let cfg = t.0.join("daemon.json");
        for bad in [
            "{ \"runtimes\": ",
            "[1, 2]",
            "\"str\"",
            "{\"runtimes\": 5}",
            "{\"runtimes\": []}",
        ] {
            fs::write(&cfg, bad).unwrap();
            fs::set_permissions(&cfg, fs::Permissions::from_mode(0o640)).unwrap();
            let e = add_runtime(&cfg, "rvisor", Path::new("/r"), &[]).unwrap_err();
            let msg = format!("{e:#}");
            assert!(msg.contains(&cfg.display().to_string()), "{bad}: {msg}");
            assert_eq!(fs::read_to_string(&cfg).unwrap(), bad);
            assert_eq!(mode(&cfg), 0o640);
            assert_eq!(entries(&t.0), ["daemon.json"]);
        }
        for bad in ["{ \"runtimes\": ", "[1, 2]"] {
            fs::write(&cfg, bad).unwrap();
            let e = remove_runtime(&cfg, "rvisor").unwrap_err();
            assert!(format!("{e:#}").contains(&cfg.display().to_string()));
            assert_eq!(fs::read_to_string(&cfg).unwrap(), bad);
        }
    }

    #[test]
    fn uninstall_keeps_others() {
        let t = TempDir::new();
        let cfg = t.0.join("daemon.json");
        let before = json!({
            "debug": false,
            "runtimes": {
                "runsc": {"path": "/usr/bin/runsc"},
                "rvisor": {"path": "/usr/bin/rvisor", "runtimeArgs": ["--debug"]}
            }
        });
        fs::write(&cfg, serde_json::to_string(&before).unwrap()).unwrap();
        fs::set_permissions(&cfg, fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(
            remove_runtime(&cfg, "rvisor").unwrap(),
            Uninstalled::Removed
        );
        assert_eq!(
            read_json(&cfg),
            json!({"debug": false, "runtimes": {"runsc": {"path": "/usr/bin/runsc"}}})
        );
        assert_eq!(mode(&cfg), 0o600);
        assert!(fs::read_to_string(&cfg).unwrap().ends_with("}\n"));
        assert_eq!(entries(&t.0), ["daemon.json"]);
    }

    #[test]
    fn uninstall_last_runtime_drops_runtimes_object() {
        let t = TempDir::new();
        let cfg = t.0.join("daemon.json");
        fs::write(&cfg, r#"{"a": 1, "runtimes": {"rvisor": {"path": "/r"}}}"#).unwrap();
        assert_eq!(
            remove_runtime(&cfg, "rvisor").unwrap(),
            Uninstalled::Removed
        );
        assert_eq!(read_json(&cfg), json!({"a": 1}));
    }

    #[test]
    fn uninstall_missing_file_or_entry_is_fine() {
        let t = TempDir::new();
        let cfg = t.0.join("nope/daemon.json");
        assert_eq!(remove_runtime(&cfg, "rvisor").unwrap(), Uninstalled::NoFile);
        assert!(!t.0.join("nope").exists());
        let cfg = t.0.join("daemon.json");
        let text = r#"{"runtimes": {"runsc": {"path": "/r"}}}"#;
        fs::write(&cfg, text).unwrap();
        assert_eq!(
            remove_runtime(&cfg, "rvisor").unwrap(),
            Uninstalled::NoEntry
        );
        assert_eq!(fs::read_to_string(&cfg).unwrap(), text);
        fs::write(&cfg, "{}").unwrap();
        assert_eq!(
            remove_runtime(&cfg, "rvisor").unwrap(),
            Uninstalled::NoEntry
        );
    }

    #[test]
    fn install_then_uninstall_round_trip() {
        let t = TempDir::new();
        let cfg = t.0.join("daemon.json");
        let text = "{\n  \"debug\": true\n}\n";
        fs::write(&cfg, text).unwrap();
        add_runtime(&cfg, "rvisor", Path::new("/r"), &strings(&["-x"])).unwrap();
        remove_runtime(&cfg, "rvisor").unwrap();
        assert_eq!(fs::read_to_string(&cfg).unwrap(), text);
    }

    #[test]
    fn command_line_parsing() {
        let a = strings(&[
            "--runtime-name",
            "gv",
            "--config=/tmp/d.json",
            "--",
            "--platform=kvm",
            "--config",
            "x",
        ]);
        let (opts, extra) = split_extra(&a);
        assert_eq!(extra, strings(&["--platform=kvm", "--config", "x"]));
        let (name, cfg) = parse_opts(opts).unwrap();
        assert_eq!((name.as_str(), cfg), ("gv", PathBuf::from("/tmp/d.json")));

        // `--` as a flag's value is not the separator.
        let a = strings(&["--config", "--", "--", "-y"]);
        let (opts, extra) = split_extra(&a);
        assert_eq!((opts.len(), extra), (2, strings(&["-y"]).as_slice()));

        let (name, cfg) = parse_opts(&[]).unwrap();
        assert_eq!(
            (name.as_str(), cfg),
            ("rvisor", PathBuf::from(DEFAULT_CONFIG))
        );

        assert!(parse_opts(&strings(&["stray"])).is_err());
        assert!(parse_opts(&strings(&["--bogus"])).is_err());
        assert!(parse_opts(&strings(&["--runtime-name="])).is_err());
        assert!(parse_opts(&strings(&["--config"])).is_err());
        let e = install(&strings(&["--runtime-name", "runc"])).unwrap_err();
        assert!(e.to_string().contains("reserved"), "{e}");
        assert!(uninstall(&strings(&["--", "x"])).is_err());
    }
}
