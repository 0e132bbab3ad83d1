//! The error type shared by every step of reading, repairing and writing wheels.

use std::path::PathBuf;

/// Everything that can go wrong while unpacking, repairing, writing or verifying a wheel.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum WheelError {
    /// A wheel file name does not follow PEP 427.
    #[error(
        "invalid wheel file name `{name}`: {reason}; expected \
         `{{distribution}}-{{version}}(-{{build}})?-{{python}}-{{abi}}-{{platform}}.whl` (PEP 427)"
    )]
    InvalidName {
        /// The offending file name.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A file-system operation failed (`fs-err` puts the path in the message).
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// Walking the unpacked tree failed.
    #[error(transparent)]
    Walk(#[from] walkdir::Error),
    /// The zip layer failed while reading or writing a wheel.
    #[error("zip error in `{}`: {source}; the file is not a valid wheel archive", .wheel.display())]
    Zip {
        /// The wheel being read or written.
        wheel: PathBuf,
        /// The underlying zip error.
        source: zip::result::ZipError,
    },
    /// An archive entry would land outside the unpack directory (zip slip), is a link or a
    /// device, or collides with another.
    #[error(
        "`{}` contains unsafe entry `{entry}` ({reason}); refusing to unpack it — \
         rebuild the wheel with a standard PEP 517 backend",
        .wheel.display()
    )]
    UnsafeEntry {
        /// The wheel being unpacked.
        wheel: PathBuf,
        /// The entry name as stored in the archive.
        entry: String,
        /// Why the entry was rejected.
        reason: String,
    },
    /// The wheel could not be unpacked (damaged, or past the size limits).
    #[error(transparent)]
    Archive(crate::archive::ArchiveError),
    /// The wheel does not have exactly one top-level `.dist-info` directory.
    #[error(
        "`{}` must contain exactly one top-level `*.dist-info` directory, found {found}; \
         the build backend produced a malformed wheel",
        .wheel.display()
    )]
    DistInfo {
        /// The wheel (or unpacked tree) that was inspected.
        wheel: PathBuf,
        /// How many `.dist-info` directories were found.
        found: usize,
    },
    /// A metadata file (`WHEEL`, `RECORD`) is missing or malformed.
    #[error("`{}` is invalid: {reason}", .path.display())]
    Metadata {
        /// The metadata file, or the wheel it should be in.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A `.so` file is not a wasm32-emscripten side module.
    #[error(
        "`{}` is not a wasm32-emscripten side module: {reason}; it was probably built by the \
         host compiler — make sure the build uses emcc (CC, CXX, LDSHARED) and links with \
         `-sSIDE_MODULE=1`",
        .path.display()
    )]
    NotSideModule {
        /// The offending shared object.
        path: PathBuf,
        /// What the check found instead.
        reason: String,
    },
    /// Renaming an extension module to the target suffix would overwrite another file.
    #[error(
        "cannot rename extension module `{}` to `{}`: that file already exists; \
         the wheel ships the same module built for two interpreters — build it once",
        .from.display(), .to.display()
    )]
    RenameCollision {
        /// The extension module with the host suffix.
        from: PathBuf,
        /// The target name that is already taken.
        to: PathBuf,
    },
    /// A file in the tree to be packed has a name that is not UTF-8.
    #[error("`{}` is not valid UTF-8; wheel entry names must be UTF-8 — rename the file", .path.display())]
    NonUtf8Path {
        /// The offending path.
        path: PathBuf,
    },
    /// The RECORD of a wheel disagrees with its contents.
    #[error(
        "RECORD of `{}` does not match entry `{entry}`: {reason}; the wheel was modified after \
         it was written — rebuild it",
        .wheel.display()
    )]
    RecordMismatch {
        /// The wheel being verified.
        wheel: PathBuf,
        /// The entry whose hash, size or presence is wrong.
        entry: String,
        /// What differs.
        reason: String,
    },
    /// The finished temp file could not be moved into place.
    #[error("could not move the finished wheel to `{}`: {source}; check that the directory is writable", .path.display())]
    Persist {
        /// The final wheel path.
        path: PathBuf,
        /// The rename error.
        source: std::io::Error,
    },
    /// A shared library a side module needs is neither in the wheel nor in the library prefix.
    #[error(
        "`{library}`, needed by `{needed_by}`, is not in {}; build the library recipe that \
         installs it (and list it in `requirements.host`), or turn off `vendor-sharedlib`",
        searched.iter().map(|d| format!("`{}`", d.display())).collect::<Vec<_>>().join(", ")
    )]
    SharedLibraryNotFound {
        /// The needed library's file name.
        library: String,
        /// The archive path of the module that needs it.
        needed_by: String,
        /// The directories searched.
        searched: Vec<PathBuf>,
    },
}
