//! Moving data between descriptors: sendfile, splice, tee, copy_file_range; and the calls
//! about a file's blocks: fallocate, sync_file_range, readahead.
//!
//! Bytes go through the Sentry in bounded chunks with the files' own read and write, so a
//! wait on a socket is interruptible as its read and write are; a Sentry pipe on one side is
//! served by its splice helpers (wait for room or data, give back what could not be
//! delivered), whose waits are interruptible as pipe reads and writes are. Argument checks
//! follow Linux's order (fs/splice.c, fs/read_write.c, fs/open.c, fs/sync.c).

use crate::errno::{Errno, SysResult};
use crate::fs::pipe::PipeEnd;
use crate::fs::OpenFile;
use crate::kernel::Task;

use super::file::fsize_allowance;

const SPLICE_F_NONBLOCK: u32 = 2;
/// SPLICE_F_MOVE | SPLICE_F_NONBLOCK | SPLICE_F_MORE | SPLICE_F_GIFT.
const SPLICE_F_ALL: u32 = 0xf;
/// Linux's MAX_RW_COUNT: the most one call moves.
const MAX_RW_COUNT: u64 = 0x7fff_f000;
/// The most bytes one step holds in the Sentry (a pipe holds at most this much too).
const CHUNK: usize = 1 << 20;

/// A descriptor as `fdget` gives it: O_PATH descriptors are EBADF.
fn get(t: &Task, fd: u64) -> Result<std::sync::Arc<OpenFile>, Errno> {
    let f = t.fds().get(fd as i32)?;
    if f.flags() & libc::O_PATH as u32 != 0 {
        return Err(Errno::EBADF);
    }
    Ok(f)
}

/// What a file is to these calls.
#[derive(Clone, Copy)]
enum Kind<'a> {
    /// One of the Sentry's pipes.
    Pipe(&'a PipeEnd),
    /// A pipe the Sentry does not own (a host FIFO given as stdio): a stream, but a pipe to
    /// splice's rules.
    HostPipe,
    /// Data at offsets: regular files, devices such as /dev/zero.
    Seekable,
    /// Sockets, terminals.
    Stream,
    /// Directories, eventfds and the like: no splice support.
    Other,
}

impl Kind<'_> {
    fn is_pipe(self) -> bool {
        matches!(self, Kind::Pipe(_) | Kind::HostPipe)
    }
}

fn file_type(f: &OpenFile) -> u32 {
    f.ops.stat().map_or(0, |s| s.mode & libc::S_IFMT)
}

fn kind(f: &OpenFile) -> Kind<'_> {
    if let Some(p) = f.ops.as_pipe() {
        return Kind::Pipe(p);
    }
    match file_type(f) {
        libc::S_IFIFO => Kind::HostPipe,
        // A host stream (stdio redirected to a file, a terminal) has no offsets here.
        libc::S_IFREG | libc::S_IFCHR | libc::S_IFBLK | libc::S_IFSOCK => {
            if f.ops.seekable() {
                Kind::Seekable
            } else {
                Kind::Stream
            }
        }
        _ => Kind::Other,
    }
}

fn nonblocking(f: &OpenFile) -> bool {
    f.flags() & libc::O_NONBLOCK as u32 != 0
}

fn appending(f: &OpenFile) -> bool {
    f.flags() & libc::O_APPEND as u32 != 0
}

fn offset_of(f: &OpenFile) -> u64 {
    *f.offset.lock().unwrap_or_else(|e| e.into_inner())
}

fn set_offset(f: &OpenFile, v: u64) {
    if f.ops.seekable() && !f.ops.seek_zero() {
        *f.offset.lock().unwrap_or_else(|e| e.into_inner()) = v;
    }
}

/// A `loff_t` the application passed by pointer (None for a null pointer).
fn read_off(t: &Task, addr: u64) -> Result<Option<i64>, Errno> {
    if addr == 0 {
        return Ok(None);
    }
    t.read_u64(addr).map(|v| Some(v as i64))
}

fn write_off(t: &Task, addr: u64, v: u64) -> Result<(), Errno> {
    t.write_mem(addr, &v.to_le_bytes())
}

/// rw_verify_area: a count with the sign bit, a negative position or one that would pass
/// the largest offset is EINVAL. Returns the position.
fn verify(pos: i64, count: u64) -> Result<u64, Errno> {
    if count > i64::MAX as u64 || pos < 0 || pos.checked_add(count as i64).is_none() {
        return Err(Errno::EINVAL);
    }
    Ok(pos as u64)
}

/// SIGPIPE for a transfer that failed with EPIPE, if the output raises it.
fn sigpipe<T>(t: &Task, out: &OpenFile, r: Result<T, Errno>) -> Result<T, Errno> {
    if matches!(r, Err(Errno::EPIPE)) && out.ops.sigpipe_on_epipe() {
        let tg = t.tg.clone();
        t.signal_group(&tg, libc::SIGPIPE);
    }
    r
}

/// RLIMIT_FSIZE as a position: writes may not start at or reach past it.
fn fsize_limit(t: &Task) -> u64 {
    t.tg.lock().rlimits[libc::RLIMIT_FSIZE as usize].0
}

fn xfsz(t: &Task) -> Errno {
    let tg = t.tg.clone();
    t.signal_group(&tg, libc::SIGXFSZ);
    Errno::EFBIG
}

/// One side of a step.
enum End<'a> {
    Pipe(&'a PipeEnd),
    /// A file at an offset, or a stream (None).
    File(&'a OpenFile, Option<u64>),
}

/// Writes `data` to `out` at `pos` (None: a stream) in one write, cut short by
/// RLIMIT_FSIZE (EFBIG and SIGXFSZ at the limit).
fn write_out(t: &Task, out: &OpenFile, pos: Option<u64>, data: &[u8]) -> Result<usize, Errno> {
    let n = fsize_allowance(t, out, pos, data.len())?;
    out.ops.write(&data[..n], pos)
}

/// Moves up to `max` bytes from `src` to `dst` once: waits for room in an output pipe (then
/// moves at most that much) or for data in an input pipe; 0 at end of input. Bytes taken
/// from an input pipe but not written go back into it; bytes read from a stream (a socket)
/// that a non-pipe output refuses are lost, as the output failed.
fn step(t: &Task, src: &End, dst: &End, max: usize, nonblock: bool) -> Result<usize, Errno> {
    let limit = match dst {
        End::Pipe(op) => op.wait_room(nonblock)?.min(max),
        End::File(..) => max.min(CHUNK),
    };
    let data = match src {
        End::Pipe(ip) => ip.take(limit, nonblock)?,
        End::File(f, pos) => {
            let mut b = vec![0u8; limit];
            let n = f.ops.read(&mut b, *pos)?;
            b.truncate(n);
            b
        }
    };
    if data.is_empty() {
        return Ok(0);
    }
    let r = match dst {
        End::Pipe(op) => op.put(&data),
        End::File(f, pos) => write_out(t, f, *pos, &data),
    };
    let w = r
        .inspect_err(|_| {
            if let End::Pipe(ip) = src {
                ip.untake(&data);
            }
        })?
        .min(data.len());
    if let (End::Pipe(ip), true) = (src, w < data.len()) {
        ip.untake(&data[w..]);
    }
    Ok(w)
}

/// Copies `count` bytes from `inp` at `in_pos` to `out` at `out_pos` (None: a stream) in
/// steps, up to the end of the input, a short write, an error after some bytes, or a
/// signal.
fn pump(
    t: &Task,
    inp: &OpenFile,
    in_pos: u64,
    out: &OpenFile,
    out_pos: Option<u64>,
    count: usize,
) -> Result<usize, Errno> {
    let mut done = 0;
    while done < count {
        if done > 0 && crate::kernel::signal::interrupted() {
            break;
        }
        let want = (count - done).min(CHUNK);
        let src = End::File(inp, Some(in_pos + done as u64));
        let dst = End::File(out, out_pos.map(|p| p + done as u64));
        match step(t, &src, &dst, want, false) {
            Ok(n) => {
                done += n;
                if n < want {
                    break;
                }
            }
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(done)
}

/// sendfile(out_fd, in_fd, offset, count).
pub fn sendfile(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (out_fd, in_fd, off_ptr, count) = (a[0], a[1], a[2], a[3]);
    let user_off = read_off(t, off_ptr)?;
    let inp = get(t, in_fd)?;
    if !inp.readable() {
        return Err(Errno::EBADF);
    }
    if user_off.is_some() && !inp.ops.seekable() {
        return Err(Errno::ESPIPE);
    }
    let pos = verify(user_off.unwrap_or(offset_of(&inp) as i64), count)?;
    let count = count.min(MAX_RW_COUNT) as usize;
    let out = get(t, out_fd)?;
    if !out.writable() {
        return Err(Errno::EBADF);
    }
    let (ik, ok) = (kind(&inp), kind(&out));
    let stream_in = matches!(ik, Kind::Stream);
    let in_pos = (!stream_in).then_some(pos);
    let moved = if ok.is_pipe() {
        // Into a pipe: what it has room for, as splice from a file.
        let dst = match ok {
            Kind::Pipe(p) => End::Pipe(p),
            _ => End::File(&out, None),
        };
        if let End::Pipe(p) = dst {
            sigpipe(t, &out, p.wait_room(nonblocking(&out)))?;
        }
        if count == 0 {
            return Ok(0);
        }
        if !matches!(ik, Kind::Seekable | Kind::Stream) {
            return Err(Errno::EINVAL);
        }
        let src = End::File(&inp, in_pos);
        sigpipe(t, &out, step(t, &src, &dst, count, nonblocking(&out)))?
    } else {
        if appending(&out) || !inp.ops.seekable() {
            return Err(Errno::EINVAL);
        }
        if count == 0 {
            return Ok(0);
        }
        let out_pos = match ok {
            Kind::Seekable => Some(verify(offset_of(&out) as i64, count as u64)?),
            _ => None,
        };
        if !matches!(ik, Kind::Seekable) || matches!(ok, Kind::Other) {
            return Err(Errno::EINVAL);
        }
        let n = sigpipe(t, &out, pump(t, &inp, pos, &out, out_pos, count))?;
        if let Some(p) = out_pos {
            set_offset(&out, p + n as u64);
        }
        n
    };
    let end = pos + moved as u64;
    if user_off.is_some() {
        write_off(t, off_ptr, end)?;
    } else if !stream_in {
        set_offset(&inp, end);
    }
    Ok(moved as u64)
}

/// splice(fd_in, off_in, fd_out, off_out, len, flags).
pub fn splice(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (off_in, off_out, len, flags) = (a[1], a[3], a[4], a[5] as u32);
    if len == 0 {
        return Ok(0);
    }
    if flags & !SPLICE_F_ALL != 0 {
        return Err(Errno::EINVAL);
    }
    let inp = get(t, a[0])?;
    let out = get(t, a[2])?;
    let (ik, ok) = (kind(&inp), kind(&out));
    if (ik.is_pipe() && off_in != 0) || (ok.is_pipe() && off_out != 0) {
        return Err(Errno::ESPIPE);
    }
    let uoff_out = read_off(t, off_out)?;
    let uoff_in = read_off(t, off_in)?;
    if !inp.readable() || !out.writable() {
        return Err(Errno::EBADF);
    }
    let nb = flags & SPLICE_F_NONBLOCK != 0;
    let max = len.min(MAX_RW_COUNT) as usize;
    match (ik, ok) {
        (Kind::Pipe(ip), Kind::Pipe(op)) => {
            if ip.same_pipe(op) {
                return Err(Errno::EINVAL);
            }
            let nb = nb || nonblocking(&inp) || nonblocking(&out);
            let r = ip.transfer(op, max, nb, false);
            sigpipe(t, &out, r).map(|n| n as u64)
        }
        (i, o) if i.is_pipe() => {
            // Out of a pipe.
            let src = match i {
                Kind::Pipe(p) => End::Pipe(p),
                _ => End::File(&inp, None),
            };
            let nb = nb || nonblocking(&inp);
            if o.is_pipe() {
                let dst = match o {
                    Kind::Pipe(p) => End::Pipe(p),
                    _ => End::File(&out, None),
                };
                return sigpipe(t, &out, step(t, &src, &dst, max, nb)).map(|n| n as u64);
            }
            if uoff_out.is_some() && !out.ops.seekable() {
                return Err(Errno::EINVAL);
            }
            if appending(&out) {
                return Err(Errno::EINVAL);
            }
            let seekable = matches!(o, Kind::Seekable);
            let start = match uoff_out {
                Some(p) => p,
                None if seekable => offset_of(&out) as i64,
                None => 0,
            };
            let pos = verify(start, len)?;
            if matches!(o, Kind::Other) {
                return Err(Errno::EINVAL);
            }
            let dst = End::File(&out, seekable.then_some(pos));
            let n = sigpipe(t, &out, step(t, &src, &dst, max, nb))?;
            match uoff_out {
                Some(_) => write_off(t, off_out, pos + n as u64)?,
                None if seekable => set_offset(&out, pos + n as u64),
                None => {}
            }
            Ok(n as u64)
        }
        (i, o) if o.is_pipe() => {
            // Into a pipe.
            if uoff_in.is_some() && !inp.ops.seekable() {
                return Err(Errno::EINVAL);
            }
            let seekable = matches!(i, Kind::Seekable);
            if !seekable && !matches!(i, Kind::Stream) {
                return Err(Errno::EINVAL);
            }
            let start = match uoff_in {
                Some(p) => p,
                None if seekable => offset_of(&inp) as i64,
                None => 0,
            };
            let pos = verify(start, max as u64)?;
            let dst = match o {
                Kind::Pipe(p) => End::Pipe(p),
                _ => End::File(&out, None),
            };
            let src = End::File(&inp, seekable.then_some(pos));
            let nb = nb || nonblocking(&out);
            let n = sigpipe(t, &out, step(t, &src, &dst, max, nb))?;
            match uoff_in {
                Some(_) => write_off(t, off_in, pos + n as u64)?,
                None if seekable => set_offset(&inp, pos + n as u64),
                None => {}
            }
            Ok(n as u64)
        }
        _ => Err(Errno::EINVAL),
    }
}

/// tee(fd_in, fd_out, len, flags): copies between two pipes, leaving the input as it was.
pub fn tee(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (len, flags) = (a[2], a[3] as u32);
    if flags & !SPLICE_F_ALL != 0 {
        return Err(Errno::EINVAL);
    }
    if len == 0 {
        return Ok(0);
    }
    let inp = get(t, a[0])?;
    let out = get(t, a[1])?;
    if !inp.readable() || !out.writable() {
        return Err(Errno::EBADF);
    }
    match (inp.ops.as_pipe(), out.ops.as_pipe()) {
        (Some(ip), Some(op)) if !ip.same_pipe(op) => {
            let nb = flags & SPLICE_F_NONBLOCK != 0 || nonblocking(&inp) || nonblocking(&out);
            let r = ip.transfer(op, len.min(MAX_RW_COUNT) as usize, nb, true);
            sigpipe(t, &out, r).map(|n| n as u64)
        }
        _ => Err(Errno::EINVAL),
    }
}

/// copy_file_range(fd_in, off_in, fd_out, off_out, len, flags): regular files of one
/// filesystem.
pub fn copy_file_range(t: &mut Task, a: [u64; 6]) -> SysResult {
    let (off_in, off_out, len, flags) = (a[1], a[3], a[4], a[5] as u32);
    let inp = get(t, a[0])?;
    let out = get(t, a[2])?;
    let pin = match read_off(t, off_in)? {
        Some(p) => p,
        None => offset_of(&inp) as i64,
    };
    let pout = match read_off(t, off_out)? {
        Some(p) => p,
        None => offset_of(&out) as i64,
    };
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    let (si, so) = (inp.ops.stat()?, out.ops.stat()?);
    let (ti, to) = (si.mode & libc::S_IFMT, so.mode & libc::S_IFMT);
    if ti == libc::S_IFDIR || to == libc::S_IFDIR {
        return Err(Errno::EISDIR);
    }
    if ti != libc::S_IFREG || to != libc::S_IFREG {
        return Err(Errno::EINVAL);
    }
    if !inp.readable() || !out.writable() || appending(&out) {
        return Err(Errno::EBADF);
    }
    // Neither tmpfs nor host files copy across filesystems; a host stream (stdio
    // redirected to a file) has no offsets here: the caller falls back to read and write.
    if si.dev != so.dev || !inp.ops.seekable() || !out.ops.seekable() {
        return Err(Errno::EXDEV);
    }
    // generic_copy_file_checks, in its order and with its (unsigned) arithmetic.
    if (pin as u64).checked_add(len).is_none() || (pout as u64).checked_add(len).is_none() {
        return Err(Errno::EOVERFLOW);
    }
    let size_in = si.size.max(0);
    let mut count = if pin >= size_in {
        0
    } else {
        len.min((size_in as u64).wrapping_sub(pin as u64))
    };
    let limit = fsize_limit(t);
    if limit != libc::RLIM_INFINITY {
        if i128::from(pout) >= i128::from(limit) {
            return Err(xfsz(t));
        }
        count = count.min((i128::from(limit) - i128::from(pout)).min(u64::MAX.into()) as u64);
    }
    count = count.min((i128::from(i64::MAX) - i128::from(pout)).max(0) as u64);
    let (bin, bout, c) = (i128::from(pin), i128::from(pout), i128::from(count));
    if si.ino == so.ino && bout + c > bin && bout < bin + c {
        return Err(Errno::EINVAL);
    }
    let pin = verify(pin, count)?;
    let pout = verify(pout, count)?;
    if count == 0 {
        return Ok(0);
    }
    let n = pump(
        t,
        &inp,
        pin,
        &out,
        Some(pout),
        count.min(MAX_RW_COUNT) as usize,
    )?;
    if off_in != 0 {
        write_off(t, off_in, pin + n as u64)?;
    } else {
        set_offset(&inp, pin + n as u64);
    }
    if off_out != 0 {
        write_off(t, off_out, pout + n as u64)?;
    } else {
        set_offset(&out, pout + n as u64);
    }
    Ok(n as u64)
}

/// fallocate(fd, mode, offset, len): vfs_fallocate's checks; the file does the rest
/// (tmpfs: allocate, KEEP_SIZE, PUNCH_HOLE; others EOPNOTSUPP).
pub fn fallocate(t: &mut Task, a: [u64; 6]) -> SysResult {
    const KEEP_SIZE: u32 = 0x01;
    const PUNCH_HOLE: u32 = 0x02;
    const COLLAPSE_RANGE: u32 = 0x08;
    const ZERO_RANGE: u32 = 0x10;
    const INSERT_RANGE: u32 = 0x20;
    const UNSHARE_RANGE: u32 = 0x40;
    const WRITE_ZEROES: u32 = 0x80;
    const MODE_MASK: u32 =
        PUNCH_HOLE | COLLAPSE_RANGE | ZERO_RANGE | INSERT_RANGE | UNSHARE_RANGE | WRITE_ZEROES;
    let (mode, off, len) = (a[1] as u32, a[2] as i64, a[3] as i64);
    let f = get(t, a[0])?;
    if off < 0 || len <= 0 {
        return Err(Errno::EINVAL);
    }
    if mode & !(MODE_MASK | KEEP_SIZE) != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    let keep = mode & KEEP_SIZE != 0;
    let refused = match mode & MODE_MASK {
        0 | ZERO_RANGE | UNSHARE_RANGE => false,
        PUNCH_HOLE => !keep,
        COLLAPSE_RANGE | INSERT_RANGE | WRITE_ZEROES => keep,
        _ => true,
    };
    if refused {
        return Err(Errno::EOPNOTSUPP);
    }
    if !f.writable() {
        return Err(Errno::EBADF);
    }
    let st = f.ops.stat()?;
    match st.mode & libc::S_IFMT {
        libc::S_IFIFO => return Err(Errno::ESPIPE),
        libc::S_IFDIR => return Err(Errno::EISDIR),
        libc::S_IFREG | libc::S_IFBLK => {}
        _ => return Err(Errno::ENODEV),
    }
    let end = off.checked_add(len).ok_or(Errno::EFBIG)? as u64;
    // Allocating past the end counts against RLIMIT_FSIZE, even with KEEP_SIZE.
    let limit = fsize_limit(t);
    if mode & MODE_MASK == 0 && (st.size.max(0) as u64) < end && end > limit {
        return Err(xfsz(t));
    }
    f.ops.fallocate(mode, off as u64, len as u64)?;
    Ok(0)
}

/// sync_file_range(fd, offset, nbytes, flags): checks, then nothing to do (tmpfs has no
/// backing store; host files are read-only).
pub fn sync_file_range(t: &mut Task, a: [u64; 6]) -> SysResult {
    // SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER.
    const VALID: u32 = 7;
    let f = get(t, a[0])?;
    let (off, n, flags) = (a[1] as i64, a[2] as i64, a[3] as u32);
    if flags & !VALID != 0 {
        return Err(Errno::EINVAL);
    }
    let end = off.wrapping_add(n);
    if off < 0 || end < 0 || end < off {
        return Err(Errno::EINVAL);
    }
    match file_type(&f) {
        libc::S_IFREG | libc::S_IFBLK | libc::S_IFDIR | libc::S_IFLNK => Ok(0),
        _ => Err(Errno::ESPIPE),
    }
}

/// readahead(fd, offset, count): regular files only; nothing to do.
pub fn readahead(t: &mut Task, a: [u64; 6]) -> SysResult {
    let f = get(t, a[0])?;
    if !f.readable() {
        return Err(Errno::EBADF);
    }
    match file_type(&f) {
        libc::S_IFREG | libc::S_IFBLK if a[2] <= i64::MAX as u64 => Ok(0),
        _ => Err(Errno::EINVAL),
    }
}
