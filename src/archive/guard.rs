//! The checks every entry passes before anything is written, whatever the archive format:
//! a safe relative name, no collision with an earlier entry, and room left in the limits.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use super::{ArchiveError, Limits};

/// The longest name a single path component may have on Linux filesystems.
const MAX_COMPONENT_BYTES: usize = 255;
/// The longest entry name accepted (Linux's `PATH_MAX`).
const MAX_NAME_BYTES: usize = 4096;

/// What an entry is, once links, devices and pipes have been refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// A directory.
    Dir,
    /// A regular file, with or without execute permission.
    File {
        /// Any execute bit was set.
        executable: bool,
    },
}

/// One archive being unpacked: where it goes, what was written, and what is left.
pub(super) struct Extraction<'a> {
    archive: &'a Path,
    dest: &'a Path,
    limits: Limits,
    bytes: u64,
    entries: u64,
    /// Every path written so far, relative to `dest`, and whether it is a directory.
    seen: HashMap<PathBuf, bool>,
}

impl<'a> Extraction<'a> {
    /// An extraction of `archive` into `dest` within `limits`.
    pub(super) fn new(archive: &'a Path, dest: &'a Path, limits: &Limits) -> Self {
        Extraction {
            archive,
            dest,
            limits: *limits,
            bytes: 0,
            entries: 0,
            seen: HashMap::new(),
        }
    }

    /// The limits in force.
    pub(super) fn limits(&self) -> &Limits {
        &self.limits
    }

    /// A refusal of the entry named `name` (raw bytes, shown with control characters escaped).
    pub(super) fn refuse(&self, name: &[u8], reason: impl Into<String>) -> ArchiveError {
        ArchiveError::Refused {
            archive: self.archive.to_path_buf(),
            entry: display_name(name),
            reason: reason.into(),
        }
    }

    /// A reader error: the archive is damaged.
    pub(super) fn malformed(&self, source: io::Error) -> ArchiveError {
        ArchiveError::Malformed {
            archive: self.archive.to_path_buf(),
            source,
        }
    }

    /// Checks the entry `name` of `kind` and writes it: a directory, or a file whose content
    /// `reader` yields and which claims `declared` bytes.
    pub(super) fn extract(
        &mut self,
        name: &[u8],
        kind: Kind,
        reader: &mut dyn Read,
        declared: u64,
    ) -> Result<(), ArchiveError> {
        let path = self.admit(name, kind)?;
        match kind {
            Kind::Dir => Ok(fs_err::create_dir_all(&path)?),
            Kind::File { executable } => self.write_file(name, &path, reader, declared, executable),
        }
    }

    /// Checks the entry `name` of `kind` and returns the path it may be written to.
    fn admit(&mut self, name: &[u8], kind: Kind) -> Result<PathBuf, ArchiveError> {
        self.entries += 1;
        if self.entries > self.limits.max_entries {
            let reason = format!(
                "the archive has more than {} entries",
                self.limits.max_entries
            );
            return Err(self.refuse(name, reason));
        }
        let relative = relative_path(name).map_err(|reason| self.refuse(name, reason))?;
        let is_dir = kind == Kind::Dir;
        if relative.as_os_str().is_empty() && !is_dir {
            return Err(self.refuse(name, "its name is empty"));
        }
        if let Some(reason) = self.collision(&relative, is_dir) {
            return Err(self.refuse(name, reason));
        }
        // Parent directories come into being too, whether or not the archive lists them.
        for parent in relative.ancestors().skip(1) {
            self.seen.entry(parent.to_path_buf()).or_insert(true);
        }
        self.seen.insert(relative.clone(), is_dir);
        Ok(self.dest.join(relative))
    }

    /// Why `relative` may not be written after what came before, if it may not.
    fn collision(&self, relative: &Path, is_dir: bool) -> Option<&'static str> {
        match self.seen.get(relative) {
            Some(true) if is_dir => return None,
            Some(_) => return Some("an earlier entry has the same path"),
            None => {}
        }
        relative
            .ancestors()
            .skip(1)
            .any(|parent| self.seen.get(parent) == Some(&false))
            .then_some("an earlier entry made a file where its directory would be")
    }

    /// Writes an admitted file from `reader`, which claims to hold `declared` bytes. More
    /// than declared, or than the size limit leaves, is refused and the file removed.
    fn write_file(
        &mut self,
        name: &[u8],
        path: &Path,
        reader: &mut dyn Read,
        declared: u64,
        executable: bool,
    ) -> Result<(), ArchiveError> {
        let room = self.limits.max_bytes - self.bytes;
        if declared > room {
            return Err(self.refuse(name, self.too_large()));
        }
        if let Some(parent) = path.parent() {
            fs_err::create_dir_all(parent)?;
        }
        // `create_new` never follows or replaces what is already there (a planted link).
        let mut file = fs_err::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)?;
        // One byte past the declared size is enough to catch a lie (a zip bomb's).
        let refusal = match copy_at_most(reader, &mut file, declared.saturating_add(1)) {
            Ok(written) if written <= declared => {
                self.bytes += written;
                return Ok(set_mode(path, executable)?);
            }
            Ok(_) => self.refuse(name, "it holds more than its declared size"),
            Err(error) => self.malformed(error),
        };
        drop(file);
        let _ = fs_err::remove_file(path);
        Err(refusal)
    }

    /// The refusal reason for content past the size limit.
    pub(super) fn too_large(&self) -> String {
        format!(
            "the archive unpacks to more than the limit of {} bytes",
            self.limits.max_bytes
        )
    }
}

/// Copies until `reader` ends or `limit` bytes were copied; returns how many were.
fn copy_at_most(reader: &mut dyn Read, writer: &mut impl Write, limit: u64) -> io::Result<u64> {
    io::copy(&mut reader.take(limit), writer)
}

fn set_mode(path: &Path, executable: bool) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = if executable { 0o755 } else { 0o644 };
    fs_err::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

/// The relative path an entry name stands for, or why it may not be unpacked. Empty for
/// the archive's root (`./`).
pub(super) fn relative_path(name: &[u8]) -> Result<PathBuf, &'static str> {
    use std::os::unix::ffi::OsStrExt;
    if name.contains(&0) {
        return Err("its name contains a NUL byte");
    }
    if name.contains(&b'\\') {
        return Err("its name contains a backslash");
    }
    if name.len() > MAX_NAME_BYTES {
        return Err("its name is longer than 4096 bytes");
    }
    if name.starts_with(b"/") || name.get(1) == Some(&b':') {
        return Err("its path is absolute");
    }
    let mut path = PathBuf::new();
    for part in name.split(|&b| b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => return Err("its path contains `..`"),
            _ if part.len() > MAX_COMPONENT_BYTES => {
                return Err("a part of its name is longer than 255 bytes")
            }
            _ => path.push(std::ffi::OsStr::from_bytes(part)),
        }
    }
    Ok(path)
}

/// An entry name for messages: lossy UTF-8, control characters escaped, at most 200 chars.
fn display_name(name: &[u8]) -> String {
    let mut text = String::new();
    for (count, c) in String::from_utf8_lossy(name).chars().enumerate() {
        if count == 200 {
            text.push('…');
            break;
        }
        if c.is_control() {
            text.extend(c.escape_debug());
        } else {
            text.push(c);
        }
    }
    text
}
