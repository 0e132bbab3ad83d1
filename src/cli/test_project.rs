//! `emwheel test --project DIR`: a project's own test suite in Pyodide, as cibuildwheel's
//! `pyodide venv` step runs it. Nothing is built: the project's wheel from `--dist` and the
//! test requirements are installed with micropip, the project directory is mounted at
//! `/project` and made the working directory, and the test command runs there; its exit
//! status is emwheel's.

use std::path::{Path, PathBuf};

use crate::runtime::TestSpec;

/// A `--test-command` emwheel cannot run in Pyodide.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("`{command}` is not a test command emwheel can run in Pyodide: {reason}")]
#[diagnostic(help(
    "use `python -m <module> [args…]` (e.g. `python -m pytest tests`) or `python -c <code> [args…]`"
))]
pub struct BadCommand {
    /// The command given.
    pub command: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// The arguments after `python` of a test command (`-m module args…` or `-c code args…`),
/// split as a POSIX shell would.
pub fn parse_command(command: &str) -> Result<Vec<String>, BadCommand> {
    let bad = |reason| BadCommand {
        command: command.to_string(),
        reason,
    };
    let words = shlex::split(command).ok_or_else(|| bad("unbalanced quotes"))?;
    let (program, rest) = words.split_first().ok_or_else(|| bad("it is empty"))?;
    let python = program == "python" || program.starts_with("python3");
    if !python {
        return Err(bad("only `python` runs inside Pyodide"));
    }
    match rest {
        [flag, _, ..] if flag == "-m" || flag == "-c" => Ok(rest.to_vec()),
        _ => Err(bad("only the `-m` and `-c` forms are supported")),
    }
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

/// What to run for the project: its wheel, the test requirements (by name, from
/// `index_urls`), the mount and the command.
pub fn spec(
    dir: &Path,
    wheel: PathBuf,
    command: Vec<String>,
    requires: &[String],
    index_urls: &[String],
) -> TestSpec {
    TestSpec {
        wheels: vec![wheel],
        requirements: requires.to_vec(),
        index_urls: index_urls.to_vec(),
        mount: Some(dir.to_path_buf()),
        command,
        ..TestSpec::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_and_code_forms_parse_and_others_are_refused() {
        let args = parse_command("python -m unittest discover -s 'my tests'").unwrap();
        assert_eq!(args, ["-m", "unittest", "discover", "-s", "my tests"]);
        assert_eq!(
            parse_command("python3 -c 'print(1)'").unwrap(),
            ["-c", "print(1)"]
        );
        for (bad, why) in [
            ("pytest tests", "only `python`"),
            ("python tests/run.py", "`-m` and `-c`"),
            ("python -m", "`-m` and `-c`"),
            ("", "empty"),
            ("python -c 'x", "unbalanced"),
        ] {
            let text = crate::ui::render_plain(&parse_command(bad).unwrap_err());
            assert!(text.contains(why), "{bad}: {text}");
            assert!(text.contains("python -m pytest tests"), "{text}");
        }
    }
}
