//! POSIX message queues (mq_overview(7)): the sandbox's one queue namespace (its IPC
//! namespace: a Sentry serves one sandbox), the queues, their descriptors, and the `mqueue`
//! filesystem that lists them.
//!
//! A queue keeps its messages by priority, highest first, FIFO within a priority. Blocking
//! sends and receives wait on the queue's condition variable in ticks and look for signals
//! between them, as pipes and eventfd do. mq_notify supports SIGEV_SIGNAL and SIGEV_NONE;
//! SIGEV_THREAD (which needs a netlink socket) is refused.

use std::cmp::Reverse;
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use super::eventfd::{anon_ino, wait_tick};
use super::file::{FileOps, OpenFile, Stat};
use super::perm::{self, Attr, Creds};
use crate::errno::Errno;
use crate::kernel::signal::{self, SigInfo};
use crate::kernel::ThreadGroup;

/// Priorities are below this.
pub const MQ_PRIO_MAX: u64 = 32768;
/// The limits with CAP_SYS_RESOURCE (HARD_MSGMAX, HARD_MSGSIZEMAX).
const HARD_MSGMAX: i64 = 65536;
const HARD_MSGSIZEMAX: i64 = 16 << 20;

/// The namespace's limits, /proc/sys/fs/mqueue (kept by `kernel::sysctl`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Attributes of a queue created without any.
    pub msg_default: i64,
    pub msgsize_default: i64,
    /// The most a queue may ask for without CAP_SYS_RESOURCE.
    pub msg_max: i64,
    pub msgsize_max: i64,
    /// Queues at most, without CAP_SYS_RESOURCE.
    pub queues_max: usize,
}

impl Default for Limits {
    /// Linux's, for a new IPC namespace.
    fn default() -> Self {
        Limits {
            msg_default: 10,
            msgsize_default: 8192,
            msg_max: 10,
            msgsize_max: 8192,
            queues_max: 256,
        }
    }
}
/// Longest queue name (NAME_MAX).
const NAME_MAX: usize = 255;
/// A message too long for the queue, or a buffer too short for its messages.
pub const EMSGSIZE: Errno = Errno(libc::EMSGSIZE);
/// What mq_notify's SIGEV_THREAD gets: the netlink socket it names is none.
pub const ENOTSOCK: Errno = Errno(libc::ENOTSOCK);
/// si_code of a message queue notification.
pub const SI_MESGQ: i32 = -3;
pub const SIGEV_SIGNAL: i32 = 0;
pub const SIGEV_NONE: i32 = 1;
pub const SIGEV_THREAD: i32 = 2;
/// statfs f_type of the mqueue filesystem.
pub const MQUEUE_MAGIC: u64 = 0x1980_0202;
/// Device number of the mqueue filesystem.
const MQUEUE_DEV: u64 = 0x13;

/// A registration made with mq_notify.
struct Notify {
    owner: Weak<ThreadGroup>,
    pid: i32,
    kind: i32,
    signo: i32,
    value: u64,
}

impl Notify {
    /// Whether the registering process is still there (its registration dies with it).
    fn alive(&self) -> bool {
        self.owner
            .upgrade()
            .is_some_and(|tg| tg.lock().exit_status.is_none())
    }
}

#[derive(Default)]
struct State {
    msgs: BTreeMap<Reverse<u32>, VecDeque<Vec<u8>>>,
    count: i64,
    qsize: u64,
    notify: Option<Notify>,
    receivers: usize,
}

impl State {
    fn owner(&mut self) -> Option<&Notify> {
        if self.notify.as_ref().is_some_and(|n| !n.alive()) {
            self.notify = None;
        }
        self.notify.as_ref()
    }
}

/// One queue.
pub struct Queue {
    maxmsg: i64,
    msgsize: i64,
    mode: u32,
    uid: u32,
    gid: u32,
    ino: u64,
    linked: AtomicBool,
    state: Mutex<State>,
    cv: Condvar,
    /// What the queue counts against its creator's RLIMIT_MSGQUEUE: (real uid, bytes).
    charge: (u32, u64),
}

/// Bytes each real uid's queues count against RLIMIT_MSGQUEUE, until they are gone.
static CHARGES: Mutex<BTreeMap<u32, u64>> = Mutex::new(BTreeMap::new());

fn charges() -> MutexGuard<'static, BTreeMap<u32, u64>> {
    CHARGES.lock().unwrap_or_else(|e| e.into_inner())
}

/// What a queue of `maxmsg` messages of `msgsize` bytes counts, as Linux reckons it (a
/// `struct msg_msg` per message and a priority tree node per possible priority level).
fn queue_bytes(maxmsg: i64, msgsize: i64) -> u64 {
    const MSG_MSG: u64 = 48;
    const TREE_NODE: u64 = 48;
    let (n, s) = (maxmsg.max(0) as u64, msgsize.max(0) as u64);
    n.saturating_mul(s)
        .saturating_add(n * MSG_MSG)
        .saturating_add(n.min(MQ_PRIO_MAX) * TREE_NODE)
}

impl Drop for Queue {
    fn drop(&mut self) {
        let (uid, bytes) = self.charge;
        let mut c = charges();
        if let Some(v) = c.get_mut(&uid) {
            *v = v.saturating_sub(bytes);
            if *v == 0 {
                c.remove(&uid);
            }
        }
    }
}

/// Attributes of a queue (`struct mq_attr`, less mq_flags).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MqAttr {
    pub maxmsg: i64,
    pub msgsize: i64,
    pub curmsgs: i64,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn attr(&self) -> Attr {
        Attr {
            mode: libc::S_IFREG | self.mode,
            uid: self.uid,
            gid: self.gid,
        }
    }

    /// The attributes now.
    pub fn attrs(&self) -> MqAttr {
        MqAttr {
            maxmsg: self.maxmsg,
            msgsize: self.msgsize,
            curmsgs: self.lock().count,
        }
    }

    /// What reading the queue's file gives.
    pub fn status(&self) -> Vec<u8> {
        let mut st = self.lock();
        let qsize = st.qsize;
        let (kind, signo, pid) = match st.owner() {
            Some(n) => (
                n.kind,
                if n.kind == SIGEV_SIGNAL { n.signo } else { 0 },
                n.pid,
            ),
            None => (0, 0, 0),
        };
        format!("QSIZE:{qsize:<10} NOTIFY:{kind:<5} SIGNO:{signo:<5} NOTIFY_PID:{pid:<6}\n")
            .into_bytes()
    }

    /// mq_timedsend: `sender` is (pid, uid) for a notification's siginfo; `deadline` bounds
    /// the wait on a full queue (ETIMEDOUT), `nonblock` forbids it (EAGAIN).
    pub fn send(
        &self,
        msg: Vec<u8>,
        prio: u32,
        nonblock: bool,
        deadline: Option<Instant>,
        sender: (i32, u32),
    ) -> Result<(), Errno> {
        if msg.len() as i64 > self.msgsize {
            return Err(EMSGSIZE);
        }
        let mut st = self.lock();
        while st.count >= self.maxmsg {
            if nonblock {
                return Err(Errno::EAGAIN);
            }
            st = wait_until(&self.cv, st, deadline)?;
        }
        st.qsize += msg.len() as u64;
        st.msgs.entry(Reverse(prio)).or_default().push_back(msg);
        st.count += 1;
        // A message arriving in an empty queue that no receiver waits on notifies.
        let fire = if st.count == 1 && st.receivers == 0 {
            st.owner();
            st.notify.take()
        } else {
            None
        };
        self.cv.notify_all();
        drop(st);
        if let Some(n) = fire.filter(|n| n.kind == SIGEV_SIGNAL) {
            if let Some(tg) = n.owner.upgrade() {
                signal::send(
                    &tg,
                    None,
                    SigInfo {
                        signo: n.signo,
                        code: SI_MESGQ,
                        pid: sender.0,
                        uid: sender.1,
                        value: n.value,
                        ..Default::default()
                    },
                );
            }
        }
        Ok(())
    }

    /// mq_timedreceive into a buffer of `len` bytes: the message and its priority.
    pub fn receive(
        &self,
        len: u64,
        nonblock: bool,
        deadline: Option<Instant>,
    ) -> Result<(Vec<u8>, u32), Errno> {
        if len < self.msgsize as u64 {
            return Err(EMSGSIZE);
        }
        let mut st = self.lock();
        loop {
            if let Some(mut e) = st.msgs.first_entry() {
                let prio = e.key().0;
                let msg = e.get_mut().pop_front().unwrap_or_default();
                if e.get().is_empty() {
                    e.remove();
                }
                st.count -= 1;
                st.qsize -= msg.len() as u64;
                self.cv.notify_all();
                return Ok((msg, prio));
            }
            if nonblock {
                return Err(Errno::EAGAIN);
            }
            st.receivers += 1;
            let r = wait_until(&self.cv, st, deadline);
            match r {
                Ok(g) => {
                    st = g;
                    st.receivers -= 1;
                }
                Err(e) => {
                    self.lock().receivers -= 1;
                    return Err(e);
                }
            }
        }
    }

    /// mq_notify: `reg` is (kind, signo, value), or None to remove the caller's registration.
    pub fn notify(&self, tg: &Arc<ThreadGroup>, reg: Option<(i32, i32, u64)>) -> Result<(), Errno> {
        let mut st = self.lock();
        let mine = st.owner().is_some_and(|n| n.pid == tg.tgid);
        match reg {
            None => {
                if mine {
                    st.notify = None;
                }
                Ok(())
            }
            Some(_) if st.notify.is_some() => Err(Errno::EBUSY),
            Some((kind, signo, value)) => {
                st.notify = Some(Notify {
                    owner: Arc::downgrade(tg),
                    pid: tg.tgid,
                    kind,
                    signo,
                    value,
                });
                Ok(())
            }
        }
    }

    fn stat(&self) -> Stat {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let ts = (now.as_secs() as i64, now.subsec_nanos() as i64);
        Stat {
            dev: MQUEUE_DEV,
            ino: self.ino,
            mode: libc::S_IFREG | self.mode,
            nlink: u64::from(self.linked.load(Ordering::Relaxed)),
            uid: self.uid,
            gid: self.gid,
            size: 80,
            blksize: 4096,
            atime: ts,
            mtime: ts,
            ctime: ts,
            ..Stat::default()
        }
    }
}

/// Waits for the queue to change until `deadline` (ETIMEDOUT once past), or for a signal.
fn wait_until<'a>(
    cv: &Condvar,
    g: MutexGuard<'a, State>,
    deadline: Option<Instant>,
) -> Result<MutexGuard<'a, State>, Errno> {
    let max = match deadline {
        Some(d) => {
            let left = d.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Errno::ETIMEDOUT);
            }
            Some(left)
        }
        None => None,
    };
    wait_tick(cv, g, max)
}

/// The namespace: queues by name.
static QUEUES: Mutex<BTreeMap<Vec<u8>, Arc<Queue>>> = Mutex::new(BTreeMap::new());

fn queues() -> MutexGuard<'static, BTreeMap<Vec<u8>, Arc<Queue>>> {
    QUEUES.lock().unwrap_or_else(|e| e.into_inner())
}

/// Checks a queue name as the mqueue filesystem's lookup does.
fn check_name(name: &[u8]) -> Result<(), Errno> {
    if name.is_empty() {
        return Err(Errno::ENOENT);
    }
    if name.len() > NAME_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    if name.contains(&b'/') || name == b"." || name == b".." {
        return Err(Errno::EACCES);
    }
    Ok(())
}

/// The attributes a new queue gets: the defaults (each at most its maximum), or `attr`
/// (maxmsg, msgsize) if valid.
fn new_attrs(attr: Option<(i64, i64)>, c: &Creds, l: &Limits) -> Result<(i64, i64), Errno> {
    let Some((maxmsg, msgsize)) = attr else {
        return Ok((
            l.msg_default.min(l.msg_max),
            l.msgsize_default.min(l.msgsize_max),
        ));
    };
    if maxmsg <= 0 || msgsize <= 0 {
        return Err(Errno::EINVAL);
    }
    let (mm, ms) = if c.has(crate::kernel::creds::CAP_SYS_RESOURCE) {
        (HARD_MSGMAX, HARD_MSGSIZEMAX)
    } else {
        (l.msg_max, l.msgsize_max)
    };
    if maxmsg > mm || msgsize > ms {
        return Err(Errno::EINVAL);
    }
    Ok((maxmsg, msgsize))
}

/// The root directory of the namespace, for permission checks.
fn root_attr() -> Attr {
    Attr {
        mode: libc::S_IFDIR | 0o1777,
        uid: 0,
        gid: 0,
    }
}

/// Who creates a queue, for RLIMIT_MSGQUEUE: the real uid and the limit's soft value; and
/// the namespace's limits then.
#[derive(Clone, Copy, Debug)]
pub struct Charge {
    pub ruid: u32,
    pub limit: u64,
    pub limits: Limits,
}

/// mq_open of `name` (without its leading slash): the queue, created if asked.
pub fn open(
    name: &[u8],
    oflag: u32,
    mode: u32,
    attr: Option<(i64, i64)>,
    c: &Creds,
    who: Charge,
) -> Result<Arc<Queue>, Errno> {
    check_name(name)?;
    let mut ns = queues();
    let creat = oflag & libc::O_CREAT as u32 != 0;
    let excl = oflag & libc::O_EXCL as u32 != 0;
    let acc = oflag & libc::O_ACCMODE as u32;
    if let Some(q) = ns.get(name) {
        if creat && excl {
            return Err(Errno::EEXIST);
        }
        let want = match acc as i32 {
            libc::O_RDONLY => perm::MAY_READ,
            libc::O_WRONLY => perm::MAY_WRITE,
            libc::O_RDWR => perm::MAY_READ | perm::MAY_WRITE,
            _ => return Err(Errno::EINVAL),
        };
        perm::permission(c, &q.attr(), want)?;
        return Ok(q.clone());
    }
    if !creat {
        return Err(Errno::ENOENT);
    }
    perm::permission(c, &root_attr(), perm::MAY_WRITE | perm::MAY_EXEC)?;
    if ns.len() >= who.limits.queues_max && !c.has(crate::kernel::creds::CAP_SYS_RESOURCE) {
        return Err(Errno::ENOSPC);
    }
    let (maxmsg, msgsize) = new_attrs(attr, c, &who.limits)?;
    let bytes = queue_bytes(maxmsg, msgsize);
    {
        let mut ch = charges();
        let used = ch.entry(who.ruid).or_default();
        if used.saturating_add(bytes) > who.limit {
            return Err(Errno::EMFILE);
        }
        *used += bytes;
    }
    let q = Arc::new(Queue {
        charge: (who.ruid, bytes),
        maxmsg,
        msgsize,
        mode: mode & 0o7777 & !c.umask,
        uid: c.uid,
        gid: c.gid,
        ino: anon_ino(),
        linked: AtomicBool::new(true),
        state: Mutex::default(),
        cv: Condvar::new(),
    });
    ns.insert(name.to_vec(), q.clone());
    Ok(q)
}

/// mq_unlink of `name` (or unlink(2) in the mqueue filesystem).
pub fn unlink(name: &[u8], c: &Creds) -> Result<(), Errno> {
    check_name(name)?;
    let mut ns = queues();
    let q = ns.get(name).ok_or(Errno::ENOENT)?;
    perm::may_delete(c, &root_attr(), &q.attr())?;
    q.linked.store(false, Ordering::Relaxed);
    ns.remove(name);
    Ok(())
}

/// unlink(2) of `p`, a path in a mounted mqueue filesystem.
pub fn fs_unlink(
    p: &super::vfs::PseudoPath,
    c: &Creds,
) -> Result<super::tmpfs::Resolution<()>, Errno> {
    let comps = super::vfs::components(&p.rel);
    match comps.as_slice() {
        [] => Err(Errno::EISDIR),
        [name] if name != b".." => unlink(name, c).map(|_| super::tmpfs::Resolution::Done(())),
        _ => Err(Errno::ENOENT),
    }
}

/// open(2) of a queue in a mounted mqueue filesystem (`p`, a path in it): a queue
/// descriptor, as mq_open gives (O_CREAT makes a queue with the default attributes); None
/// for the root directory, which procfs opens.
pub fn fs_open(
    p: &super::vfs::PseudoPath,
    flags: u32,
    mode: u32,
    c: &Creds,
    who: Charge,
) -> Option<Result<Arc<dyn FileOps>, Errno>> {
    let comps = super::vfs::components(&p.rel);
    match comps.as_slice() {
        [name] if name != b".." => {
            if p.rel.ends_with(b"/") || flags & libc::O_DIRECTORY as u32 != 0 {
                return Some(Err(
                    if queues().contains_key(name) || flags & libc::O_CREAT as u32 == 0 {
                        Errno::ENOTDIR
                    } else {
                        Errno::EISDIR
                    },
                ));
            }
            Some(open(name, flags, mode, None, c, who).map(|q| {
                let ops: Arc<dyn FileOps> = Arc::new(MqFile { queue: q });
                ops
            }))
        }
        _ => None,
    }
}

/// A queue descriptor's file.
pub struct MqFile {
    pub queue: Arc<Queue>,
}

impl MqFile {
    /// A new open description of `q` with the O_* flags of mq_open (access mode,
    /// O_NONBLOCK).
    pub fn open(q: Arc<Queue>, oflag: u32) -> Arc<OpenFile> {
        let keep = (libc::O_ACCMODE | libc::O_NONBLOCK) as u32;
        OpenFile::new(Arc::new(MqFile { queue: q }), oflag & keep)
    }

    /// The queue behind an open file, if it is a queue descriptor.
    pub fn of(f: &OpenFile) -> Option<Arc<Queue>> {
        f.ops
            .as_any()
            .and_then(|a| a.downcast_ref::<MqFile>())
            .map(|m| m.queue.clone())
    }
}

impl Drop for MqFile {
    /// Closing the description of the process that registered for notification removes
    /// the registration (Linux does so on any close by that process).
    fn drop(&mut self) {
        if let Some(tg) = signal::current_group() {
            let mut st = self.queue.lock();
            if st.notify.as_ref().is_some_and(|n| n.pid == tg.tgid) {
                st.notify = None;
            }
        }
    }
}

impl FileOps for MqFile {
    fn read(&self, buf: &mut [u8], off: Option<u64>) -> Result<usize, Errno> {
        let data = self.queue.status();
        let off = off.unwrap_or(0).min(data.len() as u64) as usize;
        let n = buf.len().min(data.len() - off);
        buf[..n].copy_from_slice(&data[off..off + n]);
        Ok(n)
    }
    fn seekable(&self) -> bool {
        true
    }
    fn size(&self) -> Result<u64, Errno> {
        Ok(80)
    }
    fn poll_ready(&self) -> u16 {
        let a = self.queue.attrs();
        let mut r = 0;
        if a.curmsgs > 0 {
            r |= libc::POLLIN | libc::POLLRDNORM;
        }
        if a.curmsgs < a.maxmsg {
            r |= libc::POLLOUT | libc::POLLWRNORM;
        }
        r as u16
    }
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.queue.stat())
    }
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

/// The mqueue filesystem's node at `comps`: the root lists the queues; a queue's file reads
/// as its status line.
pub fn node_at(_t: &crate::kernel::Task, comps: &[&[u8]]) -> Result<super::procfs::Found, Errno> {
    use super::procfs::{Found, Node};
    match comps {
        [] => {
            let e = queues().keys().map(|k| (k.clone(), libc::DT_REG)).collect();
            let mut f = Found::new(Node::Dir(e), 1, 0o1777);
            f.ino = 1;
            Ok(f)
        }
        [name] => {
            let q = queues().get(*name).cloned().ok_or(Errno::ENOENT)?;
            let mut f = Found::new(Node::File(q.status()), q.ino + 1, q.mode);
            f.uid = q.uid;
            f.gid = q.gid;
            Ok(f)
        }
        _ => Err(Errno::ENOENT),
    }
}

/// A deadline `Instant` for an absolute CLOCK_REALTIME time `abs` (None: too far to tell
/// from never).
pub fn deadline_of(abs: Duration) -> Option<Instant> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Instant::now().checked_add(abs.saturating_sub(now))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(maxmsg: i64, msgsize: i64) -> Queue {
        Queue {
            maxmsg,
            msgsize,
            mode: 0o600,
            uid: 0,
            gid: 0,
            ino: 1,
            linked: AtomicBool::new(true),
            state: Mutex::default(),
            cv: Condvar::new(),
            charge: (u32::MAX, 0),
        }
    }

    #[test]
    fn priority_order_and_limits() {
        let q = q(3, 8);
        q.send(b"a".to_vec(), 1, true, None, (1, 0)).unwrap();
        q.send(b"b".to_vec(), 5, true, None, (1, 0)).unwrap();
        q.send(b"c".to_vec(), 1, true, None, (1, 0)).unwrap();
        assert_eq!(
            q.send(b"d".to_vec(), 1, true, None, (1, 0)),
            Err(Errno::EAGAIN)
        );
        assert_eq!(q.send(vec![0; 9], 1, true, None, (1, 0)), Err(EMSGSIZE));
        assert_eq!(q.receive(7, true, None), Err(EMSGSIZE));
        let got: Vec<_> = (0..3).map(|_| q.receive(8, true, None).unwrap()).collect();
        assert_eq!(
            got,
            vec![(b"b".to_vec(), 5), (b"a".to_vec(), 1), (b"c".to_vec(), 1)]
        );
        assert_eq!(q.receive(8, true, None), Err(Errno::EAGAIN));
        let past = Some(Instant::now());
        assert_eq!(q.receive(8, false, past), Err(Errno::ETIMEDOUT));
    }

    #[test]
    fn status_line() {
        let q = q(3, 8);
        q.send(b"hello".to_vec(), 0, true, None, (1, 0)).unwrap();
        assert_eq!(
            q.status(),
            b"QSIZE:5          NOTIFY:0     SIGNO:0     NOTIFY_PID:0     \n"
        );
    }

    #[test]
    fn names_and_attrs() {
        assert_eq!(check_name(b""), Err(Errno::ENOENT));
        assert_eq!(check_name(b"a/b"), Err(Errno::EACCES));
        assert_eq!(check_name(b".."), Err(Errno::EACCES));
        assert_eq!(check_name(&[b'x'; 256]), Err(Errno::ENAMETOOLONG));
        let c = Creds::ROOT;
        let l = Limits::default();
        assert_eq!(new_attrs(None, &c, &l), Ok((10, 8192)));
        assert_eq!(new_attrs(Some((0, 1)), &c, &l), Err(Errno::EINVAL));
        assert_eq!(new_attrs(Some((65537, 1)), &c, &l), Err(Errno::EINVAL));
        assert_eq!(new_attrs(Some((100, 100)), &c, &l), Ok((100, 100)));
        // The defaults, each at most its maximum (/proc/sys/fs/mqueue).
        let l = Limits {
            msg_default: 50,
            msg_max: 20,
            ..l
        };
        assert_eq!(new_attrs(None, &c, &l), Ok((20, 8192)));
        assert_eq!(queue_bytes(10, 8192), 82880);
    }
}
