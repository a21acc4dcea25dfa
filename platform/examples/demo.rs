//! Runs a few bytes of machine code under every platform this host offers, serving its
//! `write` and `exit` syscalls from this process: the application never reaches the host.
//!
//! `cargo run --release -p platform --example demo`

use std::io::Write;

use platform::{CpuState, Exit, Prot};

/// write(1, msg, len); exit(0); msg follows the code.
fn program() -> Vec<u8> {
    let msg = b"hello from application code whose every syscall was trapped\n";
    let mut code = vec![
        0xb8, 0x01, 0x00, 0x00, 0x00, // mov eax, 1 (write)
        0xbf, 0x01, 0x00, 0x00, 0x00, // mov edi, 1
        0x48, 0x8d, 0x35, 0x00, 0x00, 0x00, 0x00, // lea rsi, [rip + msg]
        0xba, 0x00, 0x00, 0x00, 0x00, // mov edx, len (patched below)
        0x0f, 0x05, // syscall
        0xb8, 0x3c, 0x00, 0x00, 0x00, // mov eax, 60 (exit)
        0x31, 0xff, // xor edi, edi
        0x0f, 0x05, // syscall
        0x0f, 0x0b, // ud2
    ];
    code[18..22].copy_from_slice(&(msg.len() as u32).to_le_bytes());
    // The lea's displacement is relative to the end of the lea (offset 17).
    let disp = (code.len() - 17) as u32;
    code[13..17].copy_from_slice(&disp.to_le_bytes());
    code.extend_from_slice(msg);
    code
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let platforms = platform::all_platforms();
    if platforms.is_empty() {
        return Err(format!("no platform available: {:?}", platform::available()).into());
    }
    const CODE: u64 = 0x40_0000;
    for p in platforms {
        let code = program();
        let mf = p.memory_file();
        let r = mf.allocate(code.len() as u64)?;
        mf.write(r.offset, &code)?;
        let aspace = p.new_address_space()?;
        aspace.map(CODE, r.len, r.offset, Prot::READ_EXEC)?;
        let mut ctx = p.new_context()?;
        let mut st = CpuState::default();
        st.regs.rip = CODE;
        loop {
            match ctx.switch(&aspace, &mut st)? {
                Exit::Syscall if st.regs.rax == 1 => {
                    let (addr, len) = (st.regs.rsi, st.regs.rdx.min(4096) as usize);
                    let mut buf = vec![0u8; len];
                    // The only mapping is the code page at CODE.
                    let ok = addr >= CODE && addr + len as u64 <= CODE + r.len;
                    if ok {
                        mf.read(r.offset + (addr - CODE), &mut buf)?;
                        print!("[{}] {}", p.name(), String::from_utf8_lossy(&buf));
                        std::io::stdout().flush()?;
                    }
                    st.regs.rax = if ok {
                        len as u64
                    } else {
                        (-libc::EFAULT) as u64
                    };
                }
                Exit::Syscall if st.regs.rax == 60 => {
                    println!(
                        "[{}] exit({}) served by the demo's kernel",
                        p.name(),
                        st.regs.rdi
                    );
                    break;
                }
                other => return Err(format!("unexpected exit {other:?}").into()),
            }
        }
    }
    Ok(())
}
