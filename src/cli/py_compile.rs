//! `emwheel py-compile`: replace wheels' `.py` files with bytecode for the target Python.

use std::path::{Path, PathBuf};

use clap::Args;

use super::build::source_date_epoch;
use super::TargetArgs;
use crate::index::lock::replace_wheels;
use crate::pycompile::BytecodeCompiler;
use crate::ui::Ui;

#[derive(Debug, Args)]
pub(super) struct PyCompileArgs {
    /// Wheels, or directories whose wheels are all compiled.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    #[command(flatten)]
    target: TargetArgs,
}

pub(super) fn run(args: PyCompileArgs, ui: &Ui) -> miette::Result<()> {
    let wheels = wheels(&args.inputs)?;
    let target = args.target.target_for(&super::wheel_tags(&wheels))?;
    let compiler = BytecodeCompiler::new(&target.info.host_python, &target.python_xy())?;
    let mut replaced = Vec::new();
    for wheel in wheels {
        let (written, compiled) =
            compiler.compile_wheel(&wheel, &target.python_tag(), source_date_epoch())?;
        replaced.push((wheel, written.clone()));
        ui.status(&format!(
            "{}: {} files compiled, {} kept as source",
            written.display(),
            compiled.compiled.len(),
            compiled.kept.len()
        ));
        println!("{}", written.display());
    }
    update_lockfiles(&replaced, ui)
}

/// Points each `pyodide-lock.json` beside the compiled wheels at their new names and hashes.
fn update_lockfiles(replaced: &[(PathBuf, PathBuf)], ui: &Ui) -> miette::Result<()> {
    let mut dirs: Vec<&Path> = replaced
        .iter()
        .filter_map(|(old, _)| old.parent())
        .collect();
    dirs.sort();
    dirs.dedup();
    for dir in dirs {
        let lock = dir.join("pyodide-lock.json");
        if !lock.is_file() {
            continue;
        }
        let in_dir = replaced.iter().filter(|(old, _)| old.parent() == Some(dir));
        let names = in_dir.map(|(old, new)| {
            let name = old.file_name().unwrap_or_default().to_string_lossy();
            (name.into_owned(), new.as_path())
        });
        let changed = replace_wheels(&lock, &names.collect::<Vec<_>>())?;
        ui.status(&format!("{}: {changed} entries updated", lock.display()));
    }
    Ok(())
}

/// The wheels named, directories expanded to the wheels in them (sorted).
pub(super) fn wheels(inputs: &[PathBuf]) -> miette::Result<Vec<PathBuf>> {
    let mut wheels = Vec::new();
    for input in inputs {
        if input.is_dir() {
            wheels.extend(wheels_in(input)?);
        } else {
            wheels.push(input.clone());
        }
    }
    Ok(wheels)
}

fn wheels_in(dir: &Path) -> miette::Result<Vec<PathBuf>> {
    let mut found: Vec<PathBuf> = fs_err::read_dir(dir)
        .map_err(|error| miette::miette!("{error}"))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "whl"))
        .collect();
    found.sort();
    Ok(found)
}
