//! Recipe scripts run as in one bash session, as Pyodide's `BashRunnerWithSharedEnvironment`
//! does: after each script the shell writes its environment out, and that becomes the next
//! step's. So what `build.script` exports reaches the flags, `cross-script`, the backend and
//! `post`.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::isolation::Confinement;
use super::{BuildError, Package};
use crate::process::{shell_quote, Cmd};
use crate::recipe::substitute;

/// Variables of the shell session itself, not of the build: never carried to the next step.
const SESSION_VARIABLES: &[&str] = &["_", "SHLVL", "PWD", "OLDPWD"];

/// The environment shared by a build's scripts and steps.
#[derive(Debug, Clone)]
pub(super) struct Shell {
    environment: Vec<(String, String)>,
    /// Where a script writes the environment it leaves.
    dump: PathBuf,
    /// With `--sandbox`: how scripts are confined to the build directory.
    confinement: Option<Confinement>,
}

impl Shell {
    /// A session starting from `environment`, writing its dumps to `dump`.
    pub fn new(environment: Vec<(String, String)>, dump: PathBuf) -> Self {
        Shell {
            environment,
            dump,
            confinement: None,
        }
    }

    /// The session with its scripts confined (`--sandbox`) when `confinement` is given.
    pub fn confined(self, confinement: Option<Confinement>) -> Self {
        Shell {
            confinement,
            ..self
        }
    }

    /// The current environment.
    pub fn environment(&self) -> &[(String, String)] {
        &self.environment
    }

    /// The value of `name`, if set.
    pub fn get(&self, name: &str) -> Option<String> {
        self.environment
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    }

    /// Sets `name` for the steps that follow.
    pub fn set(&mut self, name: &str, value: &str) {
        self.environment.retain(|(key, _)| key != name);
        self.environment.push((name.to_string(), value.to_string()));
    }

    /// Runs `script` with `bash -euo pipefail` in `dir`, then takes the environment it
    /// leaves. A script that ends the shell itself (`exit 0`) leaves the environment as it was.
    pub fn run(&mut self, script: &str, dir: &Path, log: &mut dyn Write) -> Result<(), BuildError> {
        if self.dump.exists() {
            fs_err::remove_file(&self.dump)?;
        }
        let with_dump = format!(
            "{script}\n/usr/bin/env -0 > {}",
            shell_quote(&self.dump.to_string_lossy())
        );
        let command = Cmd::new("/bin/bash")
            .args(["-euo", "pipefail", "-c", &with_dump])
            .envs(self.environment.iter().cloned())
            .dir(dir);
        match &self.confinement {
            Some(confinement) => confinement.wrap(command),
            None => command,
        }
        .run_logged(log)?;
        if self.dump.is_file() {
            let bytes = fs_err::read(&self.dump)?;
            self.environment = parse_dump(&String::from_utf8_lossy(&bytes));
        }
        Ok(())
    }

    /// The recipe's flags with `$(NAME)` replaced from this environment.
    ///
    /// # Errors
    ///
    /// [`BuildError::UnknownVariable`] for a name the environment lacks.
    pub fn flags(&self, package: &Package) -> Result<Flags, BuildError> {
        let expand = |flags: &[String], key: &str| -> Result<Vec<String>, BuildError> {
            let mut out = Vec::new();
            for flag in flags {
                let expanded = expand_flag(flag, |name| self.get(name)).map_err(|unknown| {
                    BuildError::UnknownVariable {
                        name: unknown.0,
                        key: key.to_string(),
                    }
                })?;
                out.extend(expanded);
            }
            Ok(out)
        };
        Ok(Flags {
            cflags: expand(&package.cflags, "build.cflags")?,
            cxxflags: expand(&package.cxxflags, "build.cxxflags")?,
            ldflags: expand(&package.ldflags, "build.ldflags")?,
        })
    }

    /// The flags as far as they are known before `build.script` runs: a flag naming a
    /// variable only the script exports is left out until then.
    pub fn flags_before_script(&self, package: &Package) -> Flags {
        let expand = |flags: &[String]| -> Vec<String> {
            flags
                .iter()
                .filter_map(|flag| expand_flag(flag, |name| self.get(name)).ok())
                .flatten()
                .collect()
        };
        Flags {
            cflags: expand(&package.cflags),
            cxxflags: expand(&package.cxxflags),
            ldflags: expand(&package.ldflags),
        }
    }
}

/// A package's compile and link flags after `$(NAME)` expansion.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct Flags {
    /// Extra C flags.
    pub cflags: Vec<String>,
    /// Extra C++ flags.
    pub cxxflags: Vec<String>,
    /// Extra link flags.
    pub ldflags: Vec<String>,
}

/// Expands `$(NAME)` in one flag; a flag that held a variable is split again shell-style,
/// so `$(SIDE_MODULE_CFLAGS)` becomes several flags (like an unquoted shell variable).
fn expand_flag(
    flag: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Vec<String>, substitute::UnknownVariable> {
    if !flag.contains("$(") {
        return Ok(vec![flag.to_string()]);
    }
    let expanded = substitute::expand(flag, lookup)?;
    Ok(shlex::split(&expanded).unwrap_or_else(|| vec![expanded]))
}

/// `env -0` output as pairs, without the shell session's own variables.
fn parse_dump(dump: &str) -> Vec<(String, String)> {
    dump.split('\0')
        .filter_map(|entry| entry.split_once('='))
        .filter(|(key, _)| !SESSION_VARIABLES.contains(key))
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shell(dir: &Path) -> Shell {
        let environment = vec![("PATH".to_string(), "/usr/bin:/bin".to_string())];
        Shell::new(environment, dir.join("env.dump"))
    }

    #[test]
    fn exports_reach_the_next_script() {
        let dir = tempfile::tempdir().unwrap();
        let mut shell = shell(dir.path());
        let mut log = Vec::new();
        let script = "export GREETING='hello world'\nexport MULTI=\"a\nb\"\nLOCAL=1";
        shell.run(script, dir.path(), &mut log).unwrap();
        assert_eq!(shell.get("GREETING").as_deref(), Some("hello world"));
        assert_eq!(shell.get("MULTI").as_deref(), Some("a\nb"));
        assert_eq!(
            shell.get("LOCAL"),
            None,
            "unexported variables stay in the script"
        );
        assert_eq!(shell.get("SHLVL"), None);
        shell
            .run(
                "test \"$GREETING\" = 'hello world'; exit 0",
                dir.path(),
                &mut log,
            )
            .unwrap();
        assert_eq!(shell.get("PATH").as_deref(), Some("/usr/bin:/bin"));
    }

    #[test]
    fn flags_expand_from_the_environment_and_split() {
        let dir = tempfile::tempdir().unwrap();
        let mut shell = shell(dir.path());
        let package = Package {
            cflags: vec!["-I$(INC)/include".into(), "$(EXTRA)".into(), "-O2".into()],
            ..Package::from_project(dir.path(), &Default::default())
        };
        assert_eq!(shell.flags_before_script(&package).cflags, ["-O2"]);
        let error = shell.flags(&package).unwrap_err().to_string();
        assert!(
            error.contains("`$(INC)`") && error.contains("`build.cflags`"),
            "{error}"
        );
        let script = "export INC=/opt/x EXTRA='-DA=1 -DB=2'";
        shell.run(script, dir.path(), &mut Vec::new()).unwrap();
        let flags = shell.flags(&package).unwrap();
        assert_eq!(flags.cflags, ["-I/opt/x/include", "-DA=1", "-DB=2", "-O2"]);
    }
}
