//! The compatibility suite: every C test in `c/`, natively and under `rvisor do` on every
//! available platform. Environment: `RVISOR_BIN`, `SYSCALL_TEST=<substring>`,
//! `UPDATE_EXPECTED_FAILURES=1`, `SYSCALL_TEST_JOBS=N` (see `syscall_tests::run_from_env`).
//!
//! `cargo test --release -p syscall-tests --test suite -- --nocapture` shows the table even
//! when everything passes.

use std::path::Path;

#[test]
fn syscall_suite() {
    let build_dir = syscall_tests::visible_build_dir(
        &Path::new(env!("CARGO_TARGET_TMPDIR")).join("syscall-tests"),
        "syscall-tests",
    );
    match syscall_tests::run_from_env(&build_dir) {
        Ok(report) => println!("{report}"),
        Err(report) => panic!("syscall suite failed:\n{report}"),
    }
}
