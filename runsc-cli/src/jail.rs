//! Confinement of the sandbox's own host processes, beside their seccomp filters (DESIGN.md,
//! "Processes"): the Sentry (`rvisor boot`) and the gofer each run in new pid, mount, ipc,
//! uts and network namespaces, with their root pivoted away from the host's (the Sentry's
//! into an empty read-only tmpfs, the gofer's into the container's rootfs), every
//! capability dropped that they do not use, and no_new_privs.
//!
//! The pid namespace is made by `create` for the sandbox process ([`spawn_in_new_pid_ns`]):
//! the Sentry is its init, so when it ends, for any reason, the kernel kills the gofer and
//! every stub process with it, and nothing of a crashed sandbox lives on.

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use sentry::kernel::creds;

/// An error of a confinement step, naming the step.
#[derive(Debug, thiserror::Error)]
#[error("confining the sandbox: {step}: {source}")]
pub struct JailError {
    step: String,
    #[source]
    source: std::io::Error,
}

type Result<T> = std::result::Result<T, JailError>;

fn err(step: impl Into<String>) -> JailError {
    JailError {
        step: step.into(),
        source: std::io::Error::last_os_error(),
    }
}

fn check(r: libc::c_int, step: impl Into<String>) -> Result<()> {
    if r < 0 {
        Err(err(step))
    } else {
        Ok(())
    }
}

fn cpath(p: &Path) -> Result<CString> {
    CString::new(p.as_os_str().as_encoded_bytes()).map_err(|_| JailError {
        step: format!("{}", p.display()),
        source: std::io::Error::from_raw_os_error(libc::EINVAL),
    })
}

/// Runs `spawn` with this process's children born into a new pid namespace (the first
/// one made is its init), then puts that back: later children (hooks) are the host's.
pub fn spawn_in_new_pid_ns<T>(spawn: impl FnOnce() -> std::io::Result<T>) -> Result<T> {
    let host = std::fs::File::open("/proc/self/ns/pid_for_children")
        .or_else(|_| std::fs::File::open("/proc/self/ns/pid"))
        .map_err(|source| JailError {
            step: "opening this process's pid namespace".into(),
            source,
        })?;
    check(
        // SAFETY: unshare with a constant flag; it only changes the namespace of later children.
        unsafe { libc::unshare(libc::CLONE_NEWPID) },
        "a pid namespace for the sandbox",
    )?;
    let made = spawn();
    // SAFETY: setns on a descriptor of a pid namespace file we hold open.
    let back = unsafe { libc::setns(host.as_raw_fd(), libc::CLONE_NEWPID) };
    if back < 0 {
        // Later children would land in the sandbox's namespace: refuse to go on.
        return Err(err("returning to the host's pid namespace"));
    }
    made.map_err(|source| JailError {
        step: "starting the sandbox process".into(),
        source,
    })
}

/// The network namespace of the sandbox's processes, as the spec asks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NetNs {
    /// A new, empty one (a `network` namespace without a path).
    New,
    /// The one at this path (a `network` namespace with a path).
    Join(std::path::PathBuf),
    /// The runtime's own (no `network` namespace in the spec: the host's network, as runc
    /// gives it; the Sentry's filter still allows it no socket of its own).
    Host,
}

/// How the sandbox process gets a user namespace of its own on the host: it makes one, says
/// so on `tell` ("userns"), and waits for one byte on `wait` — the runtime, privileged in
/// the host's namespace, writes its ID maps (only such a writer may map every id) and
/// then sends it.
pub struct UserNsHandshake<'a> {
    /// Where the sandbox says it made its namespace (the readiness pipe).
    pub tell: &'a OwnedFd,
    /// Where the runtime answers once the maps are written.
    pub wait: OwnedFd,
}

/// The ID maps the runtime gives the sandbox process's user namespace: every valid id as
/// itself. The namespace does not lower the sandbox's ids (it drops its capabilities
/// itself); it confines what they reach: capabilities held in it reach no namespace and no
/// resource the host's user namespace owns (the host's network, mounts and devices).
pub const SANDBOX_ID_MAP: &str = "0 0 4294967295\n";

/// Writes [`SANDBOX_ID_MAP`] as the uid and gid maps of the user namespace of host process
/// `pid` (the sandbox process, which made it).
pub fn map_sandbox_userns(pid: u32) -> Result<()> {
    for file in ["uid_map", "gid_map"] {
        let path = format!("/proc/{pid}/{file}");
        std::fs::write(&path, SANDBOX_ID_MAP).map_err(|source| JailError {
            step: format!("writing {path}"),
            source,
        })?;
    }
    Ok(())
}

/// Moves this process (single-threaded: a new user namespace needs it) into a user
/// namespace of its own (with `userns`), then new mount, ipc and uts namespaces, a new
/// cgroup namespace with `cgroup` (rooted at the sandbox's cgroup, which it has joined),
/// all owned by it, and into the network namespace `net`. A network namespace named by path is joined first, while
/// this process is still privileged over the host's namespaces. Mounts become private, so
/// nothing made here shows on the host.
pub fn enter_namespaces(
    net: &NetNs,
    cgroup: bool,
    userns: Option<UserNsHandshake<'_>>,
) -> Result<()> {
    if let NetNs::Join(p) = net {
        let f = std::fs::File::open(p).map_err(|source| JailError {
            step: format!("opening the network namespace {}", p.display()),
            source,
        })?;
        check(
            // SAFETY: setns on a descriptor we hold; the kernel checks it is a network namespace.
            unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) },
            format!("joining the network namespace {}", p.display()),
        )?;
    }
    if let Some(h) = userns {
        enter_user_namespace(h)?;
    }
    let mut flags = libc::CLONE_NEWNS | libc::CLONE_NEWIPC | libc::CLONE_NEWUTS;
    if cgroup {
        flags |= libc::CLONE_NEWCGROUP;
    }
    if *net == NetNs::New {
        flags |= libc::CLONE_NEWNET;
    }
    check(
        // SAFETY: unshare with constant flags, in a process with one thread.
        unsafe { libc::unshare(flags) },
        "new mount/ipc/uts/cgroup/net namespaces",
    )?;
    mount_private()
}

fn enter_user_namespace(h: UserNsHandshake<'_>) -> Result<()> {
    check(
        // SAFETY: unshare with a constant flag, in a process with one thread.
        unsafe { libc::unshare(libc::CLONE_NEWUSER) },
        "a user namespace for the sandbox process",
    )?;
    let said = b"userns\n";
    // SAFETY: write from a constant buffer of its length to a descriptor we hold.
    let n = unsafe { libc::write(h.tell.as_raw_fd(), said.as_ptr().cast(), said.len()) };
    if n != said.len() as isize {
        return Err(err("asking the runtime to map the user namespace"));
    }
    let mut b = [0u8; 1];
    // SAFETY: read into a one-byte buffer from a descriptor we own.
    let n = unsafe { libc::read(h.wait.as_raw_fd(), b.as_mut_ptr().cast(), 1) };
    if n != 1 || b[0] != b'1' {
        return Err(JailError {
            step: "waiting for the runtime to map the user namespace".into(),
            source: std::io::Error::from_raw_os_error(libc::EPROTO),
        });
    }
    Ok(())
}

/// Makes every mount of this (new) mount namespace private.
fn mount_private() -> Result<()> {
    check(
        // SAFETY: mount with constant, NUL-terminated arguments.
        unsafe {
            libc::mount(
                std::ptr::null(),
                c"/".as_ptr(),
                std::ptr::null(),
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            )
        },
        "making the mounts private",
    )
}

/// Makes the current directory the root, and the old root gone from this namespace.
fn pivot_here() -> Result<()> {
    check(
        // SAFETY: pivot_root(".", ".") stacks the old root on the new; both paths are constant.
        unsafe { libc::syscall(libc::SYS_pivot_root, c".".as_ptr(), c".".as_ptr()) as i32 },
        "pivot_root",
    )?;
    check(
        // SAFETY: detaches the old root, now mounted on top of "."; constant arguments.
        unsafe { libc::umount2(c".".as_ptr(), libc::MNT_DETACH) },
        "detaching the old root",
    )?;
    // SAFETY: chdir to a constant path.
    check(unsafe { libc::chdir(c"/".as_ptr()) }, "chdir /")
}

/// The Sentry's root: an empty, read-only tmpfs mounted on `dir` (in this process's own
/// mount namespace, so the host keeps seeing `dir` as it was), pivoted into.
pub fn pivot_into_empty(dir: &Path) -> Result<()> {
    let d = cpath(dir)?;
    check(
        // SAFETY: mount with NUL-terminated arguments that outlive the call.
        unsafe {
            libc::mount(
                c"rvisor-empty".as_ptr(),
                d.as_ptr(),
                c"tmpfs".as_ptr(),
                libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
                c"size=4k,nr_inodes=1,mode=0555".as_ptr().cast(),
            )
        },
        format!("an empty root on {}", dir.display()),
    )?;
    check(
        // SAFETY: chdir to a NUL-terminated path.
        unsafe { libc::chdir(d.as_ptr()) },
        "chdir into the empty root",
    )?;
    pivot_here()
}

/// The gofer's root: the directory `path` (the container's rootfs, with the bind mounts
/// made on it), which must be the directory `root` the gofer was given, bound onto itself
/// with its submounts and pivoted into, in the mount namespace [`gofer_pre_exec`] made.
/// Returns a new descriptor of the root, as `root` was opened (`O_PATH | O_DIRECTORY`):
/// `root` refers to a mount of the Sentry's namespace, which the Sentry detaches when it
/// pivots, and from which the bind mounts are not reached.
pub fn pivot_into(root: &OwnedFd, path: &Path) -> Result<OwnedFd> {
    let p = cpath(path)?;
    mount_private()?;
    check(
        // SAFETY: a bind mount of a NUL-terminated path onto itself.
        unsafe {
            libc::mount(
                p.as_ptr(),
                p.as_ptr(),
                std::ptr::null(),
                libc::MS_BIND | libc::MS_REC,
                std::ptr::null(),
            )
        },
        format!("binding the rootfs {}", path.display()),
    )?;
    // SAFETY: chdir to a NUL-terminated path.
    check(unsafe { libc::chdir(p.as_ptr()) }, "chdir into the rootfs")?;
    // The path named the directory the gofer was given, not something put there since.
    let (was, now) = (stat_fd(root.as_raw_fd())?, stat_path(c".")?);
    if (was.st_dev, was.st_ino) != (now.st_dev, now.st_ino) {
        return Err(JailError {
            step: format!("the rootfs {} changed under the gofer", path.display()),
            source: std::io::Error::from_raw_os_error(libc::ESTALE),
        });
    }
    pivot_here()?;
    // SAFETY: open of a constant path; the result is checked.
    let fd = unsafe {
        libc::open(
            c"/".as_ptr(),
            libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    check(fd, "opening the new root")?;
    // SAFETY: a fresh descriptor we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Between fork and exec of the gofer: a mount namespace of its own (it shares the
/// Sentry's other namespaces), made before the Sentry pivots out of the one they shared
/// (a pivot moves every process of the namespace whose root was the old one).
/// Async-signal-safe.
pub fn gofer_pre_exec() -> std::io::Result<()> {
    // SAFETY: unshare with a constant flag, in the single-threaded child of a fork.
    if unsafe { libc::unshare(libc::CLONE_NEWNS) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

fn stat_fd(fd: i32) -> Result<libc::stat> {
    // SAFETY: an all-zero stat is a valid value to be overwritten.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fstat fills `st`.
    check(unsafe { libc::fstat(fd, &mut st) }, "fstat of the rootfs")?;
    Ok(st)
}

fn stat_path(p: &std::ffi::CStr) -> Result<libc::stat> {
    // SAFETY: an all-zero stat is a valid value to be overwritten.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    check(
        // SAFETY: stat of a NUL-terminated path fills `st`.
        unsafe { libc::stat(p.as_ptr(), &mut st) },
        "stat of the rootfs",
    )?;
    Ok(st)
}

/// Capabilities the gofer uses: to open any file of the rootfs whatever its mode (the
/// Sentry checks the application's permissions), and, when it writes through, to give
/// files their owners and modes.
pub fn gofer_capabilities(read_only: bool) -> Vec<u32> {
    let mut keep = vec![creds::CAP_DAC_OVERRIDE, creds::CAP_DAC_READ_SEARCH];
    if !read_only {
        keep.extend([creds::CAP_CHOWN, creds::CAP_FOWNER, creds::CAP_FSETID]);
    }
    keep
}

/// The last capability number this kernel knows.
fn last_cap() -> u32 {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(40)
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const CAP_VERSION_3: u32 = 0x2008_0522;

/// Drops every capability but `keep` from all five sets (the bounding set first, while
/// CAP_SETPCAP is still held), and sets no_new_privs. `last`: the highest capability number
/// of this kernel ([`last_cap`], read while /proc is still reachable).
pub fn drop_capabilities(keep: &[u32], last: u32) -> Result<()> {
    for cap in 0..=last {
        if keep.contains(&cap) {
            continue;
        }
        // SAFETY: prctl with integer arguments.
        let r = unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0) };
        // EINVAL: a number this kernel does not have.
        if r < 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EINVAL) {
            return Err(err(format!(
                "dropping capability {cap} from the bounding set"
            )));
        }
    }
    check(
        // SAFETY: prctl with integer arguments.
        unsafe {
            libc::prctl(
                libc::PR_CAP_AMBIENT,
                libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
                0,
                0,
                0,
            )
        },
        "clearing the ambient capabilities",
    )?;
    let mut data = [CapData::default(); 2];
    for &cap in keep {
        let (i, bit) = ((cap / 32) as usize, 1u32 << (cap % 32));
        if let Some(d) = data.get_mut(i) {
            d.effective |= bit;
            d.permitted |= bit;
        }
    }
    let mut hdr = CapHeader {
        version: CAP_VERSION_3,
        pid: 0,
    };
    check(
        // SAFETY: capset with a version-3 header and the two data structs it reads.
        unsafe { libc::syscall(libc::SYS_capset, &mut hdr, data.as_ptr()) as i32 },
        "capset",
    )?;
    no_new_privs()
}

/// Sets no_new_privs: no execve of this process can gain privileges.
pub fn no_new_privs() -> Result<()> {
    check(
        // SAFETY: prctl with integer arguments.
        unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) },
        "no_new_privs",
    )
}

/// Confines the gofer before it serves: its own mount namespace with the rootfs `path` (the
/// directory `root`) as root,
/// only the capabilities it uses, no_new_privs. Returns the root to serve.
pub fn confine_gofer(root: &OwnedFd, path: &Path, read_only: bool) -> Result<OwnedFd> {
    let last = last_cap();
    let new_root = pivot_into(root, path)?;
    drop_capabilities(&gofer_capabilities(read_only), last)?;
    Ok(new_root)
}

/// Confines the Sentry's process once everything it needs from the host is open: its root
/// becomes an empty directory (over `dir`), and it keeps no capability.
pub fn confine_sentry(dir: &Path) -> Result<()> {
    let last = last_cap();
    pivot_into_empty(dir)?;
    drop_capabilities(&[], last)
}
