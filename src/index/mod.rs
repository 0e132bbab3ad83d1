//! What a site that serves wasm wheels needs: a `pyodide-lock.json` that Pyodide loads, and a
//! static PEP 503/691 simple index that micropip and pip install from, and a small server
//! for trying them on loopback.

pub mod lock;
pub mod serve;
pub mod simple;

use std::path::{Path, PathBuf};

/// Errors writing a lockfile or an index.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum IndexError {
    /// A lockfile that is not one Pyodide writes.
    #[error("`{}` is not a pyodide-lock.json emwheel can read: {reason}", path.display())]
    #[diagnostic(help(
        "pass the `pyodide-lock.json` of a Pyodide distribution, or `--base none`"
    ))]
    BadLock {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The target's lockfile has a package key emwheel cannot fill.
    #[error("the target's lockfile has the package key `{0}`, which emwheel does not know")]
    #[diagnostic(help("upgrade emwheel; it writes only keys of the target's schema"))]
    UnknownKey(String),
    /// A wheel in the dist dir is broken.
    #[error("`{}` is not a valid wheel", path.display())]
    #[diagnostic(help("rebuild it, or remove it from the directory; nothing was written"))]
    BadWheel {
        /// The wheel.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: crate::wheel::WheelError,
    },
    /// A directory holds no wheels.
    #[error("`{}` holds no wheels", .0.display())]
    #[diagnostic(help("build some first: `emwheel build-recipes '*' -o {}`", .0.display()))]
    NoWheels(PathBuf),
    /// Two lockfiles to merge are for different targets.
    #[error("`{}` and `{}` are lockfiles of different targets: {first_info} and {second_info}", first.display(), second.display())]
    #[diagnostic(help("merge only the lockfiles of shards built for the same `--target`"))]
    DifferentTargets {
        /// The first lockfile.
        first: PathBuf,
        /// The lockfile whose `info` differs.
        second: PathBuf,
        /// The first's `info`.
        first_info: String,
        /// The second's `info`.
        second_info: String,
    },
    /// Two lockfiles to merge list the same package differently.
    #[error("`{}` and `{}` list the package `{package}` differently (`{keys}`)", first.display(), second.display())]
    #[diagnostic(help(
        "each package must be built by one shard only: rebuild the shards with the same `--shard i/n` count and selection"
    ))]
    Conflict {
        /// The package.
        package: String,
        /// The lockfile that listed it first.
        first: PathBuf,
        /// The lockfile that lists it differently.
        second: PathBuf,
        /// The keys whose values differ.
        keys: String,
    },
    /// A file could not be read or written.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// The wheels in a directory, sorted by file name.
pub fn wheels_in(dir: &Path) -> Result<Vec<PathBuf>, IndexError> {
    let mut wheels: Vec<PathBuf> = fs_err::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "whl"))
        .collect();
    wheels.sort();
    if wheels.is_empty() {
        return Err(IndexError::NoWheels(dir.to_path_buf()));
    }
    Ok(wheels)
}

/// Reads every wheel's metadata (checking each against its RECORD), on every core since it
/// is hashing-bound; the first broken wheel is an error naming it.
pub fn read_all(wheels: &[PathBuf]) -> Result<Vec<crate::wheel::WheelMetadata>, IndexError> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = wheels.len().div_ceil(threads).max(1);
    let read = |path: &PathBuf| {
        crate::wheel::read_metadata(path).map_err(|source| IndexError::BadWheel {
            path: path.clone(),
            source,
        })
    };
    std::thread::scope(|scope| {
        let workers: Vec<_> = wheels
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(read).collect::<Vec<_>>()))
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().expect("a metadata reader panicked"))
            .collect()
    })
}
