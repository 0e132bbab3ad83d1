//! A `url` source: curl first; when the URL cannot be reached, the same file by name through
//! the user's package index. Pyodide's recipes point at `files.pythonhosted.org/packages/source/…`
//! redirects, which a machine behind a PyPI mirror cannot reach while the mirror serves the
//! very same sdist; the recipe's sha256 decides whether the file found is the one meant.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::source::Origin;
use super::BuildError;
use crate::http::HttpError;
use crate::pip::Form;

/// The value of a variable a URL may name (`recipe::substitute::URL_VARIABLES`).
pub fn variable(name: &str, version: &str, python_version: &str) -> Option<String> {
    let python_part = |i: usize| python_version.split('.').nth(i).map(str::to_string);
    match name {
        "PKG_VERSION" => Some(version.to_string()),
        "PYMAJOR" => python_part(0),
        "PYMINOR" => python_part(1),
        _ => None,
    }
}

/// The file name a URL ends with (without query or fragment).
pub fn file_name(url: &str) -> &str {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    match path.rsplit('/').next() {
        Some(name) if !name.is_empty() => name,
        _ => "source",
    }
}

/// Downloads `url` into `dir`; when curl fails and the file name is an sdist's, asks pip's
/// index for `name==version` instead. The caller checks the sha256 either way.
pub fn download(
    url: &str,
    sha256: &str,
    python: &Path,
    dir: &Path,
    log: &mut dyn Write,
) -> Result<Origin, BuildError> {
    let name = file_name(url);
    let curl_error = match curl(url, &dir.join(name), log) {
        Ok(()) => {
            let _ = writeln!(log, "# source downloaded from {url}");
            return Ok(Origin::Url);
        }
        Err(error) => error,
    };
    let unreachable = |pin: Option<String>| BuildError::Unreachable {
        url: url.to_string(),
        pin,
        source: Box::new(curl_error),
    };
    let Some((pin, form)) = index_pin(name) else {
        return Err(unreachable(None));
    };
    let _ = writeln!(
        log,
        "# {url} cannot be fetched; asking pip's index for {pin} (kept only if its sha256 is the recipe's)"
    );
    crate::pip::download_pinned(python, &pin, sha256, form, dir, log)
        .map_err(|_| unreachable(Some(pin.clone())))?;
    Ok(Origin::Index { pin })
}

fn curl(url: &str, dest: &Path, log: &mut dyn Write) -> Result<(), BuildError> {
    crate::http::download(url, dest, log).map_err(|error| match error {
        HttpError::NoCurl => BuildError::Tool("curl"),
        HttpError::Curl(error) => error.into(),
        HttpError::Io(error) => error.into(),
    })
}

/// `name==version` and the form to ask pip for, from a file name: a wheel's
/// (`six-1.17.0-py2.py3-none-any.whl`, PEP 427) or an sdist's (`MarkupSafe-2.1.5.tar.gz`,
/// whose version is what follows the last `-`, since sdist versions hold none).
pub fn index_pin(file_name: &str) -> Option<(String, Form)> {
    if let Some(stem) = file_name.strip_suffix(".whl") {
        let mut parts = stem.split('-');
        let (name, version) = (parts.next()?, parts.next()?);
        return pin(name, version).map(|pin| (pin, Form::Wheel));
    }
    let (name, version) = crate::pip::sdist_name_and_version(file_name)?;
    pin(name, version).map(|pin| (pin, Form::Sdist))
}

/// `name==version` when both look like a distribution name and a version.
fn pin(name: &str, version: &str) -> Option<String> {
    let valid = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-+!".contains(c))
    };
    (valid(name) && valid(version) && version.starts_with(|c: char| c.is_ascii_digit()))
        .then(|| format!("{name}=={version}"))
}

/// A file a user put in the source cache under its own name (`<cache>/<file name>`), used
/// when its sha256 is the recipe's.
pub fn in_flat_cache(cache: &Path, url: &str, sha256: &str) -> Result<Option<PathBuf>, BuildError> {
    let file = cache.join(file_name(url));
    if file.is_file() && crate::hash::sha256_file(&file)? == sha256 {
        return Ok(Some(file));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_give_a_pin_and_form() {
        let pin = |name: &str| index_pin(name);
        let sdist = |pin: &str| Some((pin.to_string(), Form::Sdist));
        assert_eq!(pin("MarkupSafe-2.1.5.tar.gz"), sdist("MarkupSafe==2.1.5"));
        let dateutil = pin("python-dateutil-2.9.0.post0.tar.gz");
        assert_eq!(dateutil, sdist("python-dateutil==2.9.0.post0"));
        assert_eq!(pin("six-1.17.0.zip"), sdist("six==1.17.0"));
        let wheel = pin("css_inline-0.16.0-cp39-abi3-pyodide_2025_0_wasm32.whl");
        assert_eq!(wheel, Some(("css_inline==0.16.0".to_string(), Form::Wheel)));
        assert_eq!(pin("OpenBLAS-v0.3.31.tar.gz"), None);
        assert_eq!(pin("0.7.4.tar.gz"), None);
    }

    #[test]
    fn file_name_ignores_query_and_fragment() {
        let url = "https://files.pythonhosted.org/packages/source/m/markupsafe/markupsafe-3.0.3.tar.gz#sha256=x";
        assert_eq!(file_name(url), "markupsafe-3.0.3.tar.gz");
        assert_eq!(file_name("https://example.org/"), "source");
    }

    #[test]
    fn flat_cache_files_count_only_with_the_recipe_digest() {
        let cache = tempfile::tempdir().unwrap();
        fs_err::write(cache.path().join("x-1.0.tar.gz"), b"abc").unwrap();
        let url = "https://host/x-1.0.tar.gz";
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert!(in_flat_cache(cache.path(), url, abc).unwrap().is_some());
        assert!(in_flat_cache(cache.path(), url, &"0".repeat(64))
            .unwrap()
            .is_none());
    }
}
