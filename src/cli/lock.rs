//! `emwheel lock`: a `pyodide-lock.json` for the wheels in a directory.

use std::path::{Path, PathBuf};

use clap::Args;

use super::TargetArgs;
use crate::index::lock::Lockfile;
use crate::index::{read_all, wheels_in};
use crate::target::Target;
use crate::ui::{Progress, Ui};

#[derive(Debug, Args)]
pub(super) struct LockArgs {
    /// The directory holding the wheels.
    dist: PathBuf,
    /// The lockfile whose `info` and packages to start from, or `none` for only the wheels
    /// (the target's schema still applies) [default: the target's own lockfile].
    #[arg(long)]
    base: Option<String>,
    /// Where to write the lockfile [default: `<dist>/pyodide-lock.json`].
    #[arg(long, short)]
    output: Option<PathBuf>,
    #[command(flatten)]
    target: TargetArgs,
}

pub(super) fn run(args: LockArgs, ui: &Ui) -> miette::Result<()> {
    let target = args.target.target()?;
    let output = args
        .output
        .unwrap_or_else(|| args.dist.join("pyodide-lock.json"));
    let count = write_lock(&target, &args.dist, args.base.as_deref(), &output, ui)?;
    ui.status(&format!("wrote {} ({count} wheels)", output.display()));
    println!("{}", output.display());
    Ok(())
}

/// Writes the lockfile of every wheel in `dist` over `base` (the target's own lockfile by
/// default, or `none`), warning about dependencies nothing provides; returns the wheel count.
pub(super) fn write_lock(
    target: &Target,
    dist: &Path,
    base: Option<&str>,
    output: &Path,
    ui: &Ui,
) -> miette::Result<usize> {
    let target_lock = target.runtime_dir().join("pyodide-lock.json");
    let mut lock = match base {
        Some("none") => Lockfile::from_base(&target_lock, false)?,
        Some(path) => Lockfile::from_base(Path::new(path), true)?,
        None => Lockfile::from_base(&target_lock, true)?,
    };
    let wheels = wheels_in(dist)?;
    for (path, metadata) in wheels.iter().zip(read_all(&wheels)?) {
        let file_name = path.file_name().unwrap_or_default().to_string_lossy();
        lock.add_wheel(&metadata, &file_name)?;
    }
    lock.add_archives(dist, "")?;
    let missing = lock.missing_dependencies();
    if !missing.is_empty() {
        ui.warn(&format!(
            "no package in the lockfile provides {}: Pyodide cannot load what depends on them",
            missing.join(", ")
        ));
    }
    lock.write(output)?;
    Ok(wheels.len())
}
