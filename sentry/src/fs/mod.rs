//! Files: descriptions, descriptor tables, and the filesystems the Sentry serves.

pub mod dev;
pub mod devpts;
pub mod eventfd;
pub mod fdtable;
pub mod file;
pub mod host;
mod host_write;
pub mod inotify;
pub mod lock;
pub mod merged_dir;
pub mod mqueue;
pub mod overlay;
pub mod perm;
pub mod pidfd;
pub mod pipe;
pub mod procfs;
pub mod resolve;
pub mod signalfd;
pub mod sysfs;
pub mod timerfd;
pub mod tmpfs;
pub mod vfs;

pub use fdtable::FdTable;
pub use file::{FileOps, OpenFile, Stat};
