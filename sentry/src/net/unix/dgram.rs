//! Messages with boundaries: SOCK_DGRAM and SOCK_SEQPACKET send and receive
//! (unix_dgram_sendmsg, unix_dgram_recvmsg), and datagram connect/disconnect.

use std::sync::Arc;

use super::sock::{
    drop_in_flight, Message, Sock, SockType, MAX_DGRAM_QLEN, RCV_SHUTDOWN, SEND_SHUTDOWN,
};
use super::{Control, IoFlags, Received, Ucred};
use crate::errno::Errno;

impl Sock {
    /// connect(2) of a datagram socket: `target` becomes the default destination, and only
    /// it may send to us from then on (others get EPERM); EPERM if `target` is connected to
    /// another socket. None disconnects (AF_UNSPEC). Changing peers drops what was queued
    /// for us, as Linux does.
    pub fn connect_dgram(self: &Arc<Self>, target: Option<&Arc<Sock>>) -> Result<(), Errno> {
        if let Some(t) = target {
            self.autobind_for_passcred()?;
            let tst = t.lock();
            if t.is_dead() {
                return Err(Errno(libc::ECONNREFUSED));
            }
            if tst.peer.is_some() && !tst.peer_is(self) {
                return Err(Errno::EPERM);
            }
        }
        let (old, purged) = {
            let mut st = self.lock();
            let old = std::mem::replace(&mut st.peer, target.cloned());
            let changed = match (&old, target) {
                (Some(o), Some(t)) => !Arc::ptr_eq(o, t),
                (Some(_), None) => true,
                _ => false,
            };
            let purged = if changed && !st.queue.is_empty() {
                Some(st.purge())
            } else {
                None
            };
            (old.filter(|_| changed), purged)
        };
        if let Some(q) = purged {
            drop_in_flight(q);
            self.changed();
            // The old peer loses what it sent us: it learns so if it was connected to us.
            if let Some(o) = &old {
                if !o.is_dead() && o.lock().peer_is(self) {
                    o.set_error(libc::ECONNRESET);
                }
            }
        }
        Ok(())
    }

    /// Forgets `gone` as our peer if it still is (a send found it closed), dropping what was
    /// queued for us, as Linux's unix_dgram_disconnected; false if it was not our peer.
    fn drop_dead_peer(&self, gone: &Arc<Sock>) -> bool {
        let purged = {
            let mut st = self.lock();
            if !st.peer.as_ref().is_some_and(|p| Arc::ptr_eq(p, gone)) {
                return false;
            }
            st.peer = None;
            st.purge()
        };
        drop_in_flight(purged);
        self.changed();
        true
    }

    /// Sends one datagram or record, in unix_dgram_sendmsg's order: EMSGSIZE beyond the send
    /// buffer; a pending error, or EPIPE after our SHUT_WR; then the receiver, found by
    /// `lookup` (a datagram socket's address) or our peer (ENOTCONN without one): EPERM if it
    /// is connected elsewhere, ECONNREFUSED (and disconnection) when a datagram peer is gone,
    /// EPIPE when a seqpacket peer is gone or the receiver shut its side down (no SIGPIPE for
    /// these types); a wait for send-buffer room, and while a receiver not connected to us
    /// has a full queue (EAGAIN when nonblocking).
    pub fn dgram_send(
        self: &Arc<Self>,
        data: Vec<u8>,
        ctl: Control,
        me: Ucred,
        lookup: Option<&mut dyn FnMut() -> Result<Arc<Sock>, Errno>>,
        nonblock: bool,
    ) -> Result<usize, Errno> {
        // Declared before any guard, so that unsent files are dropped after the locks.
        let mut rights = Some(ctl.rights);
        if self.ty == SockType::SeqPacket {
            let e = self.take_error();
            if e != 0 {
                return Err(Errno(e));
            }
            if !self.lock().connected {
                return Err(Errno(libc::ENOTCONN));
            }
        }
        self.autobind_for_passcred()?;
        let (from, sndbuf, timeo, passcred) = {
            let st = self.lock();
            let o = &st.opts;
            (st.addr.clone(), o.sndbuf, o.sndtimeo, o.passcred)
        };
        if data.len() > sndbuf.saturating_sub(32) {
            return Err(Errno(libc::EMSGSIZE));
        }
        let own_state = || {
            let e = self.take_error();
            if e != 0 {
                return Err(Errno(e));
            }
            if self.shutdown_bits() & SEND_SHUTDOWN != 0 {
                return Err(Errno::EPIPE);
            }
            Ok(())
        };
        own_state()?;
        let addressed = lookup.is_some() && self.ty == SockType::Dgram;
        let target = match lookup {
            Some(find) if addressed => find()?,
            _ => self.lock().peer.clone().ok_or(Errno(libc::ENOTCONN))?,
        };
        let (deadline, timed) = Sock::deadline(timeo);
        let len = data.len();
        let r = target.blocking(|| {
            let mut tst = target.lock();
            loop {
                own_state()?;
                if tst.peer.is_some() && !tst.peer_is(self) {
                    return Err(Errno::EPERM);
                }
                if target.is_dead() {
                    return Err(if self.ty == SockType::SeqPacket {
                        Errno::EPIPE
                    } else {
                        Errno(libc::ECONNREFUSED)
                    });
                }
                if target.shutdown_bits() & RCV_SHUTDOWN != 0 {
                    return Err(Errno::EPIPE);
                }
                let full = !Arc::ptr_eq(&target, self)
                    && !tst.peer_is(self)
                    && tst.queue.len() > MAX_DGRAM_QLEN;
                if self.has_room(sndbuf) && !full {
                    break;
                }
                if nonblock {
                    return Err(Errno::EAGAIN);
                }
                tst = target.wait(tst, deadline, timed)?;
            }
            let creds = tst.creds_for(ctl.creds, me, passcred);
            let m = Message::new(self, data, rights.take().unwrap_or_default(), creds, from);
            tst.push(m);
            drop(tst);
            target.changed();
            Ok(len)
        });
        if r == Err(Errno(libc::ECONNREFUSED)) && !self.drop_dead_peer(&target) && !addressed {
            // The peer we took was replaced meanwhile.
            return Err(Errno(libc::ECONNRESET));
        }
        r
    }

    /// Receives one datagram or record (unix_dgram_recvmsg): ENOTCONN for an unconnected
    /// seqpacket socket; a pending error first; then the next message, cut to `max` (flagged
    /// truncated), or a wait. End of input (0) once the receive side is shut down, except
    /// that a nonblocking datagram receive answers EAGAIN.
    pub fn dgram_recv(self: &Arc<Self>, max: usize, f: IoFlags) -> Result<Received, Errno> {
        let mut taken: Option<Message> = None;
        let r = self.blocking(|| {
            let mut st = self.lock();
            if self.ty == SockType::SeqPacket && !st.connected {
                return Err(Errno(libc::ENOTCONN));
            }
            let (deadline, timed) = Sock::deadline(st.opts.rcvtimeo);
            loop {
                let e = self.take_error();
                if e != 0 {
                    return Err(Errno(e));
                }
                if !st.queue.is_empty() {
                    break;
                }
                let eof = self.shutdown_bits() & RCV_SHUTDOWN != 0;
                if f.nonblock {
                    return if eof && self.ty == SockType::SeqPacket {
                        Ok(Received::default())
                    } else {
                        Err(Errno::EAGAIN)
                    };
                }
                if eof {
                    return Ok(Received::default());
                }
                st = match self.wait(st, deadline, timed) {
                    Ok(g) => g,
                    Err(Errno::EAGAIN)
                        if self.ty == SockType::SeqPacket
                            && self.shutdown_bits() & RCV_SHUTDOWN != 0 =>
                    {
                        return Ok(Received::default())
                    }
                    Err(e) => return Err(e),
                };
            }
            let passcred = st.opts.passcred;
            let mut out = Received::default();
            if f.peek {
                let Some(m) = st.queue.front() else {
                    return Err(Errno::EAGAIN);
                };
                let n = m.data.len().min(max);
                out.data = m.data[..n].to_vec();
                out.rights = m.rights.clone();
                out.truncated = n < m.data.len();
                out.ret = if f.trunc { m.data.len() } else { n };
                out.creds = passcred.then_some(m.creds);
                out.from = m.from.clone();
                return Ok(out);
            }
            let Some(mut m) = st.pop() else {
                return Err(Errno::EAGAIN);
            };
            let full = m.data.len();
            let n = full.min(max);
            out.data = std::mem::take(&mut m.data);
            out.data.truncate(n);
            out.rights = std::mem::take(&mut m.rights);
            out.truncated = n < full;
            out.ret = if f.trunc { full } else { n };
            out.creds = passcred.then_some(m.creds);
            out.from = m.from.take();
            taken = Some(m);
            Ok(out)
        });
        if taken.is_some() {
            drop(taken);
            // Room for senders waiting on our queue.
            self.changed();
        }
        r
    }
}
