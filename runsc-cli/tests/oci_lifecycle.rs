//! The runc command line on a busybox bundle, as containerd's shim and the runtime-tools
//! drive it: create (stopped before the process runs), state, start, kill, delete, run,
//! list, ps; and bad input: one clear error line, a non-zero exit, nothing left behind.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{become_subreaper, rvisor, text, wait, wait_for, Bundle};

#[test]
fn create_start_state_delete() {
    become_subreaper();
    let b = Bundle::new("life", &["sh", "-c", "echo hello from $(hostname); exit 3"]);
    let pid = b.create("c1");
    assert_eq!(b.status("c1"), "created");
    assert!(b.out().is_empty(), "nothing ran before start: {}", b.out());
    let o = b.rv(&["list", "--format", "json"]);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("\"c1\""),
        "{}",
        text(&o)
    );
    let o = b.rv(&["ps", "--format", "json", "c1"]);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        format!("[{pid}]")
    );
    let o = b.rv(&["start", "c1"]);
    assert!(o.status.success(), "start: {}", text(&o));
    let status = wait(pid);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 3,
        "{status:#x}"
    );
    assert_eq!(b.out(), "hello from box\n");
    assert_eq!(b.status("c1"), "stopped");
    let o = b.rv(&["start", "c1"]);
    assert!(!o.status.success());
    assert!(
        b.last_logged_error().contains("stopped"),
        "{}",
        b.last_logged_error()
    );
    let o = b.rv(&["delete", "c1"]);
    assert!(o.status.success(), "delete: {}", text(&o));
    assert!(!b.state.join("c1").exists(), "the state is gone");
    let o = b.rv(&["state", "c1"]);
    assert!(!o.status.success());
    assert!(b.last_logged_error().contains("does not exist"));
}

#[test]
fn kill_reaches_the_process_and_delete_force_ends_it() {
    become_subreaper();
    let b = Bundle::new(
        "kill",
        &[
            "sh",
            "-c",
            "trap 'echo got TERM; exit 7' TERM; echo ready; while :; do sleep 0.05; done",
        ],
    );
    let pid = b.create("k1");
    let o = b.rv(&["start", "k1"]);
    assert!(o.status.success(), "start: {}", text(&o));
    wait_for("ready", || b.out().contains("ready"));
    assert_eq!(b.status("k1"), "running");
    let o = b.rv(&["ps", "k1"]);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("sh"),
        "{}",
        text(&o)
    );
    let o = b.rv(&["delete", "k1"]);
    assert!(!o.status.success(), "a running container is not deleted");
    assert!(b.last_logged_error().contains("not stopped"));
    let o = b.rv(&["kill", "k1", "TERM"]);
    assert!(o.status.success(), "kill: {}", text(&o));
    let status = wait(pid);
    assert_eq!(libc::WEXITSTATUS(status), 7, "{}", b.out());
    assert!(b.out().contains("got TERM"));
    let o = b.rv(&["kill", "k1", "9"]);
    assert!(!o.status.success());
    assert!(b.last_logged_error().contains("not running"));
    assert!(b.rv(&["delete", "k1"]).status.success());

    // A process with no handler: SIGTERM to pid 1 is dropped, SIGKILL is not; delete
    // --force ends a running container.
    let b = Bundle::new("force", &["sh", "-c", "while :; do sleep 0.05; done"]);
    let pid = b.create("f1");
    assert!(b.rv(&["start", "f1"]).status.success());
    assert!(b.rv(&["kill", "f1", "15"]).status.success());
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        b.status("f1"),
        "running",
        "pid 1 ignores SIGTERM without a handler"
    );
    let o = b.rv(&["delete", "--force", "f1"]);
    assert!(o.status.success(), "delete --force: {}", text(&o));
    let status = wait(pid);
    assert!(libc::WIFSIGNALED(status), "{status:#x}");
    assert!(!b.state.join("f1").exists());
}

#[test]
fn run_waits_and_passes_the_exit_code() {
    let b = Bundle::new("run", &["sh", "-c", "echo ran; exit 5"]);
    let o = b.rv(&["run", "--bundle", b.dir.to_str().unwrap(), "r1"]);
    assert_eq!(o.status.code(), Some(5), "{}", text(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "ran\n");
    assert!(!b.state.join("r1").exists(), "run deletes what it made");
}

#[test]
fn bad_input_is_one_clear_error_and_leaves_nothing() {
    let b = Bundle::new("bad", &["true"]);
    let create = |id: &str| b.rv(&["create", "--bundle", b.dir.to_str().unwrap(), id]);
    let check = |o: &Output, want: &str| {
        assert!(!o.status.success(), "{}", text(o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(err.contains(want), "{want:?} in {err}");
        assert!(
            b.last_logged_error().contains(want),
            "logged: {}",
            b.last_logged_error()
        );
    };
    let good = std::fs::read(b.dir.join("config.json")).unwrap();
    std::fs::write(
        b.dir.join("config.json"),
        "{\"ociVersion\": \"1.0.2\", \"process\": ",
    )
    .unwrap();
    check(&create("m1"), "config.json");
    assert!(!b.state.join("m1").exists());
    std::fs::write(b.dir.join("config.json"), &good).unwrap();
    std::fs::rename(b.dir.join("rootfs"), b.dir.join("gone")).unwrap();
    check(&create("m2"), "rootfs");
    assert!(!b.state.join("m2").exists());
    std::fs::rename(b.dir.join("gone"), b.dir.join("rootfs")).unwrap();
    for cmd in ["state", "start", "kill", "delete"] {
        check(&b.rv(&[cmd, "nosuch"]), "does not exist");
    }
    check(&create("../x"), "invalid container id");
    let bundle = b.dir.to_str().unwrap();
    check(
        &b.rv(&["--platform", "nope", "create", "--bundle", bundle, "p1"]),
        "unknown platform \"nope\"",
    );
    assert!(!b.state.join("p1").exists());
    become_subreaper();
    let pid = b.create("dup");
    check(&create("dup"), "exists");
    assert_eq!(b.status("dup"), "created", "the first one is untouched");
    assert!(b.rv(&["delete", "dup"]).status.success());
    wait(pid);
    assert!(!b.state.join("dup").exists());
    let _ = Path::new(&b.dir);
}

#[test]
fn exec_runs_processes_in_the_sandbox() {
    become_subreaper();
    let b = Bundle::new(
        "exec",
        &["sh", "-c", "echo ready; while :; do sleep 0.05; done"],
    );
    let pid = b.start_ready("e1");
    let o = b.rv(&[
        "exec",
        "e1",
        "sh",
        "-c",
        "echo in $(hostname); id -u; exit 4",
    ]);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "in box\n0\n");
    let o = b.rv(&[
        "exec",
        "-u",
        "1000:1000",
        "-e",
        "FOO=bar",
        "e1",
        "sh",
        "-c",
        "id -u; id -g; echo $FOO",
    ]);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "1000\n1000\nbar\n",
        "{}",
        text(&o)
    );
    // A process file, as the shim writes it.
    let proc_file = b.dir.join("process.json");
    std::fs::write(
        &proc_file,
        r#"{"args":["sh","-c","echo from file; cat"],"env":["PATH=/bin"],"cwd":"/tmp","user":{"uid":0,"gid":0}}"#,
    )
    .unwrap();
    let mut child = Command::new(rvisor())
        .arg("--root")
        .arg(&b.state)
        .args(["exec", "--process"])
        .arg(&proc_file)
        .arg("e1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"piped in\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), "from file\npiped in\n");
    // Detached, with a pid file: the pid stands for the process; signals reach it.
    let pid_file = b.dir.join("exec.pid");
    // (Its stdio are not pipes this test reads to the end: the process keeps them.)
    let st = Command::new(rvisor())
        .arg("--root")
        .arg(&b.state)
        .args(["exec", "--detach", "--pid-file"])
        .arg(&pid_file)
        .args([
            "e1",
            "sh",
            "-c",
            "trap 'exit 9' TERM; while :; do sleep 0.05; done",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    let epid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    // SAFETY: kill(2) of the process this test just made.
    assert_eq!(unsafe { libc::kill(epid, libc::SIGTERM) }, 0);
    let status = wait(epid);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 9,
        "{status:#x}"
    );
    let o = b.rv(&["exec", "e1", "/nonexistent"]);
    assert!(!o.status.success());
    assert!(b.rv(&["delete", "--force", "e1"]).status.success());
    wait(pid);
    let o = b.rv(&["exec", "e1", "true"]);
    assert!(!o.status.success(), "no exec into a deleted container");
}

#[test]
fn hooks_run_on_the_host_with_the_state() {
    become_subreaper();
    let b = Bundle::new("hooks", &["sh", "-c", "exit 0"]);
    let log = b.dir.join("hooks.log");
    let script = b.dir.join("hook.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho \"$1 $(cat)\" >> {}\n", log.display()),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let hook = |name: &str| serde_json::json!([{"path": script, "args": ["hook.sh", name]}]);
    b.edit_spec(|spec| {
        spec["hooks"] = serde_json::json!({
            "prestart": hook("prestart"),
            "createRuntime": hook("createRuntime"),
            "poststart": hook("poststart"),
            "poststop": hook("poststop"),
        })
    });
    let pid = b.create("h1");
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with("prestart {") && lines[1].starts_with("createRuntime {"));
    let st: serde_json::Value = serde_json::from_str(&lines[0]["prestart ".len()..]).unwrap();
    assert_eq!(st["id"], "h1");
    assert_eq!(st["status"], "created");
    assert_eq!(st["pid"], pid);
    assert!(b.rv(&["start", "h1"]).status.success());
    wait(pid);
    assert!(std::fs::read_to_string(&log)
        .unwrap()
        .contains("poststart {"));
    assert!(b.rv(&["delete", "h1"]).status.success());
    assert!(std::fs::read_to_string(&log)
        .unwrap()
        .contains("poststop {"));

    // A failing createRuntime hook: create fails with its error, nothing left behind.
    std::fs::write(&script, "#!/bin/sh\necho broken hook >&2; exit 3\n").unwrap();
    let o = b.rv(&["create", "--bundle", b.dir.to_str().unwrap(), "h2"]);
    assert!(!o.status.success());
    assert!(
        b.last_logged_error().contains("broken hook"),
        "{}",
        b.last_logged_error()
    );
    assert!(!b.state.join("h2").exists());
}

/// A listener for `--console-socket`, as containerd's shim makes one.
struct ConsoleSocket {
    path: PathBuf,
    listener: std::os::unix::net::UnixListener,
}

impl ConsoleSocket {
    fn new(dir: &Path) -> ConsoleSocket {
        let path = dir.join("console.sock");
        let _ = std::fs::remove_file(&path);
        let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        ConsoleSocket { path, listener }
    }

    /// Accepts the runtime's connection and receives the one descriptor it sends, as
    /// go-runc's ReceiveMaster does.
    fn master(&self) -> std::os::fd::OwnedFd {
        use std::os::fd::{AsRawFd, FromRawFd};
        let (conn, _) = self.listener.accept().unwrap();
        let mut name = [0u8; 4096];
        let mut iov = libc::iovec {
            iov_base: name.as_mut_ptr().cast(),
            iov_len: name.len(),
        };
        let mut cbuf = [0u64; 8];
        // SAFETY: a zeroed msghdr is valid; its pointers are set to live buffers below.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of_val(&cbuf);
        // SAFETY: recvmsg into the live buffers `msg` points at.
        let n = unsafe { libc::recvmsg(conn.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC) };
        assert!(n > 0, "recvmsg: {}", std::io::Error::last_os_error());
        // SAFETY: the first control message the kernel wrote, within msg_controllen.
        let fd = unsafe {
            let c = libc::CMSG_FIRSTHDR(&msg);
            assert!(!c.is_null(), "no descriptor came");
            assert_eq!((*c).cmsg_level, libc::SOL_SOCKET);
            assert_eq!((*c).cmsg_type, libc::SCM_RIGHTS);
            assert_eq!((*c).cmsg_len, libc::CMSG_LEN(4) as usize, "one descriptor");
            std::ptr::read_unaligned(libc::CMSG_DATA(c).cast::<i32>())
        };
        // SAFETY: the descriptor just received is ours.
        unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) }
    }
}

/// Reads the pty master `m` into `got` until it holds `want`; Err(errno) once a read fails
/// (EIO: every slave is closed). Panics after 30 s.
fn read_pty(m: &std::os::fd::OwnedFd, got: &mut String, want: &str) -> Result<(), i32> {
    use std::os::fd::AsRawFd;
    let until = Instant::now() + Duration::from_secs(30);
    while !got.contains(want) {
        assert!(Instant::now() < until, "waiting for {want:?}; got {got:?}");
        let mut p = libc::pollfd {
            fd: m.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: poll of one live pollfd.
        if unsafe { libc::poll(&mut p, 1, 100) } <= 0 {
            continue;
        }
        let mut buf = [0u8; 1024];
        // SAFETY: read into a live buffer of its length.
        let n = unsafe { libc::read(m.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n <= 0 {
            return Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0));
        }
        got.push_str(&String::from_utf8_lossy(&buf[..n as usize]));
    }
    Ok(())
}

fn write_pty(m: &std::os::fd::OwnedFd, data: &[u8]) {
    use std::os::fd::AsRawFd;
    // SAFETY: write from a live buffer of its length.
    let n = unsafe { libc::write(m.as_raw_fd(), data.as_ptr().cast(), data.len()) };
    assert_eq!(n, data.len() as isize);
}

fn resize_pty(m: &std::os::fd::OwnedFd, rows: u16, cols: u16) {
    use std::os::fd::AsRawFd;
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads one struct winsize from a live local.
    let r = unsafe { libc::ioctl(m.as_raw_fd(), libc::TIOCSWINSZ, &ws) };
    assert_eq!(r, 0);
}

#[test]
fn terminals_through_the_console_socket() {
    become_subreaper();
    let b = Bundle::new(
        "tty",
        &["sh", "-c", "tty; stty size; read line; echo got $line"],
    );
    b.edit_spec(|spec| spec["process"]["terminal"] = true.into());
    // As runc: a detached process with a terminal needs a console socket.
    let o = b.rv(&["create", "--bundle", b.dir.to_str().unwrap(), "t0"]);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(b.last_logged_error().contains("console-socket"));
    assert!(!b.state.join("t0").exists());

    let sock = ConsoleSocket::new(&b.dir);
    let o = b.rv(&[
        "create",
        "--bundle",
        b.dir.to_str().unwrap(),
        "--pid-file",
        b.dir.join("init.pid").to_str().unwrap(),
        "--console-socket",
        sock.path.to_str().unwrap(),
        "t1",
    ]);
    assert!(o.status.success(), "create: {}", text(&o));
    let pid: i32 = std::fs::read_to_string(b.dir.join("init.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let m = sock.master();
    // The shim sizes the terminal before the process starts.
    resize_pty(&m, 33, 101);
    let o = b.rv(&["start", "t1"]);
    assert!(o.status.success(), "start: {}", text(&o));
    let mut got = String::new();
    read_pty(&m, &mut got, "33 101\r\n").unwrap();
    assert!(got.starts_with("/dev/pts/0\r\n"), "{got:?}");
    write_pty(&m, b"hello\n");
    read_pty(&m, &mut got, "got hello\r\n").unwrap();
    assert!(
        got.contains("33 101\r\nhello\r\ngot hello\r\n"),
        "the line is echoed: {got:?}"
    );
    let status = wait(pid);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{status:#x}"
    );
    assert_eq!(read_pty(&m, &mut got, "never"), Err(libc::EIO));
    assert!(b.rv(&["delete", "t1"]).status.success());
}

#[test]
fn exec_with_a_terminal() {
    become_subreaper();
    let b = Bundle::new(
        "exec-tty",
        &["sh", "-c", "echo ready; while :; do sleep 0.05; done"],
    );
    let pid = b.start_ready("x1");
    // The process file the shim writes for `docker exec -it`.
    let proc_file = b.dir.join("process.json");
    std::fs::write(
        &proc_file,
        r#"{"terminal":true,"consoleSize":{"height":20,"width":70},
            "args":["sh","-c","tty; stty size; read line; stty size; echo got $line; exit 6"],
            "env":["PATH=/bin","TERM=xterm"],"cwd":"/","user":{"uid":0,"gid":0}}"#,
    )
    .unwrap();
    let sock = ConsoleSocket::new(&b.dir);
    let pid_file = b.dir.join("exec.pid");
    let o = b.rv(&[
        "exec",
        "--process",
        proc_file.to_str().unwrap(),
        "--console-socket",
        sock.path.to_str().unwrap(),
        "--detach",
        "--pid-file",
        pid_file.to_str().unwrap(),
        "x1",
    ]);
    assert!(o.status.success(), "exec: {}", text(&o));
    let epid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let m = sock.master();
    let mut got = String::new();
    read_pty(&m, &mut got, "20 70\r\n").unwrap();
    assert!(got.starts_with("/dev/pts/0\r\n"), "{got:?}");
    // A resize while it runs, then a line: the size changed first.
    resize_pty(&m, 50, 150);
    write_pty(&m, b"hello\n");
    read_pty(&m, &mut got, "got hello\r\n").unwrap();
    assert!(got.contains("hello\r\n50 150\r\ngot hello\r\n"), "{got:?}");
    let status = wait(epid);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 6,
        "{status:#x}"
    );
    // The process is gone: the sandbox lets go of the terminal.
    assert_eq!(read_pty(&m, &mut got, "never"), Err(libc::EIO));
    // As runc: no console socket for a process without a terminal, or in the foreground.
    let o = b.rv(&[
        "exec",
        "--console-socket",
        sock.path.to_str().unwrap(),
        "--detach",
        "x1",
        "true",
    ]);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(b.last_logged_error().contains("no terminal"));
    assert!(b.rv(&["delete", "--force", "x1"]).status.success());
    wait(pid);
}

#[test]
fn cgroup_limits_stats_update_and_pause() {
    become_subreaper();
    let b = Bundle::new(
        "cgroup",
        &["sh", "-c", "echo ready; while :; do sleep 0.05; done"],
    );
    b.edit_spec(|spec| {
        spec["linux"]["resources"] = serde_json::json!({
            "memory": {"limit": 67_108_864, "swappiness": 7, "disableOOMKiller": true},
            "pids": {"limit": 100}
        });
        spec["linux"]["cgroupsPath"] = format!("/rvisor-test/{}", std::process::id()).into();
    });
    let pid = b.start_ready("g1");
    let stats = |b: &Bundle| -> serde_json::Value {
        let o = b.rv(&["events", "--stats", "g1"]);
        assert!(o.status.success(), "{}", text(&o));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let s = stats(&b);
    assert_eq!(s["type"], "stats");
    assert_eq!(s["data"]["memory"]["usage"]["limit"], 67_108_864);
    assert_eq!(s["data"]["pids"]["limit"], 100);
    assert!(s["data"]["pids"]["current"].as_u64().unwrap() >= 1, "{s}");
    let mut child = Command::new(rvisor())
        .arg("--root")
        .arg(&b.state)
        .args(["update", "--resources", "-", "g1"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(br#"{"pids": {"limit": 50}}"#)
        .unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(stats(&b)["data"]["pids"]["limit"], 50);
    // What only cgroup v1 has (this host's hierarchy), in the host's cgroup.
    let mem = format!("/sys/fs/cgroup/memory/rvisor-test/{}", std::process::id());
    if Path::new("/sys/fs/cgroup/memory/tasks").exists() {
        let read = |f: &str| std::fs::read_to_string(format!("{mem}/{f}")).unwrap();
        assert_eq!(read("memory.swappiness").trim(), "7");
        assert!(read("memory.oom_control").contains("oom_kill_disable 1"));
    }
    assert!(b.rv(&["pause", "g1"]).status.success());
    assert_eq!(b.status("g1"), "paused");
    assert!(b.rv(&["resume", "g1"]).status.success());
    assert_eq!(b.status("g1"), "running");
    assert!(b.rv(&["delete", "--force", "g1"]).status.success());
    wait(pid);
    for ctl in [
        "pids", "memory", "cpu", "cpuacct", "cpuset", "freezer", "devices",
    ] {
        let dir = format!("/sys/fs/cgroup/{ctl}/rvisor-test/{}", std::process::id());
        assert!(!Path::new(&dir).exists(), "the cgroup {dir} is removed");
        let _ = std::fs::remove_dir(format!("/sys/fs/cgroup/{ctl}/rvisor-test"));
    }
}
