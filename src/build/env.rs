//! Host virtual environments holding a backend's build requirements, cached by the
//! interpreter and the requirement set so that later builds reuse them.

use std::path::{Path, PathBuf};

use super::BuildError;
use crate::process::Cmd;

/// A host virtual environment with build requirements installed.
#[derive(Debug, Clone)]
pub struct BuildEnv {
    /// The venv's root.
    pub dir: PathBuf,
}

impl BuildEnv {
    /// The environment for `requirements` on `host_python`, created on first use. A new
    /// environment is made beside its final place and renamed into it when complete, so an
    /// interrupted creation is never reused.
    pub fn ensure(
        host_python: &Path,
        requirements: &[String],
        log: &mut dyn std::io::Write,
    ) -> Result<Self, BuildError> {
        let dir = crate::home::build_envs_dir().join(key(host_python, requirements));
        if dir.join("bin/python").is_file() {
            return Ok(BuildEnv { dir });
        }
        let parent = dir.parent().expect("build-envs dir has a parent");
        fs_err::create_dir_all(parent)?;
        let staging = tempfile::Builder::new()
            .prefix(".new-")
            .tempdir_in(parent)?;
        Cmd::new(host_python)
            .args(["-m", "venv"])
            .arg(staging.path())
            .run_logged(log)?;
        let env = BuildEnv {
            dir: staging.path().to_path_buf(),
        };
        env.install(requirements, log)?;
        crate::fsutil::place_dir(staging, &dir)?;
        Ok(BuildEnv { dir })
    }

    /// The venv's interpreter.
    pub fn python(&self) -> PathBuf {
        self.dir.join("bin/python")
    }

    /// The venv's `bin` directory, for PATH.
    pub fn bin_dir(&self) -> PathBuf {
        self.dir.join("bin")
    }

    /// Installs requirements with pip from the user's configured index.
    pub fn install(
        &self,
        requirements: &[String],
        log: &mut dyn std::io::Write,
    ) -> Result<(), BuildError> {
        if requirements.is_empty() {
            return Ok(());
        }
        Cmd::new(self.python())
            .args(["-m", "pip", "install", "--quiet"])
            .args(requirements)
            .inherit_env()
            .run_logged(log)?;
        Ok(())
    }
}

/// The cache key: the interpreter and the sorted requirement set.
fn key(host_python: &Path, requirements: &[String]) -> String {
    let mut sorted: Vec<&str> = requirements.iter().map(|r| r.trim()).collect();
    sorted.sort_unstable();
    sorted.dedup();
    let text = format!("{}\n{}", host_python.display(), sorted.join("\n"));
    crate::hash::sha256_bytes(text.as_bytes())[..16].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ignores_order_and_duplicates() {
        let python = Path::new("/usr/bin/python3.13");
        let a = key(python, &["wheel".into(), "setuptools>=61".into()]);
        let b = key(
            python,
            &["setuptools>=61".into(), "wheel".into(), "wheel".into()],
        );
        assert_eq!(a, b);
        assert_ne!(a, key(Path::new("/other/python3.13"), &["wheel".into()]));
    }
}
