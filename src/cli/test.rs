//! `emwheel test`: install wheels with micropip in the target's Pyodide under Node.js and
//! run each recipe's test imports and script.

use std::path::{Path, PathBuf};

use clap::Args;

use super::TargetArgs;
use crate::recipe;
use crate::runtime::{PyodideRuntime, TestSpec};
use crate::ui::Ui;
use crate::wheel;

#[derive(Debug, Args)]
pub(super) struct TestArgs {
    /// Wheels, or recipes whose wheel is in `--dist`.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Where to find recipes' wheels.
    #[arg(long, default_value = "dist")]
    dist: PathBuf,
    #[command(flatten)]
    target: TargetArgs,
}

pub(super) fn run(args: TestArgs, ui: &Ui) -> miette::Result<()> {
    let target = args.target.target()?;
    let micropip = target.dir.join(&target.info.micropip_wheels[0]);
    let runtime = PyodideRuntime::new(target.runtime_dir(), micropip);
    let mut failed = Vec::new();
    let mut results = Vec::new();
    for input in &args.inputs {
        let spec = test_spec(input, &args.dist)?;
        let name = input.display().to_string();
        ui.status(&format!("testing {name} in Pyodide {}", target.info.name));
        let work = tempfile::tempdir().map_err(|e| miette::miette!("{e}"))?;
        let outcome = runtime.run_tests(&spec, work.path())?;
        results.push(serde_json::json!({
            "input": input,
            "passed": outcome.passed,
            "seconds": outcome.seconds,
            "failures": outcome.failures,
        }));
        if outcome.passed {
            ui.status(&format!("{name}: passed in {:.1}s", outcome.seconds));
            continue;
        }
        for failure in &outcome.failures {
            eprintln!("{name}: {failure}");
        }
        failed.push(name);
    }
    if ui.json() {
        let status = if failed.is_empty() { "ok" } else { "failed" };
        ui.document(
            serde_json::json!({ "status": status, "target": target.info.name, "results": results }),
        );
        if !failed.is_empty() {
            return Err(super::Reported.into());
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(miette::miette!(
            "tests failed in Pyodide: {}",
            failed.join(", ")
        ))
    }
}

/// What to install and run for one input: a recipe's wheel and tests, or a wheel with its
/// top-level modules as imports.
fn test_spec(input: &Path, dist: &Path) -> miette::Result<TestSpec> {
    if recipe::is_recipe(input) {
        let recipe = recipe::load(input)?;
        let wheel = find_wheel(dist, recipe.name(), recipe.version())?;
        return Ok(TestSpec {
            wheels: vec![wheel],
            imports: recipe.test().imports.clone(),
            script: recipe.test().script.clone(),
        });
    }
    let summary = wheel::verify(input)?;
    Ok(TestSpec {
        wheels: vec![input.to_path_buf()],
        imports: summary.top_level_modules(),
        script: None,
    })
}

/// The wheel of `name` `version` in `dist`.
fn find_wheel(dist: &Path, name: &str, version: &str) -> miette::Result<PathBuf> {
    let prefix = format!("{}-{version}-", wheel::normalize(name).replace('-', "_"));
    let found = fs_err::read_dir(dist)
        .ok()
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| {
            let file = path.file_name().unwrap_or_default().to_string_lossy();
            file.starts_with(&prefix) && file.ends_with(".whl")
        });
    found.ok_or_else(|| {
        miette::miette!(
            help = format!(
                "build it first: `emwheel build <recipe> -o {}`",
                dist.display()
            ),
            "no wheel of `{name}` {version} in `{}`",
            dist.display()
        )
    })
}
