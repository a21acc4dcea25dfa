//! Running commands: a docker or ctr command with a time limit, its output and the checks on it.

use super::*;

/// What a command did.
pub(crate) struct Out {
    pub(crate) code: Option<i32>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    pub(crate) timed_out: bool,
    pub(crate) what: String,
}

impl std::fmt::Display for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "    $ {}", self.what)?;
        if self.timed_out {
            writeln!(f, "    TIMED OUT (killed)")?;
        }
        writeln!(f, "    exit code: {:?}", self.code)?;
        writeln!(f, "    stdout: {:?}", clip(&self.stdout))?;
        write!(f, "    stderr: {:?}", clip(&self.stderr))
    }
}

pub(crate) fn clip(s: &str) -> String {
    const MAX: usize = 1500;
    if s.len() <= MAX {
        return s.to_string();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &s[..end], s.len())
}

pub(crate) fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        let a = a.to_string_lossy();
        if a.is_empty() || a.contains([' ', '\'', '"', '$', ';', '|', '&', '>', '<']) {
            s.push_str(&format!(" '{}'", a.replace('\'', "'\\''")));
        } else {
            s.push(' ');
            s.push_str(&a);
        }
    }
    s
}

/// Runs `cmd` with `input` on its stdin (or /dev/null), killing it after `limit`.
pub(crate) fn run(cmd: &mut Command, input: Option<&[u8]>, limit: Duration) -> Out {
    let what = describe(cmd);
    cmd.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return Out {
                code: None,
                stdout: String::new(),
                stderr: format!("cannot start: {e}"),
                timed_out: false,
                what,
            }
        }
    };
    if let (Some(data), Some(mut w)) = (input, child.stdin.take()) {
        let data = data.to_vec();
        std::thread::spawn(move || {
            let _ = w.write_all(&data);
        });
    }
    let reader = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut v);
            }
            String::from_utf8_lossy(&v).into_owned()
        })
    };
    let out = reader(
        child
            .stdout
            .take()
            .map(|r| Box::new(r) as Box<dyn Read + Send>),
    );
    let err = reader(
        child
            .stderr
            .take()
            .map(|r| Box::new(r) as Box<dyn Read + Send>),
    );
    let until = Instant::now() + limit;
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break Some(st),
            Ok(None) if Instant::now() < until => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                timed_out = true;
                let _ = child.kill();
                break child.wait().ok();
            }
            Err(_) => break None,
        }
    };
    Out {
        code: status.and_then(|s| s.code()),
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
        timed_out,
        what,
    }
}

/// Polls `f` every 50 ms until it holds or `limit` passes.
pub(crate) fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + limit;
    loop {
        if f() {
            return true;
        }
        if Instant::now() > until {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The path of an installed program, or a failure naming the package that has it.
pub(crate) fn installed(candidates: &[&str], package: &str) -> PathBuf {
    for c in candidates {
        let p = Path::new(c);
        if p.is_absolute() {
            if p.exists() {
                return p.to_path_buf();
            }
            continue;
        }
        for dir in std::env::var("PATH").unwrap_or_default().split(':') {
            let p = Path::new(dir).join(c);
            if p.exists() {
                return p;
            }
        }
    }
    panic!(
        "{} is not installed: this test needs Debian's {package} package \
         (apt-get install -y docker.io containerd; .ci/run installs them)",
        candidates.join(" or ")
    );
}

/// Checks an exit code and an exact stdout.
pub(crate) fn expect(o: &Out, code: i32, stdout: &str) -> Result<(), String> {
    if o.code == Some(code) && o.stdout == stdout && !o.timed_out {
        Ok(())
    } else {
        Err(format!(
            "expected exit code {code} and stdout {stdout:?}\n{o}"
        ))
    }
}

pub(crate) fn expect_ok(o: &Out) -> Result<(), String> {
    if o.code == Some(0) && !o.timed_out {
        Ok(())
    } else {
        Err(format!("the command failed\n{o}"))
    }
}
