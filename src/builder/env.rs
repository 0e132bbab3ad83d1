//! Host virtual environments holding a backend's build requirements, cached by the
//! interpreter, the requirement set, the recipe's pip constraints and the cross-build files
//! laid over them, so that later builds reuse them.

use std::path::{Path, PathBuf};

use super::crossbuild::Overlay;
use super::BuildError;
use crate::process::Cmd;

/// What a build environment holds.
#[derive(Debug, Clone, Default)]
pub struct EnvSpec {
    /// Requirements pip installs.
    pub requirements: Vec<String>,
    /// pip constraints for every install (a recipe's `requirements.constraint`).
    pub constraints: Vec<String>,
    /// Cross-build packages' files, laid over their host installs after pip ran.
    pub overlays: Vec<Overlay>,
}

impl EnvSpec {
    /// The same environment with `more` requirements.
    pub fn with(&self, more: &[String]) -> Self {
        let mut spec = self.clone();
        spec.requirements.extend(more.iter().cloned());
        spec
    }
}

/// The file in a build environment that holds its pip constraints.
const CONSTRAINTS_FILE: &str = "emwheel-constraints.txt";

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
        spec: &EnvSpec,
        log: &mut dyn std::io::Write,
    ) -> Result<Self, BuildError> {
        let root = crate::home::build_envs_dir();
        fs_err::create_dir_all(&root)?;
        let key = key(host_python, spec);
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
        if !spec.constraints.is_empty() {
            let mut text = spec.constraints.join("\n");
            text.push('\n');
            fs_err::write(env.dir.join(CONSTRAINTS_FILE), text)?;
        }
        env.install(&spec.requirements, log)?;
        let site_packages = env.site_packages()?;
        for overlay in &spec.overlays {
            overlay.lay_over(&site_packages)?;
        }
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

    /// The venv's `site-packages` (`lib/pythonX.Y/site-packages`).
    pub fn site_packages(&self) -> Result<PathBuf, BuildError> {
        let lib = self.dir.join("lib");
        for entry in fs_err::read_dir(&lib)? {
            let candidate = entry?.path().join("site-packages");
            if candidate.is_dir() {
                return Ok(candidate);
            }
        }
        Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("no `python*/site-packages` in `{}`", lib.display()),
        )
        .into())
    }

    /// Installs requirements with pip from the user's configured index, within the
    /// environment's constraints.
    fn install(
        &self,
        requirements: &[String],
        log: &mut dyn std::io::Write,
    ) -> Result<(), BuildError> {
        if requirements.is_empty() {
            return Ok(());
        }
        let constraints = self.dir.join(CONSTRAINTS_FILE);
        let constrain: Vec<PathBuf> = match constraints.is_file() {
            true => vec!["--constraint".into(), constraints],
            false => Vec::new(),
        };
        Cmd::new(self.python())
            .args(["-m", "pip", "install", "--quiet"])
            .args(constrain)
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

/// The cache key: the interpreter, the sorted requirement set, the constraints and the
/// overlays.
fn key(host_python: &Path, spec: &EnvSpec) -> String {
    let sorted = |items: &mut dyn Iterator<Item = &str>| {
        let mut sorted: Vec<&str> = items.map(str::trim).collect();
        sorted.sort_unstable();
        sorted.dedup();
        sorted.join("\n")
    };
    let mut text = format!(
        "{}\n{}",
        host_python.display(),
        sorted(&mut spec.requirements.iter().map(String::as_str))
    );
    // Environments without constraints or overlays keep the keys they always had.
    if !spec.constraints.is_empty() {
        text.push_str("\nconstraints:\n");
        text.push_str(&sorted(&mut spec.constraints.iter().map(String::as_str)));
    }
    if !spec.overlays.is_empty() {
        text.push_str("\noverlays:\n");
        text.push_str(&sorted(&mut spec.overlays.iter().map(|o| o.key.as_str())));
    }
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

    fn spec(requirements: &[&str]) -> EnvSpec {
        EnvSpec {
            requirements: requirements.iter().map(|r| r.to_string()).collect(),
            ..EnvSpec::default()
        }
    }

    #[test]
    fn key_ignores_order_and_duplicates() {
        let python = Path::new("/usr/bin/python3.13");
        let a = key(python, &spec(&["wheel", "setuptools>=61"]));
        let b = key(python, &spec(&["setuptools>=61", "wheel", "wheel"]));
        assert_eq!(a, b);
        assert_ne!(a, key(Path::new("/other/python3.13"), &spec(&["wheel"])));
    }

    #[test]
    fn constraints_and_overlays_change_the_key() {
        let python = Path::new("/usr/bin/python3.13");
        let plain = spec(&["numpy==2.2.5"]);
        let mut constrained = plain.clone();
        constrained.constraints = vec!["setuptools<80".into()];
        let mut overlaid = plain.clone();
        overlaid.overlays = vec![Overlay {
            dir: PathBuf::from("/p/cross-build/numpy-abc"),
            files: vec!["numpy/x.h".into()],
            key: "numpy-abc".into(),
        }];
        let keys = [&plain, &constrained, &overlaid].map(|s| key(python, s));
        assert_ne!(keys[0], keys[1]);
        assert_ne!(keys[0], keys[2]);
        assert_ne!(keys[1], keys[2]);
    }
}
