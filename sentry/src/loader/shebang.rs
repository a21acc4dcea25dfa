//! `#!` scripts, parsed exactly as Linux's `fs/binfmt_script.c` parses them.
//!
//! Linux looks only at the first [`BINPRM_BUF_SIZE`] bytes of the file (zero-padded when
//! the file is shorter). The behaviour below was checked against a Linux 6.18 kernel,
//! quirks included:
//! - The line ends at the first `'\n'`; a NUL before any `'\n'` hides the newline, and the
//!   line then runs to the end of the buffer (but the strings stop at the NUL, see below).
//! - Without a newline, the interpreter name must be followed by a space, tab or NUL
//!   within the buffer, else the name may be truncated and execve fails with `ENOEXEC`.
//!   The argument, however, is silently truncated, and the buffer's last byte (the 256th)
//!   is always dropped from it.
//! - Trailing spaces/tabs are trimmed only at the end of the line or buffer, so for a file
//!   without newline shorter than the buffer they stay in the argument (`"#!/bin/sh -x  "`
//!   gives the argument `"-x  "`), and `"#!/bin/sh "` gives an *empty* argument.
//! - The name and argument are C strings: both stop at the first NUL. `'\r'` is an
//!   ordinary character (CRLF scripts get `"sh\r"` or an argument ending in `'\r'`).
//! - An empty name (`"#!"` followed by NUL or end of file) is looked up as `""`, which
//!   resolves to the working directory, a directory, so execve fails with `EACCES`.

use super::LoadError;
use std::io;

/// How many bytes at the start of a file Linux reads to recognize its format.
pub const BINPRM_BUF_SIZE: usize = 256;

/// A parsed `#!` line: the interpreter path and its optional single argument.
pub type Script = (Vec<u8>, Option<Vec<u8>>);

fn spacetab(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

/// The C string starting at `buf[start]`.
fn cstr(buf: &[u8], start: usize) -> Vec<u8> {
    let tail = buf.get(start..).unwrap_or(&[]);
    let len = tail.iter().position(|&c| c == 0).unwrap_or(tail.len());
    tail[..len].to_vec()
}

/// Parses a `#!` line as Linux's binfmt_script does.
///
/// `head` is the start of the file; only its first [`BINPRM_BUF_SIZE`] bytes are looked at,
/// and a shorter `head` is taken to be the whole file (so pass all of it when the file is
/// short, and at least 256 bytes otherwise). The line ends at `'\n'` or at the buffer end;
/// leading spaces/tabs are skipped; the interpreter name runs up to the first space, tab or
/// NUL; the rest, with leading spaces/tabs skipped and trailing ones trimmed (see the
/// module docs for when Linux does not trim), is ONE optional argument.
///
/// Returns `Ok(None)` if `head` does not start with `#!` (not a script), and otherwise
/// `Ok(Some((interpreter, argument)))`. Errors:
/// - `BadScript` (`ENOEXEC`): no interpreter name, or the name may be truncated;
/// - `Io(PermissionDenied)` (`EACCES`): the name is empty because a NUL follows the
///   `#!` and its spaces (Linux tries to execute `""`, i.e. the working directory).
pub fn parse(head: &[u8]) -> Result<Option<Script>, LoadError> {
    let mut buf = [0u8; BINPRM_BUF_SIZE];
    let n = head.len().min(BINPRM_BUF_SIZE);
    buf[..n].copy_from_slice(&head[..n]);
    if buf[0] != b'#' || buf[1] != b'!' {
        return Ok(None);
    }
    let last = BINPRM_BUF_SIZE - 1;

    // The end of the line: the first '\n' before any NUL (strnchr semantics).
    let newline = buf
        .iter()
        .take_while(|&&c| c != 0)
        .position(|&c| c == b'\n');
    let mut end = match newline {
        Some(i) => i,
        None => {
            let Some(first) = (2..=last).find(|&i| !spacetab(buf[i])) else {
                return Err(LoadError::BadScript(
                    "the line is only spaces and tabs".into(),
                ));
            };
            if !(first..=last).any(|i| spacetab(buf[i]) || buf[i] == 0) {
                return Err(LoadError::BadScript(format!(
                    "interpreter name does not end within the first {BINPRM_BUF_SIZE} bytes"
                )));
            }
            last
        }
    };
    // Trim trailing spaces/tabs before `end` (buf[1] is '!', so this stops at 2).
    while end > 2 && spacetab(buf[end - 1]) {
        end -= 1;
    }

    let name_start = match (2..=end).find(|&i| !spacetab(buf[i])) {
        Some(i) if i != end => i,
        _ => return Err(LoadError::BadScript("no interpreter name".into())),
    };
    let sep = (name_start..=end).find(|&i| spacetab(buf[i]) || buf[i] == 0);
    let arg_start = match sep {
        Some(s) if buf[s] != 0 => (s..=end).find(|&i| !spacetab(buf[i])),
        _ => None,
    };

    // Linux writes NULs at the line end and after the name, then takes C strings.
    buf[end] = 0;
    if let (Some(s), Some(_)) = (sep, arg_start) {
        buf[s] = 0;
    }
    let name = cstr(&buf, name_start);
    if name.is_empty() {
        return Err(LoadError::Io(io::Error::new(
            io::ErrorKind::PermissionDenied,
            "empty interpreter name in #! line",
        )));
    }
    Ok(Some((name, arg_start.map(|a| cstr(&buf, a)))))
}

#[cfg(test)]
mod tests {
    use super::*;

    type Parsed = Option<Script>;

    fn ok(head: &[u8]) -> Parsed {
        parse(head).unwrap_or_else(|e| panic!("{:?}: {e}", String::from_utf8_lossy(head)))
    }

    fn some(name: &str, arg: Option<&str>) -> Parsed {
        Some((name.into(), arg.map(Into::into)))
    }

    fn errno(head: &[u8]) -> i32 {
        parse(head).expect_err("should fail").errno()
    }

    #[test]
    fn not_a_script() {
        assert_eq!(ok(b""), None);
        assert_eq!(ok(b"#"), None);
        assert_eq!(ok(b"\x7fELF"), None);
        assert_eq!(ok(b" #!/bin/sh"), None);
    }

    #[test]
    fn linux_cases() {
        assert_eq!(ok(b"#!/bin/sh\necho hi\n"), some("/bin/sh", None));
        assert_eq!(ok(b"#!/bin/sh"), some("/bin/sh", None));
        assert_eq!(ok(b"#! /bin/sh -x\n"), some("/bin/sh", Some("-x")));
        assert_eq!(
            ok(b"#!/usr/bin/env  python3  -u  \n"),
            some("/usr/bin/env", Some("python3  -u"))
        );
        assert_eq!(ok(b"#!\t/bin/sh\t-a b\t\n"), some("/bin/sh", Some("-a b")));
        assert_eq!(ok(b"#!/bin/sh -x\r\n"), some("/bin/sh", Some("-x\r")));
        assert_eq!(ok(b"#!/bin/sh\r\n"), some("/bin/sh\r", None));
        assert_eq!(ok(b"#!/bin/sh   \n"), some("/bin/sh", None));
        // NULs end the strings, and a NUL hides a later newline.
        assert_eq!(ok(b"#!/bin/sh -a\0b\n"), some("/bin/sh", Some("-a")));
        assert_eq!(ok(b"#!/bin/sh\0 -a\n"), some("/bin/sh", None));
    }

    #[test]
    fn no_newline_quirks() {
        // Verified on Linux 6.18: without a newline, trailing blanks are not trimmed.
        let env = b"#!/usr/bin/env  python3  -u  ";
        assert_eq!(ok(env), some("/usr/bin/env", Some("python3  -u  ")));
        assert_eq!(ok(b"#!/bin/sh "), some("/bin/sh", Some("")));
        assert_eq!(ok(b"#!/bin/sh\t\t"), some("/bin/sh", Some("")));
    }

    #[test]
    fn errors() {
        for head in [&b"#!\n"[..], b"#!   \n", b"#!\t \t\nfoo"] {
            assert!(
                matches!(parse(head), Err(LoadError::BadScript(_))),
                "{head:?}"
            );
            assert_eq!(errno(head), 8);
        }
        // Empty name: Linux executes "" and fails with EACCES.
        assert_eq!(errno(b"#!"), 13);
        assert_eq!(errno(b"#!   "), 13);
        assert_eq!(errno(b"#!\0/bin/sh\n"), 13);
        // A full buffer of blanks.
        let mut blank = b"#!".to_vec();
        blank.resize(300, b' ');
        assert_eq!(errno(&blank), 8);
    }

    #[test]
    fn long_lines() {
        // Interpreter name running past the buffer: possibly truncated, ENOEXEC.
        let mut long_name = b"#!/".to_vec();
        long_name.resize(300, b'a');
        long_name.push(b'\n');
        assert_eq!(errno(&long_name), 8);
        // Exactly 256 bytes with no terminator is just as ambiguous.
        assert_eq!(errno(&long_name[..256]), 8);
        // Name followed by a blank at the last byte: accepted, no argument.
        let mut edge = b"#!".to_vec();
        edge.resize(255, b'c');
        edge.extend_from_slice(b" zzzz\n");
        let (name, arg) = ok(&edge).unwrap();
        assert_eq!((name.len(), arg), (253, None));
        // Long argument: silently truncated, and the 256th byte is dropped (242 = 255 - 13).
        let mut long_arg = b"#!/tmp/sb/pa ".to_vec();
        long_arg.resize(400, b'a');
        long_arg.push(b'\n');
        assert_eq!(ok(&long_arg), some("/tmp/sb/pa", Some(&"a".repeat(242))));
        // Leading blanks filling the buffer: no name found.
        let mut blanks = b"#!".to_vec();
        blanks.resize(300, b' ');
        blanks.extend_from_slice(b"/bin/sh\n");
        assert_eq!(errno(&blanks), 8);
        // Name, then blanks to the end of the buffer: trimmed, no argument.
        let mut trailing = b"#!/bin/sh".to_vec();
        trailing.resize(300, b' ');
        trailing.push(b'x');
        assert_eq!(ok(&trailing), some("/bin/sh", None));
    }

    #[test]
    fn never_panics() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let alphabet = b"#! \t\n\0a/";
        for _ in 0..20_000 {
            let len = 2 + (state % 300) as usize;
            let mut head = b"#!".to_vec();
            while head.len() < len {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                head.push(alphabet[(state % alphabet.len() as u64) as usize]);
            }
            if let Ok(Some((name, arg))) = parse(&head) {
                assert!(!name.is_empty() && !name.contains(&0));
                assert!(!name.iter().any(|&c| spacetab(c) || c == b'\n'));
                assert!(!arg.unwrap_or_default().contains(&0));
            }
        }
    }
}
