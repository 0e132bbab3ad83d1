//! Putting finished files and directories into place so that a reader sees all of one or
//! nothing.

use std::io::{self, Write};
use std::path::Path;

/// Writes `bytes` to a temp file beside `dest` and renames it over `dest`, creating the
/// parent directory: an interrupted run leaves the old file or the new one, never half.
pub fn write_atomic(dest: &Path, bytes: &[u8]) -> io::Result<()> {
    let parent = match dest.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    fs_err::create_dir_all(parent)?;
    // A temp file is private (0600) by default; what is written here is ordinary output.
    let mut temp = tempfile::Builder::new()
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))
        .tempfile_in(parent)?;
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
