//! The slave's line discipline, as Linux's n_tty: input processing (ISTRIP, IUCLC, ICRNL,
//! INLCR, IGNCR, IXON), canonical line editing (VERASE, VWERASE, VKILL, VEOF, VEOL, VEOL2,
//! VLNEXT, VREPRINT), echo (ECHO, ECHOE, ECHOK, ECHOKE, ECHOCTL, ECHOPRT, ECHONL), ISIG
//! characters, and output processing (OPOST, ONLCR, OCRNL, ONOCR, ONLRET, OLCUC, XTABS) with
//! the column bookkeeping that erasing tabs needs.
//!
//! Echoes are written out at once (Linux buffers them until the end of a receive chunk; what
//! the master reads is the same). Nothing here blocks or signals: the caller sends the
//! signals collected in [`Effects`] once it has let go of the pty's lock.

use std::collections::VecDeque;

use super::termios::*;

/// Size of the input buffer, as Linux's N_TTY_BUF_SIZE.
pub const N_TTY_BUF_SIZE: usize = 4096;

/// One byte of input and whether it ends a canonical line (a line ended by VEOF holds a 0
/// byte that is never copied out, as Linux's __DISABLED_CHAR).
#[derive(Clone, Copy, Debug)]
struct Cell {
    c: u8,
    eol: bool,
}

/// What input processing asks of the caller after the pty's lock is released.
#[derive(Default, Debug)]
pub struct Effects {
    /// Signals for the terminal's foreground process group, in order.
    pub signals: Vec<i32>,
    /// Where the echoes of the input being processed start in the master's queue: a
    /// signal character drops them (Linux discards echoes not yet committed), never what
    /// was there before.
    pub echo_mark: usize,
}

/// Echoes pending beyond this many bytes are committed (ECHO_COMMIT_WATERMARK).
pub const ECHO_COMMIT: usize = 256;

/// Line discipline state of a pty slave.
#[derive(Default)]
pub struct Ldisc {
    buf: VecDeque<Cell>,
    /// How many bytes at the front of `buf` form complete lines (canonical mode).
    canon: usize,
    column: u32,
    canon_column: u32,
    lnext: bool,
    erasing: bool,
    /// Output stopped by VSTOP (IXON) or TCOOFF.
    pub stopped: bool,
    pub tco_stopped: bool,
}

/// Linux's ctype: 0-31, 127 and 128-159 are control characters.
fn iscntrl(c: u8) -> bool {
    c < 32 || (127..160).contains(&c)
}

/// Latin-1 letters count as in Linux's ctype.
fn isalnum(c: u8) -> bool {
    c.is_ascii_alphanumeric() || (c >= 192 && c != 215 && c != 247)
}

fn tolower(c: u8) -> u8 {
    if c.is_ascii_uppercase() || ((192..=222).contains(&c) && c != 215) {
        c + 32
    } else {
        c
    }
}

fn toupper(c: u8) -> u8 {
    if c.is_ascii_lowercase() || ((224..=254).contains(&c) && c != 247) {
        c - 32
    } else {
        c
    }
}

/// Whether input byte `c` needs more than queueing and echoing (Linux's char_map).
fn special(t: &Termios, c: u8) -> bool {
    if c == 0 {
        return false;
    }
    let l = |f| t.l(f);
    (c == b'\r' && t.i(IGNCR | ICRNL))
        || (c == b'\n' && t.i(INLCR))
        || (l(ICANON)
            && (c == t.cc[VERASE]
                || c == t.cc[VKILL]
                || c == t.cc[VEOF]
                || c == b'\n'
                || c == t.cc[VEOL]
                || (l(IEXTEN)
                    && (c == t.cc[VWERASE]
                        || c == t.cc[VLNEXT]
                        || c == t.cc[VEOL2]
                        || (l(ECHO) && c == t.cc[VREPRINT])))))
        || (t.i(IXON) && (c == t.cc[VSTART] || c == t.cc[VSTOP]))
        || (l(ISIG) && (c == t.cc[VINTR] || c == t.cc[VQUIT] || c == t.cc[VSUSP]))
}

impl Ldisc {
    fn is_cont(t: &Termios, c: u8) -> bool {
        t.i(IUTF8) && c & 0xc0 == 0x80
    }

    fn at_line_start(&self) -> bool {
        self.buf.len() == self.canon
    }

    // ---- output ----

    /// Bytes `output_char` would write for `c`.
    fn out_len(&self, t: &Termios, c: u8) -> usize {
        match c {
            b'\n' if t.o(ONLCR) => 2,
            b'\r' if t.o(ONOCR) && self.column == 0 => 0,
            b'\t' if t.oflag & TABDLY == XTABS => 8 - (self.column & 7) as usize,
            _ => 1,
        }
    }

    /// One byte through OPOST processing (Linux's do_output_char).
    fn output_char(&mut self, t: &Termios, mut c: u8, out: &mut VecDeque<u8>) {
        match c {
            b'\n' => {
                if t.o(ONLRET) {
                    self.column = 0;
                }
                if t.o(ONLCR) {
                    self.column = 0;
                    self.canon_column = 0;
                    out.extend(b"\r\n");
                    return;
                }
                self.canon_column = self.column;
            }
            b'\r' => {
                if t.o(ONOCR) && self.column == 0 {
                    return;
                }
                if t.o(OCRNL) {
                    c = b'\n';
                    if t.o(ONLRET) {
                        self.column = 0;
                        self.canon_column = 0;
                    }
                } else {
                    self.column = 0;
                    self.canon_column = 0;
                }
            }
            b'\t' => {
                let spaces = 8 - (self.column & 7);
                self.column = self.column.saturating_add(spaces);
                if t.oflag & TABDLY == XTABS {
                    out.extend(std::iter::repeat_n(b' ', spaces as usize));
                    return;
                }
            }
            8 => self.column = self.column.saturating_sub(1),
            _ => {
                if !iscntrl(c) {
                    if t.o(OLCUC) {
                        c = toupper(c);
                    }
                    if !Self::is_cont(t, c) {
                        self.column = self.column.saturating_add(1);
                    }
                }
            }
        }
        out.push_back(c);
    }

    /// What the slave writes: processes as much of `data` as fits in `room` bytes of output;
    /// returns how many bytes of `data` were consumed.
    pub fn write(
        &mut self,
        t: &Termios,
        data: &[u8],
        out: &mut VecDeque<u8>,
        room: usize,
    ) -> usize {
        if !t.o(OPOST) {
            let n = data.len().min(room);
            out.extend(&data[..n]);
            return n;
        }
        let mut used = 0;
        for (i, &c) in data.iter().enumerate() {
            let need = self.out_len(t, c);
            if used + need > room {
                return i;
            }
            self.output_char(t, c, out);
            used += need;
        }
        data.len()
    }

    // ---- echo ----

    /// An echoed byte: through OPOST processing when it is on.
    fn echo_out(&mut self, t: &Termios, c: u8, out: &mut VecDeque<u8>) {
        if t.o(OPOST) {
            self.output_char(t, c, out);
        } else {
            out.push_back(c);
        }
    }

    /// echo_char_raw: no ^X form.
    fn echo_raw(&mut self, t: &Termios, c: u8, out: &mut VecDeque<u8>) {
        if c == 0xff {
            out.push_back(c);
            self.column = self.column.saturating_add(1);
        } else {
            self.echo_out(t, c, out);
        }
    }

    /// echo_char: control characters as ^X under ECHOCTL.
    fn echo_char(&mut self, t: &Termios, c: u8, out: &mut VecDeque<u8>) {
        if c != 0xff && t.l(ECHOCTL) && iscntrl(c) && c != b'\t' {
            out.push_back(b'^');
            out.push_back(c ^ 0o100);
            self.column = self.column.saturating_add(2);
        } else {
            self.echo_raw(t, c, out);
        }
    }

    fn finish_erasing(&mut self, t: &Termios, out: &mut VecDeque<u8>) {
        if self.erasing {
            self.echo_raw(t, b'/', out);
            self.erasing = false;
        }
    }

    /// The echo of an input byte at the start or in the middle of a line.
    fn echo_input(&mut self, t: &Termios, c: u8, out: &mut VecDeque<u8>) {
        if self.at_line_start() {
            self.canon_column = self.column;
        }
        self.echo_char(t, c, out);
    }

    // ---- input ----

    /// Whether one more input byte may be processed now (Linux's receive room, with its
    /// overflow rule: a canonical line that fills the buffer keeps taking bytes, each
    /// replacing the last one, so that a newline can still end it).
    pub fn has_room(&mut self, t: &Termios) -> bool {
        let mut room = (N_TTY_BUF_SIZE - self.buf.len().min(N_TTY_BUF_SIZE)) as isize;
        if t.i(PARMRK) {
            room = (room + 2) / 3;
        }
        room -= 1;
        if room > 0 {
            return true;
        }
        let overflow = t.l(ICANON) && self.canon == 0;
        if overflow && room < 0 {
            self.buf.pop_back();
        }
        overflow
    }

    fn put(&mut self, c: u8) {
        self.buf.push_back(Cell { c, eol: false });
    }

    fn newline(&mut self, c: u8) {
        self.buf.push_back(Cell { c, eol: true });
        self.canon = self.buf.len();
    }

    /// Processes one byte of input.
    pub fn receive(&mut self, t: &Termios, c: u8, out: &mut VecDeque<u8>, fx: &mut Effects) {
        let mut c = c;
        if t.i(ISTRIP) {
            c &= 0x7f;
        }
        if t.i(IUCLC) && t.l(IEXTEN) {
            c = tolower(c);
        }
        if self.lnext {
            self.lnext = false;
            self.receive_char(t, c, out);
            return;
        }
        if t.l(EXTPROC) {
            self.put(c);
            return;
        }
        if special(t, c) {
            self.receive_special(t, c, out, fx);
        } else {
            self.receive_char(t, c, out);
        }
    }

    fn start(&mut self) {
        if self.stopped && !self.tco_stopped {
            self.stopped = false;
        }
    }

    fn receive_char(&mut self, t: &Termios, c: u8, out: &mut VecDeque<u8>) {
        if self.stopped && t.i(IXON) && t.i(IXANY) {
            self.start();
        }
        if t.l(ECHO) {
            self.finish_erasing(t, out);
            self.echo_input(t, c, out);
        }
        if c == 0xff && t.i(PARMRK) {
            self.put(c);
        }
        self.put(c);
    }

    fn receive_special(
        &mut self,
        t: &Termios,
        mut c: u8,
        out: &mut VecDeque<u8>,
        fx: &mut Effects,
    ) {
        if t.i(IXON) && (c == t.cc[VSTART] || c == t.cc[VSTOP]) {
            if c == t.cc[VSTART] {
                self.start();
            } else {
                self.stopped = true;
            }
            return;
        }
        if t.l(ISIG) {
            for (idx, sig) in [
                (VINTR, libc::SIGINT),
                (VQUIT, libc::SIGQUIT),
                (VSUSP, libc::SIGTSTP),
            ] {
                if c == t.cc[idx] {
                    self.signal_char(t, sig, c, out, fx);
                    return;
                }
            }
        }
        if self.stopped && t.i(IXON) && t.i(IXANY) {
            self.start();
        }
        if c == b'\r' {
            if t.i(IGNCR) {
                return;
            }
            if t.i(ICRNL) {
                c = b'\n';
            }
        } else if c == b'\n' && t.i(INLCR) {
            c = b'\r';
        }
        if t.l(ICANON) && self.receive_canon(t, c, out) {
            return;
        }
        if t.l(ECHO) {
            self.finish_erasing(t, out);
            if c == b'\n' {
                self.echo_raw(t, b'\n', out);
            } else {
                self.echo_input(t, c, out);
            }
        }
        if c == 0xff && t.i(PARMRK) {
            self.put(c);
        }
        self.put(c);
    }

    /// VINTR, VQUIT, VSUSP: the signal, a flush of input and of pending echoes (unless
    /// NOFLSH), and the echo.
    fn signal_char(
        &mut self,
        t: &Termios,
        sig: i32,
        c: u8,
        out: &mut VecDeque<u8>,
        fx: &mut Effects,
    ) {
        fx.signals.push(sig);
        if !t.l(NOFLSH) {
            out.truncate(fx.echo_mark);
            self.flush_input();
        }
        if t.i(IXON) {
            self.start();
        }
        if t.l(ECHO) {
            self.echo_char(t, c, out);
        }
    }

    /// Canonical-mode editing characters; false if `c` is an ordinary byte.
    fn receive_canon(&mut self, t: &Termios, c: u8, out: &mut VecDeque<u8>) -> bool {
        let iexten = t.l(IEXTEN);
        if t.is(VERASE, c) || t.is(VKILL, c) || (iexten && t.is(VWERASE, c)) {
            self.eraser(t, c, out);
            return true;
        }
        if iexten && t.is(VLNEXT, c) {
            self.lnext = true;
            if t.l(ECHO) {
                self.finish_erasing(t, out);
                if t.l(ECHOCTL) {
                    self.echo_raw(t, b'^', out);
                    self.echo_raw(t, 8, out);
                }
            }
            return true;
        }
        if t.l(ECHO) && iexten && t.is(VREPRINT, c) {
            self.finish_erasing(t, out);
            self.echo_char(t, c, out);
            self.echo_raw(t, b'\n', out);
            let line: Vec<u8> = self.buf.iter().skip(self.canon).map(|x| x.c).collect();
            for b in line {
                self.echo_char(t, b, out);
            }
            return true;
        }
        if c == b'\n' {
            if t.l(ECHO) || t.l(ECHONL) {
                self.echo_raw(t, b'\n', out);
            }
            self.newline(c);
            return true;
        }
        if t.is(VEOF, c) {
            self.newline(0);
            return true;
        }
        if t.is(VEOL, c) || (iexten && t.is(VEOL2, c)) {
            if t.l(ECHO) {
                self.echo_input(t, c, out);
            }
            if c == 0xff && t.i(PARMRK) {
                self.put(c);
            }
            self.newline(c);
            return true;
        }
        false
    }

    /// VERASE, VWERASE and VKILL on the line being edited.
    fn eraser(&mut self, t: &Termios, c: u8, out: &mut VecDeque<u8>) {
        #[derive(PartialEq)]
        enum Kind {
            Erase,
            Werase,
            Kill,
        }
        if self.at_line_start() {
            return;
        }
        let kind = if t.is(VERASE, c) {
            Kind::Erase
        } else if t.is(VWERASE, c) {
            Kind::Werase
        } else {
            if !t.l(ECHO) {
                self.buf.truncate(self.canon);
                return;
            }
            if !t.l(ECHOK) || !t.l(ECHOKE) || !t.l(ECHOE) {
                self.buf.truncate(self.canon);
                self.finish_erasing(t, out);
                self.echo_char(t, t.cc[VKILL], out);
                if t.l(ECHOK) {
                    self.echo_raw(t, b'\n', out);
                }
                return;
            }
            Kind::Kill
        };
        let mut seen_alnums = 0;
        while self.buf.len() > self.canon {
            let mut head = self.buf.len();
            let mut ch;
            loop {
                head -= 1;
                ch = self.buf[head].c;
                if !(Self::is_cont(t, ch) && head != self.canon) {
                    break;
                }
            }
            if Self::is_cont(t, ch) {
                break;
            }
            if kind == Kind::Werase {
                if isalnum(ch) || ch == b'_' {
                    seen_alnums += 1;
                } else if seen_alnums > 0 {
                    break;
                }
            }
            let erased: Vec<u8> = self.buf.iter().skip(head).map(|x| x.c).collect();
            self.buf.truncate(head);
            if t.l(ECHO) {
                self.echo_erase(t, kind == Kind::Erase, &erased, out);
            }
            if kind == Kind::Erase {
                break;
            }
        }
        if self.at_line_start() && t.l(ECHO) {
            self.finish_erasing(t, out);
        }
    }

    /// The echo of one erased character (`erased`: its bytes).
    fn echo_erase(&mut self, t: &Termios, erase: bool, erased: &[u8], out: &mut VecDeque<u8>) {
        let ch = erased[0];
        if t.l(ECHOPRT) {
            if !self.erasing {
                self.echo_raw(t, b'\\', out);
                self.erasing = true;
            }
            self.echo_char(t, ch, out);
            for &b in &erased[1..] {
                self.echo_raw(t, b, out);
                self.column = self.column.saturating_sub(1);
            }
        } else if erase && !t.l(ECHOE) {
            self.echo_char(t, t.cc[VERASE], out);
        } else if ch == b'\t' {
            // Columns used since the start of the line or the previous tab.
            let mut num = 0u32;
            let mut after_tab = false;
            for cell in self.buf.iter().skip(self.canon).rev() {
                if cell.c == b'\t' {
                    after_tab = true;
                    break;
                } else if iscntrl(cell.c) {
                    if t.l(ECHOCTL) {
                        num += 2;
                    }
                } else if !Self::is_cont(t, cell.c) {
                    num += 1;
                }
            }
            if !after_tab {
                num += self.canon_column;
            }
            for _ in 0..8 - (num & 7) {
                out.push_back(8);
                self.column = self.column.saturating_sub(1);
            }
        } else {
            let cntrl = iscntrl(ch);
            let echoctl = t.l(ECHOCTL);
            let times = usize::from(cntrl && echoctl) + usize::from(!cntrl || echoctl);
            for _ in 0..times {
                for b in [8, b' ', 8] {
                    self.echo_raw(t, b, out);
                }
            }
        }
    }

    // ---- reading ----

    /// Whether a read would find input (`poll`: as poll asks, honouring VMIN).
    pub fn readable(&self, t: &Termios, poll: bool) -> bool {
        if t.l(ICANON) && !t.l(EXTPROC) {
            return self.canon > 0;
        }
        let (vmin, vtime) = (t.cc[VMIN] as usize, t.cc[VTIME]);
        let amt = if poll && vtime == 0 && vmin > 0 {
            vmin
        } else {
            1
        };
        self.buf.len() >= amt
    }

    /// Canonical read: at most one line (Linux's canon_copy_from_read_buf); a line ended by
    /// VEOF gives its bytes without the end, and an empty one gives 0.
    pub fn read_canon(&mut self, dst: &mut [u8]) -> usize {
        let n = dst.len().min(self.canon);
        let eol = self.buf.iter().take(n).position(|x| x.eol);
        let (take, copy) = match eol {
            Some(i) if self.buf[i].c == 0 => (i + 1, i),
            Some(i) => (i + 1, i + 1),
            None => (n, n),
        };
        for (d, cell) in dst.iter_mut().zip(self.buf.drain(..take)).take(copy) {
            *d = cell.c;
        }
        self.canon -= take;
        // A read that filled the buffer right before a VEOF eats the VEOF.
        if eol.is_none() && copy == dst.len() && self.canon > 0 {
            if let Some(front) = self.buf.front() {
                if front.eol && front.c == 0 {
                    self.buf.pop_front();
                    self.canon -= 1;
                }
            }
        }
        copy
    }

    /// Non-canonical read: whatever is there.
    pub fn read_raw(&mut self, dst: &mut [u8]) -> usize {
        let n = dst.len().min(self.buf.len());
        for (d, cell) in dst.iter_mut().zip(self.buf.drain(..n)) {
            *d = cell.c;
        }
        self.canon = self.canon.saturating_sub(n);
        n
    }

    /// FIONREAD: whole lines in canonical mode (less their VEOF marks), else everything.
    pub fn inq(&self, t: &Termios) -> usize {
        if t.l(ICANON) && !t.l(EXTPROC) {
            let eofs = self
                .buf
                .iter()
                .take(self.canon)
                .filter(|x| x.eol && x.c == 0)
                .count();
            self.canon - eofs
        } else {
            self.buf.len()
        }
    }

    /// Drops all input.
    pub fn flush_input(&mut self) {
        self.buf.clear();
        self.canon = 0;
        self.erasing = false;
    }

    /// New settings (n_tty_set_termios): switching ICANON turns pending input into one line
    /// or into plain bytes.
    pub fn set_termios(&mut self, old: &Termios, new: &Termios) {
        if (old.lflag ^ new.lflag) & (ICANON | EXTPROC) != 0 {
            for cell in self.buf.iter_mut() {
                cell.eol = false;
            }
            if !new.l(ICANON) || self.buf.is_empty() {
                self.canon = 0;
            } else {
                if let Some(last) = self.buf.back_mut() {
                    last.eol = true;
                }
                self.canon = self.buf.len();
            }
            self.erasing = false;
            self.lnext = false;
        }
        if !new.i(IXON) && old.i(IXON) && !self.tco_stopped {
            self.stopped = false;
        }
    }
}

#[cfg(test)]
#[path = "ldisc_tests.rs"]
mod tests;
