//! `rvisor events` and `rvisor update`: the container's cgroup, read and changed.

use std::io::Read as _;
use std::time::Duration;

use anyhow::{bail, Context as _};

use crate::cli::{Args, Global};
use crate::state::{Root, State};

/// The cgroup of a running container.
fn cgroup_of(g: &Global, id: &str) -> anyhow::Result<(State, crate::cgroup::Cgroup)> {
    let st = Root::new(&g.root).load(id)?;
    if st.current_status() == "stopped" {
        bail!("container not running");
    }
    if st.cgroup.is_empty() {
        bail!("the container has no cgroup");
    }
    let cg = crate::cgroup::Cgroup::load(&st.cgroup)?;
    Ok((st, cg))
}

/// One stats event, as runc prints it.
fn stats_event(id: &str, cg: &crate::cgroup::Cgroup) -> anyhow::Result<String> {
    let s = cg.stats()?;
    Ok(serde_json::json!({
        "type": "stats",
        "id": id,
        "data": {
            "cpu": {"usage": {
                "total": s.cpu_total_ns,
                "user": s.cpu_user_ns,
                "kernel": s.cpu_kernel_ns,
            }},
            "memory": {"usage": {
                "usage": s.memory_usage,
                "max": s.memory_max_usage,
                "limit": s.memory_limit,
                "failcnt": s.memory_failcnt,
            }},
            "pids": {"current": s.pids_current, "limit": s.pids_limit},
        },
    })
    .to_string())
}

/// `events [--stats] [--interval DURATION] ID`: with --stats one event, else one every
/// interval (default 5s) until the container stops.
pub fn events_cmd(g: &Global, args: &[String]) -> anyhow::Result<()> {
    let a = Args::parse(args, &["interval"], &["stats"])?;
    let id = a.id("events")?;
    let (st, cg) = cgroup_of(g, id)?;
    if a.flag("stats") {
        println!("{}", stats_event(id, &cg)?);
        return Ok(());
    }
    let every = parse_duration(a.value("interval").unwrap_or("5s"))?;
    while st.alive() {
        println!("{}", stats_event(id, &cg)?);
        std::thread::sleep(every);
    }
    Ok(())
}

/// A Go-style duration: a number with ms, s, m or h.
fn parse_duration(s: &str) -> anyhow::Result<Duration> {
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map_or((s, "s"), |i| (&s[..i], &s[i..]));
    let n: f64 = num
        .parse()
        .with_context(|| format!("invalid duration {s:?}"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => bail!("invalid duration {s:?}"),
    };
    if !(secs > 0.0 && secs < 1e9) {
        bail!("invalid duration {s:?}");
    }
    Ok(Duration::from_secs_f64(secs))
}

/// `update --resources FILE|- ID`: applies the resources JSON (OCI LinuxResources).
pub fn update_cmd(g: &Global, args: &[String]) -> anyhow::Result<()> {
    let a = Args::parse(args, &["resources", "r"], &[])?;
    let id = a.id("update")?;
    let Some(src) = a.value("resources").or(a.value("r")) else {
        bail!("update: only --resources is supported");
    };
    let text = if src == "-" {
        let mut v = Vec::new();
        std::io::stdin().read_to_end(&mut v)?;
        v
    } else {
        std::fs::read(src).with_context(|| format!("reading {src}"))?
    };
    let r = crate::oci::parse_resources(&text, src)?;
    let (_, cg) = cgroup_of(g, id)?;
    cg.update(&crate::create_cmd::resources(Some(&r)))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("3").unwrap(), Duration::from_secs(3));
        for bad in ["", "x", "-1s", "0s", "5y"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
