//! An unimplemented syscall returns ENOSYS and is named once in the `--debug` log.

use std::process::Command;

#[test]
fn unimplemented_syscall_is_enosys_and_logged_once_by_name() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    // Outside /tmp: inside the sandbox /tmp is private.
    let dir = if dir.starts_with("/tmp") {
        std::path::PathBuf::from("/var/tmp")
    } else {
        dir.to_path_buf()
    };
    let src = dir.join("rvisor-unimpl.c");
    let bin = dir.join("rvisor-unimpl");
    std::fs::write(
        &src,
        "#include <errno.h>\n#include <stdio.h>\n#include <sys/syscall.h>\n#include <unistd.h>\n\
         int main(void) {\n  for (int i = 0; i < 2; i++) {\n    long r = syscall(SYS_kexec_load, 0, 0, 0, 0);\n\
         printf(\"%ld %d\\n\", r, errno);\n  }\n  return 0;\n}\n",
    )
    .unwrap();
    let st = Command::new("gcc")
        .args(["-static", "-o"])
        .arg(&bin)
        .arg(&src)
        .status()
        .unwrap();
    assert!(st.success());
    let out = Command::new(env!("CARGO_BIN_EXE_rvisor"))
        .args(["--debug", "do", "--"])
        .arg(&bin)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stdout, format!("-1 {e}\n-1 {e}\n", e = libc_enosys()));
    assert_eq!(stderr.matches("name=\"kexec_load\"").count(), 1, "{stderr}");
}

fn libc_enosys() -> i32 {
    38
}
