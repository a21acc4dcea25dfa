//! The rvisor syscall compatibility suite.
//!
//! Every test is a small C program, `c/<family>_<name>.c`. The runner compiles each one
//! statically (cached by a hash of its source, the shared headers and the compiler), runs it
//! natively, then runs it under `rvisor do --platform NAME --` for every platform that
//! `rvisor platforms` reports as available, and compares exit status, stdout and (when the
//! native run printed any) stderr. Linux is the specification: a native run must exit 0.
//! Both runs start in `/`, with stdin from /dev/null and only descriptors 0-2 open (a small
//! launcher, `c/support/clean_exec.c`, closes the rest and execs the program).
//!
//! `expected-failures.txt` lists `<platform> <test>` pairs known not to pass sandboxed yet. A
//! listed pair that fails is reported but not fatal; a listed pair that passes is fatal, so the
//! list only shrinks. See [`run_from_env`] for the environment variables.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// Only a guard against hangs, never a performance limit.
pub const HANG_TIMEOUT: Duration = Duration::from_secs(60);

/// The compiler command, minus the output and source paths.
pub const CC: &str = "gcc";
/// Flags before `-o OUT SRC`.
pub const CFLAGS: &[&str] = &["-static", "-O1", "-Wall", "-Werror"];
/// Flags after the source file.
pub const LDFLAGS: &[&str] = &["-lpthread"];

/// Captured output beyond this many bytes per stream is dropped (a runaway test).
const MAX_CAPTURE: usize = 16 << 20;

/// The `syscall-tests` crate directory.
pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The workspace root (the crate directory's parent).
pub fn workspace_dir() -> PathBuf {
    crate_dir()
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(crate_dir)
}

/// Where test binaries are built: `preferred`, unless it lies under /tmp, which inside
/// `rvisor do` is the sandbox's own private tmpfs (a binary there could not be run): then
/// `/var/tmp/rvisor-<what>`. `$SYSCALL_TEST_BUILD_DIR` overrides both.
pub fn visible_build_dir(preferred: &Path, what: &str) -> PathBuf {
    if let Some(d) = std::env::var_os("SYSCALL_TEST_BUILD_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(d).join(what);
    }
    let abs = std::fs::canonicalize(preferred.parent().unwrap_or(preferred))
        .map(|p| p.join(preferred.file_name().unwrap_or_default()))
        .unwrap_or_else(|_| preferred.to_path_buf());
    if abs.starts_with("/tmp") {
        PathBuf::from(format!("/var/tmp/rvisor-{what}"))
    } else {
        preferred.to_path_buf()
    }
}

/// Where the C tests live.
pub fn source_dir() -> PathBuf {
    crate_dir().join("c")
}

/// The expected-failures file.
pub fn expected_failures_path() -> PathBuf {
    crate_dir().join("expected-failures.txt")
}

/// The rvisor binary: `$RVISOR_BIN`, else `<workspace>/target/release/rvisor`.
pub fn find_rvisor() -> Result<PathBuf> {
    let path = match std::env::var_os("RVISOR_BIN") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => workspace_dir().join("target/release/rvisor"),
    };
    if !path.is_file() {
        bail!(
            "the rvisor binary is missing at {}: run `cargo build --release -p rvisor` first (or set RVISOR_BIN)",
            path.display()
        );
    }
    Ok(path)
}

/// Parses `rvisor platforms` output: the names on lines `NAME: available`.
pub fn parse_platforms(output: &str) -> Vec<String> {
    output
        .lines()
        .filter_map(|l| l.trim().strip_suffix(": available"))
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty() && !name.contains(char::is_whitespace))
        .collect()
}

/// The platforms to run on: those `rvisor platforms` lists as available, or `["seccomp"]` when
/// it lists none (or cannot be run).
pub fn platforms(rvisor: &Path) -> Vec<String> {
    let listed = Command::new(rvisor)
        .arg("platforms")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map(|o| parse_platforms(&String::from_utf8_lossy(&o.stdout)))
        .unwrap_or_default();
    if listed.is_empty() {
        vec!["seccomp".to_string()]
    } else {
        listed
    }
}

/// One C test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestCase {
    /// The file stem, e.g. `memory_mmap_anon`.
    pub name: String,
    /// The source file.
    pub source: PathBuf,
}

/// All `<family>_<name>.c` files in `dir`, sorted by name.
pub fn discover(dir: &Path) -> Result<Vec<TestCase>> {
    let mut tests = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("c") {
            continue;
        }
        let Some(name) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        let valid = name
            .split_once('_')
            .is_some_and(|(family, rest)| !family.is_empty() && !rest.is_empty())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            bail!("{}: test files are named <family>_<name>.c", path.display());
        }
        tests.push(TestCase {
            name: name.to_string(),
            source: path,
        });
    }
    tests.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(tests)
}

/// FNV-1a, 64 bits: a stable content hash for the compile cache.
fn fnv1a(state: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(state, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// What every binary's cache key depends on besides its own source: the compiler's version,
/// the flags and the shared headers in the source directory.
fn common_key(source_dir: &Path) -> Result<u64> {
    let version = Command::new(CC)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {CC} --version: is gcc installed?"))?;
    let mut h = fnv1a(FNV_OFFSET, &version.stdout);
    for f in CFLAGS.iter().chain(LDFLAGS) {
        h = fnv1a(h, f.as_bytes());
        h = fnv1a(h, b"\0");
    }
    let mut headers: Vec<PathBuf> = std::fs::read_dir(source_dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("h"))
        .collect();
    headers.sort();
    for p in headers {
        h = fnv1a(
            h,
            p.file_name()
                .map(|n| n.as_encoded_bytes())
                .unwrap_or_default(),
        );
        h = fnv1a(
            h,
            &std::fs::read(&p).with_context(|| format!("reading {}", p.display()))?,
        );
    }
    Ok(h)
}

/// Compiles one test into `bin_dir`, unless the cached binary's key matches.
fn compile_one(test: &TestCase, bin_dir: &Path, common: u64) -> Result<PathBuf, String> {
    let src = std::fs::read(&test.source)
        .map_err(|e| format!("reading {}: {e}", test.source.display()))?;
    let key = format!("{:016x}", fnv1a(common, &src));
    let bin = bin_dir.join(&test.name);
    let key_file = bin_dir.join(format!("{}.key", test.name));
    if bin.is_file() && std::fs::read_to_string(&key_file).is_ok_and(|k| k.trim() == key) {
        return Ok(bin);
    }
    let tmp = bin_dir.join(format!("{}.tmp{}", test.name, std::process::id()));
    let out = Command::new(CC)
        .args(CFLAGS)
        .arg("-o")
        .arg(&tmp)
        .arg(&test.source)
        .args(LDFLAGS)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("running {CC}: {e}"))?;
    if !out.status.success() {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!(
            "compile error:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    std::fs::rename(&tmp, &bin).map_err(|e| format!("renaming {}: {e}", tmp.display()))?;
    std::fs::write(&key_file, &key).map_err(|e| format!("writing {}: {e}", key_file.display()))?;
    Ok(bin)
}

/// Runs `f` on every item with `jobs` threads; results come back in input order.
fn parallel_map<T: Sync, R: Send>(items: &[T], jobs: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new(items.iter().map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..jobs.clamp(1, items.len().max(1)) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(item) = items.get(i) else { break };
                let r = f(item);
                results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|r| r.expect("every item was processed"))
        .collect()
}

/// Compiles every test into `<build_dir>/bin` with `jobs` parallel compilers; `source_dir`
/// holds the shared headers that every cache key covers.
pub fn compile_all(
    tests: &[TestCase],
    source_dir: &Path,
    build_dir: &Path,
    jobs: usize,
) -> Result<Vec<Result<PathBuf, String>>> {
    let bin_dir = build_dir.join("bin");
    std::fs::create_dir_all(&bin_dir).with_context(|| format!("creating {}", bin_dir.display()))?;
    let common = common_key(source_dir)?;
    Ok(parallel_map(tests, jobs, |t| {
        compile_one(t, &bin_dir, common)
    }))
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// The exit status as a shell reports it: the code, or 128+N when killed by signal N.
    Status(i32),
    /// Still running after [`HANG_TIMEOUT`] (or its descendants kept its output open).
    Hung,
    /// It could not be started.
    SpawnFailed(String),
}

impl std::fmt::Display for Ending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ending::Status(s) => write!(f, "exit status {s}"),
            Ending::Hung => write!(f, "hung (killed after {}s)", HANG_TIMEOUT.as_secs()),
            Ending::SpawnFailed(e) => write!(f, "could not start: {e}"),
        }
    }
}

/// One run's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOutput {
    /// How it ended.
    pub ending: Ending,
    /// Everything it wrote to stdout.
    pub stdout: Vec<u8>,
    /// Everything it wrote to stderr.
    pub stderr: Vec<u8>,
}

impl RunOutput {
    /// Exit status 0.
    pub fn success(&self) -> bool {
        self.ending == Ending::Status(0)
    }
}

fn reader(mut stream: impl Read + Send + 'static) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    let room = MAX_CAPTURE.saturating_sub(kept.len());
                    kept.extend_from_slice(&buf[..n.min(room)]);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
        let _ = tx.send(kept);
    });
    rx
}

/// Kills a process group (the test and whatever it forked that stayed in it).
fn kill_group(pgid: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Runs `cmd` with stdin from /dev/null, in a process group of its own, capturing stdout and
/// stderr; kills the group after `timeout`.
pub fn run_command(cmd: &mut Command, timeout: Duration) -> RunOutput {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return RunOutput {
                ending: Ending::SpawnFailed(e.to_string()),
                stdout: vec![],
                stderr: vec![],
            }
        }
    };
    let out_rx = reader(child.stdout.take().expect("piped stdout"));
    let err_rx = reader(child.stderr.take().expect("piped stderr"));
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(1);
    let mut ending = loop {
        match child.try_wait() {
            Ok(Some(st)) => {
                let code = st
                    .code()
                    .or_else(|| st.signal().map(|s| 128 + s))
                    .unwrap_or(-1);
                break Ending::Status(code);
            }
            Ok(None) if Instant::now() >= deadline => {
                kill_group(child.id());
                let _ = child.kill();
                let _ = child.wait();
                break Ending::Hung;
            }
            Ok(None) => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(20));
            }
            Err(e) => break Ending::SpawnFailed(format!("waiting: {e}")),
        }
    };
    // The output ends when every holder of the pipes is gone; a descendant that keeps them
    // open past the deadline is killed with the group, and the run counts as hung.
    let mut collect = |rx: &mpsc::Receiver<Vec<u8>>| {
        let left = deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_secs(1));
        match rx.recv_timeout(left) {
            Ok(v) => v,
            Err(_) => {
                kill_group(child.id());
                ending = Ending::Hung;
                rx.recv_timeout(Duration::from_secs(5)).unwrap_or_default()
            }
        }
    };
    let stdout = collect(&out_rx);
    let stderr = collect(&err_rx);
    RunOutput {
        ending,
        stdout,
        stderr,
    }
}

/// Runs a test binary natively, in `/`, through the launcher (which closes inherited
/// descriptors above 2 and execs it, so the pid and argv are the binary's own).
pub fn run_native(launcher: &Path, bin: &Path, timeout: Duration) -> RunOutput {
    run_command(Command::new(launcher).arg(bin).current_dir("/"), timeout)
}

/// Runs a test binary as `rvisor do --platform PLATFORM -- BIN`, in `/`, through the launcher.
pub fn run_sandboxed(
    launcher: &Path,
    rvisor: &Path,
    platform: &str,
    bin: &Path,
    timeout: Duration,
) -> RunOutput {
    let mut cmd = Command::new(launcher);
    cmd.arg(rvisor)
        .args(["do", "--platform", platform, "--"])
        .arg(bin)
        .current_dir("/");
    run_command(&mut cmd, timeout)
}

fn first_difference(what: &str, want: &[u8], got: &[u8]) -> String {
    let want = String::from_utf8_lossy(want);
    let got = String::from_utf8_lossy(got);
    let mut wl = want.lines();
    let mut gl = got.lines();
    let mut line = 1;
    loop {
        match (wl.next(), gl.next()) {
            (Some(w), Some(g)) if w == g => line += 1,
            (Some(w), Some(g)) => return format!("{what} line {line}: got {g:?}, want {w:?}"),
            (Some(w), None) => return format!("{what} ends before line {line}: want {w:?}"),
            (None, Some(g)) => return format!("{what} has an extra line {line}: {g:?}"),
            (None, None) => return format!("{what} differs in line endings"),
        }
    }
}

/// Compares a sandboxed run with the native one: `None` when they match, else the first
/// difference. stderr is compared only when the native run wrote to it.
pub fn compare(native: &RunOutput, sandboxed: &RunOutput) -> Option<String> {
    if sandboxed.ending != native.ending {
        let mut why = format!("{}, want {}", sandboxed.ending, native.ending);
        if sandboxed.stdout != native.stdout {
            why.push_str("; ");
            why.push_str(&first_difference(
                "stdout",
                &native.stdout,
                &sandboxed.stdout,
            ));
        }
        return Some(why);
    }
    if sandboxed.stdout != native.stdout {
        return Some(first_difference(
            "stdout",
            &native.stdout,
            &sandboxed.stdout,
        ));
    }
    if !native.stderr.is_empty() && sandboxed.stderr != native.stderr {
        return Some(first_difference(
            "stderr",
            &native.stderr,
            &sandboxed.stderr,
        ));
    }
    None
}

/// The parsed `expected-failures.txt`: `<platform> <test>` pairs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExpectedFailures {
    /// (platform, test) pairs.
    pub entries: BTreeSet<(String, String)>,
}

impl ExpectedFailures {
    /// Parses the file format: one `<platform> <test>` per line; `#` starts a comment; blank
    /// lines are ignored.
    pub fn parse(text: &str) -> Result<Self> {
        let mut entries = BTreeSet::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let words: Vec<&str> = line.split_whitespace().collect();
            let [platform, test] = words[..] else {
                bail!(
                    "expected-failures.txt line {}: want `<platform> <test>`, got {raw:?}",
                    i + 1
                );
            };
            if !entries.insert((platform.to_string(), test.to_string())) {
                bail!(
                    "expected-failures.txt line {}: duplicate entry {platform} {test}",
                    i + 1
                );
            }
        }
        Ok(ExpectedFailures { entries })
    }

    /// Reads the file; a missing file is an empty list.
    pub fn load(path: &Path) -> Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(t) => Self::parse(&t).with_context(|| path.display().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// Whether (platform, test) is listed.
    pub fn contains(&self, platform: &str, test: &str) -> bool {
        self.entries
            .contains(&(platform.to_string(), test.to_string()))
    }

    /// The file's text, with its explanatory header.
    pub fn render(&self) -> String {
        let mut s = String::from(
            "# Sandboxed runs known not to match the native run yet: one `<platform> <test>` per line.\n\
             # A listed test that fails is reported but does not fail the suite; a listed test that\n\
             # passes does, so that its line gets removed and this list only shrinks.\n\
             # `UPDATE_EXPECTED_FAILURES=1 cargo test --release -p syscall-tests` rewrites this file\n\
             # from the current results (entries for tests or platforms not run are kept).\n",
        );
        for (platform, test) in &self.entries {
            let _ = writeln!(s, "{platform} {test}");
        }
        s
    }
}

/// A sandboxed run's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Same as native.
    Pass,
    /// Different from native: why.
    Fail(String),
    /// Not run, because the native run failed.
    Skipped,
}

/// Everything about one test.
#[derive(Debug, Clone)]
pub struct TestResult {
    /// The test's name.
    pub name: String,
    /// The compile error, if any.
    pub compile_error: Option<String>,
    /// The native run (None if it did not compile).
    pub native: Option<RunOutput>,
    /// One verdict per platform, and the sandboxed output.
    pub sandboxed: BTreeMap<String, (Verdict, Option<RunOutput>)>,
}

impl TestResult {
    /// Compiled and exited 0 natively.
    pub fn native_ok(&self) -> bool {
        self.native.as_ref().is_some_and(RunOutput::success)
    }

    /// Why the native run is not acceptable, if it is not.
    pub fn native_problem(&self) -> Option<String> {
        if let Some(e) = &self.compile_error {
            return Some(e.clone());
        }
        match &self.native {
            Some(n) if n.success() => None,
            Some(n) => Some(format!(
                "native run: {}\nstderr:\n{}",
                n.ending,
                String::from_utf8_lossy(&n.stderr)
            )),
            None => Some("not run".to_string()),
        }
    }
}

/// Settings for one suite run.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the C sources are.
    pub source_dir: PathBuf,
    /// Where binaries are cached.
    pub build_dir: PathBuf,
    /// The rvisor binary.
    pub rvisor: PathBuf,
    /// Platforms to run sandboxed on.
    pub platforms: Vec<String>,
    /// Only tests whose name contains this.
    pub filter: Option<String>,
    /// Parallel compilers and test runners.
    pub jobs: usize,
    /// The hang guard.
    pub timeout: Duration,
}

/// The results of a suite run.
#[derive(Debug, Clone)]
pub struct Report {
    /// The platforms run.
    pub platforms: Vec<String>,
    /// Every test discovered (before filtering).
    pub all_tests: Vec<String>,
    /// One result per test run.
    pub results: Vec<TestResult>,
    /// Wall time of the native runs, summed.
    pub native_time: Duration,
    /// Wall time of the whole run.
    pub total_time: Duration,
}

/// Discovers, compiles and runs the suite.
pub fn run_suite(cfg: &Config) -> Result<Report> {
    let start = Instant::now();
    let all = discover(&cfg.source_dir)?;
    let all_tests: Vec<String> = all.iter().map(|t| t.name.clone()).collect();
    let tests: Vec<TestCase> = match &cfg.filter {
        Some(f) => all
            .into_iter()
            .filter(|t| t.name.contains(f.as_str()))
            .collect(),
        None => all,
    };
    if tests.is_empty() {
        bail!(
            "no test in {} matches {:?}",
            cfg.source_dir.display(),
            cfg.filter.as_deref().unwrap_or("")
        );
    }
    // The launcher is built like a test; its name cannot clash with one (tests have a family).
    let launcher_case = TestCase {
        name: "_clean_exec".to_string(),
        source: cfg.source_dir.join("support/clean_exec.c"),
    };
    let mut to_build = vec![launcher_case];
    to_build.extend(tests.iter().cloned());
    let mut bins = compile_all(&to_build, &cfg.source_dir, &cfg.build_dir, cfg.jobs)?;
    let launcher = match bins.remove(0) {
        Ok(l) => l,
        Err(e) => bail!(
            "building the launcher {}: {e}",
            to_build[0].source.display()
        ),
    };
    let work: Vec<(TestCase, Result<PathBuf, String>)> = tests.into_iter().zip(bins).collect();
    let native_nanos = AtomicUsize::new(0);
    let results = parallel_map(&work, cfg.jobs, |(test, bin)| {
        let mut r = TestResult {
            name: test.name.clone(),
            compile_error: None,
            native: None,
            sandboxed: BTreeMap::new(),
        };
        let bin = match bin {
            Ok(b) => b,
            Err(e) => {
                r.compile_error = Some(e.clone());
                for p in &cfg.platforms {
                    r.sandboxed.insert(p.clone(), (Verdict::Skipped, None));
                }
                return r;
            }
        };
        let t0 = Instant::now();
        let native = run_native(&launcher, bin, cfg.timeout);
        native_nanos.fetch_add(t0.elapsed().as_nanos() as usize, Ordering::SeqCst);
        for p in &cfg.platforms {
            if !native.success() {
                r.sandboxed.insert(p.clone(), (Verdict::Skipped, None));
                continue;
            }
            let out = run_sandboxed(&launcher, &cfg.rvisor, p, bin, cfg.timeout);
            let verdict = match compare(&native, &out) {
                None => Verdict::Pass,
                Some(why) => Verdict::Fail(why),
            };
            r.sandboxed.insert(p.clone(), (verdict, Some(out)));
        }
        r.native = Some(native);
        r
    });
    Ok(Report {
        platforms: cfg.platforms.clone(),
        all_tests,
        results,
        native_time: Duration::from_nanos(native_nanos.load(Ordering::SeqCst) as u64),
        total_time: start.elapsed(),
    })
}

/// What a report means against the expected failures.
#[derive(Debug, Clone, Default)]
pub struct Evaluation {
    /// Fatal problems, each with its details.
    pub fatal: Vec<String>,
    /// Failures that are listed as expected: (platform, test, why).
    pub expected: Vec<(String, String, String)>,
    /// Sandboxed passes, counted per platform.
    pub passes: BTreeMap<String, usize>,
}

fn tail(bytes: &[u8], lines: usize) -> String {
    let s = String::from_utf8_lossy(bytes);
    let all: Vec<&str> = s.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

impl Report {
    /// Judges the results: native failures, unexpected sandboxed failures, listed tests that now
    /// pass, and entries naming tests that do not exist are fatal.
    pub fn evaluate(&self, expected: &ExpectedFailures) -> Evaluation {
        let mut ev = Evaluation::default();
        for (platform, test) in &expected.entries {
            if !self.all_tests.contains(test) {
                ev.fatal.push(format!(
                    "expected-failures.txt lists `{platform} {test}`, but there is no test {test}: remove the line"
                ));
            }
        }
        for r in &self.results {
            if let Some(p) = r.native_problem() {
                ev.fatal.push(format!(
                    "{}: fails natively (a bug in the test): {p}",
                    r.name
                ));
            }
            for (platform, (verdict, out)) in &r.sandboxed {
                let listed = expected.contains(platform, &r.name);
                match verdict {
                    Verdict::Pass => {
                        *ev.passes.entry(platform.clone()).or_default() += 1;
                        if listed {
                            ev.fatal.push(format!(
                                "{} passes on {platform} now: remove `{platform} {}` from expected-failures.txt",
                                r.name, r.name
                            ));
                        }
                    }
                    Verdict::Fail(why) if listed => {
                        ev.expected
                            .push((platform.clone(), r.name.clone(), why.clone()))
                    }
                    Verdict::Fail(why) => {
                        let mut msg = format!("{} fails on {platform}: {why}", r.name);
                        if let Some(o) = out {
                            if !o.stderr.is_empty() {
                                let _ = write!(
                                    msg,
                                    "\n    sandboxed stderr (last lines):\n{}",
                                    indent(&tail(&o.stderr, 15))
                                );
                            }
                        }
                        ev.fatal.push(msg);
                    }
                    Verdict::Skipped => {}
                }
            }
        }
        ev
    }

    /// The expected failures this run implies: failing pairs that were run, plus old entries for
    /// pairs that were not run (filtered out, or a platform absent here) whose test still exists.
    pub fn updated_expected(&self, old: &ExpectedFailures) -> ExpectedFailures {
        let ran: BTreeSet<(String, String)> = self
            .results
            .iter()
            .flat_map(|r| {
                r.sandboxed
                    .iter()
                    .filter(|(_, (v, _))| *v != Verdict::Skipped)
                    .map(move |(p, _)| (p.clone(), r.name.clone()))
            })
            .collect();
        let mut entries: BTreeSet<(String, String)> = old
            .entries
            .iter()
            .filter(|e| !ran.contains(*e) && self.all_tests.contains(&e.1))
            .cloned()
            .collect();
        for r in &self.results {
            for (p, (v, _)) in &r.sandboxed {
                if matches!(v, Verdict::Fail(_)) {
                    entries.insert((p.clone(), r.name.clone()));
                }
            }
        }
        ExpectedFailures { entries }
    }

    /// A table: test, native result, one column per platform.
    pub fn table(&self, expected: &ExpectedFailures) -> String {
        let width = self
            .results
            .iter()
            .map(|r| r.name.len())
            .max()
            .unwrap_or(4)
            .max(4);
        let mut s = format!("{:width$}  {:8}", "test", "native");
        for p in &self.platforms {
            let _ = write!(s, "  {p:10}");
        }
        s.push('\n');
        for r in &self.results {
            let native = if r.compile_error.is_some() {
                "NOCOMPILE"
            } else if r.native_ok() {
                "pass"
            } else if r.native.as_ref().is_some_and(|n| n.ending == Ending::Hung) {
                "HUNG"
            } else {
                "FAIL"
            };
            let _ = write!(s, "{:width$}  {native:8}", r.name);
            let mut why_shown = None;
            for p in &self.platforms {
                let listed = expected.contains(p, &r.name);
                let cell = match r.sandboxed.get(p) {
                    Some((Verdict::Pass, _)) if listed => "XPASS",
                    Some((Verdict::Pass, _)) => "pass",
                    Some((Verdict::Fail(why), out)) => {
                        why_shown.get_or_insert_with(|| why.clone());
                        let hung = out.as_ref().is_some_and(|o| o.ending == Ending::Hung);
                        match (listed, hung) {
                            (true, true) => "xfail/hung",
                            (true, false) => "xfail",
                            (false, true) => "HUNG",
                            (false, false) => "FAIL",
                        }
                    }
                    Some((Verdict::Skipped, _)) | None => "-",
                };
                let _ = write!(s, "  {cell:10}");
            }
            if let Some(why) = why_shown {
                let short: String = why.chars().take(100).collect();
                let _ = write!(s, "  {short}");
            }
            s.push('\n');
        }
        s.trim_end()
            .lines()
            .map(str::trim_end)
            .collect::<Vec<_>>()
            .join("\n")
            + "\n"
    }

    /// One line of counts.
    pub fn summary(&self, ev: &Evaluation) -> String {
        let native_ok = self.results.iter().filter(|r| r.native_ok()).count();
        let mut s = format!(
            "{} tests: native {native_ok} passed; native runs {:.1}s in sum (suite wall time {:.1}s)",
            self.results.len(),
            self.native_time.as_secs_f64(),
            self.total_time.as_secs_f64()
        );
        for p in &self.platforms {
            let _ = write!(
                s,
                "; {p}: {} passed",
                ev.passes.get(p).copied().unwrap_or(0)
            );
        }
        let _ = write!(
            s,
            "; {} expected failures; {} fatal problems",
            ev.expected.len(),
            ev.fatal.len()
        );
        s
    }
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("      {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The files cargo recorded as the binary's inputs, from the dep-info file beside it
/// (`target/release/rvisor.d`).
fn dep_info_inputs(bin: &Path) -> Option<Vec<PathBuf>> {
    let text = std::fs::read_to_string(bin.with_extension("d")).ok()?;
    let (_, deps) = text.lines().next()?.split_once(": ")?;
    let mut inputs = Vec::new();
    let mut current = String::new();
    for word in deps.split(' ') {
        // Spaces inside a path are escaped as "\ ".
        if let Some(stem) = word.strip_suffix('\\') {
            current.push_str(stem);
            current.push(' ');
            continue;
        }
        current.push_str(word);
        if !current.is_empty() {
            inputs.push(PathBuf::from(std::mem::take(&mut current)));
        }
    }
    Some(inputs)
}

/// A warning when a source the rvisor binary was built from changed after the build: the
/// suite would judge an old Sentry.
fn staleness_warning(rvisor: &Path) -> Option<String> {
    let built = std::fs::metadata(rvisor).ok()?.modified().ok()?;
    let newer = dep_info_inputs(rvisor)?.into_iter().find(|p| {
        std::fs::metadata(p)
            .and_then(|m| m.modified())
            .is_ok_and(|m| m > built)
    })?;
    Some(format!(
        "warning: {} changed after {} was built: rebuild it with `cargo build --release -p rvisor`",
        newer.display(),
        rvisor.display()
    ))
}

/// The suite as `tests/suite.rs` runs it, configured from the environment:
///
/// - `RVISOR_BIN`: the rvisor binary (default `<workspace>/target/release/rvisor`);
/// - `SYSCALL_TEST=<substring>`: run only tests whose name contains it;
/// - `UPDATE_EXPECTED_FAILURES=1`: rewrite `expected-failures.txt` from the results;
/// - `SYSCALL_TEST_JOBS=N`: parallel compiles and runs (default: the number of CPUs).
///
/// Returns the printed report; `Err` holds the report followed by every fatal problem.
pub fn run_from_env(build_dir: &Path) -> Result<String, String> {
    let rvisor = find_rvisor().map_err(|e| e.to_string())?;
    let platforms = platforms(&rvisor);
    let jobs = std::env::var("SYSCALL_TEST_JOBS")
        .ok()
        .and_then(|j| j.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let cfg = Config {
        source_dir: source_dir(),
        build_dir: build_dir.to_path_buf(),
        rvisor,
        platforms,
        filter: std::env::var("SYSCALL_TEST").ok().filter(|f| !f.is_empty()),
        jobs,
        timeout: HANG_TIMEOUT,
    };
    let path = expected_failures_path();
    let mut expected = ExpectedFailures::load(&path).map_err(|e| format!("{e:#}"))?;
    let report = run_suite(&cfg).map_err(|e| format!("{e:#}"))?;
    let mut out = String::new();
    if std::env::var("UPDATE_EXPECTED_FAILURES").is_ok_and(|v| !v.is_empty() && v != "0") {
        let updated = report.updated_expected(&expected);
        std::fs::write(&path, updated.render())
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
        let _ = writeln!(
            out,
            "rewrote {} ({} entries)",
            path.display(),
            updated.entries.len()
        );
        expected = updated;
    }
    let ev = report.evaluate(&expected);
    let _ = writeln!(
        out,
        "rvisor: {}\nplatforms: {}",
        cfg.rvisor.display(),
        cfg.platforms.join(", ")
    );
    if let Some(w) = staleness_warning(&cfg.rvisor) {
        let _ = writeln!(out, "{w}");
    }
    out.push_str(&report.table(&expected));
    out.push_str(&report.summary(&ev));
    out.push('\n');
    if ev.fatal.is_empty() {
        Ok(out)
    } else {
        out.push_str("\nproblems:\n");
        for f in &ev.fatal {
            let _ = writeln!(out, "- {f}");
        }
        Err(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(status: i32, stdout: &str, stderr: &str) -> RunOutput {
        RunOutput {
            ending: Ending::Status(status),
            stdout: stdout.into(),
            stderr: stderr.into(),
        }
    }

    #[test]
    fn parses_platform_lines() {
        let p =
            parse_platforms("seccomp: available\nkvm: unavailable: no /dev/kvm\n\nweird line\n");
        assert_eq!(p, vec!["seccomp".to_string()]);
        assert!(parse_platforms("").is_empty());
    }

    #[test]
    fn expected_failures_round_trip() {
        let e = ExpectedFailures::parse("# comment\n\nseccomp a_b   # why\nkvm  c_d\n").unwrap();
        assert!(e.contains("seccomp", "a_b") && e.contains("kvm", "c_d") && e.entries.len() == 2);
        assert_eq!(ExpectedFailures::parse(&e.render()).unwrap(), e);
        assert!(ExpectedFailures::parse("seccomp\n").is_err());
        assert!(ExpectedFailures::parse("seccomp a_b extra\n").is_err());
        assert!(ExpectedFailures::parse("seccomp a_b\nseccomp a_b\n").is_err());
    }

    #[test]
    fn compares_status_stdout_and_stderr_only_when_native_wrote_it() {
        let native = out(0, "x=1\ny=2\n", "");
        assert_eq!(
            compare(&native, &out(0, "x=1\ny=2\n", "rvisor noise\n")),
            None
        );
        assert!(compare(&native, &out(1, "x=1\ny=2\n", ""))
            .unwrap()
            .contains("exit status 1, want exit status 0"));
        let why = compare(&native, &out(0, "x=1\ny=3\n", "")).unwrap();
        assert!(why.contains("line 2") && why.contains("y=3"), "{why}");
        assert!(compare(&native, &out(0, "x=1\n", ""))
            .unwrap()
            .contains("ends before line 2"));
        let native_err = out(0, "", "warn\n");
        assert!(compare(&native_err, &out(0, "", "other\n"))
            .unwrap()
            .contains("stderr"));
    }

    #[test]
    fn run_command_reports_signals_and_hangs() {
        let r = run_command(
            Command::new("sh").args(["-c", "echo hi; echo err >&2; exit 3"]),
            HANG_TIMEOUT,
        );
        assert_eq!(
            (r.ending, r.stdout, r.stderr),
            (Ending::Status(3), b"hi\n".to_vec(), b"err\n".to_vec())
        );
        let r = run_command(
            Command::new("sh").args(["-c", "kill -TERM $$"]),
            HANG_TIMEOUT,
        );
        assert_eq!(r.ending, Ending::Status(128 + 15));
        let r = run_command(Command::new("sleep").arg("30"), Duration::from_millis(200));
        assert_eq!(r.ending, Ending::Hung);
    }

    fn result(name: &str, verdict: Verdict) -> TestResult {
        let mut sandboxed = BTreeMap::new();
        sandboxed.insert("seccomp".to_string(), (verdict, None));
        TestResult {
            name: name.into(),
            compile_error: None,
            native: Some(out(0, "", "")),
            sandboxed,
        }
    }

    #[test]
    fn evaluation_rules() {
        let report = Report {
            platforms: vec!["seccomp".into()],
            all_tests: vec![
                "a_pass".into(),
                "b_fail".into(),
                "c_fail".into(),
                "d_filtered".into(),
            ],
            results: vec![
                result("a_pass", Verdict::Pass),
                result("b_fail", Verdict::Fail("x".into())),
                result("c_fail", Verdict::Fail("y".into())),
            ],
            native_time: Duration::ZERO,
            total_time: Duration::ZERO,
        };
        let listed =
            ExpectedFailures::parse("seccomp b_fail\nseccomp c_fail\nseccomp d_filtered\n")
                .unwrap();
        let ev = report.evaluate(&listed);
        assert!(ev.fatal.is_empty(), "{:?}", ev.fatal);
        assert_eq!(ev.expected.len(), 2);

        // Deleting a line for a failing test makes it fatal.
        let fewer = ExpectedFailures::parse("seccomp b_fail\nseccomp d_filtered\n").unwrap();
        let ev = report.evaluate(&fewer);
        assert_eq!(ev.fatal.len(), 1);
        assert!(ev.fatal[0].starts_with("c_fail fails on seccomp"));

        // A listed test that passes is fatal, and so is a line naming no test.
        let stale = ExpectedFailures::parse(
            "seccomp a_pass\nseccomp b_fail\nseccomp c_fail\nseccomp zz_gone\n",
        )
        .unwrap();
        let ev = report.evaluate(&stale);
        assert_eq!(ev.fatal.len(), 2, "{:?}", ev.fatal);
        assert!(ev
            .fatal
            .iter()
            .any(|f| f.contains("remove `seccomp a_pass`")));
        assert!(ev.fatal.iter().any(|f| f.contains("no test zz_gone")));

        // Updating keeps entries that were not run, drops passes and unknown tests.
        let updated = report.updated_expected(&stale);
        let want = ExpectedFailures::parse("seccomp b_fail\nseccomp c_fail\n").unwrap();
        assert_eq!(updated, want);
        let updated = report.updated_expected(&listed);
        assert_eq!(updated, listed);
    }

    #[test]
    fn reads_dep_info() {
        let dir =
            std::env::temp_dir().join(format!("syscall-tests-depinfo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("bin.d"),
            "/x/bin: /a/b.rs /c\\ d/e.rs\n\n/a/b.rs:\n",
        )
        .unwrap();
        let inputs = dep_info_inputs(&dir.join("bin")).unwrap();
        assert_eq!(
            inputs,
            vec![PathBuf::from("/a/b.rs"), PathBuf::from("/c d/e.rs")]
        );
        assert_eq!(staleness_warning(&dir.join("bin")), None); // no binary: no warning
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn discovers_the_suite_sorted_and_well_named() {
        let tests = discover(&source_dir()).unwrap();
        assert!(tests.len() >= 60, "only {} tests", tests.len());
        assert!(tests.windows(2).all(|w| w[0].name < w[1].name));
    }
}
