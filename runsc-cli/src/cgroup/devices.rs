//! The cgroup v1 "devices" controller: the spec's `linux.resources.devices` rules, written
//! in their order to devices.deny and devices.allow, then allows for the host devices the
//! sandbox's own processes open once they are in the cgroup.
//!
//! The application never opens a host device (the Sentry serves /dev itself), so these rules
//! only ever limit the sandbox's processes: the Sentry (`rvisor boot`), the gofer and the
//! stubs. Unlike runc, no default allow-list is added for the application (/dev/zero,
//! /dev/tty, /dev/pts/*...): only what the sandbox itself needs ([`sandbox_devices`]).
//!
//! The kernel's rules (security/device_cgroup.c), which [`Emulator`] follows:
//! - a rule of type `a` (whatever its numbers) resets the cgroup: an allow makes it
//!   "allow all" and a deny "deny all", either without exceptions;
//! - in "deny all", an allow adds an exception (merged with one for the same device) and a
//!   deny takes access bits away from the exception for the very same type and numbers;
//! - in "allow all", the reverse: a deny adds an exception and an allow takes bits away;
//! - devices.list shows the exceptions of "deny all", oldest first, and only `a *:* rwm` for
//!   "allow all" (its exceptions are not listed).

use std::path::Path;

use super::{read, write, CgroupError, Result};

/// /dev/null, c 1:3.
const NULL: (u32, u32) = (1, 3);
/// /dev/kvm, c 10:232 (KVM_MINOR, a misc device).
const KVM: (u32, u32) = (10, 232);

/// One rule of `linux.resources.devices`, as the spec gives it (checked by
/// [`DeviceRule::check`] before anything is written).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceRule {
    /// An allow (devices.allow) or a deny (devices.deny).
    pub allow: bool,
    /// `a` (every device), `c` or `b`; None is `a`.
    pub kind: Option<String>,
    /// None or -1: any.
    pub major: Option<i64>,
    /// None or -1: any.
    pub minor: Option<i64>,
    /// Some of `r`, `w`, `m`.
    pub access: Option<String>,
}

/// Access bits, as the kernel keeps them.
const READ: u8 = 1;
const WRITE: u8 = 2;
const MKNOD: u8 = 4;

/// A checked rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Rule {
    allow: bool,
    /// b'a', b'c' or b'b'.
    kind: u8,
    major: Option<u32>,
    minor: Option<u32>,
    access: u8,
}

impl DeviceRule {
    /// A rule for the sandbox itself: allow character device `major:minor` for `access`.
    fn own(dev: (u32, u32), access: &str) -> DeviceRule {
        DeviceRule {
            allow: true,
            kind: Some("c".into()),
            major: Some(dev.0.into()),
            minor: Some(dev.1.into()),
            access: Some(access.into()),
        }
    }

    fn check(&self) -> Result<Rule> {
        let bad = |why: String| CgroupError::BadResources(format!("device rule {self:?}: {why}"));
        let kind = match self.kind.as_deref() {
            None | Some("a") => b'a',
            Some("c") => b'c',
            Some("b") => b'b',
            Some(t) => return Err(bad(format!("type {t:?} is not one of a, c, b"))),
        };
        let number = |n: Option<i64>, what: &str| match n {
            None | Some(-1) => Ok(None),
            Some(n) => u32::try_from(n)
                .map(Some)
                .map_err(|_| bad(format!("{what} {n} is neither a device number nor -1"))),
        };
        let access = self.access.as_deref().unwrap_or_default();
        if access.is_empty() {
            // As runc: a rule must say what it allows or denies.
            return Err(bad("access is empty".into()));
        }
        let mut bits = 0;
        for c in access.chars() {
            bits |= match c {
                'r' => READ,
                'w' => WRITE,
                'm' => MKNOD,
                _ => return Err(bad(format!("access {access:?} is not made of r, w, m"))),
            };
        }
        Ok(Rule {
            allow: self.allow,
            kind,
            major: number(self.major, "major")?,
            minor: number(self.minor, "minor")?,
            access: bits,
        })
    }
}

/// Checks every rule: the first bad one is the error.
pub(super) fn check(rules: &[DeviceRule]) -> Result<()> {
    rules.iter().try_for_each(|r| r.check().map(drop))
}

impl Rule {
    /// What devices.allow or devices.deny take: `a`, or `c 1:3 rw` (`*` for any number).
    fn line(&self) -> String {
        if self.kind == b'a' {
            return "a".into();
        }
        let num = |n: Option<u32>| n.map_or_else(|| "*".to_string(), |n| n.to_string());
        format!(
            "{} {}:{} {}",
            self.kind as char,
            num(self.major),
            num(self.minor),
            access_str(self.access)
        )
    }

    fn file(&self) -> &'static str {
        if self.allow {
            "devices.allow"
        } else {
            "devices.deny"
        }
    }

    fn same_device(&self, o: &Rule) -> bool {
        (self.kind, self.major, self.minor) == (o.kind, o.major, o.minor)
    }

    /// Whether this exception names device `d` (wildcards on either side match).
    fn covers(&self, d: &Rule) -> bool {
        let num = |a: Option<u32>, b: Option<u32>| a.is_none() || b.is_none() || a == b;
        self.kind == d.kind && num(self.major, d.major) && num(self.minor, d.minor)
    }
}

fn access_str(bits: u8) -> String {
    [(READ, 'r'), (WRITE, 'w'), (MKNOD, 'm')]
        .iter()
        .filter(|(b, _)| bits & b != 0)
        .map(|(_, c)| *c)
        .collect()
}

/// The host devices the sandbox's processes open once they are in the cgroup, as allow
/// rules: /dev/null (`std::process::Stdio::null()` for the gofer's stdin, opened by the
/// Sentry; the Rust runtime of `rvisor boot` and `rvisor gofer` opens it for a closed
/// descriptor 0, 1 or 2), and /dev/kvm on the kvm platform (opened by the Sentry when it
/// makes the virtual machine). Read and write: neither makes device nodes on the host.
pub fn sandbox_devices(kvm: bool) -> Vec<DeviceRule> {
    let mut v = vec![DeviceRule::own(NULL, "rw")];
    if kvm {
        v.push(DeviceRule::own(KVM, "rw"));
    }
    v
}

/// What the kernel makes of a sequence of rules (see the module's summary).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Emulator {
    allow_all: bool,
    exceptions: Vec<Rule>,
}

impl Emulator {
    /// The state devices.list shows: `a *:* rwm` alone is "allow all" (whose exceptions, if
    /// any, are not shown: taken as none), anything else "deny all" with those exceptions.
    fn from_list(text: &str) -> Emulator {
        let lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        if lines.iter().any(|l| l.starts_with('a')) {
            return Emulator {
                allow_all: true,
                exceptions: Vec::new(),
            };
        }
        let exceptions = lines
            .iter()
            .filter_map(|l| {
                let mut f = l.split(' ');
                let kind = f.next()?;
                let (major, minor) = f.next()?.split_once(':')?;
                let num = |s: &str| if s == "*" { Some(-1) } else { s.parse().ok() };
                DeviceRule {
                    allow: true,
                    kind: Some(kind.to_string()),
                    major: num(major),
                    minor: num(minor),
                    access: f.next().map(str::to_string),
                }
                .check()
                .ok()
            })
            .collect();
        Emulator {
            allow_all: false,
            exceptions,
        }
    }

    fn apply(&mut self, r: &Rule) {
        if r.kind == b'a' {
            self.allow_all = r.allow;
            self.exceptions.clear();
        } else if r.allow != self.allow_all {
            match self.exceptions.iter_mut().find(|e| e.same_device(r)) {
                Some(e) => e.access |= r.access,
                None => self.exceptions.push(Rule {
                    allow: !self.allow_all,
                    ..*r
                }),
            }
        } else {
            for e in self.exceptions.iter_mut().filter(|e| e.same_device(r)) {
                e.access &= !r.access;
            }
            self.exceptions.retain(|e| e.access != 0);
        }
    }

    /// Whether `d` (a device and access bits) may be used: in "allow all", unless an
    /// exception names it with one of those bits; in "deny all", if one exception names it
    /// with all of them.
    fn allows(&self, d: &Rule) -> bool {
        if self.allow_all {
            !self
                .exceptions
                .iter()
                .any(|e| e.covers(d) && e.access & d.access != 0)
        } else {
            self.exceptions
                .iter()
                .any(|e| e.covers(d) && e.access & d.access == d.access)
        }
    }
}

/// The writes (file, line) that apply `spec` and then `own`, in order. Fails when the
/// rules would leave one of `own` denied, as a wildcard deny in "allow all" does (there,
/// cgroup v1 cannot allow one device back): `current` is what devices.list shows now.
pub(super) fn plan(
    current: &str,
    spec: &[DeviceRule],
    own: &[DeviceRule],
) -> Result<Vec<(&'static str, String)>> {
    let spec: Vec<Rule> = spec.iter().map(DeviceRule::check).collect::<Result<_>>()?;
    let own: Vec<Rule> = own.iter().map(DeviceRule::check).collect::<Result<_>>()?;
    let mut state = Emulator::from_list(current);
    for r in spec.iter().chain(&own) {
        state.apply(r);
    }
    if let Some(r) = own.iter().find(|r| !state.allows(r)) {
        return Err(CgroupError::BadResources(format!(
            "linux.resources.devices leaves {} denied, which the sandbox itself opens \
             (a wildcard deny without a deny-all first cannot be undone in cgroup v1)",
            r.line()
        )));
    }
    Ok(spec
        .iter()
        .chain(&own)
        .map(|r| (r.file(), r.line()))
        .collect())
}

/// Writes `spec`'s rules and then `own` into the devices cgroup `dir`. Nothing is written
/// when the spec has no rules: the cgroup keeps what it inherited.
pub(super) fn set(dir: &Path, spec: &[DeviceRule], own: &[DeviceRule]) -> Result<()> {
    if spec.is_empty() {
        return Ok(());
    }
    let current = read(&dir.join("devices.list"))?;
    for (file, line) in plan(&current, spec, own)? {
        write(&dir.join(file), &line)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(allow: bool, kind: Option<&str>, major: i64, minor: i64, access: &str) -> DeviceRule {
        DeviceRule {
            allow,
            kind: kind.map(str::to_string),
            major: Some(major),
            minor: Some(minor),
            access: Some(access.into()),
        }
    }

    const ALLOW_ALL: &str = "a *:* rwm\n";

    #[test]
    fn emulator_follows_the_kernel() {
        let r = |allow, kind, major, minor, access: &str| {
            rule(allow, Some(kind), major, minor, access)
                .check()
                .unwrap()
        };
        let mut e = Emulator::from_list("c 1:3 rwm\nb *:* m\n");
        assert!(!e.allow_all);
        assert_eq!(e.exceptions.len(), 2);
        assert!(e.allows(&r(true, "c", 1, 3, "rw")));
        assert!(e.allows(&r(true, "b", 8, 0, "m")));
        assert!(!e.allows(&r(true, "b", 8, 0, "r")));
        // A deny takes bits from the same device only, not from a wildcard one.
        e.apply(&r(false, "c", 1, 3, "w"));
        e.apply(&r(false, "b", 8, 0, "m"));
        assert!(e.allows(&r(true, "c", 1, 3, "r")));
        assert!(!e.allows(&r(true, "c", 1, 3, "rw")));
        assert!(e.allows(&r(true, "b", 8, 0, "m")));
        // Allows merge; a full deny removes the exception.
        e.apply(&r(true, "c", 1, 3, "w"));
        assert_eq!(access_str(e.exceptions[0].access), "rwm");
        e.apply(&r(false, "c", 1, 3, "rwm"));
        assert!(!e.allows(&r(true, "c", 1, 3, "r")));
        // `a` resets, whatever its numbers say.
        e.apply(&rule(true, Some("a"), 1, 3, "r").check().unwrap());
        assert_eq!(e, Emulator::from_list(ALLOW_ALL));
        assert!(e.allows(&r(true, "b", 8, 0, "rwm")));
        e.apply(&r(false, "b", 8, -1, "w"));
        assert!(!e.allows(&r(true, "b", 8, 1, "rw")));
        assert!(e.allows(&r(true, "b", 8, 1, "r")));
        assert!(e.allows(&r(true, "c", 8, 1, "w")));
    }
}
