//! Headless Chromium for `emwheel test --browser`: Debian's Chromium driven by playwright-core,
//! both as `scripts/setup` installs them (the route the in-browser demo test takes).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::RuntimeError;

/// The Chromium binary and the playwright-core package that drives it.
#[derive(Debug, Clone)]
pub struct Browser {
    /// The Chromium executable.
    pub chromium: PathBuf,
    /// The playwright-core package directory (its `package.json` inside).
    pub playwright_core: PathBuf,
}

impl Browser {
    /// `chromium` from `PATH` and playwright-core from the toolchain's `node/node_modules`.
    pub fn find() -> Result<Self, RuntimeError> {
        Self::find_in(&crate::home::toolchain_dir())
    }

    /// `chromium` from `PATH` and playwright-core from `toolchain/node/node_modules`.
    fn find_in(toolchain: &Path) -> Result<Self, RuntimeError> {
        let chromium = which::which("chromium").map_err(|_| RuntimeError::BrowserMissing {
            what: "chromium (headless Chromium) is not on PATH".to_owned(),
        })?;
        let playwright_core = toolchain.join("node/node_modules/playwright-core");
        if !playwright_core.join("package.json").is_file() {
            return Err(RuntimeError::BrowserMissing {
                what: format!(
                    "playwright-core is not installed in `{}`",
                    playwright_core.display()
                ),
            });
        }
        Ok(Browser {
            chromium,
            playwright_core,
        })
    }

    /// What the browser session runner is told, beside Node's own variables: where Chromium
    /// and playwright-core are, and a `HOME` of its own in `dir` (Chromium writes its profile
    /// and crash reports there, not in the user's).
    pub(crate) fn environment(&self, dir: &Path) -> Vec<(String, OsString)> {
        vec![
            (
                "CHROMIUM".to_owned(),
                self.chromium.clone().into_os_string(),
            ),
            (
                "PLAYWRIGHT_CORE".to_owned(),
                self.playwright_core.clone().into_os_string(),
            ),
            ("HOME".to_owned(), dir.join("browser-home").into_os_string()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_playwright_core_is_named() {
        let empty = tempfile::tempdir().unwrap();
        let error = Browser::find_in(empty.path()).unwrap_err().to_string();
        assert!(error.starts_with("cannot test in a browser: "), "{error}");
        if which::which("chromium").is_ok() {
            let expected = empty.path().join("node/node_modules/playwright-core");
            assert!(error.contains(&expected.display().to_string()), "{error}");
        }
    }
}
