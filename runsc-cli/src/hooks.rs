//! OCI lifecycle hooks (runtime-spec config.md, "POSIX-platform Hooks"), run by the
//! runtime in its own namespaces.
//!
//! Each hook is `path` executed with `args` as its argv (`args[0]` is argv[0]; with no args,
//! argv[0] is the path), exactly `env` as its environment, and the container's state JSON
//! on stdin. A `timeout` (seconds) kills it with SIGKILL. Its stdout and stderr are captured,
//! never passed through (containerd reads the runtime's stdout): stderr ends up in the error
//! of a failing hook, both go to the debug log. Hooks run in order; the first failure stops
//! the rest.
//!
//! A hook runs in a process group of its own so that a timeout kills what it started too
//! (`sleep` under a shell script). Output pipes still held open by a process the hook left
//! behind (a daemon) are not waited for once the hook itself has exited.

use std::io::{Read, Write as _};
use std::os::unix::process::{CommandExt as _, ExitStatusExt as _};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::bail;

use crate::oci::Hook;

/// The most bytes of each output stream kept; the rest is read and dropped.
const CAPTURE_MAX: usize = 8192;
/// The most bytes of stderr quoted in an error.
const QUOTE_MAX: usize = 400;
/// How long to wait, once the hook exited, for its output pipes to close.
const DRAIN_GRACE: Duration = Duration::from_millis(200);

/// Runs `hooks` (of the kind named `kind`, e.g. "createRuntime") in order with `state_json`
/// on their stdin; the first failure stops the rest and is the error.
pub fn run_hooks(kind: &str, hooks: &[Hook], state_json: &str) -> anyhow::Result<()> {
    for hook in hooks {
        run_hook(kind, hook, state_json)?;
    }
    Ok(())
}

/// Runs one hook to completion (or its timeout).
fn run_hook(kind: &str, hook: &Hook, state_json: &str) -> anyhow::Result<()> {
    let path = &hook.path;
    if !path.starts_with('/') {
        bail!("{kind} hook {path:?}: the path is not absolute");
    }
    let timeout = match hook.timeout {
        None => None,
        Some(t) if t > 0 => Some(t),
        Some(t) => bail!("{kind} hook {path:?}: timeout {t} is not a positive number of seconds"),
    };
    let mut cmd = Command::new(path);
    if let Some((argv0, rest)) = hook.args.split_first() {
        cmd.arg0(argv0).args(rest);
    }
    cmd.env_clear();
    for kv in &hook.env {
        // An entry without '=' names no variable: nothing to pass.
        if let Some((k, v)) = kv.split_once('=') {
            cmd.env(k, v);
        }
    }
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let started = Instant::now();
    let mut child = spawn(&mut cmd).map_err(|e| anyhow::anyhow!("{kind} hook {path:?}: {e}"))?;

    // The state goes in from a thread of its own: a hook that does not read it must not
    // block us (the write then fails with EPIPE, which is fine).
    if let Some(mut stdin) = child.stdin.take() {
        let state = state_json.as_bytes().to_vec();
        std::thread::spawn(move || {
            let _ = stdin.write_all(&state);
        });
    }
    let (done_tx, done_rx) = mpsc::channel();
    let out = capture(child.stdout.take(), done_tx.clone());
    let err = capture(child.stderr.take(), done_tx);

    let deadline = timeout.and_then(|t| started.checked_add(Duration::from_secs(t as u64)));
    let status = wait(&mut child, deadline);
    // Collect what the streams hold; pipes kept open by the hook's leftovers are not waited
    // for past the grace period.
    let grace = Instant::now() + DRAIN_GRACE;
    for _ in 0..2 {
        let left = grace.saturating_duration_since(Instant::now());
        if done_rx.recv_timeout(left).is_err() {
            break;
        }
    }
    let stdout = take(&out);
    let stderr = take(&err);
    tracing::debug!(
        kind,
        path = path.as_str(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        stdout = %String::from_utf8_lossy(&stdout),
        stderr = %String::from_utf8_lossy(&stderr),
        "hook finished"
    );
    match status {
        Err(e) => bail!("{kind} hook {path:?}: waiting for it: {e}"),
        Ok(None) => bail!(
            "{kind} hook {path:?} timed out after {}s and was killed",
            timeout.unwrap_or_default()
        ),
        Ok(Some(st)) if st.success() => Ok(()),
        Ok(Some(st)) => {
            let quoted = quote(&stderr);
            if quoted.is_empty() {
                bail!("{kind} hook {path:?} failed: {}", describe(st))
            } else {
                bail!("{kind} hook {path:?} failed: {}: {quoted}", describe(st))
            }
        }
    }
}

/// Spawns, retrying briefly on ETXTBSY: another thread's fork may hold a just-written hook
/// binary open for writing until its exec.
fn spawn(cmd: &mut Command) -> std::io::Result<Child> {
    let mut tries = 0;
    loop {
        match cmd.spawn() {
            Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) && tries < 20 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(5));
            }
            r => return r,
        }
    }
}

/// Waits for the child until `deadline`: `Ok(None)` when it ran out, the hook's process
/// group then killed (SIGKILL) and the hook reaped.
fn wait(child: &mut Child, deadline: Option<Instant>) -> std::io::Result<Option<ExitStatus>> {
    let Some(deadline) = deadline else {
        return child.wait().map(Some);
    };
    let mut nap = Duration::from_millis(1);
    loop {
        if let Some(st) = child.try_wait()? {
            return Ok(Some(st));
        }
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        std::thread::sleep(nap.min(deadline - now));
        nap = (nap * 2).min(Duration::from_millis(20));
    }
    if let Ok(pid) = i32::try_from(child.id()) {
        // SAFETY: kill(2) touches no memory of ours. The hook is not reaped yet, so its pid
        // (its process group's id, from process_group(0)) cannot have been reused.
        unsafe { libc::kill(-pid, libc::SIGKILL) };
    }
    // The hook may have left its group: kill it by pid as well.
    let _ = child.kill();
    child.wait()?;
    Ok(None)
}

/// The captured output of one stream.
type Captured = Arc<Mutex<Vec<u8>>>;

/// Reads `stream` to its end in a thread, keeping the first `CAPTURE_MAX` bytes; says so
/// on `done` when finished.
fn capture<R: Read + Send + 'static>(stream: Option<R>, done: mpsc::Sender<()>) -> Captured {
    let buf: Captured = Arc::default();
    let Some(mut stream) = stream else {
        let _ = done.send(());
        return buf;
    };
    let keep = Arc::clone(&buf);
    std::thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        loop {
            match stream.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => {
                    let mut b = keep.lock().unwrap_or_else(|e| e.into_inner());
                    let room = CAPTURE_MAX.saturating_sub(b.len());
                    b.extend_from_slice(&chunk[..n.min(room)]);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        let _ = done.send(());
    });
    buf
}

/// What has been captured so far.
fn take(c: &Captured) -> Vec<u8> {
    std::mem::take(&mut *c.lock().unwrap_or_else(|e| e.into_inner()))
}

/// The hook's stderr for an error message: trimmed, at most `QUOTE_MAX` bytes.
fn quote(stderr: &[u8]) -> String {
    let s = String::from_utf8_lossy(stderr);
    let s = s.trim();
    if s.len() <= QUOTE_MAX {
        return s.to_string();
    }
    let mut end = QUOTE_MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", s[..end].trim_end())
}

/// "exit status N" or "killed by signal N".
fn describe(st: ExitStatus) -> String {
    match (st.code(), st.signal()) {
        (Some(c), _) => format!("exit status {c}"),
        (None, Some(s)) => format!("killed by signal {s}"),
        (None, None) => st.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::PermissionsExt as _;
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicUsize, Ordering};

    static NEXT: AtomicUsize = AtomicUsize::new(0);

    /// A fresh scratch directory, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> Self {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let p =
                std::env::temp_dir().join(format!("rvisor-hooks-test-{}-{n}", std::process::id()));
            let _ = fs::remove_dir_all(&p);
            fs::create_dir_all(&p).unwrap();
            TempDir(p)
        }

        /// Writes an executable `/bin/sh` script `name` with `body`.
        fn script(&self, name: &str, body: &str) -> String {
            let p = self.0.join(name);
            fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
            fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
            p.to_str().unwrap().to_string()
        }

        fn file(&self, name: &str) -> String {
            self.0.join(name).to_str().unwrap().to_string()
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn hook(path: &str, args: &[&str], env: &[&str], timeout: Option<i64>) -> Hook {
        Hook {
            path: path.to_string(),
            args: args.iter().map(|s| s.to_string()).collect(),
            env: env.iter().map(|s| s.to_string()).collect(),
            timeout,
        }
    }

    fn lines(p: &str) -> Vec<String> {
        fs::read_to_string(Path::new(p))
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }

    const STATE: &str =
        r#"{"ociVersion":"1.2.0","id":"c1","status":"creating","pid":42,"bundle":"/b"}"#;

    #[test]
    fn state_reaches_stdin() {
        let t = TempDir::new();
        let out = t.file("state");
        let h = hook(
            &t.script("h", "/bin/cat > \"$1\""),
            &["h", &out],
            &[],
            Some(10),
        );
        run_hooks("createRuntime", &[h], STATE).unwrap();
        assert_eq!(fs::read_to_string(&out).unwrap(), STATE);
    }

    #[test]
    fn args_and_argv0_exact() {
        let t = TempDir::new();
        let out = t.file("argv");
        // The shell's own argv, as the kernel got it: argv[0] is args[0], not the path.
        let cmd = format!("/usr/bin/tr '\\0' '\\n' < /proc/$$/cmdline > {out}");
        let h = hook("/bin/sh", &["my-argv0", "-c", &cmd], &[], None);
        run_hooks("poststart", &[h], STATE).unwrap();
        assert_eq!(lines(&out), ["my-argv0", "-c", &cmd]);

        // A script sees args[1..] as its arguments, spaces and all.
        let out = t.file("args");
        let s = t.script("a", "for a in \"$@\"; do echo \"<$a>\"; done > \"$1\"");
        let h = hook(&s, &["zero", &out, "b c", ""], &[], None);
        run_hooks("poststart", &[h], STATE).unwrap();
        assert_eq!(
            lines(&out),
            [format!("<{out}>"), "<b c>".into(), "<>".into()]
        );

        // No args: no arguments beyond argv[0].
        let out = t.file("none");
        let s = t.script("n", &format!("echo \"$#\" > {out}"));
        run_hooks("poststart", &[hook(&s, &[], &[], None)], STATE).unwrap();
        assert_eq!(lines(&out), ["0"]);
    }

    #[test]
    fn env_exact() {
        let t = TempDir::new();
        let out = t.file("env");
        let s = t.script(
            "e",
            &format!("/usr/bin/tr '\\0' '\\n' < /proc/$$/environ > {out}"),
        );
        let env = ["PATH=/usr/bin:/bin", "FOO=bar baz", "EMPTY=", "EQ=a=b"];
        run_hooks("prestart", &[hook(&s, &[], &env, None)], STATE).unwrap();
        let mut got = lines(&out);
        got.sort();
        let mut want: Vec<String> = env.iter().map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(got, want);

        // No env at all: an empty environment, nothing of ours.
        run_hooks("prestart", &[hook(&s, &[], &[], None)], STATE).unwrap();
        assert_eq!(fs::read_to_string(&out).unwrap(), "");
    }

    #[test]
    fn failing_hook_error_text() {
        let t = TempDir::new();
        let s = t.script(
            "f",
            "echo out-text; echo '  boom: no network  ' >&2; exit 3",
        );
        let e = run_hooks("createRuntime", &[hook(&s, &[], &[], None)], STATE).unwrap_err();
        let msg = e.to_string();
        assert_eq!(
            msg,
            format!("createRuntime hook {s:?} failed: exit status 3: boom: no network")
        );

        // A long stderr is cut short.
        let s = t.script(
            "long",
            "i=0; while [ $i -lt 500 ]; do printf 'xxxxxxxxxx' >&2; i=$((i+1)); done; exit 1",
        );
        let msg = run_hooks("poststop", &[hook(&s, &[], &[], None)], STATE)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("poststop hook") && msg.contains("exit status 1"),
            "{msg}"
        );
        assert!(msg.len() < QUOTE_MAX + 200 && msg.ends_with("..."), "{msg}");

        // Killed by a signal; silent.
        let s = t.script("k", "kill -TERM $$");
        let msg = run_hooks("poststart", &[hook(&s, &[], &[], None)], STATE)
            .unwrap_err()
            .to_string();
        assert_eq!(
            msg,
            format!("poststart hook {s:?} failed: killed by signal 15")
        );
    }

    #[test]
    fn bad_hooks_are_errors() {
        let t = TempDir::new();
        let e = run_hooks("prestart", &[hook("rel/hook", &[], &[], None)], STATE).unwrap_err();
        assert!(e.to_string().contains("not absolute"), "{e}");
        let missing = t.file("missing");
        let e = run_hooks("prestart", &[hook(&missing, &[], &[], None)], STATE).unwrap_err();
        assert!(e.to_string().contains(&missing), "{e}");
        let s = t.script("ok", "exit 0");
        let e = run_hooks("prestart", &[hook(&s, &[], &[], Some(0))], STATE).unwrap_err();
        assert!(e.to_string().contains("timeout 0"), "{e}");
    }

    #[test]
    fn timeout_kills_a_sleeping_hook() {
        let t = TempDir::new();
        let s = t.script("slow", "/bin/sleep 100");
        let start = Instant::now();
        let e = run_hooks("createRuntime", &[hook(&s, &[], &[], Some(1))], STATE).unwrap_err();
        let took = start.elapsed();
        assert_eq!(
            e.to_string(),
            format!("createRuntime hook {s:?} timed out after 1s and was killed")
        );
        assert!(took >= Duration::from_millis(950), "{took:?}");
        assert!(took < Duration::from_secs(4), "{took:?}");
    }

    #[test]
    fn left_behind_process_does_not_block() {
        let t = TempDir::new();
        // The hook exits at once; its background child keeps stdout and stderr open.
        let s = t.script("daemon", "/bin/sleep 10 &\necho started");
        let start = Instant::now();
        run_hooks("poststart", &[hook(&s, &[], &[], None)], STATE).unwrap();
        assert!(start.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn big_output_and_unread_stdin() {
        let t = TempDir::new();
        // More than a pipe's worth of output, and a state it never reads.
        let s = t.script(
            "loud",
            "/usr/bin/head -c 300000 /dev/zero; /usr/bin/head -c 300000 /dev/zero >&2",
        );
        let big = format!("{{\"pad\":\"{}\"}}", "y".repeat(1 << 20));
        run_hooks("poststart", &[hook(&s, &[], &[], Some(20))], &big).unwrap();
        let q = t.script("quiet", "exit 0");
        run_hooks("poststart", &[hook(&q, &[], &[], None)], &big).unwrap();
    }

    #[test]
    fn order_and_stop_at_first_failure() {
        let t = TempDir::new();
        let log = t.file("log");
        let mk = |n: &str, code: i32| {
            let s = t.script(n, &format!("echo {n} >> {log}; exit {code}"));
            hook(&s, &[], &[], Some(10))
        };
        let all = [mk("one", 0), mk("two", 0), mk("three", 0)];
        run_hooks("startContainer", &all, STATE).unwrap();
        assert_eq!(lines(&log), ["one", "two", "three"]);

        fs::remove_file(&log).unwrap();
        let all = [mk("a", 0), mk("b", 7), mk("c", 0)];
        let e = run_hooks("startContainer", &all, STATE).unwrap_err();
        assert!(e.to_string().contains("exit status 7"), "{e}");
        assert!(e.to_string().contains("/b\""), "{e}");
        assert_eq!(lines(&log), ["a", "b"]);

        run_hooks("poststop", &[], STATE).unwrap();
    }

    #[test]
    fn quote_cuts_on_char_boundary() {
        assert_eq!(quote(b"  hi \n"), "hi");
        let s = "é".repeat(QUOTE_MAX);
        let q = quote(s.as_bytes());
        assert!(q.ends_with("...") && q.len() <= QUOTE_MAX + 3);
    }
}
