//! The user's pip and the package indexes it is configured with, for fetching distributions
//! (so private mirrors configured for pip apply).
//!
//! A distribution pinned by its sha256 is looked up on the index's project page (PEP 503),
//! where each link carries its file's hash, and downloaded as is. `pip download` is the
//! fallback: for an sdist it prepares the metadata by running the package's build backend,
//! which for meson-python means compiling the whole package for the build machine.

use std::path::Path;

use crate::process::{Cmd, CmdError};

/// Archive suffixes of sdists, longest first.
const SDIST_SUFFIXES: &[&str] = &[".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".zip"];

/// pip's default index.
const PYPI_SIMPLE: &str = "https://pypi.org/simple/";

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

/// The name and version an sdist's file name carries (`MarkupSafe-2.1.5.tar.gz`: the version
/// is what follows the last `-`, since sdist versions hold none).
pub fn sdist_name_and_version(file_name: &str) -> Option<(&str, &str)> {
    let stem = SDIST_SUFFIXES
        .iter()
        .find_map(|suffix| file_name.strip_suffix(suffix))?;
    stem.rsplit_once('-')
}

/// A file to look for on an index's project page.
#[derive(Debug, Clone, Copy)]
enum Wanted<'a> {
    /// The file with this sha256 (from its link's `#sha256=` fragment).
    Sha256(&'a str),
    /// The sdist of this exact version (by its file name).
    Sdist(&'a str),
}

impl Wanted<'_> {
    /// Whether the link `url` to `file_name` is the file wanted of `project`.
    fn matches(&self, project: &str, file_name: &str, url: &url::Url) -> bool {
        match self {
            Wanted::Sha256(sha256) => url
                .fragment()
                .and_then(|fragment| fragment.strip_prefix("sha256="))
                .is_some_and(|hash| hash.eq_ignore_ascii_case(sha256)),
            Wanted::Sdist(version) => {
                sdist_name_and_version(file_name).is_some_and(|(name, found)| {
                    crate::wheel::normalize(name) == crate::wheel::normalize(project)
                        && found == *version
                })
            }
        }
    }
}

/// Downloads the file of `requirement` (`name==version`) whose sha256 is `sha256` into
/// `dest`: found by that hash on the project pages of the indexes pip is configured with,
/// else with [`download`]. The caller still checks the sha256 of what arrives.
pub fn download_pinned(
    python: &Path,
    requirement: &str,
    sha256: &str,
    form: Form,
    dest: &Path,
    log: &mut dyn std::io::Write,
) -> Result<(), CmdError> {
    let name = requirement.split("==").next().unwrap_or(requirement);
    if from_index_pages(python, name, Wanted::Sha256(sha256), dest, log) {
        return Ok(());
    }
    download(python, requirement, form, dest, log)
}

/// Downloads the sdist of `requirement` into `dest`: for an exact `name==version`, found by
/// its file name on the configured indexes' project pages; else, or when none lists it, with
/// [`download`] (which builds the sdist's metadata).
pub fn download_sdist(
    python: &Path,
    requirement: &str,
    dest: &Path,
    log: &mut dyn std::io::Write,
) -> Result<(), CmdError> {
    let exact = crate::recipe::PypiPin::try_from(requirement.trim().to_string()).ok();
    if let Some(pin) = exact {
        if from_index_pages(python, pin.name(), Wanted::Sdist(pin.version()), dest, log) {
            return Ok(());
        }
    }
    download(python, requirement, Form::Sdist, dest, log)
}

/// Looks for the `wanted` file of `project` on the project page of each configured index
/// and downloads the first one found into `dest`. Whether it did.
fn from_index_pages(
    python: &Path,
    project: &str,
    wanted: Wanted,
    dest: &Path,
    log: &mut dyn std::io::Write,
) -> bool {
    for index in index_urls(python) {
        let Some((url, file)) = find_on_index(&index, project, wanted) else {
            continue;
        };
        let shown = crate::process::redact_credentials(&index);
        let _ = writeln!(log, "# {project}: {file} found on {shown}");
        let fetched = fs_err::create_dir_all(dest)
            .map_err(crate::http::HttpError::from)
            .and_then(|()| crate::http::download(url.as_str(), &dest.join(&file), log));
        if fetched.is_ok() {
            return true;
        }
    }
    false
}

/// The index URLs pip uses, its main index first (`PIP_INDEX_URL` and pip's configuration
/// files, as `pip config list` shows them; pypi.org when none is set), then the extra ones.
fn index_urls(python: &Path) -> Vec<String> {
    let listed = Cmd::new(python)
        .args(["-m", "pip", "config", "list"])
        .inherit_env()
        .run()
        .map(|finished| finished.output)
        .unwrap_or_default();
    let mut urls = configured(&listed, "index-url");
    // Later scopes override earlier ones (global, user, site, then the environment).
    let main = urls.pop().unwrap_or_else(|| PYPI_SIMPLE.to_string());
    let extra = configured(&listed, "extra-index-url");
    std::iter::once(main)
        .chain(
            extra
                .iter()
                .flat_map(|urls| urls.split_whitespace().map(str::to_string)),
        )
        .collect()
}

/// The values of `key` in `pip config list` output (`scope.key='value'` lines), in pip's
/// order of precedence, lowest first.
fn configured(listed: &str, key: &str) -> Vec<String> {
    let mut found: Vec<(usize, String)> = listed
        .lines()
        .filter_map(|line| {
            let (name, value) = line.split_once('=')?;
            let (scope, name) = name.rsplit_once('.')?;
            let rank = ["global", "user", "site", ":env:"]
                .iter()
                .position(|s| *s == scope)?;
            let value = value.trim().trim_matches(['\'', '"']).to_string();
            (name == key).then_some((rank, value))
        })
        .collect();
    found.sort_by_key(|(rank, _)| *rank);
    found.into_iter().map(|(_, value)| value).collect()
}

/// The URL (without fragment) and file name of the `wanted` file on `index`'s page for
/// `project`, if listed.
fn find_on_index(index: &str, project: &str, wanted: Wanted) -> Option<(url::Url, String)> {
    let page_url = format!(
        "{}/{}/",
        index.trim_end_matches('/'),
        crate::wheel::normalize(project)
    );
    let (page, final_url) = crate::http::get_text(&page_url).ok()?;
    find_link(&page, &final_url, project, wanted)
}

/// The `wanted` link on a PEP 503 page at `page_url`: its absolute URL without fragment, and
/// its file name.
fn find_link(
    page: &str,
    page_url: &str,
    project: &str,
    wanted: Wanted,
) -> Option<(url::Url, String)> {
    let base = url::Url::parse(page_url).ok()?;
    page.split("href=\"").skip(1).find_map(|rest| {
        let href = rest.split('"').next()?.replace("&amp;", "&");
        let mut url = base.join(&href).ok()?;
        let file = url.path_segments()?.next_back()?.to_string();
        if !wanted.matches(project, &file, &url) {
            return None;
        }
        url.set_fragment(None);
        Some((url, file))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_overrides_configuration_files() {
        let listed = ":env:.index-url='https://env/simple'\n\
                      global.index-url='https://global/simple'\n\
                      global.cert='/etc/ssl/certs/ca.crt'\n\
                      user.extra-index-url='https://a/simple https://b/simple'\n";
        let urls = configured(listed, "index-url");
        assert_eq!(urls, ["https://global/simple", "https://env/simple"]);
        let extra = configured(listed, "extra-index-url");
        assert_eq!(extra, ["https://a/simple https://b/simple"]);
    }

    #[test]
    fn a_link_is_found_by_its_hash_or_its_sdist_name_and_made_absolute() {
        let page = r#"<a href="../../packages/aa/x-1.0.tar.gz#sha256=ABCD">x-1.0.tar.gz</a>
            <a href="https://files.example/x-1.0-py3-none-any.whl#sha256=ef01">x.whl</a>
            <a href="/packages/bb/X_Y-2.0.post1.zip#sha256=0123&amp;z">X_Y-2.0.post1.zip</a>"#;
        let page_url = "https://mirror.example/simple/x/";
        let find = |project, wanted| {
            find_link(page, page_url, project, wanted).map(|(url, file)| (String::from(url), file))
        };
        let sdist = (
            "https://mirror.example/packages/aa/x-1.0.tar.gz".to_string(),
            "x-1.0.tar.gz".to_string(),
        );
        assert_eq!(find("x", Wanted::Sha256("abcd")), Some(sdist.clone()));
        assert_eq!(find("x", Wanted::Sdist("1.0")), Some(sdist));
        assert_eq!(find("x", Wanted::Sha256("0000")), None);
        assert_eq!(find("x", Wanted::Sdist("1.1")), None);
        let zip = find("x.y", Wanted::Sdist("2.0.post1")).unwrap();
        assert_eq!(
            zip.0,
            "https://mirror.example/packages/bb/X_Y-2.0.post1.zip"
        );
    }
}
