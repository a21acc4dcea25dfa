//! capget(2), capset(2) and the capability options of prctl(2); the rules are
//! `kernel::caps`.

use crate::errno::{Errno, SysResult};
use crate::kernel::caps;
use crate::kernel::creds::{Capabilities, Credentials, ALL_CAPS};
use crate::kernel::{Exec, Program, Task};

const VERSION_1: u32 = 0x1998_0330;
const VERSION_2: u32 = 0x2007_1026;
const VERSION_3: u32 = 0x2008_0522;

/// The 32-bit words of each set a header's version carries (1 for v1, 2 for v2 and v3);
/// EINVAL for another version, after writing the kernel's preferred one into the header.
fn words(t: &Task, header: u64) -> Result<usize, Errno> {
    let mut b = [0u8; 4];
    t.read_mem(header, &mut b)?;
    match u32::from_le_bytes(b) {
        VERSION_1 => Ok(1),
        VERSION_2 | VERSION_3 => Ok(2),
        _ => {
            t.write_mem(header, &VERSION_3.to_le_bytes())?;
            Err(Errno::EINVAL)
        }
    }
}

/// The pid in a header.
fn header_pid(t: &Task, header: u64) -> Result<i32, Errno> {
    let mut b = [0u8; 4];
    t.read_mem(header + 4, &mut b)?;
    Ok(i32::from_le_bytes(b))
}

/// The capability sets of thread `pid` (0: the caller): its process's, as published.
fn sets_of(t: &Task, pid: i32) -> Result<Capabilities, Errno> {
    if pid == 0 || pid == t.tid {
        return Ok(t.creds.caps);
    }
    t.kernel
        .groups()
        .into_iter()
        .find(|g| g.tgid == pid || g.lock().threads.contains_key(&pid))
        .map(|g| g.lock().creds.caps)
        .ok_or(Errno::ESRCH)
}

pub fn capget(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (header, data) = (a[0], a[1]);
    let n = match words(t, header) {
        // A version probe: the header says which version the kernel prefers.
        Err(Errno::EINVAL) if data == 0 => return Ok(0),
        r => r?,
    };
    if data == 0 {
        return Ok(0);
    }
    let pid = header_pid(t, header)?;
    if pid < 0 {
        return Err(Errno::EINVAL);
    }
    let c = sets_of(t, pid)?;
    // struct __user_cap_data_struct { effective, permitted, inheritable } per word.
    let mut out = Vec::with_capacity(n * 12);
    for w in 0..n {
        for set in [c.effective, c.permitted, c.inheritable] {
            out.extend_from_slice(&((set >> (32 * w)) as u32).to_le_bytes());
        }
    }
    t.write_mem(data, &out)?;
    Ok(0)
}

pub fn capset(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (header, data) = (a[0], a[1]);
    let n = words(t, header)?;
    let pid = header_pid(t, header)?;
    if pid != 0 && pid != t.tid {
        return Err(Errno::EPERM);
    }
    let mut b = vec![0u8; n * 12];
    t.read_mem(data, &mut b)?;
    let word = |w: usize, i: usize| {
        let o = w * 12 + i * 4;
        u64::from(u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])) << (32 * w)
    };
    let set = |i: usize| (0..n).fold(0, |acc, w| acc | word(w, i)) & ALL_CAPS;
    let (effective, permitted, inheritable) = (set(0), set(1), set(2));
    caps::capset(&mut t.creds, effective, permitted, inheritable)?;
    super::creds::sync(t);
    Ok(0)
}

/// The capability options of prctl (PR_CAPBSET_*, PR_CAP_AMBIENT, PR_*_KEEPCAPS,
/// PR_*_SECUREBITS); EINVAL for any other option.
pub fn prctl(t: &mut Task, a: [u64; 6]) -> SysResult {
    let r = caps::prctl(&mut t.creds, a).unwrap_or(Err(Errno::EINVAL))?;
    super::creds::sync(t);
    Ok(r)
}

/// Loads `p` for execve as the caller: search and execute permission with its
/// credentials, and the credentials the program will run with (`kernel::caps::exec`).
pub(super) fn load_program(
    t: &Task,
    cwd: &[u8],
    p: &[u8],
    argv: Vec<Vec<u8>>,
    envp: Vec<Vec<u8>>,
) -> Result<Program, Errno> {
    let who = Exec {
        creds: &t.creds,
        no_new_privs: t.tg.lock().no_new_privs,
    };
    crate::kernel::load_program_as(&t.kernel, &t.mounts(), cwd, p, argv, envp, &who)
}

/// Installs the credentials of a program execve loaded, past its point of no return.
pub(super) fn commit_exec(t: &mut Task, creds: &Credentials) {
    t.creds = creds.clone();
    super::creds::sync(t);
}
