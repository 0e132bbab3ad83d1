//! `emwheel new`: a recipe skeleton for a PyPI requirement, as pyodide-build's `skeleton pypi`
//! does. The sdist is fetched with the user's pip and index; its `PKG-INFO` gives the name,
//! version, run requirements and about fields, and `*.egg-info/top_level.txt` (or the source
//! layout) the importable names.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::document::{self, Node, Table};
use super::{RecipeError, RECIPE_FILE};
use crate::pip::Form;

/// Why a skeleton could not be written.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum SkeletonError {
    /// The recipe directory exists.
    #[error("`{}` already exists", dir.display())]
    #[diagnostic(help("edit that recipe, or remove it to start again"))]
    Exists {
        /// The recipe directory.
        dir: PathBuf,
    },
    /// pip could not download an sdist.
    #[error("pip found no sdist and no pure wheel for `{requirement}`")]
    #[diagnostic(help(
        "check the name and version with `pip download --no-deps --no-binary=:all: {requirement}`"
    ))]
    Download {
        /// The requirement asked for.
        requirement: String,
        /// pip's failure.
        #[source]
        source: crate::process::CmdError,
    },
    /// The sdist lacks the metadata the recipe needs.
    #[error("`{}` has no usable metadata: {message}", file.display())]
    Metadata {
        /// The sdist or wheel.
        file: PathBuf,
        /// What is missing.
        message: String,
    },
    /// The written recipe does not load (a bug in the skeleton).
    #[error(transparent)]
    #[diagnostic(transparent)]
    Recipe(#[from] RecipeError),
    /// The wheel is not consistent.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Wheel(#[from] crate::wheel::WheelError),
    /// The sdist could not be unpacked.
    #[error(transparent)]
    Archive(#[from] crate::archive::ArchiveError),
    /// A file could not be read or written.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// What a skeleton recipe says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Skeleton {
    /// The distribution name as the project spells it (`MarkupSafe`).
    pub name: String,
    /// The resolved version.
    pub version: String,
    /// The sdist's sha256.
    pub sha256: String,
    /// Importable top-level names.
    pub top_level: Vec<String>,
    /// Run requirements (names only, without extras-only ones).
    pub run: Vec<String>,
    /// `Summary`.
    pub summary: Option<String>,
    /// `Home-page`, or the first project URL.
    pub home: Option<String>,
    /// `License-Expression`, or a one-line `License`.
    pub license: Option<String>,
    /// For a project with no sdist: its pure wheel's URL, the recipe's source.
    pub wheel_url: Option<String>,
}

/// Downloads `requirement`'s sdist with `python -m pip` and writes
/// `<recipe_dir>/<name>/recipe.toml` for it; returns that file.
///
/// # Errors
///
/// [`SkeletonError::Exists`] rather than overwrite a recipe; download and metadata errors.
pub fn new_recipe(
    requirement: &str,
    python: &Path,
    recipe_dir: &Path,
    log: &mut dyn Write,
) -> Result<PathBuf, SkeletonError> {
    // Refuse before downloading when the requirement's own name already has a recipe.
    let name = requirement_name(requirement);
    let dir = recipe_dir.join(crate::wheel::normalize(name));
    if !name.is_empty() && dir.exists() {
        return Err(SkeletonError::Exists { dir });
    }
    let work = tempfile::tempdir()?;
    let scratch = work.path().join("unpacked");
    let sdists = work.path().join("sdist");
    let skeleton = match crate::pip::download_sdist(python, requirement, &sdists, log) {
        Ok(()) => read_sdist(&single_entry(&sdists)?, &scratch)?,
        Err(source) => match pure_wheel(requirement, python, &work.path().join("wheel"), log)? {
            Some(wheel) => read_wheel(&wheel, &scratch)?,
            None => {
                return Err(SkeletonError::Download {
                    requirement: requirement.to_string(),
                    source,
                })
            }
        },
    };
    write(&skeleton, recipe_dir)
}

/// A pure (`none-any`) wheel of `requirement`, for a project that publishes no sdist.
fn pure_wheel(
    requirement: &str,
    python: &Path,
    dest: &Path,
    log: &mut dyn Write,
) -> Result<Option<PathBuf>, SkeletonError> {
    if crate::pip::download(python, requirement, Form::Wheel, dest, log).is_err() {
        return Ok(None);
    }
    let wheel = single_entry(dest)?;
    let name = wheel.file_name().unwrap_or_default().to_string_lossy();
    Ok(name.ends_with("-none-any.whl").then_some(wheel))
}

/// Writes the skeleton as `<recipe_dir>/<normalized name>/recipe.toml`, checked by loading it
/// before it is put in place.
pub fn write(skeleton: &Skeleton, recipe_dir: &Path) -> Result<PathBuf, SkeletonError> {
    let dir = recipe_dir.join(crate::wheel::normalize(&skeleton.name));
    if dir.exists() {
        return Err(SkeletonError::Exists { dir });
    }
    fs_err::create_dir_all(recipe_dir)?;
    let staging = tempfile::Builder::new()
        .prefix(".new-")
        .tempdir_in(recipe_dir)?;
    let (text, _) = document::render(&tables(skeleton));
    fs_err::write(staging.path().join(RECIPE_FILE), text)?;
    super::load(staging.path())?;
    crate::fsutil::place_dir(staging, &dir)?;
    if !dir.join(RECIPE_FILE).is_file() {
        // Another process made the directory first: theirs stays.
        return Err(SkeletonError::Exists { dir });
    }
    Ok(dir.join(RECIPE_FILE))
}

fn tables(skeleton: &Skeleton) -> Vec<Table> {
    let table = |name, entries| Table {
        name,
        origin: 0..0,
        entries,
    };
    let optional = |key, value: &Option<String>| value.as_ref().map(|v| (key, Node::str(v)));
    let mut requirements = Vec::new();
    if !skeleton.run.is_empty() {
        requirements.push(("run", Node::strings(skeleton.run.clone())));
    }
    let pypi = format!("https://pypi.org/project/{}/", skeleton.name);
    let about = [
        optional("home", &skeleton.home),
        Some(("PyPI", Node::str(pypi))),
        optional("summary", &skeleton.summary),
        optional("license", &skeleton.license),
    ];
    vec![
        table(
            "package",
            vec![
                ("name", Node::str(crate::wheel::normalize(&skeleton.name))),
                ("version", Node::str(&skeleton.version)),
                ("top-level", Node::strings(skeleton.top_level.clone())),
            ],
        ),
        table(
            "source",
            vec![
                match &skeleton.wheel_url {
                    Some(url) => ("url", Node::str(url)),
                    None => {
                        let pin = format!("{}=={}", skeleton.name, skeleton.version);
                        ("pypi", Node::str(pin))
                    }
                },
                ("sha256", Node::str(&skeleton.sha256)),
            ],
        ),
        table("requirements", requirements),
        table(
            "test",
            vec![("imports", Node::strings(skeleton.top_level.clone()))],
        ),
        table("about", about.into_iter().flatten().collect()),
    ]
}

/// Reads an sdist's metadata (`PKG-INFO`) and importable names.
pub fn read_sdist(sdist: &Path, scratch: &Path) -> Result<Skeleton, SkeletonError> {
    fs_err::create_dir_all(scratch)?;
    crate::archive::unpack(sdist, scratch)?;
    let root = single_entry(scratch)?;
    let pkg_info = fs_err::read_to_string(root.join("PKG-INFO"))
        .map_err(|_| metadata_error(sdist, "the sdist has no top-level `PKG-INFO`"))?;
    let top_level = top_level(&root)?;
    from_metadata(sdist, &pkg_info, top_level)
}

/// Reads a pure wheel's metadata (`METADATA`) and importable names; the recipe then
/// names the wheel's URL on PyPI (an unreachable one is found through the index).
pub fn read_wheel(wheel: &Path, scratch: &Path) -> Result<Skeleton, SkeletonError> {
    let file = wheel.file_name().unwrap_or_default().to_string_lossy();
    let name: crate::wheel::WheelName = file.parse()?;
    fs_err::create_dir_all(scratch)?;
    crate::archive::unpack(wheel, scratch)?;
    let dist_info = read_dir_sorted(scratch)?
        .into_iter()
        .find(|path| path.extension().is_some_and(|ext| ext == "dist-info"))
        .ok_or_else(|| metadata_error(wheel, "the wheel has no `.dist-info`"))?;
    let metadata = fs_err::read_to_string(dist_info.join("METADATA"))
        .map_err(|_| metadata_error(wheel, "the wheel has no `METADATA`"))?;
    let mut skeleton = from_metadata(wheel, &metadata, top_level(scratch)?)?;
    let first = skeleton.name.chars().next().unwrap_or('_');
    skeleton.wheel_url = Some(format!(
        "https://files.pythonhosted.org/packages/{}/{first}/{}/{file}",
        name.python_tag, skeleton.name
    ));
    Ok(skeleton)
}

/// A skeleton from core metadata (`PKG-INFO` or `METADATA`) of `file`.
fn from_metadata(
    file: &Path,
    metadata: &str,
    top_level: Vec<String>,
) -> Result<Skeleton, SkeletonError> {
    let headers = parse_headers(metadata);
    let field = |name: &str| {
        headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.clone())
    };
    let all = |name: &str| {
        headers
            .iter()
            .filter(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
            .collect::<Vec<_>>()
    };
    if top_level.is_empty() {
        return Err(metadata_error(
            file,
            "no importable package or module found",
        ));
    }
    Ok(Skeleton {
        name: field("Name").ok_or_else(|| metadata_error(file, "no `Name`"))?,
        version: field("Version").ok_or_else(|| metadata_error(file, "no `Version`"))?,
        sha256: crate::hash::sha256_file(file)?,
        top_level,
        run: run_requirements(&all("Requires-Dist")),
        summary: field("Summary").filter(|s| !s.is_empty()),
        home: field("Home-page").or_else(|| {
            all("Project-URL")
                .first()
                .and_then(|u| Some(u.split_once(',')?.1.trim().to_string()))
        }),
        license: field("License-Expression")
            .or_else(|| field("License").filter(|l| !l.is_empty() && !l.contains('\n'))),
        wheel_url: None,
    })
}

fn metadata_error(file: &Path, message: &str) -> SkeletonError {
    SkeletonError::Metadata {
        file: file.to_path_buf(),
        message: message.to_string(),
    }
}

/// The non-empty, trimmed lines of `text`.
fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(String::from)
        .collect()
}

/// The one file or directory inside `dir`.
fn single_entry(dir: &Path) -> Result<PathBuf, SkeletonError> {
    let mut entries = fs_err::read_dir(dir)?.collect::<Result<Vec<_>, _>>()?;
    match entries.len() {
        1 => Ok(entries.remove(0).path()),
        n => Err(metadata_error(
            dir,
            &format!("expected one entry, found {n}"),
        )),
    }
}

/// `Key: value` headers of a core metadata file (RFC 822 style), up to the first blank line;
/// indented lines continue the previous value.
fn parse_headers(text: &str) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = headers.last_mut() {
                value.push('\n');
                value.push_str(line.trim());
            }
        } else if let Some((key, value)) = line.split_once(':') {
            headers.push((key.trim().to_string(), value.trim().to_string()));
        }
    }
    headers
}

/// Recipe names of the requirements that always apply (not those of an extra).
fn run_requirements(requires_dist: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = requires_dist
        .iter()
        .filter(|requirement| !requirement.contains("extra =="))
        .map(|requirement| requirement_name(requirement))
        .filter(|name| !name.is_empty())
        .map(crate::wheel::normalize)
        .collect();
    names.dedup();
    names
}

/// The distribution name a PEP 508 requirement starts with.
fn requirement_name(requirement: &str) -> &str {
    let end = requirement
        .find(|c: char| !(c.is_ascii_alphanumeric() || "._-".contains(c)))
        .unwrap_or(requirement.len());
    &requirement[..end]
}

/// Importable names: `top_level.txt` of an sdist's egg-info or a wheel's dist-info, else the packages (dirs with
/// `__init__.py`) and modules at the root or under `src/`.
fn top_level(root: &Path) -> Result<Vec<String>, SkeletonError> {
    for base in [root.to_path_buf(), root.join("src")] {
        for entry in read_dir_sorted(&base)? {
            let name = entry.file_name().unwrap_or_default().to_string_lossy();
            let info = name.ends_with(".egg-info") || name.ends_with(".dist-info");
            if info && entry.join("top_level.txt").is_file() {
                return Ok(lines(&fs_err::read_to_string(entry.join("top_level.txt"))?));
            }
        }
    }
    let not_importable = [
        "setup",
        "conftest",
        "noxfile",
        "tasks",
        "tests",
        "test",
        "docs",
        "doc",
        "examples",
        "benchmarks",
    ];
    let mut names = Vec::new();
    for base in [root.to_path_buf(), root.join("src")] {
        for entry in read_dir_sorted(&base)? {
            let file = entry
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let name = if entry.join("__init__.py").is_file() {
                file
            } else if let Some(module) = file.strip_suffix(".py") {
                module.to_string()
            } else {
                continue;
            };
            if !not_importable.contains(&name.as_str()) && !name.starts_with("test_") {
                names.push(name);
            }
        }
    }
    Ok(names)
}

fn read_dir_sorted(dir: &Path) -> Result<Vec<PathBuf>, SkeletonError> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut paths: Vec<PathBuf> = fs_err::read_dir(dir)?
        .map(|entry| entry.map(|entry| entry.path()))
        .collect::<Result<_, _>>()?;
    paths.sort();
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_and_requirements_are_read_from_pkg_info() {
        let pkg_info = "Metadata-Version: 2.1\nName: Demo_Pkg\nVersion: 1.0\nLicense: MIT\nRequires-Dist: six>=1.0\nRequires-Dist: Typing.Extensions; python_version < \"3.11\"\nRequires-Dist: pytest; extra == \"test\"\nDescription: one\n  two\n\nBody: not a header\n";
        let headers = parse_headers(pkg_info);
        assert_eq!(
            headers.last().unwrap(),
            &("Description".to_string(), "one\ntwo".to_string())
        );
        let requires: Vec<&str> = headers
            .iter()
            .filter(|(k, _)| k == "Requires-Dist")
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(run_requirements(&requires), ["six", "typing-extensions"]);
    }

    #[test]
    fn top_level_comes_from_egg_info_or_the_layout() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path();
        fs_err::create_dir_all(path.join("src/demo")).unwrap();
        fs_err::write(path.join("src/demo/__init__.py"), "").unwrap();
        fs_err::write(path.join("setup.py"), "").unwrap();
        fs_err::write(path.join("extra_mod.py"), "").unwrap();
        assert_eq!(top_level(path).unwrap(), ["extra_mod", "demo"]);
        fs_err::create_dir(path.join("demo.egg-info")).unwrap();
        fs_err::write(path.join("demo.egg-info/top_level.txt"), "demo\n").unwrap();
        assert_eq!(top_level(path).unwrap(), ["demo"]);
    }

    #[test]
    fn pure_wheels_give_a_url_source() {
        let dir = tempfile::tempdir().unwrap();
        let wheel = dir.path().join("Demo_Pkg-2.0-py3-none-any.whl");
        let mut zip = zip::ZipWriter::new(fs_err::File::create(&wheel).unwrap());
        let metadata = "Metadata-Version: 2.1\nName: Demo_Pkg\nVersion: 2.0\nRequires-Dist: six\n";
        for (name, text) in [
            ("demo/__init__.py", ""),
            ("Demo_Pkg-2.0.dist-info/METADATA", metadata),
        ] {
            zip.start_file(name, zip::write::SimpleFileOptions::default())
                .unwrap();
            zip.write_all(text.as_bytes()).unwrap();
        }
        zip.finish().unwrap();
        let skeleton = read_wheel(&wheel, &dir.path().join("scratch")).unwrap();
        assert_eq!(
            (skeleton.name.as_str(), skeleton.version.as_str()),
            ("Demo_Pkg", "2.0")
        );
        assert_eq!(
            (skeleton.top_level, skeleton.run),
            (vec!["demo".to_string()], vec!["six".to_string()])
        );
        let url =
            "https://files.pythonhosted.org/packages/py3/D/Demo_Pkg/Demo_Pkg-2.0-py3-none-any.whl";
        assert_eq!(skeleton.wheel_url.as_deref(), Some(url));
    }

    #[test]
    fn written_skeleton_loads_and_is_never_overwritten() {
        let recipes = tempfile::tempdir().unwrap();
        let skeleton = Skeleton {
            name: "Demo_Pkg".into(),
            version: "1.0".into(),
            sha256: "0".repeat(64),
            top_level: vec!["demo".into()],
            run: vec!["six".into()],
            summary: Some("A \"demo\"".into()),
            ..Skeleton::default()
        };
        let file = write(&skeleton, recipes.path()).unwrap();
        assert_eq!(file, recipes.path().join("demo-pkg").join(RECIPE_FILE));
        let recipe = super::super::load(&file).unwrap();
        assert_eq!(recipe.name(), "demo-pkg");
        assert_eq!(recipe.test().imports, ["demo"]);
        assert_eq!(recipe.requirements().run, ["six"]);
        assert_eq!(recipe.about().summary.as_deref(), Some("A \"demo\""));
        let error = write(&skeleton, recipes.path()).unwrap_err();
        assert!(matches!(error, SkeletonError::Exists { .. }), "{error}");
    }
}
