//! User and group ID mappings of a sandbox's user namespace (user_namespaces(7)): which
//! host ids the ids inside the sandbox stand for. The gofer translates at its protocol
//! boundary, so that the Sentry sees and gives only ids of the sandbox, and the host only
//! ever sees ids the mapping names: a file owned by a host id outside the mapping shows as
//! [`NO_ID`], and an id the mapping does not cover cannot be given to a host file.
//!
//! Without a user namespace the mapping is the identity over every valid id, as
//! `/proc/self/uid_map` shows it in the initial namespace (`0 0 4294967295`).

use std::fmt;

use crate::protocol::{Errno, Owner, Reply, Request, Stat, KEEP_ID};

/// An id with no mapping in the sandbox's namespace: `(uid_t)-1`, which no task can hold
/// and which Linux itself never maps. Shown to the application as the overflow id.
pub const NO_ID: u32 = u32::MAX;

/// The id shown for [`NO_ID`] (`/proc/sys/kernel/overflowuid` and `overflowgid`).
pub const OVERFLOW_ID: u32 = 65534;

/// Most ranges in one map, as Linux allows (`uid_map` takes at most 340 lines).
pub const MAX_RANGES: usize = 340;

/// One line of a map: `count` ids from `inside` stand for those from `outside`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdRange {
    /// First id inside the namespace.
    pub inside: u32,
    /// First id outside (on the host).
    pub outside: u32,
    /// How many.
    pub count: u32,
}

impl IdRange {
    fn contains(start: u32, count: u32, id: u32) -> bool {
        id >= start && u64::from(id) < u64::from(start) + u64::from(count)
    }

    fn overlaps(a: u32, b: u32, count_a: u32, count_b: u32) -> bool {
        u64::from(a) < u64::from(b) + u64::from(count_b)
            && u64::from(b) < u64::from(a) + u64::from(count_a)
    }
}

/// Why a map is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdMapError {
    /// Not `INSIDE:OUTSIDE:COUNT[,...]`.
    #[error("an ID mapping is INSIDE:OUTSIDE:COUNT, got {0:?}")]
    Syntax(String),
    /// A range of no ids, or one that reaches past the last id.
    #[error("ID mapping {inside}:{outside}:{count} is empty or reaches past id 4294967294")]
    Range {
        inside: u32,
        outside: u32,
        count: u32,
    },
    /// Two ranges share ids (inside or outside).
    #[error("ID mappings {0}:{1}:{2} and {3}:{4}:{5} overlap")]
    Overlap(u32, u32, u32, u32, u32, u32),
    /// More than [`MAX_RANGES`] ranges, or none.
    #[error("an ID map has 1 to 340 ranges, got {0}")]
    Count(usize),
}

/// One direction-free map (user ids or group ids).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdMap {
    ranges: Vec<IdRange>,
}

impl Default for IdMap {
    fn default() -> Self {
        IdMap::identity()
    }
}

impl IdMap {
    /// Every valid id stands for itself.
    pub fn identity() -> IdMap {
        IdMap {
            ranges: vec![IdRange {
                inside: 0,
                outside: 0,
                count: u32::MAX,
            }],
        }
    }

    /// A map of `ranges`, checked as Linux checks a write to `uid_map`: each range holds at
    /// least one id and ends before [`NO_ID`] on both sides, and no two share an id on
    /// either side.
    pub fn new(ranges: Vec<IdRange>) -> Result<IdMap, IdMapError> {
        if ranges.is_empty() || ranges.len() > MAX_RANGES {
            return Err(IdMapError::Count(ranges.len()));
        }
        for r in &ranges {
            let end = |first: u32| u64::from(first) + u64::from(r.count);
            if r.count == 0 || end(r.inside) > u64::from(NO_ID) || end(r.outside) > u64::from(NO_ID)
            {
                return Err(IdMapError::Range {
                    inside: r.inside,
                    outside: r.outside,
                    count: r.count,
                });
            }
        }
        for (i, a) in ranges.iter().enumerate() {
            for b in &ranges[i + 1..] {
                if IdRange::overlaps(a.inside, b.inside, a.count, b.count)
                    || IdRange::overlaps(a.outside, b.outside, a.count, b.count)
                {
                    return Err(IdMapError::Overlap(
                        a.inside, a.outside, a.count, b.inside, b.outside, b.count,
                    ));
                }
            }
        }
        Ok(IdMap { ranges })
    }

    /// Parses `INSIDE:OUTSIDE:COUNT[,INSIDE:OUTSIDE:COUNT...]` (the form [`fmt::Display`]
    /// writes).
    pub fn parse(s: &str) -> Result<IdMap, IdMapError> {
        let mut ranges = Vec::new();
        for part in s.split(',') {
            let f: Vec<&str> = part.split(':').collect();
            let num = |i: usize| f.get(i).and_then(|v| v.parse::<u32>().ok());
            match (f.len(), num(0), num(1), num(2)) {
                (3, Some(inside), Some(outside), Some(count)) => ranges.push(IdRange {
                    inside,
                    outside,
                    count,
                }),
                _ => return Err(IdMapError::Syntax(part.to_string())),
            }
        }
        IdMap::new(ranges)
    }

    /// Its ranges, in the order given.
    pub fn ranges(&self) -> &[IdRange] {
        &self.ranges
    }

    /// Whether every valid id stands for itself.
    pub fn is_identity(&self) -> bool {
        *self == IdMap::identity()
    }

    /// The host id that `inside` stands for, if the map covers it.
    pub fn to_host(&self, inside: u32) -> Option<u32> {
        self.ranges
            .iter()
            .find(|r| IdRange::contains(r.inside, r.count, inside))
            .map(|r| r.outside + (inside - r.inside))
    }

    /// The id inside that stands for host id `outside`, or [`NO_ID`].
    pub fn from_host(&self, outside: u32) -> u32 {
        self.ranges
            .iter()
            .find(|r| IdRange::contains(r.outside, r.count, outside))
            .map_or(NO_ID, |r| r.inside + (outside - r.outside))
    }

    /// Whether `inside` has a mapping (Linux's `uid_valid(make_kuid(ns, id))`).
    pub fn covers(&self, inside: u32) -> bool {
        self.to_host(inside).is_some()
    }

    /// The map as `/proc/PID/uid_map` shows it: one `%10u %10u %10u` line per range.
    pub fn proc_lines(&self) -> String {
        self.ranges
            .iter()
            .map(|r| format!("{:>10} {:>10} {:>10}\n", r.inside, r.outside, r.count))
            .collect()
    }
}

impl fmt::Display for IdMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.ranges.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{}:{}:{}", r.inside, r.outside, r.count)?;
        }
        Ok(())
    }
}

/// The user id map and the group id map of one namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IdMaps {
    /// User ids.
    pub uid: IdMap,
    /// Group ids.
    pub gid: IdMap,
}

impl IdMaps {
    /// Both maps the identity: no user namespace.
    pub fn identity() -> IdMaps {
        IdMaps::default()
    }

    /// Whether both maps are the identity.
    pub fn is_identity(&self) -> bool {
        self.uid.is_identity() && self.gid.is_identity()
    }

    /// The group map with `group`, else the user map.
    pub fn of(&self, group: bool) -> &IdMap {
        if group {
            &self.gid
        } else {
            &self.uid
        }
    }

    /// A host owner and group as the sandbox's ids ([`NO_ID`] where unmapped).
    pub fn from_host(&self, uid: u32, gid: u32) -> (u32, u32) {
        (self.uid.from_host(uid), self.gid.from_host(gid))
    }
}

/// The gofer's side: the ids of a request (sandbox ids) are made host ids, and those of a
/// reply (host ids) sandbox ids. Only with a mapping that is not the identity does anything
/// change, and only then is an owner "as created" ([`KEEP_ID`]) refused: the gofer
/// creates as host root, which such a mapping leaves out.
impl IdMaps {
    /// Makes the ids `req` gives host ids; EINVAL if one has no mapping.
    pub(crate) fn request_in(&self, req: &mut Request) -> Result<(), Errno> {
        if self.is_identity() {
            return Ok(());
        }
        let host = |map: &IdMap, id: u32| map.to_host(id).ok_or(Errno(libc::EINVAL));
        match req {
            Request::Create { owner, .. }
            | Request::Mkdir { owner, .. }
            | Request::Mknod { owner, .. }
            | Request::Symlink { owner, .. } => {
                *owner = Owner {
                    uid: host(&self.uid, owner.uid)?,
                    gid: host(&self.gid, owner.gid)?,
                };
            }
            Request::Setattr { attr, .. } => {
                if let Some(uid) = attr.uid.as_mut() {
                    *uid = host(&self.uid, *uid)?;
                }
                if let Some(gid) = attr.gid.as_mut() {
                    *gid = host(&self.gid, *gid)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Makes the ids of every status in `reply` sandbox ids ([`NO_ID`] where unmapped).
    pub(crate) fn reply_out(&self, reply: &mut Reply) {
        if self.is_identity() {
            return;
        }
        let out = |st: &mut Stat| (st.uid, st.gid) = self.from_host(st.uid, st.gid);
        match reply {
            Reply::Walk { entries, .. } => entries.iter_mut().for_each(|(_, st)| out(st)),
            Reply::Stat(st) | Reply::Node(_, st) => out(st),
            _ => {}
        }
    }
}

// KEEP_ID and NO_ID are the same number: "no id" either way.
const _: () = assert!(KEEP_ID == NO_ID);

#[cfg(test)]
mod tests {
    use super::*;

    fn r(inside: u32, outside: u32, count: u32) -> IdRange {
        IdRange {
            inside,
            outside,
            count,
        }
    }

    #[test]
    fn translates_both_ways_and_shows_unmapped_as_no_id() {
        let m = IdMap::new(vec![r(0, 1000, 3200), r(5000, 100_000, 10)]).unwrap();
        assert_eq!(m.to_host(0), Some(1000));
        assert_eq!(m.to_host(3199), Some(4199));
        assert_eq!(m.to_host(3200), None);
        assert_eq!(m.to_host(5009), Some(100_009));
        assert_eq!(m.from_host(1000), 0);
        assert_eq!(m.from_host(100_005), 5005);
        assert_eq!(m.from_host(0), NO_ID);
        assert_eq!(m.from_host(999), NO_ID);
        assert!(!m.covers(NO_ID));
    }

    #[test]
    fn identity_covers_every_valid_id() {
        let m = IdMap::identity();
        assert_eq!(m.to_host(0), Some(0));
        assert_eq!(m.to_host(NO_ID - 1), Some(NO_ID - 1));
        assert_eq!(m.to_host(NO_ID), None);
        assert_eq!(m.from_host(NO_ID), NO_ID);
        assert_eq!(m.proc_lines(), "         0          0 4294967295\n");
        assert!(IdMaps::identity().is_identity());
    }

    #[test]
    fn refuses_what_linux_refuses() {
        assert_eq!(IdMap::new(vec![]), Err(IdMapError::Count(0)));
        assert!(matches!(
            IdMap::new(vec![r(0, 0, 0)]),
            Err(IdMapError::Range { .. })
        ));
        assert!(matches!(
            IdMap::new(vec![r(1, 0, u32::MAX)]),
            Err(IdMapError::Range { .. })
        ));
        assert!(matches!(
            IdMap::new(vec![r(0, 1000, 10), r(5, 5000, 10)]),
            Err(IdMapError::Overlap(..))
        ));
        assert!(matches!(
            IdMap::new(vec![r(0, 1000, 10), r(50, 1005, 10)]),
            Err(IdMapError::Overlap(..))
        ));
        assert_eq!(
            IdMap::new(vec![r(0, 0, 1); 341]),
            Err(IdMapError::Count(341))
        );
    }

    #[test]
    fn parses_what_it_writes() {
        let m = IdMap::parse("0:1000:3200,5000:100000:10").unwrap();
        assert_eq!(m.to_string(), "0:1000:3200,5000:100000:10");
        assert_eq!(IdMap::parse(&m.to_string()).unwrap(), m);
        for bad in ["", "0:1000", "0:1000:3200:1", "a:1:1", "0:1:-1", "0:1:1,"] {
            assert!(
                matches!(IdMap::parse(bad), Err(IdMapError::Syntax(_))),
                "{bad:?}"
            );
        }
    }
}
