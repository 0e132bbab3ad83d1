//! Putting finished files and directories into place so that a reader sees all of one or
//! nothing.

use std::io;
use std::path::Path;

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

/// Writes `bytes` to a temp file beside `dest` and renames it into place, creating the
/// parent directory: readers see the old file or the new one, never half of one.
pub fn write_atomic(dest: &Path, bytes: &[u8]) -> io::Result<()> {
    let parent = match dest.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    fs_err::create_dir_all(parent)?;
    let mut file = tempfile::NamedTempFile::new_in(parent)?;
    io::Write::write_all(&mut file, bytes)?;
    file.as_file().sync_all()?;
    file.persist(dest).map_err(|error| error.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_whole_files() {
        let root = tempfile::tempdir().unwrap();
        let dest = root.path().join("a/b.txt");
        write_atomic(&dest, b"one").unwrap();
        write_atomic(&dest, b"two").unwrap();
        assert_eq!(fs_err::read_to_string(&dest).unwrap(), "two");
        assert_eq!(fs_err::read_dir(root.path().join("a")).unwrap().count(), 1);
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
