//! The AF_UNIX socket object: state, receive queue, send-buffer accounting, waits, options,
//! names, shutdown and release.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use super::addr::{AbstractNames, Addr};
use super::Ucred;
use crate::errno::Errno;
use crate::fs::OpenFile;
use crate::kernel::signal::{self, Waker};

/// The receive side is shut down (no more data will come, or none is wanted).
pub const RCV_SHUTDOWN: u8 = 1;
/// The send side is shut down.
pub const SEND_SHUTDOWN: u8 = 2;
/// Both.
pub const SHUTDOWN_MASK: u8 = 3;
/// SO_SNDBUF and SO_RCVBUF of a new socket (Linux's wmem_default and rmem_default).
pub const DEFAULT_BUF: usize = 212_992;
/// Largest value SO_SNDBUF/SO_RCVBUF take before doubling (Linux's default wmem_max).
pub const MAX_BUF: usize = 212_992;
/// Smallest send buffer (SOCK_MIN_SNDBUF).
pub const MIN_SNDBUF: usize = 4608;
/// Smallest receive buffer (SOCK_MIN_RCVBUF).
pub const MIN_RCVBUF: usize = 2304;
/// What a queued message costs its sender beyond its data (about Linux's sk_buff).
const MSG_OVERHEAD: usize = 768;
/// Datagrams a socket queues from senders it is not connected to (net.unix.max_dgram_qlen).
pub const MAX_DGRAM_QLEN: usize = 10;
/// A blocked call is woken by the other side or by a signal (its waker); this bounds a wait
/// should a wake-up ever be missed.
const TICK: Duration = Duration::from_secs(1);

/// The type of a socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SockType {
    Stream,
    Dgram,
    SeqPacket,
}

impl SockType {
    /// From the type argument of socket(2) (flags removed); SOCK_RAW is a datagram socket,
    /// as Linux makes it.
    pub fn from_raw(ty: i32) -> Option<SockType> {
        match ty {
            libc::SOCK_STREAM => Some(SockType::Stream),
            libc::SOCK_DGRAM | libc::SOCK_RAW => Some(SockType::Dgram),
            libc::SOCK_SEQPACKET => Some(SockType::SeqPacket),
            _ => None,
        }
    }

    /// SO_TYPE.
    pub fn raw(self) -> i32 {
        match self {
            SockType::Stream => libc::SOCK_STREAM,
            SockType::Dgram => libc::SOCK_DGRAM,
            SockType::SeqPacket => libc::SOCK_SEQPACKET,
        }
    }

    /// Connection-oriented (stream and seqpacket).
    pub fn connection(self) -> bool {
        self != SockType::Dgram
    }
}

/// One queued message: a datagram, a seqpacket record, or a piece of a stream.
pub(super) struct Message {
    pub data: Vec<u8>,
    /// Bytes already read (stream).
    pub off: usize,
    pub rights: Vec<Arc<OpenFile>>,
    pub creds: Ucred,
    pub from: Option<Addr>,
    /// The sender, charged `charge` until the message leaves the queue.
    sender: Weak<Sock>,
    charge: usize,
}

impl Message {
    /// A message from `sender`, charged to it.
    pub fn new(
        sender: &Arc<Sock>,
        data: Vec<u8>,
        rights: Vec<Arc<OpenFile>>,
        creds: Ucred,
        from: Option<Addr>,
    ) -> Message {
        let charge = data.len() + MSG_OVERHEAD;
        sender.wmem.fetch_add(charge, Ordering::SeqCst);
        Message {
            data,
            off: 0,
            rights,
            creds,
            from,
            sender: Arc::downgrade(sender),
            charge,
        }
    }

    /// Unread bytes.
    pub fn remaining(&self) -> usize {
        self.data.len() - self.off
    }

    /// Ends the sender's charge (done under the receiver's lock, whose waiters include the
    /// sender when it waits for room).
    fn uncharge(&mut self) {
        if self.charge > 0 {
            if let Some(s) = self.sender.upgrade() {
                s.wmem.fetch_sub(self.charge, Ordering::SeqCst);
            }
            self.charge = 0;
        }
    }
}

impl Drop for Message {
    fn drop(&mut self) {
        self.uncharge();
    }
}

thread_local! {
    /// Files in flight that released sockets dropped, closed one at a time by the outermost
    /// `drop_in_flight` on this thread (whether one runs, and the files).
    static IN_FLIGHT: std::cell::RefCell<(bool, Vec<Arc<OpenFile>>)> =
        const { std::cell::RefCell::new((false, Vec::new())) };
}

/// Drops purged messages. Closing a file in flight may close a socket whose queue holds
/// more files (a chain an application can make as long as it likes): they are closed here
/// one at a time, never by recursion.
pub(super) fn drop_in_flight(msgs: VecDeque<Message>) {
    let mut files = Vec::new();
    for mut m in msgs {
        files.append(&mut m.rights);
    }
    let outermost = IN_FLIGHT.with(|d| {
        let mut d = d.borrow_mut();
        d.1.extend(files);
        !std::mem::replace(&mut d.0, true)
    });
    if !outermost {
        return;
    }
    while let Some(f) = IN_FLIGHT.with(|d| d.borrow_mut().1.pop()) {
        drop(f);
    }
    IN_FLIGHT.with(|d| d.borrow_mut().0 = false);
}

/// A listening socket's connections not yet accepted.
pub(super) struct Listen {
    pub backlog: usize,
    pub pending: VecDeque<Arc<Sock>>,
}

/// Socket options.
pub(super) struct Opts {
    pub sndbuf: usize,
    pub rcvbuf: usize,
    pub passcred: bool,
    pub reuseaddr: bool,
    pub reuseport: bool,
    pub keepalive: bool,
    pub broadcast: bool,
    pub dontroute: bool,
    pub oobinline: bool,
    pub priority: i32,
    pub rcvlowat: i32,
    /// SO_LINGER: (l_onoff, l_linger).
    pub linger: (i32, i32),
    /// SO_RCVTIMEO and SO_SNDTIMEO; None waits forever.
    pub rcvtimeo: Option<Duration>,
    pub sndtimeo: Option<Duration>,
}

impl Default for Opts {
    fn default() -> Self {
        Opts {
            sndbuf: DEFAULT_BUF,
            rcvbuf: DEFAULT_BUF,
            passcred: false,
            reuseaddr: false,
            reuseport: false,
            keepalive: false,
            broadcast: false,
            dontroute: false,
            oobinline: false,
            priority: 0,
            rcvlowat: 1,
            linger: (0, 0),
            rcvtimeo: None,
            sndtimeo: None,
        }
    }
}

/// What a socket's lock guards.
#[derive(Default)]
pub(super) struct State {
    /// Listening: the connections waiting for accept.
    pub listen: Option<Listen>,
    /// Connection types: established (and it stays so after the peer is gone).
    pub connected: bool,
    /// A connect is under way.
    pub connecting: bool,
    /// The other end (stream, seqpacket), or the default destination (dgram).
    pub peer: Option<Arc<Sock>>,
    pub addr: Option<Addr>,
    pub queue: VecDeque<Message>,
    /// Unread bytes in `queue`.
    pub queued: usize,
    /// SO_PEERCRED: the peer's credentials at connect, socketpair or listen time.
    pub peercred: Option<Ucred>,
    /// The server side of a connection not yet accepted.
    pub embryo: bool,
    pub opts: Opts,
}

/// The credentials a message carries when nobody asked for them (Linux's overflow ids).
const NOBODY: Ucred = Ucred {
    pid: 0,
    uid: 65534,
    gid: 65534,
};

impl State {
    /// The credentials a message from a sender (`sender_passcred`: its SO_PASSCRED) to this
    /// socket carries: the claimed ones, else the sender's own if either side has
    /// SO_PASSCRED or this is a connection not yet accepted, else none (Linux's
    /// unix_maybe_add_creds).
    pub fn creds_for(&self, claimed: Option<Ucred>, me: Ucred, sender_passcred: bool) -> Ucred {
        match claimed {
            Some(c) => c,
            None if sender_passcred || self.opts.passcred || self.embryo => me,
            None => NOBODY,
        }
    }

    /// Appends a message.
    pub fn push(&mut self, m: Message) {
        self.queued += m.remaining();
        self.queue.push_back(m);
    }

    /// Takes the first message off the queue (the caller drops it after unlocking).
    pub fn pop(&mut self) -> Option<Message> {
        let mut m = self.queue.pop_front()?;
        self.queued -= m.remaining();
        m.uncharge();
        Some(m)
    }

    /// Empties the queue (for dropping after unlocking).
    pub fn purge(&mut self) -> VecDeque<Message> {
        let mut q = std::mem::take(&mut self.queue);
        for m in q.iter_mut() {
            m.uncharge();
        }
        self.queued = 0;
        q
    }

    /// Listening.
    pub fn listening(&self) -> bool {
        self.listen.is_some()
    }

    /// Whether `s` is this socket's peer.
    pub fn peer_is(&self, s: &Sock) -> bool {
        self.peer.as_ref().is_some_and(|p| std::ptr::eq(&**p, s))
    }
}

/// An AF_UNIX socket.
pub struct Sock {
    pub ty: SockType,
    pub(super) ino: u64,
    state: Mutex<State>,
    cv: Condvar,
    /// Changes so far (edge-triggered epoll).
    events: AtomicU64,
    /// What this socket's messages still queued at receivers cost.
    pub(super) wmem: AtomicUsize,
    /// RCV_SHUTDOWN | SEND_SHUTDOWN (written under the lock, read anywhere).
    shutdown: AtomicU8,
    /// A pending error (SO_ERROR), 0 if none.
    err: AtomicI32,
    /// Closed.
    dead: AtomicBool,
    /// The sandbox's abstract namespace (autobind, abstract binds).
    pub(super) names: Arc<AbstractNames>,
}

impl Sock {
    /// A new, unconnected, unnamed socket of the sandbox whose abstract namespace is
    /// `names`.
    pub fn new(ty: SockType, names: Arc<AbstractNames>) -> Arc<Sock> {
        let s = Arc::new(Sock {
            ty,
            ino: crate::fs::eventfd::anon_ino(),
            state: Mutex::new(State::default()),
            cv: Condvar::new(),
            events: AtomicU64::new(0),
            wmem: AtomicUsize::new(0),
            shutdown: AtomicU8::new(0),
            err: AtomicI32::new(0),
            dead: AtomicBool::new(false),
            names,
        });
        super::table::register(&s);
        s
    }

    /// A connected pair (socketpair), both made by `cred`.
    pub fn pair(ty: SockType, cred: Ucred, names: Arc<AbstractNames>) -> (Arc<Sock>, Arc<Sock>) {
        let (a, b) = (Sock::new(ty, names.clone()), Sock::new(ty, names));
        for (x, y) in [(&a, &b), (&b, &a)] {
            let mut st = x.lock();
            st.peer = Some(y.clone());
            st.connected = ty.connection();
            st.peercred = Some(cred);
        }
        (a, b)
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wakes everyone waiting on this socket and counts an event (call after the change,
    /// made under the lock).
    pub(super) fn changed(&self) {
        self.events.fetch_add(1, Ordering::SeqCst);
        self.cv.notify_all();
    }

    pub(super) fn event_count(&self) -> u64 {
        self.events.load(Ordering::SeqCst)
    }

    pub fn is_dead(&self) -> bool {
        self.dead.load(Ordering::SeqCst)
    }

    pub(super) fn shutdown_bits(&self) -> u8 {
        self.shutdown.load(Ordering::SeqCst)
    }

    /// The pending error, without clearing it.
    pub(super) fn error(&self) -> i32 {
        self.err.load(Ordering::SeqCst)
    }

    /// Takes the pending error (sock_error): 0 if none.
    pub(super) fn take_error(&self) -> i32 {
        self.err.swap(0, Ordering::SeqCst)
    }

    /// The task's signal waker for a wait on this socket.
    pub(super) fn waker(self: &Arc<Self>) -> Waker {
        let w = Arc::downgrade(self);
        Arc::new(move || {
            if let Some(s) = w.upgrade() {
                let _g = s.lock();
                s.cv.notify_all();
            }
        })
    }

    /// Runs `f` (which waits on this socket) with this socket as the task's signal waker.
    pub(super) fn blocking<R>(self: &Arc<Self>, f: impl FnOnce() -> R) -> R {
        signal::with_waker(self.waker(), f)
    }

    /// Waits once for a change of this socket. Errors: a signal to handle (ERESTARTSYS, or
    /// EINTR when the call has a timeout, as Linux's sock_intr_errno), or EAGAIN once
    /// `deadline` has passed. The signal check is made under the lock the waker takes, so no
    /// signal is missed between the check and the wait.
    pub(super) fn wait<'a>(
        &'a self,
        g: MutexGuard<'a, State>,
        deadline: Option<Instant>,
        timed: bool,
    ) -> Result<MutexGuard<'a, State>, Errno> {
        let intr = if timed {
            Errno::EINTR
        } else {
            Errno::ERESTARTSYS
        };
        if signal::interrupted() {
            return Err(intr);
        }
        let d = match deadline {
            Some(d) => {
                let now = Instant::now();
                if now >= d {
                    return Err(Errno::EAGAIN);
                }
                (d - now).min(TICK)
            }
            None => TICK,
        };
        let g = self
            .cv
            .wait_timeout(g, d)
            .unwrap_or_else(|e| e.into_inner())
            .0;
        if signal::interrupted() {
            return Err(intr);
        }
        Ok(g)
    }

    /// The deadline of a call with timeout `t` (SO_RCVTIMEO/SO_SNDTIMEO), and whether it has
    /// one.
    pub(super) fn deadline(t: Option<Duration>) -> (Option<Instant>, bool) {
        match t {
            Some(d) => (Instant::now().checked_add(d), true),
            None => (None, false),
        }
    }

    /// Connected (stream, seqpacket: established; dgram: has a peer).
    pub fn is_connected(&self) -> bool {
        let st = self.lock();
        st.connected || st.peer.is_some()
    }

    /// SO_SNDBUF.
    pub fn sndbuf(&self) -> usize {
        self.lock().opts.sndbuf
    }

    /// The socket's name.
    pub fn name(&self) -> Option<Addr> {
        self.lock().addr.clone()
    }

    /// The peer's name: ENOTCONN without a peer.
    pub fn peer_name(&self) -> Result<Option<Addr>, Errno> {
        let peer = self.lock().peer.clone().ok_or(Errno(libc::ENOTCONN))?;
        let name = peer.name();
        Ok(name)
    }

    /// Names the socket with a path whose socket file the caller made; EINVAL if it already
    /// has a name (the caller then removes the file).
    pub fn set_path(&self, path: Vec<u8>) -> Result<(), Errno> {
        let mut st = self.lock();
        if st.addr.is_some() {
            return Err(Errno::EINVAL);
        }
        st.addr = Some(Addr::Path(path));
        Ok(())
    }

    /// Binds an abstract name: EINVAL if named already, EADDRINUSE if taken.
    pub fn bind_abstract(self: &Arc<Self>, name: &[u8]) -> Result<(), Errno> {
        let mut st = self.lock();
        if st.addr.is_some() {
            return Err(Errno::EINVAL);
        }
        self.names.insert(self.ty, name, self)?;
        st.addr = Some(Addr::Abstract(name.to_vec()));
        Ok(())
    }

    /// Autobind: a fresh abstract name, unless the socket has a name already.
    pub fn autobind(self: &Arc<Self>) -> Result<(), Errno> {
        let mut st = self.lock();
        if st.addr.is_some() {
            return Ok(());
        }
        let name = self.names.insert_auto(self.ty, self)?;
        st.addr = Some(Addr::Abstract(name));
        Ok(())
    }

    /// Autobinds if SO_PASSCRED is on and the socket has no name (before connect and send,
    /// so the peer sees where credentials came from).
    pub(super) fn autobind_for_passcred(self: &Arc<Self>) -> Result<(), Errno> {
        let want = {
            let st = self.lock();
            st.opts.passcred && st.addr.is_none()
        };
        if want {
            self.autobind()?;
        }
        Ok(())
    }

    /// shutdown(2): `how` is SHUT_RD, SHUT_WR or SHUT_RDWR. A connected stream or seqpacket
    /// peer gets the mirror bits (our SHUT_WR is its end of input).
    pub fn shutdown(&self, how: i32) -> Result<(), Errno> {
        if !(libc::SHUT_RD..=libc::SHUT_RDWR).contains(&how) {
            return Err(Errno::EINVAL);
        }
        let mode = (how + 1) as u8;
        let peer = {
            let st = self.lock();
            self.shutdown.fetch_or(mode, Ordering::SeqCst);
            st.peer.clone()
        };
        self.changed();
        if let Some(p) = peer.filter(|_| self.ty.connection()) {
            let mut pm = 0;
            if mode & RCV_SHUTDOWN != 0 {
                pm |= SEND_SHUTDOWN;
            }
            if mode & SEND_SHUTDOWN != 0 {
                pm |= RCV_SHUTDOWN;
            }
            let g = p.lock();
            p.shutdown.fetch_or(pm, Ordering::SeqCst);
            drop(g);
            p.changed();
        }
        Ok(())
    }

    /// Close: wakes everyone, drops the queue (and the files in flight in it), tells a
    /// connected peer there is nothing more (ECONNRESET if data we never read is lost, or if
    /// this is a connection never accepted), and resets the connections waiting in our
    /// backlog.
    pub(super) fn release(&self, embryo: bool) {
        let (peer, pending, queue, unread) = {
            let mut st = self.lock();
            self.dead.store(true, Ordering::SeqCst);
            self.shutdown.store(SHUTDOWN_MASK, Ordering::SeqCst);
            let unread = !st.queue.is_empty();
            let pending = st.listen.take().map(|l| l.pending).unwrap_or_default();
            (st.peer.take(), pending, st.purge(), unread)
        };
        self.changed();
        drop_in_flight(queue);
        if let Some(p) = peer.as_ref().filter(|_| self.ty.connection()) {
            let g = p.lock();
            p.shutdown.store(SHUTDOWN_MASK, Ordering::SeqCst);
            if unread || embryo {
                p.err.store(libc::ECONNRESET, Ordering::SeqCst);
            }
            drop(g);
            p.changed();
        }
        drop(peer);
        for e in pending {
            e.release(true);
        }
    }

    /// Sets an error on this socket (under its lock) and wakes it.
    pub(super) fn set_error(&self, e: i32) {
        let g = self.lock();
        self.err.store(e, Ordering::SeqCst);
        drop(g);
        self.changed();
    }

    /// Whether a send may start: the charge is under SO_SNDBUF.
    pub(super) fn has_room(&self, sndbuf: usize) -> bool {
        self.wmem.load(Ordering::SeqCst) < sndbuf
    }

    /// POLLOUT's test (unix_writable): not listening and at most a quarter of the send
    /// buffer in flight.
    pub(super) fn writable(&self, st: &State) -> bool {
        !st.listening() && self.wmem.load(Ordering::SeqCst) * 4 <= st.opts.sndbuf
    }

    /// The bytes FIONREAD reports: EINVAL on a listener; all unread bytes for stream and
    /// seqpacket, the next datagram's size for dgram.
    pub fn inq(&self) -> Result<usize, Errno> {
        let st = self.lock();
        if st.listening() {
            return Err(Errno::EINVAL);
        }
        Ok(match self.ty {
            SockType::Dgram => st.queue.front().map_or(0, Message::remaining),
            _ => st.queued,
        })
    }

    /// What SIOCOUTQ reports: the charge of our messages not yet read.
    pub fn outq(&self) -> usize {
        self.wmem.load(Ordering::SeqCst)
    }

    /// poll(2) bits, as unix_poll (stream) and unix_dgram_poll (dgram, seqpacket) compute
    /// them.
    pub fn poll(&self) -> u16 {
        let st = self.lock();
        let shut = self.shutdown_bits();
        let mut m = 0i16;
        if self.error() != 0 {
            m |= libc::POLLERR;
        }
        if shut == SHUTDOWN_MASK {
            m |= libc::POLLHUP;
        }
        if shut & RCV_SHUTDOWN != 0 {
            m |= libc::POLLRDHUP | libc::POLLIN | libc::POLLRDNORM;
        }
        let pending = st.listen.as_ref().is_some_and(|l| !l.pending.is_empty());
        if !st.queue.is_empty() || pending {
            m |= libc::POLLIN | libc::POLLRDNORM;
        }
        let closed = !st.connected && !st.connecting && !st.listening();
        if self.ty.connection() && closed {
            m |= libc::POLLHUP;
        }
        let mut writable = self.writable(&st);
        let peer = st.peer.clone();
        drop(st);
        if writable && self.ty == SockType::Dgram {
            // A datagram peer that is not connected back to us may have a full queue.
            if let Some(p) = peer.filter(|p| !std::ptr::eq(&**p, self)) {
                let pst = p.lock();
                if !pst.peer_is(self) && pst.queue.len() > MAX_DGRAM_QLEN {
                    writable = false;
                }
            }
        }
        if writable {
            m |= libc::POLLOUT | libc::POLLWRNORM | libc::POLLWRBAND;
        }
        m as u16
    }
}
