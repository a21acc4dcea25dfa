//! Connections: listen, connect, accept (stream and seqpacket), and the byte stream of
//! SOCK_STREAM (unix_stream_sendmsg and unix_stream_read_generic).

use std::collections::VecDeque;
use std::sync::Arc;

use super::sock::{Listen, Message, Sock, SockType, RCV_SHUTDOWN, SEND_SHUTDOWN};
use super::{Control, IoFlags, Received, Ucred};
use crate::errno::Errno;

/// The most data one stream message carries (Linux keeps a message within half the send
/// buffer and an order-3 allocation).
const STREAM_CHUNK: usize = 32768 + 3776;

impl Sock {
    /// listen(2): EOPNOTSUPP for datagram sockets, EINVAL unless named and neither connected
    /// nor connecting. Listening again changes the backlog. The listener's credentials are
    /// what its clients' SO_PEERCRED reports. `backlog` is already capped at somaxconn.
    pub fn listen(&self, backlog: usize, cred: Ucred) -> Result<(), Errno> {
        if self.ty == SockType::Dgram {
            return Err(Errno::EOPNOTSUPP);
        }
        let mut st = self.lock();
        if st.addr.is_none() || st.connected || st.connecting {
            return Err(Errno::EINVAL);
        }
        match &mut st.listen {
            Some(l) => l.backlog = backlog,
            None => {
                st.listen = Some(Listen {
                    backlog,
                    pending: VecDeque::new(),
                })
            }
        }
        st.peercred = Some(cred);
        drop(st);
        self.changed();
        Ok(())
    }

    /// Whether `target` refuses connections now: gone, not listening, or shut down.
    fn refuses(target: &Sock, st: &super::sock::State) -> bool {
        target.is_dead() || !st.listening() || target.shutdown_bits() & RCV_SHUTDOWN != 0
    }

    /// connect(2) of a stream or seqpacket socket to `target` (found by the caller from the
    /// address): ECONNREFUSED unless it listens, EAGAIN (nonblocking) or a wait while its
    /// backlog is full, then EISCONN if we are connected, EINVAL if we listen. The new
    /// connection's server side waits in the target's backlog, already able to receive.
    pub fn connect_stream(
        self: &Arc<Self>,
        target: &Arc<Sock>,
        cred: Ucred,
        nonblock: bool,
    ) -> Result<(), Errno> {
        self.autobind_for_passcred()?;
        let (deadline, timed) = Sock::deadline(self.lock().opts.sndtimeo);
        target.blocking(|| loop {
            let mut tst = target.lock();
            loop {
                if Sock::refuses(target, &tst) {
                    return Err(Errno(libc::ECONNREFUSED));
                }
                let full = tst
                    .listen
                    .as_ref()
                    .is_some_and(|l| l.pending.len() > l.backlog);
                if !full {
                    break;
                }
                if nonblock {
                    return Err(Errno::EAGAIN);
                }
                tst = target.wait(tst, deadline, timed)?;
            }
            drop(tst);
            // Our own state, checked and claimed without holding the target's lock.
            {
                let mut st = self.lock();
                if st.connected {
                    return Err(Errno(libc::EISCONN));
                }
                if st.listening() || st.connecting || self.is_dead() {
                    return Err(Errno::EINVAL);
                }
                st.connecting = true;
            }
            let mut tst = target.lock();
            let full = tst
                .listen
                .as_ref()
                .is_some_and(|l| l.pending.len() > l.backlog);
            if Sock::refuses(target, &tst) || full {
                drop(tst);
                self.lock().connecting = false;
                continue;
            }
            let server = Sock::new(self.ty, self.names.clone());
            {
                let mut sst = server.lock();
                sst.connected = true;
                sst.peer = Some(self.clone());
                sst.addr = tst.addr.clone();
                sst.peercred = Some(cred);
                sst.embryo = true;
                // As Linux, the new socket takes the listener's SO_PASSCRED now.
                sst.opts.passcred = tst.opts.passcred;
            }
            let listener_cred = tst.peercred;
            if let Some(l) = tst.listen.as_mut() {
                l.pending.push_back(server.clone());
            }
            drop(tst);
            target.changed();
            let mut st = self.lock();
            st.connecting = false;
            st.connected = true;
            st.peer = Some(server);
            st.peercred = listener_cred;
            drop(st);
            self.changed();
            return Ok(());
        })
    }

    /// accept(2): the next connection from the backlog; EOPNOTSUPP for datagram sockets,
    /// EINVAL unless listening, EAGAIN when none is pending and `nonblock`.
    pub fn accept(self: &Arc<Self>, nonblock: bool) -> Result<Arc<Sock>, Errno> {
        if self.ty == SockType::Dgram {
            return Err(Errno::EOPNOTSUPP);
        }
        let (deadline, timed) = Sock::deadline(self.lock().opts.rcvtimeo);
        let server = self.blocking(|| {
            let mut st = self.lock();
            loop {
                let Some(l) = st.listen.as_mut() else {
                    return Err(Errno::EINVAL);
                };
                if let Some(s) = l.pending.pop_front() {
                    return Ok(s);
                }
                if nonblock {
                    return Err(Errno::EAGAIN);
                }
                if self.shutdown_bits() & RCV_SHUTDOWN != 0 {
                    return Err(Errno::EINVAL);
                }
                st = self.wait(st, deadline, timed)?;
            }
        })?;
        // Room in the backlog for a waiting connect.
        self.changed();
        server.lock().embryo = false;
        Ok(server)
    }

    /// Sends on a connected stream: in messages of at most half the send buffer, each waiting
    /// for room in the send buffer (EAGAIN when nonblocking). EPIPE when either side shut the
    /// direction down or the peer is gone (the caller raises SIGPIPE); after some data was
    /// sent, an error or a signal ends the call with the count.
    pub fn stream_send(
        self: &Arc<Self>,
        data: &[u8],
        ctl: Control,
        me: Ucred,
        nonblock: bool,
    ) -> Result<usize, Errno> {
        // Declared before any guard, so that unsent files are dropped after the locks.
        let mut rights = Some(ctl.rights);
        let (peer, from, sndbuf, timeo, passcred) = {
            let st = self.lock();
            let peer = st.peer.clone().ok_or(Errno(libc::ENOTCONN))?;
            let o = &st.opts;
            (peer, st.addr.clone(), o.sndbuf, o.sndtimeo, o.passcred)
        };
        if self.shutdown_bits() & SEND_SHUTDOWN != 0 {
            return Err(Errno::EPIPE);
        }
        let (deadline, timed) = Sock::deadline(timeo);
        let chunk = (sndbuf / 2).saturating_sub(64).clamp(1, STREAM_CHUNK);
        let mut sent = 0;
        let r = peer.blocking(|| {
            while sent < data.len() {
                let mut pst = peer.lock();
                loop {
                    let e = self.take_error();
                    if e != 0 {
                        return Err(Errno(e));
                    }
                    if self.shutdown_bits() & SEND_SHUTDOWN != 0 {
                        return Err(Errno::EPIPE);
                    }
                    if self.has_room(sndbuf) {
                        break;
                    }
                    if nonblock {
                        return Err(Errno::EAGAIN);
                    }
                    pst = peer.wait(pst, deadline, timed)?;
                }
                if peer.is_dead() || peer.shutdown_bits() & RCV_SHUTDOWN != 0 {
                    return Err(Errno::EPIPE);
                }
                let n = chunk.min(data.len() - sent);
                let creds = pst.creds_for(ctl.creds, me, passcred);
                let m = Message::new(
                    self,
                    data[sent..sent + n].to_vec(),
                    rights.take().unwrap_or_default(),
                    creds,
                    from.clone(),
                );
                pst.push(m);
                drop(pst);
                peer.changed();
                sent += n;
            }
            Ok(())
        });
        match r {
            Err(e) if sent == 0 => Err(e),
            _ => Ok(sent),
        }
    }

    /// Receives from a stream (unix_stream_read_generic): EINVAL unless connected. Reads
    /// across messages until `max` bytes (a peek: to the end of the queue), stopping after
    /// one that carried files, and (with SO_PASSCRED) before one from other credentials;
    /// waits until something (with MSG_WAITALL: everything) arrived, or EOF, an error, a
    /// signal or the timeout. The caller drops what it does not install of `rights`.
    pub fn stream_recv(self: &Arc<Self>, max: usize, f: IoFlags) -> Result<Received, Errno> {
        let mut out = Received::default();
        // Messages read to the end, dropped once the lock is released.
        let mut done: Vec<Message> = Vec::new();
        // SO_PASSCRED, and the credentials of what was read.
        let mut passcred = false;
        let mut seen: Option<Ucred> = None;
        let r = self.blocking(|| {
            let mut st = self.lock();
            if !st.connected {
                return Err(Errno::EINVAL);
            }
            passcred = st.opts.passcred;
            let lowat = st.opts.rcvlowat.max(0) as usize;
            let target = if f.waitall { max } else { lowat.min(max) }.max(1);
            let (deadline, timed) = Sock::deadline(st.opts.rcvtimeo);
            let mut copied = 0usize;
            let mut idx = 0;
            loop {
                if self.is_dead() {
                    return Err(Errno(libc::ECONNRESET));
                }
                let Some(m) = st.queue.get(idx) else {
                    if copied >= target || (f.peek && idx > 0) {
                        break;
                    }
                    let e = self.take_error();
                    if e != 0 {
                        return Err(Errno(e));
                    }
                    if self.shutdown_bits() & RCV_SHUTDOWN != 0 {
                        break;
                    }
                    if f.nonblock {
                        return Err(Errno::EAGAIN);
                    }
                    st = self.wait(st, deadline, timed)?;
                    continue;
                };
                if passcred {
                    match seen {
                        Some(c) if c != m.creds => break,
                        Some(_) => {}
                        None => seen = Some(m.creds),
                    }
                }
                if copied == 0 {
                    out.from = m.from.clone();
                }
                let n = m.remaining().min(max - copied);
                out.data.extend_from_slice(&m.data[m.off..m.off + n]);
                copied += n;
                if f.peek {
                    if !m.rights.is_empty() {
                        out.rights = m.rights.clone();
                        break;
                    }
                    // As Linux, a peek walks on to the end of the queue (with nothing more
                    // to copy once the buffer is full) and takes the files of the first
                    // message that has some.
                    idx += 1;
                    continue;
                } else {
                    let Some(m) = st.queue.front_mut() else {
                        break;
                    };
                    m.off += n;
                    let had_rights = !m.rights.is_empty();
                    if had_rights {
                        out.rights = std::mem::take(&mut m.rights);
                    }
                    st.queued -= n;
                    if st.queue.front().is_some_and(|m| m.remaining() > 0) {
                        break;
                    }
                    if let Some(m) = st.pop() {
                        done.push(m);
                    }
                    if had_rights {
                        break;
                    }
                }
                if copied == max {
                    break;
                }
            }
            Ok(())
        });
        if passcred {
            out.creds = Some(seen.unwrap_or_default());
        }
        if !done.is_empty() {
            drop(done);
            // Room for writers waiting on our queue.
            self.changed();
        }
        match r {
            Err(e) if out.data.is_empty() => {
                // Nothing read: files peeked or taken so far are dropped with `out`.
                Err(e)
            }
            _ => {
                out.ret = out.data.len();
                Ok(out)
            }
        }
    }
}
