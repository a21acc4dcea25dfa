//! The platform's error type.

use std::io;

/// What can go wrong running application code.
#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    /// A host system call failed.
    #[error("{what}: {source}")]
    Host {
        /// What the platform was doing.
        what: &'static str,
        /// The host's error.
        #[source]
        source: io::Error,
    },
    /// The caller passed an address, length or offset the platform cannot accept.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The stub process (or thread) serving an address space is gone.
    #[error("stub process died: {0}")]
    StubDied(String),
    /// The stub answered something it should not have: the application tampered with it.
    #[error("stub protocol violation: {0}")]
    Protocol(String),
    /// The platform cannot run on this host.
    #[error("platform unavailable: {0}")]
    Unavailable(String),
    /// Out of a bounded resource (threads per address space, memory file space).
    #[error("resource exhausted: {0}")]
    Exhausted(&'static str),
    /// Building a seccomp filter failed.
    #[error("seccomp filter: {0}")]
    Filter(String),
}

impl PlatformError {
    /// The last OS error, labelled.
    pub(crate) fn last_os(what: &'static str) -> Self {
        PlatformError::Host {
            what,
            source: io::Error::last_os_error(),
        }
    }
}
