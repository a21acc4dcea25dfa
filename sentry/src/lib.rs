//! The Sentry: rvisor's Linux-compatible kernel in user space.

pub mod confine;
pub mod errno;
pub mod fs;
pub mod kernel;
pub mod loader;
pub mod mm;
pub mod net;
pub mod sandbox;
pub mod syscalls;
