//! Runs `bench/syscalls.c` natively, under `rvisor do` and under gVisor's `runsc do` (when
//! installed) in one run, and prints the costs side by side with ratios.
//!
//! `cargo run --release -p syscall-tests --bin syscall_bench [-- ITERATIONS]`

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};

fn parse(out: &str) -> BTreeMap<String, f64> {
    out.lines()
        .filter_map(|l| l.split_once("_us="))
        .filter_map(|(k, v)| v.trim().parse().ok().map(|v| (k.to_string(), v)))
        .collect()
}

fn run(what: &str, cmd: &mut Command) -> anyhow::Result<BTreeMap<String, f64>> {
    let out = cmd.output().with_context(|| format!("running {what}"))?;
    if !out.status.success() {
        bail!(
            "{what} failed: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(parse(&String::from_utf8_lossy(&out.stdout)))
}

fn main() -> anyhow::Result<()> {
    let iters = std::env::args().nth(1).unwrap_or_else(|| "20000".into());
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("workspace")?
        .to_path_buf();
    let out_dir =
        syscall_tests::visible_build_dir(&root.join("target/syscall-bench"), "syscall-bench");
    std::fs::create_dir_all(&out_dir)?;
    let bin = out_dir.join("syscalls");
    let src = root.join("syscall-tests/bench/syscalls.c");
    let st = Command::new("gcc")
        .args(["-static", "-O2", "-o"])
        .arg(&bin)
        .arg(&src)
        .status()?;
    if !st.success() {
        bail!("gcc failed");
    }
    let rvisor = std::env::var_os("RVISOR_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/release/rvisor"));
    if !rvisor.exists() {
        bail!(
            "{} is missing: run `cargo build --release -p rvisor`",
            rvisor.display()
        );
    }
    let native = run("native", Command::new(&bin).arg(&iters))?;
    let sandboxed = run(
        "rvisor do",
        Command::new(&rvisor)
            .args(["do", "--"])
            .arg(&bin)
            .arg(&iters),
    )?;
    let runsc = which("runsc").map(|r| {
        // One tenth of the iterations: runsc's ptrace platform is slow.
        let n = (iters.parse::<u64>().unwrap_or(20000) / 10)
            .max(100)
            .to_string();
        run(
            "runsc do",
            Command::new(r)
                .args(["--network=none", "--rootless=false", "do", "--"])
                .arg(&bin)
                .arg(&n),
        )
    });
    println!(
        "{:<16} {:>12} {:>12} {:>12} {:>14}",
        "operation", "native_us", "rvisor_us", "runsc_us", "runsc/rvisor"
    );
    for (k, n) in &native {
        let r = sandboxed.get(k).copied().unwrap_or(f64::NAN);
        let g = match &runsc {
            Some(Ok(m)) => m.get(k).copied().unwrap_or(f64::NAN),
            _ => f64::NAN,
        };
        println!("{k:<16} {n:>12.3} {r:>12.3} {g:>12.3} {:>13.1}x", g / r);
    }
    match runsc {
        None => println!("runsc: not installed (apt-get install runsc)"),
        Some(Err(e)) => println!("runsc: {e:#}"),
        Some(Ok(_)) => {}
    }
    Ok(())
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(name))
        .find(|p| p.exists())
}
