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

/// The single-value flags of `update`, as runc has them (`--cpu-shares` is Docker's spelling
/// of runc's `--cpu-share`).
const UPDATE_FLAGS: &[&str] = &[
    "resources",
    "r",
    "memory",
    "memory-swap",
    "memory-reservation",
    "kernel-memory",
    "kernel-memory-tcp",
    "cpu-share",
    "cpu-shares",
    "cpu-quota",
    "cpu-period",
    "cpuset-cpus",
    "cpuset-mems",
    "pids-limit",
    "blkio-weight",
];

/// `update [--resources FILE|-] [--memory N] ... ID`: applies the resources JSON (OCI
/// LinuxResources) or, without it, the single-value flags, as runc does (with
/// `--resources` the flags are not read).
pub fn update_cmd(g: &Global, args: &[String]) -> anyhow::Result<()> {
    let a = Args::parse(args, UPDATE_FLAGS, &[])?;
    let id = a.id("update")?;
    let res = match a.value("resources").or(a.value("r")) {
        Some(src) => {
            let text = if src == "-" {
                let mut v = Vec::new();
                std::io::stdin().read_to_end(&mut v)?;
                v
            } else {
                std::fs::read(src).with_context(|| format!("reading {src}"))?
            };
            let r = crate::oci::parse_resources(&text, src)?;
            crate::create_cmd::resources(Some(&r))
        }
        None => {
            let (res, warnings) = flag_resources(&a)?;
            for w in warnings {
                eprintln!("rvisor: warning: {w}");
                g.log("warning", &w);
            }
            res
        }
    };
    let (_, cg) = cgroup_of(g, id)?;
    cg.update(&res)?;
    Ok(())
}

/// The resources `update`'s single-value flags ask for, and warnings for what is ignored.
fn flag_resources(a: &Args) -> anyhow::Result<(crate::cgroup::Resources, Vec<String>)> {
    let mut r = crate::cgroup::Resources::default();
    let mut warnings = Vec::new();
    let memory = |name: &str| -> anyhow::Result<Option<i64>> {
        a.value(name)
            .map(|v| memory_value(v).with_context(|| format!("invalid value for {name}")))
            .transpose()
    };
    r.memory_limit = memory("memory")?;
    r.memory_swap = memory("memory-swap")?;
    r.memory_reservation = memory("memory-reservation")?;
    for name in ["kernel-memory", "kernel-memory-tcp"] {
        if memory(name)?.is_some_and(|v| v != 0) {
            warnings.push(format!(
                "--{name}: kernel memory settings are ignored (as by runc and cgroup v2)"
            ));
        }
    }
    // As runc: "unlimited" memory without a word on swap lifts the swap limit too.
    if r.memory_limit == Some(-1) && r.memory_swap.is_none() {
        r.memory_swap = Some(-1);
    }
    let number = |name: &str| -> anyhow::Result<Option<u64>> {
        a.value(name)
            .map(|v| {
                v.parse()
                    .with_context(|| format!("invalid value for {name}: {v:?}"))
            })
            .transpose()
    };
    let signed = |name: &str| -> anyhow::Result<Option<i64>> {
        a.value(name)
            .map(|v| {
                v.parse()
                    .with_context(|| format!("invalid value for {name}: {v:?}"))
            })
            .transpose()
    };
    r.cpu_shares = number("cpu-shares")?.or(number("cpu-share")?);
    r.cpu_period = number("cpu-period")?;
    r.cpu_quota = signed("cpu-quota")?;
    r.cpus = a.value("cpuset-cpus").map(str::to_string);
    r.mems = a.value("cpuset-mems").map(str::to_string);
    r.pids_limit = signed("pids-limit")?;
    if let Some(w) = a.value("blkio-weight") {
        let w: u16 = w
            .parse()
            .with_context(|| format!("invalid value for blkio-weight: {w:?}"))?;
        if w != 0 && !(10..=1000).contains(&w) {
            bail!("invalid value for blkio-weight: {w} is outside 10..=1000");
        }
        if w != 0 {
            warnings
                .push("--blkio-weight: ignored, rvisor does not set block I/O weights".to_string());
        }
    }
    Ok((r, warnings))
}

/// A memory size as runc's `update` takes it: "-1" (unlimited) or docker/go-units'
/// RAMInBytes: a decimal number (fractions allowed), then optionally a space and a unit
/// of k, m, g, t or p (powers of 1024, any case), with an optional "b" or "ib" after it,
/// or "b" alone.
fn memory_value(s: &str) -> anyhow::Result<i64> {
    if s == "-1" {
        return Ok(-1);
    }
    let Some(sep) = s.rfind(|c: char| c.is_ascii_digit() || c == '.' || c == ' ') else {
        bail!("invalid size: {s:?}");
    };
    let (num, suffix) = if s.as_bytes()[sep] == b' ' {
        (&s[..sep], &s[sep + 1..])
    } else {
        (&s[..=sep], &s[sep + 1..])
    };
    let size: f64 = match num.parse() {
        Ok(n) if num.bytes().any(|b| b.is_ascii_digit()) => n,
        _ => bail!("invalid size: {s:?}"),
    };
    if !size.is_finite() || size < 0.0 {
        bail!("invalid size: {s:?}");
    }
    let sfx = suffix.to_ascii_lowercase();
    let mult: u64 = match sfx.as_bytes() {
        [] | [b'b'] => 1,
        [u] | [u, b'b'] | [u, b'i', b'b'] => match u {
            b'k' => 1 << 10,
            b'm' => 1 << 20,
            b'g' => 1 << 30,
            b't' => 1 << 40,
            b'p' => 1 << 50,
            _ => bail!("invalid suffix: {suffix:?}"),
        },
        _ => bail!("invalid suffix: {suffix:?}"),
    };
    let bytes = size * mult as f64;
    // 2^63 as a float: anything from there on does not fit.
    if bytes >= 9_223_372_036_854_775_808.0 {
        bail!("invalid size: {s:?} is too large");
    }
    Ok(bytes as i64)
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

    #[test]
    fn memory_values_as_go_units_ram_in_bytes() {
        for (text, bytes) in [
            ("-1", -1),
            ("0", 0),
            ("1024", 1024),
            ("10b", 10),
            ("10B", 10),
            ("4k", 4096),
            ("4K", 4096),
            ("4kb", 4096),
            ("4KiB", 4096),
            ("1kib", 1024),
            ("1 ", 1),
            ("64m", 64 << 20),
            ("64M", 64 << 20),
            ("64 MB", 64 << 20),
            ("1g", 1 << 30),
            ("1.5g", 3 << 29),
            ("2t", 2 << 40),
            ("1p", 1 << 50),
            ("0.5k", 512),
        ] {
            assert_eq!(memory_value(text).unwrap(), bytes, "{text}");
        }
        for bad in [
            "",
            "m",
            "-2",
            "-1m",
            "1x",
            "1kk",
            "1mbb",
            "k1",
            "1gi",
            "1e",
            "abc",
            " ",
            "99999999999g",
            "1..2m",
            "inf",
            "nan",
        ] {
            assert!(memory_value(bad).is_err(), "{bad:?}");
        }
    }

    fn args(v: &[&str]) -> Args {
        let v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
        Args::parse(&v, UPDATE_FLAGS, &[]).unwrap()
    }

    #[test]
    fn update_flags_become_resources() {
        let (r, w) = flag_resources(&args(&[
            "--memory=64m",
            "--memory-reservation",
            "32m",
            "--memory-swap=128m",
            "--cpu-shares=512",
            "--cpu-quota=-1",
            "--cpu-period=100000",
            "--cpuset-cpus=0-1",
            "--cpuset-mems=0",
            "--pids-limit=50",
            "c1",
        ]))
        .unwrap();
        assert!(w.is_empty(), "{w:?}");
        let want = crate::cgroup::Resources {
            memory_limit: Some(64 << 20),
            memory_reservation: Some(32 << 20),
            memory_swap: Some(128 << 20),
            cpu_shares: Some(512),
            cpu_quota: Some(-1),
            cpu_period: Some(100_000),
            cpus: Some("0-1".into()),
            mems: Some("0".into()),
            pids_limit: Some(50),
            ..Default::default()
        };
        assert_eq!(r, want);
        // runc's own spelling; unlimited memory lifts swap too; ignored settings warn.
        let (r, w) = flag_resources(&args(&[
            "--cpu-share",
            "2",
            "--memory=-1",
            "--kernel-memory=1g",
            "--blkio-weight=500",
            "c1",
        ]))
        .unwrap();
        assert_eq!((r.cpu_shares, r.memory_limit), (Some(2), Some(-1)));
        assert_eq!(r.memory_swap, Some(-1));
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].starts_with("--kernel-memory:"), "{w:?}");
        assert!(w[1].starts_with("--blkio-weight:"), "{w:?}");
        assert_eq!(
            flag_resources(&args(&["c1"])).unwrap().0,
            Default::default()
        );
        for bad in [
            "--memory=lots",
            "--cpu-shares=-2",
            "--cpu-quota=x",
            "--pids-limit=1.5",
            "--blkio-weight=5",
            "--blkio-weight=70000",
        ] {
            let e = flag_resources(&args(&[bad, "c1"])).unwrap_err();
            let name = bad[2..].split('=').next().unwrap();
            assert!(
                format!("{e:#}").contains(&format!("invalid value for {name}")),
                "{bad}: {e:#}"
            );
        }
    }
}
