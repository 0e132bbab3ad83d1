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
    /// The environment for `requirements` on `host_python`, created on first use.
    ///
    /// Makers of one environment take turns under a lock (`<key>.lock`). A new environment
    /// is made beside its final place (`.new-<key>-*`), its scripts retargeted, and renamed
    /// into place when complete, so an interrupted creation is never reused; the staging
    /// directories of killed runs are swept (best-effort: a killed run's pip may still be
    /// writing into one, which the next sweep removes).
    pub fn ensure(
        host_python: &Path,
        requirements: &[String],
        log: &mut dyn std::io::Write,
    ) -> Result<Self, BuildError> {
        let root = crate::home::build_envs_dir();
        fs_err::create_dir_all(&root)?;
        let key = key(host_python, requirements);
        let lock = crate::fsutil::FileLock::acquire(&root.join(format!("{key}.lock")))?;
        if lock.waited {
            let _ = writeln!(log, "# waited for another emwheel making build env {key}");
        }
        let prefix = format!(".new-{key}-");
        crate::fsutil::sweep(&root, &prefix)?;
        let dir = root.join(&key);
        if dir.join("bin/python").is_file() {
            return Ok(BuildEnv { dir });
        }
        let staging = tempfile::Builder::new().prefix(&prefix).tempdir_in(&root)?;
        Cmd::new(host_python)
            .args(["-m", "venv"])
            .arg(staging.path())
            .run_logged(log)?;
        let env = BuildEnv {
            dir: staging.path().to_path_buf(),
        };
        env.install(requirements, log)?;
        retarget_scripts(&staging.path().join("bin"), staging.path(), &dir)?;
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

/// Points the venv's scripts (console-script shebangs such as `meson`'s, `activate`) at the
/// final directory: pip writes the staging path into them, which the rename would break.
fn retarget_scripts(bin: &Path, staging: &Path, dest: &Path) -> Result<(), BuildError> {
    let (Some(from), Some(to)) = (staging.to_str(), dest.to_str()) else {
        return Ok(());
    };
    for entry in fs_err::read_dir(bin)? {
        let path = entry?.path();
        if fs_err::symlink_metadata(&path)?.file_type().is_symlink() {
            continue;
        }
        let Ok(text) = fs_err::read_to_string(&path) else {
            continue;
        };
        if text.contains(from) {
            fs_err::write(&path, text.replace(from, to))?;
        }
    }
    Ok(())
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
    fn scripts_are_retargeted_to_the_final_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let (staging, dest) = (tmp.path().join(".new-x"), tmp.path().join("abc"));
        let bin = staging.join("bin");
        fs_err::create_dir_all(&bin).unwrap();
        let shebang = format!("#!{}/bin/python\nimport meson\n", staging.display());
        fs_err::write(bin.join("meson"), &shebang).unwrap();
        fs_err::write(bin.join("python"), b"\x7fELF\xff\xfe").unwrap();
        retarget_scripts(&bin, &staging, &dest).unwrap();
        let fixed = fs_err::read_to_string(bin.join("meson")).unwrap();
        assert_eq!(
            fixed,
            format!("#!{}/bin/python\nimport meson\n", dest.display())
        );
    }

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
