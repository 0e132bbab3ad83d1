//! `emwheel build`: one recipe or Python project into a wheel.

use std::path::{Path, PathBuf};

use clap::Args;

use super::TargetArgs;
use crate::build::{self, BuildContext, Package};
use crate::recipe;
use crate::ui::Ui;

#[derive(Debug, Args)]
pub(super) struct BuildArgs {
    /// A recipe directory, a `recipe.toml`, or a Python project directory.
    path: PathBuf,
    /// Where to write the wheel.
    #[arg(long, short, default_value = "dist")]
    out_dir: PathBuf,
    #[command(flatten)]
    target: TargetArgs,
}

pub(super) fn run(args: BuildArgs, ui: &Ui) -> miette::Result<()> {
    let package = package_for(&args.path)?;
    let (target, toolchain) = args.target.resolve(ui)?;
    let context = BuildContext {
        target: &target,
        toolchain: &toolchain,
        out_dir: args.out_dir,
        source_date_epoch: source_date_epoch(),
    };
    let built = build::build(&package, &context, ui)?;
    ui.status(&format!(
        "built {} in {:.1}s ({} compiler calls, {:.1}s in emcc)",
        built.path.display(),
        built.seconds,
        built.compiler.calls,
        built.compiler.seconds
    ));
    // The main output first (the wheel, or a library's manifest), then the archives beside it.
    for path in [
        Some(&built.path),
        built.runtime_zip.as_ref(),
        built.tests_zip.as_ref(),
    ]
    .into_iter()
    .flatten()
    {
        println!("{}", path.display());
    }
    Ok(())
}

/// A recipe if the path is or holds a `recipe.toml`, else a Python project.
pub(super) fn package_for(path: &Path) -> miette::Result<Package> {
    if is_recipe(path) {
        let recipe = recipe::load(path)?;
        return Ok(Package::from_recipe(&recipe));
    }
    if path.join("pyproject.toml").is_file() || path.join("setup.py").is_file() {
        return Ok(Package::from_project(path));
    }
    Err(miette::miette!(
        help = "pass a recipe directory (with recipe.toml), a recipe.toml, or a Python project (with pyproject.toml or setup.py)",
        "`{}` is neither a recipe nor a Python project",
        path.display()
    ))
}

/// Whether a path is a recipe file or a directory holding one.
pub(super) fn is_recipe(path: &Path) -> bool {
    path.extension().is_some_and(|ext| ext == "toml") || path.join(recipe::RECIPE_FILE).is_file()
}

/// `SOURCE_DATE_EPOCH` if set, else a fixed default, so that builds are reproducible.
fn source_date_epoch() -> u64 {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(build::DEFAULT_SOURCE_DATE_EPOCH)
}
