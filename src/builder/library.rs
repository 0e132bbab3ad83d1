//! Library recipes (`build.type = "static_library"` or `"shared_library"`) and the per-target
//! prefix they install into, `$EMWHEEL_HOME/libraries/<target>` (`include/`, `lib/`,
//! `lib/pkgconfig/`), where package builds find them.
//!
//! A library's script installs into a staging prefix inside its build directory (its
//! `WASM_LIBRARY_DIR`); text files that name the staging prefix (`.pc`, `.la`, CMake configs)
//! are rewritten to name the real one, and the files are then moved into the prefix one by
//! one, each through a rename. A manifest, `manifests/<name>.json` in the prefix, records
//! every file with its sha256; a shared library's `.so` files are also zipped into
//! `<name>-<version>.zip` in the output directory, to be installed into the runtime's
//! library directory (`install_dir = "dynlib"` in a Pyodide lockfile).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use walkdir::WalkDir;

use super::BuildError;
use crate::recipe::BuildType;

/// The version of a manifest's format; a newer one is refused, not misread.
pub const MANIFEST_VERSION: u32 = 1;

/// The installed-library prefix of one target.
#[derive(Debug, Clone)]
pub struct LibraryPrefix {
    root: PathBuf,
}

/// What a library build installed, for caches and lockfiles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`MANIFEST_VERSION`].
    pub format_version: u32,
    /// The recipe's name.
    pub name: String,
    /// The recipe's version.
    pub version: String,
    /// `static_library` or `shared_library`.
    pub kind: String,
    /// The target it was built for.
    pub target: String,
    /// Every installed file, relative to the prefix, with its sha256 (`link:<target>` for a
    /// symbolic link).
    pub files: BTreeMap<String, String>,
    /// For a shared library: the zip of its `.so` files for the runtime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_zip: Option<RuntimeZip>,
}

/// A shared library's zip in the output directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeZip {
    /// `<name>-<version>.zip`.
    pub file_name: String,
    /// Its sha256.
    pub sha256: String,
    /// Where the runtime unpacks it: always `dynlib`, the shared-library directory.
    pub install_dir: String,
    /// The `.so` files it holds.
    pub shared_libraries: Vec<String>,
}

impl LibraryPrefix {
    /// The prefix of the target named `target`.
    pub fn for_target(target: &str) -> Self {
        LibraryPrefix {
            root: crate::home::libraries_dir().join(target),
        }
    }

    /// A prefix at `root`, for tests.
    #[cfg(test)]
    pub(crate) fn at(root: PathBuf) -> Self {
        LibraryPrefix { root }
    }

    /// The prefix directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `lib/pkgconfig` of the prefix.
    pub fn pkg_config_dir(&self) -> PathBuf {
        self.root.join("lib/pkgconfig")
    }

    fn manifest_path(&self, name: &str) -> PathBuf {
        self.root
            .join("manifests")
            .join(format!("{}.json", crate::wheel::normalize(name)))
    }

    /// The manifest of an installed library, if it is installed.
    pub fn manifest(&self, name: &str) -> Result<Option<Manifest>, BuildError> {
        let path = self.manifest_path(name);
        if !path.is_file() {
            return Ok(None);
        }
        let text = fs_err::read_to_string(&path)?;
        let version: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        let found = version["format_version"].as_u64().unwrap_or(0);
        if found != u64::from(MANIFEST_VERSION) {
            return Err(BuildError::Manifest {
                path,
                message: format!("format version {found}; this emwheel reads {MANIFEST_VERSION}"),
            });
        }
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|error| BuildError::Manifest {
                path,
                message: error.to_string(),
            })
    }
}

/// Fails on the first host requirement that is a library, or a cross-build package (numpy),
/// not yet built for the target. A requirement whose sibling recipe builds any other package
/// (a Python build dependency) is left to the build environment.
pub fn check_host_requirements(
    requirements: &[String],
    recipes_dir: Option<&Path>,
    prefix: &LibraryPrefix,
    target: &str,
) -> Result<(), BuildError> {
    for name in requirements {
        // A recipe dir of either format: `recipe.toml` or Pyodide's `meta.yaml`.
        let recipe = recipes_dir
            .map(|dir| dir.join(name))
            .filter(|dir| dir.is_dir());
        let build = recipe
            .as_deref()
            .and_then(|dir| crate::recipe::load(dir).ok())
            .map(|recipe| recipe.build().clone());
        let found = match &build {
            Some(build) if build.cross_build_env => {
                super::crossbuild::find(prefix, name)?.is_some()
            }
            Some(build) if build.kind == BuildType::Package => true,
            _ => prefix.manifest(name)?.is_some(),
        };
        if found {
            continue;
        }
        return Err(BuildError::HostRequirementMissing {
            name: name.clone(),
            target: target.to_string(),
            recipe: recipe.unwrap_or_else(|| PathBuf::from(format!("recipes/{name}"))),
        });
    }
    Ok(())
}

/// What a failed build could not find.
#[derive(Debug, Clone, Copy)]
pub enum Missing<'a> {
    /// A header, as the compiler named it (`zlib.h`, `openssl/ssl.h`).
    Header(&'a str),
    /// A library, as `-l` named it (`z` for `-lz`).
    Library(&'a str),
}

/// The library recipe that would provide what is `missing`: a library installed for the
/// target whose manifest lists the file, else a recipe in `recipes_dir` named after it
/// (`zlib` or `libzlib` for `zlib.h`, `libz` or `z` for `-lz`).
pub fn provider_of(
    missing: Missing,
    prefix: &LibraryPrefix,
    recipes_dir: Option<&Path>,
) -> Option<String> {
    let (files, names) = match missing {
        Missing::Header(header) => {
            let stem = Path::new(header)
                .file_stem()?
                .to_string_lossy()
                .into_owned();
            (
                vec![format!("include/{header}")],
                vec![stem.clone(), format!("lib{stem}")],
            )
        }
        Missing::Library(name) => (
            vec![format!("lib/lib{name}.a"), format!("lib/lib{name}.so")],
            vec![format!("lib{name}"), name.to_string()],
        ),
    };
    let manifests = fs_err::read_dir(prefix.root.join("manifests")).ok()?;
    let installed = manifests.flatten().find_map(|entry| {
        let text = fs_err::read_to_string(entry.path()).ok()?;
        let manifest: Manifest = serde_json::from_str(&text).ok()?;
        files
            .iter()
            .any(|file| manifest.files.contains_key(file))
            .then_some(manifest.name)
    });
    installed.or_else(|| {
        let dir = recipes_dir?;
        names
            .into_iter()
            .find(|name| crate::recipe::is_recipe_dir(&dir.join(name)))
    })
}

/// A finished library install.
pub struct Installed {
    /// The manifest in the prefix.
    pub manifest_path: PathBuf,
    /// The shared library's zip in the output directory.
    pub runtime_zip: Option<PathBuf>,
}

/// What the install step needs besides the staging prefix.
pub struct InstallRequest<'a> {
    /// The recipe's name and version.
    pub name: &'a str,
    /// The recipe's version.
    pub version: &'a str,
    /// Static or shared.
    pub kind: BuildType,
    /// The target's name.
    pub target: &'a str,
    /// Where a shared library's zip goes.
    pub out_dir: &'a Path,
    /// Timestamp for the zip's entries.
    pub source_date_epoch: u64,
}

/// Moves what the script installed in `staging` into `prefix`, replacing an earlier install
/// of the same library, and writes the manifest (and a shared library's zip).
pub fn install(
    staging: &Path,
    prefix: &LibraryPrefix,
    request: &InstallRequest,
) -> Result<Installed, BuildError> {
    let files = staged_files(staging)?;
    if files.is_empty() {
        return Err(BuildError::NothingInstalled {
            prefix: staging.to_path_buf(),
        });
    }
    let runtime_zip = match request.kind {
        BuildType::SharedLibrary => Some(zip_shared_libraries(staging, &files, request)?),
        _ => None,
    };
    let old = prefix.manifest(request.name)?;
    let mut manifest = Manifest {
        format_version: MANIFEST_VERSION,
        name: request.name.to_string(),
        version: request.version.to_string(),
        kind: kind_name(request.kind).to_string(),
        target: request.target.to_string(),
        files: BTreeMap::new(),
        runtime_zip: runtime_zip.as_ref().map(|(_, zip)| zip.clone()),
    };
    for relative in &files {
        let entry = place_file(staging, prefix.root(), relative)?;
        manifest.files.insert(relative.clone(), entry);
    }
    remove_stale(prefix, old.as_ref(), &manifest)?;
    let manifest_path = prefix.manifest_path(request.name);
    let json = serde_json::to_string_pretty(&manifest).expect("manifest serializes") + "\n";
    write_atomically(&manifest_path, json.as_bytes())?;
    Ok(Installed {
        manifest_path,
        runtime_zip: runtime_zip.map(|(path, _)| path),
    })
}

fn kind_name(kind: BuildType) -> &'static str {
    match kind {
        BuildType::SharedLibrary => "shared_library",
        _ => "static_library",
    }
}

/// Every file and link under `staging`, relative and `/`-separated, sorted.
fn staged_files(staging: &Path) -> Result<Vec<String>, BuildError> {
    let mut files = Vec::new();
    for entry in WalkDir::new(staging).sort_by_file_name() {
        let entry = entry.map_err(std::io::Error::from)?;
        if entry.file_type().is_dir() {
            continue;
        }
        let relative = entry.path().strip_prefix(staging).expect("below staging");
        files.push(relative.to_string_lossy().replace('\\', "/"));
    }
    Ok(files)
}

/// Copies one staged file or link into the prefix through a rename, rewriting the staging
/// path in text files; returns its manifest entry.
fn place_file(staging: &Path, prefix: &Path, relative: &str) -> Result<String, BuildError> {
    let (from, dest) = (staging.join(relative), prefix.join(relative));
    let parent = dest.parent().expect("a file below the prefix has a parent");
    fs_err::create_dir_all(parent)?;
    let temp = parent.join(format!(".emwheel-new-{}", std::process::id()));
    let _ = fs_err::remove_file(&temp);
    let meta = fs_err::symlink_metadata(&from)?;
    let entry = if meta.file_type().is_symlink() {
        let link = fs_err::read_link(&from)?;
        std::os::unix::fs::symlink(&link, &temp)?;
        format!("link:{}", link.display())
    } else {
        let bytes = relocate(fs_err::read(&from)?, staging, prefix);
        fs_err::write(&temp, &bytes)?;
        fs_err::set_permissions(&temp, meta.permissions())?;
        crate::hash::sha256_bytes(&bytes)
    };
    fs_err::rename(&temp, &dest)?;
    Ok(entry)
}

/// Replaces the staging prefix with the real one in a text file (no NUL byte); binaries
/// are left alone.
fn relocate(bytes: Vec<u8>, staging: &Path, prefix: &Path) -> Vec<u8> {
    if bytes.contains(&0) {
        return bytes;
    }
    let (Ok(text), Some(from), Some(to)) = (
        String::from_utf8(bytes.clone()),
        staging.to_str(),
        prefix.to_str(),
    ) else {
        return bytes;
    };
    text.replace(from, to).into_bytes()
}

/// Removes the files an earlier install of the library had and this one does not.
fn remove_stale(
    prefix: &LibraryPrefix,
    old: Option<&Manifest>,
    new: &Manifest,
) -> Result<(), BuildError> {
    let Some(old) = old else { return Ok(()) };
    for relative in old.files.keys().filter(|f| !new.files.contains_key(*f)) {
        match fs_err::remove_file(prefix.root().join(relative)) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(error.into()),
            _ => {}
        }
    }
    Ok(())
}

/// Zips the staged `lib/*.so*` files (links resolved) as `<name>-<version>.zip`.
fn zip_shared_libraries(
    staging: &Path,
    files: &[String],
    request: &InstallRequest,
) -> Result<(PathBuf, RuntimeZip), BuildError> {
    let shared: Vec<&String> = files.iter().filter(|f| is_shared_library(f)).collect();
    if shared.is_empty() {
        return Err(BuildError::NoSharedLibrary {
            prefix: staging.to_path_buf(),
        });
    }
    let tree = tempfile::tempdir_in(staging.parent().unwrap_or(staging))?;
    let mut names = Vec::new();
    for relative in shared {
        let name = relative.rsplit('/').next().unwrap_or(relative);
        fs_err::copy(staging.join(relative), tree.path().join(name))?;
        names.push(name.to_string());
    }
    let file_name = format!("{}-{}.zip", request.name, request.version);
    let dest = request.out_dir.join(&file_name);
    crate::wheel::write_zip_tree(tree.path(), &dest, request.source_date_epoch)?;
    let zip = RuntimeZip {
        file_name,
        sha256: crate::hash::sha256_file(&dest)?,
        install_dir: "dynlib".to_string(),
        shared_libraries: names,
    };
    Ok((dest, zip))
}

/// `lib/libfoo.so` or `lib/libfoo.so.1.2`.
fn is_shared_library(relative: &str) -> bool {
    let Some(name) = relative.strip_prefix("lib/") else {
        return false;
    };
    !name.contains('/') && (name.ends_with(".so") || name.contains(".so."))
}

/// Writes `bytes` to `path` through a temp file renamed into place.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), BuildError> {
    let dir = path.parent().expect("a file has a parent");
    fs_err::create_dir_all(dir)?;
    let mut temp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut temp, bytes)?;
    temp.persist(path).map_err(|error| error.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request<'a>(kind: BuildType, out_dir: &'a Path, version: &'a str) -> InstallRequest<'a> {
        InstallRequest {
            name: "libdemo",
            version,
            kind,
            target: "0.29.5",
            out_dir,
            source_date_epoch: 315_532_800,
        }
    }

    fn stage(staging: &Path, files: &[(&str, &str)]) {
        for (relative, text) in files {
            let path = staging.join(relative);
            fs_err::create_dir_all(path.parent().unwrap()).unwrap();
            fs_err::write(path, text.replace("{S}", staging.to_str().unwrap())).unwrap();
        }
    }

    #[test]
    fn installs_relocates_and_records_files() {
        let tmp = tempfile::tempdir().unwrap();
        let staging = tmp.path().join("prefix");
        stage(
            &staging,
            &[
                ("include/demo.h", "int demo(void);"),
                ("lib/libdemo.a", "!<arch>\0"),
                (
                    "lib/pkgconfig/demo.pc",
                    "prefix={S}\nlibdir=${prefix}/lib\n",
                ),
            ],
        );
        let prefix = LibraryPrefix {
            root: tmp.path().join("libraries/0.29.5"),
        };
        let out = tmp.path().join("dist");
        let request = request(BuildType::StaticLibrary, &out, "1.0");
        let installed = install(&staging, &prefix, &request).unwrap();
        assert!(installed.runtime_zip.is_none());
        let pc = fs_err::read_to_string(prefix.pkg_config_dir().join("demo.pc")).unwrap();
        assert_eq!(
            pc,
            format!(
                "prefix={}\nlibdir=${{prefix}}/lib\n",
                prefix.root().display()
            )
        );
        let manifest = prefix.manifest("libdemo").unwrap().unwrap();
        assert_eq!(manifest.kind, "static_library");
        let files: Vec<&str> = manifest.files.keys().map(String::as_str).collect();
        assert_eq!(
            files,
            ["include/demo.h", "lib/libdemo.a", "lib/pkgconfig/demo.pc"]
        );
        assert_eq!(
            manifest.files["include/demo.h"],
            crate::hash::sha256_bytes(b"int demo(void);")
        );
        assert!(
            !out.exists(),
            "a static library writes nothing to the output directory"
        );
    }

    #[test]
    fn shared_libraries_are_zipped_and_reinstalls_drop_stale_files() {
        let tmp = tempfile::tempdir().unwrap();
        let prefix = LibraryPrefix {
            root: tmp.path().join("libraries/0.29.5"),
        };
        let out = tmp.path().join("dist");
        let first = tmp.path().join("first");
        stage(
            &first,
            &[("lib/libdemo.so.1", "\0asm"), ("include/old.h", "")],
        );
        std::os::unix::fs::symlink("libdemo.so.1", first.join("lib/libdemo.so")).unwrap();
        let installed = install(
            &first,
            &prefix,
            &request(BuildType::SharedLibrary, &out, "1.0"),
        )
        .unwrap();
        let zip = installed.runtime_zip.unwrap();
        assert_eq!(zip, out.join("libdemo-1.0.zip"));
        let manifest = prefix.manifest("libdemo").unwrap().unwrap();
        let runtime = manifest.runtime_zip.unwrap();
        assert_eq!(runtime.install_dir, "dynlib");
        assert_eq!(runtime.shared_libraries, ["libdemo.so", "libdemo.so.1"]);
        assert_eq!(runtime.sha256, crate::hash::sha256_file(&zip).unwrap());
        assert_eq!(manifest.files["lib/libdemo.so"], "link:libdemo.so.1");

        let second = tmp.path().join("second");
        stage(&second, &[("lib/libdemo.so", "\0asm")]);
        install(
            &second,
            &prefix,
            &request(BuildType::SharedLibrary, &out, "2.0"),
        )
        .unwrap();
        assert!(!prefix.root().join("include/old.h").exists());
        assert!(prefix.root().join("lib/libdemo.so").is_file());
    }

    #[test]
    fn empty_installs_and_missing_requirements_are_errors() {
        let tmp = tempfile::tempdir().unwrap();
        let staging = tmp.path().join("prefix");
        fs_err::create_dir_all(&staging).unwrap();
        let prefix = LibraryPrefix {
            root: tmp.path().join("libraries/0.29.5"),
        };
        let out = tmp.path().join("dist");
        let error = install(
            &staging,
            &prefix,
            &request(BuildType::StaticLibrary, &out, "1"),
        );
        assert!(matches!(error, Err(BuildError::NothingInstalled { .. })));

        let recipes = tmp.path().join("recipes");
        fs_err::create_dir_all(recipes.join("libyaml")).unwrap();
        fs_err::write(recipes.join("libyaml/recipe.toml"), "").unwrap();
        let missing = ["libyaml".to_string()];
        let error = check_host_requirements(&missing, Some(&recipes), &prefix, "0.29.5")
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "host requirement `libyaml` is not built for target `0.29.5`"
        );
        assert!(check_host_requirements(&[], Some(&recipes), &prefix, "0.29.5").is_ok());
    }

    #[test]
    fn a_package_recipe_in_meta_yaml_form_is_a_host_requirement_built_with_its_dependent() {
        let tmp = tempfile::tempdir().unwrap();
        let prefix = LibraryPrefix {
            root: tmp.path().join("libraries/0.29.5"),
        };
        let recipes = tmp.path().join("packages");
        fs_err::create_dir_all(recipes.join("six")).unwrap();
        let meta = "package:\n  name: six\n  version: 1.16.0\nsource:\n  url: https://x.org/six-1.16.0.tar.gz\n  sha256: 1e61c37477a1626458e36f7b1d82aa5c9b094fa4802892072e49de9c60c4c926\n";
        fs_err::write(recipes.join("six/meta.yaml"), meta).unwrap();
        let six = ["six".to_string()];
        assert!(check_host_requirements(&six, Some(&recipes), &prefix, "0.29.5").is_ok());
    }

    #[test]
    fn the_provider_of_a_missing_file_is_an_installed_library_or_a_sibling_recipe() {
        let root = tempfile::tempdir().unwrap();
        let prefix = LibraryPrefix {
            root: root.path().join("prefix"),
        };
        let manifest = Manifest {
            format_version: MANIFEST_VERSION,
            name: "libyaml".into(),
            version: "0.2.5".into(),
            kind: "static_library".into(),
            target: "0.29.5".into(),
            files: [("include/yaml.h", "ab"), ("lib/libyaml.a", "cd")]
                .map(|(file, sha)| (file.to_string(), sha.to_string()))
                .into(),
            runtime_zip: None,
        };
        let manifests = prefix.root.join("manifests");
        fs_err::create_dir_all(&manifests).unwrap();
        let text = serde_json::to_string(&manifest).unwrap();
        fs_err::write(manifests.join("libyaml.json"), text).unwrap();
        let recipes = root.path().join("recipes");
        fs_err::create_dir_all(recipes.join("zlib")).unwrap();
        fs_err::write(recipes.join("zlib/recipe.toml"), "").unwrap();
        let provider = |missing| provider_of(missing, &prefix, Some(&recipes));
        assert_eq!(
            provider(Missing::Header("yaml.h")).as_deref(),
            Some("libyaml")
        );
        assert_eq!(
            provider(Missing::Library("yaml")).as_deref(),
            Some("libyaml")
        );
        assert_eq!(provider(Missing::Header("zlib.h")).as_deref(), Some("zlib"));
        assert_eq!(provider(Missing::Header("png.h")), None);
        assert_eq!(provider(Missing::Library("png")), None);
    }
}
