//! Capability (`CAP_*`) and resource-limit (`RLIMIT_*`) names as the runtime-spec writes them,
//! and their Linux numbers.

use super::SpecError;

/// Every Linux capability, indexed by its number (`CAP_CHOWN` = 0 … `CAP_CHECKPOINT_RESTORE`
/// = 40): the Sentry's own table.
pub use sentry::kernel::creds::CAP_NAMES as CAPABILITIES;

/// The number of capability `name`. The spec spells names `CAP_KILL`; the prefix and the case
/// are not required here (`kill`, `Cap_Kill` are accepted), which is harmless and matches what
/// users type. Unknown names are an error, never silently dropped.
pub fn capability_number(name: &str) -> Result<u32, SpecError> {
    sentry::kernel::creds::cap_from_name(name.trim())
        .ok_or_else(|| SpecError::UnknownCapability(name.to_string()))
}

/// The canonical name of capability `number`.
pub fn capability_name(number: u32) -> Option<&'static str> {
    CAPABILITIES.get(number as usize).copied()
}

/// The bit mask (bit N = capability N) of a list of names; errors on the first unknown name.
pub fn capability_mask<S: AsRef<str>>(names: &[S]) -> Result<u64, SpecError> {
    names.iter().try_fold(0u64, |mask, n| {
        Ok(mask | (1u64 << capability_number(n.as_ref())?))
    })
}

/// Every Linux resource limit, indexed by its `RLIMIT_*` number.
pub const RLIMITS: [&str; 16] = [
    "RLIMIT_CPU",
    "RLIMIT_FSIZE",
    "RLIMIT_DATA",
    "RLIMIT_STACK",
    "RLIMIT_CORE",
    "RLIMIT_RSS",
    "RLIMIT_NPROC",
    "RLIMIT_NOFILE",
    "RLIMIT_MEMLOCK",
    "RLIMIT_AS",
    "RLIMIT_LOCKS",
    "RLIMIT_SIGPENDING",
    "RLIMIT_MSGQUEUE",
    "RLIMIT_NICE",
    "RLIMIT_RTPRIO",
    "RLIMIT_RTTIME",
];

/// The resource number of rlimit type `name` (`RLIMIT_NOFILE` → 7), case-insensitively; the
/// `RLIMIT_` prefix is required, as in runc.
pub fn rlimit_resource(name: &str) -> Result<u32, SpecError> {
    RLIMITS
        .iter()
        .position(|r| r.eq_ignore_ascii_case(name))
        .map(|n| n as u32)
        .ok_or_else(|| SpecError::UnknownRlimit(name.to_string()))
}

/// The canonical name of resource `number`.
pub fn rlimit_name(number: u32) -> Option<&'static str> {
    RLIMITS.get(number as usize).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_match_linux_numbers() {
        assert_eq!(capability_number("CAP_CHOWN").unwrap(), 0);
        assert_eq!(capability_number("CAP_KILL").unwrap(), 5);
        assert_eq!(capability_number("CAP_SYS_ADMIN").unwrap(), 21);
        assert_eq!(capability_number("CAP_AUDIT_WRITE").unwrap(), 29);
        assert_eq!(capability_number("CAP_CHECKPOINT_RESTORE").unwrap(), 40);
        assert_eq!(capability_number("net_raw").unwrap(), 13);
        assert_eq!(capability_number("Cap_Bpf").unwrap(), 39);
        assert_eq!(capability_name(10), Some("CAP_NET_BIND_SERVICE"));
        assert_eq!(capability_name(41), None);
        for (n, name) in CAPABILITIES.iter().enumerate() {
            assert_eq!(capability_number(name).unwrap(), n as u32);
        }
    }

    #[test]
    fn unknown_capability_is_an_error() {
        let e = capability_number("CAP_FLY").unwrap_err();
        assert_eq!(e.to_string(), "unknown capability \"CAP_FLY\"");
        assert!(capability_number("").is_err());
        assert!(capability_mask(&["CAP_KILL", "CAP_NOPE"]).is_err());
    }

    #[test]
    fn capability_masks() {
        let m = capability_mask(&["CAP_CHOWN", "CAP_KILL", "CAP_CHECKPOINT_RESTORE"]).unwrap();
        assert_eq!(m, 1 | (1 << 5) | (1 << 40));
        assert_eq!(capability_mask::<&str>(&[]).unwrap(), 0);
    }

    #[test]
    fn rlimits_match_linux_numbers() {
        assert_eq!(rlimit_resource("RLIMIT_NOFILE").unwrap(), 7);
        assert_eq!(rlimit_resource("RLIMIT_CPU").unwrap(), 0);
        assert_eq!(rlimit_resource("rlimit_rttime").unwrap(), 15);
        assert_eq!(rlimit_resource("RLIMIT_MSGQUEUE").unwrap(), 12);
        assert_eq!(rlimit_name(7), Some("RLIMIT_NOFILE"));
        assert_eq!(
            rlimit_resource("NOFILE").unwrap_err().to_string(),
            "unknown rlimit type \"NOFILE\""
        );
        assert!(rlimit_resource("RLIMIT_FOO").is_err());
    }
}
