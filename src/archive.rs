//! Unpacking archives (`.tar.gz`, `.tgz`, `.tar.bz2`, `.tar`, `.zip`) without trusting them:
//! entries that would land outside the destination, links, devices and oversized contents
//! are refused, naming the entry.

use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

/// The most an archive may unpack to (a zip bomb stops here).
pub const MAX_UNPACKED_BYTES: u64 = 4 << 30;

/// Why an archive was refused or could not be read.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ArchiveError {
    /// An entry tried to leave the destination or is of a refused kind.
    #[error("`{}`: refused entry `{entry}`: {reason}", archive.display())]
    #[diagnostic(help("the archive is malformed or hostile; check where it came from"))]
    Refused {
        /// The archive.
        archive: PathBuf,
        /// The entry's name as stored.
        entry: String,
        /// Why.
        reason: &'static str,
    },
    /// The archive's format is not one emwheel reads.
    #[error("`{}` is not a .tar.gz, .tgz, .tar.bz2, .tar or .zip archive", .0.display())]
    #[diagnostic(help("repack the source as a .tar.gz or .zip"))]
    UnknownFormat(PathBuf),
    /// Reading or writing failed.
    #[error("reading `{}`: {source}", archive.display())]
    Io {
        /// The archive.
        archive: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
}

/// Unpacks `archive` into `dest` (which must exist).
pub fn unpack(archive: &Path, dest: &Path) -> Result<(), ArchiveError> {
    let name = archive.to_string_lossy();
    let io_error = |source| ArchiveError::Io {
        archive: archive.to_path_buf(),
        source,
    };
    let file = fs_err::File::open(archive).map_err(io_error)?;
    if name.ends_with(".zip") || name.ends_with(".whl") {
        unpack_zip(archive, file, dest)
    } else if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
        unpack_tar(archive, flate2::read::GzDecoder::new(file), dest)
    } else if name.ends_with(".tar.bz2") {
        unpack_tar(archive, bzip2::read::BzDecoder::new(file), dest)
    } else if name.ends_with(".tar") {
        unpack_tar(archive, file, dest)
    } else {
        Err(ArchiveError::UnknownFormat(archive.to_path_buf()))
    }
}

/// The path an entry may be written to below `dest`, or why not.
fn safe_path(dest: &Path, entry: &Path) -> Result<PathBuf, &'static str> {
    let mut path = dest.to_path_buf();
    for component in entry.components() {
        match component {
            Component::Normal(part) => path.push(part),
            Component::CurDir => {}
            Component::ParentDir => return Err("it contains `..`"),
            Component::RootDir | Component::Prefix(_) => return Err("its path is absolute"),
        }
    }
    Ok(path)
}

fn unpack_tar(archive: &Path, reader: impl Read, dest: &Path) -> Result<(), ArchiveError> {
    let io_error = |source| ArchiveError::Io {
        archive: archive.to_path_buf(),
        source,
    };
    let mut tar = tar::Archive::new(reader);
    let mut budget = MAX_UNPACKED_BYTES;
    for entry in tar.entries().map_err(io_error)? {
        let mut entry = entry.map_err(io_error)?;
        let entry_name = entry.path().map_err(io_error)?.into_owned();
        let refuse = |reason| ArchiveError::Refused {
            archive: archive.to_path_buf(),
            entry: entry_name.display().to_string(),
            reason,
        };
        let target = safe_path(dest, &entry_name).map_err(refuse)?;
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            fs_err::create_dir_all(&target).map_err(io_error)?;
            continue;
        }
        if kind.is_pax_global_extensions()
            || kind.is_pax_local_extensions()
            || kind.is_gnu_longname()
        {
            continue;
        }
        if !kind.is_file() {
            return Err(refuse("links and device files are not unpacked"));
        }
        let size = entry.header().size().map_err(io_error)?;
        budget = budget
            .checked_sub(size)
            .ok_or_else(|| refuse("the archive unpacks to more than the size limit"))?;
        let mode = entry.header().mode().unwrap_or(0o644);
        write_entry(&target, &mut entry, executable(mode)).map_err(io_error)?;
    }
    Ok(())
}

fn unpack_zip(archive: &Path, file: fs_err::File, dest: &Path) -> Result<(), ArchiveError> {
    let io_error = |source| ArchiveError::Io {
        archive: archive.to_path_buf(),
        source,
    };
    let mut zip = zip::ZipArchive::new(file).map_err(|e| io_error(e.into()))?;
    let mut budget = MAX_UNPACKED_BYTES;
    for index in 0..zip.len() {
        let mut entry = zip.by_index(index).map_err(|e| io_error(e.into()))?;
        let refuse = |reason| ArchiveError::Refused {
            archive: archive.to_path_buf(),
            entry: entry.name().to_string(),
            reason,
        };
        let target = safe_path(dest, Path::new(entry.name())).map_err(refuse)?;
        if entry.is_dir() {
            fs_err::create_dir_all(&target).map_err(io_error)?;
            continue;
        }
        if entry.is_symlink() {
            return Err(refuse("links and device files are not unpacked"));
        }
        budget = budget
            .checked_sub(entry.size())
            .ok_or_else(|| refuse("the archive unpacks to more than the size limit"))?;
        let is_executable = entry.unix_mode().is_some_and(executable);
        // The declared size can lie: never read more than the budget allows.
        let mut limited = (&mut entry).take(budget.saturating_add(1));
        write_entry(&target, &mut limited, is_executable).map_err(io_error)?;
    }
    Ok(())
}

fn executable(mode: u32) -> bool {
    mode & 0o111 != 0
}

fn write_entry(target: &Path, reader: &mut impl Read, is_executable: bool) -> io::Result<()> {
    if let Some(parent) = target.parent() {
        fs_err::create_dir_all(parent)?;
    }
    let mut file = fs_err::File::create(target)?;
    io::copy(reader, &mut file)?;
    if is_executable {
        use std::os::unix::fs::PermissionsExt;
        fs_err::set_permissions(target, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_with(path: &str, kind: tar::EntryType, data: &[u8]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(kind);
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        // set_path refuses `..` and absolute paths, so write the raw name like a hostile tool.
        let name = &mut header.as_old_mut().name;
        name[..path.len()].copy_from_slice(path.as_bytes());
        header.set_cksum();
        builder.append(&header, data).unwrap();
        builder.into_inner().unwrap()
    }

    fn unpack_bytes(name: &str, bytes: &[u8]) -> (tempfile::TempDir, Result<(), ArchiveError>) {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join(name);
        fs_err::write(&archive, bytes).unwrap();
        let dest = dir.path().join("out");
        fs_err::create_dir(&dest).unwrap();
        let result = unpack(&archive, &dest);
        (dir, result)
    }

    #[test]
    fn plain_tar_unpacks() {
        let bytes = tar_with("pkg/setup.py", tar::EntryType::Regular, b"print(1)");
        let (dir, result) = unpack_bytes("x.tar", &bytes);
        result.unwrap();
        let text = fs_err::read_to_string(dir.path().join("out/pkg/setup.py")).unwrap();
        assert_eq!(text, "print(1)");
    }

    #[test]
    fn bzip2_tar_unpacks() {
        let tar = tar_with(
            "xbuildenv/requirements.txt",
            tar::EntryType::Regular,
            b"cffi",
        );
        let mut encoder = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
        io::Write::write_all(&mut encoder, &tar).unwrap();
        let (dir, result) = unpack_bytes("x.tar.bz2", &encoder.finish().unwrap());
        result.unwrap();
        let path = dir.path().join("out/xbuildenv/requirements.txt");
        assert_eq!(fs_err::read_to_string(path).unwrap(), "cffi");
    }

    #[test]
    fn hostile_tar_entries_are_refused() {
        let cases = [
            ("../evil", tar::EntryType::Regular, "`..`"),
            ("/etc/evil", tar::EntryType::Regular, "absolute"),
            ("pkg/link", tar::EntryType::Symlink, "links"),
            ("pkg/hard", tar::EntryType::Link, "links"),
            ("pkg/dev", tar::EntryType::Char, "device"),
        ];
        for (path, kind, reason) in cases {
            let (dir, result) = unpack_bytes("x.tar", &tar_with(path, kind, b"x"));
            let message = result.unwrap_err().to_string();
            assert!(message.contains(reason), "{path}: {message}");
            assert!(message.contains(path), "{message}");
            assert!(!dir.path().join("evil").exists());
        }
    }

    #[test]
    fn zip_slip_is_refused() {
        let mut writer = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default();
        writer.start_file("../../evil.py", options).unwrap();
        io::Write::write_all(&mut writer, b"x").unwrap();
        let bytes = writer.finish().unwrap().into_inner();
        let (_dir, result) = unpack_bytes("x.zip", &bytes);
        assert!(result.unwrap_err().to_string().contains("`..`"));
    }

    #[test]
    fn unknown_format_is_named() {
        let (_dir, result) = unpack_bytes("x.rar", b"");
        assert!(matches!(result, Err(ArchiveError::UnknownFormat(_))));
    }
}
