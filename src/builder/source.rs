//! Getting a package's source into the build directory: fetched once (pip for PyPI pins,
//! curl for URLs, `apt-get source` for Debian source packages), cached by sha256, checked
//! before anything is unpacked, then patched.

use std::path::{Path, PathBuf};

use super::{url, BuildError};
use crate::pip::Form;
use crate::process::Cmd;

/// Where a package's source comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceSpec {
    /// An exact `Name==Version` pin, fetched as an sdist with pip from the user's index.
    Pypi {
        /// The pin.
        pin: String,
        /// The sdist's expected sha256.
        sha256: String,
    },
    /// An archive at a URL.
    Url {
        /// The URL.
        url: String,
        /// The archive's expected sha256.
        sha256: String,
    },
    /// A Debian source package's upstream tarball (`name=version`).
    Debian {
        /// `name=version`.
        package: String,
        /// The upstream tarball's expected sha256.
        sha256: String,
    },
    /// A local directory or archive.
    Path {
        /// The directory or archive.
        path: PathBuf,
        /// The archive's expected sha256, if given.
        sha256: Option<String>,
    },
}

impl SourceSpec {
    /// The spec with `$(NAME)` in a URL replaced through `lookup` (as Pyodide does).
    pub fn expanded(
        &self,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<SourceSpec, BuildError> {
        let SourceSpec::Url { url, sha256 } = self else {
            return Ok(self.clone());
        };
        let url = crate::recipe::substitute::expand(url, lookup).map_err(|unknown| {
            BuildError::UnknownVariable {
                name: unknown.0,
                key: "source.url".into(),
            }
        })?;
        Ok(SourceSpec::Url {
            url,
            sha256: sha256.clone(),
        })
    }
}

/// Fetches (or finds in the source cache `cache`) the source and returns the archive or
/// directory to use. The log says where it came from.
pub fn fetch(
    spec: &SourceSpec,
    python: &Path,
    cache: &Path,
    log: &mut dyn std::io::Write,
) -> Result<Fetched, BuildError> {
    let local = |path: &Path| Fetched {
        path: path.to_path_buf(),
        origin: Origin::Local,
    };
    match spec {
        SourceSpec::Path { path, sha256 } => {
            if let (Some(expected), true) = (sha256, path.is_file()) {
                check_sha256(path, expected)?;
            }
            Ok(local(path))
        }
        SourceSpec::Pypi { pin, sha256 } => cached_or(cache, sha256, log, |dir, log| {
            crate::pip::download_pinned(python, pin, sha256, Form::Sdist, dir, log)?;
            Ok(Origin::Index { pin: pin.clone() })
        }),
        SourceSpec::Debian { package, sha256 } => cached_or(cache, sha256, log, |dir, log| {
            apt_source(package, dir, log)?;
            Ok(Origin::Debian {
                package: package.clone(),
            })
        }),
        SourceSpec::Url { url, sha256 } => {
            if let Some(found) = url::in_flat_cache(cache, url, sha256)? {
                let _ = writeln!(log, "# source from the source cache: {}", found.display());
                return Ok(Fetched {
                    path: found,
                    origin: Origin::Cache,
                });
            }
            cached_or(cache, sha256, log, |dir, log| {
                url::download(url, sha256, python, dir, log)
            })
        }
    }
}

/// A fetched source and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The archive or directory.
    pub path: PathBuf,
    /// Where its bytes came from.
    pub origin: Origin,
}

/// Where a source's bytes came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A local path named by the recipe.
    Local,
    /// The source cache, by sha256.
    Cache,
    /// The recipe's URL.
    Url,
    /// The user's package index through pip, for this pin.
    Index {
        /// The `name==version` asked for.
        pin: String,
    },
    /// Debian's source packages through `apt-get source`.
    Debian {
        /// The `name=version` asked for.
        package: String,
    },
}

/// Downloads a Debian source package into `dir` and keeps only its upstream tarball (a
/// native package has only the one tarball).
fn apt_source(package: &str, dir: &Path, log: &mut dyn std::io::Write) -> Result<(), BuildError> {
    Cmd::new(which::which("apt-get").map_err(|_| BuildError::Tool("apt-get"))?)
        .args(["source", "--download-only", "--quiet", package])
        .inherit_env()
        .dir(dir)
        .run_logged(log)
        .map_err(|source| BuildError::DebianSource {
            package: package.to_string(),
            source: Box::new(source),
        })?;
    for entry in fs_err::read_dir(dir)? {
        let path = entry?.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let upstream = name.contains(".tar.") && !name.contains(".debian.tar.");
        if !upstream {
            fs_err::remove_file(&path)?;
        }
    }
    Ok(())
}

/// Returns the cached file for `sha256` in `cache`, or downloads it with `download` into a
/// staging directory, checks its sha256, and only then renames it into the cache.
///
/// A lock per entry (`<sha256>.lock`) makes concurrent runs wait for one download. A cached
/// file whose bytes no longer match is never used: it is fetched again. Staging directories
/// left by killed runs are removed first.
fn cached_or(
    cache: &Path,
    sha256: &str,
    log: &mut dyn std::io::Write,
    download: impl FnOnce(&Path, &mut dyn std::io::Write) -> Result<Origin, BuildError>,
) -> Result<Fetched, BuildError> {
    fs_err::create_dir_all(cache)?;
    let lock = crate::fsutil::FileLock::acquire(&cache.join(format!("{sha256}.lock")))?;
    if lock.waited {
        let _ = writeln!(log, "# waited for another emwheel fetching {sha256}");
    }
    let entry = cache.join(sha256);
    if let Some(file) = single_file(&entry)? {
        if crate::hash::sha256_file(&file)? == sha256 {
            let _ = writeln!(log, "# source from the source cache: {}", file.display());
            return Ok(Fetched {
                path: file,
                origin: Origin::Cache,
            });
        }
        let _ = writeln!(log, "# cached {} changed: fetching again", file.display());
    }
    if entry.exists() {
        fs_err::remove_dir_all(&entry)?;
    }
    let prefix = format!(".{sha256}.partial-");
    crate::fsutil::sweep(cache, &prefix)?;
    // Removed on any error; a killed run's is swept by the next.
    let staging = tempfile::Builder::new().prefix(&prefix).tempdir_in(cache)?;
    let origin = download(staging.path(), log)?;
    let file = single_file(staging.path())?.ok_or(BuildError::NothingDownloaded)?;
    check_sha256(&file, sha256)?;
    let file_name = file.file_name().expect("a file has a name").to_owned();
    fs_err::rename(staging.keep(), &entry)?;
    Ok(Fetched {
        path: entry.join(file_name),
        origin,
    })
}

fn single_file(dir: &Path) -> Result<Option<PathBuf>, BuildError> {
    if !dir.is_dir() {
        return Ok(None);
    }
    let mut files = Vec::new();
    for entry in fs_err::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            files.push(entry.path());
        }
    }
    Ok((files.len() == 1).then(|| files.remove(0)))
}

pub(super) fn check_sha256(file: &Path, expected: &str) -> Result<(), BuildError> {
    let actual = crate::hash::sha256_file(file)?;
    if actual == expected {
        Ok(())
    } else {
        Err(BuildError::Sha256Mismatch {
            file: file.to_path_buf(),
            expected: expected.to_string(),
            actual,
        })
    }
}

/// Unpacks (or copies) the fetched source into `dest`, descending into the archive's single
/// top-level directory (or `extract_dir`), then applies patches and extra files.
pub fn prepare(
    fetched: &Path,
    dest: &Path,
    scratch: &Path,
    extract_dir: Option<&str>,
) -> Result<(), BuildError> {
    if fetched.is_dir() {
        return copy_tree(fetched, dest);
    }
    fs_err::create_dir_all(scratch)?;
    crate::archive::unpack(fetched, scratch)?;
    let root = match extract_dir {
        // The directory itself, should the archive reach it through one of its links.
        Some(dir) => fs_err::canonicalize(scratch.join(dir))?,
        None => single_dir(scratch)?.unwrap_or_else(|| scratch.to_path_buf()),
    };
    // Links stay inside `scratch`; only the part kept must hold them, as it moves away.
    crate::archive::check_links(fetched, scratch, &root)?;
    fs_err::rename(root, dest)?;
    Ok(())
}

fn single_dir(dir: &Path) -> Result<Option<PathBuf>, BuildError> {
    let entries: Vec<_> = fs_err::read_dir(dir)?.collect::<Result<_, _>>()?;
    match entries.as_slice() {
        [only] if only.file_type()?.is_dir() => Ok(Some(only.path())),
        _ => Ok(None),
    }
}

/// The entries of a source directory the build copies, in a stable order: everything but
/// version-control and build leftovers.
fn source_tree(from: &Path) -> impl Iterator<Item = walkdir::Result<walkdir::DirEntry>> {
    let skipped = |name: &str| {
        matches!(
            name,
            ".git" | ".hg" | "build" | "dist" | "__pycache__" | ".venv"
        )
    };
    walkdir::WalkDir::new(from)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(move |entry| {
            entry.depth() == 0 || !skipped(&entry.file_name().to_string_lossy())
        })
}

/// Copies a source directory, leaving out version-control and build leftovers.
fn copy_tree(from: &Path, to: &Path) -> Result<(), BuildError> {
    for entry in source_tree(from) {
        let entry = entry.map_err(std::io::Error::from)?;
        let target = to.join(entry.path().strip_prefix(from).expect("below root"));
        if entry.file_type().is_dir() {
            fs_err::create_dir_all(&target)?;
        } else if entry.file_type().is_file() {
            fs_err::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// sha256 over the relative path and the sha256 of each file the build would copy.
fn tree_sha256(dir: &Path) -> std::io::Result<String> {
    let mut listing = String::new();
    for entry in source_tree(dir) {
        let entry = entry.map_err(std::io::Error::from)?;
        if entry.file_type().is_file() {
            let relative = entry.path().strip_prefix(dir).expect("below root");
            let digest = crate::hash::sha256_file(entry.path())?;
            listing.push_str(&format!("{digest}  {}\n", relative.display()));
        }
    }
    Ok(crate::hash::sha256_bytes(listing.as_bytes()))
}

impl SourceSpec {
    /// A digest of the source's bytes, for build caches: a download's pinned sha256, a
    /// local archive's sha256, or a hash over a local tree's files (paths and bytes, the
    /// files a build copies). Modification times play no part.
    pub fn digest(&self) -> std::io::Result<String> {
        match self {
            SourceSpec::Pypi { sha256, .. }
            | SourceSpec::Url { sha256, .. }
            | SourceSpec::Debian { sha256, .. } => Ok(sha256.clone()),
            SourceSpec::Path { path, .. } if path.is_dir() => tree_sha256(path),
            SourceSpec::Path { path, .. } => crate::hash::sha256_file(path),
        }
    }
}

/// Applies each patch with `patch -p1`, naming the patch that does not apply.
pub fn apply_patches(
    source: &Path,
    patches: &[PathBuf],
    log: &mut dyn std::io::Write,
) -> Result<(), BuildError> {
    for patch in patches {
        Cmd::new(which::which("patch").map_err(|_| BuildError::Tool("patch"))?)
            .args(["-p1", "--forward", "--batch", "--input"])
            .arg(patch)
            .dir(source)
            .run_logged(log)
            .map_err(|source| BuildError::Patch {
                patch: patch.clone(),
                source: Box::new(source),
            })?;
    }
    Ok(())
}

/// Copies `(from, to)` extra files into the source tree (`to` relative to it).
pub fn copy_extras(source: &Path, extras: &[(PathBuf, PathBuf)]) -> Result<(), BuildError> {
    for (from, to) in extras {
        let target = source.join(to);
        if let Some(parent) = target.parent() {
            fs_err::create_dir_all(parent)?;
        }
        fs_err::copy(from, target)?;
    }
    Ok(())
}

/// Whether a fetched source is a prebuilt wheel rather than sources.
pub fn is_wheel(fetched: &Path) -> bool {
    fetched.is_file() && fetched.extension().is_some_and(|ext| ext == "whl")
}

/// Whether a source tree has C, C++ or Cython sources, so that a pure-Python wheel from it
/// means its extension silently failed to build.
pub fn has_native_sources(source: &Path) -> bool {
    walkdir::WalkDir::new(source)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_file())
        .any(|entry| {
            let name = entry.file_name().to_string_lossy();
            [".c", ".cc", ".cpp", ".cxx", ".pyx"]
                .iter()
                .any(|ext| name.ends_with(ext))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    type Download = Box<dyn FnOnce(&Path, &mut dyn std::io::Write) -> Result<Origin, BuildError>>;

    /// A download that writes `bytes` as the sdist and counts how often it ran.
    fn serving(bytes: &'static [u8], count: &'static AtomicUsize) -> Download {
        Box::new(move |dir, _| {
            count.fetch_add(1, Ordering::SeqCst);
            fs_err::write(dir.join("pkg-1.0.tar.gz"), bytes)?;
            Ok(Origin::Url)
        })
    }

    /// Fetches `sha` into the cache at `root` with a download serving `bytes`.
    fn fetch_serving(
        root: &Path,
        sha: &str,
        bytes: &'static [u8],
        count: &'static AtomicUsize,
    ) -> Result<PathBuf, BuildError> {
        cached_or(root, sha, &mut std::io::sink(), serving(bytes, count)).map(|f| f.path)
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs_err::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_download_enters_the_cache_only_after_its_check() {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let root = tempfile::tempdir().unwrap();
        let sha = crate::hash::sha256_bytes(b"good");
        let error = fetch_serving(root.path(), &sha, b"evil", &COUNT);
        assert!(matches!(error, Err(BuildError::Sha256Mismatch { .. })));
        let lock = format!("{sha}.lock");
        assert_eq!(names(root.path()), [lock], "nothing cached");
        let file = fetch_serving(root.path(), &sha, b"good", &COUNT).unwrap();
        assert_eq!(file, root.path().join(&sha).join("pkg-1.0.tar.gz"));
        assert_eq!(fs_err::read(&file).unwrap(), b"good");
        let again = fetch_serving(root.path(), &sha, b"good", &COUNT);
        assert_eq!(again.unwrap(), file);
        let count = COUNT.load(Ordering::SeqCst);
        assert_eq!(count, 2, "the cached file was fetched again");
    }

    #[test]
    fn a_cached_file_whose_bytes_changed_is_fetched_again() {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let root = tempfile::tempdir().unwrap();
        let sha = crate::hash::sha256_bytes(b"good");
        let file = fetch_serving(root.path(), &sha, b"good", &COUNT).unwrap();
        fs_err::write(&file, b"tampered").unwrap();
        let mut log = Vec::new();
        let refetched = cached_or(root.path(), &sha, &mut log, serving(b"good", &COUNT));
        assert_eq!(fs_err::read(refetched.unwrap().path).unwrap(), b"good");
        assert_eq!(COUNT.load(Ordering::SeqCst), 2);
        let log = String::from_utf8(log).unwrap();
        assert!(log.contains("changed: fetching again"), "{log}");
        // A tampered entry whose refetch fails is gone, not left to be used.
        fs_err::write(&file, b"tampered").unwrap();
        let error = fetch_serving(root.path(), &sha, b"evil", &COUNT);
        assert!(matches!(error, Err(BuildError::Sha256Mismatch { .. })));
        assert!(!root.path().join(&sha).exists());
    }

    #[test]
    fn a_killed_download_is_swept_before_the_next() {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let root = tempfile::tempdir().unwrap();
        let sha = crate::hash::sha256_bytes(b"good");
        let partial = root.path().join(format!(".{sha}.partial-killed"));
        fs_err::create_dir(&partial).unwrap();
        fs_err::write(partial.join("half.tar.gz"), b"go").unwrap();
        let file = fetch_serving(root.path(), &sha, b"good", &COUNT);
        assert_eq!(fs_err::read(file.unwrap()).unwrap(), b"good");
        assert_eq!(names(root.path()), [sha.clone(), format!("{sha}.lock")]);
    }

    #[test]
    fn concurrent_fetches_download_once() {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let root = tempfile::tempdir().unwrap();
        let sha = crate::hash::sha256_bytes(b"good");
        let fetchers: Vec<_> = (0..3)
            .map(|_| {
                let (root, sha) = (root.path().to_path_buf(), sha.clone());
                std::thread::spawn(move || {
                    let slow: Download = Box::new(|dir, log| {
                        std::thread::sleep(std::time::Duration::from_millis(100));
                        serving(b"good", &COUNT)(dir, log)
                    });
                    cached_or(&root, &sha, &mut std::io::sink(), slow).unwrap()
                })
            })
            .collect();
        for fetcher in fetchers {
            let fetched = fetcher.join().unwrap();
            assert_eq!(fs_err::read(fetched.path).unwrap(), b"good");
        }
        assert_eq!(COUNT.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn mismatched_sha256_names_both_digests() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("x.tar.gz");
        fs_err::write(&file, b"abc").unwrap();
        let error = check_sha256(&file, &"0".repeat(64))
            .unwrap_err()
            .to_string();
        assert!(error.contains(&"0".repeat(64)), "{error}");
        assert!(error.contains("ba7816bf"), "{error}");
    }

    /// A gzipped sdist of `pkg-1.0/` holding `a.py` and the links `(name, target)`.
    fn sdist_with_links(dir: &Path, links: &[(&str, &str)]) -> PathBuf {
        let mut builder = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_size(1);
        builder
            .append_data(&mut header, "pkg-1.0/a.py", &b"A"[..])
            .unwrap();
        for (name, target) in links {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(tar::EntryType::Symlink);
            header.set_size(0);
            builder.append_link(&mut header, name, target).unwrap();
        }
        let tar = builder.into_inner().unwrap();
        let sdist = dir.join("pkg-1.0.tar.gz");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &tar).unwrap();
        fs_err::write(&sdist, gz.finish().unwrap()).unwrap();
        sdist
    }

    #[test]
    fn an_sdist_keeps_its_links_that_stay_in_its_directory() {
        let dir = tempfile::tempdir().unwrap();
        let links = [("pkg-1.0/api/str/__init__.py", "../../a.py")];
        let sdist = sdist_with_links(dir.path(), &links);
        let dest = dir.path().join("src");
        prepare(&sdist, &dest, &dir.path().join("unpack"), None).unwrap();
        let link = dest.join("api/str/__init__.py");
        assert!(fs_err::symlink_metadata(&link).unwrap().is_symlink());
        assert_eq!(fs_err::read_to_string(link).unwrap(), "A");
    }

    #[test]
    fn an_sdist_link_that_climbs_out_of_its_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        // Inside the archive, but after the move `../pkg-1.0/a.py` would name a sibling of `src`.
        let sdist = sdist_with_links(dir.path(), &[("pkg-1.0/round.py", "../pkg-1.0/a.py")]);
        let dest = dir.path().join("src");
        let error = prepare(&sdist, &dest, &dir.path().join("unpack"), None).unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains("refused entry `pkg-1.0/round.py`"),
            "{message}"
        );
        let reason = "`../pkg-1.0/a.py`, which leads outside the tree (`";
        assert!(message.contains(reason), "{message}");
        assert!(!dest.exists());
    }

    #[test]
    fn native_sources_are_detected() {
        let dir = tempfile::tempdir().unwrap();
        fs_err::write(dir.path().join("setup.py"), "").unwrap();
        assert!(!has_native_sources(dir.path()));
        fs_err::create_dir(dir.path().join("src")).unwrap();
        fs_err::write(dir.path().join("src/_speedups.c"), "").unwrap();
        assert!(has_native_sources(dir.path()));
    }

    #[test]
    fn directory_sources_skip_vcs_and_build_leftovers() {
        let from = tempfile::tempdir().unwrap();
        for dir in [".git", "build", "pkg"] {
            fs_err::create_dir(from.path().join(dir)).unwrap();
            fs_err::write(from.path().join(dir).join("f"), "").unwrap();
        }
        let to = tempfile::tempdir().unwrap();
        copy_tree(from.path(), to.path()).unwrap();
        assert!(to.path().join("pkg/f").is_file());
        assert!(!to.path().join(".git").exists());
        assert!(!to.path().join("build").exists());
    }

    #[test]
    fn tree_digest_follows_paths_and_bytes_not_times_or_leftovers() {
        let tree = tempfile::tempdir().unwrap();
        fs_err::create_dir(tree.path().join("pkg")).unwrap();
        fs_err::write(tree.path().join("pkg/a.py"), "a").unwrap();
        let spec = SourceSpec::Path {
            path: tree.path().to_path_buf(),
            sha256: None,
        };
        let first = spec.digest().unwrap();
        let file = fs_err::File::options()
            .write(true)
            .open(tree.path().join("pkg/a.py"))
            .unwrap();
        file.set_modified(std::time::SystemTime::UNIX_EPOCH)
            .unwrap();
        fs_err::create_dir(tree.path().join("build")).unwrap();
        fs_err::write(tree.path().join("build/junk.o"), "x").unwrap();
        assert_eq!(
            spec.digest().unwrap(),
            first,
            "times and build leftovers count"
        );
        fs_err::write(tree.path().join("pkg/a.py"), "b").unwrap();
        let changed = spec.digest().unwrap();
        assert_ne!(changed, first, "bytes must count");
        fs_err::rename(tree.path().join("pkg/a.py"), tree.path().join("pkg/b.py")).unwrap();
        assert_ne!(spec.digest().unwrap(), changed, "paths must count");
    }
}
