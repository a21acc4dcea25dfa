//! [`SpecError`]: everything that can be wrong with a bundle, each a single line naming the
//! cause, fit to be the last `"level":"error"` message containerd reads from `log.json`.

use std::io;
use std::path::PathBuf;

use thiserror::Error;

/// A bundle, `config.json` or process file that rvisor cannot use.
#[derive(Debug, Error)]
pub enum SpecError {
    /// `--bundle` names nothing.
    #[error("bundle directory {0} does not exist")]
    BundleMissing(PathBuf),
    /// `--bundle` names a file.
    #[error("bundle {0} is not a directory")]
    BundleNotDir(PathBuf),
    /// The bundle has no `config.json` (or an `exec --process` file is missing).
    #[error("{0} does not exist")]
    FileMissing(PathBuf),
    /// Any other I/O failure while reading the bundle.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
    /// The file is not valid JSON, or a field has the wrong JSON type.
    #[error("{origin}: malformed JSON{pos}: {message}", pos = position(*line, *column))]
    Json {
        /// Where the text came from (a path, or `-` for stdin).
        origin: String,
        /// 1-based line (0 when serde could not tell).
        line: usize,
        /// 1-based column.
        column: usize,
        /// serde's description, without its own position suffix.
        message: String,
    },
    /// `ociVersion` is not a 1.x version.
    #[error("unsupported ociVersion {0:?}: rvisor implements runtime-spec 1.x")]
    UnsupportedVersion(String),
    /// `root.path` names nothing.
    #[error("rootfs {0} does not exist")]
    RootfsMissing(PathBuf),
    /// `root.path` names something other than a directory.
    #[error("rootfs {0} is not a directory")]
    RootfsNotDir(PathBuf),
    /// A value the runtime-spec does not allow (a missing required field, a relative path where
    /// an absolute one is needed, an unknown name, …).
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The JSON path of the field, e.g. `mounts[2].destination`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A valid setting rvisor cannot honour (see [`super::validate()`]).
    #[error("{field}: {reason} is not supported by rvisor")]
    Unsupported {
        /// The JSON path of the field.
        field: String,
        /// The feature asked for.
        reason: String,
    },
    /// A capability name that is not a Linux `CAP_*` name.
    #[error("unknown capability {0:?}")]
    UnknownCapability(String),
    /// An rlimit type that is not a Linux `RLIMIT_*` name.
    #[error("unknown rlimit type {0:?}")]
    UnknownRlimit(String),
}

/// ` at line L column C`, or nothing when serde could not tell.
fn position(line: usize, column: usize) -> String {
    if line == 0 {
        String::new()
    } else {
        format!(" at line {line} column {column}")
    }
}

impl SpecError {
    /// A [`SpecError::Invalid`] for `field`.
    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        SpecError::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// A [`SpecError::Unsupported`] for `field`.
    pub(crate) fn unsupported(field: impl Into<String>, reason: impl Into<String>) -> Self {
        SpecError::Unsupported {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// Turns a serde_json error into [`SpecError::Json`], keeping the position apart.
    pub(crate) fn json(origin: impl Into<String>, e: &serde_json::Error) -> Self {
        let (line, column) = (e.line(), e.column());
        let full = e.to_string();
        let suffix = format!(" at line {line} column {column}");
        let message = full.strip_suffix(&suffix).unwrap_or(&full).to_string();
        SpecError::Json {
            origin: origin.into(),
            line,
            column,
            message,
        }
    }

    /// Maps an I/O error on `path`, turning "not found" into `missing(path)`.
    pub(crate) fn io(
        path: PathBuf,
        e: io::Error,
        missing: impl FnOnce(PathBuf) -> SpecError,
    ) -> Self {
        if e.kind() == io::ErrorKind::NotFound {
            missing(path)
        } else {
            SpecError::Io { path, source: e }
        }
    }
}
