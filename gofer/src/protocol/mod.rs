//! The gofer's wire protocol.
//!
//! Transport: a unix `SOCK_SEQPACKET` socket; one message is one packet. A message is a
//! 12-byte header followed by a body, all integers little-endian:
//!
//! ```text
//! u32 len    the whole message, header included; must equal the packet's length
//! u32 tag    chosen by the client, echoed in the reply
//! u16 op     the operation (see `Op`), echoed in the reply
//! u16 zero   reserved, must be 0
//! ```
//!
//! A request's body holds the operation's fields. A reply's body starts with a `u32` Linux
//! errno (0 for success) and, on success only, the operation's result fields. A host file
//! descriptor (open, create) travels beside the reply in an `SCM_RIGHTS` message; requests
//! never carry one.
//!
//! Field encodings: byte strings are a `u16` (names, targets) or `u32` (xattr values) length
//! then the bytes; lists are a `u32` count then the items. Every field has a hard limit
//! (constants below) and a message is at most [`MAX_MESSAGE`] bytes. Decoding checks every
//! length against what is left and every limit, rejects unknown operations, flag bits and
//! trailing bytes, and never panics.

use thiserror::Error;

mod codec;
mod reply;
mod request;

pub use reply::{carries_fd, decode_reply, encode_reply};

/// Largest message, header included.
pub const MAX_MESSAGE: usize = 64 * 1024;
/// Bytes of the message header.
pub const HEADER_LEN: usize = 12;
/// Longest path component.
pub const MAX_NAME: usize = 255;
/// Most components in one walk.
pub const MAX_WALK: usize = 255;
/// Longest symlink target (PATH_MAX without its NUL).
pub const MAX_SYMLINK_TARGET: usize = 4095;
/// Longest extended attribute name, `user.` included.
pub const MAX_XATTR_NAME: usize = 255;
/// Largest extended attribute value carried (Linux allows 64 KiB; bigger ones get E2BIG).
pub const MAX_XATTR_VALUE: usize = 60 * 1024;
/// Most node ids closed by one request.
pub const MAX_CLOSE: usize = 4096;
/// Most bytes of host directory entries read by one getdents.
pub const MAX_GETDENTS: u32 = 32 * 1024;

/// A node: a file the server holds open (`O_PATH`) for the client.
pub type NodeId = u64;
/// The root node; always open, never closed.
pub const ROOT: NodeId = 0;
/// An owner id meaning "leave as created".
pub const KEEP_ID: u32 = u32::MAX;

/// A Linux errno, always in 1..=4095.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Errno(pub i32);

impl Errno {
    /// The errno of the last failed libc call (EIO if there is none).
    pub fn last() -> Errno {
        Errno::from(std::io::Error::last_os_error())
    }
}

impl From<std::io::Error> for Errno {
    fn from(e: std::io::Error) -> Errno {
        match e.raw_os_error() {
            Some(n) if (1..=4095).contains(&n) => Errno(n),
            _ => Errno(libc::EIO),
        }
    }
}

impl std::fmt::Display for Errno {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", std::io::Error::from_raw_os_error(self.0))
    }
}

impl std::error::Error for Errno {}

/// A message that breaks the protocol.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum ProtocolError {
    /// Shorter than a header.
    #[error("message of {0} bytes is shorter than a header")]
    Short(usize),
    /// Longer than [`MAX_MESSAGE`].
    #[error("message exceeds the {MAX_MESSAGE}-byte limit")]
    TooLong,
    /// The header's length is not the packet's.
    #[error("header says {header} bytes, the packet holds {actual}")]
    LengthMismatch {
        /// From the header.
        header: usize,
        /// Received.
        actual: usize,
    },
    /// An operation number nobody knows.
    #[error("unknown operation {0}")]
    UnknownOp(u16),
    /// Reserved header bits set.
    #[error("reserved header field is {0}, not 0")]
    Reserved(u16),
    /// The body ended inside a field.
    #[error("message truncated in {0}")]
    Truncated(&'static str),
    /// Bytes after the last field.
    #[error("{0} bytes after the last field")]
    Trailing(usize),
    /// A field over its limit.
    #[error("{field} has {len} items/bytes, the limit is {max}")]
    TooBig {
        /// Which field.
        field: &'static str,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A field with a value the protocol does not allow.
    #[error("invalid {0}")]
    Invalid(&'static str),
    /// File descriptors where none belong, or none where one does.
    #[error("file descriptor count {0} does not fit the message")]
    Fds(usize),
    /// A reply that does not answer the request in flight.
    #[error("reply (tag {tag}, op {op}) does not answer the request in flight")]
    Unexpected {
        /// Its tag.
        tag: u32,
        /// Its op.
        op: u16,
    },
}

pub(crate) type PResult<T> = Result<T, ProtocolError>;

/// A path component: 1..=255 bytes, no `/` or NUL, not `.` or `..`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Name(Vec<u8>);

impl Name {
    /// Checks `bytes` as a path component.
    pub fn new(bytes: impl Into<Vec<u8>>) -> PResult<Name> {
        let b = bytes.into();
        check_name(&b, MAX_NAME, "name")?;
        if b == b"." || b == b".." {
            return Err(ProtocolError::Invalid("name (. or ..)"));
        }
        Ok(Name(b))
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(&self.0))
    }
}

pub(crate) fn check_name(b: &[u8], max: usize, field: &'static str) -> PResult<()> {
    if b.is_empty() {
        return Err(ProtocolError::Invalid(field));
    }
    if b.len() > max {
        return Err(ProtocolError::TooBig {
            field,
            len: b.len(),
            max,
        });
    }
    if b.iter().any(|&c| c == b'/' || c == 0) {
        return Err(ProtocolError::Invalid(field));
    }
    Ok(())
}

pub(crate) fn check_len(field: &'static str, len: usize, max: usize) -> PResult<()> {
    if len > max {
        return Err(ProtocolError::TooBig { field, len, max });
    }
    Ok(())
}

pub(crate) fn check_xattr_name(b: &[u8]) -> PResult<()> {
    if b.is_empty() || b.contains(&0) {
        return Err(ProtocolError::Invalid("xattr name"));
    }
    check_len("xattr name", b.len(), MAX_XATTR_NAME)
}

pub(crate) fn check_target(b: &[u8]) -> PResult<()> {
    if b.is_empty() || b.contains(&0) {
        return Err(ProtocolError::Invalid("symlink target"));
    }
    check_len("symlink target", b.len(), MAX_SYMLINK_TARGET)
}

/// A time stamp.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timespec {
    /// Seconds since the epoch.
    pub sec: i64,
    /// Nanoseconds, below 1e9.
    pub nsec: u32,
}

/// A file's status, as `stat(2)` reports it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct Stat {
    pub dev: u64,
    pub ino: u64,
    pub nlink: u64,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub rdev: u64,
    pub size: i64,
    pub blksize: i64,
    pub blocks: i64,
    pub atime: Timespec,
    pub mtime: Timespec,
    pub ctime: Timespec,
}

impl Stat {
    /// The `S_IFMT` bits.
    pub fn file_type(&self) -> u32 {
        self.mode & libc::S_IFMT
    }
    /// A directory?
    pub fn is_dir(&self) -> bool {
        self.file_type() == libc::S_IFDIR
    }
    /// A symlink?
    pub fn is_symlink(&self) -> bool {
        self.file_type() == libc::S_IFLNK
    }
}

impl From<&libc::stat> for Stat {
    fn from(s: &libc::stat) -> Stat {
        let ts = |sec: i64, nsec: i64| Timespec {
            sec,
            nsec: nsec.clamp(0, 999_999_999) as u32,
        };
        Stat {
            dev: s.st_dev,
            ino: s.st_ino,
            nlink: s.st_nlink,
            mode: s.st_mode,
            uid: s.st_uid,
            gid: s.st_gid,
            rdev: s.st_rdev,
            size: s.st_size,
            blksize: s.st_blksize,
            blocks: s.st_blocks,
            atime: ts(s.st_atime, s.st_atime_nsec),
            mtime: ts(s.st_mtime, s.st_mtime_nsec),
            ctime: ts(s.st_ctime, s.st_ctime_nsec),
        }
    }
}

/// A filesystem's status, as `statfs(2)` reports it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct StatFs {
    pub fs_type: u64,
    pub bsize: u64,
    pub blocks: u64,
    pub bfree: u64,
    pub bavail: u64,
    pub files: u64,
    pub ffree: u64,
    pub fsid: u64,
    pub namelen: u64,
    pub frsize: u64,
    pub flags: u64,
}

/// One directory entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dirent {
    /// Inode number.
    pub ino: u64,
    /// The offset to pass to read on after this entry.
    pub off: u64,
    /// `DT_*`.
    pub d_type: u8,
    /// The name (`.` and `..` included, never `/` or NUL).
    pub name: Vec<u8>,
}

/// Owner given to a new file; [`KEEP_ID`] keeps the gofer's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Owner {
    /// User id.
    pub uid: u32,
    /// Group id.
    pub gid: u32,
}

impl Owner {
    /// Leave the owner as the host creates it.
    pub const KEEP: Owner = Owner {
        uid: KEEP_ID,
        gid: KEEP_ID,
    };
}

/// A time to set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetTime {
    /// The current time.
    Now,
    /// This time.
    At(Timespec),
}

/// Attributes to change; `None` leaves one alone.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SetAttr {
    /// Permission bits (`0o7777` at most).
    pub mode: Option<u32>,
    /// Owner.
    pub uid: Option<u32>,
    /// Group.
    pub gid: Option<u32>,
    /// Length (regular files).
    pub size: Option<u64>,
    /// Access time.
    pub atime: Option<SetTime>,
    /// Modification time.
    pub mtime: Option<SetTime>,
}

/// `renameat2` flags accepted.
pub const RENAME_FLAGS: u32 = libc::RENAME_NOREPLACE | libc::RENAME_EXCHANGE;
/// `setxattr` flags accepted.
pub const XATTR_FLAGS: u32 = (libc::XATTR_CREATE | libc::XATTR_REPLACE) as u32;
/// The kernel's `O_LARGEFILE` (libc calls it 0 on 64-bit targets); accepted and ignored.
pub const O_LARGEFILE: i32 = 0o100000;
/// `open` flags accepted besides the access mode.
pub const OPEN_FLAGS: u32 = (libc::O_APPEND
    | libc::O_TRUNC
    | libc::O_NONBLOCK
    | libc::O_DSYNC
    | libc::O_SYNC
    | libc::O_DIRECT
    | libc::O_NOATIME
    | O_LARGEFILE
    | libc::O_DIRECTORY
    | libc::O_CLOEXEC
    | libc::O_NOCTTY) as u32;

macro_rules! ops {
    ($($name:ident = $n:literal),* $(,)?) => {
        /// The operations.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(u16)]
        #[allow(missing_docs)]
        pub enum Op { $($name = $n),* }

        impl Op {
            /// The operation numbered `n`.
            pub fn from_u16(n: u16) -> PResult<Op> {
                match n {
                    $($n => Ok(Op::$name),)*
                    _ => Err(ProtocolError::UnknownOp(n)),
                }
            }
        }
    };
}

ops! {
    Walk = 1, Stat = 2, Open = 3, Readlink = 4, Getdents = 5, Create = 6, Mkdir = 7,
    Mknod = 8, Symlink = 9, Link = 10, Unlink = 11, Rename = 12, Setattr = 13, Statfs = 14,
    Fsync = 15, Getxattr = 16, Setxattr = 17, Listxattr = 18, Removexattr = 19, Close = 20,
}

/// A request.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Request {
    /// Resolve `names` one by one from the directory `node`; stops after a symlink.
    Walk {
        node: NodeId,
        names: Vec<Name>,
    },
    Stat {
        node: NodeId,
    },
    /// Open for I/O (`O_ACCMODE` | [`OPEN_FLAGS`]); the descriptor is donated.
    Open {
        node: NodeId,
        flags: u32,
    },
    Readlink {
        node: NodeId,
    },
    /// Entries from `offset` (0: the start), at most `max_bytes` of host dirents.
    Getdents {
        node: NodeId,
        offset: u64,
        max_bytes: u32,
    },
    /// Create and open a regular file (always exclusive); the descriptor is donated.
    Create {
        dir: NodeId,
        name: Name,
        flags: u32,
        mode: u32,
        owner: Owner,
    },
    Mkdir {
        dir: NodeId,
        name: Name,
        mode: u32,
        owner: Owner,
    },
    /// Regular files, fifos and sockets only.
    Mknod {
        dir: NodeId,
        name: Name,
        mode: u32,
        owner: Owner,
    },
    Symlink {
        dir: NodeId,
        name: Name,
        target: Vec<u8>,
        owner: Owner,
    },
    /// A new name in `dir` for the file `target`.
    Link {
        dir: NodeId,
        name: Name,
        target: NodeId,
    },
    /// `flags`: 0 or `AT_REMOVEDIR`.
    Unlink {
        dir: NodeId,
        name: Name,
        flags: u32,
    },
    Rename {
        old_dir: NodeId,
        old_name: Name,
        new_dir: NodeId,
        new_name: Name,
        flags: u32,
    },
    Setattr {
        node: NodeId,
        attr: SetAttr,
    },
    Statfs {
        node: NodeId,
    },
    Fsync {
        node: NodeId,
        datasync: bool,
    },
    Getxattr {
        node: NodeId,
        name: Vec<u8>,
    },
    Setxattr {
        node: NodeId,
        name: Vec<u8>,
        value: Vec<u8>,
        flags: u32,
    },
    Listxattr {
        node: NodeId,
    },
    Removexattr {
        node: NodeId,
        name: Vec<u8>,
    },
    /// Forget nodes.
    Close {
        nodes: Vec<NodeId>,
    },
}

/// A successful reply's fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// Walk: a node and status per component resolved; `error` tells why it stopped short
    /// (`None` if it resolved everything or stopped at a symlink, the last entry).
    Walk {
        /// Resolved components.
        entries: Vec<(NodeId, Stat)>,
        /// Why the next component failed.
        error: Option<Errno>,
    },
    /// Stat, Setattr (the status after the change).
    Stat(Stat),
    /// Open: the descriptor rides along; nothing else.
    Opened,
    /// Readlink.
    Target(Vec<u8>),
    /// Getdents (empty at the end).
    Dirents(Vec<Dirent>),
    /// Create (its descriptor rides along), Mkdir, Mknod, Symlink, Link.
    Node(NodeId, Stat),
    /// Unlink, Rename, Fsync, Setxattr, Removexattr, Close.
    Done,
    /// Statfs.
    StatFs(StatFs),
    /// Getxattr.
    Value(Vec<u8>),
    /// Listxattr.
    Names(Vec<Vec<u8>>),
}
