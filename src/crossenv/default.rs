//! The default target that `emwheel target use` sets: one line in `targets/default`.

use std::io::Write;
use std::path::PathBuf;

use super::TargetError;

fn path() -> PathBuf {
    crate::home::targets_dir().join("default")
}

/// The name `emwheel target use` stored, if any.
pub fn read() -> Result<Option<String>, TargetError> {
    match fs_err::read_to_string(path()) {
        Ok(text) => Ok(Some(text.trim().to_string()).filter(|name| !name.is_empty())),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error.into()),
    }
}

/// Stores `name` as the default, written to a temp file and renamed into place.
pub fn write(name: &str) -> Result<(), TargetError> {
    let dir = crate::home::targets_dir();
    fs_err::create_dir_all(&dir)?;
    let mut file = tempfile::Builder::new()
        .prefix(".default-")
        .tempfile_in(&dir)?;
    writeln!(file, "{name}")?;
    file.persist(path()).map_err(|error| error.error)?;
    Ok(())
}

/// Forgets the default: the newest installed target is the default again.
pub fn clear() -> Result<(), TargetError> {
    match fs_err::remove_file(path()) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error.into()),
        _ => Ok(()),
    }
}
