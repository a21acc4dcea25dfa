//! Linux error numbers as the application sees them.

/// An errno value (positive).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Errno(pub i32);

/// What a syscall handler returns: the value for rax, or an errno (returned as `-errno`).
pub type SysResult = Result<u64, Errno>;

macro_rules! errnos {
    ($($name:ident),* $(,)?) => {
        impl Errno {
            $(
                #[allow(missing_docs)]
                pub const $name: Errno = Errno(libc::$name);
            )*
        }
    };
}

errnos!(
    EPERM,
    ENOENT,
    ESRCH,
    EINTR,
    EIO,
    ENXIO,
    E2BIG,
    ENOEXEC,
    EBADF,
    ECHILD,
    EAGAIN,
    ENOMEM,
    EACCES,
    EFAULT,
    EBUSY,
    EEXIST,
    EXDEV,
    ENODEV,
    ENOTDIR,
    EISDIR,
    EINVAL,
    ENFILE,
    EMFILE,
    ENOTTY,
    EFBIG,
    ENOSPC,
    ESPIPE,
    EROFS,
    EMLINK,
    EPIPE,
    ERANGE,
    ENAMETOOLONG,
    ENOSYS,
    ENOTEMPTY,
    ELOOP,
    ENODATA,
    ELIBBAD,
    EOVERFLOW,
    ETIMEDOUT,
    EOPNOTSUPP,
);

impl Errno {
    /// Internal: a blocking syscall was interrupted by a signal; restarted if the handler
    /// asks for SA_RESTART, else EINTR. Never reaches the application.
    pub const ERESTARTSYS: Errno = Errno(512);

    /// Returned in rax: `-errno` as u64.
    pub fn as_rax(self) -> u64 {
        (-(self.0 as i64)) as u64
    }
}

impl From<std::io::Error> for Errno {
    fn from(e: std::io::Error) -> Self {
        Errno(e.raw_os_error().unwrap_or(libc::EIO))
    }
}
