//! File-system steps that must hold up when several emwheel processes share a home or an
//! output directory, or one of them is killed: finished files and directories put into
//! place so that a reader sees all of one or nothing, exclusive locks, and leftovers of a
//! killed writer swept away by the next one that holds the lock.

use std::fs::TryLockError;
use std::io::{self, Write};
use std::path::Path;

/// An exclusive advisory lock (`flock`), released when dropped or when the process dies, so
/// a killed emwheel never leaves a stale lock behind.
#[derive(Debug)]
pub struct FileLock {
    _file: fs_err::File,
    /// Whether another process held the lock and this one waited for it.
    pub waited: bool,
}

impl FileLock {
    /// Locks `path`, creating it if needed, and waits while another process holds it.
    pub fn acquire(path: &Path) -> io::Result<Self> {
        let file = fs_err::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)?;
        Self::wait_for(file, path)
    }

    /// Locks the directory `dir` itself (no lock file is left in it), waiting if needed.
    pub fn acquire_dir(dir: &Path) -> io::Result<Self> {
        Self::wait_for(fs_err::File::open(dir)?, dir)
    }

    /// Locks the directory `dir` if no other process holds it; `None` if one does.
    pub fn try_acquire_dir(dir: &Path) -> io::Result<Option<Self>> {
        let file = fs_err::File::open(dir)?;
        match file.file().try_lock() {
            Ok(()) => Ok(Some(FileLock {
                _file: file,
                waited: false,
            })),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(error)) => Err(locking(dir, error)),
        }
    }

    fn wait_for(file: fs_err::File, path: &Path) -> io::Result<Self> {
        let waited = match file.file().try_lock() {
            Ok(()) => false,
            Err(TryLockError::WouldBlock) => {
                file.file().lock().map_err(|error| locking(path, error))?;
                true
            }
            Err(TryLockError::Error(error)) => return Err(locking(path, error)),
        };
        Ok(FileLock {
            _file: file,
            waited,
        })
    }
}

/// An error of locking `path`, naming it.
fn locking(path: &Path, error: io::Error) -> io::Error {
    io::Error::new(
        error.kind(),
        format!("locking `{}`: {error}", path.display()),
    )
}

/// Removes the entries of `dir` whose names start with `prefix`: the staging files and
/// directories of writers that were killed. Call it only while holding the lock every such
/// writer holds, so that no live writer's staging is touched. A killed writer's own children
/// may still be writing into its staging; what cannot be removed now is left for the next
/// sweep. Returns how many entries were removed.
pub fn sweep(dir: &Path, prefix: &str) -> io::Result<usize> {
    let mut removed = 0;
    for entry in fs_err::read_dir(dir)? {
        let entry = entry?;
        if !entry.file_name().to_string_lossy().starts_with(prefix) {
            continue;
        }
        let path = entry.path();
        let result = if entry.file_type()?.is_dir() {
            fs_err::remove_dir_all(&path)
        } else {
            fs_err::remove_file(&path)
        };
        removed += usize::from(result.is_ok());
    }
    Ok(removed)
}

/// The name prefix of staging files: hidden, and swept by the next writer into the same
/// directory when their writer was killed.
pub const PARTIAL_PREFIX: &str = ".emwheel-partial-";

/// A staging file in `dir` for a file about to be renamed into place, with `dir`'s lock.
/// Writers into one directory take turns; whoever holds the lock first removes the staging
/// files of writers that were killed. Keep the lock until the file is renamed.
pub fn staging_file(dir: &Path) -> io::Result<(FileLock, tempfile::NamedTempFile)> {
    fs_err::create_dir_all(dir)?;
    let lock = FileLock::acquire_dir(dir)?;
    sweep(dir, PARTIAL_PREFIX)?;
    // A temp file is private (0600) by default; what is written here is ordinary output.
    let file = tempfile::Builder::new()
        .prefix(PARTIAL_PREFIX)
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))
        .tempfile_in(dir)?;
    Ok((lock, file))
}

/// Writes `bytes` to a staging file beside `dest` and renames it over `dest`, creating the
/// parent directory: an interrupted run leaves the old file or the new one, never half.
pub fn write_atomic(dest: &Path, bytes: &[u8]) -> io::Result<()> {
    let parent = match dest.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let (_lock, mut temp) = staging_file(parent)?;
    temp.write_all(bytes)?;
    temp.as_file().sync_all()?;
    temp.persist(dest).map_err(|error| {
        io::Error::new(
            error.error.kind(),
            format!(
                "cannot rename a temp file to `{}`: {}",
                dest.display(),
                error.error
            ),
        )
    })?;
    Ok(())
}

/// Renames a finished staging directory to `dest`. When another process got there first
/// (both built the same cache entry), theirs is kept and ours is dropped with its temp dir.
pub fn place_dir(staging: tempfile::TempDir, dest: &Path) -> io::Result<()> {
    if dest.exists() {
        return Ok(());
    }
    match fs_err::rename(staging.path(), dest) {
        Ok(()) => {
            // The directory now lives at `dest`; the TempDir must not delete it.
            let _ = staging.keep();
            Ok(())
        }
        Err(_) if dest.exists() => Ok(()),
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_the_file_and_leaves_no_temp() {
        let root = tempfile::tempdir().unwrap();
        let dest = root.path().join("sub/file.json");
        write_atomic(&dest, b"old").unwrap();
        write_atomic(&dest, b"new").unwrap();
        assert_eq!(fs_err::read(&dest).unwrap(), b"new");
        let entries = fs_err::read_dir(root.path().join("sub")).unwrap().count();
        assert_eq!(entries, 1);
    }

    #[test]
    fn a_second_lock_waits_for_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("entry.lock");
        let first = FileLock::acquire(&path).unwrap();
        assert!(!first.waited);
        let (sender, receiver) = std::sync::mpsc::channel();
        let waiter = std::thread::spawn(move || {
            let second = FileLock::acquire(&path).unwrap();
            sender.send(()).unwrap();
            second.waited
        });
        let timeout = std::time::Duration::from_millis(200);
        assert!(
            receiver.recv_timeout(timeout).is_err(),
            "the lock was shared"
        );
        drop(first);
        assert!(waiter.join().unwrap(), "the second acquire did not wait");
    }

    #[test]
    fn directories_can_be_locked() {
        let dir = tempfile::tempdir().unwrap();
        let lock = FileLock::acquire_dir(dir.path()).unwrap();
        assert!(FileLock::try_acquire_dir(dir.path()).unwrap().is_none());
        drop(lock);
        assert!(FileLock::try_acquire_dir(dir.path()).unwrap().is_some());
    }

    #[test]
    fn sweep_removes_only_the_prefix() {
        let dir = tempfile::tempdir().unwrap();
        fs_err::create_dir(dir.path().join(".abc.partial")).unwrap();
        fs_err::write(dir.path().join(".abc.partial/f"), "").unwrap();
        fs_err::write(dir.path().join(".abc.partial-2"), "").unwrap();
        fs_err::write(dir.path().join("abc"), "").unwrap();
        assert_eq!(sweep(dir.path(), ".abc.partial").unwrap(), 2);
        let left: Vec<_> = fs_err::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1);
    }

    #[test]
    fn first_placement_wins() {
        let root = tempfile::tempdir().unwrap();
        let dest = root.path().join("entry");
        let first = tempfile::tempdir_in(root.path()).unwrap();
        fs_err::write(first.path().join("mark"), "first").unwrap();
        place_dir(first, &dest).unwrap();
        let second = tempfile::tempdir_in(root.path()).unwrap();
        let second_path = second.path().to_path_buf();
        fs_err::write(second.path().join("mark"), "second").unwrap();
        place_dir(second, &dest).unwrap();
        assert_eq!(fs_err::read_to_string(dest.join("mark")).unwrap(), "first");
        assert!(!second_path.exists());
    }
}
