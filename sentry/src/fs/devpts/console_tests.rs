//! The console bridge against a real host pty: input with its echo, output with the line
//! discipline's CR-NL, window sizes, the end of the process, a host hang-up.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use super::*;

/// A host pty: (master, slave in raw mode).
fn host_pty() -> (OwnedFd, OwnedFd) {
    // SAFETY: posix_openpt returns a new descriptor or -1.
    let m = unsafe { libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC) };
    assert!(m >= 0, "posix_openpt: {}", std::io::Error::last_os_error());
    // SAFETY: a fresh descriptor, ours alone.
    let master = unsafe { OwnedFd::from_raw_fd(m) };
    // SAFETY: grantpt, unlockpt and TIOCGPTPEER on the master we hold.
    let s = unsafe {
        assert_eq!(libc::grantpt(m), 0);
        assert_eq!(libc::unlockpt(m), 0);
        libc::ioctl(
            m,
            libc::TIOCGPTPEER,
            libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
        )
    };
    assert!(s >= 0, "TIOCGPTPEER: {}", std::io::Error::last_os_error());
    // SAFETY: a fresh descriptor, ours alone.
    let slave = unsafe { OwnedFd::from_raw_fd(s) };
    // SAFETY: termios calls on the slave we hold, with a live local struct.
    unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        assert_eq!(libc::tcgetattr(s, &mut t), 0);
        libc::cfmakeraw(&mut t);
        assert_eq!(libc::tcsetattr(s, libc::TCSANOW, &t), 0);
    }
    (master, slave)
}

fn set_size(fd: &OwnedFd, rows: u16, cols: u16) {
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads one struct winsize from a live local.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSWINSZ, &ws) };
    assert_eq!(r, 0);
}

fn size_of(pty: &Pty) -> (u16, u16) {
    let b = pty.lock().winsize.0;
    (
        u16::from_le_bytes([b[0], b[1]]),
        u16::from_le_bytes([b[2], b[3]]),
    )
}

/// What the host master reads until `want` shows up (panics after 20 s); Err(errno) if a
/// read fails first.
fn read_until(m: &OwnedFd, want: &str) -> Result<String, i32> {
    let until = Instant::now() + Duration::from_secs(20);
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&got).contains(want) {
        assert!(
            Instant::now() < until,
            "waiting for {want:?}, got {:?}",
            String::from_utf8_lossy(&got)
        );
        if poll_one(m, libc::POLLIN, Duration::from_millis(50)) == 0 {
            continue;
        }
        let n = host_read(m, &mut buf)?;
        got.extend_from_slice(&buf[..n]);
    }
    Ok(String::from_utf8_lossy(&got).into_owned())
}

fn write_host(fd: &OwnedFd, data: &[u8]) {
    assert!(host_write_all(fd, data, &AtomicBool::new(false)));
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(20);
    while !f() {
        assert!(Instant::now() < until, "waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A pair of a devpts with no kernel behind it (no process to signal).
fn pair() -> (Arc<Pty>, Arc<MasterFile>) {
    let pty = Pty::new(0, Weak::new(), 0, 5);
    let master = MasterFile::new(pty.clone(), true);
    (pty, master)
}

#[test]
fn bridges_input_output_and_sizes() {
    let (m, s) = host_pty();
    set_size(&m, 30, 100);
    let (pty, master) = pair();
    let (term, slave) = HostTerminal::with_pty(pty.clone(), master, s).unwrap();
    assert_eq!(size_of(&pty), (30, 100), "the host's size from the start");
    assert_eq!(slave.path.get().unwrap(), b"/dev/pts/0");
    let bridge = term.start().unwrap();

    write_host(&m, b"hello\n");
    let mut buf = [0u8; 64];
    let n = slave.ops.read(&mut buf, None).unwrap();
    assert_eq!(&buf[..n], b"hello\n", "a line through the line discipline");
    read_until(&m, "hello\r\n").unwrap();

    assert_eq!(slave.ops.write(b"out\n", None).unwrap(), 4);
    read_until(&m, "out\r\n").unwrap();

    set_size(&m, 40, 120);
    wait_for("the new size", || size_of(&pty) == (40, 120));
    // The process's own size stands until the host's changes again.
    pty.set_winsize(Winsize([1, 0, 2, 0, 0, 0, 0, 0]));
    std::thread::sleep(POLL_TICK * 3);
    assert_eq!(size_of(&pty), (1, 2));
    set_size(&m, 41, 121);
    wait_for("the next size", || size_of(&pty) == (41, 121));

    // The process is gone: what it wrote last still arrives, then the host master reads
    // EIO once the bridge let go of the host slave.
    assert_eq!(slave.ops.write(b"bye\n", None).unwrap(), 4);
    drop(slave);
    assert!(bridge.drained(Duration::from_secs(20)));
    let r = read_until(&m, "bye\r\n").unwrap();
    assert!(r.contains("bye\r\n"));
    assert_eq!(read_until(&m, "never"), Err(libc::EIO));
}

#[test]
fn host_hangup_hangs_up_the_pair() {
    let (m, s) = host_pty();
    let (pty, master) = pair();
    let (term, slave) = HostTerminal::with_pty(pty.clone(), master, s).unwrap();
    let bridge = term.start().unwrap();
    drop(m);
    wait_for("the hang-up", || pty.lock().hung());
    let mut buf = [0u8; 8];
    assert!(matches!(
        slave.ops.read(&mut buf, None),
        Ok(0) | Err(Errno::EIO)
    ));
    assert_eq!(slave.ops.write(b"x", None), Err(Errno::EIO));
    drop(slave);
    assert!(bridge.drained(Duration::from_secs(20)));
}
