//! syscall-tests
