//! Unit tests of the line discipline, checked against what Linux does.

use super::*;

fn feed(l: &mut Ldisc, t: &Termios, input: &[u8]) -> (Vec<u8>, Vec<i32>) {
    let mut out = VecDeque::new();
    let mut fx = Effects::default();
    for &c in input {
        assert!(l.has_room(t));
        l.receive(t, c, &mut out, &mut fx);
    }
    (out.into_iter().collect(), fx.signals)
}

fn line(l: &mut Ldisc) -> Vec<u8> {
    let mut b = [0u8; 256];
    let n = l.read_canon(&mut b);
    b[..n].to_vec()
}

#[test]
fn canonical_editing_and_echo() {
    let t = Termios::default();
    let mut l = Ldisc::default();
    let cases: [(&[u8], &[u8], &[u8]); 6] = [
        (b"ab\x7fc\n", b"ab\x08 \x08c\r\n", b"ac\n"),
        (
            b"xyz\x15ok\n",
            b"xyz\x08 \x08\x08 \x08\x08 \x08ok\r\n",
            b"ok\n",
        ),
        (
            b"foo bar\x17baz\n",
            b"foo bar\x08 \x08\x08 \x08\x08 \x08baz\r\n",
            b"foo baz\n",
        ),
        (b"\x01\x7f\n", b"^A\x08 \x08\x08 \x08\r\n", b"\n"),
        (b"\x16\x7f\n", b"^\x08^?\r\n", b"\x7f\n"),
        (b"hi\r", b"hi\r\n", b"hi\n"),
    ];
    for (input, echo, read) in cases {
        let (out, sigs) = feed(&mut l, &t, input);
        assert_eq!(out, echo, "echo of {input:?}");
        assert!(sigs.is_empty());
        assert_eq!(line(&mut l), read, "line of {input:?}");
    }
}

#[test]
fn eof_and_partial_lines() {
    let t = Termios::default();
    let mut l = Ldisc::default();
    let (out, _) = feed(&mut l, &t, b"abc\x04");
    assert_eq!(out, b"abc");
    assert_eq!(l.inq(&t), 3);
    assert_eq!(line(&mut l), b"abc");
    feed(&mut l, &t, b"\x04");
    assert!(l.readable(&t, false));
    assert_eq!(line(&mut l), b"");
    feed(&mut l, &t, b"part");
    assert!(!l.readable(&t, false));
    assert_eq!(l.inq(&t), 0);
    // A buffer filled right before a VEOF eats it.
    feed(&mut l, &t, b"\x04");
    let mut b = [0u8; 4];
    assert_eq!(l.read_canon(&mut b), 4);
    assert!(!l.readable(&t, false));
}

#[test]
fn signals_flush_and_echo() {
    let t = Termios::default();
    let mut l = Ldisc::default();
    let (out, sigs) = feed(&mut l, &t, b"abc\x03d\n");
    assert_eq!(out, b"^Cd\r\n");
    assert_eq!(sigs, vec![libc::SIGINT]);
    assert_eq!(line(&mut l), b"d\n");
    let (_, sigs) = feed(&mut l, &t, b"\x1c\x1a");
    assert_eq!(sigs, vec![libc::SIGQUIT, libc::SIGTSTP]);
}

#[test]
fn output_processing() {
    let mut t = Termios::default();
    let mut l = Ldisc::default();
    let mut out = VecDeque::new();
    assert_eq!(l.write(&t, b"x\ny\n", &mut out, 100), 4);
    assert_eq!(out.drain(..).collect::<Vec<_>>(), b"x\r\ny\r\n");
    t.oflag |= XTABS;
    l.write(&t, b"\rab\tc\t", &mut out, 100);
    assert_eq!(out.drain(..).collect::<Vec<_>>(), b"\rab      c       ");
    // Room limits what is consumed; a CR-LF pair is never split.
    t.oflag &= !XTABS;
    assert_eq!(l.write(&t, b"a\nb", &mut out, 2), 1);
    t.oflag &= !OPOST;
    out.clear();
    assert_eq!(l.write(&t, b"r\ns\r", &mut out, 3), 3);
    assert_eq!(out.drain(..).collect::<Vec<_>>(), b"r\ns");
}

#[test]
fn raw_mode_and_switching() {
    let mut t = Termios::default();
    t.lflag &= !(ICANON | ECHO);
    let mut l = Ldisc::default();
    let (out, sigs) = feed(&mut l, &t, b"\x03ab");
    assert!(out.is_empty());
    assert_eq!(sigs, vec![libc::SIGINT]);
    t.lflag &= !ISIG;
    feed(&mut l, &t, b"\x03ab");
    assert!(l.readable(&t, false));
    t.cc[VMIN] = 6;
    assert!(!l.readable(&t, true));
    // Back to canonical: the pending bytes form one line.
    let canon = Termios::default();
    l.set_termios(&t, &canon);
    assert_eq!(line(&mut l), b"ab\x03ab");
}

#[test]
fn overflowing_line_keeps_room_for_newline() {
    let t = Termios {
        lflag: ICANON,
        ..Termios::default()
    };
    let mut l = Ldisc::default();
    let mut out = VecDeque::new();
    let mut fx = Effects::default();
    for _ in 0..5000 {
        assert!(l.has_room(&t));
        l.receive(&t, b'x', &mut out, &mut fx);
    }
    assert!(l.has_room(&t));
    l.receive(&t, b'\n', &mut out, &mut fx);
    assert!(l.readable(&t, false));
    assert_eq!(l.inq(&t), N_TTY_BUF_SIZE);
}

#[test]
fn signal_drops_pending_echo_only() {
    let t = Termios::default();
    let mut l = Ldisc::default();
    let mut out: VecDeque<u8> = b"old".iter().copied().collect();
    let mut fx = Effects {
        echo_mark: 3,
        ..Effects::default()
    };
    for &c in b"ab\x03" {
        l.receive(&t, c, &mut out, &mut fx);
    }
    assert_eq!(out.into_iter().collect::<Vec<_>>(), b"old^C");
    assert_eq!(fx.signals, vec![libc::SIGINT]);
}
