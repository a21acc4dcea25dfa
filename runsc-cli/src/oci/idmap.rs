//! `linux.uidMappings` and `linux.gidMappings`: the user namespace the container's processes
//! run in. The Sentry gives them that namespace's ids; the gofer translates to and from the
//! host ids they stand for (`gofer::idmap`).

use super::spec::{IdMapping, Linux, NamespaceType};
use super::SpecError;

/// The spec's ID mappings as the sandbox takes them: the identity without a user namespace
/// or without mappings (a user namespace alone is warned about by `validate`). Mappings
/// without a user namespace, a user namespace with only one of the two maps, or a map Linux
/// would refuse (empty, overlapping, past the last id) are errors.
pub fn id_maps(linux: Option<&Linux>) -> Result<gofer::IdMaps, SpecError> {
    let Some(l) = linux else {
        return Ok(gofer::IdMaps::identity());
    };
    let (uids, gids) = (&l.uid_mappings, &l.gid_mappings);
    if uids.is_empty() && gids.is_empty() {
        return Ok(gofer::IdMaps::identity());
    }
    let field = if uids.is_empty() {
        "linux.gidMappings"
    } else {
        "linux.uidMappings"
    };
    if l.namespace(&NamespaceType::User).is_none() {
        return Err(SpecError::invalid(
            field,
            "ID mappings need a user namespace in linux.namespaces",
        ));
    }
    if uids.is_empty() || gids.is_empty() {
        return Err(SpecError::invalid(
            field,
            "a user namespace needs both uidMappings and gidMappings",
        ));
    }
    Ok(gofer::IdMaps {
        uid: map("linux.uidMappings", uids)?,
        gid: map("linux.gidMappings", gids)?,
    })
}

fn map(field: &str, m: &[IdMapping]) -> Result<gofer::IdMap, SpecError> {
    let ranges = m
        .iter()
        .map(|r| gofer::idmap::IdRange {
            inside: r.container_id,
            outside: r.host_id,
            count: r.size,
        })
        .collect();
    gofer::IdMap::new(ranges).map_err(|e| SpecError::invalid(field, e.to_string()))
}
