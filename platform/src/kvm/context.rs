//! A kvm-platform context: one vCPU, entered through the stub's resume path with the
//! application's state and left at the stub's common stop.
//!
//! Registers travel through `kvm_run`'s synced register area (`KVM_CAP_SYNC_REGS`), the
//! FPU state through KVM_GET_XSAVE (and KVM_SET_XSAVE when the Sentry changed it): a round
//! trip costs two ioctls, as each costs several microseconds on a nested hypervisor.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use kvm_bindings::{kvm_regs, kvm_xsave, KVM_EXIT_HLT, KVM_EXIT_INTR};

use super::exits::{exception_exit, KernelFault};
use super::layout::*;
use super::pagetable::KvmAddressSpace;
use super::stub;
use super::vcpu::{now_ns, prepare_thread, Vcpu, VcpuShared, OUT};
use super::vm::Vm;
use crate::{AddressSpace, Context, CpuState, Exit, Interrupter, PlatformError, Regs, Result};

/// RFLAGS bits an application may set: CF PF AF ZF SF TF DF OF RF AC ID.
const USER_FLAGS: u64 = 0x0025_0dd5;
/// RFLAGS bits always set in ring 3: IF and the reserved bit 1.
const FIXED_FLAGS: u64 = 0x202;
/// The interrupt flag.
const IF: u64 = 0x200;
/// XSAVE header: XSTATE_BV, then XCOMP_BV and reserved bytes up to 576.
const XSTATE_BV: usize = 512;
const XSAVE_HEADER_END: usize = 576;
/// MXCSR in the legacy region, and the bits the CPU accepts there.
const MXCSR: usize = 24;
const MXCSR_MASK: u32 = 0xffff;

/// Interrupt state shared with other threads.
struct Irq {
    pending: AtomicBool,
    vcpu: Arc<VcpuShared>,
}

impl Interrupter for Irq {
    fn interrupt(&self) {
        self.pending.store(true, Ordering::SeqCst);
        self.vcpu.kick();
    }
}

/// An application thread on the kvm platform.
pub struct KvmContext {
    vm: Arc<Vm>,
    vcpu: Option<Vcpu>,
    irq: Arc<Irq>,
}

/// What one entry came to.
enum Step {
    Exit(Exit),
    /// Nothing for the Sentry (a spurious kick, a TLB shootdown): enter again.
    Again,
}

impl KvmContext {
    pub(crate) fn new(vm: Arc<Vm>) -> Result<Self> {
        let vcpu = vm.take_vcpu()?;
        let irq = Arc::new(Irq {
            pending: AtomicBool::new(false),
            vcpu: vcpu.shared.clone(),
        });
        Ok(KvmContext {
            vm,
            vcpu: Some(vcpu),
            irq,
        })
    }
}

impl Drop for KvmContext {
    fn drop(&mut self) {
        if let Some(v) = self.vcpu.take() {
            self.vm.give_vcpu(v);
        }
    }
}

/// The application's registers from the vCPU's `r`, with `rip`, `rsp` and `rflags` given
/// (they come from the stub's frame or from `rcx`/`r11`).
fn user_regs(r: &kvm_regs, rip: u64, rsp: u64, rflags: u64, fs: u64, gs: u64) -> Regs {
    Regs {
        rax: r.rax,
        rbx: r.rbx,
        rcx: r.rcx,
        rdx: r.rdx,
        rsi: r.rsi,
        rdi: r.rdi,
        rbp: r.rbp,
        rsp,
        r8: r.r8,
        r9: r.r9,
        r10: r.r10,
        r11: r.r11,
        r12: r.r12,
        r13: r.r13,
        r14: r.r14,
        r15: r.r15,
        rip,
        rflags,
        fs_base: fs,
        gs_base: gs,
    }
}

/// Makes `x` an image `xrstor64` accepts: only the guest's components, standard format,
/// reserved header bytes and MXCSR bits clear.
fn sanitize_xsave(x: &mut [u8; XSAVE_SIZE], xcr0: u64) {
    let bv = u64::from_le_bytes(x[XSTATE_BV..XSTATE_BV + 8].try_into().unwrap_or_default());
    x[XSTATE_BV..XSTATE_BV + 8].copy_from_slice(&(bv & xcr0).to_le_bytes());
    x[XSTATE_BV + 8..XSAVE_HEADER_END].fill(0);
    let m = u32::from_le_bytes(x[MXCSR..MXCSR + 4].try_into().unwrap_or_default());
    x[MXCSR..MXCSR + 4].copy_from_slice(&(m & MXCSR_MASK).to_le_bytes());
}

fn run_error(what: &'static str, e: i32) -> PlatformError {
    PlatformError::Host {
        what,
        source: std::io::Error::from_raw_os_error(e),
    }
}

/// One switch in progress.
struct Run<'a> {
    vm: &'a Vm,
    v: &'a mut Vcpu,
    kas: &'a KvmAddressSpace,
    state: &'a mut CpuState,
}

impl Run<'_> {
    fn top(&self) -> u64 {
        self.v.page + VCPU_STACK_TOP
    }

    /// One `KVM_RUN` outside application code (the stub's own paths): shootdowns need
    /// not wait for it. Kicks only interrupt it; it goes on where it was.
    fn run_stub(&mut self) -> Result<()> {
        loop {
            self.v.shared.clear_immediate_exit();
            match self.v.run() {
                Ok(()) if self.v.shared.exit_reason() == KVM_EXIT_INTR => continue,
                Ok(()) => return Ok(()),
                Err(libc::EINTR) | Err(libc::EAGAIN) => continue,
                Err(e) => return Err(run_error("KVM_RUN", e)),
            }
        }
    }

    /// The guest's rip relative to the stub's code, after an exit.
    fn stub_offset(&self) -> u64 {
        self.v.shared.run.regs().rip.wrapping_sub(kva(STUB_CODE))
    }

    /// Has the stub touch every table page queued for it (see `Vm::apply_touches`), on the
    /// kernel-only page tables.
    fn touch(&mut self) -> Result<()> {
        let vm = self.vm;
        vm.apply_touches(|pages| {
            let (fs, gs) = self.v.fs_gs;
            self.v.load_sregs(vm.kernel_root, fs, gs);
            self.v.loaded_as = 0;
            for batch in pages.chunks(TOUCH_BATCH) {
                let list: Vec<u8> = batch
                    .iter()
                    .flat_map(|p| kva(p - SYS_GPA).to_le_bytes())
                    .collect();
                vm.sys_write(self.v.page + VCPU_TOUCH_LIST, &list)?;
                self.v.shared.run.set_regs(&kvm_regs {
                    rsi: kva(self.v.page + VCPU_TOUCH_LIST),
                    rcx: batch.len() as u64,
                    rsp: kva(self.top()),
                    rip: kva(STUB_CODE + stub::TOUCH),
                    rflags: 2,
                    ..Default::default()
                });
                self.run_stub()?;
                let reason = self.v.shared.exit_reason();
                let off = self.stub_offset();
                if reason != KVM_EXIT_HLT || off != stub::TOUCH_STOP + 1 {
                    return Err(PlatformError::Protocol(format!(
                        "touch routine stopped with exit {reason} at stub offset {off:#x}"
                    )));
                }
            }
            Ok(())
        })
    }

    /// Reads the application's FPU state out of the vCPU.
    fn save_xsave(&mut self) -> Result<()> {
        let x = self
            .v
            .fd
            .get_xsave()
            .map_err(|e| run_error("KVM_GET_XSAVE", e.errno()))?;
        let mut img = Box::new([0u8; XSAVE_SIZE]);
        for (c, w) in img.chunks_exact_mut(4).zip(x.region.iter()) {
            c.copy_from_slice(&w.to_le_bytes());
        }
        let dst = self.state.xsave.as_bytes_mut();
        let n = dst.len().min(XSAVE_SIZE);
        dst[..n].copy_from_slice(&img[..n]);
        sanitize_xsave(&mut img, self.vm.xcr0);
        self.v.live_xsave = Some(img);
        Ok(())
    }

    /// Loads the application's state and runs it until it leaves ring 3 (or a kick).
    fn enter(&mut self, gen: u64) -> Result<Step> {
        let r = self.state.regs;
        let (fs, gs) = (r.fs_base, r.gs_base);
        if self.v.loaded_as != self.kas.id {
            self.v.loaded_as = self.kas.id;
            self.v.loaded_gen = u64::MAX;
        }
        let flush = self.v.loaded_gen != gen;

        let mut img = Box::new([0u8; XSAVE_SIZE]);
        let src = self.state.xsave.as_bytes();
        let n = src.len().min(XSAVE_SIZE);
        img[..n].copy_from_slice(&src[..n]);
        sanitize_xsave(&mut img, self.vm.xcr0);
        if self.v.live_xsave.as_deref() != Some(&*img) {
            let mut x = Box::new(kvm_xsave::default());
            for (w, c) in x.region.iter_mut().zip(img.chunks_exact(4)) {
                *w = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
            }
            // SAFETY: `x` is a plain kvm_xsave (no trailing XSAVE2 data), which
            // KVM_SET_XSAVE reads exactly.
            unsafe { self.v.fd.set_xsave(&x) }
                .map_err(|e| run_error("KVM_SET_XSAVE", e.errno()))?;
            self.v.live_xsave = Some(img);
        }

        let rflags = (r.rflags & USER_FLAGS) | FIXED_FLAGS;
        let mut regs = kvm_regs {
            rax: r.rax,
            rbx: r.rbx,
            rcx: r.rcx,
            rdx: r.rdx,
            rsi: r.rsi,
            rdi: r.rdi,
            rbp: r.rbp,
            rsp: r.rsp,
            r8: r.r8,
            r9: r.r9,
            r10: r.r10,
            r11: r.r11,
            r12: r.r12,
            r13: r.r13,
            r14: r.r14,
            r15: r.r15,
            rip: r.rip,
            rflags,
        };
        if flush {
            // Through the stub, which loads CR3 (flushing the TLB) and irets to ring 3.
            let frame = [
                self.kas.root,
                r.rax,
                r.rip,
                USER_CS as u64,
                rflags,
                r.rsp,
                USER_DS as u64,
            ];
            let frame_off = self.top() - 8 * frame.len() as u64;
            let bytes: Vec<u8> = frame.iter().flat_map(|w| w.to_le_bytes()).collect();
            self.vm.sys_write(frame_off, &bytes)?;
            regs.rsp = kva(frame_off);
            regs.rip = kva(STUB_CODE + stub::RESUME_FLUSH);
            regs.rflags = 2;
            self.v.load_sregs(self.kas.root, fs, gs);
        } else {
            // Straight into ring 3: the user segments with the stub's everything else.
            self.v.load_user_sregs(self.kas.root, fs, gs);
        }
        self.v.shared.run.set_regs(&regs);
        // Announce the generation, then check it still holds: a shootdown that bumped it
        // meanwhile either sees the announcement (and kicks) or is seen here.
        self.v.shared.set_entered_generation(gen);
        if self.kas.generation.load(Ordering::SeqCst) != gen {
            self.v.shared.set_entered_generation(OUT);
            self.v.loaded_gen = u64::MAX;
            return Ok(Step::Again);
        }
        let start = now_ns();
        self.v.shared.run_since.store(start, Ordering::SeqCst);
        let res = self.v.run();
        self.v.shared.set_entered_generation(OUT);
        self.kas
            .cpu_ns
            .fetch_add(now_ns().saturating_sub(start), Ordering::SeqCst);
        self.v.shared.run_since.store(0, Ordering::SeqCst);
        match res {
            Ok(()) => match self.v.shared.exit_reason() {
                KVM_EXIT_HLT => self.stopped(gen),
                KVM_EXIT_INTR => self.interrupted(gen),
                reason => Err(PlatformError::Protocol(format!(
                    "unexpected KVM exit {reason} ({:#x?})",
                    self.v.shared.detail()
                ))),
            },
            Err(libc::EINTR) | Err(libc::EAGAIN) => self.interrupted(gen),
            Err(e) => Err(run_error("KVM_RUN", e)),
        }
    }

    /// `KVM_RUN` returned without the guest reaching a stop.
    fn interrupted(&mut self, gen: u64) -> Result<Step> {
        let regs = self.v.shared.run.regs();
        let sregs = self.v.shared.run.sregs();
        // Ring 3 at a kernel-half address: a `syscall` the hypervisor runs in ring 3 (see
        // `stopped`) was caught between the jump to LSTAR and the fault fetching it. The
        // application's state is in flight (rip in rcx, rflags in r11): let the stub take
        // the fault to its stop, as below, rather than resume the application at LSTAR.
        if sregs.cs.dpl == 3 && regs.rip < KERNEL_VA {
            // In the application: take its state as it is (the entry flushed for `gen`).
            self.v.loaded_gen = gen;
            self.state.regs = user_regs(
                &regs,
                regs.rip,
                regs.rsp,
                regs.rflags,
                sregs.fs.base,
                sregs.gs.base,
            );
            self.save_xsave()?;
            return Ok(Step::Again);
        }
        let off = regs.rip.wrapping_sub(kva(STUB_CODE));
        if (stub::RESUME_FLUSH..stub::RESUME_END).contains(&off) {
            // Still on the way in: the application has not run; its state is unchanged.
            if off <= stub::RESUME_FLUSH_MOV_CR3 {
                self.v.loaded_gen = u64::MAX;
            }
            return Ok(Step::Again);
        }
        // On the way out (or in a ring-0 #BP/#PF about to be delivered): finish the stub's
        // path to its stop, which no application code follows.
        self.run_stub()?;
        if self.v.shared.exit_reason() != KVM_EXIT_HLT {
            return Err(PlatformError::Protocol(format!(
                "stub exit path ended with KVM exit {}",
                self.v.shared.exit_reason()
            )));
        }
        self.stopped(gen)
    }

    /// The guest stopped on a `hlt`: decode the stub's frame.
    fn stopped(&mut self, gen: u64) -> Result<Step> {
        let off = self.stub_offset();
        if off != stub::COMMON_STOP + 1 {
            return Err(PlatformError::Protocol(format!(
                "guest stopped at unknown stub offset {off:#x}"
            )));
        }
        self.v.loaded_gen = gen;
        let regs = self.v.shared.run.regs();
        let sregs = self.v.shared.run.sregs();
        let top = self.top();
        let mut buf = [0u8; stub::EXIT_FRAME as usize];
        self.vm.sys_read(top - stub::EXIT_FRAME, &mut buf)?;
        let w = |i: usize| u64::from_le_bytes(buf[8 * i..8 * i + 8].try_into().unwrap_or_default());
        let (vector, err, rip, cs, rflags, rsp) = (w(0), w(1), w(2), w(3), w(4), w(5));
        let (fs, gs) = (sregs.fs.base, sregs.gs.base);
        self.v.fs_gs = (fs, gs);

        let user = cs & 3 == 3;
        let entry = kva(STUB_CODE + stub::SYSCALL_ENTRY);
        // A syscall: on IST1 by way of the entry's int3 (ring 0), or of the #PF fetching the
        // entry where a hypervisor ran it in ring 3. Either way IF is clear, as only the
        // syscall mask makes it; application code never runs with IF clear.
        let syscall = rflags & IF == 0
            && ((vector == 3 && !user && rip == entry + 1)
                || (vector == 14 && user && rip == entry));
        if !user && !syscall {
            let at = rip.wrapping_sub(kva(STUB_CODE));
            if (stub::RESUME_FLUSH..stub::RESUME_END).contains(&at) {
                // iretq refused the application's state (a non-canonical rip, say): it
                // never ran; as Linux, that is a SIGSEGV.
                return Ok(Step::Exit(KernelFault::BadReturn.exit()));
            }
            return Err(PlatformError::Protocol(format!(
                "exception {vector} in the stub at {rip:#x} (error {err:#x}, cr2 {:#x})",
                sregs.cr2
            )));
        }
        self.save_xsave()?;
        if syscall {
            self.state.regs = user_regs(&regs, regs.rcx, rsp, regs.r11, fs, gs);
            return Ok(Step::Exit(Exit::Syscall));
        }
        self.state.regs = user_regs(&regs, rip, rsp, rflags, fs, gs);
        Ok(match exception_exit(vector, err, sregs.cr2, self.state) {
            Some(e) => Step::Exit(e),
            None => Step::Again,
        })
    }
}

impl Context for KvmContext {
    fn switch(&mut self, aspace: &Arc<dyn AddressSpace>, state: &mut CpuState) -> Result<Exit> {
        let kas = aspace
            .as_any()
            .downcast_ref::<KvmAddressSpace>()
            .ok_or_else(|| PlatformError::InvalidArgument("not a kvm address space".into()))?;
        if !Arc::ptr_eq(&kas.vm, &self.vm) {
            return Err(PlatformError::InvalidArgument(
                "address space of another kvm platform".into(),
            ));
        }
        if state.regs.fs_base >= 1 << 47 || state.regs.gs_base >= 1 << 47 {
            return Err(PlatformError::InvalidArgument(
                "non-canonical fs_base or gs_base".into(),
            ));
        }
        if !(state.regs.rip < 1 << 47 || state.regs.rip >= 0xffff_8000_0000_0000) {
            // A return to a non-canonical address faults before the application runs
            // (and would fail the VM entry itself): as Linux, the application's SIGSEGV.
            return Ok(KernelFault::BadReturn.exit());
        }
        prepare_thread()?;
        let vm = &*self.vm;
        let v = self
            .vcpu
            .as_mut()
            .ok_or_else(|| PlatformError::Protocol("context without a vCPU".into()))?;
        if v.broken {
            v.reset(vm)?;
        }
        let shared = v.shared.clone();
        shared.begin(kas.id);
        let mut run = Run { vm, v, kas, state };
        let r = loop {
            // Clear a stale kick first, then look for work: a kick sent after this point
            // either is seen below or stops the KVM_RUN that follows.
            shared.clear_immediate_exit();
            if self.irq.pending.swap(false, Ordering::SeqCst) {
                break Ok(Exit::Interrupted);
            }
            let gen = kas.generation.load(Ordering::SeqCst);
            if vm.touch_pending() {
                if let Err(e) = run.touch() {
                    break Err(e);
                }
            }
            match run.enter(gen) {
                Ok(Step::Exit(e)) => break Ok(e),
                Ok(Step::Again) => continue,
                Err(e) => break Err(e),
            }
        };
        shared.end();
        if r.is_err() {
            run.v.broken = true;
        }
        r
    }

    fn interrupter(&self) -> Arc<dyn Interrupter> {
        self.irq.clone()
    }
}
