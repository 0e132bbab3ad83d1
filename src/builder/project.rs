//! Settings for building a plain Python project (`emwheel build .`): `[tool.emwheel]` in its
//! `pyproject.toml`, then `EMWHEEL_*` environment variables, then command-line flags, each
//! overriding the one before.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::recipe::{self, Exports, RecipeError};

/// A project's build settings.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct ProjectSettings {
    /// Extra compile flags (`cflags`; env `EMWHEEL_CFLAGS`).
    pub cflags: Option<String>,
    /// Extra C++ compile flags (`cxxflags`; env `EMWHEEL_CXXFLAGS`).
    pub cxxflags: Option<String>,
    /// Extra link flags (`ldflags`; env `EMWHEEL_LDFLAGS`).
    pub ldflags: Option<String>,
    /// Which symbols side modules export (`exports`), as in a recipe.
    pub exports: Option<Exports>,
    /// PEP 517 config settings (`config-settings`; env `EMWHEEL_CONFIG_SETTINGS="k=v …"`;
    /// flag `-C k=v`).
    pub config_settings: BTreeMap<String, String>,
    /// Ship bytecode (`py-compile`; env `EMWHEEL_PY_COMPILE=1`; flag `--py-compile`).
    pub py_compile: Option<bool>,
    /// The project is pure Python although it has C files (`pure`).
    pub pure: Option<bool>,
}

#[derive(Deserialize)]
struct PyProject {
    #[serde(default)]
    tool: Tool,
}

#[derive(Default, Deserialize)]
struct Tool {
    #[serde(default)]
    emwheel: ProjectSettings,
}

impl ProjectSettings {
    /// Reads `[tool.emwheel]` from the project's `pyproject.toml` (none: defaults). An unknown
    /// key is an error naming the file, line and the nearest valid key.
    pub fn load(project_dir: &Path) -> Result<Self, RecipeError> {
        let path = project_dir.join("pyproject.toml");
        let Ok(text) = fs_err::read_to_string(&path) else {
            return Ok(Self::default());
        };
        let parsed: PyProject = recipe::parse_toml(&path, &text)?;
        Ok(parsed.tool.emwheel)
    }

    /// Applies `EMWHEEL_*` variables read through `var`.
    pub fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) {
        for (name, field) in [
            ("EMWHEEL_CFLAGS", &mut self.cflags),
            ("EMWHEEL_CXXFLAGS", &mut self.cxxflags),
            ("EMWHEEL_LDFLAGS", &mut self.ldflags),
        ] {
            if let Some(value) = var(name) {
                *field = Some(value);
            }
        }
        if let Some(settings) = var("EMWHEEL_CONFIG_SETTINGS") {
            let pairs: Vec<String> = settings.split_whitespace().map(str::to_string).collect();
            self.apply_config_settings(&pairs);
        }
        if let Some(value) = var("EMWHEEL_PY_COMPILE") {
            self.py_compile = Some(!matches!(value.as_str(), "" | "0" | "false" | "no"));
        }
    }

    /// Applies `-C key=value` flags (a bare `key` means an empty value).
    pub fn apply_config_settings(&mut self, pairs: &[String]) {
        for pair in pairs {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            self.config_settings
                .insert(key.to_string(), value.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(text: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        fs_err::write(dir.path().join("pyproject.toml"), text).unwrap();
        dir
    }

    #[test]
    fn reads_tool_emwheel() {
        let dir =
            project("[project]\nname='x'\n[tool.emwheel]\ncflags='-O3'\nconfig-settings={a='1'}\n");
        let settings = ProjectSettings::load(dir.path()).unwrap();
        assert_eq!(settings.cflags.as_deref(), Some("-O3"));
        assert_eq!(settings.config_settings["a"], "1");
    }

    #[test]
    fn unknown_key_names_line_and_nearest_key() {
        let dir = project("[project]\nname='x'\n\n[tool.emwheel]\ncflag = '-O3'\n");
        let error = ProjectSettings::load(dir.path()).unwrap_err();
        let rendered = format!("{:?}", miette::Report::new(error));
        assert!(rendered.contains("pyproject.toml:5:1"), "{rendered}");
        assert!(rendered.contains("`cflags`"), "{rendered}");
    }

    #[test]
    fn environment_then_flags_override_the_file() {
        let dir = project("[tool.emwheel]\ncflags='-O1'\nconfig-settings={a='file', b='file'}\n");
        let mut settings = ProjectSettings::load(dir.path()).unwrap();
        settings.apply_env(|name| match name {
            "EMWHEEL_CFLAGS" => Some("-O2".into()),
            "EMWHEEL_CONFIG_SETTINGS" => Some("a=env".into()),
            _ => None,
        });
        settings.apply_config_settings(&["b=flag".into()]);
        assert_eq!(settings.cflags.as_deref(), Some("-O2"));
        assert_eq!(settings.config_settings["a"], "env");
        assert_eq!(settings.config_settings["b"], "flag");
    }

    #[test]
    fn no_pyproject_means_defaults() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            ProjectSettings::load(dir.path()).unwrap(),
            ProjectSettings::default()
        );
    }
}
