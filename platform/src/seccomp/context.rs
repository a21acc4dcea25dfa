//! A seccomp-platform context: one stub thread, stopped in its signal handler whenever the
//! Sentry holds the CPU state.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use super::frame::{self, Frame};
use super::layout::INTERRUPT_SIGNAL;
use super::process::{NewThread, StubProcess};
use super::SeccompAddressSpace;
use crate::sys::{self, Listener};
use crate::{AddressSpace, Context, CpuState, Exit, Interrupter, PlatformError, Result};

/// Interrupt state shared with other threads.
#[derive(Default)]
struct Irq {
    pending: AtomicBool,
    /// `(stub pid << 32) | tid` of the bound thread, 0 when unbound.
    target: AtomicU64,
}

impl Interrupter for Irq {
    fn interrupt(&self) {
        self.pending.store(true, Ordering::SeqCst);
        let t = self.target.load(Ordering::SeqCst);
        if t != 0 {
            sys::tgkill(
                (t >> 32) as libc::pid_t,
                t as u32 as libc::pid_t,
                INTERRUPT_SIGNAL,
            );
        }
    }
}

/// The stub thread a context currently runs on.
struct Bound {
    proc: Arc<StubProcess>,
    listener: Listener,
    slot: u64,
    stub_fd: i32,
    tid: libc::pid_t,
    /// The notification the thread is stopped at, and its frame.
    id: u64,
    frame: Option<Frame>,
    /// Set once the thread has died or misbehaved.
    broken: bool,
}

impl Drop for Bound {
    fn drop(&mut self) {
        if self.proc.is_dead() {
            return;
        }
        if !self.broken {
            // A non-zero answer makes the handler exit the thread.
            let _ = self.listener.send(self.id, 1);
        }
        self.proc.release(self.slot, self.stub_fd);
    }
}

/// An application thread on the seccomp platform.
pub struct SeccompContext {
    bound: Option<Bound>,
    irq: Arc<Irq>,
}

impl SeccompContext {
    pub(crate) fn new() -> Self {
        SeccompContext {
            bound: None,
            irq: Arc::new(Irq::default()),
        }
    }

    fn bind(&mut self, proc: &Arc<StubProcess>) -> Result<()> {
        if let Some(b) = &self.bound {
            if Arc::ptr_eq(&b.proc, proc) {
                return Ok(());
            }
        }
        self.irq.target.store(0, Ordering::SeqCst);
        self.bound = None;
        let NewThread {
            listener,
            notif,
            tid,
            stub_fd,
            slot,
        } = proc.spawn(super::layout::SPAWN_OP_THREAD, None)?;
        let mut b = Bound {
            proc: proc.clone(),
            listener,
            slot,
            stub_fd,
            tid,
            id: notif.id,
            frame: None,
            broken: false,
        };
        // The first stop is the thread's own ud2; only its frame matters.
        let mut scratch = CpuState::default();
        let (exit, fr) = frame::read(proc, slot, &notif, &mut scratch)?;
        if !matches!(exit, Exit::Signal(s) if s.signo == libc::SIGILL) {
            b.broken = true;
            return Err(PlatformError::Protocol(format!(
                "new stub thread stopped with {exit:?}"
            )));
        }
        b.frame = Some(fr);
        self.irq.target.store(
            ((proc.pid() as u64) << 32) | tid as u32 as u64,
            Ordering::SeqCst,
        );
        self.bound = Some(b);
        Ok(())
    }
}

impl Context for SeccompContext {
    fn switch(&mut self, aspace: &Arc<dyn AddressSpace>, state: &mut CpuState) -> Result<Exit> {
        let sas = aspace
            .as_any()
            .downcast_ref::<SeccompAddressSpace>()
            .ok_or_else(|| PlatformError::InvalidArgument("not a seccomp address space".into()))?;
        self.bind(&sas.proc)?;
        if self.irq.pending.swap(false, Ordering::SeqCst) {
            return Ok(Exit::Interrupted);
        }
        let b = self
            .bound
            .as_mut()
            .ok_or_else(|| PlatformError::StubDied("unbound".into()))?;
        if b.broken {
            return Err(PlatformError::StubDied(format!(
                "stub thread {} is gone",
                b.tid
            )));
        }
        let fr = b
            .frame
            .take()
            .ok_or_else(|| PlatformError::Protocol("no frame".into()))?;
        frame::write(&b.proc, b.slot, &fr, state).inspect_err(|_| b.frame = Some(fr))?;
        let r = b.listener.send(b.id, 0).and_then(|_| b.listener.recv());
        let n = match r {
            Ok(n) => n,
            Err(e) => {
                b.broken = true;
                return Err(e);
            }
        };
        if n.pid as libc::pid_t != b.tid || n.data.nr as i64 != super::layout::WAKE_SYSCALL {
            b.broken = true;
            let _ = b.listener.send(n.id, 1);
            return Err(PlatformError::Protocol(
                "notification from an unexpected thread".into(),
            ));
        }
        b.id = n.id;
        let (exit, fr) = match frame::read(&b.proc, b.slot, &n, state) {
            Ok(v) => v,
            Err(e) => {
                // The application corrupted its frame: end this thread.
                b.broken = true;
                let _ = b.listener.send(n.id, 1);
                return Err(e);
            }
        };
        b.frame = Some(fr);
        if exit == Exit::Interrupted {
            self.irq.pending.store(false, Ordering::SeqCst);
        }
        Ok(exit)
    }

    fn interrupter(&self) -> Arc<dyn Interrupter> {
        self.irq.clone()
    }
}
