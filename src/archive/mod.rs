//! Unpacking archives (`.tar.gz`, `.tgz`, `.tar.bz2`, `.tar`, `.zip`, `.whl`) without trusting them:
//! entries that would land outside the destination, symbolic links that lead outside it (or
//! any in a wheel), entries written through a link, hard links to anything but an earlier
//! file, devices, pipes, duplicate or unrepresentable names, and more content than a limit
//! are refused, naming the entry.

mod guard;
mod tarball;
mod zipfile;

#[cfg(test)]
mod oracle;
#[cfg(test)]
pub(crate) mod tests;

use std::io;
use std::os::unix::ffi::OsStrExt;
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
/// into a scratch directory and discard it on error. A symbolic link is made when its
/// target climbs no higher than `dest`, then only steps down by name (`../lib/x.py`), so
/// that it leads inside `dest` whatever else the archive holds.
pub fn unpack_with(archive: &Path, dest: &Path, limits: &Limits) -> Result<(), ArchiveError> {
    let name = archive.to_string_lossy();
    let file = fs_err::File::open(archive)?;
    let extraction = guard::Extraction::new(archive, dest, limits);
    if name.ends_with(".zip") {
        zipfile::unpack(file, extraction)
    } else if name.ends_with(".whl") {
        zipfile::unpack(file, extraction.refusing_symlinks())
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

/// Refuses the first symbolic link under `part` (a directory of `archive` unpacked into
/// `dest`) that could lead outside `part`, by the rule [`unpack_with`] applies to `dest`.
/// For a part that is moved away from the rest (a source's top-level directory or
/// `extract_dir`): a link that climbs out of it would lead elsewhere after the move.
pub fn check_links(archive: &Path, dest: &Path, part: &Path) -> Result<(), ArchiveError> {
    for entry in walkdir::WalkDir::new(part).min_depth(1) {
        let entry = entry.map_err(io::Error::from)?;
        if !entry.path_is_symlink() {
            continue;
        }
        let relative = entry.path().strip_prefix(part).expect("below the part");
        let target = fs_err::read_link(entry.path())?;
        guard::link_target(relative, target.as_os_str().as_bytes()).map_err(|reason| {
            let name = entry.path().strip_prefix(dest).unwrap_or(relative);
            ArchiveError::Refused {
                archive: archive.to_path_buf(),
                entry: name.to_string_lossy().into_owned(),
                reason: format!("{reason} (`{}`)", part.display()),
            }
        })?;
    }
    Ok(())
}
