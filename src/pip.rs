//! The user's pip, for fetching distributions from their configured index (so private
//! mirrors, certificates and proxies configured for pip apply).

use std::path::Path;

use crate::process::{Cmd, CmdError};

/// Which form of a distribution to download.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// The sdist only (`--no-binary=:all:`).
    Sdist,
    /// A wheel only (`--only-binary=:all:`).
    Wheel,
}

/// Downloads exactly `requirement` (no dependencies) into `dest` with `python -m pip`.
pub fn download(
    python: &Path,
    requirement: &str,
    form: Form,
    dest: &Path,
    log: &mut dyn std::io::Write,
) -> Result<(), CmdError> {
    // Only the package itself must be an sdist: pip builds its metadata in an isolated
    // environment, and `:all:` would compile the backend's requirements (Cython) from source.
    let name = requirement
        .split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .next()
        .unwrap_or(requirement);
    let only = match form {
        Form::Sdist => format!("--no-binary={name}"),
        Form::Wheel => "--only-binary=:all:".to_string(),
    };
    Cmd::new(python)
        .args([
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            &only,
            "--dest",
        ])
        .arg(dest)
        .arg(requirement)
        .inherit_env()
        .run_logged(log)?;
    Ok(())
}
