//! Command-line parsing as runc's (urfave/cli) accepts it: `--flag value`, `--flag=value`,
//! one or two dashes, boolean flags alone, flags and arguments in any order until `--`;
//! and the global flags with the runc-style error log (`--log`, `--log-format json`),
//! which containerd's shim reads back.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;

use anyhow::bail;

/// The flags and arguments of one subcommand.
#[derive(Debug, Default)]
pub struct Args {
    values: BTreeMap<String, Vec<String>>,
    bools: Vec<String>,
    /// Positional arguments, in order (after `--`, everything).
    pub rest: Vec<String>,
}

impl Args {
    /// Parses `args` given which flags take a value (`valued`) and which do not (`flags`);
    /// any other flag is an error naming it.
    pub fn parse(args: &[String], valued: &[&str], flags: &[&str]) -> anyhow::Result<Args> {
        let mut a = Args::default();
        let mut i = 0;
        while i < args.len() {
            let s = &args[i];
            if s == "--" {
                a.rest.extend(args[i + 1..].iter().cloned());
                break;
            }
            // Flags end at the first positional argument (`exec ID CMD -c ...`).
            if a.rest.is_empty() && s.len() > 1 && s.starts_with('-') {
                let body = s.trim_start_matches('-');
                let (name, inline) = match body.split_once('=') {
                    Some((n, v)) => (n, Some(v.to_string())),
                    None => (body, None),
                };
                if valued.contains(&name) {
                    let v = match inline {
                        Some(v) => v,
                        None => {
                            i += 1;
                            match args.get(i) {
                                Some(v) => v.clone(),
                                None => bail!("flag needs an argument: --{name}"),
                            }
                        }
                    };
                    a.values.entry(name.to_string()).or_default().push(v);
                } else if flags.contains(&name) {
                    match inline.as_deref() {
                        None | Some("true") => a.bools.push(name.to_string()),
                        Some("false") => {}
                        Some(v) => bail!("invalid boolean value {v:?} for --{name}"),
                    }
                } else {
                    bail!("flag provided but not defined: -{name}");
                }
            } else {
                a.rest.push(s.clone());
            }
            i += 1;
        }
        Ok(a)
    }

    /// The last value of a flag.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.values
            .get(name)
            .and_then(|v| v.last())
            .map(String::as_str)
    }

    /// Every value of a repeated flag.
    pub fn values(&self, name: &str) -> &[String] {
        self.values.get(name).map_or(&[], Vec::as_slice)
    }

    /// Whether a boolean flag was given.
    pub fn flag(&self, name: &str) -> bool {
        self.bools.iter().any(|b| b == name)
    }

    /// The one positional argument a command takes (the container id).
    pub fn id(&self, cmd: &str) -> anyhow::Result<&str> {
        match self.rest.as_slice() {
            [id] => Ok(id),
            _ => bail!("\"{cmd}\" requires exactly 1 argument(s)"),
        }
    }
}

/// The global flags.
#[derive(Debug, Clone)]
pub struct Global {
    pub root: PathBuf,
    pub log: Option<PathBuf>,
    pub log_json: bool,
    pub debug: bool,
    pub systemd_cgroup: bool,
    /// `--platform NAME`: where the sandbox runs application code (`rvisor platforms`).
    pub platform: String,
    /// `--overlay none`: the container's writes to a writable root reach the bundle's rootfs
    /// (through a writable gofer), as with runc; `memory` (the default) keeps them in the
    /// sandbox's memory.
    pub overlay_none: bool,
}

impl Default for Global {
    fn default() -> Self {
        Global {
            root: PathBuf::from(crate::state::DEFAULT_ROOT),
            log: None,
            log_json: false,
            debug: false,
            systemd_cgroup: false,
            platform: "seccomp".to_string(),
            overlay_none: false,
        }
    }
}

/// Takes the global flags off the front of `args`.
pub fn global(args: &mut Vec<String>) -> anyhow::Result<Global> {
    let mut g = Global::default();
    while let Some(a) = args.first().cloned() {
        if !a.starts_with('-') || a == "-" || a == "--" {
            break;
        }
        let body = a.trim_start_matches('-').to_string();
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (body.clone(), None),
        };
        let take = |args: &mut Vec<String>| -> anyhow::Result<String> {
            if let Some(v) = inline.clone() {
                return Ok(v);
            }
            if args.len() < 2 {
                bail!("flag needs an argument: --{name}");
            }
            Ok(args.remove(1))
        };
        match name.as_str() {
            "root" => g.root = PathBuf::from(take(args)?),
            "log" => g.log = Some(PathBuf::from(take(args)?)).filter(|p| !p.as_os_str().is_empty()),
            "log-format" => {
                g.log_json = match take(args)?.as_str() {
                    "json" => true,
                    "text" => false,
                    v => bail!("invalid log-format: {v}"),
                }
            }
            "debug" => g.debug = inline.as_deref() != Some("false"),
            "systemd-cgroup" => g.systemd_cgroup = inline.as_deref() != Some("false"),
            "platform" => g.platform = take(args)?,
            "overlay" => {
                g.overlay_none = match take(args)?.as_str() {
                    "memory" => false,
                    "none" => true,
                    v => bail!("invalid overlay: {v} (memory or none)"),
                }
            }
            // Accepted as runc does; they change nothing here.
            "rootless" | "criu" => {
                if inline.is_none() && name == "criu" {
                    take(args)?;
                }
            }
            "version" | "v" | "help" | "h" => break,
            _ => bail!("flag provided but not defined: -{name}"),
        }
        args.remove(0);
    }
    Ok(g)
}

impl Global {
    /// Records an error in the log, as runc does (a JSON object per line with `--log-format
    /// json`, which the shim reads back), and prints it on stderr.
    pub fn report_error(&self, msg: &str) {
        eprintln!("rvisor: {msg}");
        self.log("error", msg);
    }

    /// Appends a line to the log file, if there is one.
    pub fn log(&self, level: &str, msg: &str) {
        let Some(path) = &self.log else {
            return;
        };
        let time = crate::state::now_rfc3339();
        let line = if self.log_json {
            let mut o = serde_json::Map::new();
            o.insert("level".into(), level.into());
            o.insert("msg".into(), msg.into());
            o.insert("time".into(), time.into());
            serde_json::Value::Object(o).to_string()
        } else {
            format!(
                "time=\"{time}\" level={level} msg=\"{}\"",
                msg.replace('"', "\\\"")
            )
        };
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = writeln!(f, "{line}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn flags_and_positionals() {
        let a = Args::parse(
            &v(&["--bundle", "/b", "--pid-file=/p", "-no-pivot", "id1"]),
            &["bundle", "pid-file"],
            &["no-pivot"],
        )
        .unwrap();
        assert_eq!(a.value("bundle"), Some("/b"));
        assert_eq!(a.value("pid-file"), Some("/p"));
        assert!(a.flag("no-pivot"));
        assert_eq!(a.id("create").unwrap(), "id1");
        assert!(Args::parse(&v(&["--nope"]), &[], &[]).is_err());
        assert!(Args::parse(&v(&["--bundle"]), &["bundle"], &[]).is_err());
        let a = Args::parse(&v(&["id", "sh", "-c", "x"]), &[], &[]).unwrap();
        assert_eq!(a.rest, v(&["id", "sh", "-c", "x"]));
    }

    #[test]
    fn globals() {
        let mut a = v(&[
            "--root",
            "/r",
            "--log=/l.json",
            "--log-format",
            "json",
            "--systemd-cgroup",
            "--platform=kvm",
            "--overlay=none",
            "create",
            "x",
        ]);
        let g = global(&mut a).unwrap();
        assert_eq!(g.root, PathBuf::from("/r"));
        assert_eq!(g.log, Some(PathBuf::from("/l.json")));
        assert!(g.log_json && g.systemd_cgroup);
        assert_eq!(g.platform, "kvm");
        assert!(g.overlay_none);
        assert!(global(&mut v(&["--overlay", "disk", "state"])).is_err());
        assert_eq!(a, v(&["create", "x"]));
        assert!(global(&mut v(&["--log-format", "xml", "state"])).is_err());
    }
}
