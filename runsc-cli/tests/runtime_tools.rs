//! The OCI runtime-tools validation suite (its `validation/<name>/<name>.go` programs, with
//! the `runtimetest` binary they run inside each container) against rvisor, beside runc.
//!
//! `runtime_tools/run.sh` builds the suite into a cache (RT_CACHE, default /var/tmp/rt-suite:
//! Debian's Go packages plus the suite's own sources, which Debian does not ship; see
//! `runtime_tools/README.md`) and runs a list of programs with one runtime, each under a
//! timeout (a hung program is killed and counts as failed). This test runs every program in
//! [`PROGRAMS`] with runc and then with rvisor and fails if a TAP check that passes with runc
//! does not pass with rvisor, except the checks in [`EXCLUDED`] (what rvisor cannot honour by
//! design) and [`RACY`] (races with runc too), each with its reason.
//! Programs that show such checks run again with rvisor, up to [`RVISOR_RETRIES`] more times:
//! a check passes with rvisor if it passes in any run.
//!
//! A check is a top-level TAP test line, named by its description and its occurrence among
//! lines of the same description in that program. Besides those, each program has one check
//! of the harness's: "[harness] program exited 0 without a top-level error diagnostic"
//! (several programs report their verdict only as a YAML `error` block, or by exiting
//! non-zero through `util.Fatal`).
//!
//! Not run by CI (`#[ignore]`): the suite's sources are in no Debian package and no registry
//! these machines reach, and cannot be put in this repository. It is the tool for working
//! through what the suite finds: `cargo test --release -p rvisor --test runtime_tools --
//! --ignored`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn rvisor() -> &'static str {
    env!("CARGO_BIN_EXE_rvisor")
}

/// The programs run, in this order, with each runtime.
const PROGRAMS: &[&str] = &[
    "config_updates_without_affect",
    "create",
    "delete",
    "delete_only_create_resources",
    "delete_resources",
    "hooks",
    "hooks_stdin",
    "hostname",
    "kill",
    "kill_no_effect",
    "killsig",
    "linux_cgroups_blkio",
    "linux_cgroups_cpus",
    "linux_cgroups_devices",
    "linux_cgroups_hugetlb",
    "linux_cgroups_memory",
    "linux_cgroups_network",
    "linux_cgroups_pids",
    "linux_cgroups_relative_blkio",
    "linux_cgroups_relative_cpus",
    "linux_cgroups_relative_devices",
    "linux_cgroups_relative_hugetlb",
    "linux_cgroups_relative_memory",
    "linux_cgroups_relative_network",
    "linux_cgroups_relative_pids",
    "linux_devices",
    "linux_gid_mappings",
    "linux_masked_paths",
    "linux_mount_label",
    "linux_ns_itype",
    "linux_ns_nopath",
    "linux_ns_path",
    "linux_ns_path_type",
    "linux_process",
    "linux_process_apparmor_profile",
    "linux_readonly_paths",
    "linux_rootfs_propagation",
    "linux_seccomp",
    "linux_sysctl",
    "linux_uid_mappings",
    "misc_props",
    "mounts",
    "pidfile",
    "poststart",
    "poststart_fail",
    "poststop",
    "poststop_fail",
    "prestart",
    "prestart_fail",
    "process",
    "process_capabilities",
    "process_capabilities_fail",
    "process_oom_score_adj",
    "process_rlimits",
    "process_rlimits_fail",
    "process_user",
    "root_readonly_true",
    "start",
    "state",
];

/// Programs whose only meaningful check is the harness's: their runtimetest TAP appears only
/// when the runtime wrongly accepts an invalid config (runc does, printing hundreds of
/// passing checks rvisor rightly never reaches).
const HARNESS_CHECK_ONLY: &[(&str, &str)] = &[
    (
        "process_capabilities_fail",
        "a bounding capability CAP_TEST must make create fail; the inner TAP only shows up if it does not",
    ),
    (
        "process_rlimits_fail",
        "an rlimit RLIMIT_TEST must make create fail; the inner TAP only shows up if it does not",
    ),
];

/// Checks rvisor cannot pass by design: (program, check description, reason). A check is
/// listed only when no rvisor could honour what it tests, not because rvisor does not yet.
const EXCLUDED: &[(&str, &str, &str)] = &[
    (
        "linux_ns_itype",
        "inherit namespace ipc without type",
        "the application runs on the Sentry: it cannot share the host's IPC objects",
    ),
    (
        "linux_ns_itype",
        "inherit namespace mnt without type",
        "the application runs on the Sentry: it cannot share the host's mount table",
    ),
    (
        "linux_ns_itype",
        "inherit namespace pid without type",
        "the application runs on the Sentry: it cannot see or be host processes",
    ),
    (
        "linux_ns_itype",
        "inherit namespace uts without type",
        "the application runs on the Sentry: its hostname cannot be the host's own",
    ),
    (
        "linux_ns_path",
        "set ipc namespace by path",
        "the application runs on the Sentry: it cannot join a host IPC namespace",
    ),
    (
        "linux_ns_path",
        "set mnt namespace by path",
        "the application runs on the Sentry: it cannot join a host mount namespace",
    ),
    (
        "linux_ns_path",
        "set pid namespace by path",
        "the application runs on the Sentry: it cannot join a host pid namespace",
    ),
    (
        "linux_ns_path",
        "set uts namespace by path",
        "the application runs on the Sentry: it cannot join a host UTS namespace",
    ),
];

/// Programs that check, from the host, what the container wrote into its root filesystem:
/// rvisor runs them with `--overlay none` (a writable root written through to the bundle, as
/// runc writes it), because its default keeps the container's writes in the sandbox's
/// memory (as gVisor's overlay does): (program, what it writes).
const WRITE_THROUGH: &[(&str, &str)] = &[
    ("killsig", "a marker file when its signal handler runs"),
    (
        "poststop",
        "a file its poststop hook (on the host) then reads",
    ),
    ("start", "a file the harness reads after start"),
];

/// Checks whose verdict is a race with runc too, not compared: (program, check, why).
const RACY: &[(&str, &str, &str)] = &[(
    "pidfile",
    "create with '--pid-file' option works",
    "it waits for `true` to be running and then kills it: it passes only when `state` catches \
     the process before it exits (runc passed it in one of two runs here)",
)];

/// The harness's own check of each program.
const HARNESS_CHECK: &str = "[harness] program exited 0 without a top-level error diagnostic";

/// A wait long enough for one program (it is killed after this and counts as failed).
const PROGRAM_TIMEOUT_SECS: u32 = 60;

/// Debian packages the suite needs.
const PACKAGES: &[&str] = &[
    "golang-go",
    "golang-github-opencontainers-runtime-tools-dev",
    "golang-github-google-uuid-dev",
    "golang-github-moby-sys-dev",
    "busybox-static",
    "runc",
    "util-linux",
];

fn ensure_packages() {
    let missing: Vec<&str> = PACKAGES
        .iter()
        .copied()
        .filter(|p| {
            !Command::new("dpkg-query")
                .args(["-W", "-f=${Status}", p])
                .output()
                .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        })
        .collect();
    if missing.is_empty() {
        return;
    }
    eprintln!("installing: {}", missing.join(" "));
    let st = Command::new("apt-get")
        .args(["install", "-y", "-qq"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status();
    if !st.is_ok_and(|s| s.success()) {
        let _ = Command::new("apt-get").args(["update", "-qq"]).status();
        let st = Command::new("apt-get")
            .args(["install", "-y", "-qq"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .expect("running apt-get");
        assert!(st.success(), "apt-get install {} failed", missing.join(" "));
    }
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/runtime_tools/run.sh")
}

/// What a program's run left: its checks (name -> passed, diagnostic) in order, and whether
/// the harness's check passed.
#[derive(Default)]
struct ProgramRun {
    checks: Vec<(String, bool, String)>,
    harness_ok: bool,
    rc: String,
    stderr: String,
}

impl ProgramRun {
    fn load(dir: &Path, program: &str) -> ProgramRun {
        let read = |ext: &str| std::fs::read_to_string(dir.join(format!("{program}.{ext}")));
        let tap = read("tap").unwrap_or_default();
        let rc = read("rc")
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "missing".into());
        let (checks, orphan_error) = parse_tap(&tap);
        ProgramRun {
            checks,
            harness_ok: rc == "0" && !orphan_error,
            rc,
            stderr: read("stderr").unwrap_or_default(),
        }
    }

    fn passed(&self) -> usize {
        self.checks.iter().filter(|c| c.1).count()
    }

    fn failed(&self) -> usize {
        self.checks.iter().filter(|c| !c.1).count()
    }

    fn get(&self, key: &str) -> Option<&(String, bool, String)> {
        self.checks.iter().find(|c| c.0 == key)
    }
}

/// Top-level TAP test lines (`ok N - name`, `not ok N - name`; SKIP and TODO lines are not
/// checks) as (name #occurrence, passed, YAML diagnostic), and whether a YAML block with a
/// top-level "error" stands on its own (not right after a test line). A block is a test
/// line's diagnostic when it follows that line, except a block with the "stdout" of a
/// runtimetest run, which util.RuntimeInsideValidate prints before its test line.
fn parse_tap(tap: &str) -> (Vec<(String, bool, String)>, bool) {
    #[derive(PartialEq)]
    enum Last {
        Test,
        Skip,
        Other,
    }
    let lines: Vec<&str> = tap.lines().collect();
    let mut out: Vec<(String, bool, String)> = Vec::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut orphan_error = false;
    let mut last = Last::Other;
    let mut pending: Option<String> = None;
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        if l == "  ---" {
            let mut j = i + 1;
            while j < lines.len() && lines[j] != "  ..." {
                j += 1;
            }
            let block = lines[i + 1..j.min(lines.len())].join("\n");
            let top = |key: &str| {
                block
                    .lines()
                    .any(|b| b.starts_with(&format!("    \"{key}\":")))
            };
            if top("stdout") {
                pending = Some(block);
            } else if last == Last::Test {
                if let Some(c) = out.last_mut() {
                    c.2 = block;
                }
            } else if last == Last::Other && top("error") {
                orphan_error = true;
            }
            last = Last::Other;
            i = j + 1;
            continue;
        }
        i += 1;
        let (passed, rest) = if let Some(r) = l.strip_prefix("ok ") {
            (true, r)
        } else if let Some(r) = l.strip_prefix("not ok ") {
            (false, r)
        } else {
            continue;
        };
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            continue;
        }
        let tail = rest[digits..].trim_start();
        if tail.starts_with('#') {
            // "ok 3 # SKIP why", "not ok 4 # TODO why": not a check.
            last = Last::Skip;
            continue;
        }
        let name = tail.strip_prefix("- ").unwrap_or(tail).trim().to_string();
        let n = seen.entry(name.clone()).or_insert(0);
        *n += 1;
        out.push((
            format!("{name} #{n}"),
            passed,
            pending.take().unwrap_or_default(),
        ));
        last = Last::Test;
    }
    (out, orphan_error)
}

/// The failing checks of the runtimetest TAP nested in a diagnostic's "stdout".
fn nested_failures(diagnostic: &str) -> Vec<String> {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(diagnostic) else {
        return Vec::new();
    };
    let Some(stdout) = v.get("stdout").and_then(|s| s.as_str()) else {
        return Vec::new();
    };
    let (checks, _) = parse_tap(stdout);
    checks
        .into_iter()
        .filter(|c| !c.1)
        .map(|c| {
            let detail: String = c.2.split_whitespace().collect::<Vec<_>>().join(" ");
            format!("{} {}", c.0, clip(&detail, 300))
        })
        .collect()
}

fn clip(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

fn excluded(program: &str, key: &str) -> Option<&'static str> {
    let name = key.rsplit_once(" #").map_or(key, |(n, _)| n);
    EXCLUDED
        .iter()
        .find(|(p, c, _)| *p == program && *c == name)
        .map(|(_, _, why)| *why)
}

fn racy(program: &str, key: &str) -> bool {
    let name = key.rsplit_once(" #").map_or(key, |(n, _)| n);
    RACY.iter().any(|(p, c, _)| *p == program && *c == name)
}

/// Removes `dirs` with `run.sh clean`, which first unmounts what a runtime left mounted in
/// them (runc, run in the host's mount namespace by linux_ns_itype, leaves the host's proc
/// and sysfs mounted in a bundle) and never crosses into another filesystem.
fn clean(dirs: &[PathBuf]) {
    if dirs.is_empty() {
        return;
    }
    let _ = Command::new("bash")
        .arg(script())
        .arg("clean")
        .args(dirs)
        .current_dir("/var/tmp")
        .status();
}

/// Removes the work directories of earlier runs of this test whose process is gone (a
/// failing run keeps its directory for a look).
fn remove_stale_work_dirs() {
    let Ok(entries) = std::fs::read_dir("/var/tmp") else {
        return;
    };
    let stale: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_prefix("rt-test.").is_some_and(|pid| {
                pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists()
            })
        })
        .map(|e| e.path())
        .collect();
    clean(&stale);
}

/// Runs `programs` with `runtime` (given `global` before each command) into `out`; returns
/// run.sh's summary output.
fn run_suite(runtime: &str, global: &str, out: &Path, programs: &[&str]) -> String {
    if programs.is_empty() {
        return String::new();
    }
    let o = Command::new("bash")
        .arg(script())
        .args(["-r", runtime, "-g", global, "-o"])
        .arg(out)
        .args(["-t", &PROGRAM_TIMEOUT_SECS.to_string()])
        .args(programs)
        .current_dir("/var/tmp")
        .output()
        .expect("running run.sh");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "run.sh with {runtime} failed:\n{text}");
    text
}

/// The checks of `program` that pass with runc and in none of the rvisor runs, each with
/// what rvisor's first run said; and how many such checks [`EXCLUDED`] excuses.
fn regressions(
    program: &str,
    runc: &ProgramRun,
    rvisor_runs: &[ProgramRun],
) -> (Vec<String>, usize) {
    let first = &rvisor_runs[0];
    let mut lines = Vec::new();
    let mut excused = 0;
    if runc.harness_ok && !rvisor_runs.iter().any(|r| r.harness_ok) {
        lines.push(format!(
            "    {HARNESS_CHECK}: rvisor exit code {}; stderr: {}",
            first.rc,
            clip(first.stderr.trim(), 600)
        ));
    }
    if HARNESS_CHECK_ONLY.iter().any(|(p, _)| *p == program) {
        return (lines, excused);
    }
    for (key, _, _) in runc.checks.iter().filter(|c| c.1) {
        if rvisor_runs.iter().any(|r| r.get(key).is_some_and(|c| c.1)) {
            continue;
        }
        if racy(program, key) {
            continue;
        }
        if excluded(program, key).is_some() {
            excused += 1;
            continue;
        }
        let mut l = format!("    {key}: ");
        match first.get(key) {
            None => l.push_str("not reached with rvisor"),
            Some((_, _, diag)) => {
                let nested = nested_failures(diag);
                if nested.is_empty() {
                    let flat: String = diag.split_whitespace().collect::<Vec<_>>().join(" ");
                    l.push_str(&clip(&flat, 800));
                } else {
                    l.push_str("runtimetest inside the container failed:");
                    for n in nested {
                        l.push_str("\n        ");
                        l.push_str(&n);
                    }
                }
            }
        }
        lines.push(l);
    }
    (lines, excused)
}

/// Runs of rvisor after the first, for the programs that still show regressions: a check
/// passes with rvisor if it passes in any run (some programs race, with runc too: killsig
/// signals the container as soon as it is running, maybe before its shell set its trap).
const RVISOR_RETRIES: usize = 2;

#[test]
#[ignore = "needs the runtime-tools suite's own sources, which no package registry here has \
            (runtime_tools/README.md); run with --ignored where they are in RT_CACHE"]
fn runtime_tools_checks_that_pass_with_runc_pass_with_rvisor() {
    ensure_packages();

    // Build the suite (and its rootfs) once, before either runtime runs.
    let b = Command::new("bash")
        .arg(script())
        .arg("build")
        .current_dir("/var/tmp")
        .output()
        .expect("running run.sh build");
    assert!(
        b.status.success(),
        "building the runtime-tools suite failed:\n{}{}",
        String::from_utf8_lossy(&b.stdout),
        String::from_utf8_lossy(&b.stderr)
    );

    remove_stale_work_dirs();
    let work = PathBuf::from(format!("/var/tmp/rt-test.{}", std::process::id()));
    clean(std::slice::from_ref(&work));
    std::fs::create_dir_all(&work).expect("making the work directory");
    let runc_out = work.join("runc");
    let runc_summary = run_suite("runc", "", &runc_out, PROGRAMS);
    eprintln!("{runc_summary}");
    let runc: BTreeMap<&str, ProgramRun> = PROGRAMS
        .iter()
        .map(|&p| (p, ProgramRun::load(&runc_out, p)))
        .collect();
    assert!(
        runc.values().any(|r| r.passed() > 0 || r.harness_ok),
        "runc passed no check at all: the harness is broken\n{runc_summary}"
    );

    let mut rvisor_runs: BTreeMap<&str, Vec<ProgramRun>> = BTreeMap::new();
    let mut todo: Vec<&str> = PROGRAMS.to_vec();
    for attempt in 0..=RVISOR_RETRIES {
        if todo.is_empty() {
            break;
        }
        let out = work.join(format!("rvisor-{attempt}"));
        let (through, default): (Vec<&str>, Vec<&str>) = todo
            .iter()
            .partition(|p| WRITE_THROUGH.iter().any(|(w, _)| w == *p));
        eprintln!("{}", run_suite(rvisor(), "", &out, &default));
        eprintln!("{}", run_suite(rvisor(), "--overlay none", &out, &through));
        for &p in &todo {
            rvisor_runs
                .entry(p)
                .or_default()
                .push(ProgramRun::load(&out, p));
        }
        todo.retain(|p| !regressions(p, &runc[p], &rvisor_runs[p]).0.is_empty());
    }

    let mut report = String::new();
    let mut total = 0;
    let mut excused_total = 0;
    for &program in PROGRAMS {
        let (r, rv) = (&runc[program], &rvisor_runs[program]);
        let (lines, excused) = regressions(program, r, rv);
        total += lines.len();
        excused_total += excused;
        report.push_str(&format!(
            "{program}: runc ok={} not_ok={} harness={} | rvisor ok={} not_ok={} harness={} \
             (runs: {}) | regressions={} excluded={}\n",
            r.passed(),
            r.failed(),
            if r.harness_ok { "ok" } else { "FAIL" },
            rv[0].passed(),
            rv[0].failed(),
            if rv[0].harness_ok { "ok" } else { "FAIL" },
            rv.len(),
            lines.len(),
            excused,
        ));
        for l in lines {
            report.push_str(&l);
            report.push('\n');
        }
    }
    eprintln!("{report}");
    let verdict = format!(
        "runtime-tools: {total} check(s) pass with runc but not with rvisor; {excused_total} \
         more are excluded by design; outputs in {}",
        work.display()
    );
    eprintln!("{verdict}");
    assert_eq!(total, 0, "{verdict} (the report is above)");
    clean(&[work]);
}

#[test]
fn tap_parsing() {
    let tap = "TAP version 13\nok 1 - a\n  ---\n  {\n    \"error\": \"x\"\n  }\n  ...\n\
               not ok 2 - a\nok 3 # SKIP s\nnot ok 4 # TODO t\nok 5 - b c\n1..5\n";
    let (checks, orphan) = parse_tap(tap);
    let keys: Vec<(&str, bool)> = checks.iter().map(|c| (c.0.as_str(), c.1)).collect();
    assert_eq!(keys, [("a #1", true), ("a #2", false), ("b c #1", true)]);
    assert!(checks[0].2.contains("\"error\""));
    assert!(!orphan);
    let (_, orphan) =
        parse_tap("TAP version 13\n  ---\n  {\n    \"error\": \"e\"\n  }\n  ...\n1..0\n");
    assert!(orphan);
    let nested = "TAP version 13\nok 1 - x\n  ---\n  {\n    \"stderr\": \"\",\n    \"stdout\": \
                  \"TAP version 13\\nnot ok 1 - inner\\n1..1\\n\"\n  }\n  ...\nnot ok 2 - outer\n1..2\n";
    let (checks, orphan) = parse_tap(nested);
    assert!(!orphan);
    assert!(checks[0].2.is_empty(), "{:?}", checks[0]);
    assert_eq!(nested_failures(&checks[1].2), ["inner #1 "]);
    assert_eq!(
        excluded("linux_ns_path", "set pid namespace by path #1"),
        Some("the application runs on the Sentry: it cannot join a host pid namespace")
    );
    assert_eq!(
        excluded("linux_ns_path", "set net namespace by path #1"),
        None
    );
    assert!(racy("pidfile", "create with '--pid-file' option works #1"));
}
