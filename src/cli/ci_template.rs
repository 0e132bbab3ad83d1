//! `emwheel ci-template`: write a CI workflow that builds and tests the project's wasm wheel.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::TargetArgs;
use crate::ui::Ui;

/// The GitHub Actions workflow, with `{{…}}` placeholders for the target's versions.
const GITHUB: &str = include_str!("../../templates/ci/github.yml");

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Provider {
    /// GitHub Actions.
    Github,
}

#[derive(Debug, Args)]
pub(super) struct CiTemplateArgs {
    /// The CI service.
    provider: Provider,
    /// Where to write the workflow (default: `.github/workflows/emwheel.yml`); `-` for stdout.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Replace an existing file.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    target: TargetArgs,
}

pub(super) fn run(args: CiTemplateArgs, ui: &Ui) -> miette::Result<()> {
    let target = args.target.target()?;
    let info = &target.info;
    let Provider::Github = args.provider;
    let text = render(
        GITHUB,
        &info.name,
        &info.emscripten_version,
        &target.python_xy(),
    );
    let output = args
        .output
        .unwrap_or_else(|| PathBuf::from(".github/workflows/emwheel.yml"));
    if output.as_os_str() == "-" {
        print!("{text}");
        return Ok(());
    }
    if output.exists() && !args.force {
        return Err(miette::miette!(
            help = "pass `--force` to replace it, or `-o -` to print the workflow",
            "`{}` already exists",
            output.display()
        ));
    }
    crate::fsutil::write_atomic(&output, text.as_bytes()).map_err(|e| miette::miette!("{e}"))?;
    ui.status(&format!("wrote {}", output.display()));
    println!("{}", output.display());
    Ok(())
}

/// Fills the template's placeholders with the target's versions.
fn render(template: &str, pyodide: &str, emscripten: &str, python: &str) -> String {
    template
        .replace("{{PYODIDE_VERSION}}", pyodide)
        .replace("{{EMSCRIPTEN_VERSION}}", emscripten)
        .replace("{{PYTHON_VERSION}}", python)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_placeholder_is_filled() {
        let text = render(GITHUB, "0.29.5", "4.0.9", "3.13");
        for placeholder in [
            "{{PYODIDE_VERSION}}",
            "{{EMSCRIPTEN_VERSION}}",
            "{{PYTHON_VERSION}}",
        ] {
            assert!(GITHUB.contains(placeholder));
            assert!(!text.contains(placeholder), "{text}");
        }
        assert!(text.contains("version: ${{ env.EMSCRIPTEN_VERSION }}"));
        assert!(text.contains("EMSCRIPTEN_VERSION: \"4.0.9\""));
    }
}
