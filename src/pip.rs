//! The user's pip and the package indexes it is configured with, for fetching distributions
//! (so private mirrors configured for pip apply).
//!
//! A distribution pinned by its sha256 is looked up on the index's project page (PEP 503),
//! where each link carries its file's hash, and downloaded as is. `pip download` is the
//! fallback: for an sdist it prepares the metadata by running the package's build backend,
//! which for meson-python means compiling the whole package for the build machine.

use std::path::Path;

use crate::process::{Cmd, CmdError};

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
    for index in index_urls(python) {
        let Some(url) = find_by_sha256(&index, name, sha256) else {
            continue;
        };
        let Some(file) = url.path_segments().and_then(|mut s| s.next_back()) else {
            continue;
        };
        let _ = writeln!(log, "# {requirement} found by its sha256 on {index}");
        if crate::http::download(url.as_str(), &dest.join(file), log).is_ok() {
            return Ok(());
        }
    }
    download(python, requirement, form, dest, log)
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

/// The URL of the file whose sha256 is `sha256` on `index`'s page for `name`, if listed.
fn find_by_sha256(index: &str, name: &str, sha256: &str) -> Option<url::Url> {
    let page_url = format!(
        "{}/{}/",
        index.trim_end_matches('/'),
        crate::wheel::normalize(name)
    );
    let (page, final_url) = crate::http::get_text(&page_url).ok()?;
    link_with_sha256(&page, &final_url, sha256)
}

/// The absolute URL of the link on a PEP 503 page (at `page_url`) whose `#sha256=` fragment
/// is `sha256`.
fn link_with_sha256(page: &str, page_url: &str, sha256: &str) -> Option<url::Url> {
    let base = url::Url::parse(page_url).ok()?;
    page.split("href=\"").skip(1).find_map(|rest| {
        let href = rest.split('"').next()?.replace("&amp;", "&");
        let url = base.join(&href).ok()?;
        let hash = url.fragment()?.strip_prefix("sha256=")?;
        let found = hash.eq_ignore_ascii_case(sha256);
        let mut url = url.clone();
        url.set_fragment(None);
        found.then_some(url)
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
    fn a_link_is_found_by_its_hash_and_made_absolute() {
        let page = r#"<a href="../../packages/aa/x-1.0.tar.gz#sha256=ABCD">x-1.0.tar.gz</a>
            <a href="https://files.example/x-1.0-py3-none-any.whl#sha256=ef01&amp;z">x.whl</a>"#;
        let page_url = "https://mirror.example/simple/x/";
        let sdist = link_with_sha256(page, page_url, "abcd");
        let expected = "https://mirror.example/packages/aa/x-1.0.tar.gz";
        assert_eq!(sdist.map(String::from).as_deref(), Some(expected));
        assert_eq!(link_with_sha256(page, page_url, "0000"), None);
    }
}
