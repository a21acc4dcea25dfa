//! One stub process: the host side of a seccomp-platform address space.

use std::collections::BTreeSet;
use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use memmap2::{MmapOptions, MmapRaw};

use super::filter::{self, Kind};
use super::fork::spawn_stub;
use super::layout::*;
use super::stub;
use crate::sys::{self, Listener};
use crate::{MemoryFile, PlatformError, Result};

/// How long a new stub thread may take to report in.
const SPAWN_TIMEOUT: Duration = Duration::from_secs(10);

/// A stub thread just started, stopped at its first notification.
pub struct NewThread {
    pub listener: Listener,
    pub notif: libc::seccomp_notif,
    pub tid: libc::pid_t,
    pub stub_fd: i32,
    pub slot: u64,
}

struct SpawnState {
    seq: u32,
    /// Slots in use.
    slots: BTreeSet<u64>,
    /// Descriptors open in the stub.
    fds: BTreeSet<i32>,
}

struct Control {
    listener: Listener,
    id: u64,
    tid: libc::pid_t,
}

/// A running stub process.
pub struct StubProcess {
    pid: libc::pid_t,
    pidfd: OwnedFd,
    _file: File,
    map: MmapRaw,
    spawn: Mutex<SpawnState>,
    control: Mutex<Option<Control>>,
    dead: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl StubProcess {
    /// Creates the stub file, forks the stub and starts its control thread.
    pub fn start(memfile: &MemoryFile, programs: &Programs) -> Result<Self> {
        // SAFETY: memfd_create with a static NUL-terminated name.
        let fd = unsafe { libc::memfd_create(c"rvisor-stub".as_ptr(), libc::MFD_CLOEXEC) };
        if fd < 0 {
            return Err(PlatformError::last_os("memfd_create for stub"));
        }
        // SAFETY: a fresh descriptor we own.
        let file = unsafe { File::from_raw_fd(fd) };
        file.set_len(REGION_SIZE)
            .map_err(|source| PlatformError::Host {
                what: "sizing stub file",
                source,
            })?;
        let map = MmapOptions::new()
            .len(REGION_SIZE as usize)
            .map_raw(&file)
            .map_err(|source| PlatformError::Host {
                what: "mapping stub file",
                source,
            })?;
        let code = stub::code();
        let this_map = |off: u64, data: &[u8]| {
            debug_assert!(off as usize + data.len() <= REGION_SIZE as usize);
            // SAFETY: in bounds of our fresh mapping, which no one else maps yet.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    data.as_ptr(),
                    map.as_mut_ptr().add(off as usize),
                    data.len(),
                )
            }
        };
        this_map(0, code.bytes);
        this_map(
            RO_PROG_BASE,
            &filter::fprog_page(&programs.base, stub_addr(RO_PROG_BASE)),
        );
        this_map(
            RO_PROG_CONTROL,
            &filter::fprog_page(&programs.control, stub_addr(RO_PROG_CONTROL)),
        );
        this_map(
            RO_PROG_THREAD,
            &filter::fprog_page(&programs.thread, stub_addr(RO_PROG_THREAD)),
        );

        let pid = spawn_stub(
            memfile.fd().as_raw_fd(),
            file.as_raw_fd(),
            code.phase1,
            code.handler,
            code.restorer,
        )?;
        let pidfd = match sys::pidfd_open(pid) {
            Ok(p) => p,
            Err(e) => {
                // SAFETY: kill and reap our own child.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                    libc::waitpid(pid, std::ptr::null_mut(), libc::__WALL);
                }
                return Err(e);
            }
        };
        let proc = StubProcess {
            pid,
            pidfd,
            _file: file,
            map,
            spawn: Mutex::new(SpawnState {
                seq: 0,
                slots: [SPAWNER_SLOT, CONTROL_SLOT].into_iter().collect(),
                fds: [STUB_MEMFD].into_iter().collect(),
            }),
            control: Mutex::new(None),
            dead: AtomicBool::new(false),
        };
        let t = proc.spawn(SPAWN_OP_CONTROL, Some(CONTROL_SLOT))?;
        if t.notif.data.args[0] != 0 || t.notif.data.args[1] != 0 {
            return Err(PlatformError::Protocol(
                "control thread's first report is not empty".into(),
            ));
        }
        *lock(&proc.control) = Some(Control {
            listener: t.listener,
            id: t.notif.id,
            tid: t.tid,
        });
        Ok(proc)
    }

    /// Host pid of the stub.
    pub fn pid(&self) -> libc::pid_t {
        self.pid
    }

    /// Whether the stub is known to be gone.
    pub fn is_dead(&self) -> bool {
        self.dead.load(Ordering::Relaxed) || self.exited()
    }

    fn exited(&self) -> bool {
        let mut p = libc::pollfd {
            fd: self.pidfd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd, no waiting.
        let r = unsafe { libc::poll(&mut p, 1, 0) };
        let gone = r > 0 && p.revents != 0;
        if gone {
            self.dead.store(true, Ordering::Relaxed);
        }
        gone
    }

    /// How the stub ended, for error messages ("running" if it has not).
    pub fn exit_status(&self) -> String {
        // SAFETY: siginfo_t is plain data; waitid fills it (WNOWAIT leaves the zombie).
        let mut si: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: waitid on our own child's pidfd with a valid siginfo pointer.
        let r = unsafe {
            libc::waitid(
                libc::P_PIDFD,
                self.pidfd.as_raw_fd() as libc::id_t,
                &mut si,
                libc::WEXITED | libc::WNOWAIT | libc::WNOHANG,
            )
        };
        // SAFETY: si_pid/si_status are valid for SIGCHLD-style siginfo from waitid.
        let (pid, status) = unsafe { (si.si_pid(), si.si_status()) };
        if r != 0 || pid == 0 {
            return "running".into();
        }
        match si.si_code {
            libc::CLD_EXITED => format!("exit status {status}"),
            _ => format!("killed by signal {status}"),
        }
    }

    fn ptr(&self, off: u64, len: usize) -> Result<*mut u8> {
        match off.checked_add(len as u64) {
            Some(end) if end <= REGION_SIZE => Ok(self.map.as_mut_ptr().wrapping_add(off as usize)),
            _ => Err(PlatformError::Protocol(format!(
                "stub access {off:#x}+{len:#x} out of range"
            ))),
        }
    }

    /// Copies bytes out of the stub file.
    pub fn read(&self, off: u64, buf: &mut [u8]) -> Result<()> {
        let p = self.ptr(off, buf.len())?;
        // SAFETY: `ptr` checked the range lies in our mapping; the stub may write it
        // concurrently, so we copy and never form a reference.
        unsafe { std::ptr::copy_nonoverlapping(p, buf.as_mut_ptr(), buf.len()) };
        Ok(())
    }

    /// Copies bytes into the stub file.
    pub fn write(&self, off: u64, data: &[u8]) -> Result<()> {
        let p = self.ptr(off, data.len())?;
        // SAFETY: as in `read`.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), p, data.len()) };
        Ok(())
    }

    fn word(&self, off: u64) -> &AtomicU32 {
        assert!(off.is_multiple_of(4) && off + 4 <= REGION_SIZE);
        // SAFETY: aligned, in bounds of a mapping that lives as long as `self`; atomics are
        // the right view of memory another process writes.
        unsafe { &*(self.map.as_mut_ptr().add(off as usize) as *const AtomicU32) }
    }

    fn write_u64(&self, off: u64, v: u64) -> Result<()> {
        self.write(off, &v.to_ne_bytes())
    }

    fn read_u64(&self, off: u64) -> Result<u64> {
        let mut b = [0u8; 8];
        self.read(off, &mut b)?;
        Ok(u64::from_ne_bytes(b))
    }

    /// Starts a stub thread (`SPAWN_OP_*`) in `slot` (or a free one) and waits until it
    /// stops at its first notification.
    pub fn spawn(&self, op: u64, slot: Option<u64>) -> Result<NewThread> {
        let mut st = lock(&self.spawn);
        let slot = match slot {
            Some(s) => s,
            None => (FIRST_APP_SLOT..MAX_SLOTS)
                .find(|s| !st.slots.contains(s))
                .ok_or(PlatformError::Exhausted("threads per address space"))?,
        };
        let expected_fd = (0..).find(|f| !st.fds.contains(f)).unwrap_or(0);
        let base = slot_offset(slot);
        self.write_u64(base + SLOT_ACK_VAL, 0)?;
        let ack = self.word(base + SLOT_ACK_FLAG);
        ack.store(0, Ordering::SeqCst);
        self.write_u64(CMD_SPAWN_SLOT, slot)?;
        self.write_u64(CMD_SPAWN_OP, op)?;
        st.seq = st.seq.wrapping_add(1);
        let seq = self.word(CMD_SPAWN_SEQ);
        seq.store(st.seq, Ordering::SeqCst);
        sys::futex_wake(seq);
        let deadline = Instant::now() + SPAWN_TIMEOUT;
        while ack.load(Ordering::SeqCst) == 0 {
            if self.is_dead() {
                return Err(PlatformError::StubDied(format!(
                    "stub {} exited ({}) while starting a thread",
                    self.pid,
                    self.exit_status()
                )));
            }
            if Instant::now() > deadline {
                return Err(PlatformError::StubDied(format!(
                    "stub {} did not start a thread",
                    self.pid
                )));
            }
            sys::futex_wait(ack, 0, Duration::from_millis(10));
        }
        let val = self.read_u64(base + SLOT_ACK_VAL)? as i64;
        if val < 0 {
            return Err(PlatformError::Host {
                what: "stub thread creation",
                source: std::io::Error::from_raw_os_error(-val as i32),
            });
        }
        if val != expected_fd as i64 {
            return Err(PlatformError::Protocol(format!(
                "new stub thread reported listener fd {val}, expected {expected_fd}"
            )));
        }
        st.fds.insert(expected_fd);
        st.slots.insert(slot);
        drop(st);
        let listener = Listener::new(sys::pidfd_getfd(&self.pidfd, expected_fd)?)?;
        let notif = listener
            .recv()
            .inspect_err(|_| self.dead.store(true, Ordering::Relaxed))?;
        if notif.data.nr as i64 != WAKE_SYSCALL {
            return Err(PlatformError::Protocol(
                "first notification is not a wake".into(),
            ));
        }
        Ok(NewThread {
            listener,
            tid: notif.pid as libc::pid_t,
            notif,
            stub_fd: expected_fd,
            slot,
        })
    }

    /// Frees what a finished stub thread held: its slot and its listener descriptor.
    pub fn release(&self, slot: u64, stub_fd: i32) {
        // Hold the spawn lock across the close: a spawn in between would otherwise expect
        // the wrong descriptor number for its new listener.
        let mut st = lock(&self.spawn);
        let closed = self.control(&[[CTL_OP_CLOSE, stub_fd as u64, 0, 0, 0]]);
        st.slots.remove(&slot);
        if closed.is_ok() {
            st.fds.remove(&stub_fd);
        }
    }

    /// Runs a batch of control operations (`[kind, addr, len, prot, offset]`) in the stub.
    pub fn control(&self, ops: &[[u64; 5]]) -> Result<()> {
        let mut guard = lock(&self.control);
        let ctl = guard
            .as_mut()
            .ok_or_else(|| PlatformError::StubDied("control thread is gone".into()))?;
        for batch in ops.chunks(CTL_MAX_OPS as usize) {
            let mut bytes = Vec::with_capacity(batch.len() * CTL_OP_SIZE as usize);
            for op in batch {
                for v in op {
                    bytes.extend_from_slice(&v.to_ne_bytes());
                }
            }
            self.write(CMD_CTL_OPS, &bytes)?;
            self.write_u64(CMD_CTL_NOPS, batch.len() as u64)?;
            let r = ctl
                .listener
                .send(ctl.id, 0)
                .and_then(|_| ctl.listener.recv());
            let n = match r {
                Ok(n) => n,
                Err(e) => {
                    self.dead.store(true, Ordering::Relaxed);
                    *guard = None;
                    return Err(e);
                }
            };
            if n.data.nr as i64 != WAKE_SYSCALL || n.pid as libc::pid_t != ctl.tid {
                return Err(PlatformError::Protocol(
                    "unexpected notification on control listener".into(),
                ));
            }
            ctl.id = n.id;
            let (done, err) = (n.data.args[0], n.data.args[1] as i64);
            if err != 0 {
                return Err(PlatformError::Host {
                    what: "stub control operation",
                    source: std::io::Error::from_raw_os_error((-err) as i32),
                });
            }
            if done != batch.len() as u64 {
                return Err(PlatformError::Protocol("control batch incomplete".into()));
            }
        }
        Ok(())
    }
}

impl Drop for StubProcess {
    fn drop(&mut self) {
        let _ = sys::pidfd_send_signal(&self.pidfd, libc::SIGKILL);
        // SAFETY: reaping our own child (forked by the factory thread of this process).
        unsafe { libc::waitpid(self.pid, std::ptr::null_mut(), libc::__WALL) };
    }
}

/// The three filter programs, built once per platform.
#[derive(Debug)]
pub struct Programs {
    pub base: Vec<filter::Insn>,
    pub control: Vec<filter::Insn>,
    pub thread: Vec<filter::Insn>,
}

impl Programs {
    pub fn build() -> Result<Self> {
        Ok(Programs {
            base: filter::build(Kind::Base)?,
            control: filter::build(Kind::Control)?,
            thread: filter::build(Kind::Thread)?,
        })
    }
}
