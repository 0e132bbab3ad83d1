//! `emwheel index`: a static PEP 503/691 index with the wheels and a lockfile.

use std::path::PathBuf;

use clap::Args;

use super::TargetArgs;
use crate::index::simple::{write_site, Site};
use crate::ui::Ui;

#[derive(Debug, Args)]
pub(super) struct IndexArgs {
    /// The directory holding the wheels.
    dist: PathBuf,
    /// The site directory to write.
    #[arg(long, short)]
    output: PathBuf,
    /// The URL the site will be served from, for absolute links (relative links otherwise).
    #[arg(long)]
    base_url: Option<String>,
    #[command(flatten)]
    target: TargetArgs,
}

pub(super) fn run(args: IndexArgs, ui: &Ui) -> miette::Result<()> {
    let target = args.target.target()?;
    let base_lock = target.runtime_dir().join("pyodide-lock.json");
    let base_packages_url = format!(
        "https://cdn.jsdelivr.net/pyodide/v{}/full/",
        target.info.name
    );
    let site = Site {
        dist: &args.dist,
        dir: &args.output,
        base_url: args.base_url.as_deref(),
        base_lock: &base_lock,
        base_packages_url: &base_packages_url,
    };
    let projects = write_site(&site)?;
    ui.status(&format!(
        "wrote an index of {projects} projects to {}",
        args.output.display()
    ));
    println!("{}", args.output.display());
    Ok(())
}
