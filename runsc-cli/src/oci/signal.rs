//! Signal names and numbers for `rvisor kill`.
//!
//! containerd's shim passes a decimal number (`kill <id> 9`), the runtime-tools suite a name
//! (`kill <id> TERM`); users type `SIGKILL` or `sigterm`. All are accepted. Numbers are the
//! x86-64 Linux ones the Sentry uses; real-time signals are `RTMIN` (34, as glibc and
//! `kill -l` number them) to `RTMAX` (64), also as `RTMIN+N` / `RTMAX-N`.

use thiserror::Error;

/// The highest signal number.
pub const SIGRTMAX: i32 = 64;
/// The lowest real-time signal number available to applications (32 and 33 belong to the
/// threading library).
pub const SIGRTMIN: i32 = 34;

/// `(name without SIG, number)`; the first entry for a number is its canonical name.
const SIGNALS: &[(&str, i32)] = &[
    ("HUP", 1),
    ("INT", 2),
    ("QUIT", 3),
    ("ILL", 4),
    ("TRAP", 5),
    ("ABRT", 6),
    ("IOT", 6),
    ("BUS", 7),
    ("FPE", 8),
    ("KILL", 9),
    ("USR1", 10),
    ("SEGV", 11),
    ("USR2", 12),
    ("PIPE", 13),
    ("ALRM", 14),
    ("TERM", 15),
    ("STKFLT", 16),
    ("CHLD", 17),
    ("CLD", 17),
    ("CONT", 18),
    ("STOP", 19),
    ("TSTP", 20),
    ("TTIN", 21),
    ("TTOU", 22),
    ("URG", 23),
    ("XCPU", 24),
    ("XFSZ", 25),
    ("VTALRM", 26),
    ("PROF", 27),
    ("WINCH", 28),
    ("IO", 29),
    ("POLL", 29),
    ("PWR", 30),
    ("SYS", 31),
];

/// A signal that `kill` cannot send.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SignalError {
    /// Not a known name.
    #[error("unknown signal {0:?}")]
    Unknown(String),
    /// A number outside 0..=64.
    #[error("invalid signal number {0} (valid: 0 to 64)")]
    OutOfRange(i64),
}

/// Parses `"9"`, `"KILL"`, `"SIGKILL"`, `"sigkill"`, `"RTMIN+2"`, `"SIGRTMAX-1"` into a signal
/// number. `"0"` is accepted (runc passes numbers through unchecked; signal 0 probes whether
/// the process exists).
pub fn parse_signal(s: &str) -> Result<i32, SignalError> {
    let t = s.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        let n: i64 = t.parse().unwrap_or(i64::MAX);
        return if (0..=i64::from(SIGRTMAX)).contains(&n) {
            Ok(n as i32)
        } else {
            Err(SignalError::OutOfRange(n))
        };
    }
    let upper = t.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    if let Some(&(_, n)) = SIGNALS.iter().find(|(sig, _)| *sig == name) {
        return Ok(n);
    }
    let unknown = || SignalError::Unknown(s.to_string());
    let rt = |base: i32, rest: &str, sign: i32| -> Result<i32, SignalError> {
        let off: i32 = if rest.is_empty() {
            0
        } else {
            let digits = rest
                .strip_prefix(if sign > 0 { '+' } else { '-' })
                .ok_or_else(unknown)?;
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(unknown());
            }
            digits.parse().map_err(|_| unknown())?
        };
        let n = base + sign * off;
        if (SIGRTMIN..=SIGRTMAX).contains(&n) {
            Ok(n)
        } else {
            Err(unknown())
        }
    };
    if let Some(rest) = name.strip_prefix("RTMIN") {
        rt(SIGRTMIN, rest, 1)
    } else if let Some(rest) = name.strip_prefix("RTMAX") {
        rt(SIGRTMAX, rest, -1)
    } else {
        Err(unknown())
    }
}

/// The conventional name of signal `n` (`9` → `"SIGKILL"`, `36` → `"SIGRTMIN+2"`).
pub fn signal_name(n: i32) -> Option<String> {
    if let Some((name, _)) = SIGNALS.iter().find(|(_, num)| *num == n) {
        return Some(format!("SIG{name}"));
    }
    match n {
        SIGRTMIN => Some("SIGRTMIN".into()),
        SIGRTMAX => Some("SIGRTMAX".into()),
        n if (SIGRTMIN..SIGRTMAX).contains(&n) => Some(format!("SIGRTMIN+{}", n - SIGRTMIN)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_names_and_prefixes() {
        for s in ["9", "KILL", "SIGKILL", "sigkill", "Kill", " 9 "] {
            assert_eq!(parse_signal(s), Ok(9), "{s}");
        }
        for s in ["15", "TERM", "SIGTERM", "sigterm", "term"] {
            assert_eq!(parse_signal(s), Ok(15), "{s}");
        }
        assert_eq!(parse_signal("HUP"), Ok(libc::SIGHUP));
        assert_eq!(parse_signal("SIGUSR1"), Ok(libc::SIGUSR1));
        assert_eq!(parse_signal("usr2"), Ok(libc::SIGUSR2));
        assert_eq!(parse_signal("CHLD"), Ok(libc::SIGCHLD));
        assert_eq!(parse_signal("SIGCLD"), Ok(libc::SIGCHLD));
        assert_eq!(parse_signal("WINCH"), Ok(libc::SIGWINCH));
        assert_eq!(parse_signal("STOP"), Ok(libc::SIGSTOP));
        assert_eq!(parse_signal("CONT"), Ok(libc::SIGCONT));
        assert_eq!(parse_signal("SYS"), Ok(libc::SIGSYS));
        assert_eq!(parse_signal("0"), Ok(0));
        assert_eq!(parse_signal("64"), Ok(64));
        for (name, n) in SIGNALS {
            assert_eq!(parse_signal(name), Ok(*n));
        }
    }

    #[test]
    fn realtime_signals() {
        assert_eq!(parse_signal("RTMIN"), Ok(34));
        assert_eq!(parse_signal("SIGRTMIN+3"), Ok(37));
        assert_eq!(parse_signal("rtmax"), Ok(64));
        assert_eq!(parse_signal("SIGRTMAX-4"), Ok(60));
        assert_eq!(parse_signal("RTMIN+30"), Ok(64));
        assert!(parse_signal("RTMIN+31").is_err());
        assert!(parse_signal("RTMAX-31").is_err());
        assert!(parse_signal("RTMIN-1").is_err());
        assert!(parse_signal("RTMAX+1").is_err());
        assert!(parse_signal("RTMIN+").is_err());
        assert!(parse_signal("RTMIN+x").is_err());
        assert!(parse_signal("RTMIN+99999999999999999999").is_err());
    }

    #[test]
    fn bad_signals_are_errors() {
        assert_eq!(
            parse_signal("SIGFOO").unwrap_err().to_string(),
            "unknown signal \"SIGFOO\""
        );
        assert_eq!(parse_signal("65"), Err(SignalError::OutOfRange(65)));
        assert_eq!(
            parse_signal("99999999999999999999999"),
            Err(SignalError::OutOfRange(i64::MAX))
        );
        for s in ["", "SIG", "-9", "9x", "+9", "KILL9", "SIG KILL"] {
            assert!(parse_signal(s).is_err(), "{s:?}");
        }
    }

    #[test]
    fn names_of_numbers() {
        assert_eq!(signal_name(9).as_deref(), Some("SIGKILL"));
        assert_eq!(signal_name(6).as_deref(), Some("SIGABRT"));
        assert_eq!(signal_name(17).as_deref(), Some("SIGCHLD"));
        assert_eq!(signal_name(34).as_deref(), Some("SIGRTMIN"));
        assert_eq!(signal_name(36).as_deref(), Some("SIGRTMIN+2"));
        assert_eq!(signal_name(64).as_deref(), Some("SIGRTMAX"));
        assert_eq!(signal_name(0), None);
        assert_eq!(signal_name(32), None);
        assert_eq!(signal_name(65), None);
        for n in 1..=64 {
            if let Some(name) = signal_name(n) {
                assert_eq!(parse_signal(&name), Ok(n));
            }
        }
    }
}
