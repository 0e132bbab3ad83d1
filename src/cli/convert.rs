//! `emwheel convert`: a Pyodide `meta.yaml` into the equivalent `recipe.toml`.

use std::path::{Path, PathBuf};

use clap::Args;

use crate::recipe;
use crate::ui::Ui;

#[derive(Debug, Args)]
pub(super) struct ConvertArgs {
    /// A `meta.yaml`, or a recipe directory holding one.
    path: PathBuf,
    /// Where to write; default: `recipe.toml` beside the `meta.yaml`.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Replace an existing output file.
    #[arg(long)]
    force: bool,
}

pub(super) fn run(args: ConvertArgs, ui: &Ui) -> miette::Result<()> {
    let (recipe, text) = recipe::convert(&args.path)?;
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| recipe.dir().join(recipe::RECIPE_FILE));
    check_output(&output, &recipe, args.force)?;
    crate::fsutil::write_atomic(&output, text.as_bytes())
        .map_err(|e| miette::miette!("cannot write `{}`: {e}", output.display()))?;
    ui.status(&format!(
        "wrote {}; delete `{}` once you have checked it",
        output.display(),
        recipe.file().display()
    ));
    println!("{}", output.display());
    Ok(())
}

/// Refuses to replace a file without `--force`, and to move a recipe whose relative paths
/// (patches, extras, a source path) would then point at nothing.
fn check_output(output: &Path, recipe: &recipe::Recipe, force: bool) -> miette::Result<()> {
    if output.exists() && !force {
        return Err(miette::miette!(
            help = "pass `--force` to replace it",
            "`{}` already exists",
            output.display()
        ));
    }
    let source = recipe.source();
    let has_paths = !source.patches.is_empty()
        || !source.extras.is_empty()
        || matches!(source.kind, recipe::SourceKind::Path { .. });
    let out_dir = output
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let same_dir = out_dir.canonicalize().ok().as_deref() == Some(recipe.dir());
    if has_paths && !same_dir {
        return Err(miette::miette!(
            help = "leave out `-o` to write `recipe.toml` beside `meta.yaml`",
            "the recipe's patches, extras or source path are relative to `{}`, not to `{}`",
            recipe.dir().display(),
            out_dir.display()
        ));
    }
    Ok(())
}
