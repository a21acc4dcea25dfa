//! The runtime wrapper that logs each call Docker and containerd make, and what rvisor logged.

use super::*;

/// Writes the runtime script Docker and containerd are given: it logs each argv to
/// `base/argv.log`, keeps each bundle's config.json in `base/configs/ID.json` and, on
/// `delete`, the bundle's log.json in `base/logs/ID.json`, then execs rvisor.
pub(crate) fn runtime_wrapper(base: &Path) -> PathBuf {
    for d in ["configs", "logs"] {
        std::fs::create_dir_all(base.join(d)).unwrap();
    }
    let b = base.display();
    let script = format!(
        r#"#!/bin/sh
printf '%s\n' "$*" >> '{b}/argv.log'
prev=
log=
for a in "$@"; do
    case "$prev" in
        --log) log=$a ;;
        --bundle) cp "$a/config.json" "{b}/configs/$(basename "$a").json" 2>/dev/null ;;
    esac
    prev=$a
done
case " $* " in
    *" delete "*) [ -n "$log" ] && cp "$log" "{b}/logs/$(basename "$(dirname "$log")").json" 2>/dev/null ;;
esac
exec '{rv}' "$@"
"#,
        rv = rvisor()
    );
    let path = base.join("rvisor-runtime");
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// The lines of the argv log.
pub(crate) fn argv_lines(base: &Path) -> Vec<String> {
    std::fs::read_to_string(base.join("argv.log"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// The container ids `create` was called for in `lines`.
pub(crate) fn created_ids(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .filter(|l| l.split_whitespace().any(|w| w == "create"))
        .filter_map(|l| l.split_whitespace().last().map(str::to_string))
        .collect()
}

/// The value of `--root` in the runtime calls, if any.
pub(crate) fn runtime_root(lines: &[String]) -> Option<PathBuf> {
    lines.iter().find_map(|l| {
        let mut w = l.split_whitespace();
        while let Some(a) = w.next() {
            if a == "--root" {
                return w.next().map(PathBuf::from);
            }
        }
        None
    })
}

/// The argv lines for a report.
pub(crate) fn summarize_argv(lines: &[String]) -> String {
    lines
        .iter()
        .map(|l| format!("      rvisor {}", cut_ids(l, false)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The messages rvisor logged at `levels` in the bundle log.json files the wrapper kept
/// (of container `id`, or of all), each once, with container ids and our directory cut
/// out so that the same message about two containers is one.
pub(crate) fn rvisor_log(base: &Path, id: Option<&str>, levels: &[&str]) -> Vec<String> {
    let files: Vec<PathBuf> = match id {
        Some(id) => vec![base.join("logs").join(format!("{id}.json"))],
        None => std::fs::read_dir(base.join("logs"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .collect(),
    };
    let prefix = base.display().to_string();
    let mut msgs = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f).unwrap_or_default();
        for l in text.lines() {
            let v: serde_json::Value = serde_json::from_str(l).unwrap_or_default();
            let level = v["level"].as_str().unwrap_or_default().to_ascii_lowercase();
            if !levels.contains(&level.as_str()) {
                continue;
            }
            let msg = v["msg"]
                .as_str()
                .or(v["message"].as_str())
                .unwrap_or_default();
            let msg = clip(&cut_ids(msg, true).replace(&prefix, "$TMP"));
            if !msgs.contains(&msg) {
                msgs.push(msg);
            }
        }
    }
    msgs
}

/// `text` with each 64-hex container id cut to its first 12 digits, or (`hide`) replaced
/// by `<id>`.
pub(crate) fn cut_ids(text: &str, hide: bool) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(|c: char| c.is_ascii_hexdigit()) {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let n = rest
            .find(|c: char| !c.is_ascii_hexdigit())
            .unwrap_or(rest.len());
        if n == 64 && hide {
            out.push_str("<id>");
        } else if n == 64 {
            out.push_str(&rest[..12]);
            out.push('…');
        } else {
            out.push_str(&rest[..n]);
        }
        rest = &rest[n..];
    }
    out.push_str(rest);
    out
}
