//! `emwheel test`: install wheels with micropip in the target's Pyodide under Node.js and
//! run each recipe's test imports and script.

use std::path::{Path, PathBuf};

use clap::Args;

use super::build::is_recipe;
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
    for input in &args.inputs {
        let name = input.display().to_string();
        let Some(spec) = test_spec(input, &args.dist)? else {
            ui.status(&format!(
                "{name}: a library recipe; the packages that link it test it"
            ));
            continue;
        };
        ui.status(&format!("testing {name} in Pyodide {}", target.info.name));
        let work = tempfile::tempdir().map_err(|e| miette::miette!("{e}"))?;
        let outcome = runtime.run_tests(&spec, work.path())?;
        if outcome.passed {
            ui.status(&format!("{name}: passed in {:.1}s", outcome.seconds));
            continue;
        }
        for failure in &outcome.failures {
            eprintln!("{name}: {failure}");
        }
        failed.push(name);
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

/// What to install and run for one input: a recipe's wheel (after the wheels of its run
/// requirements) and tests, or a wheel with its top-level modules as imports; `None` for a
/// library recipe, which has no wheel.
fn test_spec(input: &Path, dist: &Path) -> miette::Result<Option<TestSpec>> {
    if is_recipe(input) {
        let recipe = recipe::load(input)?;
        if recipe.build().kind.is_library() {
            return Ok(None);
        }
        let mut wheels = Vec::new();
        add_wheels(&recipe, dist, &mut wheels)?;
        return Ok(Some(TestSpec {
            wheels,
            imports: recipe.test().imports.clone(),
            script: recipe.test().script.clone(),
        }));
    }
    let summary = wheel::verify(input)?;
    Ok(Some(TestSpec {
        wheels: vec![input.to_path_buf()],
        imports: summary.top_level_modules(),
        script: None,
    }))
}

/// Adds the wheels of `recipe`'s run requirements (their recipes are its siblings), depth
/// first, then its own; each wheel once.
fn add_wheels(
    recipe: &recipe::Recipe,
    dist: &Path,
    wheels: &mut Vec<PathBuf>,
) -> miette::Result<()> {
    let recipes_dir = recipe.dir().parent().unwrap_or(Path::new("."));
    for requirement in &recipe.requirements().run {
        let name = requirement
            .split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
            .next()
            .unwrap_or(requirement);
        let dir = recipes_dir.join(name);
        if !is_recipe(&dir) {
            return Err(miette::miette!(
                help = format!("add a recipe for it in `{}`", recipes_dir.display()),
                "run requirement `{name}` of `{}` has no recipe beside it",
                recipe.name()
            ));
        }
        add_wheels(&recipe::load(&dir)?, dist, wheels)?;
    }
    let wheel = find_wheel(dist, recipe.name(), recipe.version())?;
    if !wheels.contains(&wheel) {
        wheels.push(wheel);
    }
    Ok(())
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
