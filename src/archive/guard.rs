//! The checks every entry passes before anything is written, whatever the archive format:
//! a safe relative name, no collision with an earlier entry, no path through an earlier
//! symbolic link, a link target that stays inside, and room left in the limits.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::{ArchiveError, Limits};

/// The longest name a single path component may have on Linux filesystems.
const MAX_COMPONENT_BYTES: usize = 255;
/// The longest entry name or link target accepted (Linux's `PATH_MAX`).
pub(super) const MAX_NAME_BYTES: usize = 4096;

/// What an entry is, once devices and pipes have been refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Kind {
    /// A directory.
    Dir,
    /// A regular file, with or without execute permission.
    File {
        /// Any execute bit was set.
        executable: bool,
    },
    /// A symbolic link, with its target as stored.
    Symlink(Vec<u8>),
    /// A hard link (tar only), with the name of the earlier entry whose content it shares.
    HardLink(Vec<u8>),
}

/// What an earlier entry put at a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Written {
    Dir,
    File,
    Link,
}

/// One archive being unpacked: where it goes, what was written, and what is left.
pub(super) struct Extraction<'a> {
    archive: &'a Path,
    dest: &'a Path,
    limits: Limits,
    bytes: u64,
    entries: u64,
    /// Every path written so far, relative to `dest`, and what was written there.
    seen: HashMap<PathBuf, Written>,
    /// Whether symbolic links are made (inside the tree) or refused.
    symlinks: bool,
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
            symlinks: true,
        }
    }

    /// The same extraction, refusing every symbolic link (a wheel has no way to hold one).
    pub(super) fn refusing_symlinks(self) -> Self {
        Extraction {
            symlinks: false,
            ..self
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

    /// Checks the entry `name` of `kind` and writes it: a directory, a file whose content
    /// `reader` yields and which claims `declared` bytes, or a link.
    pub(super) fn extract(
        &mut self,
        name: &[u8],
        kind: Kind,
        reader: &mut dyn Read,
        declared: u64,
    ) -> Result<(), ArchiveError> {
        match kind {
            Kind::Dir => {
                let path = self.dest.join(self.admit(name, Written::Dir)?);
                Ok(fs_err::create_dir_all(path)?)
            }
            Kind::File { executable } => {
                let path = self.dest.join(self.admit(name, Written::File)?);
                self.write_file(name, &path, reader, declared, executable)
            }
            Kind::Symlink(target) => self.symlink(name, &target),
            Kind::HardLink(target) => self.copy_hard_link(name, &target),
        }
    }

    /// Checks the entry `name`, to be written as `written`, and returns its path relative to
    /// the destination.
    fn admit(&mut self, name: &[u8], written: Written) -> Result<PathBuf, ArchiveError> {
        self.entries += 1;
        if self.entries > self.limits.max_entries {
            let reason = format!(
                "the archive has more than {} entries",
                self.limits.max_entries
            );
            return Err(self.refuse(name, reason));
        }
        let relative = relative_path(name).map_err(|reason| self.refuse(name, reason))?;
        if relative.as_os_str().is_empty() && written != Written::Dir {
            return Err(self.refuse(name, "its name is empty"));
        }
        if let Some(reason) = self.collision(&relative, written) {
            return Err(self.refuse(name, reason));
        }
        // Parent directories come into being too, whether or not the archive lists them.
        for parent in relative.ancestors().skip(1) {
            self.seen
                .entry(parent.to_path_buf())
                .or_insert(Written::Dir);
        }
        self.seen.insert(relative.clone(), written);
        Ok(relative)
    }

    /// Why `relative` may not be written as `written` after what came before, if it may not.
    /// A path through an earlier link is refused whatever the link's target: writing through
    /// a link is how an archive reaches outside (`a -> ..`, then `a/evil`), and refusing it
    /// keeps every entry's parent a real directory where its name says.
    fn collision(&self, relative: &Path, written: Written) -> Option<String> {
        match self.seen.get(relative) {
            Some(Written::Dir) if written == Written::Dir => return None,
            Some(_) => return Some("an earlier entry has the same path".into()),
            None => {}
        }
        relative
            .ancestors()
            .skip(1)
            .find_map(|parent| match self.seen.get(parent) {
                Some(Written::File) => {
                    Some("an earlier entry made a file where its directory would be".into())
                }
                Some(Written::Link) => Some(format!(
                    "its path passes through the symbolic link `{}`",
                    parent.display()
                )),
                _ => None,
            })
    }

    /// Makes the symbolic link `name` to `target` if the target stays inside the destination.
    /// The link itself, not a copy: as Python's `tarfile` data filter and pip do, so a link
    /// to a directory, a link before its target and a link to a link all stay what they are.
    fn symlink(&mut self, name: &[u8], target: &[u8]) -> Result<(), ArchiveError> {
        if !self.symlinks {
            return Err(self.refuse(name, "it is a symbolic link, which a wheel cannot hold"));
        }
        let relative = self.admit(name, Written::Link)?;
        let target = link_target(&relative, target).map_err(|reason| self.refuse(name, reason))?;
        let path = self.dest.join(relative);
        create_parent(&path)?;
        Ok(fs_err::os::unix::fs::symlink(target, path)?)
    }

    /// Writes the hard link `name` as a copy of the earlier file `target` names. A copy, not
    /// a second name for one file: patching one then leaves the other as the archive had it,
    /// and the copy counts against the size limit like any file.
    fn copy_hard_link(&mut self, name: &[u8], target: &[u8]) -> Result<(), ArchiveError> {
        let source = relative_path(target)
            .ok()
            .filter(|source| self.seen.get(source) == Some(&Written::File));
        let Some(source) = source else {
            let reason = format!(
                "it is a hard link to `{}`, which is no file an earlier entry wrote",
                display_name(target)
            );
            return Err(self.refuse(name, reason));
        };
        let source = self.dest.join(source);
        let path = self.dest.join(self.admit(name, Written::File)?);
        let mut file = fs_err::File::open(&source)?;
        let metadata = file.metadata()?;
        let executable = metadata.permissions().mode() & 0o111 != 0;
        self.write_file(name, &path, &mut file, metadata.len(), executable)
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
        create_parent(path)?;
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

/// Makes the directories above `path`. None of them is a link: [`Extraction::collision`]
/// refuses a path through one.
fn create_parent(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(parent) => fs_err::create_dir_all(parent),
        None => Ok(()),
    }
}

fn set_mode(path: &Path, executable: bool) -> io::Result<()> {
    let mode = if executable { 0o755 } else { 0o644 };
    fs_err::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

/// The relative path an entry name stands for, or why it may not be unpacked. Empty for
/// the archive's root (`./`).
pub(super) fn relative_path(name: &[u8]) -> Result<PathBuf, &'static str> {
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
            _ => path.push(OsStr::from_bytes(part)),
        }
    }
    Ok(path)
}

/// The target of a symbolic link at `link` (relative to the destination), normalized, or
/// why the link may not be made.
///
/// A target may climb with leading `..`, no higher than the destination, then only name
/// steps down. No entry's path passes through a link, so the link's directory is a real one
/// where its name says and the climb lands inside; each step down is into a directory, a
/// file or a link that is inside by the same rule, so wherever the link leads is inside,
/// whatever order the entries came in. `..` after a name is refused: whether it goes back
/// where it came from depends on whether that name is itself a link (`d -> a/b`, `d/..`).
pub(super) fn link_target(link: &Path, target: &[u8]) -> Result<PathBuf, String> {
    let refusal = |why: &str| format!("it is a symbolic link to `{}`, {why}", display_name(target));
    let flaw = if target.is_empty() {
        Some("which is empty")
    } else if target.contains(&0) {
        Some("which contains a NUL byte")
    } else if target.len() > MAX_NAME_BYTES {
        Some("which is longer than 4096 bytes")
    } else if target.starts_with(b"/") {
        Some("which is absolute")
    } else {
        None
    };
    if let Some(flaw) = flaw {
        return Err(refusal(flaw));
    }
    let mut room = link
        .parent()
        .map_or(0, |parent| parent.components().count());
    let mut normal = PathBuf::new();
    let mut names = false;
    for part in target.split(|&b| b == b'/') {
        match part {
            b"" | b"." => {}
            b".." if names => return Err(refusal("which has `..` after a name")),
            b".." if room == 0 => return Err(refusal("which leads outside the tree")),
            b".." => {
                room -= 1;
                normal.push("..");
            }
            _ => {
                names = true;
                normal.push(OsStr::from_bytes(part));
            }
        }
    }
    if normal.as_os_str().is_empty() {
        normal.push(".");
    }
    Ok(normal)
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
