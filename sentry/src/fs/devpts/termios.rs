//! `struct termios` of a pseudo-terminal (one per pair, as Linux keeps it on the slave), its
//! wire forms for the TCGETS/TCSETS (`struct termios`), TCGETS2 (`struct termios2`) and TCGETA
//! (`struct termio`) families, baud rates, and `struct winsize`.

/// Number of control characters in the kernel's `struct termios` (x86-64).
pub const NCCS: usize = 19;

// Control character indices.
pub const VINTR: usize = 0;
pub const VQUIT: usize = 1;
pub const VERASE: usize = 2;
pub const VKILL: usize = 3;
pub const VEOF: usize = 4;
pub const VTIME: usize = 5;
pub const VMIN: usize = 6;
pub const VSTART: usize = 8;
pub const VSTOP: usize = 9;
pub const VSUSP: usize = 10;
pub const VEOL: usize = 11;
pub const VREPRINT: usize = 12;
pub const VWERASE: usize = 14;
pub const VLNEXT: usize = 15;
pub const VEOL2: usize = 16;

// c_iflag.
pub const ISTRIP: u32 = 0o40;
pub const INLCR: u32 = 0o100;
pub const IGNCR: u32 = 0o200;
pub const ICRNL: u32 = 0o400;
pub const IUCLC: u32 = 0o1000;
pub const IXON: u32 = 0o2000;
pub const IXANY: u32 = 0o4000;
pub const PARMRK: u32 = 0o10;
pub const IUTF8: u32 = 0o40000;

// c_oflag.
pub const OPOST: u32 = 0o1;
pub const OLCUC: u32 = 0o2;
pub const ONLCR: u32 = 0o4;
pub const OCRNL: u32 = 0o10;
pub const ONOCR: u32 = 0o20;
pub const ONLRET: u32 = 0o40;
pub const TABDLY: u32 = 0o14000;
pub const XTABS: u32 = 0o14000;

// c_cflag.
pub const CBAUD: u32 = 0o10017;
pub const CBAUDEX: u32 = 0o10000;
pub const BOTHER: u32 = 0o10000;
pub const B38400: u32 = 0o17;
pub const CSIZE: u32 = 0o60;
pub const CS8: u32 = 0o60;
pub const CREAD: u32 = 0o200;
pub const PARENB: u32 = 0o400;
pub const HUPCL: u32 = 0o2000;
pub const IBSHIFT: u32 = 16;

// c_lflag.
pub const ISIG: u32 = 0o1;
pub const ICANON: u32 = 0o2;
pub const ECHO: u32 = 0o10;
pub const ECHOE: u32 = 0o20;
pub const ECHOK: u32 = 0o40;
pub const ECHONL: u32 = 0o100;
pub const NOFLSH: u32 = 0o200;
pub const TOSTOP: u32 = 0o400;
pub const ECHOCTL: u32 = 0o1000;
pub const ECHOPRT: u32 = 0o2000;
pub const ECHOKE: u32 = 0o4000;
pub const IEXTEN: u32 = 0o100000;
pub const EXTPROC: u32 = 0o200000;

/// Bytes of `struct termios` (TCGETS), `struct termios2` (TCGETS2) and `struct termio`
/// (TCGETA).
pub const TERMIOS_SIZE: usize = 36;
pub const TERMIOS2_SIZE: usize = 44;
pub const TERMIO_SIZE: usize = 18;

/// Speeds of the B0..B38400 and B57600..B4000000 codes.
const BAUD_TABLE: [u32; 31] = [
    0, 50, 75, 110, 134, 150, 200, 300, 600, 1200, 1800, 2400, 4800, 9600, 19200, 38400, 57600,
    115_200, 230_400, 460_800, 500_000, 576_000, 921_600, 1_000_000, 1_152_000, 1_500_000,
    2_000_000, 2_500_000, 3_000_000, 3_500_000, 4_000_000,
];

/// A kernel `struct ktermios`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Termios {
    pub iflag: u32,
    pub oflag: u32,
    pub cflag: u32,
    pub lflag: u32,
    pub line: u8,
    pub cc: [u8; NCCS],
    pub ispeed: u32,
    pub ospeed: u32,
}

impl Default for Termios {
    /// A pty slave's initial settings (Linux's `tty_std_termios`, with `B38400 | CS8 |
    /// CREAD`).
    fn default() -> Termios {
        Termios {
            iflag: ICRNL | IXON,
            oflag: OPOST | ONLCR,
            cflag: B38400 | CS8 | CREAD,
            lflag: ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN,
            line: 0,
            cc: [
                3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22, 0, 0, 0,
            ],
            ispeed: 38400,
            ospeed: 38400,
        }
    }
}

fn word(b: &[u8], i: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[i * 4..i * 4 + 4]);
    u32::from_le_bytes(w)
}

impl Termios {
    pub fn i(&self, f: u32) -> bool {
        self.iflag & f != 0
    }
    pub fn o(&self, f: u32) -> bool {
        self.oflag & f != 0
    }
    pub fn l(&self, f: u32) -> bool {
        self.lflag & f != 0
    }
    /// Whether `c` is the (enabled) control character at `idx`.
    pub fn is(&self, idx: usize, c: u8) -> bool {
        self.cc[idx] != 0 && self.cc[idx] == c
    }

    /// `struct termios` (TCGETS).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(TERMIOS2_SIZE);
        for w in [self.iflag, self.oflag, self.cflag, self.lflag] {
            b.extend_from_slice(&w.to_le_bytes());
        }
        b.push(self.line);
        b.extend_from_slice(&self.cc);
        b
    }

    /// `struct termios2` (TCGETS2).
    pub fn to_bytes2(&self) -> Vec<u8> {
        let mut b = self.to_bytes();
        b.extend_from_slice(&self.ispeed.to_le_bytes());
        b.extend_from_slice(&self.ospeed.to_le_bytes());
        b
    }

    /// `struct termio` (TCGETA): the low halves of the flags and the first 8 control
    /// characters.
    pub fn to_termio(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(TERMIO_SIZE);
        for w in [self.iflag, self.oflag, self.cflag, self.lflag] {
            b.extend_from_slice(&(w as u16).to_le_bytes());
        }
        b.push(self.line);
        b.extend_from_slice(&self.cc[..8]);
        b.push(0);
        b
    }

    /// The settings a TCSETS* request asks for: `b` is a `struct termios` (36 bytes) or a
    /// `struct termios2` (44 bytes); speeds follow the baud codes as Linux's set_termios does.
    pub fn from_bytes(&self, b: &[u8]) -> Termios {
        let mut t = *self;
        t.iflag = word(b, 0);
        t.oflag = word(b, 1);
        t.cflag = word(b, 2);
        t.lflag = word(b, 3);
        t.line = b[16];
        t.cc.copy_from_slice(&b[17..17 + NCCS]);
        if b.len() >= TERMIOS2_SIZE {
            t.ispeed = word(b, 9);
            t.ospeed = word(b, 10);
        }
        t.ispeed = t.input_baud();
        t.ospeed = t.output_baud();
        t
    }

    /// The settings a TCSETA* request asks for (`struct termio`): the high halves of the
    /// flags are kept.
    pub fn from_termio(&self, b: &[u8]) -> Termios {
        let mut t = *self;
        let half = |i: usize| u32::from(u16::from_le_bytes([b[2 * i], b[2 * i + 1]]));
        t.iflag = (t.iflag & 0xffff_0000) | half(0);
        t.oflag = (t.oflag & 0xffff_0000) | half(1);
        t.cflag = (t.cflag & 0xffff_0000) | half(2);
        t.lflag = (t.lflag & 0xffff_0000) | half(3);
        t.line = b[8];
        t.cc[..8].copy_from_slice(&b[9..17]);
        t.ispeed = t.input_baud();
        t.ospeed = t.output_baud();
        t
    }

    fn baud_of(&self, code: u32, other: u32) -> u32 {
        let mut idx = code & CBAUD;
        if idx == BOTHER {
            return other;
        }
        if idx & CBAUDEX != 0 {
            idx = (idx & !CBAUDEX) + 15;
        }
        BAUD_TABLE.get(idx as usize).copied().unwrap_or(0)
    }

    /// Output speed (tty_termios_baud_rate).
    pub fn output_baud(&self) -> u32 {
        self.baud_of(self.cflag, self.ospeed)
    }

    /// Input speed (tty_termios_input_baud_rate): the output speed when CIBAUD is B0.
    pub fn input_baud(&self) -> u32 {
        let code = (self.cflag >> IBSHIFT) & CBAUD;
        if code == 0 {
            return self.output_baud();
        }
        self.baud_of(code, self.ispeed)
    }

    /// What a pty makes of new settings (pty_set_termios): 8 data bits, no parity, receiver
    /// on.
    pub fn fix_for_pty(&mut self) {
        self.cflag &= !(CSIZE | PARENB);
        self.cflag |= CS8 | CREAD;
    }
}

/// The master's own settings (never changed: its TCSETS act on the slave): raw.
pub fn master_termios() -> Termios {
    Termios {
        iflag: 0,
        oflag: 0,
        lflag: 0,
        ..Termios::default()
    }
}

/// `struct winsize`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Winsize(pub [u8; 8]);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_round_trip() {
        let t = Termios::default();
        assert_eq!(t.cflag, 0o277);
        assert_eq!(t.lflag, 0o105073);
        let b = t.to_bytes();
        assert_eq!(b.len(), TERMIOS_SIZE);
        assert_eq!(t.from_bytes(&b), t);
        let b2 = t.to_bytes2();
        assert_eq!(b2.len(), TERMIOS2_SIZE);
        assert_eq!(t.from_bytes(&b2), t);
        assert_eq!(t.to_termio().len(), TERMIO_SIZE);
        assert_eq!(t.from_termio(&t.to_termio()), t);
    }

    #[test]
    fn speeds() {
        let mut t = Termios::default();
        t.cflag = (t.cflag & !CBAUD) | 0o15; // B9600
        assert_eq!(t.output_baud(), 9600);
        assert_eq!(t.input_baud(), 9600);
        t.cflag = (t.cflag & !CBAUD) | 0o10002; // B115200
        assert_eq!(t.output_baud(), 115_200);
        t.cflag = (t.cflag & !CBAUD) | BOTHER;
        t.ospeed = 12345;
        assert_eq!(t.output_baud(), 12345);
        t.cflag = (t.cflag & !CBAUD) | 0o10017; // B4000000
        assert_eq!(t.output_baud(), 4_000_000);
    }

    #[test]
    fn pty_forces_cs8() {
        let mut t = Termios::default();
        t.cflag = (t.cflag & !(CSIZE | CREAD)) | 0o40 | PARENB;
        t.fix_for_pty();
        assert_eq!(t.cflag & CSIZE, CS8);
        assert_eq!(t.cflag & (PARENB | CREAD), CREAD);
    }
}
