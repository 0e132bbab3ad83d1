//! Putting finished directories into place so that a reader sees all of one or nothing.

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

#[cfg(test)]
mod tests {
    use super::*;

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
