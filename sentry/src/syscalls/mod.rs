//! The syscall table: one module per family.

mod file;
pub use file::host_stdio;
mod caps;
mod creds;
mod epoll;
mod fdkinds;
pub mod futex;
mod inotify;
mod locks;
mod memory;
pub(crate) mod misc;
mod mknod;
mod mount;
mod mqueue;
pub use mount::{mask_at_boot, mount_at_boot, readonly_at_boot};
mod names;
mod openat2;
mod path;
mod poll;
pub mod posix_timer;
mod process;
mod rootfs;
mod signal;
mod socket;
mod splice;
mod timer;
mod tmpfile;
mod writethrough;
mod xattr;

use std::collections::HashSet;
use std::sync::Mutex;

use crate::errno::{Errno, SysResult};
use crate::kernel::Task;

/// Logs an unimplemented syscall once.
fn unimplemented(nr: u64) -> SysResult {
    static SEEN: Mutex<Option<HashSet<u64>>> = Mutex::new(None);
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    if seen.get_or_insert_with(HashSet::new).insert(nr) {
        tracing::debug!(nr, name = name(nr), "unimplemented syscall: ENOSYS");
    }
    Err(Errno::ENOSYS)
}

pub use names::name;

use path::{XattrKind, XattrOp, XattrTarget};

/// creat(2) is open(2) with these flags.
const CREAT_FLAGS: u64 = (libc::O_CREAT | libc::O_WRONLY | libc::O_TRUNC) as u64;
const P: XattrTarget = XattrTarget::Path { follow: true };
const L: XattrTarget = XattrTarget::Path { follow: false };

fn xa(t: &mut Task, a: [u64; 6], target: XattrTarget, kind: XattrKind) -> SysResult {
    xattr::xattr(t, a, XattrOp { target, kind })
}

macro_rules! table {
    ($t:ident, $nr:ident, $a:ident; $($sys:ident => $handler:expr,)*) => {
        /// Serves syscall `nr` for `task`; the arguments are in its registers.
        pub fn dispatch($t: &mut Task, $nr: u64) -> SysResult {
            let $a = $t.regs.regs.syscall_args();
            tracing::trace!(tid = $t.tid, nr = $nr, name = name($nr), ?$a, "syscall");
            match $nr as i64 {
                $(libc::$sys => $handler,)*
                _ => unimplemented($nr),
            }
        }
    };
}

table! { t, nr, a;
    SYS_read => file::read(t, a),
    SYS_write => file::write(t, a),
    SYS_readv => file::readv(t, a, false),
    SYS_writev => file::readv(t, a, true),
    SYS_pread64 => file::pread(t, a, false),
    SYS_pwrite64 => file::pread(t, a, true),
    SYS_preadv => file::preadv(t, a, false, false),
    SYS_pwritev => file::preadv(t, a, true, false),
    SYS_preadv2 => file::preadv(t, a, false, true),
    SYS_pwritev2 => file::preadv(t, a, true, true),
    SYS_unshare => process::unshare(t, a),
    SYS_mount => mount::mount(t, a),
    SYS_umount2 => mount::umount2(t, a),
    SYS_open => file::openat(t, libc::AT_FDCWD as u64, a[0], a[1], a[2]),
    SYS_creat => file::openat(t, libc::AT_FDCWD as u64, a[0], CREAT_FLAGS, a[1]),
    SYS_openat => file::openat(t, a[0], a[1], a[2], a[3]),
    SYS_openat2 => openat2::openat2(t, a),
    SYS_mknod => mknod::mknodat(t, libc::AT_FDCWD as u64, a[0], a[1], a[2]),
    SYS_mknodat => mknod::mknodat(t, a[0], a[1], a[2], a[3]),
    SYS_close => file::close(t, a),
    SYS_close_range => file::close_range(t, a),
    SYS_fstat => file::fstat(t, a),
    SYS_stat => file::stat_path(t, libc::AT_FDCWD as u64, a[0], a[1], 0),
    SYS_lstat => file::stat_path(t, libc::AT_FDCWD as u64, a[0], a[1], libc::AT_SYMLINK_NOFOLLOW as u64),
    SYS_newfstatat => file::stat_path(t, a[0], a[1], a[2], a[3]),
    SYS_lseek => file::lseek(t, a),
    SYS_getdents64 => file::getdents64(t, a),
    SYS_dup => file::dup(t, a),
    SYS_dup2 => file::dup3(t, a[0], a[1], 0, true),
    SYS_dup3 => file::dup3(t, a[0], a[1], a[2], false),
    SYS_fcntl => file::fcntl(t, a),
    SYS_flock => locks::flock(t, a),
    SYS_pipe => file::pipe2(t, a[0], 0),
    SYS_pipe2 => file::pipe2(t, a[0], a[1]),
    SYS_memfd_create => file::memfd_create(t, a),
    SYS_ioctl => file::ioctl(t, a),
    SYS_access => file::faccessat(t, libc::AT_FDCWD as u64, a[0], a[1], 0),
    SYS_faccessat => file::faccessat(t, a[0], a[1], a[2], 0),
    SYS_faccessat2 => file::faccessat(t, a[0], a[1], a[2], a[3]),
    SYS_readlink => file::readlinkat(t, libc::AT_FDCWD as u64, a[0], a[1], a[2]),
    SYS_readlinkat => file::readlinkat(t, a[0], a[1], a[2], a[3]),
    SYS_getcwd => file::getcwd(t, a),
    SYS_chdir => file::chdir(t, a),
    SYS_fchdir => file::fchdir(t, a),
    SYS_mkdir => path::mkdirat(t, libc::AT_FDCWD as u64, a[0], a[1]),
    SYS_mkdirat => path::mkdirat(t, a[0], a[1], a[2]),
    SYS_unlink => path::unlinkat(t, libc::AT_FDCWD as u64, a[0], 0),
    SYS_rmdir => path::unlinkat(t, libc::AT_FDCWD as u64, a[0], libc::AT_REMOVEDIR as u64),
    SYS_unlinkat => path::unlinkat(t, a[0], a[1], a[2]),
    SYS_rename => path::renameat2(t, libc::AT_FDCWD as u64, a[0], libc::AT_FDCWD as u64, a[1], 0),
    SYS_renameat => path::renameat2(t, a[0], a[1], a[2], a[3], 0),
    SYS_renameat2 => path::renameat2(t, a[0], a[1], a[2], a[3], a[4]),
    SYS_symlink => path::symlinkat(t, a[0], libc::AT_FDCWD as u64, a[1]),
    SYS_symlinkat => path::symlinkat(t, a[0], a[1], a[2]),
    SYS_link => path::linkat(t, libc::AT_FDCWD as u64, a[0], libc::AT_FDCWD as u64, a[1], 0),
    SYS_linkat => path::linkat(t, a[0], a[1], a[2], a[3], a[4]),
    SYS_truncate => path::truncate(t, a[0], a[1]),
    SYS_chmod => path::fchmodat(t, libc::AT_FDCWD as u64, a[0], a[1]),
    SYS_fchmodat => path::fchmodat(t, a[0], a[1], a[2]),
    SYS_chown => path::fchownat(t, libc::AT_FDCWD as u64, a[0], a[1], a[2], 0),
    SYS_lchown => path::fchownat(t, libc::AT_FDCWD as u64, a[0], a[1], a[2], libc::AT_SYMLINK_NOFOLLOW as u64),
    SYS_fchownat => path::fchownat(t, a[0], a[1], a[2], a[3], a[4]),
    SYS_utimensat => path::utimensat(t, a),
    SYS_statx => path::statx(t, a),
    SYS_getxattr => xa(t, a, P, XattrKind::Get),
    SYS_lgetxattr => xa(t, a, L, XattrKind::Get),
    SYS_fgetxattr => xa(t, a, XattrTarget::Fd, XattrKind::Get),
    SYS_setxattr => xa(t, a, P, XattrKind::Set),
    SYS_lsetxattr => xa(t, a, L, XattrKind::Set),
    SYS_fsetxattr => xa(t, a, XattrTarget::Fd, XattrKind::Set),
    SYS_listxattr => xa(t, a, P, XattrKind::List),
    SYS_llistxattr => xa(t, a, L, XattrKind::List),
    SYS_flistxattr => xa(t, a, XattrTarget::Fd, XattrKind::List),
    SYS_removexattr => xa(t, a, P, XattrKind::Remove),
    SYS_lremovexattr => xa(t, a, L, XattrKind::Remove),
    SYS_fremovexattr => xa(t, a, XattrTarget::Fd, XattrKind::Remove),
    SYS_socket => socket::socket(t, a),
    SYS_socketpair => socket::socketpair(t, a),
    SYS_bind => socket::bind(t, a),
    SYS_listen => socket::listen(t, a),
    SYS_accept => socket::accept4(t, a, 0),
    SYS_accept4 => socket::accept4(t, a, a[3]),
    SYS_connect => socket::connect(t, a),
    SYS_getsockname => socket::getname(t, a, false),
    SYS_getpeername => socket::getname(t, a, true),
    SYS_sendto => socket::sendto(t, a),
    SYS_recvfrom => socket::recvfrom(t, a),
    SYS_sendmsg => socket::sendmsg(t, a),
    SYS_recvmsg => socket::recvmsg(t, a),
    SYS_sendmmsg => socket::sendmmsg(t, a),
    SYS_recvmmsg => socket::recvmmsg(t, a),
    SYS_shutdown => socket::shutdown(t, a),
    SYS_setsockopt => socket::setsockopt(t, a),
    SYS_getsockopt => socket::getsockopt(t, a),
    SYS_ftruncate => path::ftruncate(t, a),
    SYS_sendfile => splice::sendfile(t, a),
    SYS_splice => splice::splice(t, a),
    SYS_tee => splice::tee(t, a),
    SYS_copy_file_range => splice::copy_file_range(t, a),
    SYS_fallocate => splice::fallocate(t, a),
    SYS_sync_file_range => splice::sync_file_range(t, a),
    SYS_readahead => splice::readahead(t, a),
    SYS_fsync => path::fsync(t, a),
    SYS_fdatasync => path::fdatasync(t, a),
    SYS_syncfs => path::fsync(t, a),
    SYS_sync => Ok(0),
    SYS_fchmod => path::fchmod(t, a),
    SYS_fchown => path::fchown(t, a),
    SYS_statfs => path::statfs(t, a),
    SYS_fstatfs => path::fstatfs(t, a),
    SYS_mmap => memory::mmap(t, a),
    SYS_munmap => memory::munmap(t, a),
    SYS_mprotect => memory::mprotect(t, a),
    SYS_brk => memory::brk(t, a),
    SYS_madvise => memory::madvise(t, a),
    SYS_mremap => memory::mremap(t, a),
    SYS_msync => memory::msync(t, a),
    SYS_mincore => memory::mincore(t, a),
    SYS_mlock => memory::mlock(t, a),
    SYS_munlock => memory::mlock(t, a),
    SYS_mlock2 => memory::mlock2(t, a),
    SYS_mlockall => {
        // MCL_CURRENT | MCL_FUTURE, optionally with MCL_ONFAULT.
        if a[0] & !7 != 0 || a[0] & 3 == 0 {
            Err(Errno::EINVAL)
        } else {
            Ok(0)
        }
    },
    SYS_setdomainname => misc::setdomainname(t, a),
    SYS_munlockall => Ok(0),
    SYS_exit => process::exit(t, a, false),
    SYS_exit_group => process::exit(t, a, true),
    SYS_getpid => Ok(t.tg.tgid as u64),
    SYS_gettid => Ok(t.tid as u64),
    SYS_getppid => process::getppid(t),
    SYS_clone => process::clone(t, a[0], a[1], a[2], a[3], a[4]),
    SYS_fork => process::clone(t, libc::SIGCHLD as u64, 0, 0, 0, 0),
    SYS_vfork => process::clone(t, (libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD) as u64, 0, 0, 0, 0),
    SYS_wait4 => process::wait4(t, a),
    SYS_execve => process::execve(t, libc::AT_FDCWD as u64, a[0], a[1], a[2], 0),
    SYS_execveat => process::execve(t, a[0], a[1], a[2], a[3], a[4]),
    SYS_set_tid_address => process::set_tid_address(t, a),
    SYS_set_robust_list => process::set_robust_list(t, a),
    SYS_get_robust_list => process::get_robust_list(t, a),
    SYS_arch_prctl => process::arch_prctl(t, a),
    SYS_prctl => process::prctl(t, a),
    SYS_getpgid => process::getpgid(t, a),
    SYS_getpgrp => process::getpgid(t, [0; 6]),
    SYS_setpgid => process::setpgid(t, a),
    SYS_getsid => process::getsid(t, a),
    SYS_setsid => process::setsid(t),
    SYS_prlimit64 => process::prlimit64(t, a),
    SYS_getrlimit => process::prlimit64(t, [0, a[0], 0, a[1], 0, 0]),
    SYS_setrlimit => process::prlimit64(t, [0, a[0], a[1], 0, 0, 0]),
    SYS_kill => signal::kill(t, a),
    SYS_tgkill => signal::tgkill(t, a[0] as i32, a[1] as i32, a[2] as i32),
    SYS_tkill => signal::tgkill(t, -1, a[0] as i32, a[1] as i32),
    SYS_rt_sigaction => signal::rt_sigaction(t, a),
    SYS_rt_sigprocmask => signal::rt_sigprocmask(t, a),
    SYS_sigaltstack => signal::sigaltstack(t, a),
    SYS_rt_sigreturn => signal::rt_sigreturn(t),
    SYS_rt_sigsuspend => signal::rt_sigsuspend(t, a),
    SYS_rt_sigpending => signal::rt_sigpending(t, a),
    SYS_pause => signal::pause(t),
    SYS_rt_sigqueueinfo => signal::sigqueueinfo(t, a[0] as i32, None, a[1] as i32, a[2]),
    SYS_rt_tgsigqueueinfo => signal::sigqueueinfo(t, a[0] as i32, Some(a[1] as i32), a[2] as i32, a[3]),
    SYS_rt_sigtimedwait => signal::rt_sigtimedwait(t, a),
    SYS_futex => futex::futex(t, a),
    SYS_poll => poll::poll(t, a),
    SYS_ppoll => poll::ppoll(t, a),
    SYS_select => poll::select(t, a),
    SYS_pselect6 => poll::pselect6(t, a),
    SYS_epoll_create => epoll::epoll_create(t, a),
    SYS_epoll_create1 => epoll::epoll_create1(t, a),
    SYS_epoll_ctl => epoll::epoll_ctl(t, a),
    SYS_epoll_wait => epoll::epoll_wait(t, a),
    SYS_epoll_pwait => epoll::epoll_pwait(t, a),
    SYS_epoll_pwait2 => epoll::epoll_pwait2(t, a),
    SYS_eventfd => fdkinds::eventfd2(t, a[0], 0),
    SYS_eventfd2 => fdkinds::eventfd2(t, a[0], a[1]),
    SYS_timerfd_create => fdkinds::timerfd_create(t, a),
    SYS_timerfd_settime => fdkinds::timerfd_settime(t, a),
    SYS_timerfd_gettime => fdkinds::timerfd_gettime(t, a),
    SYS_signalfd => fdkinds::signalfd4(t, a[0], a[1], a[2], 0),
    SYS_signalfd4 => fdkinds::signalfd4(t, a[0], a[1], a[2], a[3]),
    SYS_inotify_init => inotify::inotify_init1(t, 0),
    SYS_inotify_init1 => inotify::inotify_init1(t, a[0]),
    SYS_inotify_add_watch => inotify::inotify_add_watch(t, a),
    SYS_inotify_rm_watch => inotify::inotify_rm_watch(t, a),
    SYS_rseq => Err(Errno::ENOSYS),
    SYS_uname => misc::uname(t, a),
    SYS_sethostname => misc::sethostname(t, a),
    SYS_getuid => Ok(t.creds.ruid as u64),
    SYS_geteuid => Ok(t.creds.euid as u64),
    SYS_getgid => Ok(t.creds.rgid as u64),
    SYS_getegid => Ok(t.creds.egid as u64),
    SYS_getresuid => creds::getresuid(t, a, false),
    SYS_getresgid => creds::getresuid(t, a, true),
    SYS_setuid => creds::setid(t, a[0] as u32, false),
    SYS_setgid => creds::setid(t, a[0] as u32, true),
    SYS_setreuid => creds::setre(t, a[0] as u32, a[1] as u32, false),
    SYS_setregid => creds::setre(t, a[0] as u32, a[1] as u32, true),
    SYS_setresuid => creds::setres(t, a[0] as u32, a[1] as u32, a[2] as u32, false),
    SYS_setresgid => creds::setres(t, a[0] as u32, a[1] as u32, a[2] as u32, true),
    SYS_setfsuid => creds::setfs(t, a[0] as u32, false),
    SYS_setfsgid => creds::setfs(t, a[0] as u32, true),
    SYS_getgroups => creds::getgroups(t, a),
    SYS_setgroups => creds::setgroups(t, a),
    SYS_capget => caps::capget(t, a),
    SYS_capset => caps::capset(t, a),
    SYS_alarm => timer::alarm(t, a),
    SYS_getitimer => timer::getitimer(t, a),
    SYS_setitimer => timer::setitimer(t, a),
    SYS_timer_create => posix_timer::timer_create(t, a),
    SYS_timer_settime => posix_timer::timer_settime(t, a),
    SYS_timer_gettime => posix_timer::timer_gettime(t, a),
    SYS_timer_getoverrun => posix_timer::timer_getoverrun(t, a),
    SYS_timer_delete => posix_timer::timer_delete(t, a),
    SYS_waitid => process::waitid(t, a),
    SYS_clone3 => process::clone3(t, a),
    SYS_pidfd_open => process::pidfd_open(t, a),
    SYS_pidfd_send_signal => process::pidfd_send_signal(t, a),
    SYS_umask => misc::umask(t, a),
    SYS_clock_gettime => misc::clock_gettime(t, a),
    SYS_clock_getres => misc::clock_getres(t, a),
    SYS_clock_settime => misc::clock_settime(t, a),
    SYS_settimeofday => Err(Errno::EPERM),
    SYS_gettimeofday => misc::gettimeofday(t, a),
    SYS_time => misc::time(t, a),
    SYS_nanosleep => misc::nanosleep(t, a[0], a[1]),
    SYS_clock_nanosleep => misc::clock_nanosleep(t, a),
    SYS_getrandom => misc::getrandom(t, a),
    SYS_sysinfo => misc::sysinfo(t, a),
    SYS_sched_yield => {
        std::thread::yield_now();
        Ok(0)
    },
    SYS_sched_getaffinity => misc::sched_getaffinity(t, a),
    SYS_sched_setaffinity => misc::sched_setaffinity(t, a),
    SYS_sched_getscheduler => misc::sched_pid(t, a[0]).map(|_| 0),
    SYS_sched_setscheduler => misc::sched_setscheduler(t, a),
    SYS_sched_getparam => misc::sched_getparam(t, a),
    SYS_sched_setparam => misc::sched_setparam(t, a),
    SYS_sched_get_priority_max => misc::sched_priority(a[0], true),
    SYS_sched_get_priority_min => misc::sched_priority(a[0], false),
    SYS_sched_rr_get_interval => misc::sched_rr_get_interval(t, a),
    SYS_getpriority => misc::getpriority(t, a),
    SYS_setpriority => misc::setpriority(t, a),
    SYS_getrusage => misc::getrusage(t, a),
    SYS_times => misc::times(t, a),
    SYS_mq_open => mqueue::mq_open(t, a),
    SYS_mq_unlink => mqueue::mq_unlink(t, a),
    SYS_mq_timedsend => mqueue::mq_timedsend(t, a),
    SYS_mq_timedreceive => mqueue::mq_timedreceive(t, a),
    SYS_mq_notify => mqueue::mq_notify(t, a),
    SYS_mq_getsetattr => mqueue::mq_getsetattr(t, a),
}
