//! `emwheel lock`: a `pyodide-lock.json` for the wheels in a directory; `emwheel lock
//! merge`: one lockfile from the lockfiles of shards built for the same target.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use super::TargetArgs;
use crate::crossenv::{InputTags, Target};
use crate::index::lock::Lockfile;
use crate::index::{read_all, wheels_in};
use crate::ui::{Progress, Ui};

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub(super) struct LockArgs {
    #[command(subcommand)]
    command: Option<LockCommand>,
    /// The directory holding the wheels.
    #[arg(required = true)]
    dist: Option<PathBuf>,
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

#[derive(Debug, Subcommand)]
enum LockCommand {
    /// Join lockfiles of the same target (e.g. one per `build-recipes --shard` job).
    Merge(MergeArgs),
}

#[derive(Debug, Args)]
struct MergeArgs {
    /// The lockfiles, all for the same target; a package listed twice must be identical.
    #[arg(required = true, num_args = 1..)]
    lockfiles: Vec<PathBuf>,
    /// Where to write the merged lockfile.
    #[arg(long, short)]
    output: PathBuf,
    /// The target whose own lockfile the shards started from: a package it lists gives
    /// way to a shard's rebuild of it.
    #[command(flatten)]
    target: TargetArgs,
}

pub(super) fn run(args: LockArgs, ui: &Ui) -> miette::Result<()> {
    if let Some(LockCommand::Merge(merge)) = args.command {
        return run_merge(merge, ui);
    }
    let dist = args.dist.expect("clap requires it without a subcommand");
    let target = args.target.target()?;
    let output = args
        .output
        .unwrap_or_else(|| dist.join("pyodide-lock.json"));
    let written = write_lock(&target, &dist, args.base.as_deref(), &output, ui)?;
    ui.status(&format!(
        "wrote {} ({} wheels)",
        output.display(),
        written.wheels
    ));
    print_lockfile(ui, written.document(&output), &output);
    Ok(())
}

/// What [`write_lock`] wrote.
pub(super) struct Written {
    /// The wheels added.
    pub wheels: usize,
    /// The lockfile's packages, the base's included.
    pub packages: usize,
}

impl Written {
    /// The `--json` description of the lockfile at `path`.
    pub fn document(&self, path: &Path) -> serde_json::Value {
        serde_json::json!({ "path": path, "wheels": self.wheels, "packages": self.packages })
    }
}

/// The lockfile's path on stdout, or with `--json` the document `{status, lockfile}`.
fn print_lockfile(ui: &Ui, lockfile: serde_json::Value, path: &Path) {
    if ui.json() {
        ui.document(serde_json::json!({ "status": "ok", "lockfile": lockfile }));
    } else {
        println!("{}", path.display());
    }
}

fn run_merge(args: MergeArgs, ui: &Ui) -> miette::Result<()> {
    let tags = args
        .lockfiles
        .iter()
        .map(|path| lock_tags(path))
        .collect::<miette::Result<Vec<_>>>()?;
    let mut tags: Vec<InputTags> = tags.into_iter().flatten().collect();
    // Lockfiles of different targets: `Lockfile::merge` refuses them, naming the files.
    if tags.iter().any(|t| *t != tags[0]) {
        tags.clear();
    }
    let target = args.target.target_for(&tags)?;
    let base = Lockfile::from_base(&target_lock(&target), true)?;
    let merged = Lockfile::merge(&args.lockfiles, &base)?;
    merged.write(&args.output)?;
    let packages = merged.package_count();
    ui.status(&format!(
        "wrote {} ({packages} packages from {} lockfiles)",
        args.output.display(),
        args.lockfiles.len()
    ));
    let lockfile = serde_json::json!({
        "path": args.output, "packages": packages, "merged": args.lockfiles,
    });
    print_lockfile(ui, lockfile, &args.output);
    Ok(())
}

/// Writes the lockfile of every wheel in `dist` over `base` (the target's own lockfile by
/// default, or `none`), warning about dependencies nothing provides.
pub(super) fn write_lock(
    target: &Target,
    dist: &Path,
    base: Option<&str>,
    output: &Path,
    ui: &Ui,
) -> miette::Result<Written> {
    let target_lock = target_lock(target);
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
    Ok(Written {
        wheels: wheels.len(),
        packages: lock.package_count(),
    })
}

/// The tags of the target a lockfile's `info` names; `None` when it names none.
fn lock_tags(path: &Path) -> miette::Result<Option<InputTags>> {
    let text = fs_err::read_to_string(path).map_err(|e| miette::miette!("{e}"))?;
    let document: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        miette::miette!(
            help = "the file is damaged or not a pyodide-lock.json",
            "`{}` is not valid JSON: {e}",
            path.display()
        )
    })?;
    Ok(InputTags::of_lock_info(&document["info"]))
}

/// The target's own lockfile.
fn target_lock(target: &Target) -> PathBuf {
    target.runtime_dir().join("pyodide-lock.json")
}

/// Writes the target's own lockfile unchanged: what an empty shard contributes.
pub(super) fn write_target_lock(target: &Target, output: &Path) -> miette::Result<Written> {
    let lock = Lockfile::from_base(&target_lock(target), true)?;
    if let Some(dir) = output.parent() {
        fs_err::create_dir_all(dir).map_err(|e| miette::miette!("{e}"))?;
    }
    lock.write(output)?;
    Ok(Written {
        wheels: 0,
        packages: lock.package_count(),
    })
}
