//! Mount options (`mounts[].options`) to mount(2) arguments, the way runc reads them.
//!
//! Options are applied left to right, so a later `rw` undoes an earlier `ro`. A word that is
//! not a known flag is filesystem data (`mode=755`, `size=65536k`, `newinstance`, …) and is
//! passed through, comma-joined, to the filesystem; parsing never fails.

use libc::c_ulong;

/// `mount_setattr(2)` attribute bits (linux/mount.h), for the recursive `r*` options.
pub mod attr {
    /// Read-only.
    pub const RDONLY: u64 = 0x1;
    /// Ignore suid/sgid bits.
    pub const NOSUID: u64 = 0x2;
    /// No device access.
    pub const NODEV: u64 = 0x4;
    /// No execution.
    pub const NOEXEC: u64 = 0x8;
    /// The access-time field mask.
    pub const ATIME_MASK: u64 = 0x70;
    /// relatime (the value 0 within the mask).
    pub const RELATIME: u64 = 0x0;
    /// noatime.
    pub const NOATIME: u64 = 0x10;
    /// strictatime.
    pub const STRICTATIME: u64 = 0x20;
    /// nodiratime.
    pub const NODIRATIME: u64 = 0x80;
    /// Do not follow symlinks.
    pub const NOSYMFOLLOW: u64 = 0x0020_0000;
}

/// `(name, clears, MS_* bits)`: options that set (or, when `clears`, clear) mount flags.
const FLAGS: &[(&str, bool, c_ulong)] = &[
    ("acl", false, libc::MS_POSIXACL),
    ("async", true, libc::MS_SYNCHRONOUS),
    ("atime", true, libc::MS_NOATIME),
    ("bind", false, libc::MS_BIND),
    ("defaults", false, 0),
    ("dev", true, libc::MS_NODEV),
    ("diratime", true, libc::MS_NODIRATIME),
    ("dirsync", false, libc::MS_DIRSYNC),
    ("exec", true, libc::MS_NOEXEC),
    ("iversion", false, libc::MS_I_VERSION),
    ("lazytime", false, libc::MS_LAZYTIME),
    ("loud", true, libc::MS_SILENT),
    ("mand", false, libc::MS_MANDLOCK),
    ("noacl", true, libc::MS_POSIXACL),
    ("noatime", false, libc::MS_NOATIME),
    ("nodev", false, libc::MS_NODEV),
    ("nodiratime", false, libc::MS_NODIRATIME),
    ("noexec", false, libc::MS_NOEXEC),
    ("noiversion", true, libc::MS_I_VERSION),
    ("nolazytime", true, libc::MS_LAZYTIME),
    ("nomand", true, libc::MS_MANDLOCK),
    ("norelatime", true, libc::MS_RELATIME),
    ("nostrictatime", true, libc::MS_STRICTATIME),
    ("nosuid", false, libc::MS_NOSUID),
    ("nosymfollow", false, libc::MS_NOSYMFOLLOW),
    ("rbind", false, libc::MS_BIND | libc::MS_REC),
    ("relatime", false, libc::MS_RELATIME),
    ("remount", false, libc::MS_REMOUNT),
    ("ro", false, libc::MS_RDONLY),
    ("rw", true, libc::MS_RDONLY),
    ("silent", false, libc::MS_SILENT),
    ("strictatime", false, libc::MS_STRICTATIME),
    ("suid", true, libc::MS_NOSUID),
    ("sync", false, libc::MS_SYNCHRONOUS),
];

/// Propagation options: each is a separate `mount(NULL, dest, NULL, bits, NULL)` after the
/// mount itself.
const PROPAGATION: &[(&str, c_ulong)] = &[
    ("private", libc::MS_PRIVATE),
    ("shared", libc::MS_SHARED),
    ("slave", libc::MS_SLAVE),
    ("unbindable", libc::MS_UNBINDABLE),
    ("rprivate", libc::MS_PRIVATE | libc::MS_REC),
    ("rshared", libc::MS_SHARED | libc::MS_REC),
    ("rslave", libc::MS_SLAVE | libc::MS_REC),
    ("runbindable", libc::MS_UNBINDABLE | libc::MS_REC),
];

/// `(name, clears, MOUNT_ATTR_* bits)`: recursive options applied with
/// `mount_setattr(AT_RECURSIVE)`.
const RECURSIVE: &[(&str, bool, u64)] = &[
    ("rro", false, attr::RDONLY),
    ("rrw", true, attr::RDONLY),
    ("rnosuid", false, attr::NOSUID),
    ("rsuid", true, attr::NOSUID),
    ("rnodev", false, attr::NODEV),
    ("rdev", true, attr::NODEV),
    ("rnoexec", false, attr::NOEXEC),
    ("rexec", true, attr::NOEXEC),
    ("rnodiratime", false, attr::NODIRATIME),
    ("rdiratime", true, attr::NODIRATIME),
    ("rrelatime", false, attr::RELATIME),
    ("rnorelatime", true, attr::RELATIME),
    ("rnoatime", false, attr::NOATIME),
    ("ratime", true, attr::NOATIME),
    ("rstrictatime", false, attr::STRICTATIME),
    ("rnostrictatime", true, attr::STRICTATIME),
    ("rnosymfollow", false, attr::NOSYMFOLLOW),
    ("rsymfollow", true, attr::NOSYMFOLLOW),
];

/// Options that are neither flags nor data.
const EXTENSIONS: &[&str] = &["tmpcopyup", "idmap", "ridmap"];

/// Every option word [`parse_mount_options`] recognises (for `rvisor features`), sorted.
pub fn known_mount_options() -> Vec<&'static str> {
    let mut all: Vec<&'static str> = FLAGS
        .iter()
        .map(|f| f.0)
        .chain(PROPAGATION.iter().map(|p| p.0))
        .chain(RECURSIVE.iter().map(|r| r.0))
        .chain(EXTENSIONS.iter().copied())
        .collect();
    all.sort_unstable();
    all
}

/// The parsed form of one mount's options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MountOptions {
    /// `MS_*` flags for mount(2).
    pub flags: c_ulong,
    /// `MS_*` flags the options explicitly turned off (`rw`, `suid`, `dev`, `exec`, `atime`,
    /// …). A read-only-ness or nosuid-ness that is neither set nor cleared may be inherited
    /// from the source when remounting a bind mount; a cleared one must not be.
    pub cleared: c_ulong,
    /// Propagation changes (`MS_PRIVATE`, `MS_SHARED`, `MS_SLAVE`, `MS_UNBINDABLE`, possibly
    /// with `MS_REC`), each a separate mount(2) call after the mount, in order.
    pub propagation: Vec<c_ulong>,
    /// `MOUNT_ATTR_*` to set recursively (`rro`, `rnosuid`, …), see [`attr`].
    pub rec_attr_set: u64,
    /// `MOUNT_ATTR_*` to clear recursively (`rrw`, `rsuid`, …; includes
    /// [`attr::ATIME_MASK`] when an access-time mode is set, as mount_setattr(2) requires).
    pub rec_attr_clr: u64,
    /// `tmpcopyup`: fill the new tmpfs with what the image had at the destination.
    pub tmpcopyup: bool,
    /// `idmap` / `ridmap`: an idmapped mount (rejected by [`super::validate()`]).
    pub idmap: bool,
    /// Everything else, comma-joined, for the filesystem (`mode=755,size=65536k`).
    pub data: String,
}

impl MountOptions {
    /// Whether `bind` or `rbind` was given.
    pub fn is_bind(&self) -> bool {
        self.flags & libc::MS_BIND != 0
    }

    /// Whether `rbind` was given.
    pub fn is_recursive_bind(&self) -> bool {
        self.flags & (libc::MS_BIND | libc::MS_REC) == (libc::MS_BIND | libc::MS_REC)
    }

    /// Whether the mount ends up read-only.
    pub fn is_readonly(&self) -> bool {
        self.flags & libc::MS_RDONLY != 0
    }
}

/// Parses mount options as runc does. Never fails: unknown words become filesystem data, and
/// empty words are skipped.
pub fn parse_mount_options<S: AsRef<str>>(options: &[S]) -> MountOptions {
    let mut out = MountOptions::default();
    let mut data: Vec<&str> = Vec::new();
    for o in options {
        let o = o.as_ref();
        if o.is_empty() {
            continue;
        }
        if let Some(&(_, clears, bits)) = FLAGS.iter().find(|f| f.0 == o) {
            if clears {
                out.flags &= !bits;
                out.cleared |= bits;
            } else {
                out.flags |= bits;
                out.cleared &= !bits;
            }
        } else if let Some(&(_, bits)) = PROPAGATION.iter().find(|p| p.0 == o) {
            out.propagation.push(bits);
        } else if let Some(&(_, clears, bits)) = RECURSIVE.iter().find(|r| r.0 == o) {
            if clears {
                out.rec_attr_clr |= bits;
                out.rec_attr_set &= !bits;
            } else {
                out.rec_attr_set |= bits;
                out.rec_attr_clr &= !bits;
                if bits & attr::ATIME_MASK == bits {
                    // mount_setattr(2): an access-time mode in attr_set needs the whole
                    // access-time field in attr_clr (this also covers relatime, which is 0).
                    out.rec_attr_clr |= attr::ATIME_MASK;
                }
            }
        } else if o == "tmpcopyup" {
            out.tmpcopyup = true;
        } else if o == "idmap" || o == "ridmap" {
            out.idmap = true;
        } else {
            data.push(o);
        }
    }
    out.data = data.join(",");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use libc::*;

    #[test]
    fn plain_flags_and_data() {
        let o = parse_mount_options(&["nosuid", "strictatime", "mode=755", "size=65536k"]);
        assert_eq!(o.flags, MS_NOSUID | MS_STRICTATIME);
        assert_eq!(o.data, "mode=755,size=65536k");
        assert!(o.propagation.is_empty());
        assert!(!o.is_bind() && !o.is_readonly());
    }

    #[test]
    fn every_flag_word() {
        let o = parse_mount_options(&[
            "ro",
            "nosuid",
            "nodev",
            "noexec",
            "sync",
            "dirsync",
            "noatime",
            "nodiratime",
            "relatime",
            "mand",
            "acl",
            "iversion",
            "lazytime",
            "silent",
            "nosymfollow",
            "remount",
            "defaults",
        ]);
        assert_eq!(
            o.flags,
            MS_RDONLY
                | MS_NOSUID
                | MS_NODEV
                | MS_NOEXEC
                | MS_SYNCHRONOUS
                | MS_DIRSYNC
                | MS_NOATIME
                | MS_NODIRATIME
                | MS_RELATIME
                | MS_MANDLOCK
                | MS_POSIXACL
                | MS_I_VERSION
                | MS_LAZYTIME
                | MS_SILENT
                | MS_NOSYMFOLLOW
                | MS_REMOUNT
        );
        assert_eq!(o.cleared, 0);
        assert_eq!(o.data, "");
    }

    #[test]
    fn later_words_override_earlier_ones() {
        let o = parse_mount_options(&["ro", "nosuid", "nodev", "noexec", "rw", "suid", "dev"]);
        assert_eq!(o.flags, MS_NOEXEC);
        assert_eq!(o.cleared, MS_RDONLY | MS_NOSUID | MS_NODEV);
        let o = parse_mount_options(&["rw", "exec", "ro", "noexec"]);
        assert_eq!(o.flags, MS_RDONLY | MS_NOEXEC);
        assert_eq!(o.cleared, 0);
        let o = parse_mount_options(&["noatime", "atime", "async"]);
        assert_eq!(o.flags, 0);
        assert_eq!(o.cleared, MS_NOATIME | MS_SYNCHRONOUS);
    }

    #[test]
    fn bind_and_propagation() {
        let o = parse_mount_options(&["rbind", "rprivate", "ro"]);
        assert!(o.is_bind() && o.is_recursive_bind() && o.is_readonly());
        assert_eq!(o.propagation, vec![MS_PRIVATE | MS_REC]);
        let o = parse_mount_options(&["bind", "private", "shared", "slave", "unbindable"]);
        assert!(o.is_bind() && !o.is_recursive_bind());
        assert_eq!(o.flags, MS_BIND);
        assert_eq!(
            o.propagation,
            vec![MS_PRIVATE, MS_SHARED, MS_SLAVE, MS_UNBINDABLE]
        );
        let o = parse_mount_options(&["rshared", "rslave", "runbindable"]);
        assert_eq!(
            o.propagation,
            vec![
                MS_SHARED | MS_REC,
                MS_SLAVE | MS_REC,
                MS_UNBINDABLE | MS_REC
            ]
        );
        assert_eq!(o.flags, 0);
    }

    #[test]
    fn recursive_attributes() {
        let o = parse_mount_options(&["rbind", "rro", "rnosuid", "rnoatime"]);
        assert_eq!(o.rec_attr_set, attr::RDONLY | attr::NOSUID | attr::NOATIME);
        assert_eq!(o.rec_attr_clr, attr::ATIME_MASK);
        let o = parse_mount_options(&["rro", "rrw", "rexec"]);
        assert_eq!(o.rec_attr_set, 0);
        assert_eq!(o.rec_attr_clr, attr::RDONLY | attr::NOEXEC);
        let o = parse_mount_options(&["rrelatime"]);
        assert_eq!(o.rec_attr_set, 0);
        assert_eq!(o.rec_attr_clr, attr::ATIME_MASK);
    }

    #[test]
    fn extensions_and_unknown_words() {
        let o = parse_mount_options(&[
            "tmpcopyup",
            "nosuid",
            "newinstance",
            "ptmxmode=0666",
            "mode=0620",
            "gid=5",
            "",
        ]);
        assert!(o.tmpcopyup && !o.idmap);
        assert_eq!(o.flags, MS_NOSUID);
        assert_eq!(o.data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
        assert!(parse_mount_options(&["idmap"]).idmap);
        assert!(parse_mount_options(&["ridmap"]).idmap);
        assert_eq!(parse_mount_options::<&str>(&[]), MountOptions::default());
    }

    #[test]
    fn known_options_are_sorted_and_complete() {
        let k = known_mount_options();
        assert!(k.windows(2).all(|w| w[0] < w[1]));
        for w in [
            "ro",
            "rbind",
            "rprivate",
            "rro",
            "tmpcopyup",
            "idmap",
            "strictatime",
        ] {
            assert!(k.contains(&w), "{w}");
        }
        assert!(!k.contains(&"mode"));
    }
}
