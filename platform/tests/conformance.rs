//! Platform conformance tests: every platform this machine offers must pass them.

mod common;

use common::*;
use platform::{Access, Exit, Prot};

#[test]
fn syscall_is_trapped_with_arguments_and_return_value() {
    each_platform(|p| {
        let mut h = Harness::new(p, args_and_return::bytes());
        let mut s = Harness::start_state();
        assert_eq!(h.run(&mut s), Exit::Syscall);
        assert_eq!(s.regs.rax, 39);
        assert_eq!(s.regs.syscall_args(), [11, 22, 33, 44, 55, 66]);
        assert_eq!(s.regs.r12, 0x1234567890);
        s.regs.rax = 0xabcdef;
        s.regs.r12 = 7; // the Sentry may rewrite any register
        assert_eq!(h.run(&mut s), Exit::Syscall);
        assert_eq!(s.regs.rax, 60);
        assert_eq!(s.regs.rdi, 0xabcdef);
        assert_eq!(s.regs.rbx, 0xabcdef);
        assert_eq!(s.regs.r12, 7);
    });
}
