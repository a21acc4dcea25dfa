//! Sockets. AF_UNIX lives entirely inside the Sentry (`unix`); AF_INET and AF_INET6 come with
//! the netstack, and until then socket(2) answers EAFNOSUPPORT for them.

pub mod unix;
