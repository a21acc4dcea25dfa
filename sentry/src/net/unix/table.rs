//! Every AF_UNIX socket of the sandbox, for /proc/net/unix.

use std::sync::{Arc, Mutex, Weak};

use super::addr::Addr;
use super::sock::{Sock, SockType};

/// The sockets made so far (the dead ones are dropped now and then).
static SOCKETS: Mutex<Vec<Weak<Sock>>> = Mutex::new(Vec::new());

/// Counts `s` among the sandbox's sockets.
pub(super) fn register(s: &Arc<Sock>) {
    let mut v = SOCKETS.lock().unwrap_or_else(|e| e.into_inner());
    // Amortized: sweep when the list has doubled since the last sweep would leave it.
    if v.len() >= 64 && v.len().is_power_of_two() {
        v.retain(|w| w.strong_count() > 0);
    }
    v.push(Arc::downgrade(s));
}

/// /proc/net/unix: one line per open socket, as Linux prints them (no kernel address).
pub fn proc_net_unix() -> String {
    const SO_ACCEPTCON: u32 = 1 << 16;
    const SS_UNCONNECTED: u32 = 1;
    const SS_CONNECTING: u32 = 2;
    const SS_CONNECTED: u32 = 3;
    let live: Vec<Arc<Sock>> = {
        let mut v = SOCKETS.lock().unwrap_or_else(|e| e.into_inner());
        v.retain(|w| w.strong_count() > 0);
        v.iter().filter_map(Weak::upgrade).collect()
    };
    let mut out = String::from("Num       RefCount Protocol Flags    Type St Inode Path\n");
    for s in live {
        if s.is_dead() {
            continue;
        }
        let ty = match s.ty {
            SockType::Stream => libc::SOCK_STREAM,
            SockType::Dgram => libc::SOCK_DGRAM,
            SockType::SeqPacket => libc::SOCK_SEQPACKET,
        } as u32;
        let st = s.lock();
        let flags = if st.listening() { SO_ACCEPTCON } else { 0 };
        let state = if st.connected || (st.peer.is_some() && s.ty == SockType::Dgram) {
            SS_CONNECTED
        } else if st.connecting {
            SS_CONNECTING
        } else {
            SS_UNCONNECTED
        };
        let path = match &st.addr {
            Some(Addr::Path(p)) => Some(String::from_utf8_lossy(p).into_owned()),
            Some(Addr::Abstract(n)) => Some(
                std::iter::once('@')
                    .chain(n.iter().map(|&b| if b == 0 { '@' } else { b as char }))
                    .collect(),
            ),
            None => None,
        };
        drop(st);
        out.push_str(&format!(
            "0000000000000000: {:08X} {:08X} {flags:08X} {ty:04X} {state:02X} {:5}",
            2, 0, s.ino
        ));
        if let Some(p) = path {
            out.push(' ');
            out.push_str(&p);
        }
        out.push('\n');
    }
    out
}
