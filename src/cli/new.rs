//! `emwheel new`: a recipe skeleton for a PyPI requirement.

use std::path::PathBuf;

use clap::Args;

use crate::recipe::skeleton;
use crate::ui::Ui;

#[derive(Debug, Args)]
pub(super) struct NewArgs {
    /// The requirement to package, e.g. `six` or `six==1.17.0` (pip resolves the version).
    requirement: String,
    /// The directory holding one `<name>/recipe.toml` per recipe.
    #[arg(long, default_value = "recipes")]
    recipe_dir: PathBuf,
    /// The Python whose pip downloads the sdist (your pip configuration applies).
    #[arg(long, default_value = "python3")]
    python: PathBuf,
}

pub(super) fn run(args: NewArgs, ui: &Ui) -> miette::Result<()> {
    let python = which::which(&args.python).map_err(|_| {
        miette::miette!(
            help = "pass `--python PATH` to a Python with pip",
            "`{}` not found",
            args.python.display()
        )
    })?;
    ui.status(&format!("downloading the sdist of {}", args.requirement));
    let mut log = Vec::new();
    let file = skeleton::new_recipe(&args.requirement, &python, &args.recipe_dir, &mut log)?;
    ui.status(&format!(
        "wrote {}; check `top-level`, `requirements.run` and `test.imports`",
        file.display()
    ));
    println!("{}", file.display());
    Ok(())
}
