//! Field encoding: a writer and a bounds-checked reader.

use super::*;

pub(super) struct Writer(Vec<u8>);

impl Writer {
    pub(super) fn new(tag: u32, op: Op) -> Writer {
        let mut w = Writer(Vec::with_capacity(64));
        w.u32(0);
        w.u32(tag);
        w.u16(op as u16);
        w.u16(0);
        w
    }
    pub(super) fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    pub(super) fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub(super) fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub(super) fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub(super) fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub(super) fn bytes16(&mut self, b: &[u8]) {
        self.u16(b.len().min(u16::MAX as usize) as u16);
        self.0.extend_from_slice(b);
    }
    pub(super) fn bytes32(&mut self, b: &[u8]) {
        self.u32(b.len().min(u32::MAX as usize) as u32);
        self.0.extend_from_slice(b);
    }
    pub(super) fn owner(&mut self, o: Owner) {
        self.u32(o.uid);
        self.u32(o.gid);
    }
    pub(super) fn time(&mut self, t: Timespec) {
        self.i64(t.sec);
        self.u32(t.nsec);
    }
    pub(super) fn stat(&mut self, s: &Stat) {
        for v in [s.dev, s.ino, s.nlink] {
            self.u64(v);
        }
        for v in [s.mode, s.uid, s.gid] {
            self.u32(v);
        }
        self.u64(s.rdev);
        for v in [s.size, s.blksize, s.blocks] {
            self.i64(v);
        }
        for t in [s.atime, s.mtime, s.ctime] {
            self.time(t);
        }
    }
    pub(super) fn finish(mut self) -> PResult<Vec<u8>> {
        if self.0.len() > MAX_MESSAGE {
            return Err(ProtocolError::TooLong);
        }
        let len = (self.0.len() as u32).to_le_bytes();
        self.0[..4].copy_from_slice(&len);
        Ok(self.0)
    }
}

pub(super) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(super) fn take(&mut self, n: usize, what: &'static str) -> PResult<&'a [u8]> {
        if self.buf.len() - self.pos < n {
            return Err(ProtocolError::Truncated(what));
        }
        let b = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(b)
    }
    pub(super) fn arr<const N: usize>(&mut self, what: &'static str) -> PResult<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N, what)?);
        Ok(a)
    }
    pub(super) fn u8(&mut self, what: &'static str) -> PResult<u8> {
        Ok(self.arr::<1>(what)?[0])
    }
    pub(super) fn u16(&mut self, what: &'static str) -> PResult<u16> {
        Ok(u16::from_le_bytes(self.arr(what)?))
    }
    pub(super) fn u32(&mut self, what: &'static str) -> PResult<u32> {
        Ok(u32::from_le_bytes(self.arr(what)?))
    }
    pub(super) fn u64(&mut self, what: &'static str) -> PResult<u64> {
        Ok(u64::from_le_bytes(self.arr(what)?))
    }
    pub(super) fn i64(&mut self, what: &'static str) -> PResult<i64> {
        Ok(i64::from_le_bytes(self.arr(what)?))
    }
    pub(super) fn bytes16(&mut self, what: &'static str, max: usize) -> PResult<Vec<u8>> {
        let n = self.u16(what)? as usize;
        check_len(what, n, max)?;
        Ok(self.take(n, what)?.to_vec())
    }
    pub(super) fn bytes32(&mut self, what: &'static str, max: usize) -> PResult<Vec<u8>> {
        let n = self.u32(what)? as usize;
        check_len(what, n, max)?;
        Ok(self.take(n, what)?.to_vec())
    }
    /// A list count, checked against `max` and against what is left (`min_item` bytes each).
    pub(super) fn count(
        &mut self,
        what: &'static str,
        max: usize,
        min_item: usize,
    ) -> PResult<usize> {
        let n = self.u32(what)? as usize;
        check_len(what, n, max)?;
        if n.saturating_mul(min_item) > self.buf.len() - self.pos {
            return Err(ProtocolError::Truncated(what));
        }
        Ok(n)
    }
    pub(super) fn name(&mut self) -> PResult<Name> {
        Name::new(self.bytes16("name", MAX_NAME)?)
    }
    pub(super) fn owner(&mut self) -> PResult<Owner> {
        Ok(Owner {
            uid: self.u32("uid")?,
            gid: self.u32("gid")?,
        })
    }
    pub(super) fn time(&mut self) -> PResult<Timespec> {
        let sec = self.i64("time")?;
        let nsec = self.u32("time")?;
        if nsec >= 1_000_000_000 {
            return Err(ProtocolError::Invalid("nanoseconds"));
        }
        Ok(Timespec { sec, nsec })
    }
    pub(super) fn stat(&mut self) -> PResult<Stat> {
        Ok(Stat {
            dev: self.u64("stat")?,
            ino: self.u64("stat")?,
            nlink: self.u64("stat")?,
            mode: self.u32("stat")?,
            uid: self.u32("stat")?,
            gid: self.u32("stat")?,
            rdev: self.u64("stat")?,
            size: self.i64("stat")?,
            blksize: self.i64("stat")?,
            blocks: self.i64("stat")?,
            atime: self.time()?,
            mtime: self.time()?,
            ctime: self.time()?,
        })
    }
    pub(super) fn errno(&mut self) -> PResult<Option<Errno>> {
        match self.u32("errno")? {
            0 => Ok(None),
            n @ 1..=4095 => Ok(Some(Errno(n as i32))),
            _ => Err(ProtocolError::Invalid("errno")),
        }
    }
    pub(super) fn finish(&self) -> PResult<()> {
        match self.buf.len() - self.pos {
            0 => Ok(()),
            n => Err(ProtocolError::Trailing(n)),
        }
    }
}

/// Checks the header of `packet` (of `packet.len()` bytes): its length, tag and op.
pub(super) fn header(packet: &[u8]) -> PResult<(Reader<'_>, u32, Op)> {
    if packet.len() > MAX_MESSAGE {
        return Err(ProtocolError::TooLong);
    }
    if packet.len() < HEADER_LEN {
        return Err(ProtocolError::Short(packet.len()));
    }
    let mut r = Reader {
        buf: packet,
        pos: 0,
    };
    let len = r.u32("header")? as usize;
    if len != packet.len() {
        return Err(ProtocolError::LengthMismatch {
            header: len,
            actual: packet.len(),
        });
    }
    let tag = r.u32("header")?;
    let op = r.u16("header")?;
    let reserved = r.u16("header")?;
    if reserved != 0 {
        return Err(ProtocolError::Reserved(reserved));
    }
    Ok((r, tag, Op::from_u16(op)?))
}
