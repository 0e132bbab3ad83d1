//! `emwheel test --project DIR`: a project's own test suite in Pyodide, as cibuildwheel runs
//! it: an `emwheel venv` is made in a temp directory, the project's wheel from `--dist` and the
//! test requirements are pip-installed into it (micropip), and the test command runs in a shell
//! in the project directory with the venv's `bin/` first on `PATH` — so `pytest -x tests/`,
//! `python -m unittest` or `python tests/run.py` run in Pyodide. Its exit status is emwheel's.

use std::path::Path;

use crate::process::Cmd;

/// Why the venv's pip or the test command could not be run.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("could not run `{command}`: {source}")]
#[diagnostic(help("check that /bin/sh and node are installed"))]
pub struct RunError {
    /// The command line.
    pub command: String,
    /// The underlying error.
    pub source: std::io::Error,
}

/// Installs the project's wheel and the test requirements into the venv with its pip;
/// pip's exit status.
pub fn install(
    venv: &Path,
    wheel: &Path,
    requires: &[String],
    index_urls: &[String],
) -> Result<i32, RunError> {
    let mut pip = Cmd::new(venv.join("bin/python"))
        .args(["-m", "pip", "install"])
        .arg(wheel)
        .args(requires);
    for url in index_urls {
        pip = pip.args(["--index-url", url]);
    }
    status(pip, "bin/python -m pip install …")
}

/// Runs `command` with `sh -c` in `dir`, the venv's `bin/` first on `PATH`.
pub fn run(venv: &Path, dir: &Path, command: &str) -> Result<i32, RunError> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![venv.join("bin")];
    paths.extend(std::env::split_paths(&path));
    let path = std::env::join_paths(paths).map_err(|e| RunError {
        command: command.to_string(),
        source: std::io::Error::other(e),
    })?;
    let shell = Cmd::new("/bin/sh")
        .args(["-c", command])
        .dir(dir)
        .env("PATH", path)
        .env("VIRTUAL_ENV", venv);
    status(shell, command)
}

/// Runs `command` with the user's environment (the test command is theirs, as in a shell)
/// and its output on emwheel's stderr (stdout carries `--json`); its exit code.
fn status(command: Cmd, shown: &str) -> Result<i32, RunError> {
    let status = command
        .inherit_env()
        .stdout_to_stderr()
        .passthrough()
        .map_err(|error| RunError {
            command: shown.to_string(),
            source: error.into_io_error(),
        })?;
    Ok(status.code().unwrap_or(1))
}

/// The project's name, from `[project] name` in its `pyproject.toml`.
pub fn project_name(dir: &Path) -> miette::Result<String> {
    let file = dir.join("pyproject.toml");
    let text = fs_err::read_to_string(&file).map_err(|e| miette::miette!("{e}"))?;
    let document: toml::Table = toml::from_str(&text)
        .map_err(|e| miette::miette!(help = "fix the TOML syntax", "`{}`: {e}", file.display()))?;
    let name = document
        .get("project")
        .and_then(|project| project.get("name"))
        .and_then(toml::Value::as_str);
    name.map(str::to_string).ok_or_else(|| {
        miette::miette!(
            help = "add `[project] name = \"…\"`: emwheel finds the wheel in `--dist` by it",
            "`{}` has no `[project] name`",
            file.display()
        )
    })
}
