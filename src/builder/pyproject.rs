//! The `[build-system]` table of a source tree's `pyproject.toml` (PEP 517/518).

use std::path::Path;

use serde::Deserialize;

use super::BuildError;

/// The backend to run and what it needs installed.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct BuildSystem {
    /// Requirements of the build environment.
    #[serde(default = "default_requires")]
    pub requires: Vec<String>,
    /// The backend object, `module:object`.
    #[serde(default = "default_backend")]
    pub build_backend: String,
    /// In-tree directories prepended to `sys.path` for an in-tree backend.
    #[serde(default)]
    pub backend_path: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct PyProject {
    build_system: Option<BuildSystem>,
}

/// What PEP 517 says to assume when a project has no `[build-system]`.
fn default_requires() -> Vec<String> {
    vec!["setuptools>=40.8.0".to_string()]
}

fn default_backend() -> String {
    "setuptools.build_meta:__legacy__".to_string()
}

impl BuildSystem {
    /// Reads `pyproject.toml` in `source_dir`; a tree without one is a legacy setuptools one.
    pub fn read(source_dir: &Path) -> Result<Self, BuildError> {
        let path = source_dir.join("pyproject.toml");
        if !path.is_file() {
            return Ok(Self::legacy());
        }
        let text = fs_err::read_to_string(&path)?;
        let parsed: PyProject = toml::from_str(&text).map_err(|error| BuildError::PyProject {
            path: path.clone(),
            message: error.to_string(),
        })?;
        Ok(parsed.build_system.unwrap_or_else(Self::legacy))
    }

    /// No backend requirements: the environment of a library recipe, which runs only its script.
    pub fn tools_only() -> Self {
        BuildSystem {
            requires: Vec::new(),
            ..Self::legacy()
        }
    }

    fn legacy() -> Self {
        BuildSystem {
            requires: default_requires(),
            build_backend: default_backend(),
            backend_path: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_declared_backend() {
        let dir = tempfile::tempdir().unwrap();
        let text = "[project]\nname='x'\n[build-system]\nrequires=['hatchling']\nbuild-backend='hatchling.build'\n";
        fs_err::write(dir.path().join("pyproject.toml"), text).unwrap();
        let system = BuildSystem::read(dir.path()).unwrap();
        assert_eq!(system.requires, ["hatchling"]);
        assert_eq!(system.build_backend, "hatchling.build");
    }

    #[test]
    fn missing_table_means_legacy_setuptools() {
        let dir = tempfile::tempdir().unwrap();
        fs_err::write(dir.path().join("pyproject.toml"), "[tool.black]\n").unwrap();
        let system = BuildSystem::read(dir.path()).unwrap();
        assert_eq!(system.build_backend, "setuptools.build_meta:__legacy__");
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(BuildSystem::read(empty.path()).unwrap(), system);
    }
}
