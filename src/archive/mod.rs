//! Unpacking archives (`.tar.gz`, `.tgz`, `.tar.bz2`, `.tar`, `.zip`, `.whl`) without trusting them:
//! entries that would land outside the destination, links, devices, pipes, duplicate or
//! unrepresentable names, and more content than a limit are refused, naming the entry.

mod guard;
mod tarball;
mod zipfile;

#[cfg(test)]
pub(crate) mod tests;

use std::io;
use std::path::{Path, PathBuf};

/// How much an archive may unpack to; past either limit the archive is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most bytes all files together may hold (a zip or gzip bomb stops here).
    pub max_bytes: u64,
    /// The most entries (files and directories) the archive may have.
    pub max_entries: u64,
}

impl Default for Limits {
    /// 4 GiB and 200 000 entries: far above any source distribution, far below a full disk.
    fn default() -> Self {
        Limits {
            max_bytes: 4 << 30,
            max_entries: 200_000,
        }
    }
}

/// Why an archive was refused or could not be read.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ArchiveError {
    /// An entry tried to leave the destination, is of a refused kind, or is too large.
    #[error("`{}`: refused entry `{entry}`: {reason}", archive.display())]
    #[diagnostic(help("the archive is malformed or hostile; check where it came from"))]
    Refused {
        /// The archive.
        archive: PathBuf,
        /// The entry's name as stored (lossily decoded, control characters escaped).
        entry: String,
        /// Why.
        reason: String,
    },
    /// The archive's format is not one emwheel reads.
    #[error("`{}` is not a .tar.gz, .tgz, .tar.bz2, .tar, .zip or .whl archive", .0.display())]
    #[diagnostic(help("repack the source as a .tar.gz or .zip"))]
    UnknownFormat(PathBuf),
    /// The archive is damaged or not of the format its name says.
    #[error("`{}` is not a readable archive: {source}", archive.display())]
    #[diagnostic(help("download it again; if it persists, the archive itself is broken"))]
    Malformed {
        /// The archive.
        archive: PathBuf,
        /// The reader's complaint.
        source: io::Error,
    },
    /// Reading the archive or writing an entry failed.
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Unpacks `archive` into `dest` (which must exist) within the default [`Limits`].
pub fn unpack(archive: &Path, dest: &Path) -> Result<(), ArchiveError> {
    unpack_with(archive, dest, &Limits::default())
}

/// Unpacks `archive` into `dest` (which must exist), refusing it past `limits`. The format
/// comes from the file name. On a refusal, entries already written stay in `dest`: unpack
/// into a scratch directory and discard it on error.
pub fn unpack_with(archive: &Path, dest: &Path, limits: &Limits) -> Result<(), ArchiveError> {
    let name = archive.to_string_lossy();
    let file = fs_err::File::open(archive)?;
    let extraction = guard::Extraction::new(archive, dest, limits);
    if name.ends_with(".zip") || name.ends_with(".whl") {
        zipfile::unpack(file, extraction)
    } else if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
        tarball::unpack(flate2::read::GzDecoder::new(file), extraction)
    } else if name.ends_with(".tar.bz2") {
        tarball::unpack(bzip2::read::BzDecoder::new(file), extraction)
    } else if name.ends_with(".tar") {
        tarball::unpack(file, extraction)
    } else {
        Err(ArchiveError::UnknownFormat(archive.to_path_buf()))
    }
}
