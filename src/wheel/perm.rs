//! The two file modes a wheel entry may have: `0o644`, or `0o755` for executables.

use std::fs::Metadata;
use std::io;
use std::path::Path;

/// Mode of ordinary files.
pub const FILE_MODE: u32 = 0o644;
/// Mode of executable files.
pub const EXEC_MODE: u32 = 0o755;

/// Picks [`EXEC_MODE`] or [`FILE_MODE`].
pub fn mode_for(executable: bool) -> u32 {
    if executable {
        EXEC_MODE
    } else {
        FILE_MODE
    }
}

/// True if any execute bit is set in a Unix mode.
pub fn mode_is_executable(mode: u32) -> bool {
    mode & 0o111 != 0
}

/// True if the file's execute bits are set (always false off Unix).
pub fn is_executable(meta: &Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        mode_is_executable(meta.permissions().mode())
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        false
    }
}

/// Sets `path` to `0o755` or `0o644` (a no-op off Unix).
pub fn set_mode(path: &Path, executable: bool) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let perms = std::fs::Permissions::from_mode(mode_for(executable));
        fs_err::set_permissions(path, perms)
    }
    #[cfg(not(unix))]
    {
        let _ = (path, executable);
        Ok(())
    }
}
