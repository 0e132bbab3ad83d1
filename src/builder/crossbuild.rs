//! Cross-build environment packages (`build.cross-build-env`), as Pyodide has them for numpy,
//! scipy and cffi: packages that other packages need *at build time*, where the host's build
//! of the package is not good enough because some of its files describe the machine (numpy's
//! `_numpyconfig.h` says `long` is 8 bytes on x86_64 and 4 on wasm32) or are code to link
//! (`libnpymath.a`).
//!
//! After such a package is built for a target, the files its recipe lists in
//! `cross-build-files` are copied out of its wheel into the target's library prefix, as
//! `cross-build/<name>-<digest>/<path in the wheel>`, and `cross-build/<name>.json` records
//! them with their sha256. A later build whose backend requires the package (in
//! `[build-system] requires`, `get_requires_for_build_wheel`, or the recipe's
//! `requirements.host`) gets a build environment with the host's release of that exact
//! version from the package index and these files laid over it: `numpy.get_include()` then
//! names wasm32 headers and `$(NUMPY_LIB)/_core/lib` holds wasm32 archives.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{BuildError, LibraryPrefix};
use crate::recipe::WheelPath;
use crate::wheel::normalize;

/// The version of a cross-build record's format; another one is refused, not misread.
const RECORD_VERSION: u32 = 1;

/// The files one cross-build package keeps for the builds that need it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrossBuildFiles {
    /// [`RECORD_VERSION`].
    pub format_version: u32,
    /// The package's name, as its recipe spells it.
    pub name: String,
    /// The version built; build environments install the host's release of it.
    pub version: String,
    /// The target it was built for.
    pub target: String,
    /// Each file, by its path in the wheel, with its sha256.
    pub files: BTreeMap<String, String>,
}

impl CrossBuildFiles {
    /// Names the directory the files live in: it changes whenever a file does, so a build
    /// environment keyed by it is made again.
    pub fn digest(&self) -> String {
        let listing: String = self
            .files
            .iter()
            .map(|(path, sha256)| format!("{path}\t{sha256}\n"))
            .collect();
        crate::hash::sha256_bytes(format!("{}\n{listing}", self.version).as_bytes())[..16]
            .to_string()
    }

    /// Where the files are kept in `prefix`.
    pub fn dir(&self, prefix: &LibraryPrefix) -> PathBuf {
        store(prefix).join(format!("{}-{}", normalize(&self.name), self.digest()))
    }

    /// The requirement that installs the host's release of the same version.
    pub fn pin(&self) -> String {
        format!("{}=={}", self.name, self.version)
    }
}

/// `cross-build/` of a library prefix.
fn store(prefix: &LibraryPrefix) -> PathBuf {
    prefix.root().join("cross-build")
}

fn record_path(prefix: &LibraryPrefix, name: &str) -> PathBuf {
    store(prefix).join(format!("{}.json", normalize(name)))
}

/// The files a cross-build package built for the prefix's target keeps, if it was built.
pub fn find(prefix: &LibraryPrefix, name: &str) -> Result<Option<CrossBuildFiles>, BuildError> {
    let path = record_path(prefix, name);
    if !path.is_file() {
        return Ok(None);
    }
    let unreadable = |message: String| BuildError::Manifest {
        path: path.clone(),
        message,
    };
    let text = fs_err::read_to_string(&path)?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|error| unreadable(error.to_string()))?;
    let found = value["format_version"].as_u64().unwrap_or(0);
    if found != u64::from(RECORD_VERSION) {
        return Err(unreadable(format!(
            "format version {found}; this emwheel reads {RECORD_VERSION}"
        )));
    }
    let record: CrossBuildFiles =
        serde_json::from_value(value).map_err(|error| unreadable(error.to_string()))?;
    Ok(record.dir(prefix).is_dir().then_some(record))
}

/// What [`keep`] needs to know of the package.
pub struct Kept<'a> {
    /// The package's name.
    pub name: &'a str,
    /// Its version.
    pub version: &'a str,
    /// The target it was built for.
    pub target: &'a str,
    /// Its recipe's `cross-build-files`.
    pub files: &'a [WheelPath],
}

/// Copies the listed files out of the unpacked wheel at `wheel_root` into `prefix` and
/// records them. The files go to a staging directory renamed into place, and the record is
/// written after them, so a reader never sees a record naming files that are not all there.
pub fn keep(
    wheel_root: &Path,
    kept: &Kept,
    prefix: &LibraryPrefix,
) -> Result<CrossBuildFiles, BuildError> {
    let mut files = BTreeMap::new();
    for file in kept.files {
        let source = wheel_root.join(file.as_str());
        if !source.is_file() {
            return Err(BuildError::CrossBuildFileMissing {
                file: file.to_string(),
                package: kept.name.to_string(),
            });
        }
        files.insert(file.to_string(), crate::hash::sha256_file(&source)?);
    }
    let record = CrossBuildFiles {
        format_version: RECORD_VERSION,
        name: kept.name.to_string(),
        version: kept.version.to_string(),
        target: kept.target.to_string(),
        files,
    };
    let dest = record.dir(prefix);
    if !dest.is_dir() {
        fs_err::create_dir_all(store(prefix))?;
        let staging = tempfile::Builder::new()
            .prefix(crate::fsutil::PARTIAL_PREFIX)
            .tempdir_in(store(prefix))?;
        copy_tree(wheel_root, staging.path(), record.files.keys())?;
        crate::fsutil::place_dir(staging, &dest)?;
    }
    let json = serde_json::to_vec_pretty(&record).expect("a record serializes");
    crate::fsutil::write_atomic(&record_path(prefix, kept.name), &json)?;
    Ok(record)
}

/// Copies each of `paths` (relative) from `from` to the same place under `to`.
fn copy_tree<'p>(
    from: &Path,
    to: &Path,
    paths: impl IntoIterator<Item = &'p String>,
) -> Result<(), BuildError> {
    for path in paths {
        let dest = to.join(path);
        if let Some(parent) = dest.parent() {
            fs_err::create_dir_all(parent)?;
        }
        fs_err::copy(from.join(path), &dest)?;
    }
    Ok(())
}

/// A cross-build package a build environment holds, with its files laid over it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overlay {
    /// Its files, where they are kept.
    pub dir: PathBuf,
    /// Their paths relative to `dir` (and to site-packages).
    pub files: Vec<String>,
    /// What names the overlay in a build environment's cache key.
    pub key: String,
}

impl Overlay {
    fn new(record: &CrossBuildFiles, prefix: &LibraryPrefix) -> Self {
        Overlay {
            dir: record.dir(prefix),
            files: record.files.keys().cloned().collect(),
            key: format!("{}-{}", normalize(&record.name), record.digest()),
        }
    }

    /// Copies the files over the host's install of the package in `site_packages`.
    pub fn lay_over(&self, site_packages: &Path) -> Result<(), BuildError> {
        copy_tree(&self.dir, site_packages, &self.files)
    }
}

/// Requirements of a build environment with every cross-build package built for the prefix's
/// target pinned to the version built, and the overlays they need. `host` (a recipe's
/// `requirements.host`) adds the cross-build packages it names even when the backend does
/// not ask for them, so that scripts and flags (`$(NUMPY_LIB)`) find them.
pub fn pin(
    requires: &[String],
    host: &[String],
    prefix: &LibraryPrefix,
    log: &mut dyn Write,
) -> Result<(Vec<String>, Vec<Overlay>), BuildError> {
    let mut pinned = Vec::new();
    let mut overlays: Vec<Overlay> = Vec::new();
    let host_only = host.iter().filter(|name| {
        !requires
            .iter()
            .any(|r| requirement_name(r) == normalize(name))
    });
    for requirement in requires.iter().chain(host_only) {
        let Some(record) = find(prefix, &requirement_name(requirement))? else {
            if requires.contains(requirement) {
                pinned.push(requirement.clone());
            }
            continue;
        };
        if !allows(requirement, &record.version) {
            let _ = writeln!(
                log,
                "# `{requirement}` does not allow {}, the version built for the target; using it anyway",
                record.version
            );
        }
        pinned.push(record.pin());
        let overlay = Overlay::new(&record, prefix);
        if !overlays.contains(&overlay) {
            overlays.push(overlay);
        }
    }
    Ok((pinned, overlays))
}

/// The normalized distribution name of a PEP 508 requirement (the text before any version,
/// extra or marker when it does not parse).
fn requirement_name(requirement: &str) -> String {
    match pep508_rs::Requirement::<pep508_rs::VerbatimUrl>::from_str(requirement) {
        Ok(parsed) => normalize(parsed.name.as_ref()),
        Err(_) => {
            let end = requirement
                .find(|c: char| !(c.is_ascii_alphanumeric() || "._-".contains(c)))
                .unwrap_or(requirement.len());
            normalize(&requirement[..end])
        }
    }
}

/// Whether `requirement`'s version specifiers allow `version` (true when either does not parse).
fn allows(requirement: &str, version: &str) -> bool {
    let Ok(parsed) = pep508_rs::Requirement::<pep508_rs::VerbatimUrl>::from_str(requirement) else {
        return true;
    };
    let Ok(version) = pep508_rs::pep440_rs::Version::from_str(version) else {
        return true;
    };
    match parsed.version_or_url {
        Some(pep508_rs::VersionOrUrl::VersionSpecifier(specifiers)) => {
            specifiers.contains(&version)
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wheel_path(path: &str) -> WheelPath {
        WheelPath::try_from(path.to_string()).unwrap()
    }

    /// A prefix in a temp dir and an unpacked "numpy" wheel with a config header and an archive.
    fn numpy_wheel() -> (tempfile::TempDir, LibraryPrefix, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let prefix = LibraryPrefix::at(tmp.path().join("prefix"));
        let wheel = tmp.path().join("wheel");
        fs_err::create_dir_all(wheel.join("numpy/_core/include/numpy")).unwrap();
        fs_err::create_dir_all(wheel.join("numpy/_core/lib")).unwrap();
        fs_err::write(
            wheel.join("numpy/_core/include/numpy/_numpyconfig.h"),
            "#define NPY_SIZEOF_LONG 4\n",
        )
        .unwrap();
        fs_err::write(wheel.join("numpy/_core/lib/libnpymath.a"), b"!<arch>\n").unwrap();
        (tmp, prefix, wheel)
    }

    const FILES: [&str; 2] = [
        "numpy/_core/include/numpy/_numpyconfig.h",
        "numpy/_core/lib/libnpymath.a",
    ];

    fn keep_numpy(wheel: &Path, prefix: &LibraryPrefix) -> Result<CrossBuildFiles, BuildError> {
        let files: Vec<WheelPath> = FILES.iter().map(|f| wheel_path(f)).collect();
        let kept = Kept {
            name: "numpy",
            version: "2.2.5",
            target: "0.29.5",
            files: &files,
        };
        keep(wheel, &kept, prefix)
    }

    #[test]
    fn kept_files_are_found_pinned_and_laid_over_site_packages() {
        let (tmp, prefix, wheel) = numpy_wheel();
        let record = keep_numpy(&wheel, &prefix).unwrap();
        assert_eq!(find(&prefix, "NumPy").unwrap(), Some(record.clone()));
        let requires = ["numpy>=2.0".to_string(), "meson-python".to_string()];
        let mut log = Vec::new();
        let (pinned, overlays) = pin(&requires, &[], &prefix, &mut log).unwrap();
        assert_eq!(pinned, ["numpy==2.2.5", "meson-python"]);
        assert_eq!(overlays.len(), 1);
        assert!(log.is_empty(), "{}", String::from_utf8_lossy(&log));
        let site = tmp.path().join("site-packages");
        fs_err::create_dir_all(site.join("numpy/_core/include/numpy")).unwrap();
        let header = site.join(FILES[0]);
        fs_err::write(&header, "#define NPY_SIZEOF_LONG 8\n").unwrap();
        overlays[0].lay_over(&site).unwrap();
        assert_eq!(
            fs_err::read_to_string(&header).unwrap(),
            "#define NPY_SIZEOF_LONG 4\n"
        );
        assert!(site.join(FILES[1]).is_file());
    }

    #[test]
    fn a_host_requirement_adds_the_package_and_a_version_conflict_is_logged() {
        let (_tmp, prefix, wheel) = numpy_wheel();
        keep_numpy(&wheel, &prefix).unwrap();
        let mut log = Vec::new();
        let (pinned, overlays) =
            pin(&["setuptools".into()], &["numpy".into()], &prefix, &mut log).unwrap();
        assert_eq!(pinned, ["setuptools", "numpy==2.2.5"]);
        assert_eq!(overlays.len(), 1);
        let (pinned, _) = pin(&["numpy>=2.3".into()], &[], &prefix, &mut log).unwrap();
        assert_eq!(pinned, ["numpy==2.2.5"]);
        let logged = String::from_utf8(log).unwrap();
        assert!(
            logged.contains("`numpy>=2.3` does not allow 2.2.5"),
            "{logged}"
        );
    }

    #[test]
    fn a_listed_file_the_wheel_lacks_is_an_error_naming_it_and_nothing_is_recorded() {
        let (_tmp, prefix, wheel) = numpy_wheel();
        fs_err::remove_file(wheel.join(FILES[1])).unwrap();
        let error = keep_numpy(&wheel, &prefix).unwrap_err();
        assert_eq!(
            error.to_string(),
            "`numpy/_core/lib/libnpymath.a`, listed in `cross-build-files`, is not in the wheel `numpy` built"
        );
        assert_eq!(find(&prefix, "numpy").unwrap(), None);
    }

    #[test]
    fn unbuilt_packages_are_left_as_the_backend_asked() {
        let tmp = tempfile::tempdir().unwrap();
        let prefix = LibraryPrefix::at(tmp.path().to_path_buf());
        let requires = ["Cython>=3; python_version>'3.9'".to_string()];
        let (pinned, overlays) =
            pin(&requires, &["numpy".into()], &prefix, &mut Vec::new()).unwrap();
        assert_eq!(pinned, requires);
        assert!(overlays.is_empty());
        assert_eq!(
            requirement_name("typing_extensions[x]>=4"),
            "typing-extensions"
        );
        assert_eq!(requirement_name("not a requirement ("), "not");
    }
}
