//! Finding a host CPython of the target's `X.Y` to run build backends.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::TargetError;
use crate::process::Cmd;

/// A host interpreter and what it reports about itself.
#[derive(Debug, Clone, Deserialize)]
pub struct HostPython {
    /// The interpreter.
    pub path: PathBuf,
    /// `X.Y`.
    pub version: String,
    /// Its `include/pythonX.Y` directory.
    pub include: PathBuf,
}

const PROBE: &str = "import json, sys, sysconfig; print(json.dumps({'path': sys.executable, \
'version': '%d.%d' % sys.version_info[:2], 'include': sysconfig.get_path('include')}))";

impl HostPython {
    /// Asks an interpreter about itself.
    pub fn probe(python: &Path) -> Result<Self, TargetError> {
        let finished = Cmd::new(python).args(["-I", "-c", PROBE]).run()?;
        let line = finished.output.lines().last().unwrap_or_default();
        let mut probed: HostPython =
            serde_json::from_str(line).map_err(|source| TargetError::Json {
                path: python.to_path_buf(),
                source,
            })?;
        // Keep the path as found: a venv or pyenv shim resolves differently.
        probed.path = python.to_path_buf();
        Ok(probed)
    }

    /// Finds an interpreter of version `xy`: the explicit one, `pythonX.Y` on PATH, or a
    /// pyenv installation.
    pub fn find(xy: &str, explicit: Option<&Path>) -> Result<Self, TargetError> {
        if let Some(python) = explicit {
            return Self::probe(python);
        }
        // pyenv's shims answer for every version but run only the selected one: skip them.
        let found = which::which(format!("python{xy}"))
            .ok()
            .filter(|path| !path.components().any(|part| part.as_os_str() == "shims"))
            .or_else(|| pyenv_python(xy));
        let Some(python) = found else {
            return Err(TargetError::Invalid {
                message: format!("no host Python {xy} found (`python{xy}` on PATH or pyenv)"),
                help: format!(
                    "install Python {xy} (e.g. `pyenv install {xy}`) or pass `--host-python PATH`"
                ),
            });
        };
        let probed = Self::probe(&python)?;
        if probed.version != xy {
            return Err(TargetError::Invalid {
                message: format!(
                    "`{}` is Python {}, not {xy}",
                    python.display(),
                    probed.version
                ),
                help: format!("pass `--host-python` with a Python {xy} interpreter"),
            });
        }
        Ok(probed)
    }
}

/// The newest pyenv installation of `X.Y`, e.g. `~/.pyenv/versions/3.13.0/bin/python3.13`.
fn pyenv_python(xy: &str) -> Option<PathBuf> {
    let root = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::home::user_home().join(".pyenv"));
    let mut versions: Vec<(Vec<u64>, PathBuf)> = fs_err::read_dir(root.join("versions"))
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let patch = name.strip_prefix(&format!("{xy}."))?.parse::<u64>().ok()?;
            let python = entry.path().join(format!("bin/python{xy}"));
            python.is_file().then_some((vec![patch], python))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, python)| python)
}
